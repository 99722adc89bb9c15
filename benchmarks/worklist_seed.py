"""What the demo data does not make and the worklist reads: open and done tasks, flags for review
(open and cleared) and link requests awaiting confirmation, spread over the seeded mothers, so
that `GET /v1/worklist` is measured with every kind of item in it.

One mother in four has a task (due from a month ago to two months ahead; a third of them done),
one in twenty a flag (half cleared), one in a hundred a pending link request naming her.
"""

import random
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.db import utcnow
from tac_api.flags.models import ReviewFlag
from tac_api.history import BY_DEMO_DATA
from tac_api.link_requests.models import LinkRequest
from tac_api.mothers.models import Mother
from tac_api.tasks.models import Task

TASK_SHARE, FLAG_SHARE, LINK_SHARE = 4, 20, 100


async def seed_worklist(session: AsyncSession, seed: int) -> None:
    rng = random.Random(seed)
    today, now = date.today(), utcnow()
    stamp: dict[str, Any] = {"created_at": now, "updated_at": now, "version": 1}
    mothers = (await session.execute(select(Mother.id, Mother.prison_number))).all()
    tasks, flags, links = [], [], []
    for n, (mother_id, prison_number) in enumerate(mothers):
        if n % TASK_SHARE == 0:
            due = today + timedelta(days=rng.randrange(-30, 60))
            done = due if rng.random() < 1 / 3 else None
            tasks.append(
                {
                    "id": uuid.uuid4(),
                    "mother_id": mother_id,
                    "title": "Ring her solicitor about the hearing",
                    "due_on": due,
                    "done_on": done,
                    **BY_DEMO_DATA,
                    "changed_at": now,
                    **stamp,
                }
            )
        if n % FLAG_SHARE == 0:
            flags.append(
                {
                    "id": uuid.uuid4(),
                    "mother_id": mother_id,
                    "resource_type": "mother",
                    "resource_id": mother_id,
                    "reason": "Check her release address with probation.",
                    "raised_by_source": "person",
                    "raised_at": now - timedelta(days=rng.randrange(0, 20)),
                    "raised_by_name": "demo data",
                    "raised_by_role": "system",
                    # Every row names the same columns: they are inserted in one statement.
                    **dict(
                        zip(
                            ("cleared_at", "cleared_by_name", "cleared_by_role"),
                            (now, "demo data", "system")
                            if rng.random() < 0.5
                            else (None, None, None),
                            strict=True,
                        )
                    ),
                    **stamp,
                }
            )
        if n % LINK_SHARE == 0:
            links.append(
                {
                    "id": uuid.uuid4(),
                    "local_authority_code": "801",
                    "external_id": f"bench-{n}",
                    "mother_prison_number": prison_number,
                    "requested_by": "bench",
                    "status": "pending",
                    "child": {"first_name": "Rhys"},
                    **stamp,
                }
            )
    for model, rows in ((Task, tasks), (ReviewFlag, flags), (LinkRequest, links)):
        if rows:
            await session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]
