"""Flags for review: any record of her case flagged by hand (the reason, who raised it and when),
cleared once (who and when); shown on the record to the prison side, never to a local authority;
in her chronology and her subject access export; raised by the service itself too."""

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tac_api.auth.schemas import Caller, Role
from tac_api.flags import service as flags
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY
from tests.support.examples import every_record
from tests.support.sql import counting

FLAGS = "/v1/flags"


@pytest.fixture
def ids(api: Api) -> dict[str, str]:
    """One of every kind of record, of an EWI mother with a Bristol child; no flag yet (the
    examples' flag on her record taken away, so that each test counts its own)."""
    made = every_record(api)
    api.sql("DELETE FROM review_flag")
    return made


def raise_flag(
    api: Api, kind: str, record_id: str, who: str = "ewi_worker", reason: str = "Check this."
) -> Any:
    return api.post(who, FLAGS, {"resource_type": kind, "resource_id": record_id, "reason": reason})


def raised(api: Api, kind: str, record_id: str, **fields: Any) -> dict[str, Any]:
    response = raise_flag(api, kind, record_id, **fields)
    assert response.status_code == 201, response.text
    return response.json()


# The records of her case every_record makes, by kind: each can be flagged.
KINDS = {
    "mother": "mother_id",
    "child": "child_id",
    "court_hearing": "court_hearing_id",
    "proceedings": "proceedings_id",
    "meeting": "meeting_id",
    "contact_visit": "contact_visit_id",
    "parenting_assessment": "parenting_assessment_id",
    "evidence": "evidence_id",
    "communication": "communication_id",
    "review": "review_id",
    "pregnancy": "pregnancy_id",
    "consent": "consent_id",
    "group_attendance": "group_attendance_id",
    "practitioner_link": "link_id",
    "referral": "engaged_referral_id",
}


def test_any_record_of_her_case_can_be_flagged_with_why_who_and_when(
    api: Api, ids: dict[str, str]
) -> None:
    for kind, key in KINDS.items():
        response = raise_flag(api, kind, ids[key], reason=f"Look again at this {kind}: it's odd.")
        assert response.status_code == 201, (kind, response.text)
        flag = response.json()
        assert response.headers["Location"] == f"{FLAGS}/{flag['id']}"
        assert response.headers["ETag"] == f'"{flag["version"]}"'
        assert (flag["mother_id"], flag["resource_type"], flag["resource_id"]) == (
            ids["mother_id"],
            kind,
            ids[key],
        )
        assert flag["raised_by"] == {"name": "ewi_worker", "role": "prison_social_worker"}
        assert flag["raised_by_source"] == "person"
        assert (flag["open"], flag["cleared_at"], flag["cleared_by"]) == (True, None, None)
        assert [row[2:6] for row in trail(api, response)] == [
            ("collect", "review_flag", flag["id"], ids["mother_id"])
        ]
        assert api.get("ewi_worker", f"{FLAGS}/{flag['id']}").json() == flag
    # Her release plan, her support plan, her allocation and a task are hers too.
    plan_id = api.get("admin", f"/v1/mothers/{ids['mother_id']}/release-plan").json()["id"]
    raised(api, "release_plan", plan_id)
    task = api.post(
        "admin",
        "/v1/tasks",
        {"mother_id": ids["mother_id"], "title": "Call her", "due_on": str(TODAY)},
    ).json()
    raised(api, "task", task["id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resource_type": "webhook"}, "resource_type"),  # no record of her case
        ({"resource_type": "group_session"}, "resource_type"),  # other women's too
        ({"resource_id": str(uuid.uuid4())}, "resource_id"),
        ({"resource_type": "court_hearing"}, "resource_id"),  # a child's id, not a hearing's
        ({"resource_id": "sdi_child"}, "resource_id"),  # another prison's woman's child
        ({"resource_id": "unrecorded"}, "resource_id"),  # a referral of no mother's case
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"raised_by_source": "event"}, "raised_by_source"),
    ],
)
def test_a_flag_that_breaks_a_rule_is_refused_and_writes_nothing(
    api: Api, ids: dict[str, str], body: dict[str, Any], field: str
) -> None:
    sdi = api.mother(prison_code="SDI")
    named = {"sdi_child": api.child(sdi["id"])["id"], "unrecorded": ids["unrecorded_referral_id"]}
    sent = {"resource_type": "child", "resource_id": ids["child_id"], "reason": "Why?", **body}
    if body.get("resource_id") in named:
        sent["resource_id"] = named[body["resource_id"]]
    if body == {"resource_id": "unrecorded"}:
        sent["resource_type"] = "referral"
    response = api.post("ewi_worker", FLAGS, sent)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert api.sql("SELECT count(*) FROM review_flag")[0][0] == 0


def test_flags_are_the_prison_sides_alone(api: Api, ids: dict[str, str]) -> None:
    flag = raised(api, "child", ids["child_id"])
    url = f"{FLAGS}/{flag['id']}"
    for who in ("bristol", "bristol_system", "surrey", "ewi_governor", "auditor"):
        assert api.get(who, url).status_code == 403
        assert api.get(who, FLAGS).status_code == 403
        assert raise_flag(api, "child", ids["child_id"], who=who).status_code == 403
        assert api.post(who, f"{url}/clearance", {}, if_match='"1"').status_code == 403
    # Another prison's worker: out of scope, as if there were none.
    assert api.get("sdi_worker", url).status_code == 404
    assert api.get("sdi_worker", FLAGS).json()["items"] == []
    assert api.post("sdi_worker", f"{url}/clearance", {}, if_match='"1"').status_code == 404
    refused = raise_flag(api, "child", ids["child_id"], who="sdi_worker")
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "resource_id"


def test_flags_are_listed_oldest_first_and_filtered(api: Api, ids: dict[str, str]) -> None:
    on_her = raised(api, "mother", ids["mother_id"])
    on_child = raised(api, "child", ids["child_id"])
    cleared = raised(api, "child", ids["child_id"])
    api.post("admin", f"{FLAGS}/{cleared['id']}/clearance", {}, if_match='"1"')
    sdi = api.mother(prison_code="SDI")
    theirs = raised(api, "mother", sdi["id"], who="sdi_worker")

    def listed(who: str = "admin", **params: Any) -> list[str]:
        response = api.get(who, FLAGS, params=params)
        assert response.status_code == 200, response.text
        return [f["id"] for f in response.json()["items"]]

    assert listed() == [on_her["id"], on_child["id"], cleared["id"], theirs["id"]]
    assert listed("ewi_worker") == [on_her["id"], on_child["id"], cleared["id"]]
    assert listed(open="true", prison_code="EWI") == [on_her["id"], on_child["id"]]
    assert listed(open="false") == [cleared["id"]]
    assert listed(resource_type="child") == [on_child["id"], cleared["id"]]
    assert listed(resource_id=ids["mother_id"]) == [on_her["id"]]
    assert listed(mother_id=sdi["id"]) == [theirs["id"]]
    assert listed(prison_code="SDI") == [theirs["id"]]
    first = api.get("admin", FLAGS, params={"limit": 3}).json()
    rest = api.get("admin", FLAGS, params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [f["id"] for f in first["items"] + rest["items"]] == listed()
    assert api.get("admin", FLAGS, params={"resource_type": "webhook"}).status_code == 422


def test_a_flag_is_cleared_once_with_who_when_and_a_note(api: Api, ids: dict[str, str]) -> None:
    flag = raised(api, "court_hearing", ids["court_hearing_id"])
    url = f"{FLAGS}/{flag['id']}/clearance"
    assert api.post("ewi_worker", url, {}).status_code == 428
    assert api.post("ewi_worker", url, {}, if_match='"9"').status_code == 412
    assert api.post("ewi_worker", url, {"note": "\x00"}, if_match='"1"').status_code == 422
    note = {"note": "Checked with the court: the date is right."}
    response = api.post("ewi_worker", url, note, if_match='"1"')
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["open"] is False and done["cleared_at"] is not None
    assert done["cleared_by"] == {"name": "ewi_worker", "role": "prison_social_worker"}
    assert done["clearance_note"] == note["note"]
    assert done["raised_by"]["name"] == "ewi_worker"
    assert response.headers["ETag"] == f'"{done["version"]}"' != '"1"'
    assert [row[2:5] for row in trail(api, response)] == [("alter", "review_flag", flag["id"])]
    again = api.post("admin", url, {}, if_match=f'"{done["version"]}"')
    assert again.status_code == 409, again.text
    assert api.get("admin", f"{FLAGS}/{flag['id']}").json() == done


# The records that show their open flags to the prison side, and where each is read.
SHOWN_ON = {
    "mother": ("/v1/mothers/{mother_id}", "/v1/mothers"),
    "child": ("/v1/children/{child_id}", "/v1/mothers/{mother_id}/children"),
    "court_hearing": ("/v1/court-hearings/{court_hearing_id}", "/v1/court-hearings"),
    "meeting": ("/v1/meetings/{meeting_id}", "/v1/meetings"),
    "contact_visit": ("/v1/contact-visits/{contact_visit_id}", "/v1/contact-visits"),
    "parenting_assessment": (
        "/v1/parenting-assessments/{parenting_assessment_id}",
        "/v1/parenting-assessments",
    ),
    "evidence": ("/v1/evidence/{evidence_id}", "/v1/mothers/{mother_id}/evidence"),
    "release_plan": ("/v1/mothers/{mother_id}/release-plan", None),
}


def test_a_records_open_flags_show_on_it_to_the_prison_side_only(
    api: Api, ids: dict[str, str]
) -> None:
    ids["release_plan_id"] = api.get(
        "admin", f"/v1/mothers/{ids['mother_id']}/release-plan"
    ).json()["id"]
    for kind, (one, many) in SHOWN_ON.items():
        record_id = ids[f"{kind}_id"]
        first = raised(api, kind, record_id, reason="Dates don't match the court's letter.")
        second = raised(api, kind, record_id, who="admin", reason="Ask Zoë.")
        gone = raised(api, kind, record_id)
        api.post("admin", f"{FLAGS}/{gone['id']}/clearance", {}, if_match='"1"')
        expected = [
            {
                "id": flag["id"],
                "reason": flag["reason"],
                "raised_at": flag["raised_at"],
                "raised_by": flag["raised_by"]["name"],
            }
            for flag in (first, second)
        ]
        for who in ("admin", "ewi_worker"):
            shown = api.get(who, one.format(**ids)).json()
            assert shown["flags_for_review"] == expected, (kind, who)
            if many:
                items = api.get(who, many.format(**ids)).json()["items"]
                [item] = [i for i in items if i["id"] == record_id]
                assert item["flags_for_review"] == expected, (kind, who)
        # A local authority never sees one: the field is absent from what it gets.
        for who in ("bristol", "bristol_system"):
            shown = api.get(who, one.format(**ids))
            assert shown.status_code == 200, (kind, shown.text)
            assert "flags_for_review" not in shown.json(), (kind, who)
            if many:
                for item in api.get(who, many.format(**ids)).json()["items"]:
                    assert "flags_for_review" not in item, (kind, who)


def test_a_records_flags_are_read_for_a_whole_page_in_one_statement(api: Api) -> None:
    mothers = [api.mother(last_name=f"Hughes-{n}") for n in range(6)]
    with counting(api) as before:
        api.get("admin", "/v1/mothers?limit=2")
    for mother in mothers:
        raised(api, "mother", mother["id"], who="admin")
    with counting(api) as small:
        api.get("admin", "/v1/mothers?limit=2")
    with counting(api) as large:
        page = api.get("admin", "/v1/mothers?limit=6").json()
    assert all(len(m["flags_for_review"]) == 1 for m in page["items"])
    flag_reads = [s for s in large if "review_flag" in s and "INSERT" not in s]
    assert len(flag_reads) == 1, large
    # The same statements whatever the page's size: with flags shown, at most one more (on
    # PostgreSQL, their audit rows' insert: the page's own rows are written by its read).
    assert len(small) == len(large) <= len(before) + 1


def test_a_flag_shown_on_a_record_is_audited_as_consulted(api: Api, ids: dict[str, str]) -> None:
    flag = raised(api, "evidence", ids["evidence_id"])
    response = api.get("ewi_worker", f"/v1/evidence/{ids['evidence_id']}")
    assert ("consult", "review_flag", flag["id"], ids["mother_id"]) in [
        row[2:6] for row in trail(api, response)
    ]


def test_flags_are_in_her_chronology_and_her_subject_access_export(
    api: Api, ids: dict[str, str]
) -> None:
    mother_id = ids["mother_id"]
    flag = raised(api, "court_hearing", ids["court_hearing_id"], reason="Late notice again.")
    api.post("admin", f"{FLAGS}/{flag['id']}/clearance", {"note": "Raised with the court."}, '"1"')
    events = api.get("ewi_worker", f"/v1/mothers/{mother_id}/chronology").json()["events"]
    shown = [e for e in events if e["kind"] == "review_flag"]
    assert [e["summary"] for e in shown] == [
        "Flagged for review (court hearing) by ewi_worker: Late notice again.",
        "Flag for review cleared (court hearing) by admin",
    ]
    assert {e["resource_id"] for e in shown} == {flag["id"]}
    assert all(e["at"] is not None for e in shown)
    theirs = api.get("bristol", f"/v1/mothers/{mother_id}/chronology").json()["events"]
    assert [e for e in theirs if e["kind"] == "review_flag"] == []
    export = api.get("admin", f"/v1/mothers/{mother_id}/subject-access-export").json()
    [row] = export["records"]["review_flag"]
    assert (row["id"], row["reason"], row["clearance_note"]) == (
        flag["id"],
        "Late notice again.",
        "Raised with the court.",
    )


def test_the_service_raises_flags_itself(api: Api, ids: dict[str, str]) -> None:
    """`raise_flag(source="event")`: what a prison event will do (issue 19)."""
    service = Caller(client_id=uuid.uuid4(), name="prison events", role=Role.admin)

    async def raise_one() -> str:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            flag = await flags.raise_flag(
                session,
                service,
                mother_id=uuid.UUID(ids["mother_id"]),
                record=("mother", uuid.UUID(ids["mother_id"])),
                reason="She was received from court with a new sentence.",
                source=flags.BY_EVENT,
            )
            return str(flag.id)

    flag_id = api.client.portal.call(raise_one)  # type: ignore[union-attr]
    shown = api.get("ewi_worker", f"{FLAGS}/{flag_id}").json()
    assert (shown["raised_by_source"], shown["raised_by"]["name"]) == ("event", "prison events")
    mother = api.get("ewi_worker", f"/v1/mothers/{ids['mother_id']}").json()
    assert [f["id"] for f in mother["flags_for_review"]] == [flag_id]
    assert shown["raised_at"] < str(TODAY + timedelta(days=1))
