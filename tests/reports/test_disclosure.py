"""The disclosure rules (`tac_api.reports.disclosure`): what a report publishes instead of the
counts themselves, and the fixed quarters it publishes them for.

The rules on their own first, with a key of the tests' own and cell names that are fixed, so that
every draw below is the same on every run (nothing here is random: a bound wide enough for the
distribution is also met by these very draws); then through the governor's report, of a small
world in 2024, against its own true counts."""

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from tac_api.config import Settings
from tac_api.reports.disclosure import UNPERTURBED, Protection, Rule, noise, published_count
from tac_api.reports.service import TREND_KEYS, quarters_between, report_protection
from tests.support.api import Api
from tests.support.reports import exact_figures

KEY = b"the disclosure tests' own key, not the service's"
OTHER_KEY = b"another key: another service's figures entirely"
CELL = "EWI|2026-Q2|hearings.listed"
# Many cells, each a figure of a population in a quarter, named as the reports name them.
CELLS = [
    f"{scope}|{year}-Q{q}|figure.{n}"
    for scope in ("EWI", "SDI", "programme")
    for year in (2025, 2026)
    for q in (1, 2, 3, 4)
    for n in range(420)
]
assert len(CELLS) == 10_080


def draws(cells: list[str], count: int, key: bytes = KEY) -> list[int]:
    """Each cell's noise for a true count, as `published_count` draws it."""
    return [noise(key, f"{cell}|{count}") for cell in cells]


# The noise -------------------------------------------------------------------------------------


class TestTheSameFigureAlwaysComesOutTheSame:
    def test_the_same_cell_and_count_draw_the_same_figure(self) -> None:
        first = [published_count(KEY, 7, zero_exact=True, cell=cell) for cell in CELLS[:500]]
        again = [published_count(KEY, 7, zero_exact=True, cell=cell) for cell in CELLS[:500]]
        assert first == again
        assert published_count(KEY, 0, zero_exact=False, cell=CELL) == published_count(
            KEY, 0, zero_exact=False, cell=CELL
        )

    @pytest.mark.parametrize(
        "other",
        [
            lambda cell, count: (KEY, cell.replace("-Q", "-Q0"), count),  # another quarter
            lambda cell, count: (KEY, "SDI" + cell, count),  # another population
            lambda cell, count: (KEY, cell, count + 1),  # another count
            lambda cell, count: (OTHER_KEY, cell, count),  # another key
        ],
        ids=["quarter", "scope", "count", "key"],
    )
    def test_anything_else_draws_apart(self, other: Any) -> None:
        """Another quarter, population, count or key draws its noise independently: equal to
        the first no more often than two independent draws are (about 31 in 100: the sum of
        the squares of the probabilities), nowhere near always."""
        cells = CELLS[:2000]
        base = draws(cells, 9)
        moved = [noise(key, f"{cell}|{count}") for key, cell, count in (other(c, 9) for c in cells)]
        same = sum(a == b for a, b in zip(base, moved, strict=True)) / len(cells)
        independent = sum(p * p for p in probabilities(range(-40, 41)).values())
        assert independent == pytest.approx(0.3125)
        assert 0.25 < same < 0.38


def probabilities(values: range) -> dict[int, float]:
    """The two-sided geometric distribution the noise is drawn from."""
    alpha = 1 / 3
    return {k: (1 - alpha) / (1 + alpha) * alpha ** abs(k) for k in values}


class TestTheDistribution:
    def test_about_half_unperturbed_and_94_in_100_within_2(self) -> None:
        found = draws(CELLS, 12)
        assert round(UNPERTURBED, 9) == 0.5
        # Bounds of about five standard deviations around 0.5 and 0.944, for 10,080 draws.
        assert 0.475 < found.count(0) / len(found) < 0.525
        assert 0.93 < sum(abs(k) <= 2 for k in found) / len(found) < 0.96
        # Symmetric: as many moved up as down, give or take.
        up, down = sum(k > 0 for k in found), sum(k < 0 for k in found)
        assert abs(up - down) < 0.1 * (up + down)

    def test_every_value_from_minus_6_to_6_is_drawn(self) -> None:
        """No bound a reader can rely on: every published value could have come from any count
        near it, so no published figure, difference or sum rules a value out."""
        found = Counter(draws(CELLS, 20) + draws(CELLS, 21) + draws(CELLS, 22))
        assert set(range(-6, 7)) <= set(found)
        # So a published 20 can be the figure of every count from 14 to 26.
        sources = {
            count
            for count in range(14, 27)
            for cell in CELLS
            if count + noise(KEY, f"{cell}|{count}") == 20
        }
        assert sources == set(range(14, 27))


class TestZeros:
    def test_an_event_count_of_zero_stays_zero(self) -> None:
        assert {published_count(KEY, 0, zero_exact=True, cell=cell) for cell in CELLS} == {0}

    def test_an_event_count_of_one_or_more_is_never_published_as_zero(self) -> None:
        for count in (1, 2, 3, 5):
            published = [published_count(KEY, count, zero_exact=True, cell=cell) for cell in CELLS]
            assert min(published) == 1, count
            assert max(published) > count + 2  # perturbed all the same

    def test_a_stock_of_zero_is_sometimes_published_above_zero(self) -> None:
        """A zero that stayed zero would tell, a quarter later, which group a newcomer joined."""
        published = Counter(published_count(KEY, 0, zero_exact=False, cell=cell) for cell in CELLS)
        assert min(published) == 0  # never below
        assert 0.05 < sum(n for value, n in published.items() if value > 0) / len(CELLS) < 0.5

    def test_a_stock_count_is_sometimes_published_as_zero(self) -> None:
        for count in (1, 2):
            published = [published_count(KEY, count, zero_exact=False, cell=cell) for cell in CELLS]
            assert published.count(0) > 100, count


# Protection of a report's figures ---------------------------------------------------------------

RULES = [
    Rule("items", zero_exact=True),
    Rule("hours", unit="hours", follows=("items",)),
    Rule("median", unit="days", follows=("items",)),
    Rule("women", zero_exact=False),
]


def published(
    protection: Protection, values: dict[str, Any], rules: list[Rule] = RULES, cell: str = "a"
) -> dict[str, tuple[Any, bool]]:
    return protection.published(values, rules, scope="EWI", period=f"2026-Q2/{cell}")


class TestSmallFiguresAndTheFiguresThatFollowThem:
    def test_c_exactly_for_a_published_count_from_1_to_the_threshold(self) -> None:
        """Whether a figure is `c` is decided by the published count, not the true one: a true 3
        published as 5 is shown, a true 6 published as 4 is hidden."""
        protection = Protection(KEY, threshold=4)
        seen: Counter[tuple[int, Any]] = Counter()
        for n, cell in enumerate(CELLS[:3000]):
            count = n % 12
            values = {"items": count, "hours": None, "median": None, "women": count}
            got = published(protection, values, cell=cell)
            want = published_count(KEY, count, zero_exact=True, cell=f"EWI|2026-Q2/{cell}|items")
            hidden = 1 <= want <= 4
            assert got["items"] == (None if hidden else want, hidden)
            seen[count, "c" if hidden else "shown"] += 1
        assert seen[3, "shown"] and seen[6, "c"] and seen[5, "c"]
        assert not seen[0, "c"]  # an event's 0 is 0, shown

    def test_a_figure_that_follows_a_hidden_count_is_hidden(self) -> None:
        protection = Protection(KEY, threshold=4)
        for cell in CELLS[:300]:
            values = {"items": 3, "hours": 36.0, "median": 2, "women": 9}
            got = published(protection, values, cell=cell)
            hidden = got["items"][1]
            assert got["hours"] == ((None, True) if hidden else (35, False))
            assert got["median"] == ((None, True) if hidden else (2, False))

    def test_hours_are_rounded_to_5(self) -> None:
        protection = Protection(KEY, threshold=4)
        for hours, rounded in ((36.0, 35), (38.0, 40), (1249.9, 1250), (2.4, 0), (0, 0)):
            got = published(protection, {"items": 50, "hours": hours, "median": 3, "women": 9})
            assert got["hours"] == (rounded, False), hours

    def test_a_cost_avoided_is_the_published_count_times_the_unit_cost(self) -> None:
        """A cost divided by its (published) unit cost gives the published count, never the
        true one; the total, listed before the costs it adds up, is their sum, and hidden with
        either of them. The unit costs are test_costs_avoided.py's."""
        rules = [
            Rule("total", unit="pounds", follows=("child_cost", "baby_cost")),
            Rule("children"),
            Rule("in_need"),
            Rule("protection"),
            Rule("child_cost", unit="pounds", follows=("children",)),
            Rule("baby_cost", unit="pounds", follows=("in_need", "protection")),
        ]
        protection = Protection(KEY, threshold=4)
        moved = 0
        for cell in CELLS[:400]:
            values = {"children": 20, "in_need": 9, "protection": 11}
            values |= {"child_cost": 20 * 12_000.5, "baby_cost": 20 * 20_000.0}
            values["total"] = values["child_cost"] + values["baby_cost"]
            got = published(protection, values, rules, cell=cell)
            children, in_need, kept = (got[k][0] for k in ("children", "in_need", "protection"))
            if None in (in_need, kept):
                assert got["baby_cost"] == (None, True)
                assert got["total"] == (None, True)
                continue
            assert got["child_cost"] == (pytest.approx(children * 12_000.5), False)
            assert got["baby_cost"] == ((in_need + kept) * 20_000, False)
            assert got["total"][0] == pytest.approx(got["child_cost"][0] + got["baby_cost"][0])
            moved += (children, in_need + kept) != (20, 20)
        assert moved > 100

    def test_a_cost_not_available_stays_not_available(self) -> None:
        rules = [Rule("kept"), Rule("cost", unit="pounds", follows=("kept",))]
        got = published(Protection(KEY, 4), {"kept": 12, "cost": None}, rules)
        assert got["cost"] == (None, False)


class TestExactFigures:
    def test_without_a_key_the_true_counts_are_published(self) -> None:
        """`Protection(key=None)`: the tests of the counting (app.state.exact_report_figures)."""
        exact = Protection(None, threshold=4)
        for count in range(0, 30):
            got = published(exact, {"items": count, "hours": 36.5, "median": 2, "women": count})
            small = 1 <= count <= 4
            assert got["items"] == got["women"] == (None if small else count, small)
            assert got["hours"] == ((None, True) if small else (36.5, False))
        assert published_count(None, 0, zero_exact=False, cell=CELL) == 0
        assert published_count(None, 3, zero_exact=True, cell=CELL) == 3

    def test_with_no_threshold_nothing_is_c(self) -> None:
        got = published(Protection(None, 0), {"items": 1, "hours": 2.5, "median": 1, "women": 2})
        assert got == {
            "items": (1, False),
            "hours": (2.5, False),
            "median": (1, False),
            "women": (2, False),
        }


# The key --------------------------------------------------------------------------------------

POSTGRES = "postgresql://db/tac"


class TestTheKey:
    def test_production_refuses_to_start_without_a_report_key(self) -> None:
        with pytest.raises(ValidationError, match="TAC_REPORT_KEY"):
            Settings(environment="production", database_url=POSTGRES)
        with pytest.raises(ValidationError, match="at least 32"):
            Settings(environment="production", database_url=POSTGRES, report_key="k" * 31)
        settings = Settings(environment="production", database_url=POSTGRES, report_key="k" * 32)
        assert report_protection(settings).key == b"k" * 32

    def test_from_the_environment_and_never_shown(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TAC_REPORT_KEY", "a report key of thirty-two chars.")
        settings = Settings(environment="production", database_url=POSTGRES)
        assert settings.report_key is not None
        assert "thirty-two" not in repr(settings) and "thirty-two" not in str(settings.report_key)

    def test_development_has_a_key_of_its_own(self) -> None:
        """Not the true counts: a development or test deployment publishes perturbed figures."""
        protection = report_protection(Settings())
        assert protection.key and protection.threshold == 4
        assert report_protection(Settings(), exact=True).key is None
        other = report_protection(Settings(report_key="x" * 32))
        assert other.key != protection.key


# Through the governor's report ------------------------------------------------------------------

YEAR = quarters_between(date(2024, 1, 1), date(2024, 12, 31))
# Hearings of the small world, a quarter of 2024 each (and one before): a few, many, none.
HEARINGS = {date(2023, 11, 6): 6, YEAR[0].start: 3, YEAR[1].start: 8, YEAR[3].start: 13}


@pytest.fixture(scope="module")
def world(module_api: Api) -> Iterator[Api]:
    api = module_api
    mothers = [
        api.mother(reception_date="2023-06-01", supported_from="2023-07-03", ethnicity=ethnicity)
        for ethnicity in ("white_british", "black_african", "white_british", None, "asian_indian")
    ]
    children = [api.child(mother["id"], first_name=f"Nia{n}") for n, mother in enumerate(mothers)]
    for first, many in HEARINGS.items():
        for n in range(many):
            starts = first + timedelta(days=10 + n)
            body = {
                "mother_id": mothers[n % 5]["id"],
                "child_ids": [children[n % 5]["id"]],
                "court_name": "Bristol Civil and Family Justice Centre",
                "hearing_type": "case_management",
                "starts_at": f"{starts}T10:00:00Z",
                "notified_at": f"{starts - timedelta(days=n % 9)}T10:00:00Z",
            }
            response = api.post("admin", "/v1/court-hearings", body)
            assert response.status_code == 201, response.text
    yield api


def governor(api: Api, start: date, end: date) -> Any:
    return api.get("ewi_governor", "/v1/reports/governor", params={"from": start, "to": end})


def body_of(api: Api, quarter: Any) -> dict[str, Any]:
    response = governor(api, quarter.start, quarter.end)
    assert response.status_code == 200, response.text
    return response.json()


def figures(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for s in body["sections"] for f in s["figures"]}


class TestTheGovernorsQuarter:
    @pytest.mark.parametrize("n", range(4))
    def test_each_quarter_beside_the_one_before(self, world: Api, n: int) -> None:
        body = body_of(world, YEAR[n])
        before = YEAR[n - 1] if n else quarters_between(date(2023, 10, 1), date(2023, 10, 1))[0]
        assert body["period"] == {"from": str(YEAR[n].start), "to": str(YEAR[n].end)}
        assert body["previous_period"] == {"from": str(before.start), "to": str(before.end)}
        if n == 0:  # January to March is beside October to December of the year before
            assert body["previous_period"] == {"from": "2023-10-01", "to": "2023-12-31"}

    @pytest.mark.parametrize(
        ("start", "end", "field"),
        [
            ("2024-04-01", "2024-04-30", "to"),  # a month
            ("2024-04-02", "2024-06-30", "from"),  # not from the quarter's first day
            ("2024-04-01", "2024-06-29", "to"),  # not to its last
            ("2024-04-01", "2024-09-30", "to"),  # two quarters
        ],
    )
    def test_anything_but_one_quarter_is_a_problem(
        self, world: Api, start: str, end: str, field: str
    ) -> None:
        response = governor(world, date.fromisoformat(start), date.fromisoformat(end))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field]

    def test_the_trend_four_quarters_oldest_first(self, world: Api) -> None:
        body = body_of(world, YEAR[2])
        trend = body["trend"]
        spans = quarters_between(date(2023, 10, 1), YEAR[2].start)
        assert [q["period"] for q in trend["quarters"]] == [
            {"from": str(q.start), "to": str(q.end)} for q in spans
        ]
        assert [q["key"] for q in trend["quarters"]] == ["2023-10", "2024-01", "2024-04", "2024-07"]
        shown = figures(body)
        assert [f["key"] for f in trend["figures"]] == list(TREND_KEYS)
        for figure in trend["figures"]:
            assert len(figure["values"]) == 4
            # Its own quarter last, the quarter before third: the report's own two columns.
            assert figure["values"][3] == shown[figure["key"]]["current"], figure["key"]
            assert figure["values"][2] == shown[figure["key"]]["previous"], figure["key"]
            assert figure["stock"] == shown[figure["key"]]["stock"], figure["key"]
        # An older quarter's, the same figure as that quarter's own report shows.
        older = figures(body_of(world, YEAR[0]))
        for figure in trend["figures"]:
            assert figure["values"][1] == older[figure["key"]]["current"], figure["key"]
        hearings = next(f for f in trend["figures"] if f["key"] == "hearings.listed")
        assert [cell["value"] is None for cell in hearings["values"]] != [True] * 4


class TestPublishedFigures:
    def test_the_same_report_twice_has_the_same_figures(self, world: Api) -> None:
        first, again = body_of(world, YEAR[3]), body_of(world, YEAR[3])
        assert first["sections"] == again["sections"]
        assert first["trend"] == again["trend"]

    def test_each_figure_is_the_disclosure_rules_of_its_true_count(self, world: Api) -> None:
        """The published figure of each count is `published_count` of the true count, keyed by
        the prison, the quarter and the figure; `c` from 1 to the threshold; stocks marked."""
        with exact_figures(world, threshold=0):
            true = figures(body_of(world, YEAR[3]))
        body = body_of(world, YEAR[3])
        assert body["perturbation"]["applied"] is True
        assert body["perturbation"]["unperturbed_share"] == 0.5
        protection = report_protection(world.client.app.state.settings)  # type: ignore[attr-defined]
        threshold = body["suppression"]["threshold"]
        moved = 0
        for key, figure in figures(body).items():
            stock = key.startswith(("women.active", "children.", "demographics."))
            assert figure["stock"] == stock, key
            if figure["unit"] != "count":
                continue
            # Only totals of events keep an exact zero: no stock, part or attribute.
            if figure["exact_zero"]:
                assert not stock and not figure["part_of"], key
            for column, quarter in (("current", "2024-Q4"), ("previous", "2024-Q3")):
                count = true[key][column]["value"]
                cell = f"EWI|{quarter}|{key}"
                want = published_count(
                    protection.key, count, zero_exact=figure["exact_zero"], cell=cell
                )
                hidden = 1 <= want <= threshold
                assert figure[column] == {"value": None if hidden else want, "suppressed": hidden}
                moved += want != count
        assert moved > 0
        # The world's true counts, to be sure the report above is of them.
        assert true["hearings.listed"]["current"]["value"] == 13
        assert true["hearings.listed"]["previous"]["value"] == 0
        assert true["women.active"]["current"]["value"] == 5


# Zeros, medians and what follows a count published as 0 (the review of issue 18) -------------


def test_only_a_total_of_events_keeps_an_exact_zero() -> None:
    """A lone woman released in the quarter: with an exact 0 beside a perturbed part, her plan's
    completeness would be told. So parts, attributes of events and stocks are all perturbed at
    zero, and only a total of events is not."""
    from tac_api.reports.catalogue import Spec

    assert Spec("releases.due", "Releases due").zero_exact
    assert not Spec("releases.with", "With a plan", part_of="releases.due").zero_exact
    assert not Spec("hearings.late_notice", "Late", attribute=True).zero_exact
    assert not Spec("women.active", "Women", stock=True).zero_exact
    assert not Spec("evidence.hours", "Hours", unit="hours").zero_exact
    zeros = Counter(published_count(KEY, 0, zero_exact=False, cell=cell) for cell in CELLS)
    assert zeros[0] < len(CELLS) * 0.85  # a part of 0 is sometimes shown above it


def test_a_figure_following_a_count_published_as_0_is_what_0_would_give() -> None:
    """Hours, a median or a cost beside a count published as 0 would tell the 0 was not true."""
    protection = Protection(KEY, 4)
    rules = [
        Rule("items"),
        Rule("hours", unit="hours", follows=("items",)),
        Rule("median", unit="days", follows=("items",)),
    ]
    seen = 0
    for cell in CELLS[:2000]:
        out = protection.published(
            {"items": 2, "hours": 12.0, "median": 7.0}, rules, scope="EWI", period=cell
        )
        if out["items"] == (0, False):
            seen += 1
            assert out["hours"] == (0, False)
            assert out["median"] == (None, False)
    assert seen > 50


@pytest.mark.parametrize(
    ("histogram", "median"),
    [({}, None), ({3: 1}, None), ({3: 2, 10: 2}, None), ({1: 1, 2: 1, 3: 1, 4: 1, 9: 1}, 3)],
)
def test_a_median_of_fewer_than_five_is_not_given(
    histogram: dict[int, int], median: float | None
) -> None:
    from tac_api.reports.records import median_of

    assert median_of(histogram) == median
