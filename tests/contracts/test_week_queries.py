"""The liaison lists read all week stay at a fixed number of statements, however many records
they show: the week's court hearings (with their children) and the releases due (with their
plans' gaps). No statement per hearing, child, mother or plan."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support import world
from tests.support.api import Api
from tests.support.bodies import TODAY
from tests.support.sql import counting, statements


def _each_read(api: Api) -> int:
    """A list read's statements: on SQLite the caller's token, the rate limit, the page with
    what it shows, and its audit insert; on PostgreSQL admission (the token and the rate limit
    together), then the page writing its own audit rows (README, "Reads in two round trips")."""
    return statements(api, sqlite=4, postgres=2)


NOW = datetime.now(UTC).replace(microsecond=0)


def _at(delta: timedelta) -> str:
    return (NOW + delta).isoformat().replace("+00:00", "Z")


def _week(api: Api, who: str, **params: Any) -> tuple[list[str], dict[str, Any]]:
    query = {"prison_code": "EWI", "from": str(TODAY), "to": str(TODAY + timedelta(days=7))}
    with counting(api) as statements:
        response = api.get(who, "/v1/court-hearings", params=query | params)
    assert response.status_code == 200, response.text
    return statements, response.json()


def _hearings(api: Api, family: dict[str, str], how_many: int) -> None:
    for n in range(how_many):
        children = [family["bristol"], family["surrey"]][: 1 + n % 2]
        body = {
            "mother_id": family["mother"],
            "child_ids": children,
            "court_name": "Bristol Civil and Family Justice Centre",
            "hearing_type": "case_management",
            "starts_at": _at(timedelta(days=1 + n % 5, hours=n % 3)),
            "notified_at": _at(timedelta(days=-(n % 9))),
        }
        assert api.post("admin", "/v1/court-hearings", body).status_code == 201


def test_the_weeks_hearings_cost_the_same_however_many(api: Api) -> None:
    family = world.ids(world.family(api))
    _hearings(api, family, 1)
    one, _ = _week(api, "ewi_worker")
    _hearings(api, family, 11)
    for who, shown in (("ewi_worker", 12), ("bristol", 12), ("surrey", 5), ("admin", 12)):
        many, page = _week(api, who)
        assert len(page["items"]) == shown, who
        # And, for the prison side, the page's open flags for review: one statement more.
        flags = 0 if who in ("bristol", "surrey") else 1
        assert len(many) == _each_read(api) + flags == len(one) - 1 + flags, many
        # The hearings and their children in one statement, not one for the children.
        assert sum("court_hearing_child" in s for s in many) == 1, many
    # A later page: a keyset seek, the same statements.
    cursor = _week(api, "ewi_worker", limit=5)[1]["next_cursor"]
    later, page = _week(api, "ewi_worker", limit=5, cursor=cursor)
    assert len(page["items"]) == 5 and len(later) == len(one), later


def _due(api: Api, **params: Any) -> tuple[list[str], dict[str, Any]]:
    with counting(api) as statements:
        response = api.get(
            "ewi_worker", "/v1/release-plans/due", params={"within_days": 84} | params
        )
    assert response.status_code == 200, response.text
    return statements, response.json()


def _due_mothers(api: Api, how_many: int) -> None:
    for n in range(how_many):
        mother = api.mother(earliest_release_date=str(TODAY + timedelta(days=n + 1)))
        if n % 3:  # a plan, dated or not, with gaps (pathways and actions) to count
            plan = {
                "accommodation_status": "temporary",
                "actions": [{"description": "Bank.", "owner": "Siân", "due_on": str(TODAY)}],
            }
            if n % 3 == 2:
                plan["expected_release_date"] = str(TODAY + timedelta(days=60 - n))
            response = api.put("admin", f"/v1/mothers/{mother['id']}/release-plan", plan)
            assert response.status_code == 201, response.text


def test_the_releases_due_cost_the_same_however_many(api: Api) -> None:
    _due_mothers(api, 1)
    one, _ = _due(api)
    _due_mothers(api, 14)
    many, page = _due(api)
    assert len(page["items"]) == 15
    assert len(many) == len(one) == _each_read(api), many
    # The plans' gaps counted in the page's own statement, not one query per plan.
    assert sum("release_plan_action" in s for s in many) == 1, many
    cursor = _due(api, limit=4)[1]["next_cursor"]
    later, page = _due(api, limit=4, cursor=cursor)
    assert len(page["items"]) == 4 and len(later) == len(one), later
