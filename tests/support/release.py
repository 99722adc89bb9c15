"""Her release plan as a client writes it, through the API: a complete plan (every pathway
done, the children, families and community pathway with an onward referral accepted), and an
onward referral to a service in the community."""

from datetime import timedelta
from typing import Any

from tac_api.release.schemas import PATHWAYS
from tests.support.api import Api
from tests.support.bodies import TODAY
from tests.support.organisations import add_organisation


def release_plan_url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/release-plan"


def days(n: int) -> str:
    return str(TODAY + timedelta(days=n))


def a_service(api: Api, name: str = "Pause Bristol") -> str:
    """The id of a service in the community of this name, entered once per test."""
    found = api.sql("SELECT id FROM organisation WHERE name = :name", name=name)
    if found:
        return next(
            o["id"]
            for o in api.get("admin", "/v1/organisations", params={"q": name}).json()["items"]
            if o["name"] == name
        )
    return add_organisation(api, name=name)["id"]


def onward_referral(api: Api, **fields: Any) -> dict[str, Any]:
    """An onward referral, accepted, `fields` over the defaults."""
    body = {
        "organisation_id": a_service(api),
        "made_on": days(-20),
        "accepted_on": days(-5),
        "note": "Her worker there will meet her at the gate.",
    }
    return body | fields


def as_sent(referral: dict[str, Any]) -> dict[str, Any]:
    """An onward referral as the plan shows it, as a client sends it back to keep it."""
    return {k: v for k, v in referral.items() if k != "organisation_name"}


def complete_plan(api: Api, **fields: Any) -> dict[str, Any]:
    """A plan with nothing missing: `fields` over it."""
    community = {"status": "complete", "onward_referrals": [onward_referral(api)]}
    body: dict[str, Any] = {
        "expected_release_date": days(40),
        "release_local_authority_code": "803",
        "accommodation_status": "settled",
        "probation_contact": {"name": "Rhiannon Pryce-Jones", "phone": "0117 496 0002"},
        "pathways": {p: {"status": "complete"} for p in PATHWAYS}
        | {"children_families_community": community}
        | {"health": {"status": "not_needed", "note": "Registered."}},
        "actions": [
            {
                "description": "Open a bank account.",
                "owner": "Prison social worker",
                "due_on": days(10),
                "done_on": str(TODAY),
            }
        ],
    }
    body.update(fields)
    return body
