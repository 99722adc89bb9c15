"""The queue loop (tac_api.events.consumer), with handlers of the tests' own, against a local SQS
and SNS (moto in server mode, over HTTP): what is deleted, what comes back and when, what goes
to the dead-letter queue, long polling, a queue that is down, and what reaches the logs."""

import asyncio
import json
import logging
import os
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from tac_api.config import Settings
from tac_api.events import aws, consumer
from tac_api.events.schemas import CONSUMED, parse_message
from tac_api.logs import JsonLogFormatter
from tac_api.main import create_app
from tests.support.api import Api
from tests.support.events import (
    RECEIVED,
    Estate,
    merged,
    new_estate,
    received,
    released,
    updated,
)
from tests.support.processes import run_tac_api

WHEN = "2026-12-06T09:07:15.624796498Z"


def settings_for(estate: Estate, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "aws_endpoint_url": estate.endpoint,
        "aws_region": "eu-west-2",
        "events_queue_url": estate.queue_url,
        "events_dead_letter_queue_url": estate.dead_letter_queue_url,
        "events_topic_arn": estate.topic_arn,
        "events_wait_seconds": 0,
        "events_retry_seconds": 0,
        "events_max_receives": 3,
        "events_reconnect_max_seconds": 1,
    }
    return Settings(**(values | overrides))


def once(settings: Settings, handler: consumer.Handler) -> Counter[str]:
    return asyncio.run(consumer.consume_once(aws.client(settings, "sqs"), settings, handler))


def event_of(body: str) -> dict[str, Any]:
    """The event an SQS message's body (the SNS envelope) carries."""
    return json.loads(json.loads(body)["Message"])


class Recorder:
    """A handler: the bodies it was given; raises MalformedEvent for what does not parse (as the
    service's does), and whatever `fail` says for the rest."""

    def __init__(self, fail: Callable[[str], bool] = lambda body: False) -> None:
        self.bodies: list[str] = []
        self.fail = fail

    async def __call__(self, body: str) -> str:
        self.bodies.append(body)
        parse_message(body)
        if self.fail(body):
            raise RuntimeError(body)  # as a database error quotes the values it refused
        return "applied"

    def calls(self, noms: str) -> int:
        return sum(noms in body for body in self.bodies)


async def until(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.05)


def test_a_handled_message_is_deleted(estate: Estate) -> None:
    estate.publish(received("A1234BC", "EWI", WHEN, "NEW_ADMISSION"))
    handler = Recorder()

    assert once(settings_for(estate), handler) == Counter(applied=1)

    # The handler was given the SNS envelope, as the estate's queues deliver it.
    [body] = handler.bodies
    assert json.loads(body)["Type"] == "Notification"
    assert event_of(body)["additionalInformation"]["nomsNumber"] == "A1234BC"
    assert estate.depth(estate.queue_url) == 0  # deleted, not merely in flight
    assert estate.depth(estate.dead_letter_queue_url) == 0


def test_the_handlers_outcome_is_counted_as_its_word(estate: Estate) -> None:
    class Outcome:  # an enum member, as the service's handler returns
        value = "duplicate"

    async def handler(body: str) -> Any:
        return Outcome()

    estate.publish(received("A1234BC", "EWI", WHEN))
    assert once(settings_for(estate), handler) == Counter(duplicate=1)


def test_a_failed_message_comes_back_after_the_retry_interval(aws_endpoint: str) -> None:
    # The queue's own visibility timeout is 30 s: only the consumer's retry interval (1 s)
    # brings the message back within the next pass's 5 s long poll.
    estate = new_estate(aws_endpoint, visibility_seconds=30)
    estate.publish(released("A1234BC", "EWI", WHEN))
    settings = settings_for(estate, events_retry_seconds=1)
    handler = Recorder(fail=lambda body: len(handler.bodies) == 1)  # the first time only

    assert once(settings, handler) == Counter(failed=1)
    assert once(settings.model_copy(update={"events_wait_seconds": 5}), handler) == Counter(
        applied=1
    )
    assert handler.bodies[0] == handler.bodies[1]
    assert estate.depth(estate.queue_url) == 0


def test_a_message_that_always_fails_goes_to_the_dead_letter_queue_and_the_rest_go_on(
    aws_endpoint: str,
) -> None:
    estate = new_estate(aws_endpoint, max_receives=3, visibility_seconds=1)
    estate.publish(received("A1234BC", "EWI", WHEN, "NEW_ADMISSION"))
    estate.publish_raw("not an event", RECEIVED)
    estate.publish(received("B2345CD", "SDI", WHEN, "NEW_ADMISSION"))
    estate.publish(released("C3456DE", "EWI", WHEN))
    settings = settings_for(estate, events_retry_seconds=0)
    handler = Recorder(fail=lambda body: "C3456DE" in body)
    stop = asyncio.Event()

    async def consume() -> None:
        running = asyncio.create_task(consumer.run(None, settings, stop, handler))  # type: ignore[arg-type]
        await until(
            lambda: (
                estate.depth(estate.queue_url) == 0
                and estate.depth(estate.dead_letter_queue_url) == 2
            )
        )
        stop.set()
        await running

    asyncio.run(consume())

    # Each failing message was handled exactly maxReceiveCount times, then moved; the good ones
    # once each, in between.
    assert handler.calls("not an event") == 3
    assert handler.calls("C3456DE") == 3
    assert handler.calls("A1234BC") == handler.calls("B2345CD") == 1
    dead = sorted(letter["Message"] for letter in estate.drain(estate.dead_letter_queue_url))
    assert len(dead) == 2
    assert dead[0] == "not an event"
    assert event_of(json.dumps({"Message": dead[1]}))["additionalInformation"]["nomsNumber"] == (
        "C3456DE"
    )


def test_long_polling_returns_a_message_published_during_the_wait(estate: Estate) -> None:
    # Published well into a five-second wait: a short poll would have returned empty.
    settings = settings_for(estate, events_wait_seconds=5)
    sqs = aws.client(settings, "sqs")
    publishing = threading.Timer(1.5, estate.publish, [received("A1234BC", "EWI", WHEN)])
    publishing.start()
    try:
        outcomes = asyncio.run(consumer.consume_once(sqs, settings, Recorder()))
    finally:
        publishing.join()
    assert outcomes == Counter(applied=1)


def test_a_batchs_messages_are_handled_one_after_another(estate: Estate) -> None:
    for number in range(5):
        estate.publish(received(f"A{number}234BC", "EWI", WHEN))
    running, most = 0, 0

    async def handler(body: str) -> str:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.02)
        running -= 1
        return "applied"

    outcomes = once(settings_for(estate), handler)

    assert outcomes["applied"] > 1  # a batch, not one message a pass
    assert most == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_queue_that_cannot_be_reached_is_retried_until_it_can(
    estate: Estate, caplog: pytest.LogCaptureFixture
) -> None:
    """The consumer starts while its endpoint is down (nothing listens there), keeps trying, and
    consumes once the endpoint comes up."""
    port = free_port()
    down = f"http://127.0.0.1:{port}"
    # moto keeps one state per process: the same queue, reached at another address.
    settings = settings_for(
        estate,
        aws_endpoint_url=down,
        events_queue_url=estate.queue_url.replace(estate.endpoint, down),
    )
    estate.publish(received("A1234BC", "EWI", WHEN))
    handler = Recorder()
    stop = asyncio.Event()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)

    def unreachable() -> int:
        return sum("cannot reach the prison events queue" in r.getMessage() for r in caplog.records)

    async def consume() -> None:
        running = asyncio.create_task(consumer.run(None, settings, stop, handler))  # type: ignore[arg-type]
        await until(lambda: unreachable() >= 2)
        assert not running.done()
        server.start()
        await until(lambda: bool(handler.bodies))
        stop.set()
        await running

    caplog.set_level(logging.INFO, logger="tac_api.events")
    try:
        asyncio.run(consume())
    finally:
        server.stop()

    assert handler.calls("A1234BC") == 1
    assert estate.depth(estate.queue_url) == 0
    assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_the_reconnect_delay_doubles_up_to_its_cap() -> None:
    settings = Settings(events_reconnect_max_seconds=10)
    delays = [consumer.reconnect_delay(failures, settings) for failures in range(1, 7)]
    assert delays == [1, 2, 4, 8, 10, 10]
    assert consumer.reconnect_delay(10_000, settings) == 10


def production_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The records as the service writes them (tac_api.logs.configure_logging's formatter)."""
    formatter = JsonLogFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )
    return [formatter.format(record) for record in caplog.records]


def test_a_failure_is_logged_without_the_messages_content(
    aws_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    estate = new_estate(aws_endpoint, max_receives=2)
    estate.publish(received("A1234BC", "EWI", WHEN, "NEW_ADMISSION"))
    estate.publish_raw('{"name": "Siân O\'Connor"}', RECEIVED)
    settings = settings_for(estate, events_max_receives=2)
    handler = Recorder(fail=lambda body: "A1234BC" in body)
    caplog.set_level(logging.INFO, logger="tac_api.events")

    assert once(settings, handler) == Counter(failed=2)
    assert once(settings, handler) == Counter(failed=2)  # the last receive of each
    notification_ids = {json.loads(body)["MessageId"] for body in handler.bodies}

    records = [r for r in caplog.records if r.name == "tac_api.events"]
    assert len(records) == 4
    lines = production_lines(caplog)
    for line in lines:
        for content in ("A1234BC", "EWI", "NEW_ADMISSION", "Connor"):
            assert content not in line
        for notification_id in notification_ids:
            assert notification_id not in line
    # What is there instead: the SQS MessageId, the receive count and the exception's class.
    logged = [json.loads(line) for line in lines]
    assert {entry["error"] for entry in logged} == {"RuntimeError", "MalformedEvent"}
    assert sorted(entry["receive_count"] for entry in logged) == [1, 1, 2, 2]
    assert all(entry["sqs_message_id"] in entry["message"] for entry in logged)
    assert [entry["level"] for entry in logged].count("ERROR") == 2  # the last receive
    # Where it went wrong (the stack), for whoever must fix it; never what it said.
    assert all("(message withheld)" in entry["exc_info"] for entry in logged)


# -- The commands, in fresh processes, as a user runs them ---------------------------------------


def tac_api(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("TAC_")}
    return run_tac_api(*args, env={**clean, **env})


def test_consume_refuses_without_a_queue(tmp_path: Path) -> None:
    done = tac_api(
        "events", "consume", "--once", TAC_DATABASE_URL=f"sqlite:///{tmp_path / 'tac.db'}"
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: TAC_EVENTS_QUEUE_URL is not set")
    assert done.stderr.count("\n") == 1


def test_create_queues_refuses_without_a_local_endpoint() -> None:
    done = tac_api("events", "create-queues")
    assert done.returncode == 2
    assert done.stderr.startswith("error: TAC_AWS_ENDPOINT_URL is not set")
    assert done.stderr.count("\n") == 1


def test_create_queues_says_when_the_endpoint_is_down() -> None:
    done = tac_api(
        "events", "create-queues", TAC_AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}"
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot reach the SQS and SNS in TAC_AWS_ENDPOINT_URL")
    assert done.stderr.count("\n") == 1


def created(aws_endpoint: str, name: str) -> dict[str, str]:
    done = tac_api(
        "events",
        "create-queues",
        "--topic-name",
        f"{name}-domain-events",
        "--queue-name",
        name,
        TAC_AWS_ENDPOINT_URL=aws_endpoint,
        TAC_EVENTS_MAX_RECEIVES="4",
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def test_create_queues_makes_the_estates_shape_and_says_how_to_use_it(aws_endpoint: str) -> None:
    name = f"tac-{uuid.uuid4().hex[:12]}"
    made = created(aws_endpoint, name)

    assert set(made) == {
        "TAC_AWS_ENDPOINT_URL",
        "TAC_AWS_REGION",
        "TAC_EVENTS_TOPIC_ARN",
        "TAC_EVENTS_QUEUE_URL",
        "TAC_EVENTS_DEAD_LETTER_QUEUE_URL",
        "TAC_EVENTS_MAX_RECEIVES",
    }
    assert made["TAC_EVENTS_QUEUE_URL"].endswith(f"/{name}")
    assert made["TAC_EVENTS_DEAD_LETTER_QUEUE_URL"].endswith(f"/{name}-dlq")
    estate = Estate(
        aws_endpoint,
        made["TAC_EVENTS_TOPIC_ARN"],
        made["TAC_EVENTS_QUEUE_URL"],
        made["TAC_EVENTS_DEAD_LETTER_QUEUE_URL"],
    )
    attributes = estate.sqs.get_queue_attributes(
        QueueUrl=estate.queue_url, AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 4
    assert redrive["deadLetterTargetArn"].endswith(f":{name}-dlq")

    # The four types it consumes reach the queue, as SNS envelopes; others do not.
    estate.publish(received("A1234BC", "EWI", WHEN))
    estate.publish(released("A1234BC", "EWI", WHEN))
    estate.publish(updated("A1234BC", ["SENTENCE"], WHEN))
    estate.publish(merged("A1234BC", "B2345CD", WHEN))
    estate.publish_raw("{}", "prisoner-offender-search.prisoner.alerts-updated")
    delivered = estate.drain(estate.queue_url)
    assert sorted(json.loads(envelope["Message"])["eventType"] for envelope in delivered) == sorted(
        CONSUMED
    )
    assert {envelope["Type"] for envelope in delivered} == {"Notification"}

    # Again: nothing new, the same settings.
    assert created(aws_endpoint, name) == made


@pytest.fixture(scope="module")
def fresh_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new SQLite file, migrated by the command a new user runs."""
    url = f"sqlite:///{tmp_path_factory.mktemp('consume') / 'tac.db'}"
    done = tac_api("db", "upgrade", TAC_DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    return url


def test_consume_once_handles_what_the_topic_published(
    aws_endpoint: str, fresh_database: str
) -> None:
    made = created(aws_endpoint, f"tac-{uuid.uuid4().hex[:12]}")
    estate = Estate(
        aws_endpoint,
        made["TAC_EVENTS_TOPIC_ARN"],
        made["TAC_EVENTS_QUEUE_URL"],
        made["TAC_EVENTS_DEAD_LETTER_QUEUE_URL"],
    )
    estate.publish(received("Z9999ZZ", "EWI", WHEN, "NEW_ADMISSION"))  # no one it knows
    estate.publish_raw("not an event", RECEIVED)
    environment = made | {"TAC_DATABASE_URL": fresh_database, "TAC_EVENTS_WAIT_SECONDS": "1"}

    done = tac_api("events", "consume", "--once", **environment)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["2 messages received", "failed\t1", "ignored\t1"]
    # The log line of the failure says which message, never what it held.
    assert "MalformedEvent" in done.stderr
    assert "not an event" not in done.stderr
    assert estate.depth(estate.queue_url) == 1  # the malformed one, back after its retry time


def test_consume_once_fails_when_the_queue_cannot_be_reached(fresh_database: str) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    done = tac_api(
        "events",
        "consume",
        "--once",
        TAC_DATABASE_URL=fresh_database,
        TAC_AWS_ENDPOINT_URL=down,
        TAC_EVENTS_QUEUE_URL=f"{down}/123456789012/tac-api-prison-events",
        TAC_EVENTS_WAIT_SECONDS="0",
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "error: cannot reach the prison events queue (EndpointConnectionError)"
    )


# -- In each API process ---------------------------------------------------------------------------


def test_an_api_process_refuses_to_consume_without_a_queue() -> None:
    with pytest.raises(ValueError, match="TAC_EVENTS_QUEUE_URL is not set"):
        create_app(Settings(events_consume=True))


def test_each_api_process_consumes_in_the_background(api: Api, estate: Estate) -> None:
    her = api.mother(prison_number="A1234BC", prison_code="EWI")
    settings = settings_for(estate, database_url=api.database_url, events_consume=True)
    estate.publish(released("A1234BC", "EWI", WHEN))

    def status() -> str:
        return api.sql("SELECT status FROM mother WHERE prison_number = 'A1234BC'")[0][0]

    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 30
        while status() != "released":
            assert time.monotonic() < deadline, "not consumed"
            time.sleep(0.1)
    assert estate.depth(estate.queue_url) == 0
    assert her["status"] == "active"
