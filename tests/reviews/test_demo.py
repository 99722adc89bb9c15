"""The demo's reviews and pregnancies keep the rules the API holds a client to."""

from collections import Counter

from tac_api.demo import load_demo_data
from tests.support.api import Api


def test_demo_reviews_and_pregnancies_keep_the_rules(api: Api) -> None:
    async def load() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            await load_demo_data(session, mothers=60, seed=11)

    api.client.portal.call(load)  # type: ignore[union-attr]
    reviews = api.sql("SELECT id, mother_id, milestone FROM review")
    assert len(reviews) > 20
    # A milestone once per mother (the demo gives each one period of support).
    assert max(Counter((row[1], row[2]) for row in reviews).values()) == 1
    assert {row[2] for row in reviews} == {"three_months", "six_months", "twelve_months"}
    # Every relationship is with a local authority social worker linked to her case.
    strays = api.sql(
        "SELECT count(*) FROM review_relationship r JOIN review v ON v.id = r.review_id "
        "JOIN practitioner p ON p.id = r.practitioner_id WHERE p.role <> 'la_social_worker' "
        "OR NOT EXISTS (SELECT 1 FROM practitioner_link l WHERE l.practitioner_id = p.id "
        "AND l.mother_id = v.mother_id)"
    )
    assert strays[0][0] == 0
    assert api.sql("SELECT count(*) FROM review_relationship")[0][0] > 0
    # Each review rates every area of her plan, from 1 to 10.
    ratings = api.sql("SELECT review_id, rating FROM review_rating")
    assert len(ratings) == 8 * len(reviews)
    assert all(1 <= row[1] <= 10 for row in ratings)
    births = api.sql("SELECT baby_went, child_id FROM birth")
    assert [row[0] for row in births] == ["with_her_child_in_need"]
    assert births[0][1] is not None
    outcomes = {row[0] for row in api.sql("SELECT outcome FROM pregnancy")}
    assert outcomes == {"born", "ongoing"}
