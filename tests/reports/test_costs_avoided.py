"""Costs avoided in the programme report: recorded outcomes (the report's own figures of them)
at the unit cost in force on each quarter's last day, not available (x) where none is set,
hidden with any count they are worked out from."""

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import SQLModel

from tac_api.costs.models import UnitCost
from tac_api.reports.render import ReportFormat, render
from tac_api.reports.schemas import ProgrammeReport
from tac_api.reviews.models import Birth, Pregnancy, Review
from tests.support.api import Api
from tests.support.reports import exact_figures

CHILD = "costs_avoided.by_outcome.child_with_her_at_twelve_months"
BABY = "costs_avoided.by_outcome.baby_kept"
TOTAL = "costs_avoided.total"
PRIVATE = "She told me about her brother's arrest"


def add(api: Api, *records: SQLModel) -> None:
    """Rows written below the API: reviews, births and unit costs are other packages' routes."""

    async def run() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            for record in records:  # in order: a birth after its pregnancy
                session.add(record)
                await session.flush()

    api.client.portal.call(run)  # type: ignore[union-attr]


def unit_cost(outcome: str, valid_from: date, pence: int, source: str) -> UnitCost:
    return UnitCost(
        outcome=outcome,
        valid_from=valid_from,
        amount_pence=pence,
        source=source,
        changed_by_name="Test admin",
        changed_by_role="admin",
    )


def review(mother_id: uuid.UUID, held_on: date, **outcomes: str) -> Review:
    fields = {"milestone": "twelve_months", "children_with_her": "yes"} | outcomes
    return Review(mother_id=mother_id, held_on=held_on, summary=PRIVATE, **fields)


def births(mother_id: uuid.UUID, *born: tuple[date, str]) -> list[SQLModel]:
    pregnancy = Pregnancy(
        mother_id=mother_id, known_on=date(2024, 6, 1), at_referral=True, outcome="born"
    )
    return [
        pregnancy,
        *(Birth(pregnancy_id=pregnancy.id, born_on=day, baby_went=went) for day, went in born),
    ]


@pytest.fixture
def unit_costs(api: Api) -> Iterator[None]:
    yield
    api.sql("DELETE FROM unit_cost")  # not a case table: the unit-cost package's to clear


def programme(
    api: Api, exact: bool = True
) -> tuple[ProgrammeReport, dict[str, list[dict[str, Any]]], str]:
    """2025's programme report: of the true counts (the tests of the counting), or as
    published."""
    query = {"from": "2025-01-01", "to": "2025-12-31"}
    if exact:
        with exact_figures(api):
            response = api.get("admin", "/v1/reports/programme", params=query)
    else:
        response = api.get("admin", "/v1/reports/programme", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    [section] = [s for s in body["sections"] if s["key"] == "costs_avoided"]
    figures = {f["key"]: f for f in section["figures"]}
    return ProgrammeReport.model_validate(body), figures, response.text


def shown(figure: dict[str, Any]) -> list[Any]:
    """Each quarter's cell as a reader reads it: its value, or its mark."""
    return [
        "c" if cell["suppressed"] else "x" if not cell["available"] else cell["value"]
        for cell in figure["values"]
    ]


def test_costs_avoided_from_recorded_outcomes(api: Api, unit_costs: None) -> None:
    mothers = [uuid.UUID(api.mother()["id"]) for _ in range(3)]

    def spread(*days: date, **outcomes: str) -> list[Review]:
        return [review(mothers[n % 3], day, **outcomes) for n, day in enumerate(days)]

    def month(year: int, month: int, count: int, first: int = 1) -> list[date]:
        return [date(year, month, first) + timedelta(days=n) for n in range(count)]

    add(
        api,
        # Children still with her at the 12-month review: 6, 6 (3 either side of 15 May), 2, 5.
        *spread(*month(2025, 2, 6)),
        *spread(*month(2025, 4, 3), *month(2025, 6, 3)),
        *spread(*month(2025, 8, 2)),
        *spread(*month(2025, 11, 5)),
        # Not this outcome (five of each, so that no small cell hides the five above): another
        # milestone, children not with her, not known; and one before the report's quarters.
        *spread(*month(2025, 12, 5), milestone="six_months"),
        *spread(*month(2025, 12, 5, first=10), children_with_her="no"),
        *spread(*month(2025, 12, 5, first=20), children_with_her="not_known"),
        *spread(date(2024, 12, 30)),
        # Babies kept: 2 in the first quarter, each a small count (and two not kept); 10 in the
        # second (and none not kept).
        *births(
            mothers[0],
            (date(2025, 3, 1), "with_her_child_in_need"),
            (date(2025, 3, 2), "with_her_child_protection"),
            (date(2025, 3, 3), "with_family"),
            (date(2025, 3, 4), "removed"),
        ),
        *births(
            mothers[1],
            *((day, "with_her_child_in_need") for day in month(2025, 5, 5)),
            *((day, "with_her_child_protection") for day in month(2025, 6, 5)),
        ),
        # The unit cost of a child with her changes on 15 May; none is set for a baby kept.
        unit_cost("child_with_her_at_twelve_months", date(2025, 1, 1), 10_000_00, "Evaluation A"),
        unit_cost("child_with_her_at_twelve_months", date(2025, 5, 15), 12_000_50, "Evaluation B"),
    )
    report, figures, text = programme(api)
    # The counts are the report's own figures of these outcomes, not a second copy of them.
    assert list(figures) == [TOTAL, CHILD, BABY]
    every = {f.key: f for section in report.sections for f in section.figures}
    yes = every["outcomes.twelve_months.children_with_her.yes"].values
    assert [None if c.suppressed else c.value for c in yes] == [6, 6, None, 5]
    # A quarter at the unit cost in force on its last day (the second quarter's six at the
    # figure from 15 May): one figure a quarter, so the cost tells nothing of the days within.
    # The small count's cost is hidden with it.
    assert shown(figures[CHILD]) == [60_000, 6 * 12_000.5, "c", 5 * 12_000.5]
    # No unit cost set: not available, not zero, even in a quarter without a baby kept; the
    # first quarter's small counts hide their cost.
    assert shown(figures[BABY]) == ["c", "x", "x", "x"]
    # The total hidden wherever a cost is: the total less the shown cost would be the hidden.
    assert shown(figures[TOTAL]) == ["c", "x", "c", "x"]
    assert figures[CHILD]["unit"] == figures[TOTAL]["unit"] == "pounds"
    assert figures[CHILD]["part_of"] == figures[BABY]["part_of"] == TOTAL
    assert (
        "£10,000 from 1 Jan 2025 (Evaluation A); £12,000.50 from 15 May 2025 (Evaluation B)"
        in (figures[CHILD]["method"])
    )
    assert "No unit cost is set for this outcome" in figures[BABY]["method"]
    assert figures[TOTAL]["method"]

    # Set from April: the first quarter ends before it; the second's ten babies at £20,000.
    add(api, unit_cost("baby_kept", date(2025, 4, 1), 20_000_00, "Evaluation C"))
    report, figures, text = programme(api)
    assert shown(figures[BABY]) == ["c", 200_000, 0, 0]
    assert shown(figures[CHILD]) == [60_000, 72_003, "c", 60_002.5]
    assert shown(figures[TOTAL]) == ["c", 272_003, "c", 60_002.5]
    assert "£20,000 from 1 Apr 2025 (Evaluation C)" in figures[BABY]["method"]

    # Nothing about a person in the answer or in any format of it.
    formats = [text, *(render(report, fmt).decode() for fmt in (ReportFormat.md, ReportFormat.csv))]
    formats.append(render(report, ReportFormat.html).decode())
    for written in formats:
        assert PRIVATE not in written and "prison_number" not in written
        for mother in mothers:
            assert str(mother) not in written
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(formats[2]))}
    assert [rows[TOTAL][q] for q in ("2025-01", "2025-07", "2025-10")] == ["c", "c", "60002.50"]
    assert "£60,002.50" in formats[1] and "£60,002.50" in formats[3]


def test_a_cost_is_hidden_with_any_count_it_is_worked_out_from(api: Api, unit_costs: None) -> None:
    """A cost is its count times a unit cost the method prints: with 7 children kept shown and
    2 babies kept hidden, a shown total of £110,000 less 7 x £10,000 would give the babies'
    £40,000, and so their number. The total is hidden with the hidden cost."""
    mothers = [uuid.UUID(api.mother()["id"]) for _ in range(2)]
    add(
        api,
        *(review(mothers[n % 2], date(2025, 2, 1) + timedelta(days=n)) for n in range(7)),
        *births(
            mothers[0],
            (date(2025, 3, 1), "with_her_child_in_need"),
            *((date(2025, 3, 2), "with_her_child_protection") for _ in range(5)),
        ),
        unit_cost("child_with_her_at_twelve_months", date(2025, 1, 1), 10_000_00, "A"),
        unit_cost("baby_kept", date(2025, 1, 1), 20_000_00, "B"),
    )
    _, figures, _ = programme(api)
    # The children's cost stays shown: its own count is.
    assert shown(figures[CHILD])[0] == 70_000
    assert shown(figures[BABY])[0] == "c"  # one of its counts (1 in need) is hidden
    assert shown(figures[TOTAL])[0] == "c"


def test_as_published_a_cost_is_the_published_count_times_its_unit_cost(
    api: Api, unit_costs: None
) -> None:
    """A reader who knows the unit cost divides a cost by it: the cost must give back the
    published (perturbed) count, never the true one; the total is the sum of the published
    costs."""
    mothers = [uuid.UUID(api.mother()["id"]) for _ in range(3)]
    add(
        api,
        *(review(mothers[n % 3], date(2025, 2, 1) + timedelta(days=n)) for n in range(20)),
        *(review(mothers[n % 3], date(2025, 8, 1) + timedelta(days=n)) for n in range(13)),
        *births(
            mothers[0],
            *((date(2025, 5, 1) + timedelta(days=n), "with_her_child_in_need") for n in range(9)),
            *((date(2025, 5, 20), "with_her_child_protection") for _ in range(11)),
        ),
        unit_cost("child_with_her_at_twelve_months", date(2025, 1, 1), 10_000_00, "A"),
        unit_cost("baby_kept", date(2025, 1, 1), 20_000_00, "B"),
    )
    report, figures, _ = programme(api, exact=False)
    assert report.perturbation.applied
    every = {f.key: f for section in report.sections for f in section.figures}

    def published(key: str) -> list[Any]:
        return [None if c.suppressed else c.value for c in every[key].values]

    children = published("outcomes.twelve_months.children_with_her.yes")
    in_need = published("births.baby_went.with_her_child_in_need")
    protection = published("births.baby_went.with_her_child_protection")
    checked = 0
    for n in range(4):
        child, baby, total = (shown(figures[key])[n] for key in (CHILD, BABY, TOTAL))
        if children[n] is None:
            assert child == "c"
        else:
            assert child == children[n] * 10_000
        if in_need[n] is None or protection[n] is None:
            assert baby == "c"
        else:
            assert baby == (in_need[n] + protection[n]) * 20_000
        if "c" in (child, baby):
            assert total == "c"
        else:
            assert total == child + baby
            checked += 1
    assert checked >= 2
    # Perturbed: at least one of the counts behind these costs is not its true count here (a
    # check that the costs above are not of the true counts by accident).
    assert (children[0], children[2], in_need[1], protection[1]) != (20, 13, 9, 11)
