"""What the tests of her reviews and pregnancies build: her support (a referral row written below
the API, as the referral routes are another package's) and the social workers linked to her."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import insert

from tac_api.db import utcnow
from tac_api.referrals.models import Referral
from tests.support.api import Api


def engaged(
    api: Api,
    mother: dict[str, Any],
    engaged_on: date,
    *,
    closed_on: date | None = None,
) -> str:
    """Her referral, accepted and linked to her record, with her support begun on `engaged_on`
    (and closed on `closed_on`): the referral's id."""
    referral_id = uuid.uuid4()
    now = utcnow()
    row: dict[str, Any] = {
        "id": referral_id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "prison_code": mother["prison_code"],
        "received_on": engaged_on,
        "source": "offender_management_unit",
        "prison_number": mother["prison_number"],
        "first_name": mother["first_name"],
        "last_name": mother["last_name"],
        "reason": "Separated from her children; asks for help with contact.",
        "status": "accepted",
        "decided_on": engaged_on,
        "mother_id": uuid.UUID(mother["id"]),
        "first_contact_on": engaged_on,
        "engaged_on": engaged_on,
        "support_closed_on": closed_on,
        "support_closed_reason": None if closed_on is None else "completed",
    }

    async def run() -> None:
        async with api.client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
            await connection.execute(insert(Referral.__table__).values(**row))

    api.client.portal.call(run)  # type: ignore[union-attr]
    return str(referral_id)


def linked(
    api: Api,
    mother_id: str,
    child_id: str | None = None,
    *,
    role: str = "la_social_worker",
    name: str = "Gwen Llewellyn",
) -> str:
    """A practitioner linked to her case (for this child): the practitioner's id."""
    body: dict[str, Any] = {"role": role, "name": name}
    if role == "la_social_worker":
        body |= {"organisation": "Bristol City Council", "local_authority_code": "801"}
    practitioner = api.post("admin", "/v1/practitioners", body)
    assert practitioner.status_code == 201, practitioner.text
    link: dict[str, Any] = {"practitioner_id": practitioner.json()["id"]}
    if child_id is not None:
        link["child_id"] = child_id
    made = api.post("admin", f"/v1/mothers/{mother_id}/practitioners", link)
    assert made.status_code == 201, made.text
    return practitioner.json()["id"]
