"""Her consent to share with a local authority, written below the API: for the tests of what a
consent opens (her plan, her reviews) that are not about recording consent itself."""

import uuid
from typing import Any

from sqlalchemy import insert, update

from tac_api.consents.models import Consent
from tac_api.db import utcnow
from tests.support.api import Api
from tests.support.bodies import TODAY


def consent_in_force(
    api: Api,
    mother_id: str,
    authority: str,
    *,
    plan: bool = False,
    reviews: bool = False,
    groups: bool = False,
) -> str:
    """She consents to share her plan, her reviews and/or her group attendance with this
    authority: the consent's id."""
    consent_id = uuid.uuid4()
    now = utcnow()
    row: dict[str, Any] = {
        "id": consent_id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "changed_at": now,
        "changed_by_name": "tests",
        "changed_by_role": "admin",
        "mother_id": uuid.UUID(mother_id),
        "local_authority_code": authority,
        "covers_plan": plan,
        "covers_reviews": reviews,
        "covers_groups": groups,
        "given_on": TODAY,
    }
    _run(api, insert(Consent.__table__).values(**row))
    return str(consent_id)


def withdraw(api: Api, consent_id: str) -> None:
    _run(
        api,
        update(Consent.__table__)
        .where(Consent.__table__.c.id == uuid.UUID(consent_id))
        .values(withdrawn_on=TODAY),
    )


def _run(api: Api, statement: Any) -> None:
    """Typed statements (ids are stored differently on SQLite and PostgreSQL)."""

    async def run() -> None:
        async with api.client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
            await connection.execute(statement)

    api.client.portal.call(run)  # type: ignore[union-attr]
