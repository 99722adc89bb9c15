"""Reference data: public code lists, kept as rows so they can grow without a release."""

from datetime import date

from sqlalchemy import false
from sqlmodel import Field, SQLModel


class Prison(SQLModel, table=True):
    __tablename__ = "prison"

    code: str = Field(primary_key=True, max_length=8)  # HMPPS agency code, e.g. EWI
    name: str = Field(max_length=120)
    # Whether Together a Chance works in this prison (the shipped list's prisons). A prison a
    # prison event names that is not in the list is added, not served: where she went.
    served: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class LocalAuthority(SQLModel, table=True):
    __tablename__ = "local_authority"

    # The DfE number survives a change of ONS code (Northumberland 929), so it is the key.
    dfe_number: str = Field(primary_key=True, max_length=3)
    ons_code: str = Field(max_length=9)
    name: str = Field(max_length=120)
    country: str = Field(max_length=16)
    valid_from: date
    valid_to: date | None = None


class LegalStatus(SQLModel, table=True):
    __tablename__ = "legal_status"

    code: str = Field(primary_key=True, max_length=4)  # SSDA903 legal status
    description: str = Field(max_length=500)


class PlacementType(SQLModel, table=True):
    __tablename__ = "placement_type"

    code: str = Field(primary_key=True, max_length=4)  # SSDA903 placement type
    description: str = Field(max_length=500)


class CpPlanCategory(SQLModel, table=True):
    __tablename__ = "cp_plan_category"

    code: str = Field(primary_key=True, max_length=4)  # CIN census child protection category
    description: str = Field(max_length=120)


class Ethnicity(SQLModel, table=True):
    __tablename__ = "ethnicity"

    code: str = Field(primary_key=True, max_length=48)  # ONS 2021 census group
    group: str = Field(max_length=80)
    description: str = Field(max_length=160)
