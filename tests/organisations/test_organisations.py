"""Services in the community in the directory: entered and changed by the prison side, read by
whoever works with her case (not governors or auditors), found by name and type; a closed one
stays, out of the default list."""

from datetime import timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY
from tests.support.organisations import ORGANISATIONS, add_organisation, organisation_body


def names(api: Api, who: str = "ewi_worker", **params: Any) -> list[str]:
    response = api.get(who, ORGANISATIONS, params=params)
    assert response.status_code == 200, response.text
    return [o["name"] for o in response.json()["items"]]


def test_entered_read_and_audited(api: Api) -> None:
    response = api.post("ewi_worker", ORGANISATIONS, organisation_body(local_authority_code="803"))
    assert response.status_code == 201, response.text
    made = response.json()
    assert response.headers["Location"] == f"{ORGANISATIONS}/{made['id']}"
    assert {k: v for k, v in made.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "Step Together (Sefton)",
        "service_type": "birth_mothers",
        "area": "Sefton",
        "local_authority_code": "803",
        "email": "referrals@step-together.example.org",
        "phone": "0151 496 0123",
        "website": "https://step-together.example.org",
        "closed_on": None,
        "version": 1,
    }
    assert trail(api, response) == [
        (
            "ewi_worker",
            "prison_social_worker",
            "collect",
            "organisation",
            made["id"],
            None,
            "succeeded",
        )
    ]
    # Whoever works with her case reads the directory, an authority too; not a governor.
    for who in ("admin", "sdi_worker", "bristol", "bristol_system", "surrey"):
        one = api.get(who, f"{ORGANISATIONS}/{made['id']}")
        assert one.status_code == 200 and one.json() == made
        assert one.headers["ETag"] == '"1"'
        assert trail(api, one) == [
            (who, one_role(who), "consult", "organisation", made["id"], None, "succeeded")
        ]
    for who in ("ewi_governor", "auditor"):
        assert api.get(who, f"{ORGANISATIONS}/{made['id']}").status_code == 403
        assert api.get(who, ORGANISATIONS).status_code == 403
    for who in ("bristol", "bristol_system", "ewi_governor", "auditor"):
        assert api.post(who, ORGANISATIONS, organisation_body()).status_code == 403
        patch = api.patch(who, f"{ORGANISATIONS}/{made['id']}", {"area": "Merseyside"}, '"1"')
        assert patch.status_code == 403
    assert api.sql("SELECT count(*) FROM organisation")[0][0] == 1


def one_role(who: str) -> str:
    return {
        "admin": "admin",
        "sdi_worker": "prison_social_worker",
        "bristol": "la_practitioner",
        "bristol_system": "la_system",
        "surrey": "la_practitioner",
    }[who]


def test_found_by_name_and_type_closed_ones_left_out(api: Api) -> None:
    pause = add_organisation(api, name="Pause Bristol", service_type="birth_mothers")
    add_organisation(api, name="Believe (Motherwell Cheshire)", service_type="birth_mothers")
    add_organisation(api, name="Nelson Trust Women's Centre", service_type="womens_centre")
    add_organisation(api, name="100% Housing_Options", service_type="housing")
    closed = add_organisation(api, name="Pause Sefton", service_type="birth_mothers")
    url = f"{ORGANISATIONS}/{closed['id']}"
    response = api.patch("admin", url, {"closed_on": str(TODAY)}, '"1"')
    assert response.status_code == 200 and response.json()["closed_on"] == str(TODAY)

    assert names(api) == [
        "100% Housing_Options",
        "Believe (Motherwell Cheshire)",
        "Nelson Trust Women's Centre",
        "Pause Bristol",
    ]
    assert names(api, q="pause") == ["Pause Bristol"]
    assert names(api, q="pause", include_closed="true") == ["Pause Bristol", "Pause Sefton"]
    assert names(api, "bristol", service_type="womens_centre") == ["Nelson Trust Women's Centre"]
    # A % or _ in what is asked for is itself, not a wildcard.
    assert names(api, q="%") == ["100% Housing_Options"]
    assert names(api, q="g_o") == ["100% Housing_Options"]
    assert names(api, q="zzz") == []
    page = api.get("ewi_worker", ORGANISATIONS, params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    assert pause["id"] in {o["id"] for o in api.get("admin", ORGANISATIONS).json()["items"]}


def test_changed_with_if_match(api: Api) -> None:
    made = add_organisation(api)
    url = f"{ORGANISATIONS}/{made['id']}"
    change = {"phone": "0151 496 0999", "website": None, "service_type": "womens_centre"}
    assert api.patch("ewi_worker", url, change).status_code == 428
    assert api.patch("ewi_worker", url, change, '"7"').status_code == 412
    response = api.patch("ewi_worker", url, change, '"1"')
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["phone"], changed["website"], changed["service_type"]) == (
        "0151 496 0999",
        None,
        "womens_centre",
    )
    assert changed["version"] == 2 and response.headers["ETag"] == '"2"'
    assert trail(api, response) == [
        (
            "ewi_worker",
            "prison_social_worker",
            "alter",
            "organisation",
            made["id"],
            None,
            "succeeded",
        )
    ]
    same = api.patch("ewi_worker", url, change, '"2"')
    assert same.status_code == 200 and same.json()["version"] == 2
    assert trail(api, same)[0][2] == "consult"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (organisation_body(service_type="pause"), "service_type"),
        (organisation_body(name="   "), "name"),
        (organisation_body(name="x" * 201), "name"),
        (organisation_body(name="Pause\nBristol"), "name"),
        (organisation_body(website="javascript:alert(1)"), "website"),
        (organisation_body(email="not an email"), "email"),
        (organisation_body(local_authority_code="999"), "local_authority_code"),
        (organisation_body(closed_on=str(TODAY)), "closed_on"),  # closed only by a change
        (organisation_body(area="Sefton\x00"), "area"),
    ],
)
def test_bad_entries_write_nothing(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.post("ewi_worker", ORGANISATIONS, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"].split(".")[-1] for e in response.json()["errors"]}
    assert api.sql("SELECT count(*) FROM organisation")[0][0] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"closed_on": str(TODAY + timedelta(days=1))}, "closed_on"),
        ({"name": None}, "name"),
        ({"service_type": None}, "service_type"),
        ({"local_authority_code": "000"}, "local_authority_code"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_changes_write_nothing(api: Api, change: dict[str, Any], field: str) -> None:
    made = add_organisation(api)
    response = api.patch("admin", f"{ORGANISATIONS}/{made['id']}", change, '"1"')
    assert response.status_code == 422, response.text
    assert field in {e["field"].split(".")[-1] for e in response.json()["errors"]}
    assert api.get("admin", f"{ORGANISATIONS}/{made['id']}").json() == made


@pytest.mark.parametrize(
    "params", [{"service_type": "pause"}, {"q": ""}, {"include_closed": "perhaps"}, {"x": "1"}]
)
def test_bad_parameters(api: Api, params: dict[str, Any]) -> None:
    response = api.get("admin", ORGANISATIONS, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_none_such_is_404(api: Api) -> None:
    url = f"{ORGANISATIONS}/00000000-0000-4000-8000-000000000000"
    assert api.get("bristol", url).status_code == 404
    assert api.patch("admin", url, {"area": "Sefton"}, '"1"').status_code == 404
