"""Release plans: one per mother, created or replaced by PUT, changed by PATCH, complete when
nothing stands in the way of release; and the releases due without a complete plan."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tac_api.auth.schemas import Caller, Role
from tac_api.errors import PreconditionFailed
from tac_api.release.schemas import ReleasePlanInput
from tac_api.release.service import put_plan
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY
from tests.support.release import (
    PATHWAYS,
    a_service,
    as_sent,
    complete_plan,
    days,
    onward_referral,
    release_plan_url,
)
from tests.support.sql import counting, statements


def plan_url(mother_id: str) -> str:
    return release_plan_url(mother_id)


def etag(body: dict[str, Any]) -> str:
    return f'"{body["version"]}"'


def all_pathways(status: str = "complete") -> dict[str, dict[str, str]]:
    return {pathway: {"status": status} for pathway in PATHWAYS}


# Every pathway done, none asking for an onward referral.
NO_REFERRAL_NEEDED = all_pathways() | {"children_families_community": {"status": "not_needed"}}


def plan_rows(api: Api) -> list[int]:
    return [
        api.sql(f"SELECT count(*) FROM {table}")[0][0]
        for table in (
            "release_plan",
            "release_plan_pathway",
            "release_plan_action",
            "release_plan_contact",
        )
    ]


class TestCreate:
    def test_a_first_plan_needs_no_condition(self, api: Api) -> None:
        mother = api.mother()
        response = api.put("ewi_worker", plan_url(mother["id"]), {})
        assert response.status_code == 201, response.text
        plan = response.json()
        assert response.headers["Location"] == plan_url(mother["id"])
        assert response.headers["ETag"] == '"1"'
        assert plan["mother_id"] == mother["id"] and plan["accommodation_status"] == "unknown"
        assert plan["pathways"] == {
            p: {"status": "not_started", "note": None}
            | ({"onward_referrals": []} if p == "children_families_community" else {})
            for p in PATHWAYS
        }
        assert plan["actions"] == [] and plan["contact_after_release"] == []
        assert plan["complete"] is False
        assert [m["field"] for m in plan["missing"]] == [
            "accommodation_status",
            *(f"pathways.{p}" for p in PATHWAYS),
        ]
        got = api.get("ewi_worker", plan_url(mother["id"]))
        assert got.json() == plan and got.headers["ETag"] == '"1"'

    def test_everything_in_it(self, api: Api) -> None:
        mother = api.mother()
        rhys = api.child(mother["id"], first_name="Rhys")
        nia = api.child(mother["id"], first_name="Nia", local_authority_code="936")
        body = complete_plan(
            api,
            contact_after_release=[
                {"child_id": nia["id"], "arrangement": "Letters via Surrey's letterbox scheme."},
                {"child_id": rhys["id"], "arrangement": "Supervised at the family centre."},
            ],
        )
        response = api.put("admin", plan_url(mother["id"]), body, if_none_match="*")
        assert response.status_code == 201, response.text
        plan = response.json()
        assert plan["probation_contact"] == {
            "name": "Rhiannon Pryce-Jones",
            "email": None,
            "phone": "0117 496 0002",
        }
        assert plan["pathways"]["health"] == {"status": "not_needed", "note": "Registered."}
        assert plan["release_local_authority_code"] == "803"
        assert {c["child_id"] for c in plan["contact_after_release"]} == {rhys["id"], nia["id"]}
        assert plan["actions"][0]["owner"] == "Prison social worker"
        assert uuid.UUID(plan["actions"][0]["id"])
        assert plan["complete"] is True and plan["missing"] == []
        assert api.get("admin", plan_url(mother["id"])).json() == plan

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"expected_release_date": "2025-08-01"}, "expected_release_date"),  # before reception
            ({"expected_release_date": 20270101}, "expected_release_date"),
            ({"release_local_authority_code": "999"}, "release_local_authority_code"),
            ({"release_local_authority_code": "928"}, "release_local_authority_code"),  # gone
            ({"release_local_authority_code": "Bristol"}, "release_local_authority_code"),
            ({"accommodation_status": "sofa_surfing"}, "accommodation_status"),
            ({"pathways": {"housing": {"status": "complete"}}}, "pathways.housing"),
            ({"pathways": {"health": {"status": "done"}}}, "pathways.health.status"),
            (
                {"pathways": {"health": {"status": "complete", "rag": "green"}}},
                "pathways.health.rag",
            ),
            ({"probation_contact": {"name": "Rhiannon", "email": "no"}}, "probation_contact.email"),
            ({"probation_contact": {"email": "r@example.org"}}, "probation_contact.name"),
            ({"actions": [{"description": "Bank.", "due_on": "2027-01-01"}]}, "actions.0.owner"),
            (
                {
                    "actions": [
                        {
                            "description": "Bank.",
                            "owner": "Siân",
                            "due_on": days(3),
                            "done_on": days(1),
                        }
                    ]
                },
                "actions.0.done_on",
            ),
            (
                {
                    "actions": [
                        {
                            "id": str(uuid.uuid4()),
                            "description": "Bank.",
                            "owner": "Siân",
                            "due_on": days(3),
                        }
                    ]
                },
                "actions.0.id",
            ),
            (
                {
                    "contact_after_release": [
                        {"child_id": str(uuid.uuid4()), "arrangement": "Calls."}
                    ]
                },
                "contact_after_release",  # the one children rule names the list
            ),
            (
                {"contact_after_release": [{"child_id": "x", "arrangement": "Calls."}]},
                "contact_after_release.0.child_id",
            ),
            ({"complete": True}, "complete"),
            ({"mother_id": str(uuid.uuid4())}, "mother_id"),
            ({"version": 3}, "version"),
            ({"missing": []}, "missing"),
        ],
    )
    def test_rules_refuse_bad_input_and_write_nothing(
        self, api: Api, fields: dict[str, Any], field: str
    ) -> None:
        mother = api.mother(reception_date="2025-09-01")
        response = api.put("admin", plan_url(mother["id"]), fields)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]
        assert plan_rows(api) == [0, 0, 0, 0]

    def test_a_child_must_be_hers_and_named_once(self, api: Api) -> None:
        mother, other = api.mother(), api.mother()
        hers = api.child(mother["id"])
        not_hers = api.child(other["id"])
        twice = {
            "contact_after_release": [
                {"child_id": hers["id"], "arrangement": "Calls."},
                {"child_id": hers["id"], "arrangement": "Visits."},
            ]
        }
        # The one rule every record naming children keeps, with its messages.
        response = api.put("admin", plan_url(mother["id"]), twice)
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {
                "location": "body",
                "field": "contact_after_release",
                "message": "names a child more than once",
            }
        ]
        stranger = {"contact_after_release": [{"child_id": not_hers["id"], "arrangement": "x"}]}
        response = api.put("admin", plan_url(mother["id"]), stranger)
        assert response.status_code == 422
        assert response.json()["errors"][0]["message"] == "item 1 is not one of her children"
        assert plan_rows(api) == [0, 0, 0, 0]

    def test_only_the_prison_side_in_scope(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        api.child(mother["id"], local_authority_code="801")
        assert api.put("ewi_worker", plan_url(mother["id"]), {}).status_code == 404
        assert api.put("bristol", plan_url(mother["id"]), {}).status_code == 403
        assert api.put("admin", plan_url(str(uuid.uuid4())), {}).status_code == 404
        assert plan_rows(api) == [0, 0, 0, 0]
        assert api.put("sdi_worker", plan_url(mother["id"]), {}).status_code == 201


class TestReplace:
    def test_replacing_needs_if_match(self, api: Api) -> None:
        mother = api.mother()
        url = plan_url(mother["id"])
        first = api.put("admin", url, complete_plan(api)).json()
        assert api.put("admin", url, {}).status_code == 428
        assert api.put("admin", url, {}, if_match='"7"').status_code == 412
        assert api.put("admin", url, {}, if_none_match="*").status_code == 412
        assert api.get("admin", url).json() == first
        response = api.put(
            "admin", url, {"accommodation_status": "temporary"}, if_match=etag(first)
        )
        assert response.status_code == 200, response.text
        replaced = response.json()
        assert replaced["version"] == 2 and response.headers["ETag"] == '"2"'
        assert replaced["id"] == first["id"]
        # Replaced whole: what was left out took its default.
        assert replaced["expected_release_date"] is None and replaced["actions"] == []
        assert replaced["probation_contact"] is None
        assert replaced["pathways"]["health"] == {"status": "not_started", "note": None}
        assert plan_rows(api) == [1, 7, 0, 0]

    def test_if_match_on_a_plan_not_yet_made_fails(self, api: Api) -> None:
        mother = api.mother()
        response = api.put("admin", plan_url(mother["id"]), {}, if_match='"1"')
        assert response.status_code == 412
        assert plan_rows(api) == [0, 0, 0, 0]

    def test_an_action_keeps_its_id_when_given(self, api: Api) -> None:
        mother = api.mother()
        url = plan_url(mother["id"])
        first = api.put("admin", url, complete_plan(api)).json()
        kept = first["actions"][0]
        body = complete_plan(
            api,
            actions=[
                {**{k: kept[k] for k in ("id", "description", "owner", "due_on")}, "done_on": None},
                {
                    "description": "Apply for a birth certificate.",
                    "owner": "Siân",
                    "due_on": days(5),
                },
            ],
        )
        replaced = api.put("admin", url, body, if_match='"1"').json()
        assert [a["id"] for a in replaced["actions"]][1] == kept["id"]  # by due date
        assert replaced["complete"] is False
        assert {m["field"] for m in replaced["missing"]} == {
            f"actions.{a['id']}" for a in replaced["actions"]
        }
        twice = complete_plan(api, actions=[body["actions"][0], body["actions"][0]])
        response = api.put("admin", url, twice, if_match='"2"')
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "actions.1.id"
        assert api.get("admin", url).json() == replaced

    def test_a_replacement_is_audited_as_an_alteration(self, api: Api) -> None:
        mother = api.mother()
        url = plan_url(mother["id"])
        created = api.put("ewi_worker", url, {})
        plan_id = created.json()["id"]
        assert trail(api, created) == [
            (
                "ewi_worker",
                "prison_social_worker",
                "collect",
                "release_plan",
                plan_id,
                mother["id"],
                "succeeded",
            )
        ]
        replaced = api.put("ewi_worker", url, {"accommodation_status": "settled"}, if_match='"1"')
        assert [row[2] for row in trail(api, replaced)] == ["alter"]

    def test_a_replacement_that_changes_nothing_keeps_the_version(self, api: Api) -> None:
        mother = api.mother()
        rhys = api.child(mother["id"], first_name="Rhys")
        url = plan_url(mother["id"])
        body = complete_plan(
            api, contact_after_release=[{"child_id": rhys["id"], "arrangement": "Calls."}]
        )
        plan = api.put("ewi_worker", url, body).json()
        events = api.sql("SELECT count(*) FROM change_event")[0][0]
        # The actions and onward referrals by their ids.
        community = plan["pathways"]["children_families_community"]
        kept = [as_sent(r) for r in community["onward_referrals"]]
        pathways = body["pathways"] | {
            "children_families_community": {"status": "complete", "onward_referrals": kept}
        }
        same = body | {"actions": plan["actions"], "pathways": pathways}
        response = api.put("ewi_worker", url, same, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"1"' and response.json() == plan
        assert api.sql("SELECT count(*) FROM change_event")[0][0] == events
        assert [row[2] for row in trail(api, response)] == ["consult"]
        # An action sent without its id is a new one: a change.
        again = api.put("ewi_worker", url, body, if_match='"1"')
        assert again.headers["ETag"] == '"2"'
        assert api.sql("SELECT count(*) FROM change_event")[0][0] > events
        assert [row[2] for row in trail(api, again)] == ["alter"]


class TestComplete:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"accommodation_status": "temporary"}, "accommodation_status"),
            ({"accommodation_status": "no_fixed_abode"}, "accommodation_status"),
            ({"accommodation_status": "unknown"}, "accommodation_status"),
            (
                {"pathways": NO_REFERRAL_NEEDED | {"finance_id": {"status": "in_progress"}}},
                "pathways.finance_id",
            ),
            (
                {"pathways": NO_REFERRAL_NEEDED | {"health": {"status": "not_started"}}},
                "pathways.health",
            ),
        ],
    )
    def test_what_keeps_a_plan_from_complete(
        self, api: Api, change: dict[str, Any], field: str
    ) -> None:
        mother = api.mother()
        plan = api.put("admin", plan_url(mother["id"]), complete_plan(api, **change)).json()
        assert plan["complete"] is False
        assert [m["field"] for m in plan["missing"]] == [field]

    def test_an_open_action_keeps_it_incomplete(self, api: Api) -> None:
        mother = api.mother()
        action = {"description": "Register with a GP.", "owner": "Siân", "due_on": days(3)}
        plan = api.put("admin", plan_url(mother["id"]), complete_plan(api, actions=[action])).json()
        open_action = plan["actions"][0]
        assert plan["complete"] is False
        assert plan["missing"] == [
            {"field": f"actions.{open_action['id']}", "message": f"open, due {days(3)}"}
        ]
        done = {"actions": [{**open_action, "done_on": str(TODAY)}]}
        closed = api.patch("admin", plan_url(mother["id"]), done, if_match='"1"').json()
        assert closed["complete"] is True and closed["missing"] == []
        assert closed["actions"][0]["id"] == open_action["id"]

    def test_approved_premises_will_do(self, api: Api) -> None:
        mother = api.mother()
        body = complete_plan(api, accommodation_status="approved_premises")
        assert api.put("admin", plan_url(mother["id"]), body).json()["complete"] is True


class TestChange:
    def test_patch_needs_if_match(self, api: Api) -> None:
        mother = api.mother()
        url = plan_url(mother["id"])
        plan = api.put("admin", url, complete_plan(api)).json()
        change = {"accommodation_status": "temporary"}
        assert api.patch("admin", url, change).status_code == 428
        assert api.patch("admin", url, change, if_match='"9"').status_code == 412
        response = api.patch("ewi_worker", url, change, if_match=etag(plan))
        assert response.status_code == 200, response.text
        changed = response.json()
        assert changed["version"] == 2 and response.headers["ETag"] == '"2"'
        assert changed["accommodation_status"] == "temporary"
        # Only what was sent changed.
        assert changed["actions"] == plan["actions"]
        assert changed["probation_contact"] == plan["probation_contact"]
        assert changed["complete"] is False
        assert api.get("admin", url).json() == changed

    def test_only_the_pathways_sent_change(self, api: Api) -> None:
        mother = api.mother()
        url = plan_url(mother["id"])
        api.put("admin", url, complete_plan(api))
        change = {"pathways": {"drugs_alcohol": {"status": "in_progress"}}}
        changed = api.patch("admin", url, change, if_match='"1"').json()
        assert changed["pathways"]["drugs_alcohol"] == {"status": "in_progress", "note": None}
        assert changed["pathways"]["health"] == {"status": "not_needed", "note": "Registered."}
        note = {"pathways": {"health": {"note": "GP registration confirmed."}}}
        changed = api.patch("admin", url, note, if_match='"2"').json()
        assert changed["pathways"]["health"] == {
            "status": "not_needed",
            "note": "GP registration confirmed.",
        }

    def test_contact_after_release_is_replaced_when_sent(self, api: Api) -> None:
        mother = api.mother()
        rhys = api.child(mother["id"], first_name="Rhys")
        url = plan_url(mother["id"])
        api.put("admin", url, {})
        contact = {"contact_after_release": [{"child_id": rhys["id"], "arrangement": "Calls."}]}
        changed = api.patch("admin", url, contact, if_match='"1"').json()
        assert changed["contact_after_release"] == contact["contact_after_release"]
        cleared = api.patch("admin", url, {"contact_after_release": []}, if_match='"2"').json()
        assert cleared["contact_after_release"] == []

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"accommodation_status": None}, "accommodation_status"),
            ({"pathways": None}, "pathways"),
            ({"pathways": {"health": None}}, "pathways.health"),
            ({"pathways": {"health": {"status": None}}}, "pathways.health.status"),
            ({"actions": None}, "actions"),
            ({"actions": [{"description": "Bank.", "due_on": "2027-01-01"}]}, "actions.0.owner"),
            (
                {
                    "actions": [
                        {
                            "id": str(uuid.uuid4()),
                            "description": "Bank.",
                            "owner": "Siân",
                            "due_on": "2027-01-01",
                        }
                    ]
                },
                "actions.0.id",
            ),
            ({"accommodation_status": "hostel"}, "accommodation_status"),
            ({"probation_contact": {"name": ""}}, "probation_contact.name"),
            ({"expected_release_date": "2020-01-01"}, "expected_release_date"),
            ({"release_local_authority_code": "928"}, "release_local_authority_code"),
            ({"complete": True}, "complete"),
            ({"id": str(uuid.uuid4())}, "id"),
        ],
    )
    def test_bad_changes_write_nothing(self, api: Api, change: dict[str, Any], field: str) -> None:
        mother = api.mother()
        url = plan_url(mother["id"])
        plan = api.put("admin", url, complete_plan(api)).json()
        response = api.patch("admin", url, change, if_match='"1"')
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]
        assert api.get("admin", url).json() == plan

    def test_a_patch_that_changes_nothing_keeps_the_version(self, api: Api) -> None:
        mother = api.mother()
        api.child(mother["id"])  # an authority to tell of changes
        url = plan_url(mother["id"])
        plan = api.put("admin", url, complete_plan(api)).json()
        events = api.sql("SELECT count(*) FROM change_event")[0][0]
        same = {
            "accommodation_status": "settled",
            "pathways": {"health": {"status": "not_needed"}},
            "actions": plan["actions"],
            "contact_after_release": [],
        }
        response = api.patch("ewi_worker", url, same, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"1"' and response.json() == plan
        assert api.sql("SELECT count(*) FROM change_event")[0][0] == events
        assert [row[2] for row in trail(api, response)] == ["consult"]
        note = {"pathways": {"health": {"note": "Registered with a GP in Bristol."}}}
        response = api.patch("ewi_worker", url, note, if_match='"1"')
        assert response.headers["ETag"] == '"2"'
        assert api.sql("SELECT count(*) FROM change_event")[0][0] == events + 1
        assert [row[2] for row in trail(api, response)] == ["alter"]

    def test_no_plan_no_patch(self, api: Api) -> None:
        mother = api.mother()
        response = api.patch("admin", plan_url(mother["id"]), {}, if_match='"1"')
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    def test_out_of_scope_is_404(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        url = plan_url(mother["id"])
        api.put("admin", url, {})
        assert (
            api.patch("ewi_worker", url, {"accommodation_status": "settled"}, '"1"').status_code
            == 404
        )
        assert api.get("admin", url).json()["accommodation_status"] == "unknown"


class TestRead:
    def test_no_plan_yet_is_404(self, api: Api) -> None:
        mother = api.mother()
        response = api.get("admin", plan_url(mother["id"]))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    def test_the_prison_side_reads_its_own_prisons_plans(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        api.put("admin", plan_url(mother["id"]), {})
        assert api.get("sdi_worker", plan_url(mother["id"])).status_code == 200
        assert api.get("ewi_worker", plan_url(mother["id"])).status_code == 404

    def test_a_local_authority_reads_the_plans_of_its_childrens_mothers(self, api: Api) -> None:
        mother = api.mother()
        ours = api.child(mother["id"], local_authority_code="801")
        theirs = api.child(mother["id"], local_authority_code="803", first_name="Cerys")
        body = {
            "contact_after_release": [
                {"child_id": ours["id"], "arrangement": "Supervised, fortnightly."},
                {"child_id": theirs["id"], "arrangement": "Letters only."},
            ]
        }
        api.put("admin", plan_url(mother["id"]), body)
        plan = api.get("bristol_system", plan_url(mother["id"])).json()
        assert plan["contact_after_release"] == [body["contact_after_release"][0]]
        assert api.get("surrey", plan_url(mother["id"])).status_code == 404
        assert api.get("ewi_governor", plan_url(mother["id"])).status_code == 403

    def test_a_read_is_audited(self, api: Api) -> None:
        mother = api.mother()
        plan = api.put("admin", plan_url(mother["id"]), {}).json()
        response = api.get("ewi_worker", plan_url(mother["id"]))
        assert trail(api, response) == [
            (
                "ewi_worker",
                "prison_social_worker",
                "consult",
                "release_plan",
                plan["id"],
                mother["id"],
                "succeeded",
            )
        ]

    def test_a_plan_costs_the_same_whatever_its_size(self, api: Api) -> None:
        def read(n: int) -> list[str]:
            mother = api.mother()
            children = [api.child(mother["id"])["id"] for _ in range(n)]
            body = {
                "contact_after_release": [
                    {"child_id": c, "arrangement": "Calls."} for c in children
                ],
                "actions": [
                    {"description": f"Step {i}.", "owner": "Siân", "due_on": days(i)}
                    for i in range(n * 3)
                ],
                "pathways": {
                    "children_families_community": {
                        "onward_referrals": [
                            onward_referral(api, organisation_id=a_service(api, f"Service {i}"))
                            for i in range(n * 2)
                        ]
                    }
                },
            }
            assert api.put("admin", plan_url(mother["id"]), body).status_code == 201
            with counting(api) as statements:
                response = api.get("bristol", plan_url(mother["id"]))
            assert len(response.json()["actions"]) == n * 3
            return statements

        small, large = read(1), read(5)
        # SQLite: token, rate limit, the plan in scope, pathways, actions, contact, onward
        # referrals, one audit insert. PostgreSQL: admission, the plan writing its audit row,
        # its four parts.
        assert len(small) == len(large) == statements(api, sqlite=8, postgres=6), large


def due(api: Api, who: str = "admin", **params: Any) -> list[dict[str, Any]]:
    response = api.get(who, "/v1/release-plans/due", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


class TestDue:
    def test_releases_due_without_a_complete_plan(self, api: Api) -> None:
        no_plan = api.mother(last_name="Ní Bhriain", earliest_release_date=days(30))
        incomplete = api.mother(last_name="D'Souza", earliest_release_date=days(400))
        api.put(
            "admin",
            plan_url(incomplete["id"]),
            complete_plan(api, expected_release_date=days(20), accommodation_status="temporary"),
        )
        complete = api.mother(earliest_release_date=days(10))
        api.put(
            "admin", plan_url(complete["id"]), complete_plan(api, expected_release_date=days(15))
        )
        later = api.mother(earliest_release_date=days(100))
        # Her plan's date is what counts, not her earliest release date.
        moved = api.mother(earliest_release_date=days(5))
        api.put("admin", plan_url(moved["id"]), {"expected_release_date": days(300)})
        api.mother(earliest_release_date=days(10), status="released")
        api.mother(earliest_release_date=str(TODAY - timedelta(days=3)))
        api.mother(earliest_release_date=None)

        items = due(api)
        assert [i["mother_id"] for i in items] == [incomplete["id"], no_plan["id"]]
        first, second = items
        assert first["release_date_from"] == "release_plan" and first["days_to_release"] == 20
        assert first["accommodation_status"] == "temporary"
        assert first["pathways_outstanding"] == 0 and first["open_actions"] == 0
        assert second == {
            "mother_id": no_plan["id"],
            "prison_number": no_plan["prison_number"],
            "first_name": "Siân",
            "last_name": "Ní Bhriain",
            "prison_code": "EWI",
            "release_date": days(30),
            "release_date_from": "earliest_release_date",
            "days_to_release": 30,
            "release_plan_id": None,
            "accommodation_status": None,
            "pathways_outstanding": 7,
            "open_actions": 0,
        }
        assert later["id"] in [i["mother_id"] for i in due(api, within_days=100)]
        assert [i["mother_id"] for i in due(api, within_days=20)] == [incomplete["id"]]
        assert due(api, within_days=0) == []

    def test_gaps_are_counted(self, api: Api) -> None:
        mother = api.mother(earliest_release_date=days(30))
        body = complete_plan(
            api,
            pathways=complete_plan(api)["pathways"] | {"health": {"status": "in_progress"}},
            actions=[
                {"description": "Bank.", "owner": "Siân", "due_on": days(3)},
                {"description": "ID.", "owner": "Siân", "due_on": days(4)},
                {"description": "GP.", "owner": "Siân", "due_on": days(1), "done_on": str(TODAY)},
            ],
        )
        plan = api.put("admin", plan_url(mother["id"]), body).json()
        [item] = due(api)
        assert item["release_plan_id"] == plan["id"] and item["accommodation_status"] == "settled"
        assert item["pathways_outstanding"] == 1 and item["open_actions"] == 2

    def test_a_prison_social_worker_sees_her_prison_only(self, api: Api) -> None:
        ewi = api.mother(earliest_release_date=days(30))
        sdi = api.mother(prison_code="SDI", earliest_release_date=days(30))
        assert [i["mother_id"] for i in due(api, "ewi_worker")] == [ewi["id"]]
        assert due(api, "ewi_worker", prison_code="SDI") == []
        assert [i["mother_id"] for i in due(api, "admin", prison_code="SDI")] == [sdi["id"]]
        assert len(due(api, "admin")) == 2
        for who in ("bristol", "bristol_system", "ewi_governor", "auditor"):
            assert api.get(who, "/v1/release-plans/due").status_code == 403

    def test_a_refusal_is_audited_against_release_plans(self, api: Api) -> None:
        response = api.get("bristol", "/v1/release-plans/due")
        assert response.status_code == 403
        assert trail(api, response) == [
            ("bristol", "la_practitioner", "consult", "release_plan", None, None, "refused")
        ]

    @pytest.mark.parametrize(
        "params",
        [{"within_days": -1}, {"within_days": 731}, {"prison_code": "ewi"}, {"soon": "1"}],
    )
    def test_bad_parameters(self, api: Api, params: dict[str, Any]) -> None:
        response = api.get("admin", "/v1/release-plans/due", params=params)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"

    def test_pages_soonest_first(self, api: Api) -> None:
        ids = [api.mother(earliest_release_date=days(n))["id"] for n in (9, 3, 3, 7, 1)]
        seen, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = api.get("ewi_worker", "/v1/release-plans/due", params=params).json()
            seen += [(i["days_to_release"], i["mother_id"]) for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == sorted(seen) and {m for _, m in seen} == set(ids)

    def test_audited_and_one_statement_for_the_list(self, api: Api) -> None:
        for n in range(12):
            mother = api.mother(earliest_release_date=days(n + 1))
            if n % 2:
                api.put(
                    "admin",
                    plan_url(mother["id"]),
                    complete_plan(api, accommodation_status="temporary"),
                )
        with counting(api) as small:
            api.get("ewi_worker", "/v1/release-plans/due?limit=2")
        with counting(api) as large:
            response = api.get("ewi_worker", "/v1/release-plans/due?limit=12")
        items = response.json()["items"]
        assert len(items) == 12
        # SQLite: token, rate limit, the page with its plans' gaps counted, one audit insert.
        # PostgreSQL: admission, then the page writing its own audit rows.
        assert len(small) == len(large) == statements(api, sqlite=4, postgres=2), large
        assert trail(api, response) == _due_trail(items)
        assert len(trail(api, response)) == 18
        # The look-ahead row (her plan with it) is not audited, however the page ends.
        for limit in (1, 2):
            response = api.get("ewi_worker", f"/v1/release-plans/due?limit={limit}")
            items = response.json()["items"]
            assert len(items) == limit and trail(api, response) == _due_trail(items)


def _due_trail(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The audit rows of a page of releases due: each mother, then each plan, in its order."""
    by = ("ewi_worker", "prison_social_worker", "consult")
    mothers = [(*by, "mother", i["mother_id"], i["mother_id"], "succeeded") for i in items]
    plans = [
        (*by, "release_plan", i["release_plan_id"], i["mother_id"], "succeeded")
        for i in items
        if i["release_plan_id"]
    ]
    return mothers + plans


def test_two_first_plans_sent_at_once_make_one(api: Api) -> None:
    """The second waits for the first, then finds the plan made meanwhile: `If-None-Match: *`
    fails (412), with no second plan and no overwrite. (PostgreSQL's case: SQLite has one writer
    at a time anyway.)"""
    if not api.database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time hold the whole database")
    mother_id = uuid.UUID(api.mother()["id"])
    admin = Caller(client_id=uuid.uuid4(), name="test", role=Role.admin)
    app = api.client.app
    first_plan = ReleasePlanInput(accommodation_status="settled")

    async def race() -> str:
        async with app.state.sessionmaker() as first:  # type: ignore[attr-defined]
            await put_plan(first, admin, mother_id, first_plan, None, None)

            async def second() -> str:
                async with app.state.sessionmaker() as session:  # type: ignore[attr-defined]
                    try:
                        await put_plan(session, admin, mother_id, ReleasePlanInput(), None, "*")
                    except PreconditionFailed:
                        return "412"
                    await session.commit()
                    return "made"

            waiting = asyncio.create_task(second())
            await asyncio.sleep(0.3)
            assert not waiting.done(), "the second should wait for the first"
            await first.commit()
        return await waiting

    assert api.client.portal.call(race) == "412"  # type: ignore[union-attr]
    plan = api.get("admin", plan_url(str(mother_id))).json()
    assert plan["accommodation_status"] == "settled" and plan["version"] == 1
