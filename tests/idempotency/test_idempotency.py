"""Idempotency-Key on every POST: a retry gets the first answer and changes nothing; another request
under the same key is 422; a retry while the first runs is 409; a failure frees the key; keys are
each client's own and expire; and however many arrive at once, one change is made."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update
from typer.testing import CliRunner

from tac_api.cli import app as cli
from tac_api.config import Settings, get_settings
from tac_api.db import utcnow
from tac_api.idempotency import service as idempotency
from tac_api.idempotency.models import IdempotencyKey
from tac_api.main import create_app
from tac_api.mothers import service as mothers
from tac_api.practitioners import service as practitioners
from tests.support.api import Api
from tests.support.bodies import child_body, mother_body
from tests.support.sql import counting
from tests.support.world import linked_mother

PROBLEM = "urn:tac-api:problem:"


def new_key() -> str:
    return str(uuid.uuid4())


def headers(api: Api, who: str, key: str | bytes) -> list[tuple[str, str | bytes]]:
    return [*api.headers(who).items(), ("Idempotency-Key", key)]


def post(
    api: Api, key: str | bytes, body: dict[str, Any], who: str = "admin", url: str = "/v1/mothers"
) -> Any:
    return api.client.post(url, json=body, headers=headers(api, who, key))


def mothers_numbered(api: Api, prison_number: str) -> int:
    return api.sql("SELECT count(*) FROM mother WHERE prison_number = :n", n=prison_number)[0][0]


def key_rows(api: Api, key: str) -> list[Any]:
    return api.sql(
        "SELECT client_id, completed_at, response_status FROM idempotency_key WHERE key = :k",
        k=key,
    )


def change_key(api: Api, key: str, **values: Any) -> None:
    """Age or alter a key's row as time, or a dead process, would have left it."""

    async def change() -> None:
        async with api.client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
            await connection.execute(
                update(IdempotencyKey.__table__).where(IdempotencyKey.key == key).values(**values)
            )

    api.client.portal.call(change)  # type: ignore[union-attr]


def in_app_loop(api: Api, scenario: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
    """Run `scenario` with a client sending real concurrent requests to the app under test."""

    async def run() -> Any:
        transport = httpx.ASGITransport(app=api.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await scenario(client)

    return api.client.portal.call(run)  # type: ignore[union-attr]


def pause_first_call(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str
) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold the first call of a service function (after the key was claimed, before anything is
    written) until `go_on` is set; `entered` says it has been reached. Later calls run at once."""
    entered, go_on = asyncio.Event(), asyncio.Event()
    original = getattr(module, name)
    calls = 0

    async def paused(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            entered.set()
            await go_on.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(module, name, paused)
    return entered, go_on


def test_a_retry_gets_the_first_answer_and_makes_one_record(api: Api) -> None:
    key, body = new_key(), mother_body()
    first = post(api, key, body)
    again = post(api, key, body)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    for header in ("Content-Type", "Location", "ETag"):
        assert again.headers[header] == first.headers[header]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    # The draft's form, a Structured Field string, names the same key.
    assert post(api, f'"{key}"', body).headers["Idempotent-Replayed"] == "true"
    assert mothers_numbered(api, body["prison_number"]) == 1
    assert len(key_rows(api, key)) == 1


def test_the_same_key_for_another_request_is_422_and_writes_nothing(api: Api) -> None:
    key, body = new_key(), mother_body()
    assert post(api, key, body).status_code == 201
    other = mother_body()
    refused = post(api, key, other)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == PROBLEM + "idempotency-key-reused"
    assert mothers_numbered(api, other["prison_number"]) == 0
    # The path counts too: the same key on another operation is another request.
    elsewhere = post(
        api, key, {"role": "solicitor", "name": "Máire O'Donnell"}, url="/v1/practitioners"
    )
    assert elsewhere.status_code == 422
    assert api.sql("SELECT count(*) FROM practitioner")[0][0] == 0


def test_a_retry_while_the_first_runs_is_409_then_gets_its_answer(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, body = new_key(), mother_body()
    entered, go_on = pause_first_call(monkeypatch, mothers, "create_mother")

    async def scenario(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        first = asyncio.create_task(
            client.post("/v1/mothers", json=body, headers=headers(api, "admin", key))
        )
        await entered.wait()
        retry = await client.post("/v1/mothers", json=body, headers=headers(api, "admin", key))
        go_on.set()
        return await first, retry

    first, retry = in_app_loop(api, scenario)
    assert first.status_code == 201
    assert retry.status_code == 409
    assert retry.json()["type"] == PROBLEM + "idempotency-key-in-use"
    assert retry.headers["Retry-After"] == "1"
    later = post(api, key, body)
    assert later.status_code == 201 and later.headers["Idempotent-Replayed"] == "true"
    assert later.content == first.content
    assert mothers_numbered(api, body["prison_number"]) == 1


def test_a_failed_attempt_frees_the_key_for_a_corrected_retry(api: Api) -> None:
    key = new_key()
    # Invalid as sent (refused by the schema), then refused by a rule of the service.
    assert post(api, key, mother_body(date_of_birth=0)).status_code == 422
    assert key_rows(api, key) == []
    unknown_prison = mother_body(prison_code="XXX")
    assert post(api, key, unknown_prison).status_code == 422
    assert key_rows(api, key) == []
    # Not replayed: the same failing request runs, and fails, again.
    assert post(api, key, unknown_prison).status_code == 422
    body = mother_body()
    created = post(api, key, body)
    assert created.status_code == 201 and "Idempotent-Replayed" not in created.headers
    replayed = post(api, key, body)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert mothers_numbered(api, body["prison_number"]) == 1


def test_keys_are_each_clients_own(api: Api) -> None:
    key = new_key()
    admin, worker = mother_body(), mother_body()
    assert post(api, key, admin, who="admin").status_code == 201
    theirs = post(api, key, worker, who="ewi_worker")
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert mothers_numbered(api, worker["prison_number"]) == 1
    assert len(key_rows(api, key)) == 2
    # Nor does one client's retry see the other's answer.
    assert post(api, key, admin, who="ewi_worker").status_code == 422


def test_an_expired_key_is_a_new_key_and_expired_keys_are_purged(api: Api) -> None:
    key, body = new_key(), mother_body()
    assert post(api, key, body).status_code == 201
    hours = api.client.app.state.settings.idempotency_key_hours  # type: ignore[attr-defined]
    change_key(api, key, created_at=utcnow() - timedelta(hours=hours, minutes=1))
    other = mother_body()
    fresh = post(api, key, other)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert mothers_numbered(api, other["prison_number"]) == 1

    # Gone with its stored answer once another key completes, whoever's it was.
    stale = new_key()
    assert post(api, stale, mother_body(), who="ewi_worker").status_code == 201
    change_key(api, stale, created_at=utcnow() - timedelta(hours=hours, minutes=1))
    assert len(key_rows(api, stale)) == 1
    assert post(api, new_key(), mother_body()).status_code == 201
    assert key_rows(api, stale) == []


def test_retention_run_purges_expired_keys(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    key = new_key()
    assert post(api, key, mother_body()).status_code == 201
    change_key(api, key, created_at=utcnow() - timedelta(hours=25))
    monkeypatch.setenv("TAC_DATABASE_URL", api.database_url)
    get_settings.cache_clear()
    try:
        dry_run = CliRunner().invoke(cli, ["retention", "run"])
        assert dry_run.exit_code == 0, dry_run.output
        assert "idempotency keys older than 24 h: dry run:" in dry_run.output
        assert len(key_rows(api, key)) == 1
        applied = CliRunner().invoke(cli, ["retention", "run", "--apply"])
        assert applied.exit_code == 0, applied.output
        assert "idempotency keys older than 24 h: purged" in applied.output
    finally:
        get_settings.cache_clear()
    assert key_rows(api, key) == []


def test_a_replay_is_audited_as_disclosing_the_record_again(api: Api) -> None:
    key, body = new_key(), mother_body()
    mother_id = uuid.UUID(post(api, key, body).json()["id"])
    replayed = post(api, key, body)
    events = api.sql(
        "SELECT action, resource_type, resource_id, subject_id, outcome FROM audit_event "
        "WHERE request_id = :r",
        r=replayed.headers["X-Request-ID"],
    )
    assert [(a, t, uuid.UUID(str(r)), uuid.UUID(str(s)), o) for a, t, r, s, o in events] == [
        ("disclose", "mother", mother_id, mother_id, "succeeded")
    ]


@pytest.mark.parametrize(
    "value",
    ["", "x" * 256, "tab\tinside", "caf\u00e9".encode("latin-1"), "line\x01break"],
    ids=["empty", "too-long", "tab", "not-ascii", "control"],
)
def test_a_malformed_key_is_400_and_writes_nothing(api: Api, value: str | bytes) -> None:
    body = mother_body()
    refused = post(api, value, body)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == PROBLEM + "idempotency-key-invalid"
    assert mothers_numbered(api, body["prison_number"]) == 0


def test_two_keys_at_once_are_400(api: Api) -> None:
    body = mother_body()
    two = [*api.headers("admin").items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    assert api.client.post("/v1/mothers", json=body, headers=two).status_code == 400
    assert mothers_numbered(api, body["prison_number"]) == 0


def test_the_longest_key_is_accepted(api: Api) -> None:
    key = "k" * 255
    assert post(api, key, mother_body()).status_code == 201


def test_a_dead_attempts_claim_is_taken_over_once_stale(api: Api) -> None:
    key, body = new_key(), mother_body()
    first = post(api, key, body)
    assert first.status_code == 201
    # As a process that died mid-request leaves it: claimed, never completed, nothing committed.
    api.sql("DELETE FROM mother WHERE prison_number = :n", n=body["prison_number"])
    change_key(api, key, completed_at=None, response_status=None, response_body=None)
    assert post(api, key, body).status_code == 409  # not stale yet: it may still be running
    lock = api.client.app.state.settings.idempotency_lock_seconds  # type: ignore[attr-defined]
    change_key(api, key, claimed_at=utcnow() - timedelta(seconds=lock + 1))
    retried = post(api, key, body)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert mothers_numbered(api, body["prison_number"]) == 1
    assert post(api, key, body).headers["Idempotent-Replayed"] == "true"


def test_a_slow_attempt_overtaken_by_a_retry_saves_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt is slower than the lock timeout, so a retry takes its key over and runs:
    when the first one finishes, its completion finds the key no longer its own, and it rolls back.
    (A practitioner: no unique field would stop a second one on its own.)"""
    key, body = new_key(), {"role": "solicitor", "name": "Máire O'Donnell"}
    entered, go_on = pause_first_call(monkeypatch, practitioners, "create_practitioner")
    lock = api.client.app.state.settings.idempotency_lock_seconds  # type: ignore[attr-defined]

    async def scenario(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        def send() -> Awaitable[httpx.Response]:
            return client.post("/v1/practitioners", json=body, headers=headers(api, "admin", key))

        slow = asyncio.create_task(send())
        await entered.wait()
        async with api.client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
            await connection.execute(
                update(IdempotencyKey.__table__)
                .where(IdempotencyKey.key == key)
                .values(claimed_at=utcnow() - timedelta(seconds=lock + 1))
            )
        retry = await send()
        go_on.set()
        return await slow, retry

    taken_over = {"reason": "taken_over"}
    before = REGISTRY.get_sample_value("tac_idempotency_conflicts_total", taken_over) or 0.0
    slow, retry = in_app_loop(api, scenario)
    assert retry.status_code == 201
    assert slow.status_code == 409 and slow.json()["type"] == PROBLEM + "idempotency-key-in-use"
    # Counted for /metrics, as the other 409s over a key are.
    after = REGISTRY.get_sample_value("tac_idempotency_conflicts_total", taken_over)
    assert after == before + 1
    assert api.sql("SELECT count(*) FROM practitioner")[0][0] == 1
    again = post(api, key, body, url="/v1/practitioners")
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == retry.content


def test_a_completed_request_whose_answer_was_lost_never_runs_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if the process died between the commit and storing the answer."""

    async def lost(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(idempotency, "store_answer", lost)
    key, body = new_key(), mother_body()
    assert post(api, key, body).status_code == 201  # saved: the client still gets its answer
    monkeypatch.undo()
    finishing = post(api, key, body)
    assert finishing.status_code == 409 and finishing.headers["Retry-After"] == "1"
    lock = api.client.app.state.settings.idempotency_lock_seconds  # type: ignore[attr-defined]
    change_key(api, key, completed_at=utcnow() - timedelta(seconds=lock + 1))
    completed = post(api, key, body)
    assert completed.status_code == 409
    assert completed.json()["type"] == PROBLEM + "idempotency-key-completed"
    assert "Retry-After" not in completed.headers
    assert mothers_numbered(api, body["prison_number"]) == 1


def test_writes_without_the_header_are_as_before(api: Api) -> None:
    with counting(api) as statements:
        created = api.post("admin", "/v1/mothers", mother_body())
    assert created.status_code == 201
    assert not any("idempotency_key" in statement for statement in statements)
    # Only POSTs take a key: a PATCH sent with one ignores it.
    key = new_key()
    patched = api.client.patch(
        created.headers["Location"],
        json={"status": "released"},
        headers={
            **api.headers("admin", **{"If-Match": created.headers["ETag"]}),
            "Idempotency-Key": key,
        },
    )
    assert patched.status_code == 200 and "Idempotent-Replayed" not in patched.headers
    assert key_rows(api, key) == []


@pytest.mark.parametrize("operation", ["/v1/mothers", "/v1/practitioners"])
def test_twenty_identical_posts_at_once_make_one_record(api: Api, operation: str) -> None:
    """Sent together to two app instances (as two API processes) on one database."""
    key = new_key()
    if operation == "/v1/mothers":
        body = mother_body()
        count = "SELECT count(*) FROM mother WHERE prison_number = :n"
        params = {"n": body["prison_number"]}
    else:
        body = {"role": "solicitor", "name": f"Máire O'Donnell {key}"}
        count = "SELECT count(*) FROM practitioner WHERE name = :n"
        params = {"n": body["name"]}
    other = create_app(Settings(database_url=api.database_url, rate_limit_per_minute=1_000_000))

    async def burst() -> list[httpx.Response]:
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
            for app in (api.client.app, other)
        ]
        try:
            return await asyncio.gather(
                *(
                    clients[n % 2].post(operation, json=body, headers=headers(api, "admin", key))
                    for n in range(20)
                )
            )
        finally:
            for client in clients:
                await client.aclose()
            await other.state.engine.dispose()

    answers = api.client.portal.call(burst)  # type: ignore[union-attr]
    made = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers]
    assert len(made) == 1, [(a.status_code, a.text) for a in answers]
    for answer in answers:
        if answer.status_code == 201:
            assert answer.content == made[0].content
        else:
            assert answer.status_code == 409, answer.text
            assert answer.json()["type"] == PROBLEM + "idempotency-key-in-use"
    assert api.sql(count, **params)[0][0] == 1
    assert len(key_rows(api, key)) == 1


def test_every_post_documents_the_header() -> None:
    schema = create_app().openapi()
    posts = 0
    for path_item in schema["paths"].values():
        for method, operation in path_item.items():
            names = [parameter["name"] for parameter in operation.get("parameters", [])]
            assert ("Idempotency-Key" in names) == (method == "post")
            if method == "post":
                posts += 1
                assert {"400", "409", "422"} <= set(operation["responses"])
    assert posts >= 10


def disclosures(api: Api, response: Any) -> list[Any]:
    return api.sql(
        "SELECT action FROM audit_event WHERE request_id = :r AND action = 'disclose'",
        r=response.headers["X-Request-ID"],
    )


def test_a_replay_after_her_transfer_is_404_as_a_fresh_read(api: Api) -> None:
    """EWI's worker recorded her; she has since been transferred to Send. The stored answer
    shows her: replaying it would show EWI a mother it may no longer see."""
    key, body = new_key(), mother_body(prison_code="EWI")
    first = post(api, key, body, who="ewi_worker")
    assert first.status_code == 201
    url = first.headers["Location"]
    moved = api.patch("admin", url, {"prison_code": "SDI"}, if_match=first.headers["ETag"])
    assert moved.status_code == 200, moved.text
    fresh = api.get("ewi_worker", url)
    replayed = post(api, key, body, who="ewi_worker")
    assert fresh.status_code == replayed.status_code == 404
    assert replayed.headers["content-type"] == "application/problem+json"
    assert "Idempotent-Replayed" not in replayed.headers
    assert first.json()["last_name"] not in replayed.text
    assert mothers_numbered(api, body["prison_number"]) == 1
    assert disclosures(api, replayed) == []
    # The key is still the completed one: the request is not run again, now or later.
    assert key_rows(api, key)[0][2] == 201
    # Whoever may still see her still gets the answer.
    back = api.patch("admin", url, {"prison_code": "EWI"}, if_match=moved.headers["ETag"])
    assert back.status_code == 200, back.text
    assert post(api, key, body, who="ewi_worker").headers["Idempotent-Replayed"] == "true"


def test_a_batch_replay_after_a_child_moved_authority_is_404(api: Api) -> None:
    mother = linked_mother(api)
    item = {"external_id": "B-77", **child_body(mother_prison_number=mother["prison_number"])}
    del item["local_authority_code"]  # the caller's own
    key, body = new_key(), {"items": [item]}
    first = post(api, key, body, who="bristol_system", url="/v1/sync/children:batch")
    assert first.status_code == 200, first.text
    child_id = first.json()["results"][0]["id"]
    read = api.get("admin", f"/v1/children/{child_id}")
    moved = api.patch(
        "admin", f"/v1/children/{child_id}", {"local_authority_code": "936"}, read.headers["ETag"]
    )
    assert moved.status_code == 200, moved.text
    replayed = post(api, key, body, who="bristol_system", url="/v1/sync/children:batch")
    assert replayed.status_code == 404
    assert child_id in replayed.json()["detail"]
    assert api.sql("SELECT count(*) FROM child")[0][0] == 2  # hers that linked Bristol, and B-77
    assert disclosures(api, replayed) == []


def test_a_replay_showing_a_kind_of_record_with_no_visibility_rule_is_404(api: Api) -> None:
    """What cannot be checked is not shown again: a new kind of record must be given its rule."""
    key, body = new_key(), mother_body()
    assert post(api, key, body).status_code == 201
    change_key(api, key, disclosed=[["something_new", str(uuid.uuid4()), None]])
    replayed = post(api, key, body)
    assert replayed.status_code == 404
    assert disclosures(api, replayed) == []


def test_a_webhooks_replay_is_its_authoritys_while_it_exists(api: Api) -> None:
    key = new_key()
    body = {"url": "https://receiver.example.gov.uk/tac", "description": "case system"}
    url = "/v1/sync/webhooks"
    first = post(api, key, body, who="bristol_system", url=url)
    assert first.status_code == 201, first.text
    assert post(api, key, body, who="bristol_system", url=url).headers["Idempotent-Replayed"]
    removed = api.delete("bristol_system", first.headers["Location"], first.headers["ETag"])
    assert removed.status_code == 204
    assert post(api, key, body, who="bristol_system", url=url).status_code == 404


def test_replays_of_a_link_requests_decisions_and_a_pending_batch_answer_the_same(
    api: Api,
) -> None:
    """A link request is a record its asking authority and her prison's side may see: a retry
    with the same key is answered as the first time, not 404."""
    mother = api.mother()
    item = {"external_id": "B-80", **child_body(mother_prison_number=mother["prison_number"])}
    del item["local_authority_code"]  # the caller's own
    key, body = new_key(), {"items": [item, {**item, "external_id": "B-81", "first_name": "Nia"}]}
    first = post(api, key, body, who="bristol_system", url="/v1/sync/children:batch")
    assert first.json()["pending"] == 2, first.text
    replayed = post(api, key, body, who="bristol_system", url="/v1/sync/children:batch")
    assert (replayed.status_code, replayed.json()) == (200, first.json())

    for result, decision, sent in zip(
        first.json()["results"],
        ("confirm", "decline"),
        ({}, {"reason": "Not her child."}),
        strict=True,
    ):
        url = f"/v1/link-requests/{result['link_request_id']}/{decision}"
        key = new_key()
        decided = post(api, key, sent, who="ewi_worker", url=url)
        assert decided.status_code == 200, decided.text
        again = post(api, key, sent, who="ewi_worker", url=url)
        assert (again.status_code, again.json()) == (200, decided.json()), decision
