"""Referral to engagement: a referral recorded (she may have no record yet), decided (accepted
makes or links her record), her first contact and engagement, her support closed with a reason
(ending her allocation), the funnel's figures, and who may see any of it."""

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.audit import audit_of, trail
from tests.support.bodies import TODAY
from tests.support.referrals import (
    HER_RECORD,
    accepted,
    change,
    close,
    days_ago,
    decide,
    engaged,
    fields_of,
    refer,
    referral_body,
    url,
)
from tests.support.sql import db_id


class TestRecord:
    def test_a_referral_is_recorded_as_received_about_no_known_mother(self, api: Api) -> None:
        response = api.post("ewi_worker", "/v1/referrals", referral_body(pregnant=True))
        assert response.status_code == 201, response.text
        referral = response.json()
        assert referral["status"] == "received"
        assert referral["pregnant"] is True and referral["mother_id"] is None
        assert referral["last_name"] == "O'Neill" and referral["first_name"] == "Siobhán"
        assert response.headers["Location"] == url(referral)
        assert response.headers["ETag"] == '"1"'
        assert api.get("ewi_worker", url(referral)).json() == referral
        # About no one the service holds a record of: the audit rows name no subject.
        assert trail(api, response) == [
            (
                "ewi_worker",
                "prison_social_worker",
                "collect",
                "referral",
                referral["id"],
                None,
                "succeeded",
            )
        ]

    def test_a_worker_records_referrals_to_her_own_prison_only(self, api: Api) -> None:
        response = api.post("ewi_worker", "/v1/referrals", referral_body(prison_code="SDI"))
        assert fields_of(response) == ["prison_code"]
        assert api.post("admin", "/v1/referrals", referral_body(prison_code="SDI")).is_success

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"received_on": str(TODAY + timedelta(days=1))}, "received_on"),
            ({"received_on": "1999-12-31"}, "received_on"),
            ({"prison_code": "ZZZ"}, "prison_code"),
            ({"source": "neighbour"}, "source"),
            ({"prison_number": "12345"}, "prison_number"),
            ({"reason": "One line.\nAnd another."}, "reason"),
            ({"reason": "x" * 501}, "reason"),
            ({"pregnant": "yes"}, "pregnant"),
            ({"referred_by_id": str(uuid.uuid4())}, "referred_by_id"),
            ({"status": "accepted"}, "status"),
            ({"mother_id": str(uuid.uuid4())}, "mother_id"),
        ],
    )
    def test_a_referral_that_breaks_a_rule_is_refused(
        self, api: Api, fields: dict[str, Any], field: str
    ) -> None:
        assert fields_of(api.post("admin", "/v1/referrals", referral_body(**fields))) == [field]
        assert api.sql("SELECT count(*) FROM referral") == [(0,)]

    def test_who_referred_her_is_a_practitioner_in_the_directory(self, api: Api) -> None:
        probation = api.post(
            "admin", "/v1/practitioners", {"role": "probation_officer", "name": "Rhodri Ó Dálaigh"}
        ).json()
        referral = refer(api, "ewi_worker", source="probation", referred_by_id=probation["id"])
        assert referral["referred_by_id"] == probation["id"]
        cleared = change(api, referral, referred_by_id=None)
        assert cleared.status_code == 200 and cleared.json()["referred_by_id"] is None
        unknown = change(api, cleared.json(), referred_by_id=str(uuid.uuid4()))
        assert fields_of(unknown) == ["referred_by_id"]

    def test_local_authorities_governors_and_auditors_see_no_referral(self, api: Api) -> None:
        referral = refer(api)
        for who in ("bristol", "bristol_system", "ewi_governor", "auditor"):
            assert api.get(who, url(referral)).status_code == 403
            assert api.get(who, "/v1/referrals").status_code == 403
            assert api.post(who, "/v1/referrals", referral_body()).status_code == 403


class TestScope:
    def test_before_her_record_a_referral_is_its_prisons(self, api: Api) -> None:
        referral = refer(api, prison_code="SDI")
        assert api.get("sdi_worker", url(referral)).status_code == 200
        assert api.get("ewi_worker", url(referral)).status_code == 404
        assert api.get("ewi_worker", "/v1/referrals").json()["items"] == []
        assert change(api, referral, "ewi_worker", reason="Another.").status_code == 404

    def test_once_linked_it_follows_her(self, api: Api) -> None:
        referral = accepted(api)  # referred to Eastwood Park, her record made there
        mother_url = f"/v1/mothers/{referral['mother_id']}"
        her = api.get("admin", mother_url)
        moved = api.patch("admin", mother_url, {"prison_code": "SDI"}, her.headers["ETag"])
        assert moved.status_code == 200
        assert api.get("sdi_worker", url(referral)).status_code == 200
        assert api.get("ewi_worker", url(referral)).status_code == 404
        # Reads of a referral behind her record name her as the subject.
        read = api.get("sdi_worker", url(referral))
        assert trail(api, read)[0][5] == referral["mother_id"]


class TestList:
    def test_filters_order_and_pages(self, api: Api) -> None:
        early = refer(api, received_on=days_ago(40))
        middle = refer(api, received_on=days_ago(30))
        late = refer(api, received_on=days_ago(20))
        refer(api, received_on=days_ago(30), prison_code="SDI")
        declined = decide(api, late, decision="declined", decided_on=days_ago(5), reason="No.")
        assert declined.status_code == 200

        def ids(**params: Any) -> list[str]:
            response = api.get("admin", "/v1/referrals", params=params)
            assert response.status_code == 200, response.text
            return [r["id"] for r in response.json()["items"]]

        assert ids(prison_code="EWI") == [early["id"], middle["id"], late["id"]]
        assert len(ids()) == 4
        assert ids(prison_code="EWI", status="received") == [early["id"], middle["id"]]
        assert ids(prison_code="EWI", status="declined") == [late["id"]]
        # from inclusive, to exclusive
        window = {"from": days_ago(30), "to": days_ago(20), "prison_code": "EWI"}
        assert ids(**window) == [middle["id"]]
        assert fields_of(api.get("admin", "/v1/referrals", params={"status": "open"})) == ["status"]
        backwards = {"from": days_ago(20), "to": days_ago(30)}
        assert fields_of(api.get("admin", "/v1/referrals", params=backwards)) == ["to"]
        first = api.get("admin", "/v1/referrals", params={"prison_code": "EWI", "limit": 2})
        page = first.json()
        assert [r["id"] for r in page["items"]] == [early["id"], middle["id"]]
        rest = api.get(
            "admin",
            "/v1/referrals",
            params={"prison_code": "EWI", "limit": 2, "cursor": page["next_cursor"]},
        ).json()
        assert [r["id"] for r in rest["items"]] == [late["id"]] and rest["next_cursor"] is None

    def test_her_referrals(self, api: Api) -> None:
        referral = accepted(api, prison_code="SDI")
        mother_id = referral["mother_id"]
        second = accepted(api, prison_code="SDI", prison_number=referral["prison_number"])
        refer(api, prison_code="SDI")  # someone else's
        listed = api.get("sdi_worker", f"/v1/mothers/{mother_id}/referrals")
        assert listed.status_code == 200
        assert {r["id"] for r in listed.json()["items"]} == {referral["id"], second["id"]}
        assert api.get("ewi_worker", f"/v1/mothers/{mother_id}/referrals").status_code == 404
        assert api.get("admin", f"/v1/mothers/{uuid.uuid4()}/referrals").status_code == 404


class TestDecision:
    def test_declined_and_not_eligible_need_a_reason(self, api: Api) -> None:
        for decision in ("declined", "not_eligible"):
            referral = refer(api)
            missing = decide(api, referral, decision=decision, decided_on=days_ago(1))
            assert fields_of(missing) == ["reason"]
            made = decide(
                api, referral, decision=decision, decided_on=days_ago(1), reason="Sentence ends."
            )
            assert made.status_code == 200, made.text
            assert made.json()["status"] == decision
            assert made.json()["decision_reason"] == "Sentence ends."
            assert made.json()["mother_id"] is None
            assert audit_of(api, referral["id"])[-1] == ("alter", "referral", "succeeded")

    def test_only_a_referral_awaiting_a_decision_can_be_decided(self, api: Api) -> None:
        referral = refer(api)
        first = decide(api, referral, decision="declined", decided_on=days_ago(1), reason="No.")
        again = api.post(
            "admin",
            url(referral, "/decision"),
            {"decision": "accepted", "decided_on": days_ago(1), "mother": HER_RECORD},
            if_match=first.headers["ETag"],
        )
        assert again.status_code == 409, again.text
        assert "only a referral awaiting a decision" in again.json()["detail"]

    def test_the_decision_is_dated_after_receipt_and_not_ahead(self, api: Api) -> None:
        referral = refer(api, received_on=days_ago(10))
        body = {"decision": "declined", "reason": "No."}
        early = decide(api, referral, decided_on=days_ago(11), **body)
        assert fields_of(early) == ["decided_on"]
        ahead = decide(api, referral, decided_on=str(TODAY + timedelta(days=1)), **body)
        assert fields_of(ahead) == ["decided_on"]
        unconditional = body | {"decided_on": days_ago(1)}
        assert api.post("admin", url(referral, "/decision"), unconditional).status_code == 428

    def test_accepted_makes_her_record_from_the_referral(self, api: Api) -> None:
        referral = refer(api, "sdi_worker", prison_code="SDI", first_name="Zoë")
        missing = decide(api, referral, "sdi_worker", decision="accepted", decided_on=days_ago(3))
        assert fields_of(missing) == ["mother"]
        response = decide(
            api,
            referral,
            "sdi_worker",
            decision="accepted",
            decided_on=days_ago(3),
            mother=HER_RECORD | {"ethnicity": "white_irish"},
        )
        assert response.status_code == 200, response.text
        decided = response.json()
        assert decided["status"] == "accepted" and decided["decided_on"] == days_ago(3)
        her = api.get("sdi_worker", f"/v1/mothers/{decided['mother_id']}").json()
        assert (her["first_name"], her["last_name"]) == ("Zoë", "O'Neill")
        assert her["prison_number"] == referral["prison_number"]
        assert her["prison_code"] == "SDI" and her["ethnicity"] == "white_irish"
        assert her["date_of_birth"] == HER_RECORD["date_of_birth"]
        assert her["supported_from"] == days_ago(3)  # the decision's day
        rows = trail(api, response)
        assert (
            "sdi_worker",
            "prison_social_worker",
            "alter",
            "referral",
            referral["id"],
            decided["mother_id"],
            "succeeded",
        ) in rows
        assert (
            "sdi_worker",
            "prison_social_worker",
            "collect",
            "mother",
            decided["mother_id"],
            decided["mother_id"],
            "succeeded",
        ) in rows

    def test_her_record_can_say_when_support_began(self, api: Api) -> None:
        referral = refer(api)
        given = HER_RECORD | {"supported_from": days_ago(25)}
        decided = decide(
            api, referral, decision="accepted", decided_on=days_ago(3), mother=given
        ).json()
        her = api.get("admin", f"/v1/mothers/{decided['mother_id']}").json()
        assert her["supported_from"] == days_ago(25)

    def test_her_records_rules_are_named_inside_mother(self, api: Api) -> None:
        referral = refer(api)
        wrong = HER_RECORD | {"date_of_birth": str(TODAY + timedelta(days=2))}
        response = decide(api, referral, decision="accepted", decided_on=days_ago(3), mother=wrong)
        assert "mother.date_of_birth" in fields_of(response)
        assert api.sql("SELECT count(*) FROM mother") == [(0,)]
        refused = decide(
            api,
            referral,
            decision="declined",
            decided_on=days_ago(3),
            reason="No.",
            mother=HER_RECORD,
        )
        assert fields_of(refused) == ["mother"]

    def test_accepted_links_the_record_she_has(self, api: Api) -> None:
        mother = api.mother(prison_code="EWI")
        referral = refer(api, "ewi_worker", prison_number=mother["prison_number"])
        response = decide(api, referral, "ewi_worker", decision="accepted", decided_on=days_ago(2))
        assert response.status_code == 200, response.text
        assert response.json()["mother_id"] == mother["id"]
        assert api.sql("SELECT count(*) FROM mother") == [(1,)]
        assert [t[2:4] for t in trail(api, response)] == [("alter", "referral")]

    def test_a_record_held_where_she_cannot_see_it_is_not_revealed(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        referral = refer(api, "ewi_worker", prison_number=mother["prison_number"])
        response = decide(
            api,
            referral,
            "ewi_worker",
            decision="accepted",
            decided_on=days_ago(2),
            mother=HER_RECORD,
        )
        assert fields_of(response) == ["decision"]
        text = response.text
        assert "SDI" not in text and mother["id"] not in text and "Send" not in text
        assert api.get("admin", url(referral)).json()["status"] == "received"
        # An admin sees every prison: links her.
        linked = decide(api, referral, decision="accepted", decided_on=days_ago(2))
        assert linked.json()["mother_id"] == mother["id"]


class TestEngagement:
    def test_first_contact_and_engagement_belong_to_an_accepted_referral(self, api: Api) -> None:
        referral = refer(api)
        assert fields_of(change(api, referral, first_contact_on=days_ago(5))) == [
            "first_contact_on"
        ]
        declined = decide(
            api, referral, decision="declined", decided_on=days_ago(2), reason="No."
        ).json()
        refused = change(api, declined, first_contact_on=days_ago(5), engaged_on=days_ago(1))
        assert set(fields_of(refused)) == {"first_contact_on", "engaged_on"}
        taken = accepted(api)
        response = change(api, taken, first_contact_on=days_ago(5), engaged_on=days_ago(1))
        assert response.status_code == 200, response.text
        assert response.json()["engaged_on"] == days_ago(1)
        assert audit_of(api, taken["id"])[-1] == ("alter", "referral", "succeeded")

    @pytest.mark.parametrize(
        ("dates", "field"),
        [
            ({"first_contact_on": days_ago(31)}, "first_contact_on"),  # before received_on
            ({"first_contact_on": days_ago(-1)}, "first_contact_on"),
            ({"first_contact_on": days_ago(5), "engaged_on": days_ago(6)}, "engaged_on"),
            ({"first_contact_on": days_ago(5), "engaged_on": days_ago(-1)}, "engaged_on"),
            ({"engaged_on": days_ago(1)}, "first_contact_on"),
        ],
    )
    def test_engagement_dates_keep_their_order(
        self, api: Api, dates: dict[str, str], field: str
    ) -> None:
        referral = accepted(api)  # received 30 days ago
        assert fields_of(change(api, referral, **dates)) == [field]

    def test_she_has_one_open_support_at_a_time(self, api: Api) -> None:
        first = engaged(api)
        second = accepted(api, prison_number=first["prison_number"])
        assert second["mother_id"] == first["mother_id"]
        dates = {"first_contact_on": days_ago(3), "engaged_on": days_ago(2)}
        clash = change(api, second, **dates)
        assert clash.status_code == 409, clash.text
        assert first["id"] in clash.json()["detail"]
        assert close(api, first, closed_on=days_ago(2), reason="completed").status_code == 200
        opened = change(api, second, **dates)
        assert opened.status_code == 200, opened.text

    def test_a_release_does_not_close_support(self, api: Api) -> None:
        referral = engaged(api)
        mother_url = f"/v1/mothers/{referral['mother_id']}"
        her = api.get("admin", mother_url)
        released = api.patch("admin", mother_url, {"status": "released"}, her.headers["ETag"])
        assert released.status_code == 200
        after = api.get("admin", url(referral)).json()
        assert after["engaged_on"] == referral["engaged_on"]
        assert after["support_closed_on"] is None and after["support_closed_reason"] is None
        assert close(api, after, closed_on=str(TODAY), reason="completed").status_code == 200


class TestSupportClosure:
    @pytest.mark.parametrize("reason", ["disengaged", "moved_out", "completed", "other"])
    def test_support_closes_with_a_reason(self, api: Api, reason: str) -> None:
        referral = engaged(api)
        note = "She asked to stop for now." if reason == "other" else None
        response = close(api, referral, closed_on=days_ago(1), reason=reason, note=note)
        assert response.status_code == 200, response.text
        closed = response.json()
        assert closed["support_closed_on"] == days_ago(1)
        assert (closed["support_closed_reason"], closed["support_closed_note"]) == (reason, note)
        assert audit_of(api, referral["id"])[-1] == ("alter", "referral", "succeeded")
        again = close(api, closed, closed_on=days_ago(1), reason=reason, note=note)
        assert again.status_code == 409

    def test_only_open_support_closes(self, api: Api) -> None:
        referral = accepted(api)
        response = close(api, referral, closed_on=days_ago(1), reason="completed")
        assert response.status_code == 409, response.text

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"closed_on": days_ago(11), "reason": "completed"}, "closed_on"),  # before engaged
            ({"closed_on": days_ago(-1), "reason": "completed"}, "closed_on"),
            ({"closed_on": days_ago(1), "reason": "other"}, "note"),
            ({"closed_on": days_ago(1), "reason": "released"}, "reason"),
        ],
    )
    def test_a_closure_that_breaks_a_rule_is_refused(
        self, api: Api, body: dict[str, Any], field: str
    ) -> None:
        referral = engaged(api)  # engaged 10 days ago
        assert fields_of(close(api, referral, **body)) == [field]

    def test_closed_support_keeps_its_engagement(self, api: Api) -> None:
        referral = engaged(api)
        closed = close(api, referral, closed_on=days_ago(5), reason="disengaged").json()
        assert fields_of(change(api, closed, engaged_on=None)) == ["engaged_on"]
        assert fields_of(change(api, closed, engaged_on=days_ago(4))) == ["engaged_on"]

    def test_closing_support_ends_her_allocation(self, api: Api) -> None:
        referral = engaged(api)
        other = engaged(api)
        worker = uuid.uuid4()
        api.sql(
            "INSERT INTO staff_member (id, created_at, updated_at, version, prison_code, name, "
            "role) VALUES (:id, :now, :now, 1, 'EWI', 'Eleri Ní Bhriain', 'prison_social_worker')",
            id=db_id(api, str(worker)),
            now=TODAY,
        )

        def allocate(mother_id: str, allocated: int, ended: int | None) -> str:
            allocation = uuid.uuid4()
            api.sql(
                "INSERT INTO allocation (id, created_at, updated_at, version, changed_at, "
                "changed_by_name, changed_by_role, mother_id, staff_member_id, allocated_on, "
                "ended_on) VALUES (:id, :now, :now, 1, :now, 'demo data', 'system', :mother, "
                ":worker, :allocated, :ended)",
                id=db_id(api, str(allocation)),
                now=TODAY,
                mother=db_id(api, mother_id),
                worker=db_id(api, str(worker)),
                allocated=TODAY - timedelta(days=allocated),
                ended=None if ended is None else TODAY - timedelta(days=ended),
            )
            return str(allocation)

        earlier = allocate(referral["mother_id"], 30, 20)
        current = allocate(referral["mother_id"], 20, None)
        others = allocate(other["mother_id"], 20, None)
        response = close(api, referral, closed_on=days_ago(2), reason="moved_out")
        assert response.status_code == 200, response.text

        def ended_on(allocation: str) -> Any:
            rows = api.sql(
                "SELECT ended_on FROM allocation WHERE id = :id", id=db_id(api, allocation)
            )
            value = rows[0][0]
            return None if value is None else str(value)[:10]

        assert ended_on(current) == days_ago(2)
        assert ended_on(earlier) == days_ago(20)
        assert ended_on(others) is None
        assert (
            "admin",
            "admin",
            "alter",
            "allocation",
            current,
            referral["mother_id"],
            "succeeded",
        ) in trail(api, response)


def test_every_change_needs_the_version_last_read(api: Api) -> None:
    referral = engaged(api)
    body = {"closed_on": days_ago(1), "reason": "completed"}
    assert api.patch("admin", url(referral), {"reason": "Another."}).status_code == 428
    assert api.post("admin", url(referral, "/support-closure"), body).status_code == 428
    stale = api.patch("admin", url(referral), {"reason": "Another."}, if_match='"1"')
    assert stale.status_code == 412
    assert fields_of(change(api, referral, first_name=None)) == ["first_name"]
    renamed = change(api, referral, first_name="Seren", pregnant=None, source="court")
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["first_name"], renamed.json()["source"]) == ("Seren", "court")
