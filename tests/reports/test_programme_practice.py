"""The programme report's figures of the practice around her: groups, caseloads at each
quarter's end and onward referrals at release, over both prisons, quarter by quarter.

One world for the module, written below the API (the groups' and onward referrals' routes are
another package's; allocations here end and workers leave in a past the API refuses), with its
figures worked out here from the same description: every figure exact when shown (the true
counts), small counts suppressed, parts adding up, quarter boundaries on both sides, a fixed
number of statements."""

import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tac_api.groups.models import GroupAttendance, GroupSession
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.organisations.models import Organisation
from tac_api.release.models import OnwardReferral, ReleasePlan
from tac_api.reports.service import Span, quarters_between
from tac_api.staff.models import Allocation, StaffMember
from tests.support.api import Api
from tests.support.bodies import mother_row
from tests.support.reports import exact_figures
from tests.support.rows import row, write
from tests.support.sql import counting

EWI, SDI = "EWI", "SDI"
FROM, TO = date(2024, 10, 1), date(2025, 9, 30)
QUARTERS = quarters_between(FROM, TO)  # Oct-Dec 2024 to Jul-Sep 2025
LOWER, UPPER = 3, 5  # the caseload guide for this world: small enough to cross
D = date.fromisoformat


# The world ------------------------------------------------------------------------------------


@dataclass
class Woman:
    key: str
    prison: str = EWI
    supported_from: str = "2024-11-01"
    closed_on: str | None = None
    # Her stays: (prison, arrived, left); by default one in her prison since June 2024.
    stays: list[tuple[str, str, str | None]] = field(default_factory=list)
    # Her allocations: (worker, allocated on, ended on).
    allocations: list[tuple[str, str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stays = self.stays or [(self.prison, "2024-06-01", None)]


# Workers: prison, left on.
WORKERS = {
    "K1": (EWI, None),
    "K2": (EWI, None),
    "K3": (EWI, None),
    "K4": (EWI, None),
    "K5": (EWI, "2025-06-30"),
    "K6": (EWI, None),
    "K7": (SDI, None),
    "K8": (EWI, None),  # allocated no one: not a worker with women
}


def women() -> list[Woman]:
    found = [Woman(f"M{i}", allocations=[("K1", "2024-11-01", None)]) for i in (1, 2, 3)]
    # M1's case closed in August, her allocation left open: off every caseload all the same.
    found[0].closed_on = "2025-08-01"
    found += [Woman(f"M{i}", allocations=[("K1", "2025-01-05", None)]) for i in (4, 5)]
    found += [Woman(f"M{i}", allocations=[("K2", "2025-01-05", None)]) for i in (6, 7, 8, 9)]
    found += [Woman(f"M{i}", allocations=[("K3", "2025-01-05", None)]) for i in (10, 11, 12)]
    found.append(Woman("M13", allocations=[("K4", "2025-01-05", None)]))
    # K5 left on the last day of June, when M14's allocation ended: unallocated from then.
    found.append(Woman("M14", allocations=[("K5", "2025-01-05", "2025-06-30")]))
    found += [Woman(f"S{i}", SDI, allocations=[("K7", "2025-01-05", None)]) for i in range(1, 6)]
    # Reallocated from K6 to K1 on the quarter's last day: K1's at its end, not K6's.
    found.append(
        Woman("A", allocations=[("K6", "2025-01-10", "2025-03-31"), ("K1", "2025-03-31", None)])
    )
    # Supported from February, allocated only from the next quarter's first day.
    found.append(Woman("B", supported_from="2025-02-01", allocations=[("K2", "2025-04-01", None)]))
    # Moved to Send in March, still allocated to an Eastwood Park worker: on no one's caseload
    # until Send's worker takes her on.
    found.append(
        Woman(
            "T",
            stays=[(EWI, "2024-06-01", "2025-03-15"), (SDI, "2025-03-15", None)],
            allocations=[("K2", "2025-01-05", "2025-04-10"), ("K7", "2025-04-10", None)],
        )
    )
    # Never allocated.
    found.append(Woman("U1"))
    # Closed on the quarter's last day: not supported at its end.
    found.append(Woman("C", closed_on="2025-03-31", allocations=[("K3", "2025-01-05", None)]))
    # Released in February: still supported, on her last prison's caseload.
    found.append(
        Woman(
            "D",
            stays=[(EWI, "2024-06-01", "2025-02-01")],
            allocations=[("K4", "2025-01-05", None)],
        )
    )
    # Supported from the second quarter of 2025.
    found.append(Woman("F", supported_from="2025-04-01", allocations=[("K3", "2025-04-02", None)]))
    return found


# Group sessions: (prison, held on, register rows as (woman, check-in, check-out, followed up)).
LOWER_ROWS = [(4, 2, True)] * 5 + [(3, 1, False)]
SAME_OR_HIGHER = [(2, 3, False)] * 5 + [(3, 3, False)] * 5
UNRECORDED = [(3, None, False)] * 2 + [(None, None, False), (None, 4, False)]


def sessions() -> list[tuple[str, str, list[tuple[str, int | None, int | None, bool]]]]:
    marks = iter(LOWER_ROWS + SAME_OR_HIGHER + UNRECORDED)
    q1 = [
        (EWI, "2025-01-01", ["M1", "M2", "M3", "M4"]),
        (EWI, "2025-01-15", ["M1", "M2", "M3", "M4"]),
        (EWI, "2025-02-12", ["M1", "M2", "M3", "M4"]),
        (EWI, "2025-03-31", ["M1", "M2", "M3", "M4"]),
        (SDI, "2025-03-05", ["S1", "S2"]),
        (SDI, "2025-03-19", ["S1", "S2"]),
    ]
    found = [(p, held, [(w, *next(marks)) for w in who]) for p, held, who in q1]
    found += [
        # The day before the first of the report's 2025 quarters, and the day after the last.
        (EWI, "2024-12-31", [("M1", 2, 1, False)]),
        (EWI, "2025-10-01", [("M1", 2, 1, False)]),
        (EWI, "2025-04-01", [(w, 2, 2, False) for w in ("M1", "M2", "M3", "M4", "M5", "M6")]),
        (SDI, "2025-06-30", [("S1", 5, 1, False)]),
        (EWI, "2025-09-30", [("M1", 3, 4, False), ("M2", 3, 3, False)]),
        (SDI, "2025-08-06", []),  # nobody came
    ]
    return found


# Onward referrals: made, accepted, declined, first contact.
ONWARD = [
    ("2024-12-31", "2025-01-02", None, "2025-04-01"),
    ("2025-01-01", "2025-01-20", None, "2025-05-05"),
    ("2025-01-20", "2025-03-31", None, "2025-06-30"),
    ("2025-02-02", None, "2025-02-20", None),
    ("2025-02-28", "2025-04-01", None, "2025-07-01"),
    ("2025-03-10", None, None, None),
    ("2025-03-31", "2025-04-15", None, "2025-09-30"),
    ("2025-04-01", "2025-06-30", None, None),
    ("2025-10-01", "2025-10-02", None, None),
]


def build(api: Api) -> list[Woman]:
    made = datetime(2024, 6, 1, tzinfo=UTC)
    everyone = women()
    mothers = {}
    for n, woman in enumerate(everyone):
        mothers[woman.key] = mother_row(
            made,
            prison_number=f"P{n:04d}PQ",
            first_name=f"Siân {woman.key}",
            prison_code=woman.stays[-1][0],
            status="closed" if woman.closed_on else "active",
            supported_from=D(woman.supported_from),
            closed_on=D(woman.closed_on) if woman.closed_on else None,
        )
    write(api, Mother, list(mothers.values()))
    ids = {key: mother["id"] for key, mother in mothers.items()}
    write(
        api,
        PrisonStay,
        [
            row(
                PrisonStay,
                mother_id=ids[w.key],
                prison_code=prison,
                arrived_on=D(arrived),
                left_on=D(left) if left else None,
            )
            for w in everyone
            for prison, arrived, left in w.stays
        ],
    )
    staff = {
        key: row(
            StaffMember,
            prison_code=prison,
            name=f"Gwen {key}",
            role="prison_social_worker",
            left_on=D(left) if left else None,
        )
        for key, (prison, left) in WORKERS.items()
    }
    write(api, StaffMember, list(staff.values()))
    who = {"changed_by_name": "Test", "changed_by_role": "admin"}
    write(
        api,
        Allocation,
        [
            row(
                Allocation,
                mother_id=ids[w.key],
                staff_member_id=staff[worker]["id"],
                allocated_on=D(start),
                ended_on=D(end) if end else None,
                **who,
            )
            for w in everyone
            for worker, start, end in w.allocations
        ],
    )
    held = [
        row(GroupSession, prison_code=p, held_on=D(on), activity="Memory boxes")
        for p, on, _ in sessions()
    ]
    write(api, GroupSession, held)
    write(
        api,
        GroupAttendance,
        [
            row(
                GroupAttendance,
                group_session_id=session["id"],
                mother_id=ids[woman],
                check_in=check_in,
                check_out=check_out,
                follow_up_done_on=session["held_on"] if done else None,
            )
            for session, (_, _, register) in zip(held, sessions(), strict=True)
            for woman, check_in, check_out, done in register
        ],
    )
    pause = row(Organisation, name="Pause Bristol", service_type="birth_mothers")
    write(api, Organisation, [pause])
    plans = [
        row(ReleasePlan, mother_id=ids[key], accommodation_status="unknown")
        for key in ("M1", "M2", "S1")
    ]
    write(api, ReleasePlan, plans)
    write(
        api,
        OnwardReferral,
        [
            row(
                OnwardReferral,
                release_plan_id=plans[n % 3]["id"],
                organisation_id=pause["id"],
                made_on=D(made_on),
                accepted_on=D(accepted) if accepted else None,
                declined_on=D(declined) if declined else None,
                first_contact_on=D(first) if first else None,
            )
            for n, (made_on, accepted, declined, first) in enumerate(ONWARD)
        ],
    )
    return everyone


# The figures, worked out here ----------------------------------------------------------------


def on(day: str | None, start: str, end: str | None) -> bool:
    """`day` within [start, end): the end day no longer counts."""
    return day is not None and D(start) <= D(day) and (end is None or D(day) < D(end))


def expected(everyone: list[Woman], quarter: Span) -> dict[str, float | int | None]:
    figures: Counter[str] = Counter()
    # Groups, by the day each session was held.
    seen: set[str] = set()
    for _, held, register in sessions():
        if not quarter.start <= D(held) <= quarter.end:
            continue
        figures["groups.sessions_held"] += 1
        for woman, check_in, check_out, done in register:
            figures["groups.attendances"] += 1
            seen.add(woman)
            if check_in is None or check_out is None:
                figures["groups.check_out.not_recorded"] += 1
            elif check_out < check_in:
                figures["groups.check_out.lower"] += 1
                figures[f"groups.follow_up.{'done' if done else 'not_done'}"] += 1
            else:
                figures["groups.check_out.same_or_higher"] += 1
    figures["groups.women_attended"] = len(seen)
    # Caseloads at the end of the quarter's last day.
    end = str(quarter.end)
    sizes: Counter[str] = Counter()
    for w in everyone:
        if D(w.supported_from) > quarter.end or (w.closed_on and D(w.closed_on) <= quarter.end):
            continue
        figures["caseloads.women_supported"] += 1
        held_in = max((s for s in w.stays if D(s[1]) <= quarter.end), key=lambda s: s[1])[0]
        workers = [
            worker
            for worker, start, stop in w.allocations
            if on(end, start, stop)
            and WORKERS[worker][0] == held_in
            and on(end, "2000-01-01", WORKERS[worker][1])
        ]
        assert len(workers) <= 1
        if workers:
            figures["caseloads.women.allocated"] += 1
            sizes[workers[0]] += 1
        else:
            figures["caseloads.women.unallocated"] += 1
    figures["caseloads.workers"] = len(sizes)
    for size in sizes.values():
        band = "over" if size > UPPER else "under" if size < LOWER else "within"
        figures[f"caseloads.workers_by_guide.{band}"] += 1
    # A median of fewer than five workers is not given.
    median = statistics.median(sizes.values()) if len(sizes) >= 5 else None
    # Onward referrals, each step in the quarter it was taken.
    for made_on, accepted, declined, first in ONWARD:
        for key, day in (
            ("made", made_on),
            ("accepted", accepted),
            ("declined", declined),
            ("first_contacts", first),
        ):
            figures[f"onward.{key}"] += day is not None and quarter.start <= D(day) <= quarter.end
    return {**figures, "caseloads.median_women_per_worker": median}


# The report -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(module_api: Api) -> Iterator[tuple[Api, list[Woman]]]:
    settings = module_api.client.app.state.settings  # type: ignore[attr-defined]
    guide = settings.caseload_guide_lower, settings.caseload_guide_upper
    settings.caseload_guide_lower, settings.caseload_guide_upper = LOWER, UPPER
    try:
        yield module_api, build(module_api)
    finally:
        settings.caseload_guide_lower, settings.caseload_guide_upper = guide


def programme(api: Api, threshold: int | None = None, **query: str) -> dict[str, Any]:
    """The report of the true counts (these are tests of the counting), read as
    TAC_REPORT_SUPPRESSION_THRESHOLD=threshold would if it is given."""
    params = {"from": str(FROM), "to": str(TO), **query}
    with exact_figures(api, threshold):
        response = api.get("admin", "/v1/reports/programme", params=params)
    assert response.status_code == 200, response.text
    return response.json()


SECTIONS = ("groups", "caseloads", "onward")


def ours(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for s in body["sections"] if s["key"] in SECTIONS for f in s["figures"]}


def by_quarter(body: dict[str, Any], key: str) -> list[Any]:
    return [cell["value"] for cell in ours(body)[key]["values"]]


class TestPractice:
    def test_every_figure_exact_and_its_parts_adding_up(
        self, world: tuple[Api, list[Woman]]
    ) -> None:
        api, everyone = world
        body = programme(api, threshold=0)
        figures = ours(body)
        assert [s["key"] for s in body["sections"] if s["key"] in SECTIONS] == list(SECTIONS)
        wanted = [expected(everyone, quarter) for quarter in QUARTERS]
        for key, figure in figures.items():
            got = [cell["value"] for cell in figure["values"]]
            assert got == [w.get(key, 0) for w in wanted], key
            assert not any(cell["suppressed"] for cell in figure["values"]), key
        # Nothing counted that is not shown, and the parts of every total add up.
        assert {k for w in wanted for k in w} <= set(figures)
        totals: dict[tuple[str, str], list[str]] = {}
        for key, figure in figures.items():
            if figure["part_of"]:
                totals.setdefault((figure["part_of"], figure["breakdown"]), []).append(key)
        assert len(totals) == 4
        for (total, _), parts in totals.items():
            for n in range(len(QUARTERS)):
                assert sum(by_quarter(body, p)[n] for p in parts) == by_quarter(body, total)[n]

    def test_groups_by_hand(self, world: tuple[Api, list[Woman]]) -> None:
        api, _ = world
        body = programme(api, threshold=0)
        # Sessions on the quarter's first and last days count in it; the day before the
        # first and after the last do not.
        assert by_quarter(body, "groups.sessions_held") == [1, 6, 2, 2]
        assert by_quarter(body, "groups.attendances") == [1, 20, 7, 2]
        assert by_quarter(body, "groups.women_attended") == [1, 6, 7, 2]
        assert by_quarter(body, "groups.check_out.lower") == [1, 6, 1, 0]
        assert by_quarter(body, "groups.check_out.same_or_higher") == [0, 10, 6, 2]
        assert by_quarter(body, "groups.check_out.not_recorded") == [0, 4, 0, 0]
        assert by_quarter(body, "groups.follow_up.done") == [0, 5, 0, 0]
        assert by_quarter(body, "groups.follow_up.not_done") == [1, 1, 1, 0]

    def test_caseloads_by_hand(self, world: tuple[Api, list[Woman]]) -> None:
        api, _ = world
        body = programme(api, threshold=0)
        # End of December 2024: K1's three. End of March: K1 6 (A reallocated to her that
        # day), K2 4, K3 3, K4 2 (D released), K5 1, K7 5; B, T (moved) and U1 unallocated,
        # C (closed that day) not supported. End of June: K5 gone (M14 unallocated), B and T
        # (K7 now) and F allocated. End of September: M1 closed.
        assert by_quarter(body, "caseloads.workers") == [1, 6, 5, 5]
        # A median of fewer than five workers is not given: K1's alone would be hers.
        assert by_quarter(body, "caseloads.median_women_per_worker") == [None, 3.5, 5, 5]
        assert by_quarter(body, "caseloads.workers_by_guide.over") == [0, 1, 2, 1]
        assert by_quarter(body, "caseloads.workers_by_guide.within") == [1, 3, 2, 3]
        assert by_quarter(body, "caseloads.workers_by_guide.under") == [0, 2, 1, 1]
        assert by_quarter(body, "caseloads.women_supported") == [24, 24, 25, 24]
        assert by_quarter(body, "caseloads.women.unallocated") == [21, 3, 2, 2]
        labels = {key: f["label"] for key, f in ours(body).items()}
        assert labels["caseloads.workers_by_guide.over"] == "Over the guide (more than 5 women)"
        assert ours(body)["caseloads.median_women_per_worker"]["unit"] == "women"

    def test_onward_referrals_by_hand(self, world: tuple[Api, list[Woman]]) -> None:
        api, _ = world
        body = programme(api, threshold=0)
        assert by_quarter(body, "onward.made") == [1, 6, 1, 0]
        assert by_quarter(body, "onward.accepted") == [0, 3, 3, 0]
        assert by_quarter(body, "onward.declined") == [0, 1, 0, 0]
        assert by_quarter(body, "onward.first_contacts") == [0, 0, 3, 2]

    def test_small_counts_are_suppressed(self, world: tuple[Api, list[Woman]]) -> None:
        api, everyone = world
        body = programme(api)
        assert body["suppression"]["threshold"] == 4
        for key, figure in ours(body).items():
            for quarter, cell in zip(QUARTERS, figure["values"], strict=True):
                value = expected(everyone, quarter).get(key, 0)
                if figure["unit"] == "count" and value is not None and 1 <= value <= 4:
                    assert cell == {"value": None, "suppressed": True, "available": True}, (
                        key,
                        quarter,
                    )
                elif not cell["suppressed"]:
                    assert cell["value"] == value, (key, quarter)
        cells = {key: f["values"] for key, f in ours(body).items()}
        q4, q1 = 0, 1
        # One worker at the end of 2024: her median is her caseload, hidden with her.
        assert cells["caseloads.workers"][q4]["suppressed"]
        assert cells["caseloads.median_women_per_worker"][q4] == {
            "value": None,
            "suppressed": True,
            "available": True,
        }
        # Six workers at the end of March: shown, with their median.
        assert cells["caseloads.median_women_per_worker"][q1] == {
            "value": 3.5,
            "suppressed": False,
            "available": True,
        }
        # Four unrecorded check-outs: hidden, and no second part with them (the six lower
        # stay shown). One not followed up is hidden beside the five followed up.
        assert cells["groups.check_out.not_recorded"][q1]["suppressed"]
        assert cells["groups.check_out.lower"][q1] == {
            "value": 6,
            "suppressed": False,
            "available": True,
        }
        assert cells["groups.check_out.same_or_higher"][q1] == {
            "value": 10,
            "suppressed": False,
            "available": True,
        }
        assert cells["groups.follow_up.not_done"][q1]["suppressed"]
        assert cells["groups.follow_up.done"][q1] == {
            "value": 5,
            "suppressed": False,
            "available": True,
        }
        # A zero is shown.
        assert cells["groups.check_out.not_recorded"][2] == {
            "value": 0,
            "suppressed": False,
            "available": True,
        }

    def test_a_fixed_number_of_statements(self, world: tuple[Api, list[Woman]]) -> None:
        api, _ = world
        with counting(api) as one_quarter:
            programme(api, **{"from": "2025-01-01", "to": "2025-03-31"})
        with counting(api) as four_quarters:
            programme(api)
        assert len(one_quarter) == len(four_quarters)

    def test_a_quarter_with_no_one_shows_zeros_and_no_median(
        self, world: tuple[Api, list[Woman]]
    ) -> None:
        api, _ = world
        body = programme(api, **{"from": "2024-01-01", "to": "2024-03-31"})
        for key, figure in ours(body).items():
            want = None if key == "caseloads.median_women_per_worker" else 0
            assert figure["values"] == [{"value": want, "suppressed": False, "available": True}], (
                key
            )
