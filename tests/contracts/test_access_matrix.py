"""Role x scope x route, built from app.routes: a route added without an entry here fails."""

import re
import uuid
from datetime import timedelta

import pytest

from tests.support import groups
from tests.support.api import CLIENTS, Api
from tests.support.bodies import TODAY, child_body, communication_body
from tests.support.operations import OPERATIONS
from tests.support.world import surrey_system

PRISON_SIDE = {"admin", "ewi_worker", "sdi_worker"}
CASE_READERS = PRISON_SIDE | {"bristol", "bristol_system", "surrey"}
EVERYONE = set(CLIENTS)
# The estate's subject access service calls the subject access routes, and nothing else.
SUBJECT_ACCESS = {"admin", "sar_service"}
# An operator's Prometheus reads /metrics, and nothing else.
MONITORING = {"admin", "monitoring"}
REFERENCE_READERS = EVERYONE - {"sar_service", "monitoring"}
PUBLIC = {  # /docs: the page, not the API
    "GET /health",
    "GET /health/ready",
    "GET /health/liveness",
    "GET /health/readiness",
    "GET /info",
    "GET /docs",
}
WEBHOOK_KEEPERS = {"admin", "bristol_system"}

# Who may use each operation at all (before scope): the contract of section 7.
EXPECTED = {
    "GET /metrics": MONITORING,
    "GET /v1/reference/prisons": REFERENCE_READERS,
    "GET /v1/reference/local-authorities": REFERENCE_READERS,
    "GET /v1/reference/local-authorities/{dfe_number}": REFERENCE_READERS,
    "GET /v1/reference/legal-statuses": REFERENCE_READERS,
    "GET /v1/reference/placement-types": REFERENCE_READERS,
    "GET /v1/reference/cp-plan-categories": REFERENCE_READERS,
    "GET /v1/reference/ethnicities": REFERENCE_READERS,
    "POST /v1/mothers": PRISON_SIDE,
    "GET /v1/mothers": CASE_READERS,
    "GET /v1/mothers/{mother_id}": CASE_READERS,
    "PATCH /v1/mothers/{mother_id}": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/prison-stays": PRISON_SIDE,
    "POST /v1/mothers/{mother_id}/children": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/children": CASE_READERS,
    "GET /v1/children/{child_id}": CASE_READERS,
    "PATCH /v1/children/{child_id}": CASE_READERS,  # the prison side and the child's own LA
    "GET /v1/children/{child_id}/history": CASE_READERS,
    "GET /v1/mothers/{mother_id}/family": CASE_READERS,
    "POST /v1/practitioners": PRISON_SIDE,
    "GET /v1/practitioners": CASE_READERS,
    "GET /v1/practitioners/{practitioner_id}": CASE_READERS,
    "PATCH /v1/practitioners/{practitioner_id}": PRISON_SIDE,
    "POST /v1/mothers/{mother_id}/practitioners": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/practitioners": CASE_READERS,
    "DELETE /v1/practitioner-links/{link_id}": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/release-plan": CASE_READERS,
    "PUT /v1/mothers/{mother_id}/release-plan": PRISON_SIDE,
    "PATCH /v1/mothers/{mother_id}/release-plan": PRISON_SIDE,
    "GET /v1/release-plans/due": PRISON_SIDE,
    "POST /v1/mothers/{mother_id}/communications": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/communications": CASE_READERS,
    "GET /v1/communications/{communication_id}": CASE_READERS,
    "POST /v1/parenting-assessments": PRISON_SIDE,
    "GET /v1/parenting-assessments": CASE_READERS,
    "GET /v1/parenting-assessments/{parenting_assessment_id}": CASE_READERS,
    "PATCH /v1/parenting-assessments/{parenting_assessment_id}": PRISON_SIDE,
    "DELETE /v1/parenting-assessments/{parenting_assessment_id}": PRISON_SIDE,
    "POST /v1/mothers/{mother_id}/evidence": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/evidence": CASE_READERS,
    "GET /v1/evidence/{evidence_id}": CASE_READERS,
    "PATCH /v1/evidence/{evidence_id}": PRISON_SIDE,
    "DELETE /v1/evidence/{evidence_id}": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/evidence-bundle": CASE_READERS,
    # Her support plan: the prison side writes it; an authority reads it only with her consent.
    "GET /v1/mothers/{mother_id}/support-plan": CASE_READERS,
    "PUT /v1/mothers/{mother_id}/support-plan": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/support-plan/history": CASE_READERS,
    "POST /v1/mothers/{mother_id}/support-plan/agreement": PRISON_SIDE,
    # Her consents are the prison side's record: a local authority never sees one.
    "POST /v1/mothers/{mother_id}/consents": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/consents": PRISON_SIDE,
    "GET /v1/consents/{consent_id}": PRISON_SIDE,
    "POST /v1/consents/{consent_id}/withdrawal": PRISON_SIDE,
    # Her reviews: the prison side's to write; read by a local authority under her consent only.
    "POST /v1/mothers/{mother_id}/reviews": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/reviews": CASE_READERS,
    "GET /v1/reviews/{review_id}": CASE_READERS,
    "PATCH /v1/reviews/{review_id}": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/review-schedule": PRISON_SIDE,
    # Her pregnancies: the prison side's record, never an authority's.
    "POST /v1/mothers/{mother_id}/pregnancies": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/pregnancies": PRISON_SIDE,
    "GET /v1/pregnancies/{pregnancy_id}": PRISON_SIDE,
    "PATCH /v1/pregnancies/{pregnancy_id}": PRISON_SIDE,
    # The staff directory: linking a sign-in to an entry is an admin's act; a prison social
    # worker reads her prison's. Allocations and caseloads: the prison side's, never an LA's.
    "POST /v1/staff": {"admin"},
    "GET /v1/staff": PRISON_SIDE,
    "GET /v1/staff/me": PRISON_SIDE,
    "GET /v1/staff/{staff_member_id}": PRISON_SIDE,
    "PATCH /v1/staff/{staff_member_id}": {"admin"},
    "PUT /v1/mothers/{mother_id}/allocation": PRISON_SIDE,
    "POST /v1/mothers/{mother_id}/allocation/end": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/allocations": PRISON_SIDE,
    "GET /v1/caseloads": PRISON_SIDE,
    # Group sessions and their registers: the prison side's (other women attend a session); her
    # own row of a register is read by an authority under her consent, never another woman's.
    "POST /v1/group-sessions": PRISON_SIDE,
    "GET /v1/group-sessions": PRISON_SIDE,
    "GET /v1/group-sessions/{group_session_id}": PRISON_SIDE,
    "PATCH /v1/group-sessions/{group_session_id}": PRISON_SIDE,
    "GET /v1/group-sessions/{group_session_id}/register": PRISON_SIDE,
    "POST /v1/group-sessions/{group_session_id}/attendance": PRISON_SIDE,
    "GET /v1/group-attendances/{group_attendance_id}": CASE_READERS,
    "PATCH /v1/group-attendances/{group_attendance_id}": PRISON_SIDE,
    "DELETE /v1/group-attendances/{group_attendance_id}": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/group-attendance": CASE_READERS,
    "GET /v1/group-follow-ups": PRISON_SIDE,
    # What needs action in a prison: the prison side's (a worker her prison's).
    "GET /v1/worklist": PRISON_SIDE,
    # A local authority records meeting invitations for its own children.
    "POST /v1/meetings": CASE_READERS,
    "GET /v1/meetings": CASE_READERS,
    "GET /v1/meetings/{meeting_id}": CASE_READERS,
    "PATCH /v1/meetings/{meeting_id}": CASE_READERS,
    "POST /v1/meetings/{meeting_id}/status": CASE_READERS,
    "POST /v1/contact-visits": PRISON_SIDE,
    "GET /v1/contact-visits": CASE_READERS,
    "GET /v1/contact-visits/{contact_visit_id}": CASE_READERS,
    "PATCH /v1/contact-visits/{contact_visit_id}": PRISON_SIDE,
    "POST /v1/contact-visits/{contact_visit_id}/status": PRISON_SIDE,
    # Hearings: the prison side, and a local authority for its own children (the service checks).
    "POST /v1/court-hearings": CASE_READERS,
    "GET /v1/court-hearings": CASE_READERS,
    "GET /v1/court-hearings/{court_hearing_id}": CASE_READERS,
    "PATCH /v1/court-hearings/{court_hearing_id}": CASE_READERS,
    # The prison side arranges how she attends, and records whether she did.
    "PUT /v1/court-hearings/{court_hearing_id}/outcome": PRISON_SIDE,
    "POST /v1/court-hearings/{court_hearing_id}/status": CASE_READERS,
    "GET /v1/court-hearings/{court_hearing_id}/amendments": CASE_READERS,
    "POST /v1/proceedings": CASE_READERS,
    "GET /v1/proceedings": CASE_READERS,
    "GET /v1/proceedings/{proceedings_id}": CASE_READERS,
    "PATCH /v1/proceedings/{proceedings_id}": CASE_READERS,
    "POST /v1/proceedings/{proceedings_id}/extensions": CASE_READERS,
    "GET /v1/audit": {"admin", "auditor"},
    # Figures, never a person: a governor (her own prison's) and admins; the evaluators'
    # snapshot across both prisons is an admin's.
    "GET /v1/reports/governor": {"admin", "ewi_governor"},
    "GET /v1/reports/programme": {"admin"},
    "GET /v1/mothers/{mother_id}/chronology": CASE_READERS,
    "GET /v1/mothers/{mother_id}/subject-access-export": SUBJECT_ACCESS,
    "GET /v1/subject-access-export": SUBJECT_ACCESS,
    "GET /subject-access-request": SUBJECT_ACCESS,
    # Referral to engagement: the prison side's record, never an authority's.
    "POST /v1/referrals": PRISON_SIDE,
    "GET /v1/referrals": PRISON_SIDE,
    "GET /v1/referral-funnel": PRISON_SIDE,
    "GET /v1/referrals/{referral_id}": PRISON_SIDE,
    "PATCH /v1/referrals/{referral_id}": PRISON_SIDE,
    "POST /v1/referrals/{referral_id}/decision": PRISON_SIDE,
    "POST /v1/referrals/{referral_id}/support-closure": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/referrals": PRISON_SIDE,
    # A local authority's system, writing its own authority's records (an admin is no authority).
    "PUT /v1/sync/children/{external_id}": {"bristol_system"},
    "POST /v1/sync/children:batch": {"bristol_system"},
    "PUT /v1/sync/court-hearings/{external_id}": {"bristol_system"},
    "PUT /v1/sync/meetings/{external_id}": {"bristol_system"},
    # An authority's own link requests, read by its people and systems (never anything of her).
    "GET /v1/sync/link-requests": {"bristol", "bristol_system", "surrey"},
    "GET /v1/sync/link-requests/{link_request_id}": {"bristol", "bristol_system", "surrey"},
    # Decided by the prison side: her prison's social worker, or an admin.
    "GET /v1/link-requests": PRISON_SIDE,
    "GET /v1/link-requests/{link_request_id}": PRISON_SIDE,
    "POST /v1/link-requests/{link_request_id}/confirm": PRISON_SIDE,
    "POST /v1/link-requests/{link_request_id}/decline": PRISON_SIDE,
    # A local authority's own feed; an admin names the authority (422 without it).
    "GET /v1/sync/changes": {"admin", "bristol", "bristol_system", "surrey"},
    # A local authority's system keeps its webhooks; an admin, any authority's.
    "POST /v1/sync/webhooks": WEBHOOK_KEEPERS,
    "GET /v1/sync/webhooks": WEBHOOK_KEEPERS,
    "GET /v1/sync/webhooks/{webhook_id}": WEBHOOK_KEEPERS,
    "PATCH /v1/sync/webhooks/{webhook_id}": WEBHOOK_KEEPERS,
    "DELETE /v1/sync/webhooks/{webhook_id}": WEBHOOK_KEEPERS,
    "POST /v1/sync/webhooks/{webhook_id}/secret": WEBHOOK_KEEPERS,
    "GET /v1/sync/webhooks/{webhook_id}/deliveries": WEBHOOK_KEEPERS,
    # Services in the community: the prison side keeps the directory; whoever works with her
    # case reads it (a governor or auditor does not).
    "POST /v1/organisations": PRISON_SIDE,
    "GET /v1/organisations": CASE_READERS,
    "GET /v1/organisations/{organisation_id}": CASE_READERS,
    "PATCH /v1/organisations/{organisation_id}": PRISON_SIDE,
    # The costs the programme report estimates with: an administrator's alone.
    "POST /v1/unit-costs": {"admin"},
    "GET /v1/unit-costs": {"admin"},
    "GET /v1/unit-costs/{unit_cost_id}": {"admin"},
    # What a sending prison keeps of a case it transferred out: its own social workers'.
    "GET /v1/transfer-summaries": PRISON_SIDE,
    "GET /v1/transfer-summaries/{transfer_summary_id}": PRISON_SIDE,
    # Tasks and flags for review: the prison side's work on her case, never an authority's.
    "POST /v1/tasks": PRISON_SIDE,
    "GET /v1/tasks": PRISON_SIDE,
    "GET /v1/mothers/{mother_id}/tasks": PRISON_SIDE,
    "GET /v1/tasks/{task_id}": PRISON_SIDE,
    "PATCH /v1/tasks/{task_id}": PRISON_SIDE,
    "POST /v1/flags": PRISON_SIDE,
    "GET /v1/flags": PRISON_SIDE,
    "GET /v1/flags/{flag_id}": PRISON_SIDE,
    "POST /v1/flags/{flag_id}/clearance": PRISON_SIDE,
}


def test_every_route_has_an_entry() -> None:
    assert set(OPERATIONS) - PUBLIC == set(EXPECTED), "add new routes to EXPECTED"


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


@pytest.mark.parametrize("operation", sorted(EXPECTED))
def test_roles(api: Api, operation: str) -> None:
    method, path = operation.split(" ")
    url = fill(path, {"dfe_number": "801"})
    anonymous = api.client.request(method, url, json={})
    assert anonymous.status_code == 401, operation
    for who in CLIENTS:
        response = api.client.request(method, url, json={}, headers=api.headers(who))
        if who in EXPECTED[operation]:
            assert response.status_code not in (401, 403), (operation, who, response.text)
        else:
            assert response.status_code == 403, (operation, who, response.text)
            assert response.headers["content-type"] == "application/problem+json"


@pytest.fixture
def sdi_family(api: Api) -> dict[str, str]:
    """A Send mother whose child belongs to Bristol, with a guardian linked to that child, a
    release plan, a communication about that child, a parenting assessment concerning that
    child and an item of evidence."""
    mother = api.mother(prison_code="SDI")
    child = api.child(mother["id"], local_authority_code="801")
    guardian = api.post(
        "admin",
        "/v1/practitioners",
        {"role": "childrens_guardian", "name": "Ffion Evans", "organisation": "Cafcass"},
    ).json()
    link = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/practitioners",
        {"practitioner_id": guardian["id"], "child_id": child["id"]},
    ).json()
    # Her release plan, with an onward referral to a service in the community.
    service = api.post(
        "admin", "/v1/organisations", {"name": "Pause Bristol", "service_type": "birth_mothers"}
    ).json()
    onward = {"organisation_id": service["id"], "made_on": str(TODAY - timedelta(days=3))}
    plan = {"pathways": {"children_families_community": {"onward_referrals": [onward]}}}
    assert api.put("admin", f"/v1/mothers/{mother['id']}/release-plan", plan).status_code == 201
    unit_cost = api.post(
        "admin",
        "/v1/unit-costs",
        {
            "outcome": "baby_kept",
            "valid_from": "2025-04-01",
            "amount_pence": 100,
            "source": "A test figure.",
        },
    ).json()
    communication = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/communications",
        communication_body(child_ids=[child["id"]]),
    ).json()
    assessment = api.post(
        "admin", "/v1/parenting-assessments", assessment_body(mother["id"], child["id"])
    ).json()
    evidence = api.post("admin", f"/v1/mothers/{mother['id']}/evidence", EVIDENCE).json()
    # Her review and pregnancy: Bristol has a child of hers but no consent of hers.
    review = api.post("admin", f"/v1/mothers/{mother['id']}/reviews", REVIEW).json()
    pregnancy = api.post("admin", f"/v1/mothers/{mother['id']}/pregnancies", PREGNANCY).json()
    meeting = api.post(
        "admin",
        "/v1/meetings",
        {
            "mother_id": mother["id"],
            "child_ids": [child["id"]],
            "meeting_type": "core_group",
            "starts_at": "2026-01-05T10:00:00Z",
            "platform": "zoom",
        },
    ).json()
    visit = api.post(
        "admin",
        "/v1/contact-visits",
        {"mother_id": mother["id"], "child_ids": [child["id"]], "visit_type": "video_call"},
    ).json()
    hearing = api.post(
        "admin",
        "/v1/court-hearings",
        {
            "mother_id": mother["id"],
            "child_ids": [child["id"]],
            "court_name": "Guildford Family Court",
            "hearing_type": "case_management",
            "starts_at": f"{TODAY - timedelta(days=20)}T10:00:00Z",
            "notified_at": f"{TODAY - timedelta(days=30)}T09:00:00Z",
        },
    ).json()
    proceedings = api.post(
        "admin",
        "/v1/proceedings",
        {
            "mother_id": mother["id"],
            "child_ids": [child["id"]],
            "court_name": "Guildford Family Court",
            "issued_on": str(TODAY - timedelta(days=60)),
        },
    ).json()

    # Her support plan, and a consent to share with Bristol she has withdrawn: Bristol has a
    # child of hers but no consent in force, so her plan is out of its scope.
    plan = {
        "areas": [
            {"area": "self_care", "chosen_by_her": True, "goal": "Sleep.", "goal_written_by": "her"}
        ]
    }
    assert api.put("admin", f"/v1/mothers/{mother['id']}/support-plan", plan).status_code == 201
    consent = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/consents",
        {"local_authority_code": "801", "covers_plan": True, "given_on": str(TODAY)},
    ).json()
    withdrawal = {"withdrawn_on": str(TODAY)}
    assert api.post("admin", f"/v1/consents/{consent['id']}/withdrawal", withdrawal).is_success
    worker = api.post(
        "admin", "/v1/staff", {"prison_code": "SDI", "name": "Aoife Ní Bhriain", "role": "advocate"}
    ).json()
    allocation = {"staff_member_id": worker["id"], "allocated_on": str(TODAY)}
    assert api.put("admin", f"/v1/mothers/{mother['id']}/allocation", allocation).is_success
    # A group session in Send she attended: Bristol has a child of hers but not her consent.
    group_session = groups.group_session(api, [worker["id"]], prison_code="SDI")
    attendance = groups.attended(api, group_session, mother["id"], check_in=4, check_out=2)

    # Surrey asking to be linked to her: her prison and Surrey see it, no one else.
    pushed = child_body(mother_prison_number=mother["prison_number"])
    del pushed["local_authority_code"]
    link_request = api.client.put(
        "/v1/sync/children/SU-1", json=pushed, headers=surrey_system(api)
    ).json()
    # Surrey's: Bristol's system is out of its scope.
    webhook = api.post(
        "admin",
        "/v1/sync/webhooks",
        {"url": "https://surrey.example.gov.uk/tac", "local_authority_code": "936"},
    ).json()
    # Her referral, accepted: her record stands behind it.
    referral = api.post(
        "admin",
        "/v1/referrals",
        {
            "received_on": str(TODAY - timedelta(days=30)),
            "prison_code": "SDI",
            "source": "self",
            "prison_number": mother["prison_number"],
            "first_name": "Siân",
            "last_name": "O'Connor",
            "reason": "She asked for help to keep in touch with her son.",
        },
    ).json()
    decided = api.post(
        "admin",
        f"/v1/referrals/{referral['id']}/decision",
        {"decision": "accepted", "decided_on": str(TODAY - timedelta(days=20))},
        if_match='"1"',
    )
    assert decided.status_code == 200, decided.text
    # A woman moved from Eastwood Park to Send: Eastwood Park keeps the summary, Send does not.
    moved = api.mother(prison_code="EWI")
    url = f"/v1/mothers/{moved['id']}"
    assert api.patch("ewi_worker", url, {"prison_code": "SDI"}, if_match='"1"').is_success
    (summary,) = api.get("ewi_worker", "/v1/transfer-summaries").json()["items"]
    task = api.post(
        "admin",
        "/v1/tasks",
        {"mother_id": mother["id"], "title": "Ring Bristol", "due_on": str(TODAY)},
    ).json()
    flag = api.post(
        "admin",
        "/v1/flags",
        {"resource_type": "child", "resource_id": child["id"], "reason": "Check the order."},
    ).json()
    return {
        "transfer_summary_id": summary["id"],
        "task_id": task["id"],
        "flag_id": flag["id"],
        "referral_id": referral["id"],
        "webhook_id": webhook["id"],
        "mother_id": mother["id"],
        "child_id": child["id"],
        "practitioner_id": guardian["id"],
        "link_id": link["id"],
        "communication_id": communication["id"],
        "parenting_assessment_id": assessment["id"],
        "evidence_id": evidence["id"],
        "review_id": review["id"],
        "pregnancy_id": pregnancy["id"],
        "meeting_id": meeting["id"],
        "contact_visit_id": visit["id"],
        "court_hearing_id": hearing["id"],
        "proceedings_id": proceedings["id"],
        "link_request_id": link_request["id"],
        "consent_id": consent["id"],
        "staff_member_id": worker["id"],
        "organisation_id": service["id"],
        "unit_cost_id": unit_cost["id"],
        "group_session_id": group_session["id"],
        "group_attendance_id": attendance["id"],
    }


def test_onward_referrals_follow_her_consent(api: Api, sdi_family: dict[str, str]) -> None:
    """Her release plan is seen by whoever sees her; its onward referrals, by a local authority
    only while she consents to share her plan with it (Bristol's consent was withdrawn)."""
    url = f"/v1/mothers/{sdi_family['mother_id']}/release-plan"
    for who in ("admin", "sdi_worker", "bristol", "bristol_system"):
        response = api.get(who, url)
        assert response.status_code == 200, (who, response.text)
        onward = response.json()["pathways"]["children_families_community"]["onward_referrals"]
        shown = [r["organisation_id"] for r in onward]
        expected = [] if who.startswith("bristol") else [sdi_family["organisation_id"]]
        assert shown == expected, who


EVIDENCE = {"category": "course", "title": "Healthy relationships", "started_on": "2025-10-01"}
SUPPORT_PLAN = {
    "areas": [
        {"area": "self_care", "chosen_by_her": True, "goal": "Eat.", "goal_written_by": "her"}
    ]
}
REVIEW = {"held_on": "2025-12-01", "milestone": "other"}
PREGNANCY = {"known_on": "2025-11-01", "at_referral": True}


def assessment_body(mother_id: str, child_id: str) -> dict:
    return {
        "mother_id": mother_id,
        "child_ids": [child_id],
        "requested_by": "court",
        "requested_on": "2025-10-01",
        "assessor_name": "Bethan Ap Rhys",
        "model": "parent_assess",
    }


def valid_bodies(family: dict[str, str]) -> dict[str, dict]:
    """Bodies that pass validation, so that scope (not the body) decides the answer."""
    return {
        "POST /v1/mothers/{mother_id}/children": child_body(),
        "POST /v1/mothers/{mother_id}/practitioners": {
            "practitioner_id": family["practitioner_id"]
        },
        "POST /v1/mothers/{mother_id}/communications": communication_body(),
        "PUT /v1/mothers/{mother_id}/release-plan": {"accommodation_status": "temporary"},
        "POST /v1/mothers/{mother_id}/evidence": EVIDENCE,
        "POST /v1/mothers/{mother_id}/reviews": REVIEW,
        "POST /v1/mothers/{mother_id}/pregnancies": PREGNANCY,
        "POST /v1/contact-visits/{contact_visit_id}/status": {"status": "approved"},
        "PUT /v1/court-hearings/{court_hearing_id}/outcome": {
            "attended": False,
            "barrier": "late_notice",
        },
        "POST /v1/court-hearings/{court_hearing_id}/status": {
            "status": "vacated",
            "decided_by": "court",
            "reason": "Listed in error.",
        },
        "POST /v1/meetings/{meeting_id}/status": {
            "status": "cancelled",
            "decided_by": "chair",
            "reason": "Not needed.",
        },
        "POST /v1/link-requests/{link_request_id}/decline": {"reason": "Not her child."},
        "POST /v1/referrals/{referral_id}/decision": {
            "decision": "declined",
            "decided_on": str(TODAY),
            "reason": "Already decided: refused for that, not for its scope.",
        },
        "POST /v1/referrals/{referral_id}/support-closure": {
            "closed_on": str(TODAY),
            "reason": "completed",
        },
        "PUT /v1/mothers/{mother_id}/support-plan": {
            "areas": [
                {
                    "area": "self_care",
                    "chosen_by_her": True,
                    "goal": "Eat.",
                    "goal_written_by": "her",
                }
            ]
        },
        "POST /v1/mothers/{mother_id}/support-plan/agreement": {
            "version": 1,
            "agreed_on": str(TODAY),
        },
        "POST /v1/mothers/{mother_id}/consents": {
            "local_authority_code": "801",
            "covers_reviews": True,
            "given_on": str(TODAY),
        },
        "POST /v1/consents/{consent_id}/withdrawal": {"withdrawn_on": str(TODAY)},
        "POST /v1/proceedings/{proceedings_id}/extensions": {
            "weeks": 2,
            "reason": "Parenting assessment in custody not yet complete.",
        },
        "PUT /v1/mothers/{mother_id}/allocation": {
            "staff_member_id": family["staff_member_id"],
            "allocated_on": str(TODAY),
        },
        "POST /v1/mothers/{mother_id}/allocation/end": {"ended_on": str(TODAY)},
        "POST /v1/group-sessions/{group_session_id}/attendance": {
            "mother_id": family["mother_id"],
            "check_in": 3,
        },
        "POST /v1/flags/{flag_id}/clearance": {},
    }


# Which callers must not see the SDI family's records: out of scope reads as 404.
OUT_OF_SCOPE = {
    "mother_id": {"ewi_worker", "surrey"},
    "child_id": {"ewi_worker", "surrey"},
    "link_id": {"ewi_worker", "surrey"},
    "practitioner_id": {"surrey"},  # the prison side shares one directory
    "communication_id": {"ewi_worker", "surrey"},
    "parenting_assessment_id": {"ewi_worker", "surrey"},
    "evidence_id": {"ewi_worker", "surrey"},
    # The programme's own work: Bristol has her child but not her consent.
    "review_id": {"ewi_worker", "surrey", "bristol", "bristol_system"},
    "pregnancy_id": {"ewi_worker", "surrey", "bristol", "bristol_system"},
    "meeting_id": {"ewi_worker", "surrey"},
    "contact_visit_id": {"ewi_worker", "surrey"},
    "court_hearing_id": {"ewi_worker", "surrey"},
    "proceedings_id": {"ewi_worker", "surrey"},
    "external_id": set(),  # each authority's own key space: nothing in it is another's
    "webhook_id": {"bristol_system"},
    # The prison side's routes: another prison's worker; the authority's: another authority.
    "link_request_id": {"ewi_worker", "bristol", "bristol_system"},
    # The programme's record: another prison's worker; an authority, even one with a child of
    # hers, gets 403 on every referral route (never its to see).
    "referral_id": {"ewi_worker", "bristol", "surrey"},
    # The programme's records: the prison side's; her plan an authority's only with her
    # consent, and Bristol's was withdrawn.
    "support_plan": {"ewi_worker", "surrey", "bristol", "bristol_system"},
    "consent_id": {"ewi_worker"},
    "staff_member_id": {"ewi_worker"},  # another prison's directory
    "organisation_id": set(),  # one directory: whoever may read it reads every entry
    "unit_cost_id": set(),
    # Another prison's session; her row, an authority's only with her consent (Bristol has none).
    "group_session_id": {"ewi_worker"},
    "group_attendance_id": {"ewi_worker", "surrey", "bristol", "bristol_system"},
    # The sending prison's: the receiving prison has her case itself.
    "transfer_summary_id": {"sdi_worker"},
    "task_id": {"ewi_worker"},
    "flag_id": {"ewi_worker"},
}
IN_SCOPE = {
    "mother_id": {"admin", "sdi_worker", "bristol", "bristol_system"},
    "child_id": {"admin", "sdi_worker", "bristol", "bristol_system"},
    "link_id": {"admin", "sdi_worker", "bristol", "bristol_system"},
    "practitioner_id": {"admin", "ewi_worker", "sdi_worker", "bristol", "bristol_system"},
    "communication_id": {"admin", "sdi_worker", "bristol", "bristol_system"},
    "parenting_assessment_id": {"admin", "sdi_worker", "bristol", "bristol_system"},
    "evidence_id": {"admin", "sdi_worker", "bristol", "bristol_system"},
    "review_id": {"admin", "sdi_worker"},
    "pregnancy_id": {"admin", "sdi_worker"},
    "meeting_id": {"admin", "sdi_worker", "bristol", "bristol_system"},
    "contact_visit_id": {"admin", "sdi_worker", "bristol", "bristol_system"},
    "court_hearing_id": {"admin", "sdi_worker", "bristol", "bristol_system"},
    "proceedings_id": {"admin", "sdi_worker", "bristol", "bristol_system"},
    "external_id": {"bristol_system"},
    "webhook_id": {"admin"},
    "link_request_id": {"admin", "sdi_worker", "surrey"},
    "referral_id": {"admin", "sdi_worker"},
    "support_plan": {"admin", "sdi_worker"},
    "consent_id": {"admin", "sdi_worker"},
    "staff_member_id": {"admin", "sdi_worker"},
    "organisation_id": {"admin", "ewi_worker", "sdi_worker", "bristol", "bristol_system", "surrey"},
    "unit_cost_id": {"admin"},
    "group_session_id": {"admin", "sdi_worker"},
    "group_attendance_id": {"admin", "sdi_worker"},
    "transfer_summary_id": {"admin", "ewi_worker"},
    "task_id": {"admin", "sdi_worker"},
    "flag_id": {"admin", "sdi_worker"},
}
# Routes under her address whose scope is not hers: her plan is seen as her plan is.
SCOPED_AS = {
    "GET /v1/mothers/{mother_id}/support-plan": "support_plan",
    "GET /v1/mothers/{mother_id}/support-plan/history": "support_plan",
}


@pytest.mark.parametrize(
    "operation",
    sorted(op for op in EXPECTED if re.search(r"{\w+_id}", op)),
)
def test_scope(api: Api, sdi_family: dict[str, str], operation: str) -> None:
    method, path = operation.split(" ")
    named = re.search(r"{(\w+)}", path).group(1)  # type: ignore[union-attr]
    key = SCOPED_AS.get(operation, named)
    url = fill(path, sdi_family)
    callers = EXPECTED[operation] & (OUT_OF_SCOPE[key] | IN_SCOPE[key])
    if method == "DELETE":  # deleting as an in-scope caller would change the next caller's answer
        callers &= OUT_OF_SCOPE[key]
    for who in sorted(callers):
        body = valid_bodies(sdi_family).get(operation, {})
        response = api.client.request(method, url, json=body, headers=api.headers(who))
        if who in OUT_OF_SCOPE[key]:
            assert response.status_code == 404, (operation, who, response.text)
        else:
            assert response.status_code != 404, (operation, who, response.text)
