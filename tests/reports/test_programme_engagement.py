"""The programme report's figures of referral to engagement: referrals by source and decision, the
funnel, reviews and their outcomes, pregnancies and births, and relationships with local
authority social workers. One world, built through the API over five quarters (the current one
and the four before it), every figure of every quarter checked exactly, parts adding up to their
totals, small counts suppressed, records on a quarter's last day counted in it; as published,
each figure the disclosure rules' of its true count."""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import anyio
import pytest

from tac_api.reports import engagement
from tac_api.reports.catalogue import Catalogue, protect
from tac_api.reports.periods import Counts, Span
from tac_api.reports.service import (
    PROGRAMME_SCOPE,
    quarter_label,
    quarter_of,
    quarters_between,
    report_protection,
    settled_by,
)
from tests.support.api import Api
from tests.support.bodies import TODAY
from tests.support.referrals import HER_RECORD, decide, refer, url
from tests.support.reports import exact_figures
from tests.support.reviews import linked
from tests.support.sql import counting

# The current quarter and the four before it: Q[0] began twelve months before Q[4], so that a
# referral engaged on its first day has reached her 12 months by today, whatever today is.
CURRENT = quarter_of(TODAY)
Q = quarters_between(date(CURRENT.year - 1, CURRENT.month, 1), CURRENT)
assert len(Q) == 5


def on(n: int, days: int = 0) -> date:
    """`days` into quarter n (negative: from its last day, -1 being the last day itself)."""
    return Q[n].start + timedelta(days=days) if days >= 0 else Q[n].end + timedelta(days=days + 1)


# -- The world ------------------------------------------------------------------------------------


def referral(
    api: Api,
    received: date,
    source: str,
    decision: str | None = None,
    *,
    contact: date | None = None,
    engaged: date | None = None,
    closed: date | None = None,
    prison: str = "EWI",
) -> dict[str, Any]:
    """A referral, decided on the day it was received; accepted, her record made by it."""
    made = refer(api, received_on=str(received), source=source, prison_code=prison)
    if decision is None:
        return made
    body: dict[str, Any] = {"decision": decision, "decided_on": str(received)}
    if decision == "accepted":
        body["mother"] = {**HER_RECORD, "reception_date": "2024-01-02"}
    else:
        body["reason"] = "Her children's proceedings ended before the referral."
    response = decide(api, made, **body)
    assert response.status_code == 200, response.text
    made = response.json()
    if contact is not None:
        dates = {"first_contact_on": str(contact)}
        if engaged is not None:
            dates["engaged_on"] = str(engaged)
        response = api.patch("admin", url(made), dates, if_match=f'"{made["version"]}"')
        assert response.status_code == 200, response.text
        made = response.json()
    if closed is not None:
        body = {"closed_on": str(closed), "reason": "disengaged"}
        response = api.post(
            "admin", url(made, "/support-closure"), body, if_match=f'"{made["version"]}"'
        )
        assert response.status_code == 200, response.text
    return made


def review(api: Api, mother_id: str, held: date, milestone: str, **fields: Any) -> None:
    body = {"held_on": str(held), "milestone": milestone, **fields}
    response = api.post("admin", f"/v1/mothers/{mother_id}/reviews", body)
    assert response.status_code == 201, response.text


def relationship(worker: str, status: str) -> list[dict[str, str]]:
    return [{"practitioner_id": worker, "status": status}]


def pregnancy(
    api: Api, mother_id: str, known: date, at_referral: bool, births: list[tuple[date, str]]
) -> None:
    body: dict[str, Any] = {"known_on": str(known), "at_referral": at_referral}
    if births:
        body |= {
            "outcome": "born",
            "ended_on": str(max(born for born, _ in births)),
            "births": [{"born_on": str(born), "baby_went": went} for born, went in births],
        }
    response = api.post("admin", f"/v1/mothers/{mother_id}/pregnancies", body)
    assert response.status_code == 201, response.text


def build(api: Api) -> None:
    # Q0: two engaged on its first days, one closed within 100 days; one declined.
    r1 = referral(api, on(0), "offender_management_unit", "accepted", contact=on(0), engaged=on(0))
    referral(
        api, on(0, 1), "self", "accepted", contact=on(0, 1), engaged=on(0, 1), closed=on(0, 100)
    )
    referral(api, on(0, 2), "self", "declined", prison="SDI")
    # Q1: five refer themselves and engage; one from health accepted on the quarter's last day
    # and not yet contacted; one from health declined; one from a court awaiting a decision.
    women = [
        referral(
            api,
            on(1, n),
            "self",
            "accepted",
            contact=on(1, n + 1),
            engaged=on(1, n + 2),
            prison="SDI" if n % 2 else "EWI",
        )
        for n in range(5)
    ]
    referral(api, on(1, -1), "health", "accepted")
    referral(api, on(1, 10), "health", "declined")
    referral(api, on(1, 11), "court")
    # Q2: on its first day (not Q1's), from probation, awaiting a decision.
    referral(api, on(2), "probation")
    # Q3: accepted and contacted, not engaged. Q4: engaged today.
    referral(api, on(3, 5), "another_service", "accepted", contact=on(3, 6))
    referral(api, on(4), "local_authority", "accepted", contact=TODAY, engaged=TODAY)

    w1, w2, w3, w4, w5 = (woman["mother_id"] for woman in women)
    r1_id = r1["mother_id"]
    s1, s2, s3, s4, s5, s6, s7 = (
        linked(api, mother, name=name)
        for mother, name in (
            (w1, "Gwen Llewellyn"),
            (w2, "Siân O'Connor"),
            (w3, "Aoife Ní Bhriain"),
            (w3, "Zoë Okafor"),
            (r1_id, "Mairéad D'Arcy"),
            (w4, "Ffion Prys-Jones"),
            (w5, "Chloé Adébáyọ̀"),
        )
    )
    # Q1: two 3-month reviews, one on the quarter's last day.
    review(api, w1, on(1, -1), "three_months", relationships=relationship(s1, "none"))
    review(api, r1_id, on(1), "three_months", relationships=relationship(s5, "antagonistic"))
    # Q2: a 3-month review, five 6-month reviews (outcomes recorded), two others, one on the
    # last day.
    review(api, w5, on(2, 1), "three_months")
    six = {
        w1: ("antagonistic", s1),
        w2: ("working", s2),
        w3: ("fractured", s3),
        w4: ("none", s6),
        w5: ("working", s7),
    }
    children_with_her = {w1: "yes", w2: "yes", w3: "no", w4: "not_known", w5: "not_known"}
    for n, (woman, (status, worker)) in enumerate(six.items()):
        relationships = relationship(worker, status)
        if woman == w3:
            relationships.append({"practitioner_id": s4, "status": "none"})  # reviewed once
        review(
            api,
            woman,
            on(2, 3 * n),
            "six_months",
            mental_health_support="yes",
            employment_or_learning="no",
            children_with_her=children_with_her[woman],
            relationships=relationships,
        )
    review(api, w2, on(2, -1), "other", relationships=relationship(s2, "fractured"))
    review(api, w3, on(2, 40), "other", relationships=relationship(s3, "fractured"))
    # Q3: a 12-month review and two others; Q4: one other, on its first day.
    review(
        api,
        r1_id,
        on(3, 2),
        "twelve_months",
        children_with_her="yes",
        relationships=relationship(s5, "improving"),
    )
    review(api, w1, on(3, 3), "other", relationships=relationship(s1, "working"))
    review(api, w4, on(3, 4), "other", relationships=relationship(s6, "none"))
    review(api, w5, on(4), "other", relationships=relationship(s7, "antagonistic"))

    # Pregnancies: one known in Q0, six in Q2 (one began while engaged); nine babies born in
    # Q3, one on its last day.
    pregnancy(api, r1_id, on(0, 5), True, [(on(3, -1), "not_decided")])
    for woman in (w1, w2, w3, w4):
        pregnancy(api, woman, on(2, 1), True, [(on(3, 1), "with_family")])
    pregnancy(api, w5, on(2, 2), True, [(on(3, 7), "with_family"), (on(3, 7), "removed")])
    pregnancy(api, w1, on(2, -1), False, [(on(3, 8), "removed"), (on(3, 8), "not_decided")])


def figures(**given: int) -> dict[str, int]:
    return {key.replace("__", "."): value for key, value in given.items()}


# What the world above gives, quarter by quarter (a figure not named is 0).
EXPECTED: list[dict[str, int]] = [
    {
        "referrals.received": 3,
        "referrals.by_source.offender_management_unit": 1,
        "referrals.by_source.self": 2,
        "referrals.by_decision.accepted": 2,
        "referrals.by_decision.declined": 1,
        "funnel.accepted.first_contact": 2,
        "funnel.contacted.engaged": 2,
        "funnel.six_months.still_supported": 1,
        "funnel.six_months.support_closed": 1,
        "funnel.twelve_months.still_supported": 1,
        "funnel.twelve_months.support_closed": 1,
        "pregnancies.known": 1,
        "pregnancies.known_when.at_referral": 1,
    },
    {
        "referrals.received": 8,
        "referrals.by_source.self": 5,
        "referrals.by_source.health": 2,
        "referrals.by_source.court": 1,
        "referrals.by_decision.accepted": 6,
        "referrals.by_decision.declined": 1,
        "referrals.by_decision.awaiting_decision": 1,
        "funnel.accepted.first_contact": 5,
        "funnel.accepted.no_first_contact": 1,
        "funnel.contacted.engaged": 5,
        "funnel.six_months.still_supported": 5,
        "funnel.twelve_months.not_yet": 5,
        "reviews.held": 2,
        "reviews.by_milestone.three_months": 2,
    },
    {
        "referrals.received": 1,
        "referrals.by_source.probation": 1,
        "referrals.by_decision.awaiting_decision": 1,
        "reviews.held": 8,
        "reviews.by_milestone.three_months": 1,
        "reviews.by_milestone.six_months": 5,
        "reviews.by_milestone.other": 2,
        "outcomes.six_months.mental_health_support.yes": 5,
        "outcomes.six_months.employment_or_learning.no": 5,
        "outcomes.six_months.children_with_her.yes": 2,
        "outcomes.six_months.children_with_her.no": 1,
        "outcomes.six_months.children_with_her.not_known": 2,
        **{
            f"outcomes.six_months.{outcome}.not_known": 5
            for outcome in (
                "positive_social_worker_feedback",
                "stable_housing_or_finances",
                "family_relationships_improved",
                "contact_with_child",
            )
        },
        "pregnancies.known": 6,
        "pregnancies.known_when.at_referral": 5,
        "pregnancies.known_when.during_engagement": 1,
        # w1 none -> antagonistic, w2 working -> fractured, w3 fractured -> fractured; w4 and
        # w5 (and w3's second social worker) have been reviewed once only.
        "relationships.pairs": 3,
        "relationships.change.improved": 1,
        "relationships.change.worsened": 1,
        "relationships.change.same": 1,
        "relationships.first.none": 1,
        "relationships.first.working": 1,
        "relationships.first.fractured": 1,
        "relationships.latest.antagonistic": 1,
        "relationships.latest.fractured": 2,
    },
    {
        "referrals.received": 1,
        "referrals.by_source.another_service": 1,
        "referrals.by_decision.accepted": 1,
        "funnel.accepted.first_contact": 1,
        "funnel.contacted.not_engaged": 1,
        "reviews.held": 3,
        "reviews.by_milestone.twelve_months": 1,
        "reviews.by_milestone.other": 2,
        "outcomes.twelve_months.children_with_her.yes": 1,
        **{
            f"outcomes.twelve_months.{outcome}.not_known": 1
            for outcome in (
                "mental_health_support",
                "employment_or_learning",
                "positive_social_worker_feedback",
                "stable_housing_or_finances",
                "family_relationships_improved",
                "contact_with_child",
            )
        },
        "births.born": 9,
        "births.baby_went.with_family": 5,
        "births.baby_went.removed": 2,
        "births.baby_went.not_decided": 2,
        # w1 now working (improved), r1 antagonistic -> improving, w4 none -> none.
        "relationships.pairs": 5,
        "relationships.change.improved": 2,
        "relationships.change.worsened": 1,
        "relationships.change.same": 2,
        "relationships.first.none": 2,
        "relationships.first.working": 1,
        "relationships.first.fractured": 1,
        "relationships.first.antagonistic": 1,
        "relationships.latest.working": 1,
        "relationships.latest.fractured": 2,
        "relationships.latest.improving": 1,
        "relationships.latest.none": 1,
    },
    {
        "referrals.received": 1,
        "referrals.by_source.local_authority": 1,
        "referrals.by_decision.accepted": 1,
        "funnel.accepted.first_contact": 1,
        "funnel.contacted.engaged": 1,
        "funnel.six_months.not_yet": 1,
        "funnel.twelve_months.not_yet": 1,
        "reviews.held": 1,
        "reviews.by_milestone.other": 1,
        # w5 working -> antagonistic joins them: a stock, still counted in the quarter after.
        "relationships.pairs": 6,
        "relationships.change.improved": 2,
        "relationships.change.worsened": 2,
        "relationships.change.same": 2,
        "relationships.first.none": 2,
        "relationships.first.working": 2,
        "relationships.first.fractured": 1,
        "relationships.first.antagonistic": 1,
        "relationships.latest.working": 1,
        "relationships.latest.fractured": 2,
        "relationships.latest.improving": 1,
        "relationships.latest.none": 1,
        "relationships.latest.antagonistic": 1,
    },
]


@pytest.fixture(scope="module")
def world(module_api: Api) -> Iterator[Api]:
    build(module_api)
    yield module_api


def catalogue() -> Catalogue:
    shown = Catalogue()
    # Its sections need nothing of the database or the settings.
    anyio.run(engagement.add_sections, shown, None, None)
    return shown


def counted(api: Api, quarters: list[Span]) -> tuple[list[Counts], list[str]]:
    """The figures as `engagement.count` adds them up, and the statements it sent."""
    app = api.client.app  # type: ignore[attr-defined]
    found = [Counts() for _ in quarters]

    async def run() -> None:
        async with app.state.sessionmaker() as session:
            await engagement.count(session, quarters, found, app.state.settings)

    with counting(api) as statements:
        api.client.portal.call(run)  # type: ignore[union-attr]
    # Not the transaction's own BEGIN and ROLLBACK (PostgreSQL).
    return found, [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]


# -- The tests ------------------------------------------------------------------------------------


def test_every_figure_of_every_quarter(world: Api) -> None:
    found, statements = counted(world, Q)
    specs = catalogue().specs()
    keys = {spec.key for spec in specs}
    for n, quarter in enumerate(found):
        assert set(quarter) <= keys  # nothing counted that the report does not list
        got = {key: value for key, value in quarter.items() if value}
        assert got == EXPECTED[n], f"quarter {n} ({Q[n].start})"
    # Five statements, for one quarter as for five.
    assert len(statements) == 5
    assert len(counted(world, Q[:1])[1]) == 5


def test_parts_add_up_to_their_totals(world: Api) -> None:
    found, _ = counted(world, Q)
    specs = catalogue().specs()
    breakdowns: dict[tuple[str, str], list[str]] = {}
    for spec in specs:
        if spec.part_of is not None:
            breakdowns.setdefault((spec.part_of, spec.breakdown or ""), []).append(spec.key)
    # Referrals 2, funnel 4, milestones 1, outcomes 2 * 7, pregnancies and births 2,
    # relationships 3.
    assert len(breakdowns) == 26
    for quarter in found:
        for (total, _), parts in breakdowns.items():
            assert sum(quarter.get(part, 0) or 0 for part in parts) == (quarter.get(total) or 0)


def report_cells(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {figure["key"]: figure for section in body["sections"] for figure in section["figures"]}


def test_the_report_shows_them_suppressed(world: Api) -> None:
    query = {"from": str(Q[0].start), "to": str(Q[-1].end)}
    with exact_figures(world):
        response = world.get("admin", "/v1/reports/programme", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    shown = report_cells(body)
    specs = catalogue().specs()
    threshold = body["suppression"]["threshold"]
    for n in range(len(Q)):
        for spec in specs:
            count = EXPECTED[n].get(spec.key, 0)
            hidden = 1 <= count <= threshold
            # Every one of these can be worked out: none is `x` (not available).
            expected = {"value": None if hidden else count, "suppressed": hidden, "available": True}
            assert shown[spec.key]["values"][n] == expected, (spec.key, n)
            assert shown[spec.key]["label"] == spec.label
            assert shown[spec.key]["part_of"] == spec.part_of

    def value(key: str, n: int) -> Any:
        cell = shown[key]["values"][n]
        return "c" if cell["suppressed"] else cell["value"]

    # Shown: 5 and more, and zeros.
    assert value("referrals.received", 1) == 8
    assert value("referrals.by_source.self", 1) == 5
    assert value("outcomes.six_months.mental_health_support.yes", 2) == 5
    assert value("outcomes.six_months.mental_health_support.no", 2) == 0
    assert value("births.born", 3) == 9
    assert value("births.baby_went.with_family", 3) == 5
    assert value("relationships.pairs", 4) == 6
    # Hidden: 1 to 4.
    assert value("referrals.received", 0) == "c"
    assert value("referrals.by_source.health", 1) == "c"
    assert value("relationships.change.improved", 4) == "c"
    # No second cell: 6 pregnancies, 1 begun while engaged (hidden), the 5 at referral shown.
    # Published, every part is perturbed apart from its total: the difference is no count.
    assert value("pregnancies.known", 2) == 6
    assert value("pregnancies.known_when.at_referral", 2) == 5
    assert value("pregnancies.known_when.during_engagement", 2) == "c"
    assert value("referrals.by_decision.declined", 1) == "c"
    assert value("referrals.by_decision.accepted", 1) == 6
    for key in (
        "funnel.accepted.first_contact",
        "funnel.contacted.engaged",
        "funnel.six_months.still_supported",
    ):
        assert value(key, 1) == 5, key


def test_the_published_report_perturbs_the_programmes_own_figures(world: Api) -> None:
    """As published: each quarter's figure is the disclosure rules' figure of the true count,
    keyed by the programme's population (apart from either prison's) and that quarter."""
    # Published: the quarters that have settled (the current one never has).
    settled = [q for q in Q if q.end <= settled_by(TODAY, 14)]
    query = {"from": str(Q[0].start), "to": str(settled[-1].end)}
    response = world.get("admin", "/v1/reports/programme", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["perturbation"]["applied"] is True
    shown = report_cells(body)
    specs = catalogue().specs()
    protection = report_protection(world.client.app.state.settings)  # type: ignore[attr-defined]
    moved = 0
    for n, quarter in enumerate(settled):
        cells = protect(
            EXPECTED[n], specs, protection, scope=PROGRAMME_SCOPE, period=quarter_label(quarter)
        )
        for spec in specs:
            want = {**cells[spec.key].model_dump(), "available": True}
            assert shown[spec.key]["values"][n] == want, (spec.key, n)
            moved += want["value"] not in (None, EXPECTED[n].get(spec.key, 0))
    assert moved > 0  # perturbed: some figures are not their counts


def test_quarter_boundaries(world: Api) -> None:
    """A record on a quarter's last day counts in it; one on the next day, in the next."""
    found, _ = counted(world, Q)
    # Q1's last day: the health referral accepted and a 3-month review.
    assert found[1]["funnel.accepted.no_first_contact"] == 1
    assert found[1]["reviews.by_milestone.three_months"] == 2
    # Q2's first day: the probation referral; its last day: a review and a pregnancy.
    assert found[2]["referrals.by_source.probation"] == 1
    assert found[2]["reviews.by_milestone.other"] == 2
    assert found[2]["pregnancies.known_when.during_engagement"] == 1
    # Q3's last day: a birth.
    assert found[3]["births.baby_went.not_decided"] == 2
    # One day on each side of Q2, counted alone: the same as in the five.
    alone, _ = counted(world, [Q[2]])
    assert {k: v for k, v in alone[0].items() if v} == EXPECTED[2]
    narrow = Span(Q[2].start + timedelta(days=1), Q[2].end - timedelta(days=1))
    inside, _ = counted(world, [narrow])
    assert inside[0].get("referrals.received", 0) == 0
    assert inside[0]["reviews.by_milestone.other"] == 1
    assert inside[0].get("pregnancies.known_when.during_engagement", 0) == 0
    # By the day before Q2's last, w2 and her social worker had been reviewed together once.
    assert inside[0]["relationships.pairs"] == 2
    assert inside[0].get("relationships.change.worsened", 0) == 0
