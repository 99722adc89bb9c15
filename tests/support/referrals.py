"""Referrals as the tests make them: through the API, a test naming only what it is about."""

from datetime import timedelta
from itertools import count
from typing import Any

from tests.support.api import Api
from tests.support.bodies import TODAY

_numbers = count(1)
HER_RECORD = {"date_of_birth": "1992-03-04", "reception_date": "2025-06-01"}


def days_ago(days: int) -> str:
    return str(TODAY - timedelta(days=days))


def prison_number() -> str:
    return f"R{next(_numbers):04d}FN"


def referral_body(**fields: Any) -> dict[str, Any]:
    return {
        "received_on": days_ago(30),
        "prison_code": "EWI",
        "source": "offender_management_unit",
        "prison_number": prison_number(),
        "first_name": "Siobhán",
        "last_name": "O'Neill",
        "reason": "Her two children were placed with foster carers after her remand.",
        "pregnant": False,
        **fields,
    }


def refer(api: Api, who: str = "admin", **fields: Any) -> dict[str, Any]:
    response = api.post(who, "/v1/referrals", referral_body(**fields))
    assert response.status_code == 201, response.text
    return response.json()


def url(referral: dict[str, Any], below: str = "") -> str:
    return f"/v1/referrals/{referral['id']}{below}"


def etag(referral: dict[str, Any]) -> str:
    return f'"{referral["version"]}"'


def decide(api: Api, referral: dict[str, Any], who: str = "admin", **body: Any) -> Any:
    return api.post(who, url(referral, "/decision"), body, if_match=etag(referral))


def accepted(api: Api, who: str = "admin", **fields: Any) -> dict[str, Any]:
    """An accepted referral, her record made by it."""
    referral = refer(api, who, **fields)
    response = decide(
        api, referral, who, decision="accepted", decided_on=days_ago(20), mother=HER_RECORD
    )
    assert response.status_code == 200, response.text
    return response.json()


def change(api: Api, referral: dict[str, Any], who: str = "admin", **changes: Any) -> Any:
    return api.patch(who, url(referral), changes, if_match=etag(referral))


def engaged(api: Api, first_contact: int = 15, engaged_days_ago: int = 10, **fields: Any) -> Any:
    referral = accepted(api, **fields)
    response = change(
        api,
        referral,
        first_contact_on=days_ago(first_contact),
        engaged_on=days_ago(engaged_days_ago),
    )
    assert response.status_code == 200, response.text
    return response.json()


def close(api: Api, referral: dict[str, Any], **body: Any) -> Any:
    return api.post("admin", url(referral, "/support-closure"), body, if_match=etag(referral))


def fields_of(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]
