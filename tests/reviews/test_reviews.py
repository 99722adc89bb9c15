"""Her reviews: what one records, the rules it keeps, and who reads it (a local authority only
under her consent, and never the social workers' relationships with her)."""

from datetime import date, timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.audit import audit_of
from tests.support.bodies import TODAY
from tests.support.consents import consent_in_force, withdraw
from tests.support.reviews import engaged, linked

ENGAGED = TODAY - timedelta(days=400)


def reviews_url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/reviews"


def review_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "held_on": str(ENGAGED + timedelta(days=95)),
        "milestone": "three_months",
        "mental_health_support": "yes",
        "contact_with_child": "no",
        "ratings": [
            {"area": "self_care", "rating": 6},
            {"area": "managing_mental_health", "rating": 4},
        ],
        "summary": "Siân has started counselling with Women in Prison.",
    }
    body.update(fields)
    return body


@pytest.fixture
def her(api: Api) -> dict[str, Any]:
    """A Send mother with a Bristol child, that child's social worker linked to her case, a
    solicitor linked to her, and her support begun 400 days ago."""
    mother = api.mother(prison_code="SDI")
    child = api.child(mother["id"], local_authority_code="801")
    worker = linked(api, mother["id"], child["id"])
    solicitor = linked(api, mother["id"], role="solicitor", name="Máire O'Donnell")
    engaged(api, mother, ENGAGED)
    return {"mother": mother, "child": child, "worker": worker, "solicitor": solicitor}


def add(api: Api, her: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = api.post("sdi_worker", reviews_url(her["mother"]["id"]), review_body(**fields))
    assert response.status_code == 201, response.text
    return response.json()


def problem_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]


class TestRecord:
    def test_a_review_records_outcomes_ratings_and_relationships(
        self, api: Api, her: dict[str, Any]
    ) -> None:
        relationships = [{"practitioner_id": her["worker"], "status": "improving"}]
        review = add(api, her, relationships=relationships)
        assert review["mother_id"] == her["mother"]["id"]
        assert review["milestone"] == "three_months"
        assert review["mental_health_support"] == "yes"
        assert review["contact_with_child"] == "no"
        # Not sent: not known.
        unsent = ("employment_or_learning", "children_with_her", "family_relationships_improved")
        assert {review[outcome] for outcome in unsent} == {"not_known"}
        # In the order of her plan's areas, whatever the order sent.
        assert review["ratings"] == [
            {"area": "managing_mental_health", "rating": 4},
            {"area": "self_care", "rating": 6},
        ]
        assert review["relationships"] == relationships
        assert review["summary"] == "Siân has started counselling with Women in Prison."
        url = f"/v1/reviews/{review['id']}"
        got = api.get("sdi_worker", url)
        assert got.json() == review
        assert got.headers["ETag"] == '"1"'
        assert audit_of(api, review["id"])[0] == ("collect", "review", "succeeded")

    def test_the_least_a_review_needs(self, api: Api, her: dict[str, Any]) -> None:
        body = {"held_on": str(TODAY), "milestone": "other"}
        response = api.post("sdi_worker", reviews_url(her["mother"]["id"]), body)
        assert response.status_code == 201, response.text
        review = response.json()
        assert review["ratings"] == [] and review["relationships"] == []
        assert review["summary"] is None

    @pytest.mark.parametrize(
        "held_on", [str(TODAY + timedelta(days=1)), "1899-12-31"], ids=["future", "implausible"]
    )
    def test_held_on_is_a_day_that_has_been(
        self, api: Api, her: dict[str, Any], held_on: str
    ) -> None:
        body = review_body(held_on=held_on, milestone="other")
        response = api.post("sdi_worker", reviews_url(her["mother"]["id"]), body)
        assert problem_fields(response) == ["held_on"]

    def test_an_area_is_rated_once(self, api: Api, her: dict[str, Any]) -> None:
        ratings = [{"area": "self_care", "rating": 6}, {"area": "self_care", "rating": 7}]
        response = api.post(
            "sdi_worker", reviews_url(her["mother"]["id"]), review_body(ratings=ratings)
        )
        assert problem_fields(response) == ["ratings.1.area"]

    @pytest.mark.parametrize("rating", [0, 11, "5", 5.5, True])
    def test_a_rating_is_a_whole_number_from_1_to_10(
        self, api: Api, her: dict[str, Any], rating: Any
    ) -> None:
        ratings = [{"area": "self_care", "rating": rating}]
        response = api.post(
            "sdi_worker", reviews_url(her["mother"]["id"]), review_body(ratings=ratings)
        )
        assert response.status_code == 422, response.text

    @pytest.mark.parametrize("field", ["mental_health_support", "milestone"])
    def test_codes_are_the_listed_ones(self, api: Api, her: dict[str, Any], field: str) -> None:
        response = api.post(
            "sdi_worker", reviews_url(her["mother"]["id"]), review_body(**{field: "maybe"})
        )
        assert response.status_code == 422, response.text

    def test_a_relationship_is_with_a_social_worker_linked_to_her(
        self, api: Api, her: dict[str, Any]
    ) -> None:
        someone_else = api.mother(prison_code="SDI")
        elsewhere = linked(api, someone_else["id"], name="Bethan Ap Rhys")
        relationships = [
            {"practitioner_id": her["worker"], "status": "working"},
            {"practitioner_id": her["solicitor"], "status": "working"},  # not a social worker
            {"practitioner_id": elsewhere, "status": "working"},  # not linked to her
            {"practitioner_id": her["worker"], "status": "none"},  # twice
        ]
        response = api.post(
            "sdi_worker",
            reviews_url(her["mother"]["id"]),
            review_body(relationships=relationships),
        )
        assert problem_fields(response) == [
            "relationships.1.practitioner_id",
            "relationships.2.practitioner_id",
            "relationships.3.practitioner_id",
        ]
        assert "not a local authority social worker" in response.json()["errors"][0]["message"]

    def test_a_social_worker_linked_to_her_herself_counts(
        self, api: Api, her: dict[str, Any]
    ) -> None:
        worker = linked(api, her["mother"]["id"], name="Ffion Evans")  # no child named
        review = add(api, her, relationships=[{"practitioner_id": worker, "status": "fractured"}])
        assert review["relationships"][0]["status"] == "fractured"

    def test_only_the_prison_side_records_one(self, api: Api, her: dict[str, Any]) -> None:
        consent_in_force(api, her["mother"]["id"], "801", reviews=True)
        for who in ("bristol", "bristol_system", "ewi_governor", "auditor"):
            response = api.post(who, reviews_url(her["mother"]["id"]), review_body())
            assert response.status_code == 403, (who, response.text)

    def test_another_prisons_mother_is_not_found(self, api: Api, her: dict[str, Any]) -> None:
        response = api.post("ewi_worker", reviews_url(her["mother"]["id"]), review_body())
        assert response.status_code == 404


class TestMilestones:
    def test_a_milestone_is_met_once_per_period_of_support(
        self, api: Api, her: dict[str, Any]
    ) -> None:
        first = add(api, her)
        again = api.post(
            "sdi_worker",
            reviews_url(her["mother"]["id"]),
            review_body(held_on=str(ENGAGED + timedelta(days=120))),
        )
        assert problem_fields(again) == ["milestone"]
        assert first["id"] in again.json()["errors"][0]["message"]
        # Other milestones, and reviews at other times, as many as are held.
        add(api, her, milestone="six_months", held_on=str(ENGAGED + timedelta(days=185)))
        add(api, her, milestone="other", held_on=str(ENGAGED + timedelta(days=100)))
        add(api, her, milestone="other", held_on=str(ENGAGED + timedelta(days=101)))

    def test_a_new_period_of_support_has_its_own_milestones(
        self, api: Api, her: dict[str, Any]
    ) -> None:
        add(api, her)
        # Support closed and began again: its own three-month review.
        engaged(api, her["mother"], TODAY - timedelta(days=100))
        add(api, her, held_on=str(TODAY - timedelta(days=5)))
        # ... once.
        again = api.post(
            "sdi_worker",
            reviews_url(her["mother"]["id"]),
            review_body(held_on=str(TODAY - timedelta(days=2))),
        )
        assert problem_fields(again) == ["milestone"]

    def test_a_milestone_review_needs_her_support_to_have_begun(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        body = review_body(held_on=str(TODAY))
        response = api.post("sdi_worker", reviews_url(mother["id"]), body)
        assert problem_fields(response) == ["milestone"]
        engaged(api, mother, TODAY - timedelta(days=10))
        before = review_body(held_on=str(TODAY - timedelta(days=11)))
        assert problem_fields(api.post("sdi_worker", reviews_url(mother["id"]), before)) == [
            "milestone"
        ]
        assert api.post("sdi_worker", reviews_url(mother["id"]), body).status_code == 201

    def test_a_milestone_review_is_not_held_after_her_support_closed(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        engaged(api, mother, TODAY - timedelta(days=200), closed_on=TODAY - timedelta(days=20))
        late = review_body(milestone="six_months", held_on=str(TODAY - timedelta(days=10)))
        response = api.post("sdi_worker", reviews_url(mother["id"]), late)
        assert problem_fields(response) == ["milestone"]
        assert "closed" in response.json()["detail"]
        other = late | {"milestone": "other"}
        assert api.post("sdi_worker", reviews_url(mother["id"]), other).status_code == 201

    def test_a_change_cannot_make_a_second_review_of_a_milestone(
        self, api: Api, her: dict[str, Any]
    ) -> None:
        add(api, her)
        other = add(api, her, milestone="other", held_on=str(ENGAGED + timedelta(days=100)))
        url = f"/v1/reviews/{other['id']}"
        response = api.patch("sdi_worker", url, {"milestone": "three_months"}, '"1"')
        assert problem_fields(response) == ["milestone"]
        # A review is never in its own way.
        own = add(api, her, milestone="six_months", held_on=str(ENGAGED + timedelta(days=190)))
        moved = {"held_on": str(ENGAGED + timedelta(days=191)), "milestone": "six_months"}
        assert api.patch("sdi_worker", f"/v1/reviews/{own['id']}", moved, '"1"').status_code == 200


class TestChange:
    def test_change_outcomes_and_replace_the_lists(self, api: Api, her: dict[str, Any]) -> None:
        review = add(api, her, relationships=[{"practitioner_id": her["worker"], "status": "none"}])
        url = f"/v1/reviews/{review['id']}"
        changes = {
            "employment_or_learning": "yes",
            "ratings": [{"area": "social_networks", "rating": 8}],
            "relationships": [],
            "summary": None,
        }
        response = api.patch("sdi_worker", url, changes, '"1"')
        assert response.status_code == 200, response.text
        changed = response.json()
        assert changed["employment_or_learning"] == "yes"
        assert changed["mental_health_support"] == "yes"  # not sent: kept
        assert changed["ratings"] == [{"area": "social_networks", "rating": 8}]
        assert changed["relationships"] == []
        assert changed["summary"] is None
        assert response.headers["ETag"] == '"2"'
        assert api.get("sdi_worker", url).json() == changed
        assert ("alter", "review", "succeeded") in audit_of(api, review["id"])

    def test_a_change_of_the_lists_alone_moves_the_version(
        self, api: Api, her: dict[str, Any]
    ) -> None:
        review = add(api, her)
        url = f"/v1/reviews/{review['id']}"
        relationships = [{"practitioner_id": her["worker"], "status": "working"}]
        response = api.patch("sdi_worker", url, {"relationships": relationships}, '"1"')
        assert response.headers["ETag"] == '"2"'
        # The same again (ratings in another order): no change, the same version.
        same = {"relationships": relationships, "ratings": list(reversed(review_body()["ratings"]))}
        response = api.patch("sdi_worker", url, same, '"2"')
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'

    def test_a_change_keeps_the_rules(self, api: Api, her: dict[str, Any]) -> None:
        review = add(api, her)
        url = f"/v1/reviews/{review['id']}"
        for changes, field in (
            ({"held_on": str(TODAY + timedelta(days=3))}, "held_on"),
            ({"ratings": [{"area": "self_care", "rating": 1}] * 2}, "ratings.1.area"),
            (
                {"relationships": [{"practitioner_id": her["solicitor"], "status": "none"}]},
                "relationships.0.practitioner_id",
            ),
        ):
            assert problem_fields(api.patch("sdi_worker", url, changes, '"1"')) == [field]
        for field in ("held_on", "milestone", "ratings", "mental_health_support"):
            response = api.patch("sdi_worker", url, {field: None}, '"1"')
            assert response.status_code == 422, (field, response.text)
        assert api.get("sdi_worker", url).json() == review

    def test_a_change_needs_the_current_version(self, api: Api, her: dict[str, Any]) -> None:
        review = add(api, her)
        url = f"/v1/reviews/{review['id']}"
        assert api.patch("sdi_worker", url, {"summary": "x"}).status_code == 428
        assert api.patch("sdi_worker", url, {"summary": "x"}, '"1"').status_code == 200
        assert api.patch("sdi_worker", url, {"summary": "y"}, '"1"').status_code == 412

    def test_only_the_prison_side_changes_one(self, api: Api, her: dict[str, Any]) -> None:
        review = add(api, her)
        consent_in_force(api, her["mother"]["id"], "801", reviews=True)
        url = f"/v1/reviews/{review['id']}"
        assert api.patch("bristol", url, {"summary": "x"}, '"1"').status_code == 403
        assert api.patch("ewi_worker", url, {"summary": "x"}, '"1"').status_code == 404


class TestWhoReads:
    def test_the_prison_side_reads_her_reviews_in_date_order(
        self, api: Api, her: dict[str, Any]
    ) -> None:
        later = add(api, her, milestone="other", held_on=str(TODAY))
        first = add(api, her)
        page = api.get("sdi_worker", reviews_url(her["mother"]["id"])).json()
        assert [item["id"] for item in page["items"]] == [first["id"], later["id"]]
        assert all("relationships" in item for item in page["items"])
        assert api.get("ewi_worker", reviews_url(her["mother"]["id"])).status_code == 404
        assert api.get("ewi_worker", f"/v1/reviews/{first['id']}").status_code == 404

    def test_a_local_authority_reads_them_only_under_her_consent(
        self, api: Api, her: dict[str, Any]
    ) -> None:
        relationships = [{"practitioner_id": her["worker"], "status": "antagonistic"}]
        review = add(api, her, relationships=relationships)
        mother_id = her["mother"]["id"]
        one = f"/v1/reviews/{review['id']}"
        for who in ("bristol", "bristol_system"):
            # Her child's authority, without her consent: none of her reviews.
            assert api.get(who, one).status_code == 404
            assert api.get(who, reviews_url(mother_id)).json()["items"] == []
        # Her consent to share her plan is not consent to share her reviews.
        consent_in_force(api, mother_id, "801", plan=True)
        assert api.get("bristol", one).status_code == 404
        consent = consent_in_force(api, mother_id, "801", reviews=True)
        for who in ("bristol", "bristol_system"):
            shown = api.get(who, one)
            assert shown.status_code == 200, shown.text
            expected = {k: v for k, v in review.items() if k != "relationships"}
            assert shown.json() == expected  # never the relationships
            listed = api.get(who, reviews_url(mother_id)).json()["items"]
            assert listed == [expected]
        # Surrey has no child of hers: she is not found, consent or not.
        consent_in_force(api, mother_id, "936", reviews=True)
        assert api.get("surrey", reviews_url(mother_id)).status_code == 404
        assert api.get("surrey", one).status_code == 404
        # Withdrawn: closed again on the next request.
        withdraw(api, consent)
        assert api.get("bristol", one).status_code == 404
        assert api.get("bristol", reviews_url(mother_id)).json()["items"] == []

    def test_reading_is_audited(self, api: Api, her: dict[str, Any]) -> None:
        review = add(api, her)
        api.get("sdi_worker", reviews_url(her["mother"]["id"]))
        api.get("sdi_worker", f"/v1/reviews/{review['id']}")
        assert audit_of(api, review["id"])[1:] == [
            ("consult", "review", "succeeded"),
            ("consult", "review", "succeeded"),
        ]

    def test_her_reviews_page(self, api: Api, her: dict[str, Any]) -> None:
        for day in range(3):
            add(api, her, milestone="other", held_on=str(TODAY - timedelta(days=day)))
        url = reviews_url(her["mother"]["id"])
        first = api.get("sdi_worker", url, params={"limit": 2}).json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = api.get("sdi_worker", url, params={"limit": 2, "cursor": first["next_cursor"]})
        assert [item["held_on"] for item in rest.json()["items"]] == [str(TODAY)]


def test_review_dates_are_held_as_dates(api: Api, her: dict[str, Any]) -> None:
    review = add(api, her)
    assert date.fromisoformat(review["held_on"]) == ENGAGED + timedelta(days=95)
