"""A release plan's history: every PUT and PATCH that changes the plan writes one row with each
field before and after and whether the plan was complete, in the change's own transaction; the
reports count completeness as it stood from it (tests/reports/test_as_they_stood.py)."""

import json
from typing import Any

from tac_api.subject_access.service import case_tables
from tests.support.api import Api
from tests.support.bodies import TODAY
from tests.support.release import complete_plan, days, release_plan_url
from tests.support.sql import db_id


def history(api: Api, plan_id: str) -> list[dict[str, Any]]:
    """The plan's history rows, oldest first: who, in which request, and the changes by field."""
    rows = api.sql(
        "SELECT changed_by_name, changed_by_role, request_id, changes FROM release_plan_history "
        "WHERE release_plan_id = :id ORDER BY changed_at, id",
        id=db_id(api, plan_id),
    )
    return [
        {
            "by": (name, role),
            "request_id": request_id,
            "changes": {
                c["field"]: (c["old"], c["new"])
                for c in (json.loads(changes) if isinstance(changes, str) else changes)
            },
        }
        for name, role, request_id, changes in rows
    ]


def test_a_new_plan_is_written_from_nothing(api: Api) -> None:
    mother = api.mother()
    made = api.put("ewi_worker", release_plan_url(mother["id"]), complete_plan(api))
    assert made.status_code == 201, made.text
    plan = made.json()
    [entry] = history(api, plan["id"])
    assert entry["by"][1] == "prison_social_worker"
    assert entry["request_id"] == made.headers["X-Request-ID"]
    changes = entry["changes"]
    assert changes["complete"] == (None, True)  # no plan before: never complete
    assert changes["accommodation_status"] == (None, "settled")
    assert changes["pathways.health.note"] == (None, "Registered.")
    [action] = plan["actions"]
    assert changes[f"actions.{action['id']}"] == (
        None,
        {"description": "Open a bank account.", "owner": "Prison social worker"}
        | {"due_on": days(10), "done_on": str(TODAY)},
    )
    [referral] = plan["pathways"]["children_families_community"]["onward_referrals"]
    onward = changes[f"pathways.children_families_community.onward_referrals.{referral['id']}"]
    assert onward[0] is None and onward[1]["accepted_on"] == days(-5)
    assert "expected_release_date" in changes and "probation_contact.email" not in changes


def test_a_patch_writes_what_it_changed(api: Api) -> None:
    mother = api.mother()
    plan = api.put("admin", release_plan_url(mother["id"]), complete_plan(api)).json()
    url = release_plan_url(mother["id"])
    changed = api.patch("admin", url, {"accommodation_status": "temporary"}, '"1"')
    assert changed.status_code == 200, changed.text
    # The same again changes nothing: no row.
    same = api.patch("admin", url, {"accommodation_status": "temporary"}, '"2"')
    assert same.status_code == 200 and same.json()["version"] == 2
    # Refused: nothing written, the history with it.
    bad = api.patch("admin", url, {"expected_release_date": "2000-01-01"}, '"2"')
    assert bad.status_code == 422
    *_, latest = history(api, plan["id"])
    assert latest["changes"] == {
        "accommodation_status": ("settled", "temporary"),
        "complete": (True, False),
    }
    assert len(history(api, plan["id"])) == 2


def test_a_put_writes_what_it_replaced(api: Api) -> None:
    mother = api.mother()
    url = release_plan_url(mother["id"])
    plan = api.put("admin", url, complete_plan(api)).json()
    [action] = plan["actions"]
    body = complete_plan(api, actions=[{**action, "done_on": None}])
    replaced = api.put("admin", url, body, if_match='"1"')
    assert replaced.status_code == 200, replaced.text
    *_, latest = history(api, plan["id"])
    changes = latest["changes"]
    # The replacement's own onward referral is a new one (the old one taken out).
    assert changes["complete"] == (True, False)
    old, new = changes[f"actions.{action['id']}"]
    assert (old["done_on"], new["done_on"]) == (str(TODAY), None)


def test_the_history_is_part_of_her_case() -> None:
    """Exported and erased with her case, through its plan (subject_access.case_tables)."""
    assert "release_plan_history" in {table.name for table in case_tables()}
