"""Her support plan and her consents as a client writes them, through the API: bodies with
sensible defaults, and the calls the tests of plans and consents share."""

from typing import Any

from tests.support.api import Api
from tests.support.bodies import TODAY


def plan_url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/support-plan"


def area(name: str = "managing_mental_health", **fields: Any) -> dict[str, Any]:
    """One area of her plan, every part filled in, `fields` over the defaults."""
    body = {
        "area": name,
        "chosen_by_her": True,
        "goal": "Talk to someone when the bad days come, not bottle it up.",
        "goal_written_by": "her",
        "steps": "Weekly session with the wellbeing team; keep a mood diary.",
        "steps_written_by": "together",
        "who_helps": "Siân, her key worker, and the in-reach mental health team",
        "rating_at_start": 3,
    }
    body.update(fields)
    return body


def plan_body(*areas: dict[str, Any]) -> dict[str, Any]:
    return {"areas": list(areas) or [area(), area("self_care", goal="Eat three meals a day.")]}


def make_plan(api: Api, mother_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.put("admin", plan_url(mother_id), body or plan_body())
    assert response.status_code == 201, response.text
    return response.json()


def give_consent(
    api: Api,
    mother_id: str,
    authority: str,
    *,
    plan: bool = False,
    reviews: bool = False,
    groups: bool = False,
    who: str = "admin",
) -> Any:
    """Her consent recorded through the API (the response, to check or read)."""
    body = {
        "local_authority_code": authority,
        "covers_plan": plan,
        "covers_reviews": reviews,
        "covers_groups": groups,
        "given_on": str(TODAY),
    }
    return api.post(who, f"/v1/mothers/{mother_id}/consents", body)


def withdraw_consent(api: Api, consent_id: str, who: str = "admin", on: str | None = None) -> Any:
    return api.post(
        who, f"/v1/consents/{consent_id}/withdrawal", {"withdrawn_on": on or str(TODAY)}
    )
