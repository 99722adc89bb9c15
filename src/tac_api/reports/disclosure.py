"""Disclosure control: what a report publishes instead of the counts themselves.

Designed against the reader who asks for everything the API allows, not against one report.
With 35 to 100 women a prison, all of whom staff can name, suppressing small counts within one
table is not enough: two reports of overlapping periods, or of consecutive ones, subtract to
what was hidden (April to June less May to June is April; one woman joins, and the difference in
a stock figure describes her). So:

- Every report is of fixed periods: calendar quarters (`service.check_span`), so no two periods
  overlap and no event can be isolated by subtraction over time.
- Every count is perturbed, as the Office for National Statistics' cell key method did for
  Census 2021 and the ABS's TableBuilder does: a small random amount added to the true count,
  drawn from a published distribution by a key that only the service can make (an HMAC with
  `TAC_REPORT_KEY` of the figure, the population it is of, the quarter and the true count). The
  same figure of the same records always comes out the same, however often it is asked for, so
  asking again and averaging teaches nothing. Unlike the ONS's key, ours includes the quarter:
  with a key of the records alone, a stock figure whose records did not change between two
  quarters would come out unchanged, and the one that did change would single out whoever
  joined.
- The amount has no bound a reader can rely on (a two-sided geometric distribution: half of all
  figures are the count itself, 94 in 100 within 2 of it), so no published figure, difference or
  sum ever rules a value out: a hidden count cannot be worked out, only guessed at.
- Totals of events (hearings listed, visits held...) keep their zeros exact: nothing happened is
  shown as 0, and something happened is never shown as 0. Every other count is perturbed at zero
  too: counts of who the women and children are (stocks: women supported, children, age,
  ethnicity, domestic abuse, caseloads), where a zero that stayed zero would tell, a quarter
  later, which group a newcomer joined; and the parts of a breakdown and attributes of events
  (plans complete, referred by whom, notified late), where with one woman released or referred
  in the quarter an exact zero would tell which part was hers.
- A published count from 1 to the threshold is then shown as `c` (the DfE's convention): a
  small figure, after perturbation, is not printed. Hiding it decides nothing about the true
  count, so no second cell needs hiding: parts are perturbed apart from their totals and do not
  add up exactly, and a hidden part cannot be worked out from them.
- A figure derived from counts follows them: hidden with them, and worked out from the published
  count where a reader could divide it back out (a cost avoided is the published count times the
  unit cost), and shown as a count of 0 would give where its count is published as 0; hours are
  rounded to 5, so that a hidden category's hours cannot be recovered exactly from the total's;
  a median of fewer than five is not published (`z`).
"""

import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Number = int | float

# P(noise = k) = (1 - ALPHA) / (1 + ALPHA) * ALPHA ** |k|: half of all figures unperturbed.
ALPHA = 1 / 3
UNPERTURBED = (1 - ALPHA) / (1 + ALPHA)
# The noise's whole range: its draw has 64 bits, so no amount beyond this can come out. Published,
# so that a reader knows what a figure cannot be, and finds it is nothing a count could not be.
LARGEST_NOISE = 1 + math.floor(math.log(2**-64) / math.log(ALPHA))
HOURS_BASE = 5
MEDIANS = frozenset({"days", "women"})  # units of the figures that are medians
DEVELOPMENT_KEY = b"tac-api development report key: never for real figures"


@dataclass(frozen=True)
class Rule:
    """How one figure is protected."""

    key: str
    unit: str = "count"
    # A count whose 0 is published as 0 (and never a count above it as 0): only a total of
    # events. Every other zero is perturbed too: a count of who people are (a group's zero that
    # stayed zero would tell which group a newcomer joined), and every part of a breakdown or
    # attribute of events (a lone woman released in the quarter: a plan complete, 0 or not).
    zero_exact: bool = False
    # The counts this figure is derived from: hidden whenever any of them is.
    follows: tuple[str, ...] = ()


@dataclass(frozen=True)
class Protection:
    """Everything a report's protection needs: the service's key and the `c` threshold.

    `key=None` publishes the true counts: only the tests of the counting itself set it (on the
    application's state, never from the environment)."""

    key: bytes | None
    threshold: int

    def published(
        self, values: Mapping[str, Number | None], rules: Sequence[Rule], *, scope: str, period: str
    ) -> dict[str, tuple[Number | None, bool]]:
        """Each figure as published, (value, hidden), for one population (`scope`: a prison's
        code, or the programme's) in one quarter (`period`)."""
        by_key = {rule.key: rule for rule in rules}
        shown: dict[str, Number | None] = {}
        hidden: set[str] = set()
        for rule in rules:
            value = values[rule.key]
            if rule.unit != "count" or value is None:
                continue
            count = int(value)
            shown[rule.key] = published_count(
                self.key, count, zero_exact=rule.zero_exact, cell=f"{scope}|{period}|{rule.key}"
            )
            if self.key is not None and 1 <= shown[rule.key] <= self.threshold:  # type: ignore[operator]
                hidden.add(rule.key)
            if self.key is None and 1 <= count <= self.threshold:
                hidden.add(rule.key)
        # Derived figures after the counts, each after the derived figures it follows: a total
        # cost after the costs it adds up, though the report lists it first.
        for rule in _followers_last([rule for rule in rules if rule.unit != "count"]):
            value = values[rule.key]
            if any(source in hidden for source in rule.follows):
                hidden.add(rule.key)
            elif self.key is not None and _of_nothing(rule, shown, by_key):
                # Its count published as 0: it shows what a count of 0 would (hours 0, no
                # median), or beside the 0 it would tell that the count is not.
                shown[rule.key] = None if rule.unit in MEDIANS else 0
                continue
            shown[rule.key] = (
                value if self.key is None else _derived(rule, value, values, shown, by_key)
            )
        return {key: (None if key in hidden else shown[key], key in hidden) for key in values}


def _of_nothing(rule: Rule, shown: Mapping[str, Number | None], rules: Mapping[str, Rule]) -> bool:
    counts = [key for key in rule.follows if rules[key].unit == "count"]
    return bool(counts) and all(shown[key] == 0 for key in counts)


def _followers_last(derived: Sequence[Rule]) -> list[Rule]:
    """The derived figures in an order where each comes after every derived figure it
    follows (they do not follow each other in a circle)."""
    pending, ordered = list(derived), []
    while pending:
        waiting = {rule.key for rule in pending}
        ready = [rule for rule in pending if not waiting.intersection(rule.follows)]
        assert ready, "derived figures that follow each other in a circle"
        ordered += ready
        pending = [rule for rule in pending if rule not in ready]
    return ordered


def _derived(
    rule: Rule,
    value: Number | None,
    values: Mapping[str, Number | None],
    shown: Mapping[str, Number | None],
    rules: Mapping[str, Rule],
) -> Number | None:
    if value is None:
        return None
    if rule.unit == "hours":
        return HOURS_BASE * round(value / HOURS_BASE)
    if rule.unit == "pounds":
        counts = [key for key in rule.follows if rules[key].unit == "count"]
        if counts:
            # Cost = count x unit cost: from the published counts, or the unit cost (public)
            # would divide the true count back out.
            true = sum(values[key] or 0 for key in counts)
            published = [shown[key] for key in counts]
            if not true:
                return value
            if any(each is None for each in published):
                return None  # hidden with its count
            return _pounds(value * sum(published) / true)  # type: ignore[arg-type]
        # A total of costs: the sum of its published parts.
        parts = [shown[key] for key in rule.follows]
        return None if any(part is None for part in parts) else _pounds(sum(parts))  # type: ignore[arg-type]
    return value  # a median: of five or more (`records.median_of`), or hidden with its base


def _pounds(value: float) -> Number:
    pence = round(value * 100)
    return pence // 100 if pence % 100 == 0 else pence / 100


def published_count(key: bytes | None, count: int, *, zero_exact: bool, cell: str) -> int:
    """A count as published: the count plus its noise, never below 0; where zeros are exact
    (a total of events), 0 stays 0 and a count above it stays at least 1."""
    if key is None:
        return count
    if count == 0 and zero_exact:
        return 0
    noisy = count + noise(key, f"{cell}|{count}")
    return max(noisy, 1 if zero_exact else 0)


def noise(key: bytes, cell: str) -> int:
    """A two-sided geometric amount, drawn by the cell's HMAC: the same cell and count always
    draw the same amount."""
    digest = hmac.new(key, cell.encode(), hashlib.sha256).digest()
    first = int.from_bytes(digest[:8], "big") / 2**64
    if first < UNPERTURBED:
        return 0
    # Beyond zero: |k| >= 1 with P proportional to ALPHA ** |k|, by the inverse of its CDF.
    uniform = (int.from_bytes(digest[8:16], "big") + 1) / 2**64  # in (0, 1]
    size = 1 + math.floor(math.log(uniform) / math.log(ALPHA))
    return size if digest[16] & 1 else -size
