"""The funnel's stages in SQL: a milestone falls on the day `reviews.service.add_months` says,
on either database, month ends and leap years included."""

from datetime import date

from sqlalchemy import literal, select

from tac_api.referrals.stages import MonthsAfter
from tac_api.reviews.service import add_months
from tests.support.api import Api

DAYS = [
    date(2024, 8, 31),  # to February of a leap year: the 29th
    date(2025, 8, 31),  # to February of another year: the 28th
    date(2024, 8, 29),
    date(2025, 8, 30),
    date(2025, 3, 31),  # to September: the 30th
    date(2025, 6, 15),  # across a year's end
    date(2025, 12, 31),
    date(2024, 2, 29),  # from a leap day
    date(2025, 1, 1),
]


def test_months_after_is_add_months_in_sql(api: Api) -> None:
    statement = select(
        *(
            MonthsAfter(literal(day), months).label(f"d{n}_{months}")
            for n, day in enumerate(DAYS)
            for months in (1, 6, 12)
        )
    )

    async def run() -> list[date | str]:
        async with api.client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
            return list((await connection.execute(statement)).one())

    found = api.client.portal.call(run)  # type: ignore[union-attr]
    wanted = [add_months(day, months) for day in DAYS for months in (1, 6, 12)]
    assert [date.fromisoformat(str(value)) for value in found] == wanted
