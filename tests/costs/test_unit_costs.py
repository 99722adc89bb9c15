"""Unit costs: an administrator's dated figures, never changed in place, each set and read
audited; and the figures in force, as the programme report costs its outcomes with them."""

from datetime import date, timedelta
from typing import Any

import pytest

from tac_api.costs.service import UnitCostRow, cost_on, costs_in_force
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY

URL = "/v1/unit-costs"
SOURCE = "Step Together's evaluation, year 5: a child kept out of care for a year."


def cost_body(**fields: Any) -> dict[str, Any]:
    body = {
        "outcome": "child_with_her_at_twelve_months",
        "valid_from": "2025-04-01",
        "amount_pence": 5_200_000,
        "source": SOURCE,
    }
    return body | fields


def set_cost(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.post("admin", URL, cost_body(**fields))
    assert response.status_code == 201, response.text
    return response.json()


def in_force(api: Api) -> dict[str, list[UnitCostRow]]:
    async def read() -> dict[str, list[UnitCostRow]]:
        async with api.client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
            return await costs_in_force(session)

    return api.client.portal.call(read)  # type: ignore[union-attr]


def test_none_by_default(api: Api) -> None:
    assert in_force(api) == {"child_with_her_at_twelve_months": [], "baby_kept": []}
    assert api.get("admin", URL).json()["items"] == []


def test_set_read_and_audited_with_who_set_it(api: Api) -> None:
    response = api.post("admin", URL, cost_body(source="  " + SOURCE + " "))
    assert response.status_code == 201, response.text
    cost = response.json()
    assert response.headers["Location"] == f"{URL}/{cost['id']}"
    assert response.headers["ETag"] == '"1"'
    assert {k: cost[k] for k in ("outcome", "valid_from", "amount_pence", "source")} == {
        "outcome": "child_with_her_at_twelve_months",
        "valid_from": "2025-04-01",
        "amount_pence": 5_200_000,
        "source": SOURCE,
    }
    # Who set it and when: the history fields, shown.
    (admin_id,) = api.sql("SELECT id FROM api_client WHERE name = 'admin'")[0]
    assert cost["changed_by"]["role"] == "admin" and cost["changed_by"]["name"] == "admin"
    assert cost["changed_by"]["client_id"].replace("-", "") == str(admin_id).replace("-", "")
    assert cost["changed_at"][:10] in (str(TODAY), str(TODAY + timedelta(days=1)))
    assert trail(api, response) == [
        ("admin", "admin", "collect", "unit_cost", cost["id"], None, "succeeded")
    ]
    one = api.get("admin", f"{URL}/{cost['id']}")
    assert one.status_code == 200 and one.json() == cost
    assert trail(api, one) == [
        ("admin", "admin", "consult", "unit_cost", cost["id"], None, "succeeded")
    ]
    listed = api.get("admin", URL)
    assert listed.json()["items"] == [cost]
    assert trail(api, listed) == [
        ("admin", "admin", "consult", "unit_cost", cost["id"], None, "succeeded")
    ]


def test_never_changed_in_place_a_new_figure_from_its_own_date(api: Api) -> None:
    first = set_cost(api)
    again = api.post("admin", URL, cost_body(amount_pence=1))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert first["id"] in again.json()["detail"]
    # Next year's figure may be set before its date.
    ahead = str(TODAY.replace(year=TODAY.year + 1, month=4, day=1))
    later = set_cost(api, valid_from=ahead, amount_pence=6_100_000, source="Updated.")
    baby = set_cost(api, outcome="baby_kept", valid_from="2024-01-01", amount_pence=7_000_000)
    # Another outcome from the same date is no conflict.
    set_cost(api, outcome="baby_kept", valid_from="2025-04-01", amount_pence=7_500_000)
    for method in ("put", "patch", "delete"):
        call = getattr(api.client, method)
        response = call(f"{URL}/{first['id']}", headers=api.headers("admin"))
        assert response.status_code == 405
    assert api.sql("SELECT count(*) FROM unit_cost")[0][0] == 4

    listed = api.get("admin", URL, params={"outcome": "child_with_her_at_twelve_months"}).json()
    assert [c["id"] for c in listed["items"]] == [first["id"], later["id"]]
    everything = api.get("admin", URL).json()["items"]
    assert [c["outcome"] for c in everything] == ["baby_kept"] * 2 + [
        "child_with_her_at_twelve_months"
    ] * 2
    assert everything[0]["id"] == baby["id"]

    costs = in_force(api)
    child = costs["child_with_her_at_twelve_months"]
    assert child == [
        UnitCostRow(date(2025, 4, 1), 5_200_000, SOURCE),
        UnitCostRow(date.fromisoformat(ahead), 6_100_000, "Updated."),
    ]
    # An outcome is costed at the figure with the latest date on or before its own.
    assert cost_on(child, date(2025, 3, 31)) is None
    assert cost_on(child, date(2025, 4, 1)) == child[0]
    assert cost_on(child, date.fromisoformat(ahead) - timedelta(days=1)) == child[0]
    assert cost_on(child, date.fromisoformat(ahead)) == child[1]
    assert cost_on(child, TODAY + timedelta(days=900)) == child[1]
    assert cost_on([], TODAY) is None
    assert [r.amount_pence for r in costs["baby_kept"]] == [7_000_000, 7_500_000]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_pence": 52000.0}, "amount_pence"),  # no floats
        ({"amount_pence": "5200000"}, "amount_pence"),
        ({"amount_pence": 0}, "amount_pence"),
        ({"amount_pence": -5}, "amount_pence"),
        ({"amount_pence": 10**30}, "amount_pence"),
        ({"amount_pence": True}, "amount_pence"),
        ({"outcome": "children_returned"}, "outcome"),
        ({"valid_from": "2025-04-01T00:00:00"}, "valid_from"),
        ({"valid_from": "0001-01-01"}, "valid_from"),  # not a plausible date
        ({"valid_from": "1899-12-31"}, "valid_from"),
        ({"valid_from": "9999-12-31"}, "valid_from"),  # nor far in the future
        ({"valid_from": str(TODAY + timedelta(days=6 * 366))}, "valid_from"),
        ({"source": "   "}, "source"),
        ({"source": "x" * 501}, "source"),
        ({"source": "Step\x00Together"}, "source"),
        # One line: the report's method note inlines it.
        ({"source": "Step Together.\nSee the method note: costs are 0."}, "source"),
        ({"source": "Step Together.\r\nYear 5."}, "source"),
        ({"amount_pounds": "52000.00"}, "amount_pounds"),
    ],
)
def test_bad_input_writes_nothing(api: Api, change: dict[str, Any], field: str) -> None:
    response = api.post("admin", URL, cost_body(**change))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"].split(".")[-1] for e in response.json()["errors"]}
    assert api.sql("SELECT count(*) FROM unit_cost")[0][0] == 0


def test_an_administrators_alone(api: Api) -> None:
    cost = set_cost(api)
    for who in ("ewi_worker", "bristol", "bristol_system", "ewi_governor", "auditor"):
        assert api.post(who, URL, cost_body(valid_from="2027-01-01")).status_code == 403
        assert api.get(who, URL).status_code == 403
        assert api.get(who, f"{URL}/{cost['id']}").status_code == 403
    assert api.get("admin", f"{URL}/{'0' * 8}-0000-4000-8000-{'0' * 12}").status_code == 404
    assert api.sql("SELECT count(*) FROM unit_cost")[0][0] == 1
