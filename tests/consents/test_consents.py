"""Her consent to share her plan and reviews with one of her children's local authorities:
recorded by the prison side (who, what, which authority, given on), withdrawn once, in the
audit trail and her subject access export; never shown to a local authority."""

from datetime import timedelta
from typing import Any

import pytest

from tests.support import world
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY
from tests.support.plans import give_consent, withdraw_consent


@pytest.fixture
def her(api: Api) -> dict[str, Any]:
    """An SDI mother with a Bristol child and a Surrey child."""
    return world.family(api, prison_code="SDI")


def consents_url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/consents"


def test_a_consent_records_who_what_which_authority_and_when(api: Api, her: dict[str, Any]) -> None:
    mother_id = her["mother"]["id"]
    response = give_consent(api, mother_id, "801", plan=True, who="sdi_worker")
    assert response.status_code == 201, response.text
    consent = response.json()
    assert response.headers["Location"] == f"/v1/consents/{consent['id']}"
    assert response.headers["ETag"] == f'"{consent["version"]}"'
    assert {k: consent[k] for k in ("mother_id", "local_authority_code", "given_on")} == {
        "mother_id": mother_id,
        "local_authority_code": "801",
        "given_on": str(TODAY),
    }
    assert (consent["covers_plan"], consent["covers_reviews"], consent["in_force"]) == (
        True,
        False,
        True,
    )
    assert consent["changed_by"]["name"] == "sdi_worker"
    assert consent["changed_by"]["role"] == "prison_social_worker"
    assert consent["withdrawn_on"] is None
    assert api.get("sdi_worker", f"/v1/consents/{consent['id']}").json() == consent
    listed = api.get("sdi_worker", consents_url(mother_id)).json()["items"]
    assert [c["id"] for c in listed] == [consent["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"covers_plan": False, "covers_reviews": False}, "covers_plan"),  # it covers something
        ({"given_on": str(TODAY + timedelta(days=1))}, "given_on"),
        ({"given_on": "1800-01-01"}, "given_on"),
        ({"local_authority_code": "999"}, "local_authority_code"),  # no such authority
        ({"local_authority_code": "803"}, "local_authority_code"),  # none of her children's
        ({"local_authority_code": "80"}, "local_authority_code"),
        ({"covers_plan": "true"}, "covers_plan"),
        ({"mother_id": "x"}, "mother_id"),
    ],
)
def test_a_consent_that_breaks_a_rule_is_refused_and_writes_nothing(
    api: Api, her: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    given = {"local_authority_code": "801", "covers_plan": True, "given_on": str(TODAY), **body}
    response = api.post("admin", consents_url(her["mother"]["id"]), given)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert api.sql("SELECT count(*) FROM consent")[0][0] == 0


def test_one_consent_in_force_per_authority(api: Api, her: dict[str, Any]) -> None:
    mother_id = her["mother"]["id"]
    first = give_consent(api, mother_id, "801", plan=True).json()
    again = give_consent(api, mother_id, "801", reviews=True)
    assert again.status_code == 409, again.text
    assert first["id"] in again.json()["detail"]
    # Another of her children's authorities is another consent.
    assert give_consent(api, mother_id, "936", reviews=True).status_code == 201
    # Withdrawn: a new consent to that authority can be recorded.
    assert withdraw_consent(api, first["id"]).status_code == 200
    assert give_consent(api, mother_id, "801", plan=True, reviews=True).status_code == 201
    assert len(api.get("admin", consents_url(mother_id)).json()["items"]) == 3


def test_a_withdrawal_is_recorded_once_with_who_and_when(api: Api, her: dict[str, Any]) -> None:
    consent = give_consent(api, her["mother"]["id"], "801", plan=True).json()
    response = withdraw_consent(api, consent["id"], who="sdi_worker")
    assert response.status_code == 200, response.text
    withdrawn = response.json()
    assert (withdrawn["withdrawn_on"], withdrawn["in_force"]) == (str(TODAY), False)
    assert withdrawn["withdrawn_by_name"] == "sdi_worker"
    assert withdrawn["withdrawn_at"] is not None
    assert withdrawn["changed_by"]["name"] == "admin"  # who recorded the consent itself
    assert response.headers["ETag"] == f'"{withdrawn["version"]}"' != f'"{consent["version"]}"'
    again = withdraw_consent(api, consent["id"])
    assert again.status_code == 409
    assert api.get("admin", f"/v1/consents/{consent['id']}").json() == withdrawn


@pytest.mark.parametrize(
    "withdrawn_on",
    [str(TODAY + timedelta(days=1)), str(TODAY - timedelta(days=1)), "tomorrow"],
)
def test_a_withdrawal_is_dated_between_the_consent_and_today(
    api: Api, her: dict[str, Any], withdrawn_on: str
) -> None:
    consent = give_consent(api, her["mother"]["id"], "801", plan=True).json()
    response = withdraw_consent(api, consent["id"], on=withdrawn_on)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "withdrawn_on"
    assert api.get("admin", f"/v1/consents/{consent['id']}").json()["in_force"] is True


def test_the_prison_side_keeps_consent_and_local_authorities_never_see_it(
    api: Api, her: dict[str, Any]
) -> None:
    mother_id = her["mother"]["id"]
    consent = give_consent(api, mother_id, "801", plan=True).json()
    for who in ("bristol", "bristol_system", "surrey", "ewi_governor", "auditor"):
        assert api.get(who, f"/v1/consents/{consent['id']}").status_code == 403
        assert api.get(who, consents_url(mother_id)).status_code == 403
        assert give_consent(api, mother_id, "801", plan=True, who=who).status_code == 403
        assert withdraw_consent(api, consent["id"], who=who).status_code == 403
    # Another prison's worker: out of scope, as if there were none.
    assert api.get("ewi_worker", f"/v1/consents/{consent['id']}").status_code == 404
    assert api.get("ewi_worker", consents_url(mother_id)).status_code == 404
    assert give_consent(api, mother_id, "801", plan=True, who="ewi_worker").status_code == 404
    assert withdraw_consent(api, consent["id"], who="ewi_worker").status_code == 404


def test_consent_changes_are_in_the_audit_trail(api: Api, her: dict[str, Any]) -> None:
    mother_id = her["mother"]["id"]
    given = give_consent(api, mother_id, "801", plan=True)
    consent_id = given.json()["id"]
    withdrawn = withdraw_consent(api, consent_id)
    assert [row[2:6] for row in trail(api, given)] == [
        ("collect", "consent", consent_id, mother_id)
    ]
    assert [row[2:6] for row in trail(api, withdrawn)] == [
        ("alter", "consent", consent_id, mother_id)
    ]
    events = api.get("auditor", "/v1/audit", params={"subject_id": consent_id}).json()["items"]
    assert [(e["action"], e["resource_type"]) for e in events] == [
        ("collect", "consent"),
        ("alter", "consent"),
    ]


def test_consent_is_in_her_subject_access_export(api: Api, her: dict[str, Any]) -> None:
    mother_id = her["mother"]["id"]
    consent = give_consent(api, mother_id, "801", plan=True).json()
    withdraw_consent(api, consent["id"], who="sdi_worker")
    export = api.get("admin", f"/v1/mothers/{mother_id}/subject-access-export").json()
    [row] = export["records"]["consent"]
    assert row["id"] == consent["id"]
    assert (row["local_authority_code"], row["covers_plan"], row["withdrawn_on"]) == (
        "801",
        True,
        str(TODAY),
    )
    assert (row["changed_by_name"], row["withdrawn_by_name"]) == ("admin", "sdi_worker")
