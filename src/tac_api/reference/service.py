"""Reference data: loaded from the CSV files shipped in `data/`, read by code."""

import csv
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Select, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from tac_api.db import MIGRATION_LOCK
from tac_api.errors import InvalidInput
from tac_api.reference.models import (
    CpPlanCategory,
    Ethnicity,
    LegalStatus,
    LocalAuthority,
    PlacementType,
    Prison,
)

DATA = Path(__file__).parent / "data"
SOURCES: list[tuple[type[SQLModel], str]] = [
    (Prison, "prisons.csv"),
    (LocalAuthority, "local_authorities.csv"),
    (LegalStatus, "legal_statuses.csv"),
    (PlacementType, "placement_types.csv"),
    (CpPlanCategory, "cp_plan_categories.csv"),
    (Ethnicity, "ethnicities.csv"),
]


def _rows(filename: str) -> list[dict[str, Any]]:
    with (DATA / filename).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("valid_from", "valid_to"):
            if key in row:
                row[key] = date.fromisoformat(row[key]) if row[key] else None
        if "served" in row:
            row["served"] = row["served"] == "true"
    return rows


async def load_reference_data(session: AsyncSession) -> int:
    """Bring the code lists up to date with the shipped files (insert or update; never delete,
    since records may still point at a code that has been retired)."""
    if session.get_bind().dialect.name == "postgresql":
        # API containers starting together would otherwise insert the same codes twice.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    count = 0
    for model, filename in SOURCES:
        for row in _rows(filename):
            await session.merge(model(**row))
            count += 1
    await session.flush()
    return count


async def require_code(session: AsyncSession, model: type[SQLModel], field: str, code: Any) -> None:
    """A code given in input must exist in its list (a 422, not a foreign-key crash)."""
    if code is not None and await session.get(model, code) is None:
        raise InvalidInput(field, f"unknown code {code!r}")


async def require_current_authority(session: AsyncSession, field: str, code: str) -> None:
    authority = await session.get(LocalAuthority, code)
    if authority is None:
        raise InvalidInput(field, f"unknown local authority {code!r} (use the DfE number)")
    if authority.valid_to is not None and authority.valid_to < date.today():
        raise InvalidInput(field, f"local authority {code} ({authority.name}) no longer exists")


async def require_named_authority(
    session: AsyncSession, field: str, code: str | None, held: str | None = None
) -> None:
    """A directory entry's authority, where one is named (and is not the one it already holds):
    a current one. The practitioner and service directories' one rule for it."""
    if code and code != held:
        await require_current_authority(session, field, code)


def folded(text: str) -> str:
    """A name as a search compares it: lower case (casefolded), accents and other marks
    dropped, punctuation as spaces: "Ynys Môn" and "ynys mon", "St. Helens" and "st helens",
    "Bristol, City of" and "bristol city of" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


async def authorities_named(session: AsyncSession, q: str) -> list[str]:
    """The DfE numbers of the authorities whose name holds every word of `q` (in any order,
    each anywhere in the name), compared folded (`folded`).

    Done here, over the whole table, rather than in SQL: the table is small (under two hundred
    rows, read in one statement) and Python's Unicode folding is the same whatever the database,
    where SQL would need PostgreSQL's `unaccent` extension (not always installed, and with no
    SQLite equivalent) or a second, folded copy of every name kept in step."""
    words = folded(q).split()
    if not words:
        raise InvalidInput("q", "give some letters of the authority's name", location="query")
    rows = await session.execute(select(LocalAuthority.dfe_number, LocalAuthority.name))
    return [number for number, name in rows if all(word in folded(name) for word in words)]


def local_authorities_query(
    country: str | None, current_on: date | None, named: list[str] | None = None
) -> Select[Any]:
    """`named`: only these DfE numbers (a name search's, `authorities_named`)."""
    statement = select(LocalAuthority)
    if named is not None:
        statement = statement.where(LocalAuthority.dfe_number.in_(named))
    if country:
        statement = statement.where(LocalAuthority.country == country)
    if current_on:
        statement = statement.where(
            LocalAuthority.valid_from <= current_on,
            or_(LocalAuthority.valid_to.is_(None), LocalAuthority.valid_to >= current_on),
        )
    return statement
