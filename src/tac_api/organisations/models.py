from datetime import date

from sqlmodel import Field

from tac_api.db import RecordFields


class Organisation(RecordFields, table=True):
    """A service in the community a woman can be referred on to at release (Pause, Step
    Together, Believe and the like): an organisation, not a person, in the shared directory."""

    __tablename__ = "organisation"

    name: str = Field(max_length=200, index=True)
    # birth_mothers, domestic_abuse, housing, substance_misuse, mental_health, womens_centre,
    # employment, other (organisations.schemas.ServiceType)
    service_type: str = Field(max_length=32)
    # Where it works, in words ("Sefton", "South West England"), and the authority if one.
    area: str | None = Field(default=None, max_length=200)
    local_authority_code: str | None = Field(
        default=None, foreign_key="local_authority.dfe_number", max_length=3
    )
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    website: str | None = Field(default=None, max_length=500)
    # No longer takes referrals: kept, as past referrals name it.
    closed_on: date | None = None
