"""The service's own events out to the estate's topic: each change published once, in order,
as an HMPPS domain event with ids and codes only; resuming from the last published position
after a stop or a crash (at least once: only the batch in flight repeats); two publishers never
sending one event twice; SNS down losing nothing."""

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import httpx
import pytest
from botocore.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from tac_api.auth.schemas import Caller, Role
from tac_api.changes import service as changes_service
from tac_api.changes.service import emit
from tac_api.config import Settings
from tac_api.db import make_engine, sessionmaker_for, transactional
from tac_api.events import publisher
from tac_api.evidence.schemas import EvidenceUpdate
from tac_api.evidence.service import update_evidence
from tac_api.main import create_app
from tac_api.migrations import upgrade
from tac_api.mothers.models import Mother
from tac_api.mothers.schemas import MotherUpdate
from tac_api.mothers.service import update_mother
from tests.support import world
from tests.support.api import Api
from tests.support.bodies import mother_row
from tests.support.databases import load_reference_into, run
from tests.support.events import REGION, Estate, _arn
from tests.support.sql import counting, db_id

PUBLIC = "https://tac-api.hmpps.service.justice.gov.uk"
UK = ZoneInfo("Europe/London")
NOW = datetime.now(UTC).replace(microsecond=0)
TAC_API = str(Path(sys.executable).with_name("tac-api"))


def at(delta: timedelta) -> str:
    return (NOW + delta).isoformat().replace("+00:00", "Z")


def settings_for(api: Api, estate: Estate, **extra: Any) -> Settings:
    return Settings(
        database_url=api.database_url,
        aws_endpoint_url=estate.endpoint,
        aws_region=REGION,
        events_topic_arn=estate.topic_arn,
        public_url=PUBLIC,
        **extra,
    )


def listener(estate: Estate) -> str:
    """A queue subscribed to the topic with no filter: everything the service publishes."""
    sqs = estate.sqs
    url = sqs.create_queue(QueueName=f"tac-{uuid.uuid4().hex[:12]}-all")["QueueUrl"]
    estate.sns.subscribe(TopicArn=estate.topic_arn, Protocol="sqs", Endpoint=_arn(sqs, url))
    return url


def heard(estate: Estate, queue_url: str) -> list[dict[str, Any]]:
    """The events published since last asked, each with its eventType attribute checked."""
    events = []
    for envelope in estate.drain(queue_url):
        message = json.loads(envelope["Message"])
        assert envelope["MessageAttributes"] == {
            "eventType": {"Type": "String", "Value": message["eventType"]}
        }
        events.append(message)
    return events


def sessions(api: Api) -> async_sessionmaker[AsyncSession]:
    return api.client.app.state.sessionmaker  # type: ignore[attr-defined,no-any-return]


def publish(api: Api, settings: Settings, sns: Any = None, **kwargs: Any) -> int:
    return api.client.portal.call(  # type: ignore[union-attr]
        lambda: publisher.publish_once(sessions(api), settings, sns, **kwargs)
    )


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["eventType"] for e in events]


def emitted(api: Api, count: int, mother_id: str | None = None) -> None:
    """`count` changes (evidence of hers added: a new mother's, unless named), each in its
    own transaction."""
    mother = uuid.UUID(mother_id or api.mother()["id"])

    async def make() -> None:
        for _ in range(count):
            async with sessions(api)() as session, session.begin():
                emit(session, "evidence.added", "evidence", uuid.uuid4(), mother)

    api.client.portal.call(make)  # type: ignore[union-attr]


def evidence_ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["additionalInformation"]["resourceId"] for e in events]


class FlakySns:
    """The real client behind a topic that is down for the batches numbered in `down` (from 1)."""

    def __init__(self, real: Any, down: frozenset[int] = frozenset(), pause: float = 0.0) -> None:
        self.real, self.down, self.pause, self.calls = real, down, pause, 0

    def publish_batch(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls in self.down:
            raise ConnectionError("the topic is down")
        time.sleep(self.pause)  # (in the publisher's thread) long enough for a race to show
        return self.real.publish_batch(**kwargs)


# What is published, and how -----------------------------------------------------------------


def test_changes_are_published_once_each_in_order_as_the_estates_events(
    api: Api, estate: Estate
) -> None:
    queue = listener(estate)
    settings = settings_for(api, estate)
    family = world.family(api, {"rhys": world.child("Rhys"), "nia": world.child("Nia", "936")})
    mother = family["mother"]
    hearing = api.post(
        "admin",
        "/v1/court-hearings",
        {
            "mother_id": mother["id"],
            "child_ids": [family["rhys"]["id"]],
            "court_name": "Bristol Civil and Family Justice Centre",
            "court_code": "BRS",
            "hearing_type": "case_management",
            "starts_at": at(timedelta(days=10)),
            "notified_at": at(timedelta(days=-1)),
        },
    ).json()
    visit = api.post(
        "admin",
        "/v1/contact-visits",
        {
            "mother_id": mother["id"],
            "child_ids": [family["nia"]["id"]],
            "visit_type": "family_day",
            "escort": {"name": "Eirlys Price", "role": "carer"},
            "scheduled_at": at(timedelta(days=3)),
        },
    ).json()
    # A mother with no children: her transfer concerns no authority, and is published still.
    alone = api.mother(first_name="Gwenllian", last_name="Morgan")
    url = f"/v1/mothers/{alone['id']}"
    moved = api.patch("admin", url, {"prison_code": "SDI"}, f'"{alone["version"]}"')
    assert moved.status_code == 200, moved.text
    assert api.sql(
        "SELECT count(*) FROM change_event WHERE mother_id = :id", id=db_id(api, alone["id"])
    ) == [(0,)]

    assert publish(api, settings) == 3
    published = heard(estate, queue)
    assert types(published) == [
        "tac.court-hearing.created",
        "tac.contact-visit.created",
        "tac.mother.transferred",
    ]
    feed = api.get("admin", "/v1/sync/changes", params={"local_authority": "801"}).json()["items"]
    (told,) = feed  # Bristol's hearing: the same event, the same id
    # When, as the estate writes it: UK time, with its offset.
    occurred = datetime.fromisoformat(published[0].pop("occurredAt"))
    assert occurred == datetime.fromisoformat(told["occurred_at"])
    assert occurred.utcoffset() == occurred.astimezone(UK).utcoffset()
    her = {"identifiers": [{"type": "NOMS", "value": mother["prison_number"]}]}
    assert published[0] == {
        "eventType": "tac.court-hearing.created",
        "version": 1,
        "description": "A court hearing was added to a mother's case",
        "detailUrl": f"{PUBLIC}/v1/court-hearings/{hearing['id']}",
        "additionalInformation": {
            "eventId": told["id"],
            "resourceType": "court_hearing",
            "resourceId": hearing["id"],
            "motherId": mother["id"],
            "nomsNumber": mother["prison_number"],
        },
        "personReference": her,
    }
    published[1].pop("occurredAt")
    assert published[1] == {
        "eventType": "tac.contact-visit.created",
        "version": 1,
        "description": "A contact visit was requested",
        "detailUrl": f"{PUBLIC}/v1/contact-visits/{visit['id']}",
        "additionalInformation": {
            "eventId": published[1]["additionalInformation"]["eventId"],
            "resourceType": "contact_visit",
            "resourceId": visit["id"],
            "motherId": mother["id"],
            "nomsNumber": mother["prison_number"],
        },
        "personReference": her,
    }
    published[2].pop("occurredAt")
    assert published[2] == {
        "eventType": "tac.mother.transferred",
        "version": 1,
        "description": "A mother was moved to another prison",
        "detailUrl": f"{PUBLIC}/v1/mothers/{alone['id']}",
        "additionalInformation": {
            "eventId": published[2]["additionalInformation"]["eventId"],
            "resourceType": "mother",
            "resourceId": alone["id"],
            "motherId": alone["id"],
            "nomsNumber": alone["prison_number"],
        },
        "personReference": {"identifiers": [{"type": "NOMS", "value": alone["prison_number"]}]},
    }
    # No name, no free text: hers, her children's, the court's, the escort's.
    shown = json.dumps(published, ensure_ascii=False)
    for name in ("Siân", "O'Connor", "Gwenllian", "Morgan", "Rhys", "Nia", "Eirlys", "Bristol"):
        assert name not in shown

    # Published: nothing again.
    assert publish(api, settings) == 0
    assert heard(estate, queue) == []


def test_every_kind_of_change_has_its_own_sentence_and_address(api: Api, estate: Estate) -> None:
    """A release plan is read through its mother."""
    queue = listener(estate)
    family = world.family(api, {"rhys": world.child("Rhys")})
    mother_id = family["mother"]["id"]
    plan = {"expected_release_date": at(timedelta(days=60))[:10]}
    assert api.put("admin", f"/v1/mothers/{mother_id}/release-plan", plan).status_code == 201
    publish(api, settings_for(api, estate))
    created, date_changed = heard(estate, queue)
    assert (created["eventType"], created["detailUrl"]) == (
        "tac.release-plan.created",
        f"{PUBLIC}/v1/mothers/{mother_id}/release-plan",
    )
    assert date_changed["detailUrl"] == f"{PUBLIC}/v1/mothers/{mother_id}"
    assert date_changed["description"] == "A mother's release date changed"
    # A type with no sentence yet is said of its kind of record, still with nothing of her.
    assert publisher.description("mother.merged", "mother") == "A mother record changed"


def test_a_link_requests_answer_is_not_published(api: Api) -> None:
    """Told to one authority alone, naming no mother it may know: the estate has no part in it."""

    async def answer() -> None:
        async with sessions(api)() as session, session.begin():
            emit(
                session,
                "link-request.declined",
                "link_request",
                uuid.uuid4(),
                None,
                [],
                {"status": "declined"},
                to_authority="801",
            )

    api.client.portal.call(answer)  # type: ignore[union-attr]
    assert api.sql("SELECT count(*) FROM change_event") == [(1,)]
    assert api.sql("SELECT count(*) FROM service_event") == [(0,)]


def test_the_outbox_is_written_in_one_statement_with_the_change(api: Api) -> None:
    family = world.family(api, {"rhys": world.child("Rhys")})
    url = f"/v1/mothers/{family['mother']['id']}/release-plan"
    plan = {"expected_release_date": at(timedelta(days=60))[:10]}
    with counting(api) as sent:
        assert api.put("admin", url, plan).status_code == 201
    inserts = [s for s in sent if s.lstrip().upper().startswith("INSERT INTO SERVICE_EVENT")]
    assert len(inserts) == 1  # two events (the plan, her release date): one statement
    assert api.sql("SELECT count(*) FROM service_event") == [(2,)]
    # A request that fails writes none (its change rolled back with them).
    assert api.put("admin", url, plan, if_none_match="*").status_code == 412
    assert api.sql("SELECT count(*) FROM service_event") == [(2,)]


def test_her_number_now_is_the_one_published(api: Api, estate: Estate) -> None:
    """A merge since the change: the kept number is published, not the one she had then."""
    queue = listener(estate)
    mother = api.mother(prison_number="A1111AA")
    emitted(api, 1, mother["id"])
    api.sql(
        "UPDATE mother SET prison_number = 'B2222BB' WHERE id = :id", id=db_id(api, mother["id"])
    )
    publish(api, settings_for(api, estate))
    (published,) = heard(estate, queue)
    assert published["personReference"] == {"identifiers": [{"type": "NOMS", "value": "B2222BB"}]}
    assert published["additionalInformation"]["nomsNumber"] == "B2222BB"
    assert "A1111AA" not in json.dumps(published)


# Restarts, crashes, races, outages ----------------------------------------------------------


def test_a_stopped_publisher_resumes_where_it_got_to(api: Api, estate: Estate) -> None:
    queue = listener(estate)
    settings = settings_for(api, estate)
    emitted(api, 5)
    assert publish(api, settings, limit=2) == 2
    assert publish(api, settings, limit=2) == 2
    first = heard(estate, queue)
    emitted(api, 2)
    # A new process: nothing but the database's cursor to go by.
    assert publish(api, settings) == 3
    rest = heard(estate, queue)
    everything = first + rest
    assert len(everything) == len({e["additionalInformation"]["eventId"] for e in everything}) == 7
    positions = api.sql("SELECT resource_id FROM service_event ORDER BY position")
    assert evidence_ids(everything) == [str(uuid.UUID(str(row[0]))) for row in positions]


def _failing_cursor_commits(api: Api) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commit fails once the cursor has been moved: a crash between publishing
    and the cursor's commit."""

    class Crashing(Session):
        pass

    @event.listens_for(Crashing, "do_orm_execute")
    def moving(state: Any) -> None:
        if state.is_update:
            state.session.info["cursor_moved"] = True

    @event.listens_for(Crashing, "before_commit")
    def crash(session: Session) -> None:
        if session.info.get("cursor_moved"):
            raise RuntimeError("the process died here")

    engine = api.client.app.state.engine  # type: ignore[attr-defined]
    return async_sessionmaker(
        transactional(engine), expire_on_commit=False, autoflush=False, sync_session_class=Crashing
    )


def test_a_crash_before_the_cursor_moves_repeats_that_batch_only(api: Api, estate: Estate) -> None:
    queue = listener(estate)
    settings = settings_for(api, estate)
    emitted(api, 3)
    assert publish(api, settings, limit=2) == 2  # before: published, cursor moved
    crashing = _failing_cursor_commits(api)
    with pytest.raises(RuntimeError, match="died"):
        api.client.portal.call(  # type: ignore[union-attr]
            lambda: publisher.publish_once(crashing, settings, limit=2)
        )
    emitted(api, 1)
    assert publish(api, settings) == 2  # the batch in flight (one event) again, and the new one
    published = evidence_ids(heard(estate, queue))
    order = [
        str(uuid.UUID(str(r[0])))
        for r in api.sql("SELECT resource_id FROM service_event ORDER BY position")
    ]
    # Nothing lost; only the third, in flight at the crash, twice.
    assert published == order[:3] + order[2:]


def test_two_publishers_at_once_never_publish_an_event_twice(api: Api, estate: Estate) -> None:
    if not api.database_url.startswith("postgres"):
        pytest.skip("SQLite cannot lock a row: run one publisher there")
    queue = listener(estate)
    settings = settings_for(api, estate)
    emitted(api, 25)
    real = estate.sns
    # A slow topic, so that each pass overlaps the other publisher's.
    one, other = FlakySns(real, pause=0.05), FlakySns(real, pause=0.05)

    async def both() -> list[int]:
        async def publish_all(sns: Any) -> int:
            total = 0
            for _ in range(10):
                total += await publisher.publish_once(sessions(api), settings, sns, limit=10)
            return total

        return await asyncio.gather(publish_all(one), publish_all(other))

    counts = api.client.portal.call(both)  # type: ignore[union-attr]
    assert sum(counts) == 25 and all(counts)  # both took a share
    published = evidence_ids(heard(estate, queue))
    assert len(published) == len(set(published)) == 25


class Recording:
    """A topic that keeps what it is sent, in order."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def publish_batch(self, **kwargs: Any) -> Any:
        entries = kwargs["PublishBatchRequestEntries"]
        self.sent += [json.loads(entry["Message"]) for entry in entries]
        return {"Successful": [{"Id": e["Id"]} for e in entries], "Failed": []}


def test_a_publisher_running_while_others_write_misses_nothing(
    api: Api, estate: Estate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real concurrent requests on PostgreSQL about mothers with no children (changes that
    concern no authority: the outbox alone orders them). Each writer lingers between writing
    its events and committing, while a publisher publishes from its cursor: each event once,
    none skipped, in order."""
    if not api.database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time hold the whole database")
    written = changes_service.write_pending
    lingering = random.Random(7)

    async def write_then_linger(session: Any) -> None:
        await written(session)
        await asyncio.sleep(lingering.uniform(0, 0.03))

    monkeypatch.setattr(changes_service, "write_pending", write_then_linger)
    settings = settings_for(api, estate)
    topic = Recording()
    mothers = [api.mother()["id"], api.mother()["id"]]
    writers, items_each = 5, 10
    app = api.client.app

    async def race() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            finished = asyncio.Event()

            async def writer(n: int) -> None:
                for k in range(items_each):
                    body = {"category": "course", "title": f"W{n}-{k}", "started_on": "2025-09-01"}
                    url = f"/v1/mothers/{mothers[(n + k) % 2]}/evidence"
                    response = await client.post(url, json=body, headers=api.headers("admin"))
                    assert response.status_code == 201, response.text

            async def publishing() -> None:
                while True:
                    done = finished.is_set()  # once more after the last write
                    published = await publisher.publish_once(
                        sessions(api), settings, topic, limit=7
                    )
                    if done and not published:
                        return
                    await asyncio.sleep(0 if published else 0.005)

            polling = asyncio.create_task(publishing())
            await asyncio.gather(*(writer(n) for n in range(writers)))
            finished.set()
            await polling

    api.client.portal.call(race)  # type: ignore[union-attr]
    stored = api.sql("SELECT event_id FROM service_event ORDER BY position")
    assert len(stored) == writers * items_each
    published = [e["additionalInformation"]["eventId"] for e in topic.sent]
    assert published == [str(uuid.UUID(str(row[0]))) for row in stored], "missed or repeated"


def test_a_change_to_her_record_and_a_change_about_her_do_not_deadlock(api: Api) -> None:
    """She has no children. One request holds her row (a change to her record) and will wait
    for the ordering lock; another, about her (her evidence changed: nothing in it locks her
    row), must not hold that lock while its outbox row's foreign key waits for her row."""
    if not api.database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time hold the whole database")
    mother = api.mother()
    body = {"category": "course", "title": "Triple P", "started_on": "2025-09-01"}
    item = api.post("admin", f"/v1/mothers/{mother['id']}/evidence", body).json()
    admin = Caller(client_id=uuid.uuid4(), name="test", role=Role.admin)
    app = api.client.app

    async def both() -> str:
        async with app.state.sessionmaker() as holding:  # type: ignore[attr-defined]
            change = MotherUpdate(earliest_release_date="2027-01-04")
            await update_mother(holding, admin, uuid.UUID(mother["id"]), change, "*")

            async def about_her() -> str:
                async with app.state.sessionmaker() as session:  # type: ignore[attr-defined]
                    changed = EvidenceUpdate(title="Triple P Level 4")
                    await update_evidence(session, admin, uuid.UUID(item["id"]), changed, "*")
                    await session.commit()
                    return "committed"

            waiting = asyncio.create_task(about_her())
            await asyncio.sleep(0.3)
            assert not waiting.done(), "the evidence's events should wait for her row"
            await holding.commit()
        return await waiting

    assert api.client.portal.call(both) == "committed"  # type: ignore[union-attr]
    kinds = api.sql("SELECT event_type FROM service_event ORDER BY position")
    assert [k[0] for k in kinds] == [
        "evidence.added",
        "mother.release-date-changed",
        "evidence.updated",
    ]


def test_sns_down_loses_nothing(api: Api, estate: Estate) -> None:
    queue = listener(estate)
    settings = settings_for(api, estate)
    emitted(api, 12)
    down = FlakySns(estate.sns, down=frozenset({1}))
    with pytest.raises(publisher.PublishFailed, match="0 of 12 events published"):
        publish(api, settings, down)
    # Down half way: the first batch of ten went, and the cursor says so.
    halfway = FlakySns(estate.sns, down=frozenset({2}))
    with pytest.raises(publisher.PublishFailed, match="10 of 12"):
        publish(api, settings, halfway)
    # An endpoint that answers nothing at all (a real client, no retries).
    unreachable = boto3.client(
        "sns",
        endpoint_url="http://127.0.0.1:9",
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(publisher.PublishFailed, match="could not be reached"):
        publish(api, settings, unreachable)
    assert publish(api, settings) == 2
    published = evidence_ids(heard(estate, queue))
    assert len(published) == len(set(published)) == 12


def test_a_topic_refusing_some_entries_publishes_them_later(api: Api, estate: Estate) -> None:
    queue = listener(estate)
    settings = settings_for(api, estate)
    emitted(api, 3)

    class Refusing:
        def publish_batch(self, **kwargs: Any) -> Any:
            entries = kwargs["PublishBatchRequestEntries"]
            answer = estate.sns.publish_batch(
                TopicArn=kwargs["TopicArn"], PublishBatchRequestEntries=entries[:1] + entries[2:]
            )
            failed = {"Id": entries[1]["Id"], "Code": "Throttled", "SenderFault": False}
            return {**answer, "Failed": [failed]}

    with pytest.raises(publisher.PublishFailed, match=r"1 of 3 .*refused events \(Throttled\)"):
        publish(api, settings, Refusing())
    assert publish(api, settings) == 2
    first, third, second, third_again = evidence_ids(heard(estate, queue))
    assert third == third_again  # after the refused one: published again, at least once
    assert len({first, second, third}) == 3


def test_run_keeps_going_while_the_topic_is_down(api: Api, estate: Estate) -> None:
    queue = listener(estate)
    settings = settings_for(api, estate, events_publish_poll_seconds=0.01)
    emitted(api, 2)
    flaky = FlakySns(estate.sns, down=frozenset({1, 2, 3}))

    async def running() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(publisher.run(sessions(api), settings, stop, flaky))
        for _ in range(500):
            if flaky.calls > 3:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)

    api.client.portal.call(running)  # type: ignore[union-attr]
    assert len(heard(estate, queue)) == 2


def test_retry_waits_double_up_to_a_cap() -> None:
    settings = Settings(events_publish_poll_seconds=2)
    assert [publisher.retry_delay(n, settings) for n in (1, 2, 3, 9, 30)] == [2, 4, 8, 300, 300]


def test_published_events_are_pruned_after_some_days_unpublished_never(
    api: Api, estate: Estate
) -> None:
    settings = settings_for(api, estate, events_published_keep_days=3)
    old = datetime.now(UTC) - timedelta(days=4)
    emitted(api, 3)
    assert publish(api, settings) == 3
    # The first two published long ago; the third recently.
    first = api.sql("SELECT min(position) FROM service_event")[0][0]
    aged = "UPDATE service_event SET occurred_at = :old WHERE position BETWEEN :low AND :high"
    api.sql(aged, old=old, low=first, high=first + 1)
    emitted(api, 2)  # as old, and never published
    api.sql(aged, old=old, low=first + 3, high=first + 4)
    pruned = api.client.portal.call(  # type: ignore[union-attr]
        lambda: publisher.prune(sessions(api), settings)
    )
    assert pruned == 2
    assert api.sql("SELECT count(*) FROM service_event") == [(3,)]
    assert publish(api, settings) == 2  # still there to publish


# Where it runs -------------------------------------------------------------------------------


def test_each_api_process_publishes_when_told(api: Api, estate: Estate) -> None:
    queue = listener(estate)
    settings = settings_for(api, estate, events_publish=True, events_publish_poll_seconds=0.05)
    with pytest.raises(publisher.NoTopic):
        create_app(Settings(database_url=api.database_url, events_publish=True))
    app = create_app(settings)
    with TestClient(app):
        emitted(api, 1)
        found: list[dict[str, Any]] = []
        for _ in range(200):
            found += heard(estate, queue)
            if found:
                break
            time.sleep(0.05)
    assert types(found) == ["tac.evidence.added"]


def test_the_publish_command_on_a_fresh_database(tmp_path: Path, estate: Estate) -> None:
    url = f"sqlite:///{tmp_path / 'tac.db'}"
    upgrade(url)
    run(load_reference_into(url))
    queue = listener(estate)

    async def a_change() -> None:
        engine = make_engine(Settings(database_url=url), pool=False)
        try:
            async with sessionmaker_for(engine)() as session, session.begin():
                row = mother_row(NOW, prison_number="C3333CC", supported_from=NOW.date())
                await session.execute(insert(Mother.__table__), row)  # type: ignore[arg-type]
                emit(session, "mother.released", "mother", row["id"], row["id"])
        finally:
            await engine.dispose()

    run(a_change())
    env = {
        **os.environ,
        "TAC_DATABASE_URL": url,
        "TAC_AWS_ENDPOINT_URL": estate.endpoint,
        "TAC_EVENTS_TOPIC_ARN": estate.topic_arn,
    }

    def publish_command(*extra: str, **more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TAC_API, "events", "publish", "--once", *extra],
            env={**env, **more},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = publish_command()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1 events published"
    assert types(heard(estate, queue)) == ["tac.mother.released"]
    no_topic = publish_command(TAC_EVENTS_TOPIC_ARN="")
    assert no_topic.returncode == 1
    assert "TAC_EVENTS_TOPIC_ARN is not set" in no_topic.stderr
