"""If-Match and If-None-Match (RFC 9110 section 13), read one way for every route that takes them.

The convention: every change to an existing record (PATCH, DELETE, a status change, an
extension that moves a date) needs `If-Match` with the ETag last read: 428 without it, 412 when
the record has moved on since. Only a PUT that may create the record (the sync upserts, the first
release plan) takes it as an option, and `If-None-Match` with it.

How a header value is read, the same everywhere:
- blank is the same as absent;
- `*` matches any current record, and none when there is none;
- otherwise a comma-separated list of entity-tags (`"3"`, `W/"3"`); what is not one (an unquoted
  `3`, say) matches nothing, so the answer is 412, never a guess at what was meant;
- If-Match compares strongly (a weak `W/"3"` never matches: a weak tag cannot promise the
  bytes are the same), If-None-Match weakly (`W/"3"` and `"3"` both name version 3).
"""

import re
from typing import Annotated

from fastapi import Header

from tac_api.errors import PreconditionFailed, PreconditionRequired, problems
from tac_api.http import etag_for

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=256,
        description="The ETag you last read; required, so that no one overwrites a change unseen.",
    ),
]

# A plan of hers written whole by PUT (her release plan, her support plan): `*` creates it only
# if she has none yet.
IfNoneMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=256,
        description="`*` to create her plan only if she has none yet.",
    ),
]

# What a route that needs If-Match can answer besides its own problems (a DELETE has no others).
IF_MATCH_PROBLEMS = problems(412, 428)

# One entity-tag: optional W/, then a quoted opaque tag (RFC 9110 section 8.8.3).
_ENTITY_TAG = re.compile(r'(W/)?("[\x21\x23-\x7e\x80-\xff]*")')
ANY = "*"


def sent(value: str | None) -> bool:
    return value is not None and bool(value.strip())


def entity_tags(value: str) -> list[tuple[bool, str]] | None:
    """The (weak, tag) pairs of a header value, or None for `*`; a member that is not an
    entity-tag is left out (it matches nothing)."""
    members = [member.strip() for member in value.split(",")]
    if ANY in members:
        return None
    found = []
    for member in members:
        match = _ENTITY_TAG.fullmatch(member)
        if match is not None:
            found.append((match.group(1) is not None, match.group(2)))
    return found


def if_match_holds(if_match: str, current_version: int | None) -> bool:
    """Strong comparison; `current_version` None: there is no such record (yet)."""
    if current_version is None:
        return False
    tags = entity_tags(if_match)
    return tags is None or (False, etag_for(current_version)) in tags


def if_none_match_holds(if_none_match: str, current_version: int | None) -> bool:
    """Weak comparison: holds unless it names the current record (or `*` and there is one)."""
    if current_version is None:
        return True
    tags = entity_tags(if_none_match)
    return tags is not None and etag_for(current_version) not in {tag for _, tag in tags}


def check_if_match(if_match: str | None, current_version: int, *, required: bool = True) -> None:
    """428 without If-Match (when `required`), 412 when it does not name the current version."""
    if not sent(if_match):
        if required:
            raise PreconditionRequired(
                "Send If-Match with the ETag from your last read of this record."
            )
        return
    assert if_match is not None
    if not if_match_holds(if_match, current_version):
        raise PreconditionFailed(
            f"This record is now at version {current_version}; read it again, then reapply."
        )


def already_has(label: str) -> PreconditionFailed:
    """The answer to creating her one record of a kind (her release plan, her support plan)
    when she has it already."""
    return PreconditionFailed(f"She already has a {label}: read it, then send If-Match.")


def check_put_of_hers(
    current_version: int | None, label: str, if_match: str | None, if_none_match: str | None
) -> None:
    """The conditions of a PUT of her one record of a kind (`current_version` None: she has
    none yet). None yet: created with no condition or `If-None-Match: *`, and an If-Match
    (naming a version that cannot exist) fails. One already: replaced only with If-Match at its
    version (428 without), and an If-None-Match that it matches fails."""
    if current_version is None:
        if sent(if_match):
            raise PreconditionFailed(
                f"She has no {label} yet: send no If-Match (or If-None-Match: *) to create it."
            )
        return
    if sent(if_none_match) and not if_none_match_holds(if_none_match, current_version):
        raise already_has(label)
    check_if_match(if_match, current_version)
