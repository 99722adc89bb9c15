"""Children's figures and release plans' completeness as they stood at each period's end, from
the records' histories, not as recorded now; a record without history counts as recorded now.

One world for the module, read in one governor report: this quarter beside the one before. The
changes are made now, after the previous quarter's end; each record's first history row (its
making) is moved back into the previous quarter where the record is to have been made then, as
history the API cannot make today."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tac_api.children.models import ChildHistoryEntry
from tac_api.release.models import ReleasePlanHistoryEntry
from tac_api.reports.as_they_stood import as_they_stood
from tac_api.reports.service import previous_span, quarters_between
from tests.support.api import Api
from tests.support.bodies import TODAY
from tests.support.release import complete_plan, release_plan_url
from tests.support.reports import exact_figures
from tests.support.sql import db_id

[QUARTER] = quarters_between(date(TODAY.year, 3 * ((TODAY.month - 1) // 3) + 1, 1), TODAY)[:1]
BEFORE = previous_span(QUARTER)
# Made in the previous quarter: its tenth day, midnight UTC.
MADE_BEFORE = datetime.combine(BEFORE.start + timedelta(days=9), time.min, UTC)


def _made_before(api: Api, model: Any, key: Any, record_id: str) -> None:
    """Its history's rows moved back to the previous quarter (its making among them)."""

    async def move() -> None:
        async with api.client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
            await connection.execute(
                update(model).where(key == uuid.UUID(record_id)).values(changed_at=MADE_BEFORE)
            )

    api.client.portal.call(move)  # type: ignore[union-attr]


def _mother(api: Api, **fields: Any) -> str:
    supported = BEFORE.start - timedelta(days=30)
    return api.mother(
        reception_date=str(supported - timedelta(days=30)),
        supported_from=str(supported),
        **fields,
    )["id"]


def _plan(api: Api, mother_id: str, **fields: Any) -> dict[str, Any]:
    """A complete plan (`fields` over it) with no expected date: she is due on her earliest
    release date."""
    response = api.put(
        "admin",
        release_plan_url(mother_id),
        complete_plan(api, expected_release_date=None, **fields),
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def world(module_api: Api) -> dict[str, Any]:
    api = module_api
    mother = _mother(api)
    # Made in the previous quarter as C2 with foster carers; now C1 with kinship carers.
    moved = api.child(mother, legal_status="C2", lives_with="foster_carer")
    _made_before(api, ChildHistoryEntry, ChildHistoryEntry.child_id, moved["id"])
    changed = api.patch(
        "admin",
        f"/v1/children/{moved['id']}",
        {"legal_status": "C1", "lives_with": "kinship_carer"},
        '"1"',
    )
    assert changed.status_code == 200, changed.text
    # Made before children kept a history: as recorded now, in both quarters.
    untold = api.child(mother, legal_status="E1", lives_with="foster_carer", placement_type=None)
    api.sql("DELETE FROM child_history WHERE child_id = :id", id=db_id(api, untold["id"]))
    # Made this quarter: not hers in the previous one.
    api.child(
        mother,
        date_of_birth=None,
        expected_date=str(TODAY + timedelta(days=60)),
        legal_status=None,
        placement_type=None,
        lives_with="mother",
    )

    # Another woman's child, made before children kept a history: counted in the database,
    # as recorded now; her worker is the first woman's children's, typed otherwise.
    theirs = api.child(
        _mother(api),
        legal_status="V2",
        lives_with="residential",
        local_authority_code="936",
        social_worker={"name": " GWEN LLEWELLYN", "email": "Gwen@bristol.example.gov.uk "},
    )
    api.sql("DELETE FROM child_history WHERE child_id = :id", id=db_id(api, theirs["id"]))

    due = str(BEFORE.end - timedelta(days=10))
    # Due in the previous quarter, each with a plan complete now.
    completed_later = _mother(api, earliest_release_date=due)
    plan = _plan(api, completed_later, accommodation_status="temporary")
    _made_before(api, ReleasePlanHistoryEntry, ReleasePlanHistoryEntry.release_plan_id, plan["id"])
    done = api.patch(
        "admin",
        release_plan_url(completed_later),
        {"accommodation_status": "settled"},
        f'"{plan["version"]}"',
    )
    assert done.status_code == 200 and done.json()["complete"], done.text
    complete_then = _plan(api, _mother(api, earliest_release_date=due))
    _made_before(
        api, ReleasePlanHistoryEntry, ReleasePlanHistoryEntry.release_plan_id, complete_then["id"]
    )
    untold_plan = _plan(api, _mother(api, earliest_release_date=due))
    api.sql(
        "DELETE FROM release_plan_history WHERE release_plan_id = :id",
        id=db_id(api, untold_plan["id"]),
    )
    _plan(api, _mother(api, earliest_release_date=due))  # made this quarter

    return report(api)


def report(api: Api) -> dict[str, Any]:
    """The governor's report of this quarter, its figures exact and none suppressed."""
    with exact_figures(api, threshold=0):
        query = {"from": str(QUARTER.start), "to": str(QUARTER.end)}
        response = api.get("ewi_governor", "/v1/reports/governor", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def figures(world: dict[str, Any], period: str, prefix: str) -> dict[str, Any]:
    """The period's non-zero figures whose keys start with `prefix`."""
    return {
        f["key"]: f[period]["value"]
        for s in world["sections"]
        for f in s["figures"]
        if f["key"].startswith(prefix) and f[period]["value"]
    }


def test_a_childs_legal_status_and_carer_as_they_stood(world: dict[str, Any]) -> None:
    assert figures(world, "previous", "children.by_") == {
        "children.by_legal_status.C2": 1,
        "children.by_legal_status.E1": 1,
        "children.by_legal_status.V2": 1,
        "children.by_lives_with.foster_carer": 2,
        "children.by_lives_with.residential": 1,
    }
    assert figures(world, "current", "children.by_") == {
        "children.by_legal_status.C1": 1,
        "children.by_legal_status.E1": 1,
        "children.by_legal_status.V2": 1,
        "children.by_legal_status.not_looked_after": 1,
        "children.by_lives_with.kinship_carer": 1,
        "children.by_lives_with.foster_carer": 1,
        "children.by_lives_with.mother": 1,
        "children.by_lives_with.residential": 1,
    }


def test_a_child_made_after_the_period_is_not_counted_in_it(world: dict[str, Any]) -> None:
    previous, current = figures(world, "previous", ""), figures(world, "current", "")
    assert (previous["children.linked"], current["children.linked"]) == (3, 4)
    assert "children.expected" not in previous and current["children.expected"] == 1


def test_siblings_are_separated_as_they_lived_then(world: dict[str, Any]) -> None:
    """Both with foster carers at the previous quarter's end; apart now."""
    assert "children.families_with_separated_siblings" not in figures(world, "previous", "")
    assert figures(world, "current", "")["children.families_with_separated_siblings"] == 1


def test_a_plan_counts_complete_as_it_stood(world: dict[str, Any]) -> None:
    """Completed after the quarter's end, or made after it: not complete in it. Complete when
    made then, or without history (as recorded now): complete."""
    assert figures(world, "previous", "releases.") == {
        "releases.due": 4,
        "releases.with_complete_plan": 2,
        "releases.without_complete_plan": 2,
    }


def test_authorities_and_workers_once_however_their_children_are_counted(
    world: dict[str, Any],
) -> None:
    """A child with changes and one without share a worker (typed otherwise) and not an
    authority."""
    for period in ("previous", "current"):
        found = figures(world, period, "children.")
        assert (found["children.local_authorities"], found["children.social_workers"]) == (2, 1)


def test_the_notes_say_so(world: dict[str, Any]) -> None:
    notes = " ".join(world["notes"])
    assert "as they stood at the period's end" in notes
    assert "as the plan stood at the period's end" in notes
    assert "made before their history was kept" in notes and "count as recorded now" in notes


MARCH = datetime(2026, 3, 1, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)
MAY = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "stood"),
    [
        (MARCH, "C1"),  # before any change: the first change's old value
        (APRIL + timedelta(seconds=1), "C2"),  # after the first: its new value
        (MAY, "C2"),  # a change at the very moment is not yet made
        (MAY + timedelta(days=1), "E1"),  # after the last: its new value
    ],
)
def test_a_field_as_it_stood(moment: datetime, stood: str) -> None:
    history = [
        (APRIL, [{"field": "legal_status", "old": "C1", "new": "C2"}]),
        # Naive, as SQLite hands times back: UTC.
        (MAY.replace(tzinfo=None), [{"field": "legal_status", "old": "C2", "new": "E1"}]),
    ]
    [found] = as_they_stood({"legal_status": "E1", "lives_with": "father"}, history, [moment])
    assert found == {"legal_status": stood, "lives_with": "father"}  # no change: as it is now


def test_a_record_without_history_stands_as_it_is() -> None:
    assert as_they_stood({"legal_status": "V2"}, [], [MARCH, MAY]) == [{"legal_status": "V2"}] * 2
