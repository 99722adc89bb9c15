"""Webhooks: registering an address, and delivering each authority's change events to it in
order, signed, retried with backoff and given up, to a real HTTP receiver on 127.0.0.1."""

import asyncio
import hashlib
import hmac
import json
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tac_api.changes.models import ChangeEvent
from tac_api.changes.schemas import cursor_of
from tac_api.cli import app as cli
from tac_api.client import verify_signature
from tac_api.config import Settings, get_settings
from tac_api.db import make_engine, sessionmaker_for, transactional
from tac_api.main import create_app
from tac_api.webhooks import dispatcher
from tac_api.webhooks.dispatcher import dispatch_once, retry_delay
from tac_api.webhooks.models import WebhookDelivery
from tests.support.api import Api
from tests.support.bodies import child_body
from tests.support.servers import NAMES, Names
from tests.support.sql import db_id

HOOKS = "/v1/sync/webhooks"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


# A receiver, as a local authority would run one: records every request, answers as told.


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    # Per path: the statuses to answer next (then 204), and seconds to wait before answering.
    answers: dict[str, deque[int]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    # Called as each request arrives, before it is answered.
    on_request: Callable[[], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str, *statuses: int) -> None:
        self.answers.setdefault(path, deque()).extend(statuses)

    def at(self, path: str = "/hook") -> list[Received]:
        return [request for request in self.requests if request.path == path]

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.answers.clear()
            self.delays.clear()
            self.on_request = None


class Handler(BaseHTTPRequestHandler):
    server: "ReceiverServer"

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with receiver.lock:
            receiver.requests.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            queued = receiver.answers.get(self.path)
            status = queued.popleft() if queued else 204
            delay = receiver.delays.get(self.path, 0.0)
        if receiver.on_request is not None:
            receiver.on_request()
        time.sleep(delay)
        self.send_response(status)
        if status in (301, 302, 307, 308):
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


@pytest.fixture(scope="module")
def receiving() -> Iterator[Receiver]:
    server = ReceiverServer(("127.0.0.1", 0), Handler)
    server.receiver = Receiver(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver(receiving: Receiver) -> Iterator[Receiver]:
    receiving.reset()
    yield receiving
    receiving.reset()


@pytest.fixture
def local(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    """The API, allowing plain http to this machine, as development and tests do."""
    monkeypatch.setattr(api.client.app.state.settings, "webhook_allow_http", True)  # type: ignore[attr-defined]
    return api


# How a receiver checks a delivery: the README's snippet, less the freshness check (these tests
# move the dispatcher's clock on, so its timestamps are not today's).
def signed_by(secret: str, header: str, body: bytes) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(","))
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def register(api: Api, who: str = "bristol_system", /, **fields: Any) -> dict[str, Any]:
    body = {"url": fields.pop("url"), **fields}
    response = api.post(who, HOOKS, body)
    assert response.status_code == 201, response.text
    return response.json()


def emit(
    api: Api,
    mother_id: str,
    event_type: str = "court-hearing.updated",
    authority: str = "801",
    **data: Any,
) -> ChangeEvent:
    """A change event as the services write them, straight into the outbox."""

    async def insert() -> ChangeEvent:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            event = ChangeEvent(
                local_authority_code=authority,
                event_type=event_type,
                mother_id=uuid.UUID(mother_id),
                resource_type=event_type.split(".")[0].replace("-", "_"),
                resource_id=uuid.uuid4(),
                child_ids=[],
                data=data,
            )
            session.add(event)
            await session.flush()
            return event

    return api.client.portal.call(insert)  # type: ignore[union-attr]


def dispatch(
    api: Api,
    now: datetime = T0,
    jitter: float = 1.0,
    client: httpx.AsyncClient | None = None,
    **settings: Any,
) -> int:
    """One dispatcher pass at `now`; `jitter` 1.0 waits the whole backoff, 0.0 half of it."""
    app = api.client.app
    chosen = app.state.settings.model_copy(update=settings)  # type: ignore[attr-defined]
    run = partial(
        dispatch_once,
        app.state.sessionmaker,
        chosen,
        client,
        now=now,
        rng=lambda: jitter,
        resolver=app.state.resolver,  # type: ignore[attr-defined]
    )
    return api.client.portal.call(run)  # type: ignore[union-attr]


def deliveries(api: Api, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get("bristol_system", f"{HOOKS}/{webhook_id}/deliveries", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.fixture
def mother(api: Api) -> dict[str, Any]:
    return api.mother()


@pytest.fixture
def names(api: Api) -> Names:
    """The name server the app and these dispatches ask (reset after each test)."""
    return NAMES


@dataclass
class Wire:
    """An HTTP client whose requests go nowhere: each is kept, and answered 204."""

    sent: list[httpx.Request] = field(default_factory=list)

    def client(self) -> httpx.AsyncClient:
        def answer(request: httpx.Request) -> httpx.Response:
            self.sent.append(request)
            return httpx.Response(204)

        return httpx.AsyncClient(transport=httpx.MockTransport(answer))


class TestRegistration:
    def test_the_secret_is_shown_once(self, local: Api, receiver: Receiver) -> None:
        response = local.post(
            "bristol_system",
            HOOKS,
            {"url": receiver.url(), "description": "Mosaic sync", "event_types": ["x.y"]},
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["Location"] == f"{HOOKS}/{created['id']}"
        secret = created["secret"]
        assert secret.startswith("tac_whsec_") and len(secret) > 40
        assert created["local_authority_code"] == "801"
        assert created["active"] is True and created["event_types"] == ["x.y"]
        one = local.get("bristol_system", f"{HOOKS}/{created['id']}")
        listed = local.get("bristol_system", HOOKS)
        changed = local.patch(
            "bristol_system", f"{HOOKS}/{created['id']}", {"active": False}, one.headers["ETag"]
        )
        for later in (one, listed, changed):
            assert later.status_code == 200, later.text
            assert secret not in later.text and "secret" not in later.text
        assert secret not in str(local.sql("SELECT * FROM audit_event"))

    def test_a_new_secret_signs_from_then_on(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        webhook = register(local, url=receiver.url())
        rotated = local.post(
            "bristol_system", f"{HOOKS}/{webhook['id']}/secret", {}, if_match='"1"'
        )
        assert rotated.status_code == 200, rotated.text
        secret = rotated.json()["secret"]
        assert secret != webhook["secret"]
        assert secret not in local.get("bristol_system", f"{HOOKS}/{webhook['id']}").text
        emit(local, mother["id"])
        dispatch(local)
        (request,) = receiver.at()
        assert signed_by(secret, request.headers["tac-signature"], request.body)
        assert not signed_by(webhook["secret"], request.headers["tac-signature"], request.body)

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("http://sync.example.gov.uk/tac", "must be https"),
            ("ftp://sync.example.gov.uk/tac", "must be https"),
            ("https://mosaic:hunter2@sync.example.gov.uk/tac", "user name or password"),
            ("https://token@sync.example.gov.uk/tac", "user name or password"),
            ("https://127.0.0.1/tac", "not this machine or a private network"),
            ("https://10.1.2.3/tac", "not this machine or a private network"),
            ("https://169.254.169.254/latest", "not this machine or a private network"),
            ("https://[::1]/tac", "not this machine or a private network"),
            ("https://localhost:8443/tac", "not this machine or a private network"),
            ("https:///tac", "needs a host name"),
            ("https://sync.example.gov.uk/tac#top", "fragment"),
            ("https://sync.example.gov.uk/t ac", "spaces"),
            ("https://sync.example.gov.uk:99999/tac", "is not a URL"),
            ("sync.example.gov.uk/tac", "must be https"),
        ],
    )
    def test_only_https_to_the_internet(self, api: Api, url: str, message: str) -> None:
        response = api.post("bristol_system", HOOKS, {"url": url})
        assert response.status_code == 422, response.text
        assert message in response.json()["detail"]
        assert api.sql("SELECT count(*) FROM webhook")[0][0] == 0

    def test_https_to_the_internet_is_accepted(self, api: Api) -> None:
        register(api, url="https://sync.example.gov.uk/tac?system=mosaic")
        register(api, url="https://8.8.8.8:8443/tac")
        register(api, url="https://sync.example.gov.uk:443/tac")
        register(api, url="https://[2a00:1450:4009:81f::200e]/tac")

    @pytest.mark.parametrize(
        "url",
        [
            # 127.0.0.1, in the spellings the system's resolver reads as that address
            "https://127.1/tac",
            "https://0x7f000001/tac",
            "https://2130706433/tac",
            "https://017700000001/tac",
            "https://0x7f.1/tac",
            "https://127.0.0.1./tac",
            "https://LOCALHOST./tac",
            "https://api.LocalHost/tac",
            # IPv6 spellings of an IPv4 address that is not on the internet
            "https://[::ffff:127.0.0.1]/tac",
            "https://[::ffff:7f00:1]/tac",
            "https://[::ffff:10.0.0.1]/tac",
            "https://[64:ff9b::a9fe:a9fe]/tac",  # NAT64 to 169.254.169.254
            "https://[2002:7f00:1::]/tac",  # 6to4 from 127.0.0.1
            "https://[::7f00:1]/tac",  # IPv4-compatible
            "https://[fe80::1]/tac",
            "https://[fd00::1]/tac",
            # multicast, broadcast, nowhere, shared (carrier-grade NAT) and documentation
            "https://224.0.0.1/tac",
            "https://239.255.255.250/tac",
            "https://[ff02::1]/tac",
            "https://255.255.255.255/tac",
            "https://0.0.0.0/tac",
            "https://0/tac",
            "https://100.64.0.1/tac",
            "https://192.0.2.1/tac",
        ],
    )
    def test_no_spelling_of_an_inside_address_passes(self, api: Api, url: str) -> None:
        response = api.post("bristol_system", HOOKS, {"url": url})
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["errors"] == [
            {
                "location": "body",
                "field": "url",
                "message": "must be an address on the internet, not this machine or a private "
                "network (those only with TAC_WEBHOOK_ALLOW_HTTP, for development)",
            }
        ]
        assert NAMES.lookups == []  # an address, not a name: nothing to ask a name server
        assert api.sql("SELECT count(*) FROM webhook")[0][0] == 0

    @pytest.mark.parametrize(
        "addresses",
        [
            ["127.0.0.1"],  # localtest.me's public answer
            ["10.20.30.40"],
            ["::1"],
            ["::ffff:192.168.1.1"],
            ["8.8.8.8", "127.0.0.1"],  # one of its addresses is enough to refuse it
            ["2a00:1450:4009:81f::200e", "fd12::1"],
        ],
    )
    def test_a_public_name_for_an_inside_address_is_refused(
        self, api: Api, names: Names, addresses: list[str]
    ) -> None:
        names.answer("localtest.me", *addresses)
        response = api.post("bristol_system", HOOKS, {"url": "https://localtest.me/tac"})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "url"
        assert response.json()["detail"] == (
            "url: must be an address on the internet: its host name leads to this machine or a "
            "private network (those only with TAC_WEBHOOK_ALLOW_HTTP, for development)"
        )
        assert names.lookups == ["localtest.me"]
        assert api.sql("SELECT count(*) FROM webhook")[0][0] == 0

    def test_a_changed_address_is_looked_up_too(self, api: Api, names: Names) -> None:
        webhook = register(api, url="https://sync.example.gov.uk/tac")
        names.answer("moved.example.gov.uk", "192.168.0.10")
        url = f"{HOOKS}/{webhook['id']}"
        moved = api.patch("bristol_system", url, {"url": "https://moved.example.gov.uk/"}, '"1"')
        assert moved.status_code == 422, moved.text
        assert "leads to this machine or a private network" in moved.json()["detail"]
        assert api.get("bristol_system", url).json()["url"] == "https://sync.example.gov.uk/tac"

    def test_the_name_looked_up_is_the_one_the_client_would_send(
        self, api: Api, names: Names
    ) -> None:
        register(api, url="https://Sync.Example.GOV.uk./tac")
        register(api, url="https://bücher.example.gov.uk/tac")
        assert names.lookups == ["sync.example.gov.uk", "xn--bcher-kva.example.gov.uk"]

    def test_a_name_that_cannot_be_found_is_refused(self, api: Api) -> None:
        response = api.post("bristol_system", HOOKS, {"url": "https://nowhere.invalid/tac"})
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == (
            "url: names a host that could not be found (nowhere.invalid)"
        )

    @pytest.mark.parametrize(
        "url",
        [
            "https://sync.example.gov.uk:8080/tac",
            "https://sync.example.gov.uk:80/tac",
            "https://8.8.8.8:22/tac",
            "https://sync.example.gov.uk:0/tac",
        ],
    )
    def test_ports_443_and_8443_only(self, api: Api, url: str) -> None:
        response = api.post("bristol_system", HOOKS, {"url": url})
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        if url.endswith(":0/tac"):
            assert detail == "url: is not a URL"
        else:
            assert detail == (
                "url: must use port 443 or 8443 "
                "(others only with TAC_WEBHOOK_ALLOW_HTTP, for development)"
            )

    def test_every_rule_the_switch_lifts_names_it(self, api: Api) -> None:
        response = api.post("bristol_system", HOOKS, {"url": "http://sync.example.gov.uk/tac"})
        assert response.json()["detail"] == (
            "url: must be https (plain http only with TAC_WEBHOOK_ALLOW_HTTP, for development)"
        )

    def test_the_switch_lifts_scheme_port_and_address_rules(self, local: Api, names: Names) -> None:
        names.answer("receiver.test", "127.0.0.1")
        for url in (
            "http://127.1:8080/tac",
            "https://[::ffff:127.0.0.1]:9000/tac",
            "http://receiver.test/tac",
        ):
            register(local, url=url)
        unknown = local.post("bristol_system", HOOKS, {"url": "http://nowhere.invalid/tac"})
        assert unknown.status_code == 422  # a name must still lead somewhere

    def test_plain_http_only_when_allowed(self, local: Api, receiver: Receiver) -> None:
        register(local, url=receiver.url())
        register(local, url="http://10.0.0.5/tac")
        refused = local.post("bristol_system", HOOKS, {"url": "http://me:pw@127.0.0.1/tac"})
        assert refused.status_code == 422  # credentials never, whatever the setting

    def test_a_changed_address_is_checked_too(self, api: Api) -> None:
        webhook = register(api, url="https://sync.example.gov.uk/tac")
        url = f"{HOOKS}/{webhook['id']}"
        refused = api.patch("bristol_system", url, {"url": "http://sync.example.gov.uk"}, '"1"')
        assert refused.status_code == 422
        assert api.patch("bristol_system", url, {"url": None}, '"1"').status_code == 422
        assert api.patch("bristol_system", url, {"active": False}).status_code == 428
        assert api.patch("bristol_system", url, {"active": False}, '"9"').status_code == 412
        moved = api.patch(
            "bristol_system", url, {"url": "https://new.example.gov.uk/tac"}, '"1"'
        ).json()
        assert moved["url"] == "https://new.example.gov.uk/tac" and moved["version"] == 2

    def test_event_types_are_checked(self, api: Api) -> None:
        base = {"url": "https://sync.example.gov.uk/tac"}
        for bad in ([], ["Court Hearing"], ["a" * 49]):
            response = api.post("bristol_system", HOOKS, {**base, "event_types": bad})
            assert response.status_code == 422, bad
        webhook = register(api, **base, event_types=["meeting.created", "meeting.created"])
        assert webhook["event_types"] == ["meeting.created"]

    def test_the_authority_is_the_callers_own(self, api: Api) -> None:
        url = "https://sync.example.gov.uk/tac"
        other = api.post("bristol_system", HOOKS, {"url": url, "local_authority_code": "936"})
        assert other.status_code == 422
        own = register(api, url=url, local_authority_code="801")
        assert own["local_authority_code"] == "801"
        assert api.post("admin", HOOKS, {"url": url}).status_code == 422  # an admin names it
        unknown = api.post("admin", HOOKS, {"url": url, "local_authority_code": "999"})
        assert unknown.status_code == 422
        assert register(api, "admin", url=url, local_authority_code="936")["local_authority_code"]

    def test_another_authoritys_webhook_is_not_found(self, api: Api) -> None:
        url = "https://surrey.example.gov.uk/tac"
        surrey = register(api, "admin", url=url, local_authority_code="936")
        bristol = register(api, url="https://bristol.example.gov.uk/tac")
        one = f"{HOOKS}/{surrey['id']}"
        assert api.get("bristol_system", one).status_code == 404
        assert api.get("bristol_system", f"{one}/deliveries").status_code == 404
        assert api.patch("bristol_system", one, {"active": False}, '"1"').status_code == 404
        assert api.post("bristol_system", f"{one}/secret", {}, if_match='"1"').status_code == 404
        assert api.delete("bristol_system", one).status_code == 404
        listed = api.get("bristol_system", HOOKS).json()["items"]
        assert [w["id"] for w in listed] == [bristol["id"]]
        everyone = api.get("admin", HOOKS).json()["items"]
        assert {w["id"] for w in everyone} == {surrey["id"], bristol["id"]}
        surreys = api.get("admin", HOOKS, params={"local_authority_code": "936"}).json()
        assert [w["id"] for w in surreys["items"]] == [surrey["id"]]
        assert api.get("admin", one).status_code == 200

    def test_a_practitioner_cannot_register_one(self, api: Api) -> None:
        response = api.post("bristol", HOOKS, {"url": "https://sync.example.gov.uk/tac"})
        assert response.status_code == 403

    def test_removed_with_its_deliveries(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        webhook = register(local, url=receiver.url())
        emit(local, mother["id"])
        dispatch(local)
        url = f"{HOOKS}/{webhook['id']}"
        etag = local.get("bristol_system", url).headers["ETag"]
        # Removing is a change like any other: the ETag last read, current.
        assert local.delete("bristol_system", url).status_code == 428
        assert local.delete("bristol_system", url, if_match='"9"').status_code == 412
        assert local.delete("bristol_system", url, if_match=etag).status_code == 204
        assert local.get("bristol_system", f"{HOOKS}/{webhook['id']}").status_code == 404
        assert local.sql("SELECT count(*) FROM webhook_delivery")[0][0] == 0

    def test_a_change_that_changes_nothing_keeps_the_version(self, api: Api) -> None:
        webhook = register(
            api, url="https://sync.example.gov.uk/tac", event_types=["child.updated"]
        )
        url = f"{HOOKS}/{webhook['id']}"
        same = {"active": True, "event_types": ["child.updated", "child.updated"]}
        response = api.patch("bristol_system", url, same, '"1"')
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"1"' and response.json() == {
            k: v for k, v in webhook.items() if k != "secret"
        }
        audited = "SELECT action FROM audit_event WHERE request_id = :r"
        assert api.sql(audited, r=response.headers["X-Request-ID"]) == [("consult",)]
        paused = api.patch("bristol_system", url, {"active": False}, '"1"')
        assert paused.headers["ETag"] == '"2"'
        assert api.sql(audited, r=paused.headers["X-Request-ID"]) == [("alter",)]

    def test_a_secret_is_rotated_only_from_the_version_read(self, api: Api) -> None:
        webhook = register(api, url="https://sync.example.gov.uk/tac")
        url = f"{HOOKS}/{webhook['id']}/secret"
        unasked = api.post("bristol_system", url, {})
        assert unasked.status_code == 428, unasked.text
        first = api.post("bristol_system", url, {}, if_match='"1"')
        assert first.status_code == 200, first.text
        # A second system that read version 1 is told, not left holding a dead secret.
        stale = api.post("bristol_system", url, {}, if_match='"1"')
        assert stale.status_code == 412, stale.text
        kept = api.sql("SELECT secret FROM webhook WHERE id = :id", id=db_id(api, webhook["id"]))
        assert kept == [(first.json()["secret"],)]

    def test_changes_to_webhooks_are_audited(self, api: Api) -> None:
        webhook = register(api, url="https://sync.example.gov.uk/tac")
        url = f"{HOOKS}/{webhook['id']}"
        paused = api.patch("bristol_system", url, {"active": False}, '"1"')
        rotated = api.post("bristol_system", f"{url}/secret", {}, if_match=paused.headers["ETag"])
        api.delete("bristol_system", url, if_match=rotated.headers["ETag"])
        trail = api.get("admin", "/v1/audit", params={"subject_id": webhook["id"]}).json()
        assert [(e["action"], e["resource_type"], e["client_name"]) for e in trail["items"]] == [
            ("collect", "webhook", "bristol_system"),
            ("alter", "webhook", "bristol_system"),
            ("alter", "webhook", "bristol_system"),
            ("erase", "webhook", "bristol_system"),
        ]


class TestDelivery:
    def test_one_signed_post_per_event(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        webhook = register(local, url=receiver.url())
        event = emit(local, mother["id"], "court-hearing.updated", starts_at="2026-12-01")
        assert dispatch(local) == 1
        (request,) = receiver.at()
        assert request.headers["content-type"] == "application/json"
        assert request.headers["tac-event-id"] == str(event.event_id)
        assert request.headers["tac-event-type"] == "court-hearing.updated"
        assert request.headers["tac-delivery-attempt"] == "1"
        assert request.headers["user-agent"].startswith("tac-api-webhooks/")
        signature = request.headers["tac-signature"]
        assert signature.startswith(f"t={int(T0.timestamp())},v1=")
        assert signed_by(webhook["secret"], signature, request.body)
        assert not signed_by(webhook["secret"], signature, request.body + b" ")
        assert request.event == {
            "id": str(event.event_id),
            "type": "court-hearing.updated",
            "occurred_at": request.event["occurred_at"],
            "mother_id": mother["id"],
            "child_ids": [],
            "resource_type": "court_hearing",
            "resource_id": str(event.resource_id),
            "data": {"starts_at": "2026-12-01"},
            "cursor": cursor_of(event.position or 0),
        }
        (delivery,) = deliveries(local, webhook["id"])
        assert request.headers["tac-delivery-id"] == delivery["id"]
        assert delivery | {"id": None, "created_at": None, "last_attempt_at": None} == {
            "id": None,
            "webhook_id": webhook["id"],
            "event_id": str(event.event_id),
            "event_type": "court-hearing.updated",
            "status": "delivered",
            "attempts": 1,
            "created_at": None,
            "last_attempt_at": None,
            "next_attempt_at": None,
            "finished_at": "2026-11-23T09:00:00Z",
            "response_status": 204,
            "error": None,
        }
        assert dispatch(local) == 0  # delivered once
        current = local.get("bristol_system", f"{HOOKS}/{webhook['id']}").json()
        assert current["cursor"] == cursor_of(event.position or 0)

    def test_only_events_from_registration_on(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        before = emit(local, mother["id"], "meeting.created")
        webhook = register(local, url=receiver.url())
        assert webhook["cursor"] == cursor_of(before.position or 0)
        after = emit(local, mother["id"], "meeting.updated")
        dispatch(local)
        assert [r.headers["tac-event-id"] for r in receiver.at()] == [str(after.event_id)]

    def test_a_failing_receiver_is_retried_with_backoff(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        webhook = register(local, url=receiver.url())
        emit(local, mother["id"])
        receiver.answer("/hook", 500, 503)
        assert dispatch(local, T0) == 1
        (waiting,) = deliveries(local, webhook["id"])
        assert waiting["status"] == "pending" and waiting["attempts"] == 1
        assert waiting["response_status"] == 500 and waiting["error"] == "HTTP 500"
        # Base 30 s, doubling; the jitter here takes the whole wait.
        assert waiting["next_attempt_at"] == "2026-11-23T09:00:30Z"
        assert dispatch(local, T0 + timedelta(seconds=29)) == 0
        assert dispatch(local, T0 + timedelta(seconds=30)) == 1
        (waiting,) = deliveries(local, webhook["id"])
        assert waiting["next_attempt_at"] == "2026-11-23T09:01:30Z"  # 60 s after the second
        assert waiting["error"] == "HTTP 503"
        assert dispatch(local, T0 + timedelta(seconds=89)) == 0
        assert dispatch(local, T0 + timedelta(seconds=90)) == 1
        (done,) = deliveries(local, webhook["id"])
        assert done["status"] == "delivered" and done["attempts"] == 3
        assert done["response_status"] == 204 and done["error"] is None
        requests = receiver.at()
        assert [r.headers["tac-delivery-attempt"] for r in requests] == ["1", "2", "3"]
        assert len({r.headers["tac-delivery-id"] for r in requests}) == 1
        assert len({r.body for r in requests}) == 1

    def test_backoff_is_capped_and_jittered(self) -> None:
        settings = Settings(webhook_retry_base_seconds=30, webhook_retry_max_seconds=600)
        waits = [retry_delay(n, settings, lambda: 1.0).total_seconds() for n in range(1, 9)]
        assert waits == [30, 60, 120, 240, 480, 600, 600, 600]
        assert retry_delay(3, settings, lambda: 0.0).total_seconds() == 60
        assert retry_delay(3, settings, lambda: 0.5).total_seconds() == 90

    def test_given_up_after_the_last_attempt_and_the_next_event_goes(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        webhook = register(local, url=receiver.url())
        stuck = emit(local, mother["id"])
        following = emit(local, mother["id"])
        receiver.answer("/hook", 500, 500, 500)
        now = T0
        for _ in range(3):
            dispatch(local, now, webhook_max_attempts=3)
            now += timedelta(hours=2)
        assert [r.headers["tac-event-id"] for r in receiver.at()] == [
            str(stuck.event_id),
            str(stuck.event_id),
            str(stuck.event_id),
            str(following.event_id),
        ]
        failed, delivered = (
            deliveries(local, webhook["id"], status="failed"),
            deliveries(local, webhook["id"], status="delivered"),
        )
        assert [(d["event_id"], d["attempts"]) for d in failed] == [(str(stuck.event_id), 3)]
        assert failed[0]["next_attempt_at"] is None and failed[0]["error"] == "HTTP 500"
        assert [d["event_id"] for d in delivered] == [str(following.event_id)]
        assert dispatch(local, now) == 0  # a failed one is not tried again

    @pytest.mark.parametrize("max_attempts", [8, 1])
    def test_an_attempt_cut_short_is_made_again_after_the_wait(
        self,
        local: Api,
        receiver: Receiver,
        mother: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch,
        max_attempts: int,
    ) -> None:
        """The process stops between sending and recording the answer: the attempt was counted
        before it was sent, so it is made again after the wait, or given up if it was the last."""
        webhook = register(local, url=receiver.url())
        first = emit(local, mother["id"])
        following = emit(local, mother["id"])

        async def stopped(*args: Any) -> bool:
            raise ConnectionError("the database went away")

        with monkeypatch.context() as patched:  # (undoing only this, not `local`'s setting)
            patched.setattr(dispatcher, "_record", stopped)
            dispatch(local, T0, webhook_max_attempts=max_attempts)
        assert dispatch(local, T0 + timedelta(seconds=29), webhook_max_attempts=max_attempts) == 0
        dispatch(local, T0 + timedelta(seconds=30), webhook_max_attempts=max_attempts)
        sent = [
            (r.headers["tac-event-id"], r.headers["tac-delivery-attempt"]) for r in receiver.at()
        ]
        newest, oldest = deliveries(local, webhook["id"])
        if max_attempts == 1:
            assert sent == [(str(first.event_id), "1"), (str(following.event_id), "1")]
            assert oldest["status"] == "failed" and oldest["attempts"] == 1
            assert oldest["error"] == "gave up: no answer recorded for the last attempt"
        else:
            assert sent == [
                (str(first.event_id), "1"),
                (str(first.event_id), "2"),
                (str(following.event_id), "1"),
            ]
            assert oldest["status"] == "delivered" and oldest["attempts"] == 2
        assert newest["status"] == "delivered"

    def test_events_keep_their_order(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        register(local, url=receiver.url())
        events = [emit(local, mother["id"], data=n) for n in range(4)]
        receiver.answer("/hook", 500)
        assert dispatch(local, T0) == 1  # the first fails: the others wait behind it
        assert len(receiver.at()) == 1
        assert dispatch(local, T0 + timedelta(minutes=1)) == 4
        sent = [r.headers["tac-event-id"] for r in receiver.at()]
        assert sent == [str(events[0].event_id)] + [str(e.event_id) for e in events]

    def test_only_the_types_asked_for(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        webhook = register(local, url=receiver.url(), event_types=["court-hearing.updated"])
        emit(local, mother["id"], "meeting.created")
        wanted = emit(local, mother["id"], "court-hearing.updated")
        last = emit(local, mother["id"], "meeting.updated")
        dispatch(local)
        assert [r.headers["tac-event-id"] for r in receiver.at()] == [str(wanted.event_id)]
        assert len(deliveries(local, webhook["id"])) == 1
        # Past the ones it did not ask for, so it is not claimed again for nothing.
        current = local.get("bristol_system", f"{HOOKS}/{webhook['id']}").json()
        assert current["cursor"] == cursor_of(last.position or 0)
        assert dispatch(local) == 0

    def test_another_authoritys_events_never_reach_it(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        register(local, url=receiver.url("/bristol"))
        register(local, "admin", url=receiver.url("/surrey"), local_authority_code="936")
        surreys = emit(local, mother["id"], authority="936")
        bristols = emit(local, mother["id"], authority="801")
        dispatch(local)
        assert [r.headers["tac-event-id"] for r in receiver.at("/bristol")] == [
            str(bristols.event_id)
        ]
        assert [r.headers["tac-event-id"] for r in receiver.at("/surrey")] == [
            str(surreys.event_id)
        ]

    def test_one_dead_receiver_holds_up_no_other(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        register(local, url=receiver.url("/down"))
        register(local, url=receiver.url("/up"))
        receiver.answer("/down", 500, 500)
        emit(local, mother["id"])
        emit(local, mother["id"])
        dispatch(local)
        assert len(receiver.at("/down")) == 1 and len(receiver.at("/up")) == 2

    def test_no_answer_is_a_failed_attempt(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        nobody = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        closed_port = nobody.server_address[1]
        nobody.server_close()  # nothing listens there now
        refused = register(local, url=f"http://127.0.0.1:{closed_port}/hook")
        slow = register(local, url=receiver.url("/slow"))
        moved = register(local, url=receiver.url("/moved"))
        receiver.delays["/slow"] = 1.0
        receiver.answer("/moved", 302)
        emit(local, mother["id"])
        dispatch(local, webhook_timeout_seconds=0.2)
        (no_connection,) = deliveries(local, refused["id"])
        (timed_out,) = deliveries(local, slow["id"])
        (redirected,) = deliveries(local, moved["id"])
        assert (no_connection["response_status"], no_connection["error"]) == (
            None,
            "could not connect",
        )
        assert (timed_out["response_status"], timed_out["error"]) == (
            None,
            "no answer within 0.2 s",
        )
        assert (redirected["response_status"], redirected["error"]) == (
            302,
            "HTTP 302: redirects are not followed",
        )
        assert all(d["status"] == "pending" for d in (no_connection, timed_out, redirected))
        assert [r.path for r in receiver.requests if r.path == "/elsewhere"] == []

    def test_paused_it_keeps_its_place(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        webhook = register(local, url=receiver.url())
        url = f"{HOOKS}/{webhook['id']}"
        local.patch("bristol_system", url, {"active": False}, '"1"')
        meanwhile = emit(local, mother["id"])
        assert dispatch(local) == 0
        local.patch("bristol_system", url, {"active": True}, '"2"')
        dispatch(local)
        assert [r.headers["tac-event-id"] for r in receiver.at()] == [str(meanwhile.event_id)]

    def test_an_event_erased_before_its_retry_is_given_up(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        webhook = register(local, url=receiver.url())
        erased = emit(local, mother["id"])
        following = emit(local, mother["id"])
        receiver.answer("/hook", 500)
        dispatch(local, T0)
        local.sql("DELETE FROM change_event WHERE position = :p", p=erased.position)
        dispatch(local, T0 + timedelta(hours=1))
        failed, delivered = deliveries(local, webhook["id"])[::-1]
        assert failed["status"] == "failed" and "erased" in failed["error"]
        assert delivered["status"] == "delivered"
        assert delivered["event_id"] == str(following.event_id)

    def test_each_attempt_is_audited_as_a_disclosure(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        webhook = register(local, url=receiver.url())
        event = emit(local, mother["id"])
        receiver.answer("/hook", 500)
        dispatch(local, T0)
        dispatch(local, T0 + timedelta(hours=1))
        (delivery,) = deliveries(local, webhook["id"])
        trail = local.get("admin", "/v1/audit", params={"subject_id": mother["id"]}).json()
        disclosed = [e for e in trail["items"] if e["action"] == "disclose"]
        assert len(disclosed) == 2
        for row in disclosed:
            assert row["client_id"] == webhook["id"] and row["role"] == "webhook"
            assert row["request_id"] == uuid.UUID(delivery["id"]).hex
            assert (row["resource_type"], row["resource_id"]) == (
                "court_hearing",
                str(event.resource_id),
            )

    def test_the_deliveries_newest_first(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        webhook = register(local, url=receiver.url())
        events = [emit(local, mother["id"]) for _ in range(3)]
        receiver.answer("/hook", 204, 204, 500)
        dispatch(local)
        url = f"{HOOKS}/{webhook['id']}/deliveries"
        first = local.get("bristol_system", url, params={"limit": 2})
        page = first.json()
        assert [d["event_id"] for d in page["items"]] == [str(e.event_id) for e in events[:0:-1]]
        assert 'rel="next"' in first.headers["Link"]
        rest = local.get("bristol_system", url, params={"limit": 2, "cursor": page["next_cursor"]})
        assert [d["event_id"] for d in rest.json()["items"]] == [str(events[0].event_id)]
        assert rest.json()["next_cursor"] is None
        pending = deliveries(local, webhook["id"], status="pending")
        assert [d["event_id"] for d in pending] == [str(events[2].event_id)]
        assert local.get("bristol_system", url, params={"status": "lost"}).status_code == 422
        assert local.get("bristol_system", url, params={"cursor": "nonsense"}).status_code == 422
        assert local.get("bristol_system", url, params={"state": "failed"}).status_code == 422


class TestDeliveryAddress:
    """Each delivery looks the name up again, checks every address, and connects to the one
    it checked: a name server cannot answer one thing to the check and another to the call."""

    def test_a_name_repointed_inside_after_registration_is_not_sent_to(
        self, api: Api, names: Names, mother: dict[str, Any]
    ) -> None:
        names.answer("rebind.example.gov.uk", "8.8.8.8")
        webhook = register(api, url="https://rebind.example.gov.uk/tac")
        names.answer("rebind.example.gov.uk", "127.0.0.1")
        emit(api, mother["id"])
        wire = Wire()
        assert dispatch(api, client=wire.client()) == 1
        assert wire.sent == []  # no connection made
        (delivery,) = deliveries(api, webhook["id"])
        assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == (
            "pending",
            1,
            None,
        )
        assert delivery["error"] == (
            "not sent: the url must be an address on the internet: its host name leads to this "
            "machine or a private network (those only with TAC_WEBHOOK_ALLOW_HTTP, for development)"
        )
        assert delivery["next_attempt_at"] == "2026-11-23T09:00:30Z"  # retried like any failure
        names.answer("rebind.example.gov.uk", "8.8.4.4")
        assert dispatch(api, T0 + timedelta(minutes=1), client=wire.client()) == 1
        assert [request.url.host for request in wire.sent] == ["8.8.4.4"]

    def test_a_name_gone_by_delivery_is_not_sent_to(
        self, api: Api, names: Names, mother: dict[str, Any]
    ) -> None:
        webhook = register(api, url="https://gone.example.gov.uk/tac")
        names.answer("gone.example.gov.uk")
        emit(api, mother["id"])
        wire = Wire()
        dispatch(api, client=wire.client())
        assert wire.sent == []
        (delivery,) = deliveries(api, webhook["id"])
        assert delivery["error"] == (
            "not sent: the url names a host that could not be found (gone.example.gov.uk)"
        )

    def test_the_post_goes_to_the_address_checked_naming_the_host(
        self, api: Api, names: Names, mother: dict[str, Any]
    ) -> None:
        names.answer("sync.example.gov.uk", "8.8.4.4", "8.8.8.8")
        webhook = register(api, url="https://sync.example.gov.uk:8443/tac?system=mosaic")
        emit(api, mother["id"])
        wire = Wire()
        assert dispatch(api, client=wire.client()) == 1
        (request,) = wire.sent
        assert str(request.url) == "https://8.8.4.4:8443/tac?system=mosaic"
        assert request.headers["Host"] == "sync.example.gov.uk:8443"
        # TLS names the host (SNI) and checks its certificate against the name, not the IP.
        assert request.extensions["sni_hostname"] == "sync.example.gov.uk"
        assert names.lookups == ["sync.example.gov.uk"] * 2  # at registration, and now
        assert deliveries(api, webhook["id"])[0]["status"] == "delivered"

    def test_an_ip_in_the_url_is_connected_to_as_written(
        self, api: Api, names: Names, mother: dict[str, Any]
    ) -> None:
        register(api, url="https://[2a00:1450:4009:81f::200e]/tac")
        emit(api, mother["id"])
        wire = Wire()
        dispatch(api, client=wire.client())
        (request,) = wire.sent
        assert str(request.url) == "https://[2a00:1450:4009:81f::200e]/tac"
        assert "sni_hostname" not in request.extensions  # the certificate is checked for the IP
        assert names.lookups == []

    def test_the_connection_is_made_to_the_address_the_check_was_given(
        self, local: Api, names: Names, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        """`.test` names are never in the DNS: the receiver on 127.0.0.1 is reached only if the
        connection goes to the address the dispatcher's own lookup returned."""
        names.answer("receiver.test", "127.0.0.1")
        webhook = register(local, url=f"http://receiver.test:{receiver.port}/hook")
        event = emit(local, mother["id"])
        assert dispatch(local) == 1
        (request,) = receiver.at()
        assert request.headers["host"] == f"receiver.test:{receiver.port}"
        assert request.headers["tac-event-id"] == str(event.event_id)
        assert signed_by(webhook["secret"], request.headers["tac-signature"], request.body)
        assert names.lookups == ["receiver.test"] * 2

    def test_the_rules_of_the_day_apply_at_delivery(
        self, local: Api, receiver: Receiver, mother: dict[str, Any]
    ) -> None:
        """Registered while TAC_WEBHOOK_ALLOW_HTTP was on, delivered after it was turned off."""
        webhook = register(local, url=receiver.url())
        emit(local, mother["id"])
        dispatch(local, webhook_allow_http=False)
        assert receiver.at() == []
        (delivery,) = deliveries(local, webhook["id"])
        assert delivery["error"] == (
            "not sent: the url must be https (plain http only with TAC_WEBHOOK_ALLOW_HTTP, "
            "for development)"
        )


def certificate_for(name: str) -> tuple[bytes, bytes]:
    """A self-signed certificate (PEM) for `name` only, no IP, and its key (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.mark.parametrize("certified", ["receiver.test", "someone-else.test"])
def test_tls_is_checked_against_the_host_name_not_the_address(
    local: Api, names: Names, mother: dict[str, Any], tmp_path: Path, certified: str
) -> None:
    """The POST goes to the checked IP, yet TLS still names the host and accepts only its
    certificate (this one names no IP: checked against 127.0.0.1 it would always fail)."""
    certificate, key = certificate_for(certified)
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = ReceiverServer(("127.0.0.1", 0), Handler)
    server.socket = serving.wrap_socket(server.socket, server_side=True)
    server.receiver = Receiver(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        names.answer("receiver.test", "127.0.0.1")
        webhook = register(local, url=f"https://receiver.test:{server.receiver.port}/hook")
        emit(local, mother["id"])
        trusting = httpx.AsyncClient(verify=ssl.create_default_context(cadata=certificate.decode()))
        dispatch(local, client=trusting)
    finally:
        server.shutdown()
        server.server_close()
    (delivery,) = deliveries(local, webhook["id"])
    if certified == "receiver.test":
        assert (delivery["status"], delivery["error"]) == ("delivered", None)
        (request,) = server.receiver.at()
        assert request.headers["host"] == f"receiver.test:{server.receiver.port}"
    else:
        assert (delivery["status"], delivery["error"]) == ("pending", "could not connect")
        assert server.receiver.at() == []


def test_a_claimed_webhook_is_left_to_the_dispatcher_that_claimed_it(
    local: Api, receiver: Receiver, mother: dict[str, Any]
) -> None:
    app = local.client.app
    settings, sessionmaker = app.state.settings, app.state.sessionmaker  # type: ignore[attr-defined]
    register(local, url=receiver.url())
    emit(local, mother["id"])
    # Another process claims it, and is (say) mid-call when this one looks.
    claimed, their_token = local.client.portal.call(  # type: ignore[union-attr]
        dispatcher.claim, sessionmaker, settings, T0
    )
    assert len(claimed) == 1
    lease = dispatcher.lease_for(settings)
    assert dispatch(local, T0) == 0
    assert dispatch(local, T0 + lease - timedelta(seconds=1)) == 0
    assert receiver.at() == []
    # That process died: once its lease has run out, another takes the webhook over.
    assert dispatch(local, T0 + lease + timedelta(seconds=1)) == 1
    # Had it lived, it would find its claim gone, and send nothing more.
    emit(local, mother["id"])
    stale = partial(
        dispatcher.deliver_to,
        sessionmaker,
        settings,
        httpx.AsyncClient(),
        claimed[0],
        their_token,
        T0 + lease,
        lambda: 1.0,
    )
    assert local.client.portal.call(stale) == 0  # type: ignore[union-attr]
    assert len(receiver.at()) == 1


def test_no_transaction_is_open_while_a_receiver_answers(
    local: Api, receiver: Receiver, mother: dict[str, Any]
) -> None:
    """A slow receiver must not hold up the database: nothing is locked during the call."""
    if not local.database_url.startswith("postgresql"):
        pytest.skip("asks PostgreSQL which sessions are inside a transaction")
    url = make_url(local.database_url)
    open_transactions: list[int] = []

    async def count() -> int:
        connection = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, database=url.database
        )
        try:
            return await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()

    receiver.on_request = lambda: open_transactions.append(asyncio.run(count()))
    register(local, url=receiver.url())
    emit(local, mother["id"])
    emit(local, mother["id"])
    receiver.answer("/hook", 500)
    dispatch(local, T0)
    dispatch(local, T0 + timedelta(hours=1))
    assert open_transactions == [0, 0, 0]


def test_two_dispatchers_deliver_each_event_once(
    local: Api, receiver: Receiver, mother: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes on one PostgreSQL, each with retries due and new events to send: every
    attempt is made by one of them only, and each webhook's events still go in order."""
    if not local.database_url.startswith("postgresql"):
        pytest.skip("several processes share PostgreSQL only")
    paths = [f"/hook{n}" for n in range(4)]
    for path in paths:
        register(local, url=receiver.url(path))
        receiver.answer(path, 500)  # the first attempt fails: a retry is due when they start
    events = [emit(local, mother["id"]) for _ in range(5)]
    dispatch(local, T0)
    for path in paths:
        receiver.delays[path] = 0.02
    monkeypatch.setattr(dispatcher, "CLAIMS_PER_PASS", 1)  # so that the two share the work
    expected = len(paths) * len(events)
    settings = Settings(database_url=local.database_url, webhook_allow_http=True)  # as `local`

    async def race() -> list[int]:
        engines = [make_engine(settings, pool=False) for _ in range(2)]
        makers = [sessionmaker_for(transactional(engine)) for engine in engines]

        async def deliver(sessionmaker: Any) -> int:
            made = 0
            for _ in range(500):
                made += await dispatch_once(sessionmaker, settings, now=T0 + timedelta(hours=1))
                async with sessionmaker() as session:
                    done = await session.scalar(
                        select(func.count()).where(WebhookDelivery.status == "delivered")
                    )
                if done == expected:
                    break
                await asyncio.sleep(0.01)
            return made

        try:
            return await asyncio.gather(*(deliver(maker) for maker in makers))
        finally:
            for engine in engines:
                await engine.dispose()

    attempts = asyncio.run(race())
    assert sum(attempts) == expected
    first, *rest = (str(e.event_id) for e in events)
    for path in paths:
        sent = [
            (r.headers["tac-event-id"], r.headers["tac-delivery-attempt"])
            for r in receiver.at(path)
        ]
        assert sent == [(first, "1"), (first, "2")] + [(event, "1") for event in rest], path


def test_the_api_delivers_in_the_background_when_asked(
    local: Api, receiver: Receiver, mother: dict[str, Any]
) -> None:
    settings = local.client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"webhook_dispatch": True, "webhook_poll_seconds": 0.05}
    )
    register(local, url=receiver.url())
    with TestClient(create_app(settings)):
        event = emit(local, mother["id"])
        for _ in range(400):  # up to 20 s on a busy machine; usually the first poll or two
            if receiver.at():
                break
            time.sleep(0.05)
    assert [r.headers["tac-event-id"] for r in receiver.at()] == [str(event.event_id)]


def test_the_suites_apps_do_not_deliver(api: Api) -> None:
    assert api.client.app.state.settings.webhook_dispatch is False  # type: ignore[attr-defined]


def test_tac_api_webhooks_run_once(
    local: Api, receiver: Receiver, mother: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    register(local, url=receiver.url())
    event = emit(local, mother["id"])
    monkeypatch.setenv("TAC_DATABASE_URL", local.database_url)
    monkeypatch.setenv("TAC_WEBHOOK_ALLOW_HTTP", "true")  # as `local` registered it
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["webhooks", "run", "--once"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "1 delivery attempts made" in result.output
    assert [r.headers["tac-event-id"] for r in receiver.at()] == [str(event.event_id)]


def test_a_pushed_court_date_reaches_the_webhook_as_the_feed_lists_it(
    local: Api, receiver: Receiver
) -> None:
    """End to end: an authority's push, the outbox written with it, one signed delivery that
    the client's verify_signature accepts, carrying the event exactly as the feed shows it."""
    mother = local.mother()
    # Bristol is linked to her: the prison side recorded a child of hers in Bristol.
    local.child(mother["id"], first_name="Eldest", date_of_birth="2009-01-02")
    child = {k: v for k, v in child_body().items() if k != "local_authority_code"}
    child["mother_prison_number"] = mother["prison_number"]
    assert local.put("bristol_system", "/v1/sync/children/BR-A", child).status_code == 201
    webhook = register(local, url=receiver.url())
    hearing = {
        "mother_prison_number": mother["prison_number"],
        "child_external_ids": ["BR-A"],
        "court_name": "Bristol Civil and Family Justice Centre",
        "hearing_type": "case_management",
        "starts_at": "2027-01-12T10:00:00Z",
    }
    pushed = local.put("bristol_system", "/v1/sync/court-hearings/H-1", hearing)
    assert pushed.status_code == 201

    assert dispatch(local, now=datetime.now(UTC)) == 1

    (request,) = receiver.at()
    assert verify_signature(webhook["secret"], request.headers["tac-signature"], request.body)
    feed = local.get("bristol_system", "/v1/sync/changes").json()["items"]
    assert request.event == feed[-1]
    assert request.event["type"] == "court-hearing.created"
    assert request.event["resource_id"] == pushed.json()["id"]


def test_a_vacated_hearing_and_an_adjourned_meeting_are_delivered(
    local: Api, receiver: Receiver
) -> None:
    """Hearings and meetings that do not go ahead reach a webhook that asked for those types
    only, as the feed lists them: codes and dates, never the reason."""
    mother = local.mother()
    child = local.child(mother["id"], first_name="Eldest", date_of_birth="2009-01-02")
    types = ["court-hearing.vacated", "meeting.adjourned"]
    webhook = register(local, url=receiver.url(), event_types=types)
    starts = (datetime.now(UTC) + timedelta(days=9)).isoformat().replace("+00:00", "Z")
    common = {"mother_id": mother["id"], "child_ids": [child["id"]], "starts_at": starts}
    hearing = local.post(
        "ewi_worker",
        "/v1/court-hearings",
        {**common, "court_name": "Bristol Family Court", "hearing_type": "final"},
    ).json()
    meeting = local.post(
        "ewi_worker", "/v1/meetings", {**common, "meeting_type": "core_group", "platform": "zoom"}
    ).json()
    reason = "Struck out by consent."
    vacated = {"status": "vacated", "decided_by": "parties", "reason": reason}
    url = f"/v1/court-hearings/{hearing['id']}/status"
    assert local.post("ewi_worker", url, vacated, '"1"').status_code == 200
    adjourned = {
        "status": "adjourned",
        "decided_by": "chair",
        "reason": reason,
        "adjourned_to": {"starts_at": starts},
    }
    url = f"/v1/meetings/{meeting['id']}/status"
    assert local.post("ewi_worker", url, adjourned, '"1"').status_code == 200

    assert dispatch(local, now=datetime.now(UTC)) == 2

    received = receiver.at()
    assert [r.event["type"] for r in received] == types
    for request in received:
        assert verify_signature(webhook["secret"], request.headers["tac-signature"], request.body)
        assert reason.encode() not in request.body
    feed = local.get("bristol_system", "/v1/sync/changes").json()["items"]
    assert [r.event for r in received] == [e for e in feed if e["type"] in types]


def test_the_readme_lists_every_webhook_and_retention_setting_with_its_default() -> None:
    """README's configuration table, against Settings: a new or changed TAC_WEBHOOK_* setting,
    or TAC_RETENTION_DAYS, cannot go unlisted or keep an old default there."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    listed: dict[str, str] = {}
    for row in section.splitlines():
        cells = [cell.strip().replace("`", "") for cell in row.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("TAC_"):
            listed |= zip(cells[0].split(", "), cells[1].split(", "), strict=True)

    def shown(default: object) -> str:
        if isinstance(default, bool):
            return str(default).lower()
        return f"{default:g}" if isinstance(default, float) else str(default)

    expected = {
        f"TAC_{name.upper()}": shown(field.default)
        for name, field in Settings.model_fields.items()
        if name.startswith("webhook_") or name == "retention_days"
    }
    assert len(expected) == 8
    assert {name: listed.get(name) for name in expected} == expected
