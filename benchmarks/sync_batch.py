"""Batch upserts: a local authority's system pushing children through `POST /v1/sync/children:batch`
over real HTTP, against a raw-driver bulk insert of the same rows in the same run.

The authority's system sends its children in batches of 1,000, one after another, as an
authority's nightly sync would (examples/la_sync.py). Three passes: the first creates every child,
the second sends the same batches again (every item unchanged: the retry or nightly re-send), the
third changes every child (a placement review). The floor inserts the same rows with asyncpg
(`INSERT … SELECT FROM unnest(…)`, one statement and one transaction per 1,000 rows): no lookup of
the mothers, no validation, no audit trail, no history, no idempotency key. Its rows are deleted
again before tac-api runs, so both write into a table of the same size.
"""

import asyncio
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

AUTHORITY = "801"  # Bristol
CLIENT_NAME = "bench-bristol-system"
FIRST_NAMES = ["Siân", "Rhys", "Ffion", "Aoife", "Zoë", "Chloé", "Tomás", "Nia", "Oisín", "Léa"]
LAST_NAMES = ["O'Connor", "Llewellyn", "Ní Bhriain", "Müller-Evans", "D'Souza", "Ó Súilleabháin"]
LIVES_WITH = ["foster_carer", "kinship_carer", "father", "residential"]


@dataclass
class SyncResult:
    children: int
    batch_size: int
    passes: dict[str, list[float]]  # pass name -> seconds per batch
    floor: list[float]  # seconds per batch, raw driver

    def total(self, name: str) -> float:
        return sum(self.passes[name])

    @property
    def floor_total(self) -> float:
        return sum(self.floor)


def synthetic_items(prison_numbers: list[str], count: int, seed: int) -> list[dict[str, Any]]:
    """One child per mother (round the list again if there are fewer mothers), synthetic."""
    rng = random.Random(seed)
    today = date.today()
    items = []
    for n in range(count):
        born = today - timedelta(days=rng.randint(200, 17 * 365))
        items.append(
            {
                "external_id": f"BENCH-{n:06d}",
                "mother_prison_number": prison_numbers[n % len(prison_numbers)],
                "first_name": rng.choice(FIRST_NAMES),
                "last_name": rng.choice(LAST_NAMES),
                "date_of_birth": born.isoformat(),
                "sex": rng.choice(["female", "male"]),
                "legal_status": "C2",
                "placement_type": "U3",
                "lives_with": rng.choice(LIVES_WITH),
                "social_worker": {
                    "name": "Gwen Llewellyn",
                    "email": "gwen.llewellyn@bristol.example.gov.uk",
                },
                "contact_arrangement": "supervised",
                "contact_arrangement_reason": "Supervised at the family centre, fortnightly.",
            }
        )
    return items


async def linked_mothers_and_token(url: str) -> tuple[dict[str, tuple[str, date]], str]:
    from sqlalchemy import exists, select

    from tac_api.auth.schemas import Role
    from tac_api.auth.service import create_client
    from tac_api.children.models import Child
    from tac_api.config import Settings
    from tac_api.db import make_engine, sessionmaker_for
    from tac_api.mothers.models import Mother

    engine = make_engine(Settings(database_url=url), pool=False)
    try:
        async with sessionmaker_for(engine)() as session, session.begin():
            # The mothers Bristol is linked to (a child of hers in Bristol): a push for any
            # other would be held as a link request, not written as a child.
            linked = exists().where(
                Child.mother_id == Mother.id, Child.local_authority_code == AUTHORITY
            )
            rows = (
                await session.execute(
                    select(Mother.id, Mother.prison_number, Mother.date_of_birth).where(linked)
                )
            ).all()
            _, token = await create_client(
                session, name=CLIENT_NAME, role=Role.la_system, local_authority_code=AUTHORITY
            )
    finally:
        await engine.dispose()
    return {row.prison_number: (str(row.id), row.date_of_birth) for row in rows}, token


_FLOOR_INSERT = """
INSERT INTO child (id, created_at, updated_at, version, mother_id, external_id, first_name,
                   last_name, date_of_birth, sex, local_authority_code, legal_status,
                   placement_type, lives_with, placement_confidential, social_worker_name,
                   social_worker_email, contact_arrangement, contact_arrangement_reason,
                   authority_fields)
SELECT r.id, $1, $1, 1, r.mother_id, r.external_id, r.first_name, r.last_name, r.date_of_birth,
       r.sex, $2, 'C2', 'U3', r.lives_with, false, 'Gwen Llewellyn',
       'gwen.llewellyn@bristol.example.gov.uk', 'supervised',
       'Supervised at the family centre, fortnightly.',
       '["contact_arrangement", "contact_arrangement_reason", "date_of_birth", "expected_date",
         "first_name", "last_name", "legal_status", "lives_with", "placement_type", "sex",
         "social_worker"]'
FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::date[], $9::text[],
            $10::text[])
     AS r(id, mother_id, external_id, first_name, last_name, date_of_birth, sex, lives_with)
"""


async def _floor(
    connect: dict[str, Any], batches: list[list[dict[str, Any]]], mothers: dict[str, Any]
) -> list[float]:
    connection = await asyncpg.connect(**connect)
    seconds = []
    try:
        for batch in batches:
            started = time.perf_counter()
            async with connection.transaction():
                await connection.execute(
                    _FLOOR_INSERT,
                    datetime.now(UTC),
                    AUTHORITY,
                    [uuid.uuid4() for _ in batch],
                    [uuid.UUID(mothers[i["mother_prison_number"]][0]) for i in batch],
                    ["FLOOR-" + i["external_id"] for i in batch],
                    [i["first_name"] for i in batch],
                    [i["last_name"] for i in batch],
                    [date.fromisoformat(i["date_of_birth"]) for i in batch],
                    [i["sex"] for i in batch],
                    [i["lives_with"] for i in batch],
                )
            seconds.append(time.perf_counter() - started)
        await connection.execute("DELETE FROM child WHERE external_id LIKE 'FLOOR-%'")
        await connection.execute("VACUUM ANALYZE child")
    finally:
        await connection.close()
    return seconds


async def _push(port: int, token: str, batches: list[list[dict[str, Any]]]) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    seconds = []
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120
    ) as client:
        for number, batch in enumerate(batches):
            started = time.perf_counter()
            response = await client.post(
                "/v1/sync/children:batch",
                json={"items": batch},
                headers={"Idempotency-Key": f"bench-{uuid.uuid4().hex}-{number}"},
            )
            seconds.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"batch {number}: {response.status_code} {response.text[:300]}")
            failed = response.json()["failed"]
            if failed:
                problem = next(r["problem"] for r in response.json()["results"] if r["problem"])
                raise RuntimeError(f"batch {number}: {failed} items failed, e.g. {problem}")
    return seconds


def run_sync_batches(
    url: str, connect: dict[str, Any], port: int, children: int, batch_size: int, seed: int
) -> SyncResult:
    """`url`: the database; `connect`: asyncpg's arguments for it; `port`: tac-api's."""
    mothers, token = asyncio.run(linked_mothers_and_token(url))
    items = synthetic_items(sorted(mothers), children, seed)
    batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
    floor = asyncio.run(_floor(connect, batches, mothers))
    passes = {"create": asyncio.run(_push(port, token, batches))}
    passes["same again"] = asyncio.run(_push(port, token, batches))
    changed = [
        [{**item, "lives_with": "kinship_carer", "placement_type": "U4"} for item in batch]
        for batch in batches
    ]
    passes["update"] = asyncio.run(_push(port, token, changed))
    return SyncResult(children, batch_size, passes, floor)
