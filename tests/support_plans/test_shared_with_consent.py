"""Her plan is hers: a local authority sees it (and its history) only while she consents to
share her plan with that authority. Consent recorded and withdrawn through the API."""

from typing import Any

import pytest

from tests.support import world
from tests.support.api import Api
from tests.support.plans import give_consent, make_plan, plan_url, withdraw_consent

AUTHORITY = ("bristol", "bristol_system")
PLAN_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "version",
    "mother_id",
    "status",
    "content_version",
    "agreed_version",
    "agreed_on",
    "areas",
}


@pytest.fixture
def her(api: Api) -> dict[str, Any]:
    """An SDI mother with a Bristol child and a Surrey child, and her plan."""
    made = world.family(api, prison_code="SDI")
    make_plan(api, made["mother"]["id"])
    return made


def readable(api: Api, who: str, mother_id: str) -> tuple[int, int]:
    url = plan_url(mother_id)
    return api.get(who, url).status_code, api.get(who, f"{url}/history").status_code


def test_without_her_consent_an_authority_sees_no_plan(api: Api, her: dict[str, Any]) -> None:
    mother_id = her["mother"]["id"]
    for who in (*AUTHORITY, "surrey"):
        assert readable(api, who, mother_id) == (404, 404)
    # The same answer as for a mother with no plan at all.
    missing = api.get("bristol", plan_url(mother_id)).json()
    assert missing["detail"] == f"No support plan for mother {mother_id} is visible to you."


def test_with_her_plan_consent_the_authority_sees_her_plan(api: Api, her: dict[str, Any]) -> None:
    mother_id = her["mother"]["id"]
    assert give_consent(api, mother_id, "801", plan=True).status_code == 201
    for who in AUTHORITY:
        assert readable(api, who, mother_id) == (200, 200)
        plan = api.get(who, plan_url(mother_id)).json()
        assert set(plan) == PLAN_FIELDS
    # Another authority of hers has no consent: still nothing.
    assert readable(api, "surrey", mother_id) == (404, 404)


def test_withdrawal_holds_on_the_very_next_request(api: Api, her: dict[str, Any]) -> None:
    mother_id = her["mother"]["id"]
    consent = give_consent(api, mother_id, "801", plan=True).json()
    assert readable(api, "bristol", mother_id) == (200, 200)
    assert withdraw_consent(api, consent["id"]).status_code == 200
    assert readable(api, "bristol", mother_id) == (404, 404)


def test_consent_to_surrey_does_not_open_it_to_bristol(api: Api, her: dict[str, Any]) -> None:
    mother_id = her["mother"]["id"]
    assert give_consent(api, mother_id, "936", plan=True).status_code == 201
    assert readable(api, "surrey", mother_id) == (200, 200)
    assert readable(api, "bristol", mother_id) == (404, 404)


def test_a_reviews_only_consent_does_not_open_her_plan(api: Api, her: dict[str, Any]) -> None:
    mother_id = her["mother"]["id"]
    assert give_consent(api, mother_id, "801", reviews=True).status_code == 201
    assert readable(api, "bristol", mother_id) == (404, 404)


def test_consent_opens_reading_only(api: Api, her: dict[str, Any]) -> None:
    mother_id = her["mother"]["id"]
    give_consent(api, mother_id, "801", plan=True)
    url = plan_url(mother_id)
    assert api.put("bristol", url, {"areas": []}).status_code == 403
    agreement = {"version": 1, "agreed_on": "2026-01-01"}
    assert api.post("bristol_system", f"{url}/agreement", agreement).status_code == 403
