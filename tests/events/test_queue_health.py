"""The estate's queue in /health's details: reachable or not, messages waiting, dead letters,
from one bounded look at a time, shown again for a while. A queue that is down shows there and
never takes the API out of service."""

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tac_api.config import Settings
from tac_api.main import create_app
from tests.support.api import Api
from tests.support.events import REGION, Estate, received


def health_of(api: Api, **settings: Any) -> TestClient:
    return TestClient(
        create_app(Settings(database_url=api.database_url, aws_region=REGION, **settings))
    )


def queues(estate: Estate, **extra: Any) -> dict[str, Any]:
    return {
        "aws_endpoint_url": estate.endpoint,
        "events_queue_url": estate.queue_url,
        "events_dead_letter_queue_url": estate.dead_letter_queue_url,
        **extra,
    }


def name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def test_health_shows_the_queue_and_its_dead_letters(api: Api, estate: Estate) -> None:
    estate.publish(received("A1234BC", "EWI", "2026-06-14T09:07:15.624796498+01:00"))
    estate.sqs.send_message(QueueUrl=estate.dead_letter_queue_url, MessageBody="{}")
    estate.sqs.send_message(QueueUrl=estate.dead_letter_queue_url, MessageBody="{}")
    with health_of(api, **queues(estate, events_health_cache_seconds=0)) as client:
        response = client.get("/health")  # no token
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "events_queue": {
                "name": name(estate.queue_url),
                "reachable": True,
                "messages_waiting": 1,
                "messages_in_flight": 0,
            },
            "events_dead_letter_queue": {
                "name": name(estate.dead_letter_queue_url),
                "reachable": True,
                "messages_waiting": 2,
                "messages_in_flight": 0,
            },
        }
        # Received and not yet deleted: in flight.
        estate.sqs.receive_message(QueueUrl=estate.queue_url, VisibilityTimeout=30)
        queue = client.get("/health").json()["events_queue"]
        assert (queue["messages_waiting"], queue["messages_in_flight"]) == (0, 1)


def test_the_queue_is_looked_at_once_in_a_while(api: Api, estate: Estate) -> None:
    with health_of(api, **queues(estate, events_health_cache_seconds=3600)) as client:
        assert client.get("/health").json()["events_queue"]["messages_waiting"] == 0
        estate.sqs.send_message(QueueUrl=estate.queue_url, MessageBody="{}")
        # What was seen is shown again: SQS is not asked on every probe.
        assert client.get("/health").json()["events_queue"]["messages_waiting"] == 0


def test_without_a_dead_letter_queue_only_the_queue_shows(api: Api, estate: Estate) -> None:
    settings = queues(estate, events_dead_letter_queue_url=None)
    with health_of(api, **settings) as client:
        assert set(client.get("/health").json()) == {"status", "events_queue"}


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An endpoint that takes connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    taken: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                taken.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in taken:
            connection.close()
        server.close()


@pytest.mark.parametrize("down", ["refused", "silent", "malformed"])
def test_a_queue_that_is_down_shows_and_the_api_stays_ready(
    api: Api, estate: Estate, silent_endpoint: str, down: str
) -> None:
    endpoint = {
        "refused": "http://127.0.0.1:9",
        "silent": silent_endpoint,
        "malformed": "not an endpoint",  # boto3 refuses to make a client of it
    }[down]
    settings = queues(estate, aws_endpoint_url=endpoint, events_health_seconds=0.5)
    with health_of(api, **settings) as client:
        response = client.get("/health")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "events_queue": {"name": name(estate.queue_url), "reachable": False},
            "events_dead_letter_queue": {
                "name": name(estate.dead_letter_queue_url),
                "reachable": False,
            },
        }
        for path in ("/health/readiness", "/health/ready", "/health/liveness"):
            assert client.get(path).status_code == 200
