"""Services in the community as a client enters them in the directory, through the API."""

from typing import Any

from tests.support.api import Api

ORGANISATIONS = "/v1/organisations"


def organisation_body(**fields: Any) -> dict[str, Any]:
    body = {
        "name": "Step Together (Sefton)",
        "service_type": "birth_mothers",
        "area": "Sefton",
        "email": "referrals@step-together.example.org",
        "phone": "0151 496 0123",
        "website": "https://step-together.example.org",
    }
    return body | fields


def add_organisation(api: Api, who: str = "admin", **fields: Any) -> dict[str, Any]:
    response = api.post(who, ORGANISATIONS, organisation_body(**fields))
    assert response.status_code == 201, response.text
    return response.json()
