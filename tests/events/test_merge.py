"""NOMIS merges (`prison-offender-events.prisoner.merged`): `removedNomsNumber` merged into
`nomsNumber`. Her records move to the kept number and the removed one stays as her alias, which
every lookup by prison number still finds her by; where both numbers have a case, nothing moves
and both records are flagged for review."""

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tac_api.events.merge import apply_merge
from tac_api.events.schemas import EVENT_SOURCE
from tests.support import events
from tests.support.api import Api
from tests.support.bodies import child_body, mother_body
from tests.support.merges import apply, merge, merge_delivered
from tests.support.referrals import days_ago, decide, refer
from tests.support.sql import count, counting, db_id

KEPT, REMOVED = "K1234KP", "R5678RM"
CASE_TABLES = ("mother", "prison_number_alias", "referral", "link_request", "review_flag")


def push(api: Api, external_id: str, prison_number: str, **fields: Any) -> Any:
    """A local authority's system pushes a child of the mother it names by prison number."""
    body = child_body(mother_prison_number=prison_number, **fields)
    del body["local_authority_code"]  # the authority is the caller's own
    return api.put("bristol_system", f"/v1/sync/children/{external_id}", body)


def aliases(api: Api) -> list[tuple[str, Any]]:
    rows = api.sql("SELECT prison_number, mother_id FROM prison_number_alias")
    return [tuple(row) for row in rows]


def numbers_of(api: Api, table: str, column: str) -> list[str]:
    return sorted(row[0] for row in api.sql(f"SELECT {column} FROM {table}"))


def trail_end(api: Api) -> int:
    """Where the audit trail ends now (it is kept from test to test)."""
    return api.sql("SELECT coalesce(max(id), 0) FROM audit_event")[0][0]


def by_event_source(api: Api, after: int) -> list[tuple[str, str, Any, Any]]:
    """The audit trail's rows written as the estate's events since `after`: (action, kind,
    record, subject)."""
    rows = api.sql(
        "SELECT action, resource_type, resource_id, subject_id, client_name, role "
        "FROM audit_event WHERE client_id = :client AND id > :after ORDER BY id",
        client=db_id(api, str(EVENT_SOURCE.client_id)),
        after=after,
    )
    assert {(row[4], row[5]) for row in rows} <= {(EVENT_SOURCE.name, EVENT_SOURCE.role.value)}
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def flags(api: Api) -> list[tuple[Any, str, str]]:
    rows = api.sql("SELECT resource_id, raised_by_source, reason FROM review_flag ORDER BY reason")
    return [tuple(row) for row in rows]


def snapshot(api: Api) -> dict[str, Any]:
    """Every row a merge may write or change, as it stands."""
    return {
        table: sorted(map(tuple, api.sql(f"SELECT * FROM {table}")), key=str)
        for table in (*CASE_TABLES, "change_event")
    } | {"audit_event": api.sql("SELECT count(*), max(id) FROM audit_event")}


def test_only_the_removed_number_has_a_case_she_takes_the_kept_one(api: Api) -> None:
    her = api.mother(prison_number=REMOVED)
    referral = refer(api, prison_number=REMOVED)
    pending = push(api, "BR-1", REMOVED)
    assert pending.status_code == 202, pending.text
    feed_before = count(api, "change_event")

    trail = trail_end(api)
    mother_id = merge(api, KEPT, REMOVED)

    assert str(mother_id) == her["id"]
    now = api.get("admin", f"/v1/mothers/{her['id']}").json()
    assert now["prison_number"] == KEPT
    assert now["version"] == her["version"] + 1
    assert aliases(api) == [(REMOVED, db_id(api, her["id"]))]
    # Every record held under the removed number names the kept one.
    assert numbers_of(api, "referral", "prison_number") == [KEPT]
    assert numbers_of(api, "link_request", "mother_prison_number") == [KEPT]
    assert api.get("admin", f"/v1/referrals/{referral['id']}").json()["version"] == 2
    # Audited as the estate's events, each change on her case.
    alias_id = api.sql("SELECT id FROM prison_number_alias")[0][0]
    subject = db_id(api, her["id"])
    assert sorted(by_event_source(api, trail), key=str) == sorted(
        [
            ("alter", "mother", subject, subject),
            ("collect", "prison_number_alias", alias_id, subject),
            ("alter", "referral", db_id(api, referral["id"]), subject),
            ("alter", "link_request", db_id(api, pending.json()["id"]), subject),
        ],
        key=str,
    )
    # The same woman under her new number: no one need review it, and no authority is told
    # (none reads her number).
    assert count(api, "review_flag") == 0
    assert count(api, "change_event") == feed_before


def test_only_the_kept_number_has_a_case_what_was_under_the_removed_one_joins_her(
    api: Api,
) -> None:
    her = api.mother(prison_number=KEPT)
    referral = refer(api, prison_number=REMOVED)
    pending = push(api, "BR-1", REMOVED).json()

    trail = trail_end(api)
    mother_id = merge(api, KEPT, REMOVED)

    assert str(mother_id) == her["id"]
    now = api.get("admin", f"/v1/mothers/{her['id']}").json()
    assert (now["prison_number"], now["version"]) == (KEPT, her["version"])  # nothing of hers
    assert aliases(api) == [(REMOVED, db_id(api, her["id"]))]
    assert numbers_of(api, "referral", "prison_number") == [KEPT]
    assert numbers_of(api, "link_request", "mother_prison_number") == [KEPT]
    kinds = sorted((action, kind) for action, kind, _, _ in by_event_source(api, trail))
    assert kinds == [
        ("alter", "link_request"),
        ("alter", "referral"),
        ("collect", "prison_number_alias"),
    ]
    assert count(api, "review_flag") == 0
    # The request now names her, for her prison to decide; the referral is hers to accept.
    shown = api.get("ewi_worker", f"/v1/link-requests/{pending['id']}").json()
    assert shown["mother_id"] == her["id"]
    assert api.get("admin", f"/v1/referrals/{referral['id']}").json()["prison_number"] == KEPT


def test_both_numbers_have_cases_nothing_moves_and_both_are_flagged(api: Api) -> None:
    kept = api.mother(prison_number=KEPT)
    removed = api.mother(prison_number=REMOVED, prison_code="SDI")
    refer(api, prison_number=REMOVED, prison_code="SDI")

    trail = trail_end(api)
    mother_id = merge(api, KEPT, REMOVED)

    assert str(mother_id) == kept["id"]
    for her in (kept, removed):
        now = api.get("admin", f"/v1/mothers/{her['id']}").json()
        assert (now["prison_number"], now["version"]) == (her["prison_number"], her["version"])
    assert aliases(api) == []
    assert numbers_of(api, "referral", "prison_number") == [REMOVED]
    raised = flags(api)
    assert {(row[0], row[1]) for row in raised} == {
        (db_id(api, kept["id"]), "event"),
        (db_id(api, removed["id"]), "event"),
    }
    reasons = {str(row[0]).replace("-", ""): row[2] for row in raised}
    # Each names both numbers, so that an administrator can decide; neither names the other
    # record nor where she is held (a flag is read in her own prison, which may not see her).
    assert all(KEPT in reason and REMOVED in reason for reason in reasons.values())
    assert removed["id"] not in reasons[kept["id"].replace("-", "")]
    assert kept["id"] not in reasons[removed["id"].replace("-", "")]
    assert all("SDI" not in reason for reason in reasons.values())
    # Each prison sees its own record flagged.
    shown = api.get("ewi_worker", f"/v1/mothers/{kept['id']}").json()["flags_for_review"]
    assert [flag["reason"] for flag in shown] == [reasons[kept["id"].replace("-", "")]]
    kinds = sorted((action, kind) for action, kind, _, _ in by_event_source(api, trail))
    assert kinds == [("collect", "review_flag"), ("collect", "review_flag")]


def test_neither_number_known_changes_nothing_and_stores_nothing(api: Api) -> None:
    someone = api.mother()
    before = snapshot(api)

    assert merge(api, KEPT, REMOVED) is None

    assert snapshot(api) == before
    assert api.get("admin", f"/v1/mothers/{someone['id']}").json()["version"] == 1


def test_a_referral_under_the_removed_number_moves_with_no_record_behind_it(api: Api) -> None:
    referral = refer(api, prison_number=REMOVED)

    assert merge(api, KEPT, REMOVED) is None

    assert api.get("admin", f"/v1/referrals/{referral['id']}").json()["prison_number"] == KEPT
    assert count(api, "prison_number_alias") == 0  # no one to hold it


def test_the_queue_keeps_a_referral_moved_by_a_merge_of_no_record(api: Api) -> None:
    """Through what the consumer calls: the merge is ignored (no one's case, nothing in the
    inbox), yet the referral it moved stays moved (committed, not rolled back)."""
    referral = refer(api, prison_number=REMOVED)

    outcome = events.deliver(api, events.merged(KEPT, REMOVED, "2026-11-02T10:00:00+00:00"))

    assert outcome == "ignored"
    assert api.get("admin", f"/v1/referrals/{referral['id']}").json()["prison_number"] == KEPT
    assert count(api, "prison_event") == 0


def test_a_merge_applied_again_changes_nothing(api: Api) -> None:
    her = api.mother(prison_number=REMOVED)
    refer(api, prison_number=REMOVED)
    push(api, "BR-1", REMOVED)
    delivered = merge_delivered(KEPT, REMOVED)
    assert str(apply(api, delivered)) == her["id"]
    once = snapshot(api)

    # The same delivery again, and the same merge published again (another occurredAt: a
    # fingerprint of its own, which the inbox's dedupe would not catch).
    assert str(apply(api, delivered)) == her["id"]
    assert str(apply(api, merge_delivered(KEPT, REMOVED, "2026-11-02T10:16:00Z"))) == her["id"]

    assert snapshot(api) == once


def test_a_merge_of_two_cases_applied_again_flags_each_once(api: Api) -> None:
    api.mother(prison_number=KEPT)
    api.mother(prison_number=REMOVED)
    merge(api, KEPT, REMOVED)
    once = snapshot(api)

    merge(api, KEPT, REMOVED)

    assert snapshot(api) == once
    assert count(api, "review_flag") == 2


def test_a_search_by_the_old_number_finds_her(api: Api) -> None:
    her = api.mother(prison_number=REMOVED)
    api.mother()  # someone else, not found by either number
    merge(api, KEPT, REMOVED)

    for number in (REMOVED, KEPT):
        for who in ("admin", "ewi_worker"):
            found = api.get(who, "/v1/mothers", params={"prison_number": number})
            assert found.status_code == 200, found.text
            assert [m["id"] for m in found.json()["items"]] == [her["id"]], (who, number)
    # Out of scope: another prison's worker finds no one by either.
    assert (
        api.get("sdi_worker", "/v1/mothers", params={"prison_number": REMOVED}).json()["items"]
        == []
    )
    assert (
        api.get("admin", "/v1/mothers", params={"prison_number": "Z9999ZZ"}).json()["items"] == []
    )
    # A new record cannot take her old number: it names her.
    again = api.post("admin", "/v1/mothers", mother_body(prison_number=REMOVED))
    assert again.status_code == 409, again.text


def test_the_subject_access_export_by_the_old_number_is_hers(api: Api) -> None:
    her = api.mother(prison_number=REMOVED)
    merge(api, KEPT, REMOVED)

    response = api.get("admin", "/v1/subject-access-export", params={"prison_number": REMOVED})

    assert response.status_code == 200, response.text
    export = response.json()
    assert export["subject"] == {"mother_id": her["id"], "prison_number": KEPT}
    assert [a["prison_number"] for a in export["records"]["prison_number_alias"]] == [REMOVED]


def test_a_link_request_by_the_old_number_finds_her(api: Api) -> None:
    her = api.mother(prison_number=REMOVED)
    merge(api, KEPT, REMOVED)

    # Her children's authority still knows her by the number it had.
    response = push(api, "BR-1", REMOVED)

    assert response.status_code == 202, response.text
    request = response.json()
    listed = api.get("ewi_worker", "/v1/link-requests").json()["items"]
    assert [(r["id"], r["mother_id"]) for r in listed] == [(request["id"], her["id"])]
    confirmed = api.post("ewi_worker", f"/v1/link-requests/{request['id']}/confirm", {})
    assert confirmed.status_code == 200, confirmed.text
    (child,) = api.get("admin", f"/v1/mothers/{her['id']}").json()["children"]
    # Linked now, its pushes under the old number update her child, not another request.
    again = push(api, "BR-1", REMOVED, lives_with="kinship_carer")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == child["id"]
    assert count(api, "link_request") == 1


def test_a_declined_link_request_stays_declined_under_the_old_number(api: Api) -> None:
    her = api.mother(prison_number=REMOVED)
    declined = push(api, "BR-1", REMOVED).json()
    refused = {"reason": "Not her child."}
    decided = api.post("ewi_worker", f"/v1/link-requests/{declined['id']}/decline", refused)
    assert decided.status_code == 200, decided.text
    merge(api, KEPT, REMOVED)

    again = push(api, "BR-1", REMOVED)

    # Decided on the number it named, which it keeps: asked again under it, still declined.
    assert again.status_code == 409, again.text
    shown = api.get("ewi_worker", f"/v1/link-requests/{declined['id']}").json()
    assert (shown["status"], shown["mother_prison_number"]) == ("declined", REMOVED)
    assert shown["mother_id"] == her["id"]


def test_her_worklist_shows_a_request_by_the_old_number(api: Api) -> None:
    her = api.mother(prison_number=REMOVED)
    merge(api, KEPT, REMOVED)
    request = push(api, "BR-1", REMOVED).json()

    listed = api.get("ewi_worker", "/v1/worklist").json()["items"]

    (item,) = [i for i in listed if i["kind"] == "link_request"]
    assert (item["resource_id"], item["mother"]["id"]) == (request["id"], her["id"])
    assert item["mother"]["prison_number"] == KEPT


def test_a_referral_by_the_old_number_is_accepted_onto_her_record(api: Api) -> None:
    her = api.mother(prison_number=REMOVED)
    merge(api, KEPT, REMOVED)
    referral = refer(api, prison_number=REMOVED)

    response = decide(api, referral, decision="accepted", decided_on=days_ago(1))

    assert response.status_code == 200, response.text
    assert response.json()["mother_id"] == her["id"]
    assert count(api, "mother") == 1


def test_the_mothers_involved_are_locked_in_id_order(api: Api) -> None:
    api.mother(prison_number=KEPT)
    api.mother(prison_number=REMOVED)

    with counting(api) as sent:
        merge(api, KEPT, REMOVED)

    # Both rows in one statement, in id order: two merges never take them the other way round.
    locking = [s for s in sent if "FROM mother" in s and "ORDER BY mother.id" in s]
    assert len(locking) == 1, sent
    if api.database_url.startswith("postgresql"):
        assert locking[0].rstrip().endswith("FOR UPDATE")


def test_a_merge_waits_for_her_row(api: Api) -> None:
    """On PostgreSQL: her row held by another transaction (one that does not stop the merge's
    own writes: not a key update) holds the merge up."""
    if not api.database_url.startswith("postgresql"):
        return
    her = api.mother(prison_number=KEPT)
    delivered = merge_delivered(KEPT, REMOVED)
    maker = api.client.app.state.sessionmaker  # type: ignore[attr-defined]

    async def run() -> None:
        async with maker() as holder, holder.begin():
            await holder.execute(
                text("SELECT id FROM mother WHERE id = :id FOR NO KEY UPDATE"),
                {"id": uuid.UUID(her["id"])},
            )
            async with maker() as session, session.begin():
                await session.execute(text("SET LOCAL lock_timeout = '200ms'"))
                with pytest.raises(DBAPIError, match="lock timeout"):
                    await apply_merge(session, delivered)

    api.client.portal.call(run)  # type: ignore[union-attr]
    assert count(api, "prison_number_alias") == 0
    assert merge(api, KEPT, REMOVED) is not None  # and applies once it is free
