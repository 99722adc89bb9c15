"""Small-number protection, as official statistics in England practise it.

With 35 to 100 women a prison, a count of 1 to 4 can point at a person: such a count is
suppressed (primary suppression). Where figures add up to a total that is shown, one hidden
part could be worked out from the total and the other parts, so a second part is hidden too
(secondary suppression): the smallest other non-zero part, which gives away least. Zeros are
shown, so every hidden small count is known to lie between 1 and the threshold: where all a
sum's hidden parts are small and they add up to their least (two 1s) or their most (two 4s),
each is pinned down, and another part is hidden too. A figure derived from a suppressed count
(the hours of one woman's courses, a median of three hearings) is hidden with it. Each period
is protected on its own.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Number = int | float


@dataclass(frozen=True)
class Rule:
    """How one figure is protected."""

    key: str
    counted: bool = True  # a count of people or events: hidden from 1 to the threshold
    part_of: str | None = None  # the total it adds up to, with its sibling parts
    # Which breakdown of that total it belongs to: a total may be broken down more than one
    # way (children by legal status, and by who they live with), each its own sum.
    breakdown: str = ""
    # A figure derived from this count (or these counts): hidden whenever it is (any of them is).
    follows: str | tuple[str, ...] | None = None


def suppressed_keys(
    values: Mapping[str, Number | None], rules: Sequence[Rule], threshold: int
) -> set[str]:
    """The keys to hide, given every figure's value for one period."""
    hidden = {
        rule.key
        for rule in rules
        if rule.counted and (value := values[rule.key]) is not None and 1 <= value <= threshold
    }
    parts: dict[tuple[str, str], list[str]] = {}
    for rule in rules:
        if rule.part_of is not None:
            parts.setdefault((rule.part_of, rule.breakdown), []).append(rule.key)
    followers = [
        (rule.key, (rule.follows,) if isinstance(rule.follows, str) else rule.follows)
        for rule in rules
        if rule.follows is not None
    ]
    counted = {rule.key for rule in rules if rule.counted}

    # Hiding one cell can expose another total, so repeat until nothing changes; each pass hides
    # at least one more cell or stops, so this ends.
    changed = True
    while changed:
        changed = False
        # Every figure derived from a hidden one first (a total derived from a cost derived
        # from a count), so that no sum below takes a derived cell for a lone unknown.
        derived = True
        while derived:
            derived = False
            for key, sources in followers:
                if key not in hidden and any(source in hidden for source in sources):
                    hidden.add(key)
                    derived = changed = True
        for (total, _), members in parts.items():
            equation = [total, *members]
            unknown = [key for key in equation if key in hidden]
            if not unknown:
                continue
            # A cell without a value (a cost not available, `x`) is as unknown to a reader as a
            # hidden one: the sum cannot be solved for the hidden cell through it.
            unknown += [key for key in equation if key not in hidden and values[key] is None]
            if len(unknown) > 1 and not _pinned(values, total, unknown, counted, threshold):
                continue  # several unknowns in one sum, none of them to be worked out
            chosen = _second_cell(values, members, hidden) or _second_cell(values, [total], hidden)
            if chosen is not None:
                hidden.add(chosen)
                changed = True
        if not changed:
            # Each sum is safe on its own; a reader with all of them may still be able to work
            # a hidden cell out across them (a part that is itself a total).
            chosen = _second_cell_across(values, hidden, parts, counted)
            if chosen is not None:
                hidden.add(chosen)
                changed = True
    return hidden


Interval = tuple[float, float]
INFINITE = float("inf")
# A reader's bounds narrow a little with each pass over the sums; a chain of breakdowns is a
# few levels deep, so its bounds settle in a few passes. The cap only guards a malformed report.
MOST_PASSES = 50


def _second_cell_across(
    values: Mapping[str, Number | None],
    hidden: set[str],
    parts: Mapping[tuple[str, str], Sequence[str]],
    counted: set[str],
) -> str | None:
    """Another cell to hide where the sums together give one hidden cell away, or None.

    What a reader knows, as bounds on each cell: a shown cell exactly; a hidden count is at
    least 1 (zeros are shown); anything else hidden, or not available, at least 0. Every sum
    narrows the bounds of its members (a part lies between its total less the most and less the
    least the other parts can be; a total between the least and the most its parts can add up
    to), pass after pass until nothing narrows. A hidden cell whose bounds close on one value is
    worked out: the smallest shown non-zero cell of a sum it is in is hidden too.
    """
    equations = [[total, *members] for (total, _), members in parts.items()]
    if not any(key in hidden for equation in equations for key in equation):
        return None
    bounds: dict[str, Interval] = {}
    for equation in equations:
        for key in equation:
            value = values[key]
            if key not in hidden and value is not None:
                bounds[key] = (float(value), float(value))
            else:
                bounds[key] = (1.0 if key in counted and key in hidden else 0.0, INFINITE)
    for _ in range(MOST_PASSES):
        narrowed = False
        for total, *members in equations:
            least = sum(bounds[key][0] for key in members)
            most = sum(bounds[key][1] for key in members)
            narrowed |= _narrow(bounds, total, least, most, total in counted)
            low, high = bounds[total]
            for key in members:
                others_least = sum(bounds[k][0] for k in members if k != key)
                others_most = sum(bounds[k][1] for k in members if k != key)
                narrowed |= _narrow(
                    bounds, key, low - others_most, high - others_least, key in counted
                )
        if any(low > high for low, high in bounds.values()):
            return None  # the figures do not add up as the rules say: nothing can be told
        if not narrowed:
            break
    for key in sorted(hidden):
        if key in bounds and values[key] is not None and _closed(bounds[key], key in counted):
            sums = [equation for equation in equations if key in equation]
            chosen = _second_cell(values, [cell for equation in sums for cell in equation], hidden)
            if chosen is not None:
                return chosen
    return None


def _narrow(bounds: dict[str, Interval], key: str, low: float, high: float, whole: bool) -> bool:
    """Narrow a cell's bounds to [low, high] (whole numbers, for a count); whether they moved."""
    if whole:
        low = float(math.ceil(low - 1e-9)) if low > -INFINITE else low
        high = float(math.floor(high + 1e-9)) if high < INFINITE else high
    old_low, old_high = bounds[key]
    new = (max(old_low, low), min(old_high, high))
    if new == (old_low, old_high):
        return False
    bounds[key] = new
    return True


def _closed(interval: Interval, whole: bool) -> bool:
    """Bounds that leave one value: one whole number for a count, within a penny or a
    hundredth of an hour for anything else."""
    low, high = interval
    return high - low < (0.5 if whole else 0.011)


def _pinned(
    values: Mapping[str, Number | None],
    total: str,
    unknown: Sequence[str],
    counted: set[str],
    threshold: int,
) -> bool:
    """Whether hidden small counts of a shown total can each be worked out: each lies between
    1 and the threshold, so only a sum at the least or the most they can add up to pins them."""
    if total in unknown or not all(key in counted for key in unknown):
        return False
    if any((values[key] or 0) > threshold for key in unknown):
        return False  # a large hidden part: the sum tells nothing of the small ones
    together = sum(values[key] or 0 for key in unknown)
    return together in (len(unknown), len(unknown) * threshold)


def _second_cell(
    values: Mapping[str, Number | None], candidates: Sequence[str], hidden: set[str]
) -> str | None:
    """The smallest shown non-zero cell among the candidates: a zero hides nothing."""
    shown = [key for key in candidates if key not in hidden and values[key]]
    return min(shown, key=lambda key: (values[key], key)) if shown else None
