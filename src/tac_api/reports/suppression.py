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
    follows: str | None = None  # a figure derived from this count: hidden whenever it is


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
    followers = [(rule.key, rule.follows) for rule in rules if rule.follows is not None]
    counted = {rule.key for rule in rules if rule.counted}

    # Hiding one cell can expose another total, so repeat until nothing changes; each pass hides
    # at least one more cell or stops, so this ends.
    changed = True
    while changed:
        changed = False
        for key, source in followers:
            if source in hidden and key not in hidden:
                hidden.add(key)
                changed = True
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
    return hidden


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
