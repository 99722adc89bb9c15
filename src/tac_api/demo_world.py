"""What every package's demo records are made from: the demo's mothers and children, its random
numbers, its day and its moment. Each package's `demo.py` writes only its own records from it."""

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tac_api.db import utcnow

Row = dict[str, Any]
# (table, its rows), inserted in this order.
DemoRows = list[tuple[Any, list[Row]]]


@dataclass
class DemoWorld:
    rng: random.Random
    mothers: list[Row]
    children: list[Row]
    today: date
    now: datetime = field(default_factory=utcnow)
    # The rows the packages before made, by table: a later package's records may name them.
    made: dict[Any, list[Row]] = field(default_factory=dict)
    _by_mother: dict[uuid.UUID, list[Row]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_mother = {}
        for child in self.children:
            self._by_mother.setdefault(child["mother_id"], []).append(child)

    @property
    def stamp(self) -> Row:
        """The columns every new record starts with."""
        return {"created_at": self.now, "updated_at": self.now, "version": 1}

    def rows_of(self, model: Any) -> list[Row]:
        """The rows of this table the packages loaded before made."""
        return self.made.get(model, [])

    def children_of(self, mother: Row) -> list[Row]:
        """Her children, in the order they were made."""
        return self._by_mother.get(mother["id"], [])
