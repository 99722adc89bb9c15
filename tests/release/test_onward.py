"""Onward referral at release: the children, families and community pathway holds her onward
referrals to services in the community (made, accepted or declined, first contact after
release), replaced as a list like the plan's actions; the pathway is not complete until one is
accepted (the gate must not be another end), in the plan and in the releases due alike; a local
authority reads them only with her consent to share her plan; the change feed never carries
them."""

import json
import uuid
from typing import Any

import pytest

from tac_api.demo import load_demo_data
from tests.support.api import Api
from tests.support.bodies import TODAY
from tests.support.organisations import ORGANISATIONS
from tests.support.plans import give_consent, withdraw_consent
from tests.support.release import (
    a_service,
    as_sent,
    complete_plan,
    days,
    onward_referral,
    release_plan_url,
)

COMMUNITY = "children_families_community"


def community(plan: dict[str, Any]) -> dict[str, Any]:
    return plan["pathways"][COMMUNITY]


def referrals_of(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return community(plan)["onward_referrals"]


def with_referrals(status: str, *referrals: dict[str, Any]) -> dict[str, Any]:
    return {"pathways": {COMMUNITY: {"status": status, "onward_referrals": list(referrals)}}}


def complete_with(api: Api, status: str, *referrals: dict[str, Any]) -> dict[str, Any]:
    """A complete plan but for its children, families and community pathway."""
    body = complete_plan(api)
    body["pathways"] = body["pathways"] | with_referrals(status, *referrals)["pathways"]
    return body


def put(api: Api, mother_id: str, body: dict[str, Any], **conditions: str) -> Any:
    return api.put("admin", release_plan_url(mother_id), body, **conditions)


def onward_rows(api: Api) -> int:
    return api.sql("SELECT count(*) FROM onward_referral")[0][0]


def test_held_in_the_pathway_and_replaced_like_actions(api: Api) -> None:
    mother = api.mother()
    pause, believe = a_service(api, "Pause Bristol"), a_service(api, "Believe")
    declined = onward_referral(
        api, organisation_id=believe, made_on=days(-30), accepted_on=None, declined_on=days(-25)
    )
    accepted = onward_referral(api, organisation_id=pause, note="  Weekly, from release day. ")
    body = complete_with(api, "complete", accepted, declined)
    response = put(api, mother["id"], body)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["complete"] is True and plan["missing"] == []
    first, second = referrals_of(plan)  # by the day made
    assert second == {
        "id": second["id"],
        "organisation_id": pause,
        "organisation_name": "Pause Bristol",
        "made_on": days(-20),
        "accepted_on": days(-5),
        "declined_on": None,
        "first_contact_on": None,
        "note": "Weekly, from release day.",
    }
    assert (first["organisation_name"], first["declined_on"]) == ("Believe", days(-25))
    assert api.get("ewi_worker", release_plan_url(mother["id"])).json() == plan

    # A PATCH leaving them out keeps them; one changing the pathway's status alone too.
    url = release_plan_url(mother["id"])
    status_only = {"pathways": {COMMUNITY: {"note": "Family group conference held."}}}
    noted = api.patch("admin", url, status_only, if_match='"1"').json()
    assert referrals_of(noted) == referrals_of(plan) and noted["version"] == 2
    # Sent, the list replaces the one held: kept by id (and changed), left out removed.
    kept = as_sent(second) | {"note": "Her worker is Ffion."}
    changed = api.patch(
        "admin", url, {"pathways": {COMMUNITY: {"onward_referrals": [kept]}}}, if_match='"2"'
    )
    assert changed.status_code == 200, changed.text
    assert [(r["id"], r["note"]) for r in referrals_of(changed.json())] == [
        (second["id"], "Her worker is Ffion.")
    ]
    assert changed.json()["version"] == 3 and onward_rows(api) == 1
    # The same list again changes nothing: the version is kept.
    again = api.patch(
        "admin", url, {"pathways": {COMMUNITY: {"onward_referrals": [kept]}}}, if_match='"3"'
    )
    assert again.json()["version"] == 3
    # A whole plan sent without them has none (a PUT replaces the plan whole).
    replaced = put(api, mother["id"], complete_plan(api) | {"pathways": {}}, if_match='"3"')
    assert referrals_of(replaced.json()) == [] and onward_rows(api) == 0
    # Nor can a PATCH clear the list with null: an empty list does.
    cleared = api.patch(
        "admin", url, {"pathways": {COMMUNITY: {"onward_referrals": None}}}, if_match='"4"'
    )
    assert cleared.status_code == 422


def test_complete_only_with_an_onward_referral_accepted(api: Api) -> None:
    """The gate must not be another end: the pathway marked complete holds an accepted
    referral, or the plan is not complete; the releases due count it as outstanding alike."""
    cases: dict[str, dict[str, Any]] = {
        "none": {"status": "complete"},
        "declined": {
            "status": "complete",
            "referrals": [onward_referral(api, accepted_on=None, declined_on=days(-1))],
        },
        "awaiting": {"status": "complete", "referrals": [onward_referral(api, accepted_on=None)]},
        "accepted": {"status": "complete", "referrals": [onward_referral(api)]},
        "not_needed": {"status": "not_needed"},
        "in_progress": {"status": "in_progress", "referrals": [onward_referral(api)]},
    }
    plans = {}
    for n, (name, change) in enumerate(cases.items()):
        mother = api.mother(earliest_release_date=days(30 + n))
        body = complete_with(api, change["status"], *change.get("referrals", []))
        response = put(api, mother["id"], body)
        assert response.status_code == 201, response.text
        plans[name] = response.json()
    missing = {name: [m["field"] for m in plan["missing"]] for name, plan in plans.items()}
    assert missing == {
        "none": [f"pathways.{COMMUNITY}"],
        "declined": [f"pathways.{COMMUNITY}"],
        "awaiting": [f"pathways.{COMMUNITY}"],
        "accepted": [],
        "not_needed": [],
        "in_progress": [f"pathways.{COMMUNITY}"],
    }
    assert "no onward referral is accepted" in plans["none"]["missing"][0]["message"]

    # The releases due (`due.plan_gaps`, in SQL) agree with `missing`, plan by plan.
    due = api.get("admin", "/v1/release-plans/due", params={"within_days": 400}).json()
    outstanding = {i["release_plan_id"]: i["pathways_outstanding"] for i in due["items"]}
    for plan in plans.values():
        gaps = [m for m in plan["missing"] if m["field"].startswith("pathways.")]
        if plan["complete"]:
            assert plan["id"] not in outstanding
        else:
            assert outstanding[plan["id"]] == len(gaps)

    # Accepting the referral (kept by its id) completes the plan; the list falls due no more.
    url = release_plan_url(plans["awaiting"]["mother_id"])
    [awaiting] = referrals_of(plans["awaiting"])
    accept = as_sent(awaiting) | {"accepted_on": str(TODAY)}
    done = api.patch("admin", url, {"pathways": {COMMUNITY: {"onward_referrals": [accept]}}}, '"1"')
    assert done.json()["complete"] is True
    due = api.get("admin", "/v1/release-plans/due", params={"within_days": 400}).json()
    assert plans["awaiting"]["id"] not in {i["release_plan_id"] for i in due["items"]}


def referral_problem(api: Api, mother_id: str, referral: dict[str, Any]) -> list[str]:
    response = put(api, mother_id, with_referrals("in_progress", referral))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


ONWARD = f"pathways.{COMMUNITY}.onward_referrals.0"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"made_on": days(1), "accepted_on": None}, "made_on"),
        ({"accepted_on": days(1)}, "accepted_on"),
        ({"accepted_on": None, "declined_on": days(1)}, "declined_on"),
        ({"made_on": "1850-01-01"}, "made_on"),
        ({"declined_on": days(-4)}, "declined_on"),  # accepted and declined
        ({"accepted_on": days(-21)}, "accepted_on"),  # before made
        ({"accepted_on": None, "declined_on": days(-21)}, "declined_on"),
        ({"accepted_on": None, "first_contact_on": days(-1)}, "first_contact_on"),
        ({"first_contact_on": days(-6)}, "first_contact_on"),  # before accepted
        ({"first_contact_on": days(-1)}, "first_contact_on"),  # she is still held
        ({"organisation_id": "00000000-0000-4000-8000-000000000000"}, "organisation_id"),
        ({"id": "00000000-0000-4000-8000-000000000000"}, "id"),
        ({"made_on": "2026-13-01"}, "made_on"),
        ({"made_on": f"{TODAY}T00:00:00"}, "made_on"),
        ({"note": "x" * 2001}, "note"),
        ({"note": "Pause\x00"}, "note"),
        ({"organisation_id": "Pause"}, "organisation_id"),
        ({"outcome": "accepted"}, "outcome"),
    ],
)
def test_rules_refuse_bad_referrals_and_write_nothing(
    api: Api, change: dict[str, Any], field: str
) -> None:
    mother = api.mother()
    fields = referral_problem(api, mother["id"], onward_referral(api) | change)
    assert f"{ONWARD}.{field}" in fields, fields
    assert api.sql("SELECT count(*) FROM release_plan")[0][0] == 0 and onward_rows(api) == 0


def test_a_referral_id_twice_and_too_many(api: Api) -> None:
    mother = api.mother()
    plan = put(api, mother["id"], with_referrals("in_progress", onward_referral(api))).json()
    [held] = referrals_of(plan)
    twice = with_referrals("in_progress", as_sent(held), as_sent(held))
    response = put(api, mother["id"], twice, if_match='"1"')
    assert response.status_code == 422
    assert f"pathways.{COMMUNITY}.onward_referrals.1.id" in [
        e["field"] for e in response.json()["errors"]
    ]
    many = with_referrals("in_progress", *[onward_referral(api)] * 31)
    assert put(api, mother["id"], many, if_match='"1"').status_code == 422
    assert onward_rows(api) == 1


def test_a_closed_service_takes_no_new_referral(api: Api) -> None:
    mother = api.mother()
    service = a_service(api, "Mum's Supportive (Southwark)")
    made = put(
        api,
        mother["id"],
        with_referrals("in_progress", onward_referral(api, organisation_id=service)),
    ).json()
    [held] = referrals_of(made)  # made 20 days ago
    closing = api.patch("admin", f"{ORGANISATIONS}/{service}", {"closed_on": days(-10)}, '"1"')
    assert closing.status_code == 200
    url = release_plan_url(mother["id"])
    # The referral it took before it closed is kept, and can still change.
    kept = as_sent(held) | {"note": "Still seeing her."}
    ok = api.patch("admin", url, {"pathways": {COMMUNITY: {"onward_referrals": [kept]}}}, '"1"')
    assert ok.status_code == 200, ok.text
    # One made before the day it closed is fine; one made on or after that day is not.
    before = onward_referral(api, organisation_id=service, made_on=days(-11), accepted_on=None)
    on_the_day = before | {"made_on": days(-10)}
    for referral, status in ((on_the_day, 422), (before, 200)):
        change = {"pathways": {COMMUNITY: {"onward_referrals": [kept, referral]}}}
        response = api.patch("admin", url, change, '"2"')
        assert response.status_code == status, response.text
    assert "closed on" in json.dumps(
        api.patch(
            "admin",
            url,
            {"pathways": {COMMUNITY: {"onward_referrals": [on_the_day]}}},
            '"3"',
        ).json()["errors"]
    )
    # Moving a kept referral to another day is a new referral to it: the rule applies.
    [first, _] = sorted(referrals_of(api.get("admin", url).json()), key=lambda r: r["made_on"])
    moved = as_sent(first) | {"made_on": days(-1), "accepted_on": None}
    response = api.patch(
        "admin", url, {"pathways": {COMMUNITY: {"onward_referrals": [moved]}}}, '"3"'
    )
    assert response.status_code == 422


def test_first_contact_after_her_release(api: Api) -> None:
    """After release: her status released (or her case closed), and on or after her release
    date, the plan's expected date or else her earliest release date."""
    mother = api.mother(reception_date="2025-01-06", earliest_release_date=days(-3))
    url = release_plan_url(mother["id"])
    referral = onward_referral(api, made_on=days(-30), accepted_on=days(-10))
    plan = put(api, mother["id"], with_referrals("complete", referral)).json()
    [held] = referrals_of(plan)

    def first_contact(on: str, version: str) -> Any:
        referrals = [as_sent(held) | {"first_contact_on": on}]
        return api.patch(
            "admin", url, {"pathways": {COMMUNITY: {"onward_referrals": referrals}}}, version
        )

    # Still held (status active): no first contact after release yet.
    assert first_contact(days(-2), '"1"').status_code == 422
    mother_url = f"/v1/mothers/{mother['id']}"
    assert api.patch("admin", mother_url, {"status": "released"}, '"1"').status_code == 200
    # Before her release date (her earliest release date: the plan has none).
    refused = first_contact(days(-4), '"1"')
    assert refused.status_code == 422
    assert "not before" in refused.json()["errors"][0]["message"]
    # The plan's expected date, when it has one, is her release date.
    dated = api.patch("admin", url, {"expected_release_date": days(-5)}, '"1"')
    assert dated.status_code == 200
    recorded = first_contact(days(-4), '"2"')
    assert recorded.status_code == 200, recorded.text
    assert referrals_of(recorded.json())[0]["first_contact_on"] == days(-4)
    # On the day of release counts: met at the gate.
    at_the_gate = first_contact(days(-5), '"3"')
    assert at_the_gate.status_code == 200, at_the_gate.text


def test_a_local_authority_reads_them_only_with_her_consent(api: Api) -> None:
    """Without her consent an authority sees none, and the plan's `complete` and `missing` are
    worked out for it without the continuity rule: they must not tell it whether a service
    accepted her. With her consent it gets the full rule, as the prison side does."""
    mother = api.mother()
    api.child(mother["id"], local_authority_code="801")
    api.child(mother["id"], local_authority_code="936")
    awaiting = onward_referral(api, accepted_on=None)
    plan = put(api, mother["id"], complete_with(api, "complete", awaiting)).json()
    url = release_plan_url(mother["id"])
    assert len(referrals_of(plan)) == 1
    # The prison side: not complete, no onward referral accepted.
    assert plan["complete"] is False
    assert [m["field"] for m in plan["missing"]] == [f"pathways.{COMMUNITY}"]
    assert api.get("ewi_worker", url).json()["complete"] is False

    def seen_by(who: str) -> dict[str, Any]:
        response = api.get(who, url)
        assert response.status_code == 200, response.text
        return response.json()

    def hidden(who: str) -> None:
        shown = seen_by(who)
        assert referrals_of(shown) == []
        # As if the pathway asked for no onward referral.
        assert shown["complete"] is True and shown["missing"] == [], shown

    for who in ("bristol", "bristol_system", "surrey"):
        hidden(who)
    # Consent to share her reviews only is not consent to share her plan.
    assert give_consent(api, mother["id"], "936", reviews=True).status_code == 201
    hidden("surrey")
    consent = give_consent(api, mother["id"], "801", plan=True).json()
    for who in ("bristol", "bristol_system"):
        shown = seen_by(who)
        assert referrals_of(shown) == referrals_of(plan)
        assert (shown["complete"], shown["missing"]) == (False, plan["missing"])
    hidden("surrey")  # her consent to share it names Bristol
    assert withdraw_consent(api, consent["id"]).status_code == 200
    hidden("bristol")


def test_without_consent_an_acceptance_tells_an_authority_nothing(api: Api) -> None:
    """The review's reproduction: Bristol, without her consent, read the plan not complete
    (`missing` naming the pathway); an admin recorded only the referral's `accepted_on`; Bristol
    then read it complete, and its change feed (and webhooks, from the same outbox) carried
    `release-plan.updated {"changed": [], "complete": true}`. Now neither its read nor its feed
    moves: what it sees does not depend on her onward referrals."""
    mother = api.mother()
    api.child(mother["id"], local_authority_code="801")
    url = release_plan_url(mother["id"])
    awaiting = onward_referral(api, accepted_on=None)
    created = put(api, mother["id"], complete_with(api, "complete", awaiting))
    assert created.status_code == 201, created.text
    before = api.get("bristol", url).json()
    assert (before["complete"], before["missing"]) == (True, [])
    fed_before = api.get("bristol_system", "/v1/sync/changes").json()["items"]
    assert [e["type"] for e in fed_before] == [
        "release-plan.created",
        "mother.release-date-changed",
    ]
    assert fed_before[0]["data"]["complete"] is True  # without the continuity rule

    [held] = referrals_of(created.json())
    accept = {
        "pathways": {COMMUNITY: {"onward_referrals": [as_sent(held) | {"accepted_on": days(-1)}]}}
    }
    accepted = api.patch("admin", url, accept, if_match='"1"')
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["complete"] is True  # the prison side: the full rule

    after = api.get("bristol", url).json()
    assert (after["complete"], after["missing"]) == (before["complete"], before["missing"])
    fed_after = api.get("bristol_system", "/v1/sync/changes").json()["items"]
    assert fed_after == fed_before
    assert api.sql("SELECT count(*) FROM change_event")[0][0] == len(fed_before)

    # A change the feed carries is still told, its `complete` without the continuity rule: the
    # pathway back in progress is what makes it false.
    back = {"pathways": {COMMUNITY: {"status": "in_progress"}}}
    assert api.patch("admin", url, back, if_match='"2"').status_code == 200
    [updated] = api.get("bristol_system", "/v1/sync/changes").json()["items"][len(fed_before) :]
    assert updated["type"] == "release-plan.updated"
    assert (updated["data"]["changed"], updated["data"]["complete"]) == ([], False)


def test_the_change_feed_does_not_carry_them(api: Api) -> None:
    """Not in its events, and a change to them alone sends none: nothing the feed carries
    changed (and the event's `complete` does not ask for them)."""
    mother = api.mother()
    api.child(mother["id"], local_authority_code="801")
    give_consent(api, mother["id"], "801", plan=True)
    plan = put(api, mother["id"], complete_plan(api)).json()
    url = release_plan_url(mother["id"])
    [held] = referrals_of(plan)
    change = {"pathways": {COMMUNITY: {"onward_referrals": [as_sent(held) | {"note": "New."}]}}}
    assert api.patch("admin", url, change, '"1"').status_code == 200
    removed = {"pathways": {COMMUNITY: {"onward_referrals": []}}}
    assert api.patch("admin", url, removed, '"2"').json()["complete"] is False
    # A change the feed carries, made with one to them, is told; not what they are.
    both = {
        "accommodation_status": "temporary",
        "pathways": {COMMUNITY: {"onward_referrals": [onward_referral(api)]}},
    }
    assert api.patch("admin", url, both, '"3"').status_code == 200
    rows = api.sql("SELECT event_type, data FROM change_event ORDER BY position")
    assert [row[0] for row in rows] == [
        "release-plan.created",
        "mother.release-date-changed",
        "release-plan.updated",
    ]
    for _, data in rows:
        text = data if isinstance(data, str) else json.dumps(data)
        assert "onward" not in text and held["organisation_id"] not in text
        assert "Pause" not in text and "New." not in text


def test_the_demo_plans_refer_on_and_keep_the_rules(api: Api) -> None:
    async def load(seed: int) -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            await load_demo_data(session, mothers=40, seed=seed)

    api.client.portal.call(load, 5)  # type: ignore[union-attr]
    services = {row[0] for row in api.sql("SELECT name FROM organisation")}
    assert {"Pause Bristol", "Step Together", "Believe (Motherwell Cheshire)"} <= services
    assert "Mum's Supportive" in services
    referrals = api.sql(
        "SELECT r.made_on, r.accepted_on, r.declined_on, o.closed_on "
        "FROM onward_referral r JOIN organisation o ON o.id = r.organisation_id"
    )
    assert any(row[1] is not None for row in referrals)
    assert any(row[2] is not None for row in referrals)
    assert any(row[1] is None and row[2] is None for row in referrals)
    for made_on, accepted_on, declined_on, closed_on in referrals:
        assert closed_on is None and (accepted_on is None or declined_on is None)
        assert str(made_on) <= str(accepted_on or declined_on or made_on) <= str(TODAY)
    # Every demo plan is as complete in SQL (the releases due) as in Python (`missing`).
    due = api.get("admin", "/v1/release-plans/due", params={"within_days": 730, "limit": 200})
    outstanding = {i["mother_id"]: i["pathways_outstanding"] for i in due.json()["items"]}
    for (mother_id,) in api.sql("SELECT mother_id FROM release_plan"):
        plan = api.get("admin", release_plan_url(str(uuid.UUID(str(mother_id))))).json()
        gaps = [m for m in plan["missing"] if m["field"].startswith("pathways.")]
        if plan["complete"]:
            assert plan["mother_id"] not in outstanding
        elif plan["mother_id"] in outstanding:
            assert outstanding[plan["mother_id"]] == len(gaps), plan
        if plan["pathways"][COMMUNITY]["status"] == "complete":
            assert any(r["accepted_on"] for r in referrals_of(plan))
    # Another seed's demo names the same directory, not a second one.
    api.client.portal.call(load, 6)  # type: ignore[union-attr]
    assert api.sql("SELECT count(*) FROM organisation")[0][0] == len(services)
    # No unit costs by default, the demo's included: costs avoided are not available (x), never
    # a figure nobody set.
    assert api.sql("SELECT count(*) FROM unit_cost")[0][0] == 0
    report = api.get("admin", "/v1/reports/programme").json()
    [costs] = [s for s in report["sections"] if s["key"] == "costs_avoided"]
    for figure in costs["figures"]:
        assert all(c["suppressed"] or not c["available"] for c in figure["values"]), figure["key"]
