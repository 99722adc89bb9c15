"""Small-number protection, as official statistics in England practise it.

With 35 to 100 women a prison, a count of 1 to 4 can point at a person: such a count is
suppressed (primary suppression). Where figures add up to a total that is shown, one hidden
part could be worked out from the total and the other parts, so a second part is hidden too
(secondary suppression): the smallest other non-zero part, which gives away least. A figure
derived from a suppressed count (the hours of one woman's courses, a median of three hearings)
is hidden with it. Each period is protected on its own.
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
    parts: dict[str, list[str]] = {}
    for rule in rules:
        if rule.part_of is not None:
            parts.setdefault(rule.part_of, []).append(rule.key)
    followers = [(rule.key, rule.follows) for rule in rules if rule.follows is not None]

    # Hiding one cell can expose another total, so repeat until nothing changes; each pass hides
    # at least one more cell or stops, so this ends.
    changed = True
    while changed:
        changed = False
        for key, source in followers:
            if source in hidden and key not in hidden:
                hidden.add(key)
                changed = True
        for total, members in parts.items():
            equation = [total, *members]
            unknown = [key for key in equation if key in hidden]
            if len(unknown) != 1:
                continue  # nothing hidden, or two unknowns in one sum: neither can be solved
            chosen = _second_cell(values, members, hidden) or _second_cell(values, [total], hidden)
            if chosen is not None:
                hidden.add(chosen)
                changed = True
    return hidden


def _second_cell(
    values: Mapping[str, Number | None], candidates: Sequence[str], hidden: set[str]
) -> str | None:
    """The smallest shown non-zero cell among the candidates: a zero hides nothing."""
    shown = [key for key in candidates if key not in hidden and values[key]]
    return min(shown, key=lambda key: (values[key], key)) if shown else None
