"""Her consent to share with a local authority, written below the API: for the tests of what a
consent opens (her plan, her reviews) that are not about recording consent itself."""

import uuid
from typing import Any

from tac_api.db import utcnow
from tests.support.api import Api
from tests.support.bodies import TODAY


def consent_in_force(
    api: Api, mother_id: str, authority: str, *, plan: bool = False, reviews: bool = False
) -> str:
    """She consents to share her plan and/or her reviews with this authority: the consent's id."""
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
        "given_on": TODAY,
    }
    api.sql(
        "INSERT INTO consent (id, created_at, updated_at, version, changed_at, changed_by_name, "
        "changed_by_role, mother_id, local_authority_code, covers_plan, covers_reviews, given_on) "
        "VALUES (:id, :created_at, :updated_at, :version, :changed_at, :changed_by_name, "
        ":changed_by_role, :mother_id, :local_authority_code, :covers_plan, :covers_reviews, "
        ":given_on)",
        **row,
    )
    return str(consent_id)


def withdraw(api: Api, consent_id: str) -> None:
    api.sql(
        "UPDATE consent SET withdrawn_on = :today WHERE id = :id",
        today=TODAY,
        id=uuid.UUID(consent_id),
    )
