"""Her pregnancies and, for each birth, where the baby went: the prison side's record alone."""

from datetime import timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.audit import audit_of
from tests.support.bodies import TODAY
from tests.support.consents import consent_in_force

KNOWN = TODAY - timedelta(days=250)
BORN = KNOWN + timedelta(days=200)


def pregnancies_url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/pregnancies"


def born(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "known_on": str(KNOWN),
        "at_referral": True,
        "due_on": str(BORN + timedelta(days=3)),
        "outcome": "born",
        "ended_on": str(BORN),
        "births": [{"born_on": str(BORN), "baby_went": "with_her_child_in_need"}],
    }
    body.update(fields)
    return body


def ongoing(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "known_on": str(TODAY - timedelta(days=30)),
        "at_referral": False,
        "due_on": str(TODAY + timedelta(days=200)),
    }
    body.update(fields)
    return body


@pytest.fixture
def mother(api: Api) -> dict[str, Any]:
    made = api.mother(prison_code="SDI")
    api.child(made["id"], local_authority_code="801")
    return made


def add(api: Api, mother_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("sdi_worker", pregnancies_url(mother_id), body)
    assert response.status_code == 201, response.text
    return response.json()


def problem_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]


def test_record_an_ongoing_pregnancy(api: Api, mother: dict[str, Any]) -> None:
    response = api.post("sdi_worker", pregnancies_url(mother["id"]), ongoing())
    assert response.status_code == 201, response.text
    pregnancy = response.json()
    assert pregnancy["outcome"] == "ongoing"
    assert pregnancy["at_referral"] is False
    assert pregnancy["due_on"] == str(TODAY + timedelta(days=200))  # ahead: the one date that may
    assert pregnancy["ended_on"] is None and pregnancy["births"] == []
    assert response.headers["Location"] == f"/v1/pregnancies/{pregnancy['id']}"
    assert api.get("sdi_worker", f"/v1/pregnancies/{pregnancy['id']}").json() == pregnancy
    assert audit_of(api, pregnancy["id"]) == [
        ("collect", "pregnancy", "succeeded"),
        ("consult", "pregnancy", "succeeded"),
    ]


def test_record_a_birth_and_where_the_baby_went(api: Api, mother: dict[str, Any]) -> None:
    baby = api.child(mother["id"], first_name="Seren", date_of_birth=str(BORN))
    twins = [
        {"born_on": str(BORN), "baby_went": "with_her_child_in_need", "child_id": baby["id"]},
        {"born_on": str(BORN), "baby_went": "with_family"},
    ]
    pregnancy = add(api, mother["id"], born(births=twins))
    assert pregnancy["outcome"] == "born"
    assert sorted(pregnancy["births"], key=lambda b: b["baby_went"]) == [
        {"born_on": str(BORN), "baby_went": "with_family", "child_id": None},
        twins[0],
    ]
    page = api.get("sdi_worker", pregnancies_url(mother["id"])).json()
    assert page["items"] == [pregnancy]


def test_a_birth_not_yet_decided(api: Api, mother: dict[str, Any]) -> None:
    pregnancy = add(api, mother["id"], born(births=[{"born_on": str(BORN)}]))
    assert pregnancy["births"][0]["baby_went"] == "not_decided"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (ongoing(births=[{"born_on": str(TODAY)}]), ["births"]),
        (born(births=[]), ["births"]),
        (born(outcome="ended"), ["births"]),
        (ongoing(ended_on=str(TODAY)), ["ended_on"]),
        (born(ended_on=None), ["ended_on"]),
        (ongoing(outcome="ended"), ["ended_on"]),
        (ongoing(known_on=str(TODAY + timedelta(days=1))), ["known_on"]),
        (ongoing(known_on="1899-01-01", due_on=None), ["known_on"]),
        (ongoing(due_on=str(TODAY - timedelta(days=31))), ["due_on"]),
        (ongoing(due_on=str(TODAY + timedelta(days=300))), ["due_on"]),
        (born(ended_on=str(KNOWN - timedelta(days=1))), ["ended_on", "births.0.born_on"]),
        (born(ended_on=str(TODAY + timedelta(days=1))), ["ended_on"]),
        (
            born(births=[{"born_on": str(KNOWN - timedelta(days=1))}]),
            ["births.0.born_on"],
        ),
        (
            born(ended_on=str(TODAY), births=[{"born_on": str(TODAY + timedelta(days=1))}]),
            ["births.0.born_on", "births.0.born_on"],
        ),
    ],
    ids=[
        "births-while-ongoing",
        "born-without-a-birth",
        "births-after-it-ended-without-one",
        "ended-on-while-ongoing",
        "born-without-ended-on",
        "ended-without-ended-on",
        "known-in-the-future",
        "known-implausibly-long-ago",
        "due-before-known",
        "due-more-than-ten-months-after-known",
        "ended-before-known",
        "ended-in-the-future",
        "born-before-known",
        "born-in-the-future",
    ],
)
def test_sensible_dates_and_births(
    api: Api, mother: dict[str, Any], body: dict[str, Any], fields: list[str]
) -> None:
    response = api.post("sdi_worker", pregnancies_url(mother["id"]), body)
    assert problem_fields(response) == fields


def test_a_birth_names_a_child_of_hers_once(api: Api, mother: dict[str, Any]) -> None:
    hers = api.child(mother["id"], first_name="Seren")
    other = api.mother(prison_code="SDI")
    not_hers = api.child(other["id"], first_name="Osian")
    births = [
        {"born_on": str(BORN), "child_id": not_hers["id"]},
        {"born_on": str(BORN), "child_id": hers["id"]},
        {"born_on": str(BORN), "child_id": hers["id"]},
    ]
    response = api.post("sdi_worker", pregnancies_url(mother["id"]), born(births=births))
    assert problem_fields(response) == ["births.0.child_id", "births.2.child_id"]


@pytest.mark.parametrize("value", [1, "true", None])
def test_at_referral_is_true_or_false(api: Api, mother: dict[str, Any], value: Any) -> None:
    response = api.post("sdi_worker", pregnancies_url(mother["id"]), ongoing(at_referral=value))
    assert response.status_code == 422, response.text


def test_change_and_replace_the_births(api: Api, mother: dict[str, Any]) -> None:
    pregnancy = add(api, mother["id"], ongoing(known_on=str(KNOWN), due_on=None))
    url = f"/v1/pregnancies/{pregnancy['id']}"
    # Born: the outcome, its date and its births go together.
    alone = api.patch("sdi_worker", url, {"outcome": "born", "ended_on": str(BORN)}, '"1"')
    assert problem_fields(alone) == ["births"]
    births = [{"born_on": str(BORN), "baby_went": "with_her_child_protection"}]
    changes = {"outcome": "born", "ended_on": str(BORN), "births": births}
    response = api.patch("sdi_worker", url, changes, '"1"')
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    assert response.json()["births"] == [births[0] | {"child_id": None}]
    # The births alone: replaced, and the version moves with them.
    moved = [{"born_on": str(BORN), "baby_went": "removed"}]
    response = api.patch("sdi_worker", url, {"births": moved}, '"2"')
    assert response.headers["ETag"] == '"3"'
    assert [birth["baby_went"] for birth in response.json()["births"]] == ["removed"]
    # The same again: no change.
    assert api.patch("sdi_worker", url, {"births": moved}, '"3"').headers["ETag"] == '"3"'
    # Back to ongoing, keeping its births: refused.
    back = api.patch("sdi_worker", url, {"outcome": "ongoing", "ended_on": None}, '"3"')
    assert problem_fields(back) == ["births"]
    assert ("alter", "pregnancy", "succeeded") in audit_of(api, pregnancy["id"])


def test_a_change_needs_the_current_version(api: Api, mother: dict[str, Any]) -> None:
    pregnancy = add(api, mother["id"], ongoing())
    url = f"/v1/pregnancies/{pregnancy['id']}"
    assert api.patch("sdi_worker", url, {"at_referral": True}).status_code == 428
    assert api.patch("sdi_worker", url, {"at_referral": True}, '"1"').status_code == 200
    assert api.patch("sdi_worker", url, {"at_referral": False}, '"1"').status_code == 412
    for field in ("known_on", "outcome", "births", "at_referral"):
        response = api.patch("sdi_worker", url, {field: None}, '"2"')
        assert response.status_code == 422, (field, response.text)


def test_never_a_local_authority(api: Api, mother: dict[str, Any]) -> None:
    pregnancy = add(api, mother["id"], born())
    # Even with her consent to share her plan and reviews with her child's authority.
    consent_in_force(api, mother["id"], "801", plan=True, reviews=True)
    one = f"/v1/pregnancies/{pregnancy['id']}"
    for who in ("bristol", "bristol_system", "surrey", "ewi_governor", "auditor"):
        assert api.get(who, one).status_code == 403, who
        assert api.get(who, pregnancies_url(mother["id"])).status_code == 403, who
        assert api.post(who, pregnancies_url(mother["id"]), ongoing()).status_code == 403, who
        assert api.patch(who, one, {"at_referral": False}, '"1"').status_code == 403, who
    # Another prison's social worker: not found.
    assert api.get("ewi_worker", one).status_code == 404
    assert api.get("ewi_worker", pregnancies_url(mother["id"])).status_code == 404
    assert api.post("ewi_worker", pregnancies_url(mother["id"]), ongoing()).status_code == 404
