"""Two changes sent with the same ETag: the first wins, the second gets 412, never a silent
overwrite. (On SQLite one writer at a time holds the database, so this is PostgreSQL's case.)"""

import asyncio
import uuid

import pytest

from tac_api.auth.schemas import Caller, Role
from tac_api.errors import PreconditionFailed
from tac_api.mothers.schemas import MotherUpdate
from tac_api.mothers.service import update_mother
from tests.support.api import Api


def test_two_changes_with_the_same_etag_cannot_both_win(api: Api) -> None:
    if not api.database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time hold the whole database")
    mother_id = uuid.UUID(api.mother()["id"])
    admin = Caller(client_id=uuid.uuid4(), name="test", role=Role.admin)
    app = api.client.app

    async def race() -> str:
        async with app.state.sessionmaker() as first:  # type: ignore[attr-defined]
            await update_mother(first, admin, mother_id, MotherUpdate(status="closed"), '"1"')

            async def second() -> str:
                async with app.state.sessionmaker() as session:  # type: ignore[attr-defined]
                    try:
                        change = MotherUpdate(status="released")
                        await update_mother(session, admin, mother_id, change, '"1"')
                    except PreconditionFailed:
                        return "412"
                    await session.commit()
                    return "overwritten"

            waiting = asyncio.create_task(second())
            await asyncio.sleep(0.3)
            assert not waiting.done(), "the second change should wait for the first"
            await first.commit()
        return await waiting

    assert api.client.portal.call(race) == "412"  # type: ignore[union-attr]
    assert api.get("admin", f"/v1/mothers/{mother_id}").json()["status"] == "closed"
