"""The sync client (tac_api.client) and examples/la_sync.py: against the real app over real HTTP
(uvicorn on 127.0.0.1, on the test database), and against scripted answers (httpx.MockTransport)
for what a healthy server does not do on cue: lost answers, 429, 503, a key still in flight."""

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tac_api.children.schemas import ChildPublic
from tac_api.client import (
    UNSET,
    AsyncTacSyncClient,
    AuthenticationFailed,
    Conflict,
    ConnectionFailed,
    InvalidRequest,
    NotAllowed,
    PreconditionFailed,
    RateLimited,
    ServerError,
    SyncBatchAnswer,
    TacSyncClient,
    UnexpectedAnswer,
    signature_header,
    verify_signature,
)
from tac_api.demo import load_demo_data
from tac_api.hearings.schemas import CourtHearingPublic
from tac_api.link_requests.schemas import LinkRequestForAuthority
from tac_api.meetings.schemas import MeetingPublic
from tac_api.sync.schemas import SyncChild, SyncChildBatchItem
from tests.support.api import Api
from tests.support.bodies import batch_item, sync_child
from tests.support.sql import count
from tests.support.world import linked_mother

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
import la_sync  # noqa: E402  (an example script, not a package)

# A real server -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(live_server: str) -> str:
    return live_server


class Forwarding(httpx.BaseTransport):
    """Sends to the real server, recording each request's Idempotency-Key; `lose` decides, per
    request, whether its answer is lost on the way back (the server has acted on it)."""

    def __init__(self, lose: Callable[[httpx.Request, int], BaseException | None] | None = None):
        self.inner = httpx.HTTPTransport()
        self.lose = lose
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers.get("Idempotency-Key"))
        response = self.inner.handle_request(request)
        lost = self.lose(request, len(self.keys)) if self.lose else None
        if lost is not None:
            response.read()
            response.close()
            raise lost
        return response

    def close(self) -> None:
        self.inner.close()


# The client against the real app -----------------------------------------------------------


def test_put_child_creates_then_answers_unchanged_with_the_services_model(
    api: Api, server: str
) -> None:
    mother = linked_mother(api)
    body = SyncChild.model_validate(sync_child(mother["prison_number"]))

    with TacSyncClient(server, api.tokens["bristol_system"]) as tac:
        result, child = tac.put_child("BR-1001", body)
        again = tac.put_child("BR-1001", body, if_match=child.version)

    assert result == "created"
    assert isinstance(child, ChildPublic)
    assert (child.external_id, str(child.mother_id)) == ("BR-1001", mother["id"])
    assert again.result == "unchanged"
    assert again.record == child
    assert count(api, "child") == 2


def test_a_model_sends_only_its_fields_set_so_the_prison_sides_are_kept(
    api: Api, server: str
) -> None:
    """A field left unset on a SyncChild is not sent: the carer the prison side recorded stays."""
    mother = api.mother()
    carer = {"name": "Morwenna Trevithick", "phone": None, "address": None}
    api.child(mother["id"], carer=carer)
    body = SyncChild.model_validate(sync_child(mother["prison_number"]))

    with TacSyncClient(server, api.tokens["bristol_system"]) as tac:
        result, child = tac.put_child("BR-55", body)
        item = {"external_id": "BR-55", **sync_child(mother["prison_number"])}
        answer = tac.batch_children([SyncChildBatchItem.model_validate(item)])

    assert result == "updated"
    assert child.carer is not None and child.carer.model_dump() == carer
    assert child.kept_from_prison_record == ["carer"]
    assert answer.results[0].kept_from_prison_record == ["carer"]


def test_a_batch_gives_a_result_per_item_and_sends_an_idempotency_key(
    api: Api, server: str
) -> None:
    mother = linked_mother(api)
    transport = Forwarding()
    items = [
        batch_item(mother["prison_number"], "BR-1", first_name="Siân"),
        batch_item("Z9999ZZ", "BR-2", first_name="Zoë"),  # no such mother: held, pending
        batch_item(mother["prison_number"], "BR-3", first_name="Rhys", date_of_birth="2018-01-01"),
    ]

    with TacSyncClient(server, api.tokens["bristol_system"], transport=transport) as tac:
        answer = tac.batch_children(items)

    assert isinstance(answer, SyncBatchAnswer)
    assert (answer.created, answer.pending, answer.failed) == (2, 1, 0)
    assert [r.result for r in answer.results] == ["created", "pending", "created"]
    assert answer.results[1].problem is None and answer.results[1].link_request_id is not None
    assert transport.keys == [answer.idempotency_key]
    assert uuid.UUID(answer.idempotency_key).version == 4
    assert answer.replayed is False
    assert count(api, "child") == 3


def test_a_batch_whose_answer_was_lost_is_sent_again_under_the_same_key(
    api: Api, server: str
) -> None:
    mother = linked_mother(api)
    items = [batch_item(mother["prison_number"], f"BR-{n}", first_name=f"Nia{n}") for n in range(5)]

    def lose_first(request: httpx.Request, attempt: int) -> BaseException | None:
        return httpx.ReadTimeout("answer lost", request=request) if attempt == 1 else None

    transport = Forwarding(lose_first)
    with TacSyncClient(server, api.tokens["bristol_system"], transport=transport, backoff=0) as tac:
        answer = tac.batch_children(items, idempotency_key="batch-2026-03-01-1")

    assert transport.keys == ["batch-2026-03-01-1", "batch-2026-03-01-1"]
    # The first attempt landed: the second is its answer replayed, nothing applied twice.
    assert answer.replayed is True
    assert (answer.created, answer.unchanged) == (5, 0)
    assert count(api, "child") == 6


def test_a_key_sent_again_with_another_batch_is_refused_not_retried(api: Api, server: str) -> None:
    mother = linked_mother(api)
    transport = Forwarding()
    with TacSyncClient(server, api.tokens["bristol_system"], transport=transport) as tac:
        tac.batch_children([batch_item(mother["prison_number"], "BR-1")], idempotency_key="k-1")
        with pytest.raises(InvalidRequest) as refused:
            tac.batch_children([batch_item(mother["prison_number"], "BR-2")], idempotency_key="k-1")

    assert refused.value.type == "urn:tac-api:problem:idempotency-key-reused"
    assert transport.keys == ["k-1", "k-1"]
    assert count(api, "child") == 2


def test_court_hearings_and_meetings_are_pushed_by_the_authoritys_ids(
    api: Api, server: str
) -> None:
    mother = linked_mother(api)
    with TacSyncClient(server, api.tokens["bristol_system"]) as tac:
        tac.put_child("BR-A", sync_child(mother["prison_number"]))
        hearing = tac.put_court_hearing(
            "CASE-42-H1",
            {
                "mother_prison_number": mother["prison_number"],
                "child_external_ids": ["BR-A"],
                "court_name": "Bristol Civil and Family Justice Centre",
                "hearing_type": "case_management",
                "starts_at": "2027-01-12T10:00:00Z",
            },
        )
        meeting = tac.put_meeting(
            "LAC-7",
            {
                "mother_prison_number": mother["prison_number"],
                "child_external_ids": ["BR-A"],
                "meeting_type": "looked_after_child_review",
                "starts_at": "2027-01-05T14:00:00Z",
                "platform": "microsoft_teams",
            },
        )

    assert hearing.result == meeting.result == "created"
    assert isinstance(hearing.record, CourtHearingPublic)
    assert isinstance(meeting.record, MeetingPublic)
    assert str(hearing.record.mother_id) == mother["id"]


def test_iter_changes_reads_the_live_feed_to_the_end_and_resumes(api: Api, server: str) -> None:
    mother = linked_mother(api)
    hearing = {
        "mother_prison_number": mother["prison_number"],
        "child_external_ids": ["BR-A"],
        "court_name": "Bristol Civil and Family Justice Centre",
        "hearing_type": "case_management",
        "starts_at": "2027-01-12T10:00:00Z",
    }
    with TacSyncClient(server, api.tokens["bristol_system"]) as tac:
        tac.put_child("BR-A", sync_child(mother["prison_number"]))
        for n in range(5):
            tac.put_court_hearing(f"H-{n}", hearing)
        seen = list(tac.iter_changes(limit=2))
        last = seen[-1].cursor
        tac.put_court_hearing("H-0", {**hearing, "starts_at": "2027-01-19T10:00:00Z"})
        resumed = list(tac.iter_changes(after=last))

    assert [event.type for event in seen] == ["court-hearing.created"] * 5
    assert [event.type for event in resumed] == ["court-hearing.updated"]
    assert resumed[0].resource_id == seen[0].resource_id


def test_refusals_raise_typed_errors_carrying_the_problem_and_no_personal_data(
    api: Api, server: str
) -> None:
    mother = linked_mother(api)
    with TacSyncClient(server, api.tokens["bristol_system"]) as tac:
        with pytest.raises(InvalidRequest) as invalid:
            tac.put_child(
                "BR-1", sync_child("Z9999ZZ", first_name="Eluned", date_of_birth="2999-01-01")
            )
        tac.put_child("BR-2", sync_child(mother["prison_number"]))
        with pytest.raises(PreconditionFailed) as stale:
            tac.put_child("BR-2", sync_child(mother["prison_number"]), if_match='"7"')
    practitioner = TacSyncClient(server, api.tokens["bristol"])
    with practitioner, pytest.raises(NotAllowed):
        practitioner.put_child("BR-3", sync_child(mother["prison_number"]))
    stranger = TacSyncClient(server, "not-a-token")
    with stranger, pytest.raises(AuthenticationFailed):
        stranger.batch_children([batch_item(mother["prison_number"], "BR-4")])

    error = invalid.value
    assert error.status == 422
    assert error.type == "urn:tac-api:problem:validation"
    assert [e.field for e in error.errors] == ["date_of_birth"]
    assert "Eluned" not in str(error) and "Z9999ZZ" not in str(error)
    assert error.request_id and error.request_id in str(error)
    assert stale.value.status == 412
    assert count(api, "child") == 2


def test_the_async_client_puts_and_batches_over_real_http(api: Api, server: str) -> None:
    mother = linked_mother(api)

    async def work() -> tuple[Any, Any]:
        async with AsyncTacSyncClient(server, api.tokens["bristol_system"]) as tac:
            put = await tac.put_child("BR-1", sync_child(mother["prison_number"]))
            batch = await tac.batch_children(
                [
                    SyncChildBatchItem.model_validate(batch_item(mother["prison_number"], "BR-1")),
                    batch_item("Z9999ZZ", "BR-2"),
                ]
            )
            held = await tac.put_child("BR-3", sync_child("Z9999ZZ"))
            assert held.pending and isinstance(held.record, LinkRequestForAuthority)
            assert (await tac.link_requests()).items[0].external_id == "BR-2"
            return put, batch

    put, batch = asyncio.run(work())

    assert put.result == "created" and isinstance(put.record, ChildPublic)
    assert [r.result for r in batch.results] == ["unchanged", "pending"]
    assert count(api, "child") == 2


# Retries, against scripted answers ---------------------------------------------------------

OK_BATCH = {"created": 1, "updated": 0, "unchanged": 0, "pending": 0, "failed": 0, "results": []}
ITEM = {"external_id": "BR-1", "mother_prison_number": "A0001BC"}


def problem(status: int, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": "t", "status": status, "detail": "d", **extra}


class Script:
    """Answers in turn (a Response, or an exception to raise), recording each request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        # A fresh copy: a response is read once, and a script is played to both clients.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    @property
    def keys(self) -> list[str | None]:
        return [request.headers.get("Idempotency-Key") for request in self.requests]


def lost(message: str = "lost") -> httpx.ReadTimeout:
    return httpx.ReadTimeout(message)


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Sleeps recorded instead of waited, for both clients."""
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(TacSyncClient, "_sleep", staticmethod(waits.append))
    monkeypatch.setattr(AsyncTacSyncClient, "_sleep", staticmethod(no_wait))
    return waits


def run_both(
    script: Script, work: Callable[[Any], Any], **options: Any
) -> tuple[Any | BaseException, Any | BaseException]:
    """`work(client)` with the sync client, then (on the same script, replayed from its start)
    the async one; each result, or the exception it raised."""
    answers = list(script.answers)

    def outcome(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as error:
            return error

    def with_sync() -> Any:
        with TacSyncClient(
            "http://tac.test", "t", transport=httpx.MockTransport(script), **options
        ) as tac:
            return work(tac)

    async def with_async() -> Any:
        async with AsyncTacSyncClient(
            "http://tac.test", "t", transport=httpx.MockTransport(script), **options
        ) as tac:
            result = work(tac)
            return await result if asyncio.iscoroutine(result) else result

    first = outcome(with_sync)
    script.answers = list(answers)
    return first, outcome(lambda: asyncio.run(with_async()))


@pytest.mark.parametrize("client_kind", ["sync", "async"])
def test_a_failed_attempt_is_retried_under_the_same_key(
    client_kind: str, slept: list[float]
) -> None:
    script = Script(httpx.ConnectError("refused"), lost(), httpx.Response(200, json=OK_BATCH))
    if client_kind == "sync":
        with TacSyncClient(
            "http://tac.test", "t", transport=httpx.MockTransport(script), backoff=1
        ) as tac:
            answer = tac.batch_children([ITEM])
    else:

        async def work() -> SyncBatchAnswer:
            async with AsyncTacSyncClient(
                "http://tac.test", "t", transport=httpx.MockTransport(script), backoff=1
            ) as tac:
                return await tac.batch_children([ITEM])

        answer = asyncio.run(work())

    assert answer.created == 1
    assert len(script.keys) == 3 and len(set(script.keys)) == 1
    assert script.keys[0] == answer.idempotency_key
    # The same bytes every time: the service compares the body under the key.
    assert len({request.content for request in script.requests}) == 1
    assert 0.5 <= slept[0] <= 1 and 1 <= slept[1] <= 2  # doubling, jittered in the upper half


def test_429_and_a_key_in_flight_wait_what_retry_after_says(slept: list[float]) -> None:
    script = Script(
        httpx.Response(429, json=problem(429), headers={"Retry-After": "7"}),
        httpx.Response(409, json=problem(409), headers={"Retry-After": "1"}),
        httpx.Response(200, json=OK_BATCH, headers={"Idempotent-Replayed": "true"}),
    )

    sync, asynchronous = run_both(script, lambda tac: tac.batch_children([ITEM]))

    for answer in (sync, asynchronous):
        assert isinstance(answer, SyncBatchAnswer) and answer.replayed is True
    assert slept == [7, 1, 7, 1]
    assert len(set(script.keys)) == 2  # one key per batch_children call, kept by its retries


def test_a_retry_after_beyond_the_limit_is_not_slept_through(slept: list[float]) -> None:
    script = Script(httpx.Response(429, json=problem(429), headers={"Retry-After": "3600"}))

    sync, asynchronous = run_both(script, lambda tac: tac.batch_children([ITEM]))

    assert isinstance(sync, RateLimited) and isinstance(asynchronous, RateLimited)
    assert slept == []


@pytest.mark.parametrize(
    ("status", "error"),
    [(409, Conflict), (412, PreconditionFailed), (422, InvalidRequest), (500, ServerError)],
)
def test_other_refusals_are_never_retried(
    status: int, error: type[Exception], slept: list[float]
) -> None:
    script = Script(httpx.Response(status, json=problem(status)))

    sync, asynchronous = run_both(script, lambda tac: tac.put_child("BR-1", ITEM))

    assert isinstance(sync, error) and isinstance(asynchronous, error)
    assert len(script.requests) == 2  # once each
    assert slept == []


def test_gateway_failures_are_retried_then_given_up_without_echoing_the_page(
    slept: list[float],
) -> None:
    page = httpx.Response(502, text="<html>upstream Siân O'Connor</html>")
    script = Script(page, page, page)

    sync, asynchronous = run_both(script, lambda tac: tac.put_child("BR-1", ITEM), retries=2)

    assert isinstance(sync, ServerError) and isinstance(asynchronous, ServerError)
    assert len(script.requests) == 6
    assert sync.status == 502 and "Siân" not in str(sync)
    assert sync.detail == "The server answered 502 without a problem description."


def test_no_answer_after_every_retry_is_a_connection_failure(slept: list[float]) -> None:
    script = Script(*(httpx.ConnectError("refused") for _ in range(5)))

    sync, asynchronous = run_both(script, lambda tac: tac.changes())

    assert isinstance(sync, ConnectionFailed) and isinstance(asynchronous, ConnectionFailed)
    assert len(script.requests) == 10  # 1 + 4 retries, each client
    assert len(slept) == 8


def test_a_patch_is_resent_only_if_it_never_left(slept: list[float]) -> None:
    webhook = webhook_public()
    script = Script(httpx.ConnectError("refused"), httpx.Response(200, json=webhook), lost())

    with TacSyncClient("http://tac.test", "t", transport=httpx.MockTransport(script)) as tac:
        tac.update_webhook(webhook["id"], if_match=1, active=False)  # refused, then sent
        with pytest.raises(ConnectionFailed):
            tac.update_webhook(webhook["id"], if_match=2, active=True)  # may have landed

    assert len(script.requests) == 3


def test_a_success_that_breaks_the_contract_is_an_unexpected_answer() -> None:
    script = Script(httpx.Response(200, json={"id": "not a child"}))  # and no Sync-Result

    sync, asynchronous = run_both(script, lambda tac: tac.put_child("BR-1", ITEM))

    assert isinstance(sync, UnexpectedAnswer) and isinstance(asynchronous, UnexpectedAnswer)


# The change feed and webhooks, against scripted answers -------------------------------------


def feed_event(n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "court-hearing.updated",
        "occurred_at": "2026-03-01T10:00:00Z",
        "mother_id": str(uuid.uuid4()),
        "child_ids": [],
        "resource_type": "court_hearing",
        "resource_id": str(uuid.uuid4()),
        "data": {"n": n},
        "cursor": f"c{n}",
    }


class Feed:
    """Five events; pages of `limit` after the cursor `after`."""

    def __init__(self) -> None:
        self.events = [feed_event(n) for n in range(1, 6)]
        self.asked: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        limit = int(request.url.params["limit"])
        self.asked.append(after)
        start = 0 if after is None else int(after[1:])
        page = self.events[start : start + limit]
        next_cursor = page[-1]["cursor"] if page else (after or "c0")
        return httpx.Response(200, json={"items": page, "next_cursor": next_cursor})


def test_iter_changes_pages_until_caught_up() -> None:
    feed = Feed()
    with TacSyncClient("http://tac.test", "t", transport=httpx.MockTransport(feed)) as tac:
        seen = [event.data["n"] for event in tac.iter_changes(limit=2)]
        later = list(tac.iter_changes("c5", limit=2))

    async def read_async() -> list[int]:
        async with AsyncTacSyncClient(
            "http://tac.test", "t", transport=httpx.MockTransport(feed)
        ) as tac:
            return [event.data["n"] async for event in tac.iter_changes("c1", limit=2)]

    assert seen == [1, 2, 3, 4, 5]
    assert later == []
    assert asyncio.run(read_async()) == [2, 3, 4, 5]
    assert feed.asked == [None, "c2", "c4", "c5", "c1", "c3", "c5"]


def webhook_public(**fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "created_at": "2026-03-01T10:00:00Z",
        "updated_at": "2026-03-01T10:00:00Z",
        "version": 1,
        "local_authority_code": "801",
        "url": "https://sync.example.gov.uk/tac/events",
        "description": None,
        "event_types": None,
        "active": True,
        "cursor": "c0",
        **fields,
    }


def test_webhook_calls_send_what_the_contract_says() -> None:
    hook = webhook_public()
    delivery = {
        "id": str(uuid.uuid4()),
        "webhook_id": hook["id"],
        "event_id": str(uuid.uuid4()),
        "event_type": "meeting.created",
        "status": "failed",
        "attempts": 3,
        "created_at": "2026-03-01T10:00:00Z",
        "last_attempt_at": "2026-03-01T10:05:00Z",
        "next_attempt_at": None,
        "finished_at": "2026-03-01T10:05:00Z",
        "response_status": 500,
        "error": "500",
    }
    script = Script(
        httpx.Response(201, json={**hook, "secret": "s3cret"}),
        httpx.Response(200, json={"items": [hook], "next_cursor": None}),
        httpx.Response(200, json={**hook, "version": 2, "description": None}),
        httpx.Response(200, json={"items": [delivery], "next_cursor": "d1"}),
        httpx.Response(200, json={**hook, "version": 3, "secret": "n3w"}),
        httpx.Response(204),
    )
    with TacSyncClient("http://tac.test", "t", transport=httpx.MockTransport(script)) as tac:
        created = tac.create_webhook(hook["url"], event_types=["meeting.created"])
        listed = tac.webhooks(limit=10)
        changed = tac.update_webhook(hook["id"], if_match=1, description=None, url=UNSET)
        sent = tac.deliveries(hook["id"], status="failed")
        rotated = tac.rotate_webhook_secret(hook["id"], if_match=2)
        tac.delete_webhook(hook["id"], if_match=3)

    create, listing, update, deliveries, rotate, delete = script.requests
    assert created.secret == "s3cret"
    assert json.loads(create.content) == {"url": hook["url"], "event_types": ["meeting.created"]}
    assert uuid.UUID(create.headers["Idempotency-Key"])
    assert listed.items[0].url == hook["url"] and listing.url.params["limit"] == "10"
    assert update.method == "PATCH" and update.headers["If-Match"] == '"1"'
    assert json.loads(update.content) == {"description": None}  # only the fields given
    assert changed.version == 2
    assert sent.items[0].status == "failed" and deliveries.url.params["status"] == "failed"
    assert (delete.method, delete.url.path) == ("DELETE", f"/v1/sync/webhooks/{hook['id']}")
    assert rotated.secret == "n3w" and rotate.headers["If-Match"] == '"2"'
    assert uuid.UUID(rotate.headers["Idempotency-Key"])
    assert delete.headers["If-Match"] == '"3"'
    assert all(r.headers["Authorization"] == "Bearer t" for r in script.requests)


# Webhook signatures ------------------------------------------------------------------------

SECRET = "whsec_test"
BODY = b'{"id":"e1","type":"court-hearing.updated"}'
NOW = 1_772_000_000


def test_a_delivery_signed_with_the_secret_verifies() -> None:
    digest = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    header = f"t={NOW},v1={digest}"

    assert signature_header(SECRET, BODY, NOW) == header
    assert verify_signature(SECRET, header, BODY, now=NOW)
    assert verify_signature(SECRET, header, BODY, now=NOW + 300)
    assert verify_signature(SECRET, f"t={NOW},v1={'0' * 64},v1={digest}", BODY, now=NOW)


@pytest.mark.parametrize(
    ("secret", "header", "body", "now"),
    [
        ("another secret", None, BODY, NOW),
        (SECRET, None, BODY + b" ", NOW),  # the body changed
        (SECRET, None, BODY, NOW + 301),  # too old: a replay
        (SECRET, None, BODY, NOW - 301),  # from the future
        (SECRET, "", BODY, NOW),
        (SECRET, "v1=00", BODY, NOW),  # no timestamp
        (SECRET, f"t={NOW}", BODY, NOW),  # no signature
        (SECRET, f"t=soon,v1={'0' * 64}", BODY, NOW),
    ],
)
def test_anything_else_does_not(secret: str, header: str | None, body: bytes, now: int) -> None:
    header = signature_header(SECRET, BODY, NOW) if header is None else header

    assert not verify_signature(secret, header, body, now=now)


def test_the_signature_is_checked_against_the_time_signed_not_a_time_sent_alongside() -> None:
    signed = signature_header(SECRET, BODY, NOW)
    moved = signed.replace(f"t={NOW}", f"t={NOW + 1000}")

    assert not verify_signature(SECRET, moved, BODY, now=NOW + 1000)


# examples/la_sync.py -----------------------------------------------------------------------

HEADER = ",".join(la_sync.COLUMNS)


def csv_row(external_id: str, prison_number: str, first_name: str, **cells: str) -> str:
    values = {
        "external_id": external_id,
        "mother_prison_number": prison_number,
        "first_name": first_name,
        "last_name": "O'Connor",
        "date_of_birth": "2016-02-03",
        "lives_with": "foster_carer",
        "social_worker_name": "Gwen Llewellyn",
        **cells,
    }
    return ",".join(values.get(column, "") for column in la_sync.COLUMNS)


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def state_of(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(path.name + ".sync-state.json").read_text())


def test_the_example_pushes_a_csv_in_batches_and_names_the_failed_lines(
    api: Api, server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mother = linked_mother(api)
    number = mother["prison_number"]
    path = write_csv(
        tmp_path / "children.csv",
        [
            csv_row("BR-1", number, "Siân"),
            csv_row("BR-2", number, "Rhys", date_of_birth="2018-04-05", sex="male"),
            "",  # a blank line is skipped, and still counted
            csv_row("BR-3", "Z9999ZZ", "Eluned"),  # line 5: no such mother: held, pending
            csv_row(
                "BR-4", number, "Nia", date_of_birth="2019-01-02", placement_confidential="yes"
            ),
            csv_row("BR-5", number, "Mared", date_of_birth="31/01/2020"),  # line 7
        ],
    )
    argv = [
        str(path),
        "--url",
        server,
        "--token",
        api.tokens["bristol_system"],
        "--batch-size",
        "2",
    ]

    assert la_sync.main(argv) == 1

    out = capsys.readouterr().out
    assert "batch 1/3 (lines 2-3): 2 created, 0 updated, 0 unchanged, 0 pending, 0 failed" in out
    assert "batch 2/3 (lines 5-6): 1 created, 0 updated, 0 unchanged, 1 pending, 0 failed" in out
    assert "  line 5 (BR-3): pending: held as your link request until her prison confirms" in out
    assert "  line 7 (BR-5): date_of_birth: " in out
    assert "5 rows, 1 failed, 1 pending (waiting for the prison side)" in out
    assert "Eluned" not in out and "Mared" not in out
    assert count(api, "child") == 4
    confidential = api.sql("SELECT placement_confidential FROM child WHERE external_id = 'BR-4'")
    assert confidential[0][0] in (True, 1)
    state = state_of(path)
    assert [batch["done"] for batch in state["batches"].values()] == [True, True, True]

    # Run again: nothing is sent; the failures are still reported.
    assert la_sync.main(argv, transport=httpx.MockTransport(Script())) == 1
    out = capsys.readouterr().out
    assert out.count("answered in an earlier run") == 3 and "line 5 (BR-3): pending" in out


def test_the_example_resumes_after_a_crash_resending_the_batch_in_flight_under_its_key(
    api: Api, server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mother = linked_mother(api)
    rows = [
        csv_row(f"BR-{n}", mother["prison_number"], f"Child{n}", date_of_birth=f"201{n}-01-01")
        for n in range(6)
    ]
    path = write_csv(tmp_path / "children.csv", rows)
    argv = [
        str(path),
        "--url",
        server,
        "--token",
        api.tokens["bristol_system"],
        "--batch-size",
        "2",
    ]

    def crash_on_second_batch(request: httpx.Request, n: int) -> BaseException | None:
        # The process dies after batch 2 reached the service, before its answer was saved.
        return KeyboardInterrupt() if n == 2 else None

    first = Forwarding(crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        la_sync.main(argv, transport=first)
    state = state_of(path)["batches"]
    assert state["1"]["done"] is True and "done" not in state["2"]
    assert count(api, "child") == 5  # batch 2 landed

    second = Forwarding()
    assert la_sync.main(argv, transport=second) == 0

    # Batch 1 is not sent again; batch 2 is, under the key it was first sent with.
    assert second.keys == [first.keys[1], state_of(path)["batches"]["3"]["idempotency_key"]]
    assert count(api, "child") == 7
    out = capsys.readouterr().out
    assert "batch 1/3 (lines 2-3): answered in an earlier run" in out
    assert (
        "batch 2/3 (lines 4-5): 2 created, 0 updated, 0 unchanged, 0 pending, 0 failed (the " in out
    )
    batches = state_of(path)["batches"]
    assert all(batch["done"] for batch in batches.values())


def test_the_example_refuses_a_csv_missing_a_column_and_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "children.csv"
    path.write_text(HEADER.replace(",carer_phone", ",carer_fone") + "\n" + "x" * 3 + "\n")
    nothing = Script()

    assert la_sync.main([str(path), "--token", "t"], transport=httpx.MockTransport(nothing)) == 2

    error = capsys.readouterr().err
    assert "unknown columns: carer_fone; missing columns: carer_phone" in error
    assert nothing.requests == []


def test_a_changed_csv_starts_afresh(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "children.csv", [csv_row("BR-1", "A0001BC", "Siân")])
    answer = {
        **OK_BATCH,
        "results": [
            {
                "index": 0,
                "external_id": "BR-1",
                "result": "created",
                "id": str(uuid.uuid4()),
                "version": 1,
                "link_request_id": None,
                "problem": None,
            }
        ],
    }
    script = Script(*(httpx.Response(200, json=answer) for _ in range(2)))
    argv = [str(path), "--token", "t"]

    assert la_sync.main(argv, transport=httpx.MockTransport(script)) == 0
    assert la_sync.main(argv, transport=httpx.MockTransport(script)) == 0  # nothing to send
    write_csv(path, [csv_row("BR-1", "A0001BC", "Siân", sex="female")])
    assert la_sync.main(argv, transport=httpx.MockTransport(script)) == 0

    assert len(script.requests) == 2 and script.keys[0] != script.keys[1]
    assert "starting afresh" in capsys.readouterr().err


def test_a_row_becomes_the_item_the_service_expects() -> None:
    cells = dict.fromkeys(la_sync.COLUMNS, "  ")
    cells.update(
        external_id="BR-1",
        first_name=" Siân ",
        placement_confidential="Yes",
        carer_name="Morwenna Trevithick",
        social_worker_email="gwen@bristol.example.gov.uk",
    )

    assert la_sync.child_item(cells) == {
        "external_id": "BR-1",
        "first_name": "Siân",
        "placement_confidential": True,
        "carer": {"name": "Morwenna Trevithick", "phone": None, "address": None},
        "social_worker": {"name": None, "email": "gwen@bristol.example.gov.uk", "phone": None},
    }


def test_the_sample_csv_syncs_against_the_demo_data_as_the_readme_says(
    api: Api, server: str, tmp_path: Path
) -> None:
    """`make run DEMO=1` loads 40 demo mothers with seed 2026: examples/children.csv names
    some of them, and the script runs as a program."""

    async def load() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            await load_demo_data(session, mothers=40, seed=2026)

    api.client.portal.call(load)  # type: ignore[union-attr]
    sample = tmp_path / "children.csv"
    sample.write_bytes((ROOT / "examples" / "children.csv").read_bytes())
    environment = {
        **os.environ,
        "TAC_API_TOKEN": api.tokens["bristol_system"],
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }

    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "la_sync.py"), str(sample), "--url", server],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Pending is no failure: the run succeeds.
    assert done.returncode == 0, done.stdout + done.stderr
    # Bristol has children of the first two mothers already; the third's wait for her prison.
    assert "4 created, 0 updated, 0 unchanged, 2 pending, 0 failed" in done.stdout
    assert "line 6 (BR-1005): pending" in done.stdout
    synced = api.sql("SELECT count(*) FROM child WHERE external_id IS NOT NULL")[0][0]
    assert synced == 4
    assert count(api, "link_request") == 2
