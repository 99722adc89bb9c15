import uuid
from datetime import date

from sqlalchemy import Index
from sqlmodel import Field

from tac_api.db import RecordFields


class Referral(RecordFields, table=True):
    """A referral to the service, from its receipt to her engagement and the end of her support.

    Before a decision she may have no record: the referral names her by prison number and name,
    and is scoped to its prison. Accepted, it makes or links her record (`mother_id`) and is part
    of her case from then on. Support has its own life beside her custody status: it opens when
    she first works with the service (`engaged_on`) and closes with a reason; a release does not
    close it. A declined or not-eligible referral with no record behind it is erased by retention
    TAC_REFERRAL_RETENTION_DAYS after its decision.
    """

    __tablename__ = "referral"
    __table_args__ = (
        # Lists are per prison in date order: an index seek per page.
        Index("ix_referral_prison_order", "prison_code", "received_on", "id"),
        Index("ix_referral_prison_number", "prison_number"),
    )

    prison_code: str = Field(foreign_key="prison.code", max_length=8)
    received_on: date
    # self, offender_management_unit, local_authority, health, probation, court, another_service
    source: str = Field(max_length=32)
    # Who referred her, when a practitioner did (optional: she may refer herself).
    referred_by_id: uuid.UUID | None = Field(default=None, foreign_key="practitioner.id")
    prison_number: str = Field(max_length=7)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    reason: str = Field(max_length=500)  # in a sentence
    # Pregnant when referred (None: not known).
    pregnant: bool | None = None
    # received (awaiting a decision), accepted, declined, not_eligible
    status: str = Field(default="received", max_length=16)
    decided_on: date | None = None
    decision_reason: str | None = Field(default=None, max_length=2000)
    # Her record, once accepted (made or linked).
    mother_id: uuid.UUID | None = Field(
        default=None, foreign_key="mother.id", index=True, ondelete="CASCADE"
    )
    first_contact_on: date | None = None
    # The first working session: support opens.
    engaged_on: date | None = None
    support_closed_on: date | None = None
    # disengaged, moved_out (of the service's prisons), completed, other
    support_closed_reason: str | None = Field(default=None, max_length=32)
    support_closed_note: str | None = Field(default=None, max_length=2000)
