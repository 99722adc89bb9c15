"""Her review schedule: the 3, 6 and 12-month reviews from when her support began, when each is
due, and which was held."""

from datetime import date, timedelta
from typing import Any

import pytest

from tac_api.reviews.service import add_months
from tests.support.api import Api
from tests.support.audit import audit_of
from tests.support.bodies import TODAY
from tests.support.consents import consent_in_force
from tests.support.reviews import engaged


def schedule_url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/review-schedule"


def schedule(api: Api, mother_id: str, who: str = "sdi_worker") -> dict[str, Any]:
    response = api.get(who, schedule_url(mother_id))
    assert response.status_code == 200, response.text
    return response.json()


def states(found: dict[str, Any]) -> dict[str, str]:
    return {milestone["milestone"]: milestone["state"] for milestone in found["milestones"]}


def hold(api: Api, mother_id: str, milestone: str, held_on: date) -> dict[str, Any]:
    body = {"held_on": str(held_on), "milestone": milestone}
    response = api.post("sdi_worker", f"/v1/mothers/{mother_id}/reviews", body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("start", "months", "due"),
    [
        (date(2025, 11, 30), 3, date(2026, 2, 28)),  # no 30 February: its last day
        (date(2023, 11, 30), 3, date(2024, 2, 29)),  # a leap year's
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 3, 31), 3, date(2025, 6, 30)),
        (date(2025, 10, 15), 3, date(2026, 1, 15)),  # into the next year
        (date(2025, 1, 31), 12, date(2026, 1, 31)),
    ],
)
def test_months_are_calendar_months_clamped_to_the_months_end(
    start: date, months: int, due: date
) -> None:
    assert add_months(start, months) == due


def test_no_schedule_before_she_engages(api: Api) -> None:
    mother = api.mother(prison_code="SDI")
    found = schedule(api, mother["id"])
    assert found == {
        "mother_id": mother["id"],
        "engaged_on": None,
        "support_closed_on": None,
        "milestones": [],
    }
    assert audit_of(api, mother["id"])[-1] == ("combine", "mother", "succeeded")


def test_due_dates_from_engagement(api: Api) -> None:
    mother = api.mother(prison_code="SDI")
    engaged(api, mother, date(2025, 11, 30))
    found = schedule(api, mother["id"])
    assert found["engaged_on"] == "2025-11-30"
    assert [(m["milestone"], m["due_on"]) for m in found["milestones"]] == [
        ("three_months", "2026-02-28"),
        ("six_months", "2026-05-30"),
        ("twelve_months", "2026-11-30"),
    ]


def test_states_upcoming_due_overdue_and_held(api: Api) -> None:
    mother = api.mother(prison_code="SDI")
    # Three months on falls 9 to 12 days from today: due. Twelve months on: upcoming.
    engaged(api, mother, TODAY - timedelta(days=80))
    assert states(schedule(api, mother["id"])) == {
        "three_months": "due",
        "six_months": "upcoming",
        "twelve_months": "upcoming",
    }
    late = api.mother(prison_code="SDI")
    started = TODAY - timedelta(days=200)
    engaged(api, late, started)
    assert states(schedule(api, late["id"])) == {
        "three_months": "overdue",
        "six_months": "overdue",
        "twelve_months": "upcoming",
    }
    review = hold(api, late["id"], "three_months", started + timedelta(days=100))
    hold(api, late["id"], "other", TODAY)  # not a milestone: meets none
    found = schedule(api, late["id"])
    assert states(found) == {
        "three_months": "held",
        "six_months": "overdue",
        "twelve_months": "upcoming",
    }
    met = found["milestones"][0]
    assert (met["review_id"], met["held_on"]) == (review["id"], review["held_on"])
    assert found["milestones"][1]["review_id"] is None
    assert ("combine", "review", "succeeded") in audit_of(api, review["id"])


def test_due_today_is_due(api: Api) -> None:
    mother = api.mother(prison_code="SDI")
    start = add_months(TODAY, -3)
    engaged(api, mother, start)
    three = schedule(api, mother["id"])["milestones"][0]
    assert three["due_on"] <= str(TODAY)  # clamped to an earlier day at a month's end
    assert three["state"] == ("due" if three["due_on"] == str(TODAY) else "overdue")


def test_after_support_closed_the_later_milestones_are_not_due(api: Api) -> None:
    mother = api.mother(prison_code="SDI")
    start = TODAY - timedelta(days=300)
    engaged(api, mother, start, closed_on=start + timedelta(days=150))
    found = schedule(api, mother["id"])
    assert found["support_closed_on"] == str(start + timedelta(days=150))
    # Three months on fell while she was supported and was missed: still overdue.
    assert states(found) == {
        "three_months": "overdue",
        "six_months": "not_due",
        "twelve_months": "not_due",
    }


def test_her_latest_period_of_support_counts(api: Api) -> None:
    mother = api.mother(prison_code="SDI")
    first = TODAY - timedelta(days=700)
    engaged(api, mother, first, closed_on=first + timedelta(days=400))
    hold(api, mother["id"], "three_months", first + timedelta(days=92))
    again = TODAY - timedelta(days=30)
    engaged(api, mother, again)
    found = schedule(api, mother["id"])
    assert found["engaged_on"] == str(again)
    assert found["support_closed_on"] is None
    # The first period's three-month review met the first period's milestone, not this one's.
    assert states(found)["three_months"] == "upcoming"


def test_the_prison_side_only(api: Api) -> None:
    mother = api.mother(prison_code="SDI")
    api.child(mother["id"], local_authority_code="801")
    consent_in_force(api, mother["id"], "801", plan=True, reviews=True)
    for who in ("bristol", "bristol_system", "ewi_governor", "auditor"):
        assert api.get(who, schedule_url(mother["id"])).status_code == 403, who
    assert api.get("ewi_worker", schedule_url(mother["id"])).status_code == 404
