"""Every role's response fields are an allowlist: a field reaching a role that was not given it
here fails, as does a field a role was given and no longer gets. Reads as each role what a
fully filled-in family returns, and compares field paths (`items[].first_name`)."""

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import TODAY, Api, child_body, mother_body
from tests.test_access_matrix import OPERATIONS

RECORD = {"id", "created_at", "updated_at", "version"}
MOTHER = RECORD | {
    "prison_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "prison_code",
    "reception_date",
    "earliest_release_date",
    "status",
    "domestic_abuse_history",
    "ethnicity",
    "closed_on",
}
# A local authority sees who and where she is, not her record.
MOTHER_FOR_AUTHORITY = {
    "id",
    "first_name",
    "last_name",
    "prison_code",
    "status",
    "earliest_release_date",
}
CHILD_SUMMARY = {
    "id",
    "first_name",
    "age",
    "local_authority_code",
    "lives_with",
    "placement_withheld",
}
SOCIAL_WORKER = {"social_worker.name", "social_worker.email", "social_worker.phone"}
CHILD = (
    RECORD
    | {
        "mother_id",
        "first_name",
        "last_name",
        "date_of_birth",
        "expected_date",
        "age",
        "sex",
        "local_authority_code",
        "legal_status",
        "placement_type",
        "lives_with",
        "placement_confidential",
        "placement_withheld",
        "carer.name",
        "carer.phone",
        "carer.address",
        "contact_arrangement",
        "contact_arrangement_reason",
    }
    | SOCIAL_WORKER
)
# Another authority's child, in a local authority's family view: enough to coordinate.
SIBLING = {"id", "first_name", "age", "local_authority_code"} | SOCIAL_WORKER
PRACTITIONER = RECORD | {"role", "name", "organisation", "email", "phone", "local_authority_code"}
LINK = RECORD | {"mother_id", "child_id"} | {f"practitioner.{f}" for f in PRACTITIONER}
STAY = RECORD | {"prison_code", "arrived_on", "left_on"}
HEARING = (
    RECORD
    | {
        "mother_id",
        "child_ids",
        "proceedings_id",
        "court_name",
        "court_code",
        "hearing_type",
        "starts_at",
        "notified_at",
        "notice_days",
        "late_notice",
        "attendance_mode",
        "social_worker_attends",
    }
    | {
        f"outcome.{f}"
        for f in (
            "attended",
            "attended_how",
            "barrier",
            "barrier_detail",
            "order_made",
            "order_detail",
            "recorded_at",
        )
    }
)
AMENDMENT = {"id", "court_hearing_id", "amended_at", "client_id", "client_name", "role"} | {
    f"changes[].{f}" for f in ("field", "old", "new")
}
PROCEEDINGS = (
    RECORD
    | {
        "mother_id",
        "child_ids",
        "court_name",
        "court_code",
        "case_number",
        "issued_on",
        "twenty_six_week_date",
    }
    | {f"extensions[].{f}" for f in ("id", "created_at", "weeks", "reason", "granted_on")}
)
AUDIT_EVENT = {
    "id",
    "occurred_at",
    "request_id",
    "client_id",
    "client_name",
    "role",
    "action",
    "resource_type",
    "resource_id",
    "subject_id",
    "outcome",
}


def items(fields: set[str]) -> set[str]:
    return {"next_cursor"} | {f"items[].{f}" for f in fields}


FAMILY_FRAME = {
    "mother_id",
    "separated",
    "households[].lives_with",
    "households[].local_authority_code",
    "households[].child_ids",
    "local_authorities[].dfe_number",
    "local_authorities[].name",
    "local_authorities[].child_ids",
} | {
    f"social_workers[].{f}" for f in ("name", "email", "phone", "local_authority_code", "child_ids")
}

PRISON = ("admin", "sdi_worker")
AUTHORITY = ("bristol", "bristol_system")

# Operation -> the callers who read it -> the fields they get.
ALLOWED: dict[str, dict[tuple[str, ...], set[str]]] = {
    "GET /v1/mothers": {PRISON: items(MOTHER), AUTHORITY: items(MOTHER_FOR_AUTHORITY)},
    "GET /v1/mothers/{mother_id}": {
        PRISON: MOTHER | {f"children[].{f}" for f in CHILD_SUMMARY},
        AUTHORITY: MOTHER_FOR_AUTHORITY,
    },
    "GET /v1/mothers/{mother_id}/prison-stays": {PRISON: items(STAY)},
    "GET /v1/mothers/{mother_id}/children": {PRISON + AUTHORITY: items(CHILD)},
    "GET /v1/children/{child_id}": {PRISON + AUTHORITY: CHILD},
    "GET /v1/mothers/{mother_id}/family": {
        PRISON: FAMILY_FRAME | {f"{kind}[].{f}" for f in CHILD for kind in ("children", "unborn")},
        # Bristol's own child in full, Surrey's as a sibling: checked child by child below.
        AUTHORITY: FAMILY_FRAME
        | {f"children[].{f}" for f in CHILD | SIBLING}
        | {f"unborn[].{f}" for f in CHILD},
    },
    "GET /v1/practitioners": {PRISON + AUTHORITY: items(PRACTITIONER)},
    "GET /v1/practitioners/{practitioner_id}": {PRISON + AUTHORITY: PRACTITIONER},
    "GET /v1/mothers/{mother_id}/practitioners": {PRISON + AUTHORITY: items(LINK)},
    "GET /v1/court-hearings": {PRISON + AUTHORITY: items(HEARING)},
    "GET /v1/court-hearings/{court_hearing_id}": {PRISON + AUTHORITY: HEARING},
    "GET /v1/court-hearings/{court_hearing_id}/amendments": {PRISON + AUTHORITY: items(AMENDMENT)},
    "GET /v1/proceedings": {PRISON + AUTHORITY: items(PROCEEDINGS)},
    "GET /v1/proceedings/{proceedings_id}": {PRISON + AUTHORITY: PROCEEDINGS},
    "GET /v1/audit": {("admin", "auditor"): items(AUDIT_EVENT)},
}


def field_paths(value: Any, prefix: str = "") -> set[str]:
    """Every field path in a JSON value; a list's items share one path (`children[].age`)."""
    if isinstance(value, dict):
        paths = set()
        for key, inner in value.items():
            path = f"{prefix}{key}"
            below = field_paths(inner, f"{path}.")
            paths |= below or {path}
        return paths
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return set().union(*(field_paths(item, f"{prefix[:-1]}[].") for item in value))
    return set()


@pytest.fixture
def family(api: Api) -> dict[str, str]:
    """A Send mother with every field filled in: a Bristol child, a Surrey child, a link."""
    mother = api.mother(prison_code="SDI")
    filled = {
        "social_worker": {
            "name": "Gwen Llewellyn",
            "email": "gwen@bristol.example.gov.uk",
            "phone": "0117 496 0000",
        },
        "carer": {"name": "Aoife Ní Bhriain", "phone": "0117 496 0001", "address": "2 Quay St"},
        "contact_arrangement": "supervised",
        "contact_arrangement_reason": "Agreed at the looked-after child review.",
        "expected_date": None,
    }
    child = api.child(mother["id"], **child_body(local_authority_code="801", **filled))
    api.child(mother["id"], first_name="Dafydd", local_authority_code="936", **filled)
    due = str(TODAY + timedelta(days=90))
    api.child(
        mother["id"],
        **child_body(first_name="Baby", **filled) | {"date_of_birth": None, "expected_date": due},
    )
    solicitor = api.post(
        "admin",
        "/v1/practitioners",
        {
            "role": "la_social_worker",
            "name": "Gwen Llewellyn",
            "organisation": "Bristol City Council",
            "email": "gwen@bristol.example.gov.uk",
            "phone": "0117 496 0000",
            "local_authority_code": "801",
        },
    ).json()
    api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/practitioners",
        {"practitioner_id": solicitor["id"], "child_id": child["id"]},
    )
    api.patch("admin", f"/v1/mothers/{mother['id']}", {"prison_code": "SDI"}, '"1"')
    court = {"court_name": "Guildford Family Court", "court_code": "GFD"}
    proceedings = api.post(
        "admin",
        "/v1/proceedings",
        {
            "mother_id": mother["id"],
            "child_ids": [child["id"]],
            "case_number": "GU26C00042",
            "issued_on": str(TODAY - timedelta(days=200)),
            **court,
        },
    ).json()
    extension = {"weeks": 4, "reason": "Parenting assessment in custody not yet complete."}
    api.post("admin", f"/v1/proceedings/{proceedings['id']}/extensions", extension)
    hearing = api.post(
        "admin",
        "/v1/court-hearings",
        {
            "mother_id": mother["id"],
            "child_ids": [child["id"]],
            "proceedings_id": proceedings["id"],
            "hearing_type": "issues_resolution",
            "starts_at": f"{TODAY - timedelta(days=3)}T10:00:00Z",
            "notified_at": f"{TODAY - timedelta(days=5)}T16:30:00Z",
            "attendance_mode": "prison_video_link",
            "social_worker_attends": True,
            **court,
        },
    ).json()
    hearing_url = f"/v1/court-hearings/{hearing['id']}"
    moved = {"starts_at": f"{TODAY - timedelta(days=2)}T10:00:00Z"}
    hearing = api.patch("admin", hearing_url, moved, f'"{hearing["version"]}"').json()
    outcome = {
        "attended": False,
        "barrier": "other",
        "barrier_detail": "The video link room was double-booked.",
        "order_made": "other",
        "order_detail": "Direction for a further parenting assessment in custody.",
    }
    headers = api.headers("admin", **{"If-Match": f'"{hearing["version"]}"'})
    assert api.client.put(f"{hearing_url}/outcome", json=outcome, headers=headers).is_success
    return {
        "mother_id": mother["id"],
        "child_id": child["id"],
        "practitioner_id": solicitor["id"],
        "court_hearing_id": hearing["id"],
        "proceedings_id": proceedings["id"],
    }


def url_for(operation: str, family: dict[str, str]) -> str:
    path = operation.split(" ")[1]
    return path.format(**family)


@pytest.mark.parametrize("operation", sorted(ALLOWED))
def test_each_role_gets_exactly_its_fields(
    api: Api, family: dict[str, str], operation: str
) -> None:
    url = url_for(operation, family)
    params = {"subject_id": family["mother_id"]} if operation == "GET /v1/audit" else None
    for callers, allowed in ALLOWED[operation].items():
        for who in callers:
            response = api.get(who, url, params=params)
            assert response.status_code == 200, (operation, who, response.text)
            got = field_paths(response.json())
            assert got - allowed == set(), f"{who} was given fields not on its allowlist"
            assert allowed - got == set(), f"{who} no longer gets (or the data lacks) these"


def test_another_authoritys_child_reaches_a_local_authority_as_a_sibling_only(
    api: Api, family: dict[str, str]
) -> None:
    view = api.get("bristol", f"/v1/mothers/{family['mother_id']}/family").json()
    for child in view["children"]:
        expected = CHILD if child["id"] == family["child_id"] else SIBLING
        assert field_paths(child) == expected


def test_every_read_operation_has_an_allowlist() -> None:
    """A new GET route needs its entry here (reference data and health hold no personal data;
    the subject access export is everything about her, by definition, for admins only)."""
    reads = {
        operation
        for operation in OPERATIONS
        if operation.startswith("GET /v1/")
        and not operation.startswith("GET /v1/reference/")
        and not operation.endswith("/subject-access-export")
    }
    assert reads == set(ALLOWED)


# Fields the service keeps: sending one is refused (422) and changes nothing.
KEPT_BY_THE_SERVICE = [
    {"id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"},
    {"version": 9},
    {"created_at": "2020-01-01T00:00:00Z"},
    {"updated_at": "2020-01-01T00:00:00Z"},
]
WRITES = {
    "mother": [*KEPT_BY_THE_SERVICE, {"closed_on": "2020-01-01"}, {"children": []}],
    "child": [
        *KEPT_BY_THE_SERVICE,
        {"mother_id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"},
        {"age": 3},
        {"prison_code": "SDI"},
    ],
    "practitioner": KEPT_BY_THE_SERVICE,
}


@pytest.mark.parametrize(
    ("kind", "field"), [(kind, field) for kind, fields in WRITES.items() for field in fields]
)
def test_privileged_fields_are_refused_and_change_nothing(
    api: Api, family: dict[str, str], kind: str, field: dict[str, Any]
) -> None:
    url = {
        "mother": f"/v1/mothers/{family['mother_id']}",
        "child": f"/v1/children/{family['child_id']}",
        "practitioner": f"/v1/practitioners/{family['practitioner_id']}",
    }[kind]
    before = api.get("admin", url).json()
    who = "bristol" if kind == "child" else "sdi_worker"
    changed = api.patch(who, url, field, if_match=f'"{before["version"]}"')
    assert changed.status_code == 422, changed.text
    assert changed.headers["content-type"] == "application/problem+json"
    assert api.get("admin", url).json() == before

    collection = {
        "mother": "/v1/mothers",
        "child": f"/v1/mothers/{family['mother_id']}/children",
        "practitioner": "/v1/practitioners",
    }[kind]
    count = f"SELECT count(*) FROM {kind}"
    rows = api.sql(count)
    body = {
        "mother": mother_body(prison_code="SDI"),
        "child": child_body(),
        "practitioner": {"role": "solicitor", "name": "Eleri Bowen"},
    }[kind]
    created = api.post("sdi_worker", collection, {**body, **field})
    assert created.status_code == 422, created.text
    assert api.sql(count) == rows
