import uuid
from datetime import date

from pydantic import Field

from tac_api.history import HistoryEntryPublic
from tac_api.schemas import Input, IsoDate, LocalAuthorityCode, RecordPublic, UtcDatetime


class ConsentCreate(Input):
    """She consents to share her support plan, her reviews, her group attendance, or several,
    with one local authority: one of her children's."""

    local_authority_code: LocalAuthorityCode = Field(
        description="The DfE number of an authority with at least one child of hers."
    )
    covers_plan: bool = Field(default=False, description="Her support plan.")
    covers_reviews: bool = Field(default=False, description="Her reviews.")
    covers_groups: bool = Field(
        default=False,
        description="Her own rows of group sessions' registers (never another woman's).",
    )
    given_on: IsoDate = Field(description="When she gave it; not in the future.")


class Withdrawal(Input):
    withdrawn_on: IsoDate = Field(
        description="When she withdrew it; not in the future, nor before it was given."
    )


class ConsentPublic(RecordPublic, HistoryEntryPublic):
    """A consent of hers. `changed_at` and `changed_by`: who recorded it, and when. In force
    until withdrawn: a withdrawal holds from the next request on."""

    mother_id: uuid.UUID
    local_authority_code: str
    covers_plan: bool
    covers_reviews: bool
    covers_groups: bool
    given_on: date
    withdrawn_on: date | None
    withdrawn_at: UtcDatetime | None = Field(description="When the withdrawal was recorded.")
    withdrawn_by_name: str | None = Field(description="Who recorded the withdrawal.")
    in_force: bool
