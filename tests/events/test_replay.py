"""A day of prison events, shaped as the estate records them, published to the topic and consumed
from the queue by the service's own consumer and handler until the queue is empty: the end state
of every case, the inbox and the dead-letter queue, checked exactly.

The day (10 June 2026, British Summer Time: occurredAt at +01:00, nanoseconds):
- Amy (EWI) is received on new admission into EWI, where her record has her already; a release
  from EWI timed before that admission arrives after it (out of order): it must not undo it.
- Beth, released last year, is received on new admission into SDI: back in custody, flagged.
- Cara is transferred from EWI to SDI: released TRANSFERRED from EWI, then received TRANSFERRED
  into SDI, one message after the other (a batch can hold both).
- Dina is transferred from SDI to HMP Low Newton (LNI), a prison the service does not work in.
- Ella's sentence dates change in NOMIS; then she is released from EWI, an event the estate
  publishes twice.
- NOMIS merges Fay's number into a new one.
- Someone the service does not know is received into EWI.
- One message is not an event at all.
"""

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from tac_api.config import Settings
from tac_api.events import consumer
from tests.support.api import Api
from tests.support.events import (
    MERGED,
    RECEIVED,
    RELEASED,
    Estate,
    merged,
    received,
    released,
    updated,
)
from tests.support.sql import db_id

DAY = "2026-06-10"
MALFORMED = '{"eventType": "prisoner-offender-search.prisoner.received", "occurredAt": "10:00"}'


def at(clock: str) -> str:
    return f"{DAY}T{clock}.624796498+01:00"


def the_day(estate: Estate) -> None:
    publish = estate.publish
    publish(received("A1001EW", "EWI", at("08:05:12"), "NEW_ADMISSION"))
    publish(received("B1002SD", "SDI", at("08:40:03"), "NEW_ADMISSION"))
    publish(released("C1003EW", "EWI", at("09:30:41"), "TRANSFERRED"))
    publish(received("C1003EW", "SDI", at("11:10:09"), "TRANSFERRED"))
    estate.publish_raw(MALFORMED, RECEIVED)
    publish(released("D1004SD", "SDI", at("12:00:30"), "TRANSFERRED"))
    publish(received("D1004SD", "LNI", at("12:20:55"), "TRANSFERRED"))
    publish(received("Z9999ZZ", "EWI", at("13:02:17"), "NEW_ADMISSION"))  # not known here
    publish(merged("G1007EW", "F1006EW", at("13:20:44")))
    publish(updated("E1005EW", ["SENTENCE"], at("13:45:00")))
    publish(released("E1005EW", "EWI", at("14:30:00"), "RELEASED"))
    publish(released("E1005EW", "EWI", at("14:30:00"), "RELEASED"))  # the same, again
    publish(released("A1001EW", "EWI", at("07:40:26"), "RELEASED"))  # older than her admission


def consume_until_empty(api: Api, estate: Estate) -> None:
    """The service's consumer (its own handler, on the app's database), until the queue is empty
    and the dead-letter queue holds what it will."""
    settings = Settings(
        database_url=api.database_url,
        aws_endpoint_url=estate.endpoint,
        events_queue_url=estate.queue_url,
        events_wait_seconds=0,
        events_retry_seconds=0,
        events_max_receives=3,  # as the estate's queue's redrive policy says
    )

    async def until(condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not await asyncio.to_thread(condition):
            assert time.monotonic() < deadline, "gave up waiting"
            await asyncio.sleep(0.1)

    async def consume() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(
            consumer.run(api.client.app.state.sessionmaker, settings, stop)  # type: ignore[attr-defined]
        )
        await until(
            lambda: (
                estate.depth(estate.queue_url) == 0
                and estate.depth(estate.dead_letter_queue_url) == 1
            )
        )
        stop.set()
        await running

    api.client.portal.call(consume)  # type: ignore[union-attr]


def mother(api: Api, prison_number: str, prison: str, **fields: Any) -> str:
    return api.mother(prison_number=prison_number, prison_code=prison, **fields)["id"]


def her(api: Api, mother_id: str) -> dict[str, Any]:
    response = api.get("admin", f"/v1/mothers/{mother_id}")
    assert response.status_code == 200, response.text
    return response.json()


def stays(api: Api, mother_id: str) -> list[tuple[str, str, str | None]]:
    response = api.get("admin", f"/v1/mothers/{mother_id}/prison-stays")
    assert response.status_code == 200, response.text
    return [(s["prison_code"], s["arrived_on"], s["left_on"]) for s in response.json()["items"]]


def open_flags(api: Api, mother_id: str) -> list[str]:
    rows = api.sql(
        "SELECT reason FROM review_flag WHERE mother_id = :id AND cleared_at IS NULL "
        "ORDER BY raised_at, reason",
        id=db_id(api, mother_id),
    )
    return [row[0] for row in rows]


def test_a_day_of_prison_events(api: Api, estate: Estate) -> None:
    ids = {
        "amy": mother(api, "A1001EW", "EWI"),
        "beth": mother(api, "B1002SD", "SDI", status="released", reception_date="2024-02-01"),
        "cara": mother(api, "C1003EW", "EWI"),
        "dina": mother(api, "D1004SD", "SDI"),
        "ella": mother(api, "E1005EW", "EWI"),
        "fay": mother(api, "F1006EW", "EWI"),
    }
    amy, beth, cara, dina, ella, fay = ids.values()
    received_on = "2025-09-01"  # each one's reception date (tests.support.bodies)

    the_day(estate)
    consume_until_empty(api, estate)

    # Where each one is, and her custody.
    now = {name: her(api, mother_id) for name, mother_id in ids.items()}
    assert {
        name: (
            record["prison_number"],
            record["prison_code"],
            record["status"],
            record.get("released_on"),
        )
        for name, record in now.items()
    } == {
        "amy": ("A1001EW", "EWI", "active", None),  # the late release undid nothing
        "beth": ("B1002SD", "SDI", "active", None),
        "cara": ("C1003EW", "SDI", "active", None),
        "dina": ("D1004SD", "LNI", "transferred", None),
        "ella": ("E1005EW", "EWI", "released", DAY),
        "fay": ("G1007EW", "EWI", "active", None),  # NOMIS's kept number
    }
    # Her old number is kept as an alias, which a search still finds her by.
    assert api.sql("SELECT prison_number FROM prison_number_alias") == [("F1006EW",)]
    found = api.get("admin", "/v1/mothers", params={"prison_number": "F1006EW"})
    assert [record["id"] for record in found.json()["items"]] == [fay]
    assert stays(api, amy) == [("EWI", received_on, None)]
    assert stays(api, cara) == [("EWI", received_on, DAY), ("SDI", DAY, None)]
    assert stays(api, dina) == [("SDI", received_on, DAY), ("LNI", DAY, None)]
    assert stays(api, ella) == [("EWI", received_on, None)]

    # Flags for review: Beth back in custody, Dina gone where the service does not work, Ella's
    # sentence to check.
    assert open_flags(api, amy) == open_flags(api, cara) == open_flags(api, fay) == []
    [back] = open_flags(api, beth)
    assert "back into custody" in back
    [gone] = open_flags(api, dina)
    assert "does not work in" in gone
    [sentence] = open_flags(api, ella)
    assert "sentence" in sentence

    # The inbox: every event about someone known, once, with what became of it.
    inbox = api.sql(
        "SELECT m.prison_number, e.event_type, e.outcome, e.details FROM prison_event e "
        "JOIN mother m ON m.id = e.mother_id ORDER BY e.occurred_at"
    )
    short = {RECEIVED: "received", RELEASED: "released", MERGED: "merged"}
    assert [
        (row[0], short.get(row[1], "updated"), row[2], _details(row[3]).get("reason"))
        for row in inbox
    ] == [
        ("A1001EW", "released", "superseded", "RELEASED"),
        ("A1001EW", "received", "applied", "NEW_ADMISSION"),
        ("B1002SD", "received", "applied", "NEW_ADMISSION"),
        ("C1003EW", "released", "applied", "TRANSFERRED"),
        ("C1003EW", "received", "applied", "TRANSFERRED"),
        ("D1004SD", "released", "applied", "TRANSFERRED"),
        ("D1004SD", "received", "applied", "TRANSFERRED"),
        ("G1007EW", "merged", "applied", "MERGE"),
        ("E1005EW", "updated", "applied", None),
        ("E1005EW", "released", "applied", "RELEASED"),  # once
    ]
    assert api.sql("SELECT count(*) FROM prison_event")[0][0] == len(inbox)

    # Nothing of the person the service does not know; the unknown prison added, not served.
    assert api.sql("SELECT count(*) FROM mother WHERE prison_number = 'Z9999ZZ'")[0][0] == 0
    assert not [row for row in inbox if "Z9999ZZ" in json.dumps(_details(row[3]))]
    assert api.sql("SELECT code, served FROM prison WHERE NOT served") == [("LNI", False)]

    # The dead-letter queue holds the malformed message, and only it.
    [letter] = estate.drain(estate.dead_letter_queue_url)
    assert letter["Message"] == MALFORMED
    assert estate.depth(estate.queue_url) == 0


def _details(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else value
