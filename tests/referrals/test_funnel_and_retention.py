"""The funnel's figures (referred -> accepted -> engaged -> still engaged at 6 and 12 months),
what subject access holds for a prison number, and retention of referrals no record stands
behind."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from tac_api.cli import app as cli
from tac_api.config import get_settings
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY
from tests.support.referrals import (
    HER_RECORD,
    accepted,
    change,
    close,
    days_ago,
    decide,
    fields_of,
    refer,
    url,
)
from tests.support.sql import db_id

runner = CliRunner()
RETENTION_DAYS = 365


def engaged_long_ago(api: Api, engaged_days_ago: int, **fields: Any) -> dict[str, Any]:
    referral = refer(api, received_on=days_ago(engaged_days_ago + 30), **fields)
    decided = decide(
        api,
        referral,
        decision="accepted",
        decided_on=days_ago(engaged_days_ago + 20),
        mother=HER_RECORD,
    ).json()
    dates = {"first_contact_on": days_ago(engaged_days_ago + 5)}
    dates["engaged_on"] = days_ago(engaged_days_ago)
    response = change(api, decided, **dates)
    assert response.status_code == 200, response.text
    return response.json()


class TestFunnel:
    @pytest.fixture
    def referrals(self, api: Api) -> dict[str, Any]:
        """In Eastwood Park, received within the last 500 days: one awaiting a decision, one
        declined, one not eligible, one accepted but not engaged; engaged 400 days ago and still
        open; engaged 200 days ago and closed 60 days later; engaged 30 days ago. One in Send,
        one received long before the window."""
        made = {
            "waiting": refer(api, received_on=days_ago(10)),
            "open_a_year": engaged_long_ago(api, 400),
            "closed_early": engaged_long_ago(api, 200),
            "recent": engaged_long_ago(api, 30),
            "not_engaged": accepted(api),
            "send": refer(api, prison_code="SDI", received_on=days_ago(10)),
            "old": refer(api, received_on=days_ago(900)),
        }
        for decision in ("declined", "not_eligible"):
            made[decision] = refer(api, received_on=days_ago(20))
            assert decide(
                api, made[decision], decision=decision, decided_on=days_ago(5), reason="No."
            ).is_success
        closing = {"closed_on": days_ago(140), "reason": "disengaged"}
        assert close(api, made["closed_early"], **closing).status_code == 200
        return made

    def test_figures_for_a_prison_and_a_window(self, api: Api, referrals: Any) -> None:
        window = {"prison_code": "EWI", "from": days_ago(500), "to": str(TODAY)}
        response = api.get("ewi_worker", "/v1/referral-funnel", params=window)
        assert response.status_code == 200, response.text
        figures = response.json()
        assert figures == {
            "prison_code": "EWI",
            "received_from": days_ago(500),
            "received_before": str(TODAY),
            "as_of": str(TODAY),
            "referred": 7,
            "awaiting_decision": 1,
            "accepted": 4,
            "declined": 1,
            "not_eligible": 1,
            "engaged": 3,
            "milestones": [
                # engaged 400 and 200 days ago reached 6 months; only the first is still open
                {"months": 6, "reached": 2, "still_engaged": 1},
                {"months": 12, "reached": 1, "still_engaged": 1},
            ],
        }
        # Figures only, read once: one audit row naming no one.
        assert trail(api, response) == [
            (
                "ewi_worker",
                "prison_social_worker",
                "consult",
                "referral_funnel",
                None,
                None,
                "succeeded",
            )
        ]

    def test_a_woman_who_moved_leaves_her_old_prisons_figures(self, api: Api) -> None:
        """The old prison cannot follow her engagement in figures once it cannot in records."""
        referral = engaged_long_ago(api, 200)
        window = {"prison_code": "EWI", "from": days_ago(300), "to": str(TODAY)}
        before = api.get("ewi_worker", "/v1/referral-funnel", params=window).json()
        assert (before["referred"], before["engaged"]) == (1, 1)

        her = f"/v1/mothers/{referral['mother_id']}"
        moved = api.patch(
            "admin", her, {"prison_code": "SDI"}, if_match=api.get("admin", her).headers["ETag"]
        )
        assert moved.status_code == 200, moved.text
        assert api.get("ewi_worker", url(referral)).status_code == 404
        after = api.get("ewi_worker", "/v1/referral-funnel", params=window).json()
        assert (after["referred"], after["engaged"]) == (0, 0)
        assert after["milestones"][0]["reached"] == 0
        # An admin still counts it, by the prison it was made to.
        counted = api.get("admin", "/v1/referral-funnel", params=window).json()
        assert (counted["referred"], counted["engaged"]) == (1, 1)

    def test_a_worker_sees_her_prisons_figures_and_an_admin_every_prisons(
        self, api: Api, referrals: Any
    ) -> None:
        mine = api.get("ewi_worker", "/v1/referral-funnel").json()
        assert mine["prison_code"] == "EWI" and mine["referred"] == 8  # the old one too
        other = api.get("ewi_worker", "/v1/referral-funnel", params={"prison_code": "SDI"})
        assert other.status_code == 404, other.text  # out of scope, as a record
        every = api.get("admin", "/v1/referral-funnel").json()
        assert every["prison_code"] is None and every["referred"] == 9
        send = api.get("admin", "/v1/referral-funnel", params={"prison_code": "SDI"}).json()
        assert send["referred"] == 1 and send["awaiting_decision"] == 1
        for who in ("bristol", "ewi_governor", "auditor"):
            assert api.get(who, "/v1/referral-funnel").status_code == 403

    def test_still_engaged_counts_up_to_as_of(self, api: Api, referrals: Any) -> None:
        earlier = str(TODAY - timedelta(days=100))
        figures = api.get("admin", "/v1/referral-funnel", params={"as_of": earlier}).json()
        # 100 days ago, the one engaged 200 days ago had been engaged 100 days: not 6 months.
        assert figures["milestones"][0] == {"months": 6, "reached": 1, "still_engaged": 1}
        ahead = {"as_of": str(TODAY + timedelta(days=1))}
        assert fields_of(api.get("admin", "/v1/referral-funnel", params=ahead)) == ["as_of"]


class TestSubjectAccess:
    def test_her_export_holds_earlier_referrals_naming_her_prison_number(self, api: Api) -> None:
        earlier = refer(api, received_on=days_ago(60))
        refused = decide(
            api, earlier, decision="declined", decided_on=days_ago(50), reason="Not yet."
        )
        assert refused.status_code == 200
        taken = accepted(api, prison_number=earlier["prison_number"])
        someone_else = refer(api)
        mother_id = taken["mother_id"]
        response = api.get("admin", f"/v1/mothers/{mother_id}/subject-access-export")
        assert response.status_code == 200, response.text
        export = response.json()
        assert export["subject"] == {
            "mother_id": mother_id,
            "prison_number": earlier["prison_number"],
        }
        held = {r["id"]: r for r in export["records"]["referral"]}
        assert set(held) == {earlier["id"], taken["id"]}
        assert someone_else["id"] not in held
        assert held[earlier["id"]]["mother_id"] is None
        # The earlier referral's own trail (its collection named no one) is in her export.
        trail_ids = {event["resource_id"] for event in export["audit_trail"]}
        assert earlier["id"] in trail_ids
        # The earlier one is reached through no record of hers: its own trail shows it, naming
        # her now; the one behind her record is disclosed with her record, as her case is.
        disclosed = [row[4:6] for row in trail(api, response) if row[3] == "referral"]
        assert disclosed == [(earlier["id"], mother_id)]

    def test_an_export_for_a_prison_number_with_no_record(self, api: Api) -> None:
        probation = api.post(
            "admin",
            "/v1/practitioners",
            {"role": "probation_officer", "name": "Aled Ó Súilleabháin"},
        ).json()
        referral = refer(api, referred_by_id=probation["id"])
        refer(api)  # another number
        number = referral["prison_number"]
        response = api.get("admin", "/v1/subject-access-export", params={"prison_number": number})
        assert response.status_code == 200, response.text
        export = response.json()
        assert export["subject"] == {"mother_id": None, "prison_number": number}
        assert [r["id"] for r in export["records"]["referral"]] == [referral["id"]]
        assert [p["id"] for p in export["records"]["practitioner"]] == [probation["id"]]
        assert [e["action"] for e in export["audit_trail"]] == ["collect"]
        assert export["withheld"] == []
        assert [row[2:6] for row in trail(api, response)] == [
            ("disclose", "referral", referral["id"], None)
        ]
        for who in ("ewi_worker", "bristol", "auditor"):
            refused = api.get(who, "/v1/subject-access-export", params={"prison_number": number})
            assert refused.status_code == 403

    def test_nothing_held_is_404_and_her_number_is_her_export(self, api: Api) -> None:
        nothing = api.get("admin", "/v1/subject-access-export", params={"prison_number": "Z9999ZZ"})
        assert nothing.status_code == 404
        assert nothing.headers["content-type"] == "application/problem+json"
        bad = api.get("admin", "/v1/subject-access-export", params={"prison_number": "nope"})
        assert fields_of(bad) == ["prison_number"]
        taken = accepted(api)
        by_number = api.get(
            "admin", "/v1/subject-access-export", params={"prison_number": taken["prison_number"]}
        ).json()
        by_id = api.get("admin", f"/v1/mothers/{taken['mother_id']}/subject-access-export").json()
        assert by_number["subject"] == by_id["subject"]
        assert by_number["records"] == by_id["records"]


@pytest.fixture
def retention(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("TAC_DATABASE_URL", api.database_url)
    monkeypatch.setenv("TAC_REFERRAL_RETENTION_DAYS", str(RETENTION_DAYS))
    get_settings.cache_clear()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["retention", "run", *args])
        assert result.exit_code == 0, result.output
        return result.output

    yield run
    get_settings.cache_clear()


def refused(api: Api, decision: str, decided_days_ago: int) -> dict[str, Any]:
    referral = refer(api, received_on=days_ago(1000))
    response = decide(api, referral, decision=decision, decided_on=days_ago(900), reason="No.")
    assert response.status_code == 200, response.text
    api.sql(
        "UPDATE referral SET decided_on = :on WHERE id = :id",
        on=TODAY - timedelta(days=decided_days_ago),
        id=db_id(api, referral["id"]),
    )
    return referral


class TestRetention:
    def test_refused_referrals_with_no_record_are_erased_after_the_period(
        self, api: Api, retention: Any
    ) -> None:
        due = [
            refused(api, "declined", RETENTION_DAYS + 1),
            refused(api, "not_eligible", RETENTION_DAYS + 30),
        ]
        recent = refused(api, "declined", RETENTION_DAYS - 1)
        waiting = refer(api, received_on=days_ago(1000))  # never decided: kept
        taken = accepted(api)  # her record stands behind it: goes with her case
        api.sql(
            "UPDATE referral SET decided_on = :on WHERE id = :id",
            on=TODAY - timedelta(days=RETENTION_DAYS * 3),
            id=db_id(api, taken["id"]),
        )
        before = api.sql("SELECT count(*) FROM referral")[0][0]

        output = retention()
        assert "TAC_REFERRAL_RETENTION_DAYS=365" in output
        assert "dry run: 2 would go." in output
        assert "O'Neill" not in output
        assert api.sql("SELECT count(*) FROM referral")[0][0] == before

        output = retention("--apply")
        assert "erased 2." in output
        for kept in (recent, waiting, taken):
            assert api.get("admin", url(kept)).status_code == 200
        for gone in due:
            assert api.get("admin", url(gone)).status_code == 404
            rows = api.sql(
                "SELECT action, resource_type, subject_id, client_name FROM audit_event "
                "WHERE resource_id = :id AND action = 'erase'",
                id=db_id(api, gone["id"]),
            )
            assert rows == [("erase", "referral", None, "tac-api retention")]
        assert "erased 0." in retention("--apply")

    def test_a_referral_behind_her_record_goes_with_her_case(
        self, api: Api, monkeypatch: pytest.MonkeyPatch, retention: Any
    ) -> None:
        monkeypatch.setenv("TAC_RETENTION_DAYS", "2190")
        get_settings.cache_clear()
        taken = accepted(api)
        mother_url = f"/v1/mothers/{taken['mother_id']}"
        her = api.get("admin", mother_url)
        assert api.patch("admin", mother_url, {"status": "closed"}, her.headers["ETag"]).is_success
        api.sql(
            "UPDATE mother SET closed_on = :on WHERE id = :id",
            on=TODAY - timedelta(days=2200),
            id=db_id(api, taken["mother_id"]),
        )
        output = retention("--apply")
        assert "referral 1" in output
        assert api.sql("SELECT count(*) FROM referral") == [(0,)]


def test_demo_referrals_cover_every_state_in_both_prisons(api: Api) -> None:
    from tac_api.demo import load_demo_data

    async def load() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            await load_demo_data(session, mothers=40, seed=15)

    api.client.portal.call(load)  # type: ignore[union-attr]
    referrals = api.get("admin", "/v1/referrals", params={"limit": 200}).json()["items"]
    assert len(referrals) == 12
    assert {r["prison_code"] for r in referrals} == {"EWI", "SDI"}
    assert {r["status"] for r in referrals} == {"received", "accepted", "declined", "not_eligible"}
    assert {r["support_closed_reason"] for r in referrals} == {
        None,
        "disengaged",
        "moved_out",
        "completed",
        "other",
    }
    assert any(r["engaged_on"] and not r["support_closed_on"] for r in referrals)
    assert any(r["status"] == "accepted" and not r["engaged_on"] for r in referrals)
    no_record = [r for r in referrals if r["mother_id"] is None]
    assert {r["status"] for r in no_record} == {"received", "declined", "not_eligible"}
    names = " ".join(r["first_name"] + " " + r["last_name"] for r in no_record)
    assert "'" in names and any(ord(ch) > 127 for ch in names)
    # The demo keeps the rules the API keeps: each record is one it would accept.
    for r in referrals:
        dates = [r["received_on"], r["first_contact_on"], r["engaged_on"], r["support_closed_on"]]
        given = [d for d in dates if d is not None]
        assert given == sorted(given) and max(given) <= str(TODAY), r
        assert (r["decided_on"] is None) == (r["status"] == "received"), r
        if r["status"] in ("declined", "not_eligible"):
            assert r["decision_reason"], r
    figures = api.get("admin", "/v1/referral-funnel").json()
    assert figures["referred"] == 12 and figures["engaged"] == 6
