"""Subject access: everything held about a mother, from every table of her case, for admin only;
and the metadata check that keeps a new table from being left out of exports and erasure."""

import uuid
from datetime import timedelta
from itertools import count
from typing import Any

from tac_api.db import load_models
from tac_api.subject_access.service import DIRECTORY, NOT_CASE_DATA, SHARED, case_tables
from tests.support import events, groups, world
from tests.support.api import CLIENTS, Api
from tests.support.bodies import TODAY, communication_body
from tests.support.merges import merge
from tests.support.organisations import add_organisation
from tests.support.sql import db_id

_merged = count(1)


def export_url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/subject-access-export"


def test_every_table_is_case_data_or_named_as_not() -> None:
    case = {table.name for table in case_tables()}
    # A table with a foreign key into her case is case data, even if listed as not.
    assert not case & NOT_CASE_DATA, "a table that refers to a mother's case is case data"
    unclassified = set(load_models().tables) - case - NOT_CASE_DATA
    assert not unclassified, (
        f"{sorted(unclassified)}: give it a mother_id or a foreign key towards mother (it is then "
        "exported and erased with her case), or add it to NOT_CASE_DATA"
    )
    assert {"mother", "prison_stay", "child", "practitioner_link"} <= case


def family(api: Api) -> dict[str, Any]:
    """A mother with two children (one placed confidentially, with a carer), a solicitor, a
    carer linked to her case (not to the child: a link can name the wrong person, and the carer
    could still be that child's), a parenting assessment, evidence, proceedings and a hearing,
    and a transfer: two prison stays."""
    made = world.family(
        api,
        {
            "open_child": world.child("Rhys"),
            "hidden": world.child("Nia", placement_confidential=True),
        },
    )
    mother, open_child, hidden = made["mother"], made["open_child"], made["hidden"]
    api.sql(
        "UPDATE child SET carer_name = :name, carer_phone = :phone, carer_address = :address "
        "WHERE id = :id",
        name="Eirlys Price",
        phone="0117 496 0999",
        address="4 Heol y Coed, Pontypridd",
        id=db_id(api, hidden["id"]),
    )
    links = f"/v1/mothers/{mother['id']}/practitioners"
    solicitor = api.post(
        "admin", "/v1/practitioners", {"role": "solicitor", "name": "Máire O'Donnell"}
    ).json()
    carer = api.post("admin", "/v1/practitioners", {"role": "carer", "name": "Eirlys Price"}).json()
    assert api.post("admin", links, {"practitioner_id": solicitor["id"]}).status_code == 201
    linked = api.post("admin", links, {"practitioner_id": carer["id"]})
    assert linked.status_code == 201
    # Her onward referral to a service in the community: the service is in her export too.
    service = add_organisation(api, name="Pause Bristol")
    onward = {"organisation_id": service["id"], "made_on": "2026-01-05"}
    plan = {
        "contact_after_release": [{"child_id": open_child["id"], "arrangement": "Weekly visits."}],
        "actions": [{"description": "Bank account.", "owner": "Siân", "due_on": "2027-01-04"}],
        "pathways": {"children_families_community": {"onward_referrals": [onward]}},
    }
    assert api.put("admin", f"/v1/mothers/{mother['id']}/release-plan", plan).status_code == 201
    relayed = communication_body(child_ids=[open_child["id"]])
    assert (
        api.post("admin", f"/v1/mothers/{mother['id']}/communications", relayed).status_code == 201
    )
    # A carer named in her case, about her other child: still perhaps the hidden child's carer.
    from_carer = communication_body(
        from_party="carer", from_name="Eirlys Price", child_ids=[open_child["id"]]
    )
    carer_relayed = api.post("admin", f"/v1/mothers/{mother['id']}/communications", from_carer)
    assert carer_relayed.status_code == 201
    assessment = {
        "mother_id": mother["id"],
        "child_ids": [open_child["id"], hidden["id"]],
        "requested_by": "court",
        "requested_on": "2025-08-20",
        "assessor_name": "Bethan Ap Rhys",
        "model": "pams",
        "report_shared_with": [{"role": "court", "name": "Cardiff Family Court"}],
    }
    assert api.post("admin", "/v1/parenting-assessments", assessment).status_code == 201
    evidence = {"category": "therapy", "title": "Trauma therapy", "started_on": "2025-06-01"}
    assert api.post("admin", f"/v1/mothers/{mother['id']}/evidence", evidence).status_code == 201
    # Her review (with a rating and her child's social worker's relationship with her) and a
    # pregnancy with its birth.
    social_worker = api.post(
        "admin",
        "/v1/practitioners",
        {"role": "la_social_worker", "name": "Gwen Llewellyn", "local_authority_code": "801"},
    ).json()
    worker_link = {"practitioner_id": social_worker["id"], "child_id": open_child["id"]}
    assert api.post("admin", links, worker_link).status_code == 201
    review = {
        "held_on": "2026-01-10",
        "milestone": "other",
        "ratings": [{"area": "self_care", "rating": 6}],
        "relationships": [{"practitioner_id": social_worker["id"], "status": "improving"}],
    }
    assert api.post("admin", f"/v1/mothers/{mother['id']}/reviews", review).status_code == 201
    pregnancy = {
        "known_on": "2025-07-14",
        "at_referral": False,
        "outcome": "born",
        "ended_on": "2026-03-02",
        "births": [{"born_on": "2026-03-02", "baby_went": "with_family"}],
    }
    made = api.post("admin", f"/v1/mothers/{mother['id']}/pregnancies", pregnancy)
    assert made.status_code == 201, made.text
    meeting = {
        "mother_id": mother["id"],
        "child_ids": [open_child["id"]],
        "meeting_type": "looked_after_child_review",
        "starts_at": "2026-01-05T10:00:00Z",
        "platform": "microsoft_teams",
    }
    assert api.post("admin", "/v1/meetings", meeting).status_code == 201
    visit = {
        "mother_id": mother["id"],
        "child_ids": [open_child["id"]],
        "visit_type": "family_day",
        "escort": {"name": "Eirlys Price", "role": "carer"},
    }
    escorted = api.post("admin", "/v1/contact-visits", visit)
    assert escorted.status_code == 201
    by_worker = visit | {"escort": {"name": "Hélène D'Arcy", "role": "social_worker"}}
    assert api.post("admin", "/v1/contact-visits", by_worker).status_code == 201
    court = {"mother_id": mother["id"], "child_ids": [open_child["id"]], "court_name": "Bath"}
    issued_on = str(TODAY - timedelta(days=90))
    proceedings = api.post("admin", "/v1/proceedings", {**court, "issued_on": issued_on})
    assert proceedings.status_code == 201
    hearing = {"hearing_type": "final", "starts_at": f"{TODAY + timedelta(days=20)}T10:00:00Z"}
    assert api.post("admin", "/v1/court-hearings", {**court, **hearing}).status_code == 201
    referral = {
        "received_on": str(TODAY - timedelta(days=100)),
        "prison_code": "EWI",
        "source": "probation",
        "referred_by_id": solicitor["id"],
        "prison_number": mother["prison_number"],
        "first_name": "Siân",
        "last_name": "O'Connor",
        "reason": "Her probation officer asked us to help with contact.",
    }
    referred = api.post("admin", "/v1/referrals", referral)
    assert referred.status_code == 201
    accepted = {"decision": "accepted", "decided_on": str(TODAY - timedelta(days=90))}
    decision = f"/v1/referrals/{referred.json()['id']}/decision"
    assert api.post("admin", decision, accepted, if_match='"1"').status_code == 200
    # Her support plan (its areas and its first version), and her consent to share it.
    self_care = {
        "area": "self_care",
        "chosen_by_her": True,
        "goal": "Rest.",
        "goal_written_by": "her",
    }
    support_plan = {"areas": [self_care]}
    assert api.put("admin", f"/v1/mothers/{mother['id']}/support-plan", support_plan).is_success
    consent = {"local_authority_code": "801", "covers_plan": True, "given_on": str(TODAY)}
    assert api.post("admin", f"/v1/mothers/{mother['id']}/consents", consent).status_code == 201
    # A group session in Eastwood Park she attended with another woman, and one she did not.
    facilitator_id = groups.facilitator(api)["id"]
    attended = groups.group_session(api, [facilitator_id])
    groups.attended(api, attended, mother["id"], check_in=4, check_out=2)
    other_woman = api.mother()["id"]
    groups.attended(api, attended, other_woman, check_in_word="tired")
    not_hers = groups.group_session(api, [facilitator_id], activity="Yoga")
    groups.attended(api, not_hers, other_woman)
    url = f"/v1/mothers/{mother['id']}"
    etag = api.get("admin", url).headers["ETag"]
    assert api.patch("admin", url, {"prison_code": "SDI"}, if_match=etag).status_code == 200
    # Her worker in Send, who signs in as the Send worker's client: not hers to see.
    (client,) = api.sql("SELECT id FROM api_client WHERE name = 'sdi_worker'")
    body = {"prison_code": "SDI", "name": "Aoife Ní Bhriain", "role": "advocate"}
    worker = api.post(
        "admin", "/v1/staff", body | {"api_client_id": str(uuid.UUID(str(client[0])))}
    )
    assert worker.status_code == 201, worker.text
    allocation = {"staff_member_id": worker.json()["id"], "allocated_on": str(TODAY)}
    assert api.put("admin", f"/v1/mothers/{mother['id']}/allocation", allocation).is_success
    # Her record flagged for review (her register row made her a follow-up task).
    flag = {"resource_type": "mother", "resource_id": mother["id"], "reason": "Check her dates."}
    assert api.post("admin", "/v1/flags", flag).status_code == 201
    # A prison number NOMIS merged into hers: her alias, part of her case.
    assert merge(api, mother["prison_number"], f"M{next(_merged):04d}MG") is not None
    # A prison event about her, kept in her case (prison_event).
    update = events.updated(mother["prison_number"], ["PERSONAL_DETAILS"], f"{TODAY}T09:00:00Z")
    assert events.deliver(api, update) == "applied"
    return {
        "worker": worker.json(),
        "mother": mother,
        "open_child": open_child,
        "hidden": hidden,
        "solicitor": solicitor,
        "carer": carer,
        "social_worker": social_worker,
        "escorted": escorted.json(),
        "carer_relayed": carer_relayed.json(),
        "group_session": attended,
    }


def test_export_holds_everything_about_her(api: Api) -> None:
    f = family(api)
    mother_id = f["mother"]["id"]
    someone_else = api.mother(prison_code="SDI")
    api.child(someone_else["id"], first_name="Osian")
    assert api.get("sdi_worker", f"/v1/mothers/{mother_id}").status_code == 200  # a consultation

    response = api.get("admin", export_url(mother_id))
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        f'attachment; filename="subject-access-{mother_id}.json"'
    )
    export = response.json()
    assert export["subject"] == {
        "mother_id": mother_id,
        "prison_number": f["mother"]["prison_number"],
    }
    records = export["records"]
    assert set(records) == {table.name for table in case_tables()} | DIRECTORY | SHARED
    # Every row of her case, in every table, and nobody else's.
    for table in case_tables():
        column = "id" if table.name == "mother" else "mother_id"
        if column in table.c:
            held = api.sql(
                f"SELECT count(*) FROM {table.name} WHERE {column} = :id", id=db_id(api, mother_id)
            )[0][0]
            assert len(records[table.name]) == held > 0, table.name
    assert [m["id"] for m in records["mother"]] == [mother_id]
    # Her row of a register, and the session it is of: not the other woman's row, nor a
    # session she did not attend.
    (her_row,) = records["group_attendance"]
    assert (her_row["check_in"], her_row["check_out"]) == (4, 2)
    assert [s["id"] for s in records["group_session"]] == [f["group_session"]["id"]]
    assert "tired" not in response.text and "Yoga" not in response.text
    assert records["mother"][0]["first_name"] == "Siân"
    assert records["mother"][0]["date_of_birth"] == "1990-04-12"
    assert [s["prison_code"] for s in records["prison_stay"]].count("SDI") == 1
    assert len(records["prison_stay"]) == 2
    assert {c["id"] for c in records["child"]} == {f["open_child"]["id"], f["hidden"]["id"]}
    assert len(records["practitioner_link"]) == 3
    assert {p["id"] for p in records["practitioner"]} == {
        f["solicitor"]["id"],
        f["carer"]["id"],
        f["social_worker"]["id"],
    }
    # Her worker, through her allocation; how the worker signs in is the worker's, withheld.
    assert [s["id"] for s in records["staff_member"]] == [f["worker"]["id"]]
    assert "signs_in_as" not in records["staff_member"][0]

    # The confidential placement, and the carer behind it, are withheld, and the export says so.
    hidden = next(c for c in records["child"] if c["id"] == f["hidden"]["id"])
    for field in ("carer_name", "carer_phone", "carer_address", "lives_with", "placement_type"):
        assert field not in hidden
    open_child = next(c for c in records["child"] if c["id"] == f["open_child"]["id"])
    assert open_child["lives_with"] == "foster_carer" and "carer_name" in open_child
    carer = next(p for p in records["practitioner"] if p["id"] == f["carer"]["id"])
    assert "name" not in carer
    assert "Eirlys" not in response.text and "Heol y Coed" not in response.text
    # So is every carer named in her case: escorting, or on either side of a communication.
    escorted = next(v for v in records["contact_visit"] if v["id"] == f["escorted"]["id"])
    assert "escort_name" not in escorted and escorted["escort_role"] == "carer"
    by_worker = next(v for v in records["contact_visit"] if v["id"] != f["escorted"]["id"])
    assert by_worker["escort_name"] == "Hélène D'Arcy"
    relayed = next(c for c in records["communication"] if c["id"] == f["carer_relayed"]["id"])
    assert "from_name" not in relayed and relayed["from_party"] == "carer"
    assert "to_name" in relayed  # she is not a carer
    other = next(c for c in records["communication"] if c["id"] != f["carer_relayed"]["id"])
    assert other["from_name"] == "Gwen Llewellyn"
    withheld = {(w["table"], w["record_id"]): w for w in export["withheld"]}
    # The hidden child's history: the placement as first recorded, withheld like the record.
    (recorded,) = [e for e in records["child_history"] if e["child_id"] == f["hidden"]["id"]]
    assert "lives_with" not in {change["field"] for change in recorded["changes"]}
    assert "changes.lives_with" in withheld[("child_history", recorded["id"])]["fields"]
    assert set(withheld) == {
        ("child", f["hidden"]["id"]),
        ("child_history", recorded["id"]),
        ("practitioner", f["carer"]["id"]),
        ("contact_visit", f["escorted"]["id"]),
        ("communication", f["carer_relayed"]["id"]),
        ("staff_member", f["worker"]["id"]),
    }
    assert "carer_address" in withheld[("child", f["hidden"]["id"])]["fields"]
    assert withheld[("contact_visit", f["escorted"]["id"])]["fields"] == ["escort_name"]
    assert withheld[("communication", f["carer_relayed"]["id"])]["fields"] == ["from_name"]
    assert all(w["reason"] for w in export["withheld"])

    # Who did what with her records: the recipients are part of the answer.
    trail = export["audit_trail"]
    assert all(e["subject_id"] == mother_id or e["resource_id"] == mother_id for e in trail)
    assert any(e["client_name"] == "sdi_worker" and e["action"] == "consult" for e in trail)
    assert any(e["action"] == "collect" and e["resource_type"] == "child" for e in trail)

    # The export is itself a disclosure, of her record and of each child's.
    disclosed = api.sql(
        "SELECT resource_type, resource_id, client_name FROM audit_event "
        "WHERE subject_id = :id AND action = 'disclose'",
        id=db_id(api, mother_id),
    )
    assert sorted((row[0], str(uuid.UUID(str(row[1]))), row[2]) for row in disclosed) == sorted(
        [
            ("mother", mother_id, "admin"),
            ("child", f["open_child"]["id"], "admin"),
            ("child", f["hidden"]["id"], "admin"),
        ]
    )


def test_only_admin_may_export(api: Api) -> None:
    mother = api.mother()
    for who in set(CLIENTS) - {"admin"}:
        response = api.get(who, export_url(mother["id"]))
        assert response.status_code == 403, who
        assert response.headers["content-type"] == "application/problem+json"


def test_unknown_mother_is_404(api: Api) -> None:
    missing = str(uuid.uuid4())
    response = api.get("admin", export_url(missing))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    failed = api.sql(
        "SELECT action, outcome FROM audit_event WHERE subject_id = :id", id=db_id(api, missing)
    )
    assert [tuple(row) for row in failed] == [("disclose", "not_found")]


def test_closing_dates_her_case_and_reopening_clears_it(api: Api) -> None:
    mother = api.mother()
    assert mother["closed_on"] is None
    url = f"/v1/mothers/{mother['id']}"
    closed = api.patch("admin", url, {"status": "closed"}, if_match='"1"').json()
    assert closed["closed_on"] is not None
    assert api.patch("admin", url, {"closed_on": None}, if_match='"2"').status_code == 422
    reopened = api.patch("admin", url, {"status": "active"}, if_match='"2"').json()
    assert reopened["closed_on"] is None
    assert api.mother(status="closed")["closed_on"] is not None
