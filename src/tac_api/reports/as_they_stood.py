"""A record's fields as they stood at the end of each period, from its history.

A history row holds each field it changed, old and new, as the API names them (a child's
`child_history`, a release plan's `release_plan_history`). A field's value at a moment is the
`new` of its last change before that moment; with none before, the `old` of its first change
after (what it was until then); with no change at all, its value now. A record made before its
kind kept a history has none, or none of its earliest changes: it counts as recorded now, as far
back as its history does not reach.

Only the changes made since the report's first period began are needed: the `new` of a change
is the `old` of the field's next one, so an earlier change says nothing a later one does not.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tac_api.notice import utc

# One row of a record's history: when, and its changes [{"field", "old", "new"}].
Change = tuple[datetime, Sequence[Mapping[str, Any]]]


def as_they_stood(
    now: Mapping[str, Any], history: Iterable[Change], moments: Sequence[datetime]
) -> list[dict[str, Any]]:
    """The fields of `now` (by the history's names) as they stood just before each moment;
    `history` oldest first."""
    # PostgreSQL hands times back in UTC already: only the others converted (many thousands).
    changes = [
        (changed_at if changed_at.tzinfo is UTC else utc(changed_at), rows)
        for changed_at, rows in history
    ]
    stood = []
    for moment in moments:
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for changed_at, rows in changes:
            for change in rows:
                field = change["field"]
                if field not in now:
                    continue
                if changed_at < moment:
                    before[field] = change["new"]
                else:
                    after.setdefault(field, change["old"])
        stood.append({**now, **after, **before})
    return stood
