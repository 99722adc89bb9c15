import pytest
from fastapi.testclient import TestClient

from tac_api.config import Settings
from tac_api.main import create_app
from tests.support.api import Api


def all_items(api: Api, url: str) -> list[dict]:
    items, page = [], api.get("ewi_governor", url).json()
    items += page["items"]
    while page["next_cursor"]:
        joiner = "&" if "?" in url else "?"
        page = api.get("ewi_governor", f"{url}{joiner}cursor={page['next_cursor']}").json()
        items += page["items"]
    return items


def test_prisons_are_data(api: Api) -> None:
    prisons = all_items(api, "/v1/reference/prisons")
    assert {(p["code"], p["name"]) for p in prisons} == {
        ("EWI", "HMP Eastwood Park"),
        ("SDI", "HMP Send"),
    }


def test_local_authorities_by_dfe_number_with_validity(api: Api) -> None:
    authorities = {a["dfe_number"]: a for a in all_items(api, "/v1/reference/local-authorities")}
    assert authorities["803"]["name"] == "South Gloucestershire"
    assert authorities["803"]["ons_code"] == "E06000025"
    assert authorities["928"]["valid_to"] == "2021-03-31"  # Northamptonshire, split in two
    assert authorities["940"]["valid_from"] == "2021-04-01"
    assert authorities["929"]["ons_code"] == "E06000057"  # Northumberland's new ONS code
    welsh = [a for a in authorities.values() if a["country"] == "Wales"]
    assert len(welsh) == 22 and all(a["ons_code"].startswith("W06") for a in welsh)


@pytest.mark.parametrize(
    ("on", "present", "absent"),
    [("2020-06-01", "928", "940"), ("2024-06-01", "940", "928"), ("2022-06-01", "909", "942")],
)
def test_authorities_that_existed_on_a_date(api: Api, on: str, present: str, absent: str) -> None:
    numbers = {
        a["dfe_number"] for a in all_items(api, f"/v1/reference/local-authorities?current_on={on}")
    }
    assert present in numbers and absent not in numbers


def test_one_authority(api: Api) -> None:
    assert api.get("bristol", "/v1/reference/local-authorities/801").json()["name"] == (
        "Bristol, City of"
    )
    assert api.get("bristol", "/v1/reference/local-authorities/999").status_code == 404
    assert api.get("bristol", "/v1/reference/local-authorities/80").status_code == 422


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("/v1/reference/legal-statuses", "C2", "care order"),
        ("/v1/reference/legal-statuses", "V2", "accommodat"),
        ("/v1/reference/placement-types", "U1", "oster"),
        ("/v1/reference/cp-plan-categories", "NEG", "Neglect"),
        ("/v1/reference/ethnicities", "not_stated", "stated"),
    ],
)
def test_code_lists(api: Api, url: str, code: str, words: str) -> None:
    codes = {item["code"]: item for item in all_items(api, url)}
    assert words.lower() in codes[code]["description"].lower()


def test_ethnicities_are_the_2021_census_groups(api: Api) -> None:
    groups = {e["group"] for e in all_items(api, "/v1/reference/ethnicities")}
    assert len(all_items(api, "/v1/reference/ethnicities")) == 20
    assert len(groups - {"Not stated"}) == 5


def test_not_ready_when_the_database_cannot_be_reached() -> None:
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:9/none"))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


def names_found(api: Api, q: str, **params: str) -> list[str]:
    url = "/v1/reference/local-authorities"
    response = api.get("bristol", url, params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [a["name"] for a in response.json()["items"]]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("Bristol", ["Bristol, City of"]),
        ("bristol", ["Bristol, City of"]),
        ("BRÍSTOL", ["Bristol, City of"]),  # accents and case are no matter
        ("city of bristol", ["Bristol, City of"]),  # every word, in any order
        ("rhondda", ["Rhondda Cynon Taf"]),
        ("Rhôndda cynon", ["Rhondda Cynon Taf"]),
        ("st helens", ["St. Helens"]),  # punctuation is no matter either
        ("anglesey", ["Isle of Anglesey"]),
        ("kingston", ["Kingston upon Thames", "Kingston upon Hull, City of"]),
        ("nowhere at all", []),
    ],
)
def test_find_an_authority_by_name(api: Api, q: str, found: list[str]) -> None:
    assert sorted(names_found(api, q)) == sorted(found)


def test_a_name_search_keeps_the_other_filters_and_pages(api: Api) -> None:
    assert names_found(api, "kingston", country="Wales") == []
    northamptonshire = "Northamptonshire"
    assert names_found(api, northamptonshire, current_on="2020-06-01") == [northamptonshire]
    # By DfE number, as the whole list: 940, then 941.
    assert names_found(api, northamptonshire, current_on="2024-06-01") == [
        "North Northamptonshire",
        "West Northamptonshire",
    ]
    url = "/v1/reference/local-authorities"
    first = api.get("bristol", url, params={"q": "kingston", "limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    rest = api.get(
        "bristol", url, params={"q": "kingston", "limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert len(rest["items"]) == 1 and rest["items"][0]["name"] != first["items"][0]["name"]


@pytest.mark.parametrize("q", ["", "...", "x" * 101])
def test_a_name_search_needs_letters(api: Api, q: str) -> None:
    response = api.get("bristol", "/v1/reference/local-authorities", params={"q": q})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "q"
