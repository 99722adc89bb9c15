"""Request bodies and raw rows with sensible defaults; a test names only what it is about."""

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

TODAY = date.today()
# The tests folder (files the tests read sit beside it: openapi/, examples/).
HERE = Path(__file__).parents[1]
BATCH = "/v1/sync/children:batch"


def mother_row(made: datetime, **fields: Any) -> dict[str, Any]:
    """Siân O'Connor's row as a raw insert writes it (for tests that work below the API: a
    fresh process's command, a migration's backfill), with `fields` over the defaults."""
    return {
        "id": uuid.uuid4(),
        "created_at": made,
        "updated_at": made,
        "version": 1,
        "prison_number": "A1234BC",
        "first_name": "Siân",
        "last_name": "O'Connor",
        "date_of_birth": date(1990, 4, 12),
        "prison_code": "EWI",
        "reception_date": date(2025, 9, 1),
        "status": "active",
        **fields,
    }


_numbers = iter(range(10_000))


def mother_body(**fields: Any) -> dict[str, Any]:
    n = next(_numbers)
    body = {
        "prison_number": f"A{n:04d}BC",
        "first_name": "Siân",
        "last_name": "O'Connor",
        "date_of_birth": "1990-04-12",
        "prison_code": "EWI",
        "reception_date": "2025-09-01",
        "earliest_release_date": "2027-03-01",
        "domestic_abuse_history": True,
        "ethnicity": "white_british",
    }
    body.update(fields)
    return body


def child_body(**fields: Any) -> dict[str, Any]:
    body = {
        "first_name": "Rhys",
        "last_name": "O'Connor",
        "date_of_birth": "2016-02-03",
        "sex": "male",
        "local_authority_code": "801",
        "legal_status": "C2",
        "placement_type": "U3",
        "lives_with": "foster_carer",
        "social_worker": {"name": "Gwen Llewellyn", "email": "gwen@bristol.example.gov.uk"},
    }
    body.update(fields)
    return body


def communication_body(**fields: Any) -> dict[str, Any]:
    body = {
        "from_party": "la_social_worker",
        "from_name": "Gwen Llewellyn",
        "to_party": "mother",
        "channel": "phone",
        "occurred_at": "2026-01-15T10:30:00Z",
        "summary": "Rhys's school report: settled well, enjoying football.",
    }
    body.update(fields)
    return body


def sync_child(prison_number: str, **fields: Any) -> dict[str, Any]:
    """A child as a local authority's system pushes it: for the mother with this number."""
    body = child_body(mother_prison_number=prison_number, **fields)
    del body["local_authority_code"]  # the authority is the caller's own
    return body


def batch_item(prison_number: str, external_id: str, **fields: Any) -> dict[str, Any]:
    return {"external_id": external_id, **sync_child(prison_number, **fields)}
