"""Example calls of every operation, on a world holding one of every kind of record: the
contract tests drive real requests with them (bad input, the audit of every route)."""

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from tests.support.api import Api
from tests.support.bodies import BATCH as BATCH_URL
from tests.support.bodies import TODAY, child_body, communication_body, mother_body, sync_child

BATCH = f"POST {BATCH_URL}"
ALLOCATE = "PUT /v1/mothers/{mother_id}/allocation"


def every_record(api: Api) -> dict[str, str]:
    """One of every kind of record, so that every path names a record that exists and every
    request goes as far as it can."""
    mother = api.mother(prison_code="EWI")
    child = api.child(mother["id"])
    ids = {"mother_id": mother["id"], "child_id": child["id"]}
    ids["prison_number"] = mother["prison_number"]
    synced = api.put(
        "bristol_system", "/v1/sync/children/BR-1", sync_child(mother["prison_number"])
    )
    assert synced.status_code == 200, synced.text  # her child, taken as the authority's BR-1
    for key, (url, body) in creations(ids).items():
        response = api.post("admin", url, body)
        assert response.status_code == 201, (url, response.text)
        ids[key] = response.json()["id"]
    # Her worker signs in as the EWI worker's client ("me"), and has her: an allocation to end.
    (client_id,) = api.sql("SELECT id FROM api_client WHERE name = 'ewi_worker'")
    linked = api.patch(
        "admin",
        f"/v1/staff/{ids['staff_member_id']}",
        {"api_client_id": str(uuid.UUID(str(client_id[0])))},
        if_match='"1"',
    )
    assert linked.status_code == 200, linked.text
    allocated = api.put("admin", f"/v1/mothers/{mother['id']}/allocation", bodies(ids)[ALLOCATE])
    assert allocated.status_code == 200, allocated.text
    # Due for release within the default window: she is on the list of releases due.
    due = {"expected_release_date": str(TODAY + timedelta(days=30))}
    plan = api.put("admin", f"/v1/mothers/{mother['id']}/release-plan", due)
    assert plan.status_code == 201, plan.text
    # Her support plan (a PUT with If-Match replaces it), and her consent to share it.
    support_plan = api.put(
        "admin", f"/v1/mothers/{mother['id']}/support-plan", bodies(ids)[SUPPORT_PLAN_PUT]
    )
    assert support_plan.status_code == 201, support_plan.text
    link = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/practitioners",
        {"practitioner_id": ids["practitioner_id"], "child_id": child["id"]},
    )
    assert link.status_code == 201, link.text
    ids["link_id"] = link.json()["id"]
    # Two pushes for a mother Bristol has no child of: link requests the prison side decides,
    # one to confirm and one to decline.
    other = api.mother(prison_code="EWI")
    for key, external_id in (("link_request_id", "BR-8"), ("declined_link_request_id", "BR-9")):
        held = api.put(
            "bristol_system", f"/v1/sync/children/{external_id}", sync_child(other["prison_number"])
        )
        assert held.status_code == 202, held.text
        ids[key] = held.json()["id"]
    add_referrals(api, ids)
    # A group session her worker facilitated, with her on its register (the other mother is
    # the one a valid body adds to it).
    ids["other_mother_id"] = other["id"]
    session = api.post("admin", "/v1/group-sessions", bodies(ids)["POST /v1/group-sessions"])
    assert session.status_code == 201, session.text
    ids["group_session_id"] = session.json()["id"]
    hers = {"mother_id": mother["id"], "check_in": 4, "check_out": 2}
    row = api.post("admin", f"/v1/group-sessions/{ids['group_session_id']}/attendance", hers)
    assert row.status_code == 201, row.text
    ids["group_attendance_id"] = row.json()["id"]
    # A woman moved from Eastwood Park to Send: what Eastwood Park keeps of her case.
    moved = api.mother(prison_code="EWI")
    url = f"/v1/mothers/{moved['id']}"
    transferred = api.patch("admin", url, {"prison_code": "SDI"}, if_match='"1"')
    assert transferred.status_code == 200, transferred.text
    kept = api.get("admin", "/v1/transfer-summaries", params={"mother_id": moved["id"]})
    ids["transfer_summary_id"] = kept.json()["items"][0]["id"]
    # A task on her case for her worker, and a flag for review on her record.
    for key, url in (("task_id", "/v1/tasks"), ("flag_id", "/v1/flags")):
        made = api.post("admin", url, bodies(ids)[f"POST {url}"])
        assert made.status_code == 201, made.text
        ids[key] = made.json()["id"]
    return ids


# A prison number no mother has: a referral names it, and subject access finds it by it.
UNRECORDED_PRISON_NUMBER = "Z0001SA"


def add_referrals(api: Api, ids: dict[str, str]) -> None:
    """Her referral awaiting a decision (`referral_id`), another of hers with her support open
    (`engaged_referral_id`, for its closure), and one naming a prison number with no record."""
    made = {}
    for key, number in (
        ("referral_id", ids["prison_number"]),
        ("engaged_referral_id", ids["prison_number"]),
        ("unrecorded_referral_id", UNRECORDED_PRISON_NUMBER),
    ):
        response = api.post("admin", "/v1/referrals", referral_body(number))
        assert response.status_code == 201, response.text
        made[key] = ids[key] = response.json()["id"]
    url = f"/v1/referrals/{made['engaged_referral_id']}"
    decided = {"decision": "accepted", "decided_on": str(TODAY)}
    assert api.post("admin", f"{url}/decision", decided, if_match='"1"').status_code == 200
    engaged = {"first_contact_on": str(TODAY), "engaged_on": str(TODAY)}
    assert api.patch("admin", url, engaged, if_match='"2"').status_code == 200


def referral_body(prison_number: str) -> dict[str, Any]:
    return {
        "received_on": str(TODAY - timedelta(days=10)),
        "prison_code": "EWI",
        "source": "health",
        "prison_number": prison_number,
        "first_name": "Siân",
        "last_name": "O'Connor",
        "reason": "The healthcare team asked us to help her keep contact with her son.",
    }


def other_records(operation: str, ids: dict[str, str]) -> dict[str, str]:
    """A record in another state than the path's usual one, for an operation that needs it:
    a request once decided cannot be decided again (the decline is sent for the other one);
    support closes on a referral whose support is open."""
    if operation.endswith("/decline"):
        return {"link_request_id": ids["declined_link_request_id"]}
    if operation.endswith("/support-closure"):
        return {"referral_id": ids["engaged_referral_id"]}
    # A hearing or meeting adjourned is not scheduled any more: its own, so that the others'
    # routes (an outcome, a new date) still find theirs scheduled.
    if operation == "POST /v1/court-hearings/{court_hearing_id}/status":
        return {"court_hearing_id": ids["adjourned_court_hearing_id"]}
    if operation == "POST /v1/meetings/{meeting_id}/status":
        return {"meeting_id": ids["adjourned_meeting_id"]}
    return {}


def creations(ids: dict[str, str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """The records every path can name, in the order they can be made."""
    mother_id, child_id = ids["mother_id"], ids["child_id"]
    return {
        "staff_member_id": ("/v1/staff", bodies(ids)["POST /v1/staff"]),
        "organisation_id": ("/v1/organisations", bodies(ids)["POST /v1/organisations"]),
        # Another date than the body of its POST below: the same outcome and date is a 409.
        "unit_cost_id": ("/v1/unit-costs", UNIT_COST | {"valid_from": "2024-04-01"}),
        "practitioner_id": ("/v1/practitioners", bodies(ids)["POST /v1/practitioners"]),
        "communication_id": (
            f"/v1/mothers/{mother_id}/communications",
            communication_body(child_ids=[child_id]),
        ),
        "parenting_assessment_id": (
            "/v1/parenting-assessments",
            bodies(ids)["POST /v1/parenting-assessments"],
        ),
        "evidence_id": (f"/v1/mothers/{mother_id}/evidence", EVIDENCE),
        "review_id": (f"/v1/mothers/{mother_id}/reviews", REVIEW),
        "pregnancy_id": (f"/v1/mothers/{mother_id}/pregnancies", PREGNANCY),
        "meeting_id": ("/v1/meetings", bodies(ids)["POST /v1/meetings"]),
        "contact_visit_id": ("/v1/contact-visits", bodies(ids)["POST /v1/contact-visits"]),
        "court_hearing_id": ("/v1/court-hearings", bodies(ids)["POST /v1/court-hearings"]),
        "adjourned_court_hearing_id": (
            "/v1/court-hearings",
            bodies(ids)["POST /v1/court-hearings"],
        ),
        "adjourned_meeting_id": ("/v1/meetings", bodies(ids)["POST /v1/meetings"]),
        "proceedings_id": ("/v1/proceedings", bodies(ids)["POST /v1/proceedings"]),
        "webhook_id": ("/v1/sync/webhooks", bodies(ids)["POST /v1/sync/webhooks"]),
        "consent_id": (
            f"/v1/mothers/{mother_id}/consents",
            bodies(ids)["POST /v1/mothers/{mother_id}/consents"],
        ),
    }


EVIDENCE = {"category": "course", "title": "Healthy relationships", "started_on": "2025-10-01"}
SUPPORT_PLAN_PUT = "PUT /v1/mothers/{mother_id}/support-plan"
REVIEW = {
    "held_on": "2025-12-01",
    "milestone": "other",
    "ratings": [{"area": "self_care", "rating": 5}],
}
PREGNANCY = {"known_on": "2025-11-01", "at_referral": True, "due_on": "2026-06-20"}
UNIT_COST = {
    "outcome": "baby_kept",
    "valid_from": "2025-04-01",
    "amount_pence": 7_000_000,
    "source": "Step Together's evaluation: a baby kept rather than taken into care.",
}


def bodies(ids: dict[str, str]) -> dict[str, Any]:
    """A valid body for every operation that needs one (a PATCH changes nothing with `{}`)."""
    mother_id, child_id = ids["mother_id"], ids["child_id"]
    hearing = {
        "mother_id": mother_id,
        "child_ids": [child_id],
        "court_name": "Guildford Family Court",
        "hearing_type": "case_management",
        # Held already: its outcome can be recorded.
        "starts_at": f"{TODAY - timedelta(days=20)}T10:00:00Z",
        "notified_at": f"{TODAY - timedelta(days=30)}T09:00:00Z",
    }
    authority_sends = {
        "mother_prison_number": ids["prison_number"],
        "child_external_ids": ["BR-1"],
        "starts_at": f"{TODAY + timedelta(days=30)}T10:00:00Z",
    }
    return {
        "POST /v1/mothers": mother_body(),
        "POST /v1/mothers/{mother_id}/children": child_body(),
        "POST /v1/practitioners": {
            "role": "childrens_guardian",
            "name": "Ffion Evans",
            "organisation": "Cafcass",
        },
        "POST /v1/mothers/{mother_id}/practitioners": {
            "practitioner_id": ids.get("practitioner_id")
        },
        "PUT /v1/mothers/{mother_id}/release-plan": {
            "accommodation_status": "temporary",
            "pathways": {
                "children_families_community": {
                    "status": "in_progress",
                    "onward_referrals": [
                        {
                            "organisation_id": ids.get("organisation_id", str(uuid.UUID(int=1))),
                            "made_on": str(TODAY - timedelta(days=3)),
                            "accepted_on": str(TODAY),
                            "note": "Her advocate will meet her at the gate.",
                        }
                    ],
                }
            },
        },
        "POST /v1/mothers/{mother_id}/communications": communication_body(),
        "POST /v1/parenting-assessments": {
            "mother_id": mother_id,
            "child_ids": [child_id],
            "requested_by": "court",
            "requested_on": "2025-10-01",
            "assessor_name": "Bethan Ap Rhys",
            "model": "parent_assess",
        },
        "POST /v1/mothers/{mother_id}/evidence": EVIDENCE,
        "POST /v1/mothers/{mother_id}/reviews": REVIEW,
        "POST /v1/mothers/{mother_id}/pregnancies": PREGNANCY,
        "POST /v1/meetings": {
            "mother_id": mother_id,
            "child_ids": [child_id],
            "meeting_type": "core_group",
            "starts_at": f"{TODAY + timedelta(days=10)}T10:00:00Z",
            "platform": "zoom",
        },
        "POST /v1/contact-visits": {
            "mother_id": mother_id,
            "child_ids": [child_id],
            "visit_type": "video_call",
        },
        "POST /v1/contact-visits/{contact_visit_id}/status": {"status": "approved"},
        "POST /v1/court-hearings": hearing,
        "PUT /v1/court-hearings/{court_hearing_id}/outcome": {
            "attended": False,
            "barrier": "late_notice",
        },
        "POST /v1/court-hearings/{court_hearing_id}/status": {
            "status": "adjourned",
            "decided_by": "court",
            "reason": "The expert's report is not ready.",
            "adjourned_to": {"starts_at": f"{TODAY + timedelta(days=40)}T10:00:00Z"},
        },
        "POST /v1/meetings/{meeting_id}/status": {
            "status": "adjourned",
            "decided_by": "chair",
            "reason": "The chair is unwell.",
            "adjourned_to": {"starts_at": f"{TODAY + timedelta(days=20)}T10:00:00Z"},
        },
        "POST /v1/proceedings": {
            "mother_id": mother_id,
            "child_ids": [child_id],
            "court_name": "Guildford Family Court",
            "issued_on": str(TODAY - timedelta(days=60)),
        },
        "POST /v1/proceedings/{proceedings_id}/extensions": {
            "weeks": 2,
            "reason": "Parenting assessment in custody not yet complete.",
        },
        "PUT /v1/sync/children/{external_id}": sync_child(ids["prison_number"]),
        BATCH: {
            "items": [
                {
                    **sync_child(ids["prison_number"]),
                    "external_id": "BR-2",
                }
            ]
        },
        "PUT /v1/sync/court-hearings/{external_id}": {
            **authority_sends,
            "court_name": "Bristol Civil and Family Justice Centre",
            "hearing_type": "issues_resolution",
        },
        "PUT /v1/sync/meetings/{external_id}": {
            **authority_sends,
            "meeting_type": "looked_after_child_review",
            "platform": "microsoft_teams",
        },
        "POST /v1/sync/webhooks": {
            "url": "https://bristol.example.gov.uk/tac",
            "local_authority_code": "801",
        },
        "POST /v1/link-requests/{link_request_id}/confirm": {"reason": "Her son's authority."},
        "POST /v1/link-requests/{link_request_id}/decline": {"reason": "Not her child."},
        "POST /v1/referrals": referral_body(UNRECORDED_PRISON_NUMBER),
        # Her record exists (her prison number): linked, no `mother` needed.
        "POST /v1/referrals/{referral_id}/decision": {
            "decision": "accepted",
            "decided_on": str(TODAY),
        },
        "POST /v1/referrals/{referral_id}/support-closure": {
            "closed_on": str(TODAY),
            "reason": "completed",
        },
        SUPPORT_PLAN_PUT: {
            "areas": [
                {
                    "area": "social_networks",
                    "chosen_by_her": True,
                    "goal": "Join the Sunday knitting group.",
                    "goal_written_by": "her",
                    "rating_at_start": 2,
                }
            ]
        },
        "POST /v1/mothers/{mother_id}/support-plan/agreement": {
            "version": 1,
            "agreed_on": str(TODAY),
        },
        # Her child of every_record's is Bristol's.
        "POST /v1/mothers/{mother_id}/consents": {
            "local_authority_code": "801",
            "covers_plan": True,
            "given_on": str(TODAY),
        },
        "POST /v1/consents/{consent_id}/withdrawal": {"withdrawn_on": str(TODAY)},
        "POST /v1/staff": {
            "prison_code": "EWI",
            "name": "Siân O'Connor",
            "role": "prison_social_worker",
            "email": "sian@tac.example.org",
            "phone": "0117 496 0100",
        },
        ALLOCATE: {
            # Before her worker is entered (and for calls that fail first on her): anyone's id.
            "staff_member_id": ids.get("staff_member_id", str(uuid.UUID(int=1))),
            "allocated_on": str(TODAY),
            "reason": "Her first worker.",
        },
        "POST /v1/mothers/{mother_id}/allocation/end": {
            "ended_on": str(TODAY),
            "reason": "She has moved on.",
        },
        "POST /v1/organisations": {
            "name": "Pause Bristol",
            "service_type": "birth_mothers",
            "area": "Bristol",
            "local_authority_code": "801",
            "email": "hello@pause-bristol.example.org",
            "phone": "0117 496 0200",
            "website": "https://pause-bristol.example.org",
        },
        "POST /v1/unit-costs": UNIT_COST,
        "POST /v1/group-sessions": {
            "prison_code": "EWI",
            "held_on": str(TODAY - timedelta(days=7)),
            "duration_minutes": 120,
            "activity": "Making memory boxes",
            "activity_chosen_by_members": True,
            "facilitator_ids": [ids.get("staff_member_id", str(uuid.UUID(int=1)))],
        },
        "POST /v1/tasks": {
            "mother_id": mother_id,
            "title": "Ask Bristol for the date of the review",
            "detail": "Gwen said she'd confirm by Friday.",
            "owner_id": ids.get("staff_member_id"),
            "due_on": str(TODAY + timedelta(days=3)),
            "resource_type": "child",
            "resource_id": child_id,
        },
        "POST /v1/flags": {
            "resource_type": "mother",
            "resource_id": mother_id,
            "reason": "Her release date doesn't match the last sentence calculation.",
        },
        "POST /v1/flags/{flag_id}/clearance": {"note": "Checked with Bristol: it's right."},
        "POST /v1/group-sessions/{group_session_id}/attendance": {
            "mother_id": ids.get("other_mother_id", mother_id),
            "check_in": 3,
            "check_in_word": "nervous",
            "check_out": 4,
            "check_out_word": "settled",
        },
    }


# Query parameters an operation cannot do without.
REQUIRED_QUERY = {
    "GET /v1/reports/governor": {"from": "2026-01-01", "to": "2026-03-31", "prison_code": "EWI"},
    "GET /v1/sync/changes": {"local_authority": "801"},
    "GET /v1/subject-access-export": {"prison_number": UNRECORDED_PRISON_NUMBER},
    "GET /subject-access-request": {"prn": UNRECORDED_PRISON_NUMBER},
    "GET /v1/worklist": {"prison_code": "EWI"},  # an admin names the prison
}

# Sync writes are an authority's system's alone; everything else, an admin may call.
AUTHORITY_SYSTEM = re.compile(
    r"^((PUT|POST) /v1/sync/(children|court-hearings|meetings)|GET /v1/sync/link-requests)"
)


def caller_of(operation: str) -> str:
    if operation == "GET /v1/staff/me":
        return "ewi_worker"  # her own entry: an admin signs in as no one in the directory
    return "bristol_system" if AUTHORITY_SYSTEM.match(operation) else "admin"


def fill(path: str, ids: dict[str, str], **values: str) -> str:
    known = {"external_id": "BR-1", "dfe_number": "801", **ids, **values}
    return re.sub(r"{(\w+)}", lambda m: quote(known[m.group(1)], safe=""), path)
