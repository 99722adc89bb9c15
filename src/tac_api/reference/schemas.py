from datetime import date

from pydantic import BaseModel


class PrisonPublic(BaseModel):
    code: str
    name: str


class LocalAuthorityPublic(BaseModel):
    dfe_number: str
    ons_code: str
    name: str
    country: str
    valid_from: date
    valid_to: date | None


class CodePublic(BaseModel):
    code: str
    description: str


class EthnicityPublic(CodePublic):
    group: str
