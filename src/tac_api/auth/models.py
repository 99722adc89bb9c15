from datetime import datetime

from sqlmodel import Field, SQLModel

from tac_api.db import RecordFields


class ApiClient(RecordFields, table=True):
    """A caller of the API: a person's client or another system, holding one bearer token."""

    __tablename__ = "api_client"

    name: str = Field(max_length=80, unique=True)
    role: str = Field(max_length=32)
    prison_code: str | None = Field(default=None, foreign_key="prison.code", max_length=8)
    local_authority_code: str | None = Field(
        default=None, foreign_key="local_authority.dfe_number", max_length=3
    )
    # SHA-256 of the token: tokens are 256 random bits, so a fast hash cannot be brute-forced,
    # and lookups stay one indexed read per request.
    token_hash: str = Field(max_length=64, unique=True)
    revoked_at: datetime | None = None
    expires_at: datetime | None = None  # None: until revoked


class RevokedSubject(SQLModel, table=True):
    """Someone signed in through the identity provider whose tokens must stop working now.

    Tokens issued before `revoked_at` are refused, without waiting for them to expire; new
    tokens, issued after, are the identity provider's to refuse or grant.
    """

    __tablename__ = "revoked_subject"

    issuer: str = Field(primary_key=True, max_length=200)
    subject: str = Field(primary_key=True, max_length=200)
    revoked_at: datetime
