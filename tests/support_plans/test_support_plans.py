"""Her support plan: one per mother over the eight areas, written whole by PUT; every change a
version kept with who made it and when; a draft until she agrees the version it stands at."""

from datetime import timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY
from tests.support.plans import area, make_plan, plan_body, plan_url
from tests.support.sql import db_id


def etag(body: dict[str, Any]) -> str:
    return f'"{body["version"]}"'


def agree(api: Api, mother_id: str, version: int, on: str | None = None) -> Any:
    body = {"version": version, "agreed_on": on or str(TODAY)}
    return api.post("admin", f"{plan_url(mother_id)}/agreement", body)


def versions(api: Api, mother_id: str) -> list[dict[str, Any]]:
    response = api.get("sdi_worker", f"{plan_url(mother_id)}/history")
    assert response.status_code == 200, response.text
    return response.json()["versions"]


@pytest.fixture
def mother(api: Api) -> dict[str, Any]:
    made = api.mother(prison_code="SDI")
    api.child(made["id"], local_authority_code="801")
    return made


def test_a_new_plan_is_a_draft_at_its_first_version(api: Api, mother: dict[str, Any]) -> None:
    body = plan_body(area("self_care", rating_at_start=7), area())
    response = api.put("sdi_worker", plan_url(mother["id"]), body, if_none_match="*")
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == plan_url(mother["id"])
    plan = response.json()
    assert response.headers["ETag"] == etag(plan)
    assert (plan["status"], plan["content_version"], plan["agreed_version"]) == ("draft", 1, None)
    # In the plan's own order of areas, whatever order they were sent in, each with its label.
    assert [(a["area"], a["label"]) for a in plan["areas"]] == [
        ("managing_mental_health", "Managing mental health"),
        ("self_care", "Self-care"),
    ]
    assert plan["areas"][1]["rating_at_start"] == 7
    shown = api.get("sdi_worker", plan_url(mother["id"]))
    assert shown.json() == plan and shown.headers["ETag"] == etag(plan)


def test_replacing_needs_the_plans_etag(api: Api, mother: dict[str, Any]) -> None:
    url = plan_url(mother["id"])
    assert api.put("admin", url, plan_body(), if_match='"1"').status_code == 412  # none yet
    plan = make_plan(api, mother["id"])
    changed = plan_body(area(goal="Sleep better."))
    assert api.put("admin", url, changed).status_code == 428
    assert api.put("admin", url, changed, if_none_match="*").status_code == 412
    assert api.put("admin", url, changed, if_match='"99"').status_code == 412
    assert api.put("admin", url, changed, if_match=etag(plan)).status_code == 200


def test_a_change_is_a_new_version_kept_with_who_and_what(api: Api, mother: dict[str, Any]) -> None:
    plan = make_plan(api, mother["id"], plan_body(area()))
    changed = plan_body(
        area(goal="Ask for help on bad days.", rating_at_start=4), area("self_care")
    )
    response = api.put("sdi_worker", plan_url(mother["id"]), changed, if_match=etag(plan))
    assert response.status_code == 200, response.text
    after = response.json()
    assert (after["content_version"], after["status"]) == (2, "draft")
    assert response.headers["ETag"] == etag(after) != etag(plan)

    first, second = versions(api, mother["id"])
    assert (first["number"], second["number"]) == (1, 2)
    assert first["changed_by"]["name"] == "admin"
    assert second["changed_by"] == {
        "client_id": second["changed_by"]["client_id"],
        "name": "sdi_worker",
        "role": "prison_social_worker",
    }
    assert second["changed_at"] >= first["changed_at"]
    # Each version as it stood.
    assert [a["goal"] for a in first["areas"]] == [area()["goal"]]
    assert [a["area"] for a in second["areas"]] == ["managing_mental_health", "self_care"]
    # What changed from the one before: per area and part; an area added from nothing.
    changes = {(c["area"], c["field"]): (c["before"], c["after"]) for c in second["changes"]}
    assert changes[("managing_mental_health", "goal")] == (
        area()["goal"],
        "Ask for help on bad days.",
    )
    assert changes[("managing_mental_health", "rating_at_start")] == (3, 4)
    assert changes[("self_care", "goal_written_by")] == (None, "her")
    assert ("managing_mental_health", "steps") not in changes  # unchanged parts are not listed
    # The first version's changes are the plan from nothing.
    assert {c["before"] for c in first["changes"]} == {None}


def test_taking_an_area_out_is_a_change_to_nothing(api: Api, mother: dict[str, Any]) -> None:
    plan = make_plan(api, mother["id"])
    response = api.put("admin", plan_url(mother["id"]), plan_body(area()), if_match=etag(plan))
    assert [a["area"] for a in response.json()["areas"]] == ["managing_mental_health"]
    removed = versions(api, mother["id"])[-1]["changes"]
    assert removed and all(c["area"] == "self_care" and c["after"] is None for c in removed)


def test_a_put_that_changes_nothing_keeps_the_version_and_the_etag(
    api: Api, mother: dict[str, Any]
) -> None:
    plan = make_plan(api, mother["id"])
    # The same plan, its areas in another order: nothing it says has changed.
    same = {"areas": list(reversed(plan_body()["areas"]))}
    response = api.put("admin", plan_url(mother["id"]), same, if_match=etag(plan))
    assert response.status_code == 200
    assert response.headers["ETag"] == etag(plan)
    assert response.json()["content_version"] == 1
    assert len(versions(api, mother["id"])) == 1
    assert [row[2] for row in trail(api, response)] == ["consult"]


def test_she_agrees_the_version_it_stands_at_and_a_change_makes_it_a_draft_again(
    api: Api, mother: dict[str, Any]
) -> None:
    plan = make_plan(api, mother["id"])
    response = agree(api, mother["id"], 1)
    assert response.status_code == 200, response.text
    agreed = response.json()
    assert (agreed["status"], agreed["agreed_version"], agreed["agreed_on"]) == (
        "agreed",
        1,
        str(TODAY),
    )
    assert response.headers["ETag"] == etag(agreed) != etag(plan)
    assert [row[2:4] for row in trail(api, response)] == [("alter", "support_plan")]

    changed = plan_body(area(goal="Start the Healthy Minds course."))
    after = api.put("admin", plan_url(mother["id"]), changed, if_match=etag(agreed)).json()
    # She has not agreed this change: a draft, her earlier agreement still on record.
    assert (after["status"], after["content_version"], after["agreed_version"]) == ("draft", 2, 1)
    assert after["agreed_on"] == str(TODAY)
    first, second = versions(api, mother["id"])
    assert (first["agreed_on"], second["agreed_on"]) == (str(TODAY), None)
    assert agree(api, mother["id"], 2).json()["status"] == "agreed"
    assert versions(api, mother["id"])[1]["agreed_on"] == str(TODAY)


def test_she_cannot_agree_a_version_the_plan_has_moved_on_from(
    api: Api, mother: dict[str, Any]
) -> None:
    plan = make_plan(api, mother["id"])
    api.put("admin", plan_url(mother["id"]), plan_body(area()), if_match=etag(plan))
    response = agree(api, mother["id"], 1)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert api.get("admin", plan_url(mother["id"])).json()["status"] == "draft"


def test_an_agreement_is_recorded_once(api: Api, mother: dict[str, Any]) -> None:
    make_plan(api, mother["id"])
    assert agree(api, mother["id"], 1).status_code == 200
    again = agree(api, mother["id"], 1, str(TODAY - timedelta(days=0)))
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("agreed_on", "field"),
    [
        (str(TODAY + timedelta(days=1)), "agreed_on"),  # the future
        (str(TODAY - timedelta(days=1)), "agreed_on"),  # before the version was made (today)
        ("20260101", "agreed_on"),
    ],
)
def test_when_she_agreed_is_a_day_since_the_version_was_made(
    api: Api, mother: dict[str, Any], agreed_on: str, field: str
) -> None:
    make_plan(api, mother["id"])
    response = agree(api, mother["id"], 1, agreed_on)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert api.get("admin", plan_url(mother["id"])).json()["agreed_version"] is None


def test_no_plan_no_agreement(api: Api, mother: dict[str, Any]) -> None:
    assert agree(api, mother["id"], 1).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (plan_body(area(), area()), "areas.1.area"),  # each area once
        (plan_body(area(steps_written_by=None)), "areas.0.steps_written_by"),
        (plan_body(area(steps=None)), "areas.0.steps_written_by"),  # written by, but no steps
        (plan_body(area(rating_at_start=0)), "areas.0.rating_at_start"),
        (plan_body(area(rating_at_start=11)), "areas.0.rating_at_start"),
        (plan_body(area(rating_at_start="5")), "areas.0.rating_at_start"),
        (plan_body(area(rating_at_start=5.5)), "areas.0.rating_at_start"),
        (plan_body(area(goal="x" * 1001)), "areas.0.goal"),
        (plan_body(area(goal="  ")), "areas.0.goal"),
        (plan_body(area(steps="x" * 4001)), "areas.0.steps"),
        (plan_body(area(goal_written_by="social_worker")), "areas.0.goal_written_by"),
        (plan_body(area("finances")), "areas.0.area"),
        (plan_body(area(chosen_by_her="yes")), "areas.0.chosen_by_her"),
        (plan_body(area(goal="a\x00b")), "areas.0.goal"),
        ({"areas": []}, "areas"),
        ({"areas": [area()] * 9}, "areas"),
    ],
)
def test_a_plan_that_breaks_a_rule_is_refused_and_writes_nothing(
    api: Api, mother: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    response = api.put("admin", plan_url(mother["id"]), body)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert api.sql("SELECT count(*) FROM support_plan")[0][0] == 0


def test_her_goal_up_to_a_thousand_characters_and_all_eight_areas(
    api: Api, mother: dict[str, Any]
) -> None:
    names = [
        "managing_mental_health",
        "voluntary_work_and_employment",
        "addictive_behaviours",
        "healthy_relationships",
        "healthy_lifestyle",
        "daily_living_skills",
        "social_networks",
        "self_care",
    ]
    body = plan_body(*(area(name, goal="é" * 1000) for name in reversed(names)))
    plan = make_plan(api, mother["id"], body)
    assert [a["area"] for a in plan["areas"]] == names


def test_the_prison_side_writes_it_and_other_prisons_do_not_see_it(
    api: Api, mother: dict[str, Any]
) -> None:
    url = plan_url(mother["id"])
    assert api.put("ewi_worker", url, plan_body()).status_code == 404
    assert api.put("bristol", url, plan_body()).status_code == 403
    make_plan(api, mother["id"])
    assert api.get("ewi_worker", url).status_code == 404
    assert api.get("ewi_worker", f"{url}/history").status_code == 404
    assert agree(api, mother["id"], 1).status_code == 200
    for who in ("ewi_governor", "auditor"):
        assert api.get(who, url).status_code == 403


def test_reads_and_writes_are_audited_as_her_plan(api: Api, mother: dict[str, Any]) -> None:
    created = api.put("admin", plan_url(mother["id"]), plan_body())
    plan_id = created.json()["id"]
    assert trail(api, created)[0][2:6] == ("collect", "support_plan", plan_id, mother["id"])
    for url in (plan_url(mother["id"]), f"{plan_url(mother['id'])}/history"):
        shown = api.get("sdi_worker", url)
        assert [row[2:6] for row in trail(api, shown)] == [
            ("consult", "support_plan", plan_id, mother["id"])
        ]


def test_a_version_row_holds_the_plan_as_it_stood(api: Api, mother: dict[str, Any]) -> None:
    plan = make_plan(api, mother["id"])
    rows = api.sql(
        "SELECT number, changed_by_name FROM support_plan_version WHERE support_plan_id = :id",
        id=db_id(api, plan["id"]),
    )
    assert [tuple(row) for row in rows] == [(1, "admin")]
