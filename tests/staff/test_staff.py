"""Staff and caseloads: the directory and how she signs in, her allocations with their dated
history, and each prison's caseloads against the guide."""

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from tac_api.auth.oidc import OIDC_CLIENT_NAMESPACE
from tac_api.auth.schemas import Role
from tac_api.auth.service import create_client
from tac_api.config import Settings
from tac_api.main import create_app
from tac_api.staff import service
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY
from tests.support.sql import counting, db_id, statements

ISSUER = "https://login.example.test/realms/tac"
AUDIENCE = "tac-api"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STAFF = "/v1/staff"


def client_id(api: Api, name: str) -> str:
    """The id of one of the tests' API clients (tests/support/api.py CLIENTS)."""
    (row,) = api.sql("SELECT id FROM api_client WHERE name = :name", name=name)
    return str(uuid.UUID(str(row[0])))


def another_send_client(api: Api) -> str:
    """A second Send social worker's API client: its id."""

    async def make() -> str:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            client, _ = await create_client(
                session,
                name=f"send-colleague-{uuid.uuid4().hex[:8]}",
                role=Role.prison_social_worker,
                prison_code="SDI",
            )
        return str(client.id)

    return api.client.portal.call(make)  # type: ignore[union-attr]


def enter(api: Api, prison_code: str = "SDI", **fields: Any) -> dict[str, Any]:
    body = {"prison_code": prison_code, "name": "Siân O'Connor-Price", "role": "advocate"}
    response = api.post("admin", STAFF, body | fields)
    assert response.status_code == 201, response.text
    return response.json()


def allocate(api: Api, mother_id: str, staff_id: str, on: Any = TODAY, who: str = "admin") -> Any:
    body = {"staff_member_id": staff_id, "allocated_on": str(on), "reason": "First allocation."}
    return api.put(who, f"/v1/mothers/{mother_id}/allocation", body)


def history(api: Api, mother_id: str, who: str = "admin") -> list[dict[str, Any]]:
    response = api.get(who, f"/v1/mothers/{mother_id}/allocations")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def revoke(api: Api, name: str) -> str:
    """A fresh client of this role and prison, revoked: its id."""
    made = uuid.uuid4()
    api.sql(
        "INSERT INTO api_client (id, created_at, updated_at, version, name, role, prison_code, "
        "token_hash, revoked_at) VALUES (:id, :now, :now, 1, :name, 'prison_social_worker', "
        "'SDI', :hash, :now)",
        id=db_id(api, str(made)),
        now=datetime.now(UTC).replace(tzinfo=None),
        name=f"{name}-{made.hex[:8]}",
        hash=made.hex * 2,
    )
    return str(made)


# -- Identity provider sign-in: the tests sign their own tokens ----------------------------------


def sign(subject: str, prison: str = "SDI") -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "iat": now,
        "exp": now + 300,
        "tac_role": "prison_social_worker",
        "tac_prison_code": prison,
    }
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "staff-1"})


@pytest.fixture
def idp(api: Api, tmp_path: Path) -> Iterator[TestClient]:
    """The app trusting an identity provider whose key the tests hold, on `api`'s database."""
    jwk = {**RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "staff-1", "use": "sig"}
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps({"keys": [jwk]}))
    settings = Settings(
        database_url=api.database_url,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_file=keys,
    )
    with TestClient(create_app(settings)) as client:
        yield client


class TestDirectory:
    def test_an_admin_enters_her_and_no_one_else_may(self, api: Api) -> None:
        body = {"prison_code": "SDI", "name": "Siân O'Connor", "role": "prison_social_worker"}
        for who in ("sdi_worker", "ewi_governor", "bristol", "auditor"):
            assert api.post(who, STAFF, body).status_code == 403, who
        response = api.post("admin", STAFF, body | {"email": "sian@tac.example.org"})
        assert response.status_code == 201, response.text
        entry = response.json()
        assert response.headers["Location"] == f"/v1/staff/{entry['id']}"
        assert response.headers["ETag"] == '"1"'
        assert entry["signs_in_as"] is None and entry["left_on"] is None
        assert [row[2:4] for row in trail(api, response)] == [("collect", "staff_member")]

    def test_an_unknown_prison_or_role_is_refused(self, api: Api) -> None:
        body = {"prison_code": "XYZ", "name": "Ffion", "role": "advocate"}
        assert api.post("admin", STAFF, body).status_code == 422
        body = {"prison_code": "SDI", "name": "Ffion", "role": "governor"}
        assert api.post("admin", STAFF, body).status_code == 422

    def test_a_prison_social_worker_sees_her_prisons_directory(self, api: Api) -> None:
        sdi = enter(api, "SDI", name="Aoife Ní Bhriain")
        left = enter(api, "SDI", name="Bethan Ap Rhys", role="facilitator")
        ewi = enter(api, "EWI", name="Hélène D'Arcy")
        url = f"{STAFF}/{left['id']}"
        assert api.patch("admin", url, {"left_on": str(TODAY)}, '"1"').status_code == 200

        listed = api.get("sdi_worker", STAFF).json()["items"]
        assert [e["id"] for e in listed] == [sdi["id"], left["id"]]
        everyone = api.get("admin", STAFF).json()["items"]
        assert [e["id"] for e in everyone] == [ewi["id"], sdi["id"], left["id"]]
        only_sdi = api.get("admin", STAFF, params={"prison_code": "SDI"}).json()["items"]
        assert [e["id"] for e in only_sdi] == [sdi["id"], left["id"]]
        current = api.get("sdi_worker", STAFF, params={"current": "true"}).json()["items"]
        assert [e["id"] for e in current] == [sdi["id"]]
        gone = api.get("sdi_worker", STAFF, params={"current": "false"}).json()["items"]
        assert [e["id"] for e in gone] == [left["id"]]
        facilitators = api.get("admin", STAFF, params={"role": "facilitator"}).json()["items"]
        assert [e["id"] for e in facilitators] == [left["id"]]

        assert api.get("sdi_worker", f"{STAFF}/{sdi['id']}").status_code == 200
        assert api.get("ewi_worker", f"{STAFF}/{sdi['id']}").status_code == 404
        for who in ("bristol", "bristol_system", "surrey", "ewi_governor", "auditor"):
            assert api.get(who, STAFF).status_code == 403, who
            assert api.get(who, f"{STAFF}/{sdi['id']}").status_code == 403, who

    def test_a_change_needs_if_match_and_is_an_admins(self, api: Api) -> None:
        entry = enter(api)
        url = f"{STAFF}/{entry['id']}"
        assert api.patch("admin", url, {"phone": "0117 496 0100"}).status_code == 428
        assert api.patch("sdi_worker", url, {"phone": "0117 496 0100"}, '"1"').status_code == 403
        changed = api.patch("admin", url, {"phone": "0117 496 0100"}, '"1"')
        assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
        assert api.patch("admin", url, {"name": "X"}, '"1"').status_code == 412
        assert api.patch("admin", url, {"name": None}, '"2"').status_code == 422
        # Her prison is not changed: she leaves this one and is entered in the other's.
        assert api.patch("admin", url, {"prison_code": "EWI"}, '"2"').status_code == 422


class TestSignIn:
    def test_how_she_signs_in_is_hers_and_the_admins_to_know(self, api: Api) -> None:
        """Her colleagues see her entry, not the links that sign her in."""
        links = ("identity_subject", "api_client_id", "signs_in_as")
        mine = client_id(api, "sdi_worker")
        hers = enter(api, api_client_id=mine)
        colleague = enter(api, name="Gwenllian Price", api_client_id=another_send_client(api))
        # An admin, and she herself, see her links; in her entry and in the list.
        for who in ("admin", "sdi_worker"):
            shown = api.get(who, f"{STAFF}/{hers['id']}").json()
            assert [shown[link] for link in links] == [None, mine, mine], who
        assert api.get("admin", f"{STAFF}/{colleague['id']}").json()["signs_in_as"] is not None
        # A colleague's links are null to her, however she reads the entry.
        shown = api.get("sdi_worker", f"{STAFF}/{colleague['id']}").json()
        assert [shown[link] for link in links] == [None, None, None]
        listed = {item["id"]: item for item in api.get("sdi_worker", STAFF).json()["items"]}
        assert listed[hers["id"]]["api_client_id"] == mine
        assert [listed[colleague["id"]][link] for link in links] == [None, None, None]

    def test_linked_to_an_api_client_she_signs_in_as_that_client(self, api: Api) -> None:
        worker = client_id(api, "sdi_worker")
        entry = enter(api, api_client_id=worker)
        assert entry["signs_in_as"] == worker and entry["api_client_id"] == worker

    @pytest.mark.parametrize("name", ["ewi_worker", "ewi_governor", "bristol", "admin"])
    def test_the_client_must_be_a_prison_social_workers_of_her_prison(
        self, api: Api, name: str
    ) -> None:
        body = {"prison_code": "SDI", "name": "Ffion", "role": "advocate"}
        response = api.post("admin", STAFF, body | {"api_client_id": client_id(api, name)})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "api_client_id"

    def test_a_revoked_or_unknown_client_is_refused(self, api: Api) -> None:
        body = {"prison_code": "SDI", "name": "Ffion", "role": "advocate"}
        for client in (revoke(api, "gone"), str(uuid.uuid4())):
            response = api.post("admin", STAFF, body | {"api_client_id": client})
            assert response.status_code == 422, response.text

    def test_a_subject_needs_an_identity_provider(self, api: Api) -> None:
        body = {"prison_code": "SDI", "name": "Ffion", "role": "advocate"}
        response = api.post("admin", STAFF, body | {"identity_subject": "ffion"})
        assert response.status_code == 422
        assert "TAC_OIDC_ISSUER" in response.json()["detail"]

    def test_linked_to_her_subject_she_signs_in_as_the_providers_caller_id(
        self, api: Api, idp: TestClient
    ) -> None:
        body = {"prison_code": "SDI", "name": "Ffion", "role": "advocate"}
        sent = body | {"identity_subject": "ffion-1"}
        response = idp.post(STAFF, json=sent, headers=api.headers("admin"))
        assert response.status_code == 201, response.text
        expected = uuid.uuid5(OIDC_CLIENT_NAMESPACE, f"{ISSUER}|ffion-1")
        assert response.json()["signs_in_as"] == str(expected)
        # Both links at once: one or the other.
        both = sent | {"identity_subject": "ffion-2", "api_client_id": client_id(api, "sdi_worker")}
        assert idp.post(STAFF, json=both, headers=api.headers("admin")).status_code == 422

    def test_one_person_one_entry(self, api: Api) -> None:
        worker = client_id(api, "sdi_worker")
        enter(api, api_client_id=worker)
        body = {"prison_code": "SDI", "name": "Ffion", "role": "advocate", "api_client_id": worker}
        assert api.post("admin", STAFF, body).status_code == 409
        other = enter(api, name="Ffion")
        url = f"{STAFF}/{other['id']}"
        assert api.patch("admin", url, {"api_client_id": worker}, '"1"').status_code == 409

    def test_changing_a_link_changes_who_she_signs_in_as(self, api: Api, idp: TestClient) -> None:
        worker = client_id(api, "sdi_worker")
        entry = enter(api, api_client_id=worker)
        url = f"{STAFF}/{entry['id']}"
        headers = api.headers("admin", **{"If-Match": '"1"'})
        # A subject while the client is still linked: one or the other.
        both = idp.patch(url, json={"identity_subject": "sian"}, headers=headers)
        assert both.status_code == 422
        moved = {"identity_subject": "sian", "api_client_id": None}
        response = idp.patch(url, json=moved, headers=headers)
        assert response.status_code == 200, response.text
        expected = uuid.uuid5(OIDC_CLIENT_NAMESPACE, f"{ISSUER}|sian")
        assert response.json()["signs_in_as"] == str(expected)
        unlinked = api.patch("admin", url, {"identity_subject": None}, '"2"')
        assert unlinked.status_code == 200 and unlinked.json()["signs_in_as"] is None
        # The client is free again: another entry may sign in as it.
        assert enter(api, name="Ffion", api_client_id=worker)["signs_in_as"] == worker


class TestMe:
    def test_through_her_api_client(self, api: Api) -> None:
        entry = enter(api, api_client_id=client_id(api, "sdi_worker"))
        response = api.get("sdi_worker", f"{STAFF}/me")
        assert response.status_code == 200, response.text
        assert response.json()["id"] == entry["id"]
        assert [row[2:5] for row in trail(api, response)] == [
            ("consult", "staff_member", entry["id"])
        ]
        missing = api.get("ewi_worker", f"{STAFF}/me")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        for who in ("bristol", "ewi_governor", "auditor"):
            assert api.get(who, f"{STAFF}/me").status_code == 403, who

    def test_through_her_identity_provider(self, api: Api, idp: TestClient) -> None:
        body = {"prison_code": "SDI", "name": "Ffion", "role": "prison_social_worker"}
        made = idp.post(
            STAFF, json=body | {"identity_subject": "ffion-3"}, headers=api.headers("admin")
        )
        assert made.status_code == 201, made.text
        token = sign("ffion-3")
        response = idp.get(f"{STAFF}/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.json()["id"] == made.json()["id"]
        stranger = {"Authorization": f"Bearer {sign('someone-else')}"}
        assert idp.get(f"{STAFF}/me", headers=stranger).status_code == 404


class TestAllocations:
    def test_a_reallocation_ends_the_current_one_and_opens_the_next(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        first, second = enter(api, name="Aoife Ní Bhriain"), enter(api, name="Bethan Ap Rhys")
        earlier = TODAY - timedelta(days=30)
        response = allocate(api, mother["id"], first["id"], earlier, who="sdi_worker")
        assert response.status_code == 200, response.text
        assert [row[2:4] for row in trail(api, response)] == [("collect", "allocation")]
        body = {
            "staff_member_id": second["id"],
            "allocated_on": str(TODAY),
            "reason": "Aoife's caseload is full.",
        }
        moved = api.put("sdi_worker", f"/v1/mothers/{mother['id']}/allocation", body)
        assert moved.status_code == 200, moved.text
        assert moved.json()["staff_member"]["name"] == "Bethan Ap Rhys"

        old, new = history(api, mother["id"], "sdi_worker")
        assert (old["staff_member"]["id"], old["allocated_on"], old["ended_on"]) == (
            first["id"],
            str(earlier),
            str(TODAY),
        )
        assert old["end_reason"] == "Aoife's caseload is full."
        assert (new["staff_member"]["id"], new["ended_on"]) == (second["id"], None)
        assert new["changed_by"]["name"] == "sdi_worker"
        assert new["changed_by"]["role"] == "prison_social_worker"
        open_ones = api.sql(
            "SELECT count(*) FROM allocation WHERE ended_on IS NULL AND mother_id = :id",
            id=db_id(api, mother["id"]),
        )
        assert open_ones[0][0] == 1

    def test_reallocated_on_the_day_the_last_began_sorts_after_it(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        first, second = enter(api, name="Aoife"), enter(api, name="Bethan")
        assert allocate(api, mother["id"], first["id"]).status_code == 200
        assert allocate(api, mother["id"], second["id"]).status_code == 200
        old, new = history(api, mother["id"])
        assert (old["staff_member"]["id"], new["staff_member"]["id"]) == (first["id"], second["id"])
        assert old["ended_on"] == str(TODAY) and new["ended_on"] is None

    def test_the_same_worker_again_changes_nothing(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        worker = enter(api)
        assert allocate(api, mother["id"], worker["id"]).status_code == 200
        again = allocate(api, mother["id"], worker["id"])
        assert again.status_code == 200 and again.headers["ETag"] == '"1"'
        assert len(history(api, mother["id"])) == 1

    def test_the_worker_must_be_a_current_member_of_her_prisons_staff(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        elsewhere = enter(api, "EWI")
        left = enter(api)
        api.patch("admin", f"{STAFF}/{left['id']}", {"left_on": str(TODAY)}, '"1"')
        for staff_id in (elsewhere["id"], left["id"], str(uuid.uuid4())):
            response = allocate(api, mother["id"], staff_id)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == "staff_member_id"
        assert history(api, mother["id"]) == []

    def test_its_date_is_not_in_the_future_nor_before_the_current_one(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        first, second = enter(api, name="Aoife"), enter(api, name="Bethan")
        tomorrow = TODAY + timedelta(days=1)
        assert allocate(api, mother["id"], first["id"], tomorrow).status_code == 422
        assert allocate(api, mother["id"], first["id"], TODAY).status_code == 200
        before = allocate(api, mother["id"], second["id"], TODAY - timedelta(days=1))
        assert before.status_code == 422
        assert before.json()["errors"][0]["field"] == "allocated_on"

    def test_after_an_end_the_next_begins_no_earlier(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        worker = enter(api)
        url = f"/v1/mothers/{mother['id']}/allocation"
        assert allocate(api, mother["id"], worker["id"], TODAY - timedelta(days=10)).is_success
        ended = api.post("sdi_worker", f"{url}/end", {"ended_on": str(TODAY - timedelta(days=5))})
        assert ended.status_code == 200, ended.text
        again = allocate(api, mother["id"], worker["id"], TODAY - timedelta(days=6))
        assert again.status_code == 422
        assert allocate(api, mother["id"], worker["id"], TODAY - timedelta(days=5)).is_success

    def test_an_end_leaves_her_with_no_one(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        worker = enter(api)
        url = f"/v1/mothers/{mother['id']}/allocation/end"
        assert api.post("admin", url, {"ended_on": str(TODAY)}).status_code == 409
        assert allocate(api, mother["id"], worker["id"], TODAY - timedelta(days=3)).is_success
        early = {"ended_on": str(TODAY - timedelta(days=4))}
        assert api.post("sdi_worker", url, early).status_code == 422
        future = {"ended_on": str(TODAY + timedelta(days=1))}
        assert api.post("sdi_worker", url, future).status_code == 422
        body = {"ended_on": str(TODAY), "reason": "She no longer wants the service's support."}
        ended = api.post("sdi_worker", url, body)
        assert ended.status_code == 200, ended.text
        assert ended.json()["ended_on"] == str(TODAY)
        assert ended.json()["end_reason"] == body["reason"]
        assert [row[2:4] for row in trail(api, ended)] == [("alter", "allocation")]
        assert api.post("sdi_worker", url, body).status_code == 409

    def test_a_worker_leaves_once_no_woman_is_allocated_to_her(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        worker = enter(api)
        url = f"{STAFF}/{worker['id']}"
        future = {"left_on": str(TODAY + timedelta(days=1))}
        assert api.patch("admin", url, future, '"1"').status_code == 422
        assert allocate(api, mother["id"], worker["id"]).is_success
        assert api.patch("admin", url, {"left_on": str(TODAY)}, '"1"').status_code == 422
        api.post("admin", f"/v1/mothers/{mother['id']}/allocation/end", {"ended_on": str(TODAY)})
        assert api.patch("admin", url, {"left_on": str(TODAY)}, '"1"').status_code == 200

    def test_out_of_scope_is_404_and_a_local_authority_never_sees_them(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        api.child(mother["id"], local_authority_code="801")
        worker = enter(api)
        assert allocate(api, mother["id"], worker["id"]).is_success
        base = f"/v1/mothers/{mother['id']}"
        body = {"staff_member_id": worker["id"], "allocated_on": str(TODAY)}
        assert api.put("ewi_worker", f"{base}/allocation", body).status_code == 404
        end = {"ended_on": str(TODAY)}
        assert api.post("ewi_worker", f"{base}/allocation/end", end).status_code == 404
        assert api.get("ewi_worker", f"{base}/allocations").status_code == 404
        # Bristol may see her (its child), never her allocations.
        assert api.get("bristol", base).status_code == 200
        for who in ("bristol", "bristol_system", "ewi_governor"):
            assert api.get(who, f"{base}/allocations").status_code == 403, who
            assert api.put(who, f"{base}/allocation", body).status_code == 403, who

    def test_a_race_for_her_allocation_is_409_not_500(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        mother = api.mother(prison_code="SDI")
        first, second = enter(api, name="Aoife"), enter(api, name="Bethan")
        assert allocate(api, mother["id"], first["id"]).is_success

        # As if another request had opened hers after this one looked: it finds none open.
        async def looked_too_early(*args: Any) -> None:
            return None

        monkeypatch.setattr(service, "_latest", looked_too_early)
        response = allocate(api, mother["id"], second["id"])
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        monkeypatch.undo()
        assert [a["staff_member"]["id"] for a in history(api, mother["id"])] == [first["id"]]


@pytest.fixture
def small_guide(api: Api) -> Iterator[TestClient]:
    """The app with a guide of 2 to 3 women per worker, on `api`'s database."""
    settings = Settings(
        database_url=api.database_url, caseload_guide_lower=2, caseload_guide_upper=3
    )
    with TestClient(create_app(settings)) as client:
        yield client


def caseloads(api: Api, who: str = "admin", **params: str) -> Any:
    response = api.get(who, "/v1/caseloads", params=params)
    assert response.status_code == 200, response.text
    return response.json()


class TestCaseloads:
    def test_each_worker_against_the_guide(self, api: Api, small_guide: TestClient) -> None:
        busy, quiet, idle = (enter(api, name=n) for n in ("Aoife", "Bethan", "Ceri"))
        women = [api.mother(prison_code="SDI") for _ in range(5)]
        for woman in women[:4]:
            assert allocate(api, woman["id"], busy["id"]).is_success
        assert allocate(api, women[4]["id"], quiet["id"]).is_success

        response = small_guide.get(
            "/v1/caseloads", params={"prison_code": "SDI"}, headers=api.headers("sdi_worker")
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["guide"] == {"lower": 2, "upper": 3}
        (sdi,) = answer["prisons"]
        by_name = {w["name"]: w for w in sdi["workers"]}
        assert [w["name"] for w in sdi["workers"]] == ["Aoife", "Bethan", "Ceri"]
        assert (by_name["Aoife"]["count"], by_name["Aoife"]["over_guide"]) == (4, True)
        assert (by_name["Bethan"]["count"], by_name["Bethan"]["over_guide"]) == (1, False)
        assert by_name["Bethan"]["under_guide"] and not by_name["Aoife"]["under_guide"]
        assert by_name["Ceri"]["women"] == [] and by_name["Ceri"]["staff_member_id"] == idle["id"]
        assert {w["mother_id"] for w in by_name["Aoife"]["women"]} == {w["id"] for w in women[:4]}
        shown = by_name["Bethan"]["women"][0]
        assert shown == {
            "mother_id": women[4]["id"],
            "first_name": "Siân",
            "last_name": "O'Connor",
            "prison_number": women[4]["prison_number"],
            "allocated_on": str(TODAY),
        }
        # The default guide: Believe's 15 to 20.
        assert caseloads(api, prison_code="SDI")["guide"] == {"lower": 15, "upper": 20}
        assert not any(
            w["over_guide"] for w in caseloads(api, prison_code="SDI")["prisons"][0]["workers"]
        )

    def test_active_women_only_and_the_unallocated(self, api: Api) -> None:
        worker = enter(api, name="Aoife")
        gone = enter(api, name="Bethan")
        held, closed, moved = (api.mother(prison_code="SDI") for _ in range(3))
        waiting = api.mother(prison_code="SDI")
        closed_case = api.mother(prison_code="SDI")
        for woman in (held, closed, moved):
            assert allocate(api, woman["id"], worker["id"]).is_success
        api.patch("admin", f"/v1/mothers/{closed['id']}", {"status": "closed"}, '"1"')
        api.patch("admin", f"/v1/mothers/{closed_case['id']}", {"status": "closed"}, '"1"')
        # Moved to Eastwood Park: on no one's caseload in Send; unallocated in Eastwood Park.
        api.patch("admin", f"/v1/mothers/{moved['id']}", {"prison_code": "EWI"}, '"1"')
        api.patch("admin", f"{STAFF}/{gone['id']}", {"left_on": str(TODAY)}, '"1"')

        (sdi,) = caseloads(api, "sdi_worker")["prisons"]
        assert [w["name"] for w in sdi["workers"]] == ["Aoife"]  # Bethan has left
        assert [w["mother_id"] for w in sdi["workers"][0]["women"]] == [held["id"]]
        assert sdi["workers"][0]["count"] == 1
        assert [w["mother_id"] for w in sdi["unallocated"]] == [waiting["id"]]
        (ewi,) = caseloads(api, "ewi_worker")["prisons"]
        assert [w["mother_id"] for w in ewi["unallocated"]] == [moved["id"]]

    def test_a_worker_sees_her_own_prison_and_an_admin_any(self, api: Api) -> None:
        enter(api, "SDI", name="Aoife")
        enter(api, "EWI", name="Hélène")
        assert (
            api.get("sdi_worker", "/v1/caseloads", params={"prison_code": "EWI"}).status_code == 404
        )
        own = caseloads(api, "sdi_worker", prison_code="SDI")["prisons"]
        assert [p["prison_code"] for p in own] == ["SDI"]
        every = [p["prison_code"] for p in caseloads(api)["prisons"]]
        assert {"EWI", "SDI"} <= set(every) and every == sorted(every)
        assert [p["prison_code"] for p in caseloads(api, prison_code="EWI")["prisons"]] == ["EWI"]
        assert api.get("admin", "/v1/caseloads", params={"prison_code": "XYZ"}).status_code == 422
        for who in ("bristol", "bristol_system", "surrey", "ewi_governor", "auditor"):
            assert api.get(who, "/v1/caseloads").status_code == 403, who

    def test_every_woman_shown_is_a_consultation_of_her_record(self, api: Api) -> None:
        worker = enter(api)
        allocated, waiting = api.mother(prison_code="SDI"), api.mother(prison_code="SDI")
        allocation = allocate(api, allocated["id"], worker["id"]).json()
        response = api.get("sdi_worker", "/v1/caseloads")
        rows = {row[2:6] for row in trail(api, response)}
        assert rows == {
            ("consult", "mother", allocated["id"], allocated["id"]),
            ("consult", "mother", waiting["id"], waiting["id"]),
            ("consult", "allocation", allocation["id"], allocated["id"]),
        }

    def test_the_same_statements_whatever_the_prisons_size(self, api: Api) -> None:
        workers = [enter(api, name=f"Worker {n}") for n in range(2)]
        woman = api.mother(prison_code="SDI")
        allocate(api, woman["id"], workers[0]["id"])
        with counting(api) as small:
            caseloads(api, "sdi_worker")
        more = [enter(api, name=f"Worker {n}") for n in range(2, 5)]
        for n in range(6):
            woman = api.mother(prison_code="SDI")
            allocate(api, woman["id"], (workers + more)[n % 5]["id"])
        api.mother(prison_code="SDI")
        with counting(api) as large:
            caseloads(api, "sdi_worker")
        # The caller's (token, rate limit), the prisons, their staff, their women, the audit.
        assert len(small) == len(large) == statements(api, sqlite=6, postgres=5), large
        with counting(api) as every_prison:
            caseloads(api)
        assert len(every_prison) == len(large)


class TestSubjectAccess:
    def test_her_workers_are_in_her_export_without_how_they_sign_in(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        worker = enter(api, name="Aoife Ní Bhriain", api_client_id=client_id(api, "sdi_worker"))
        enter(api, name="Not hers")
        assert allocate(api, mother["id"], worker["id"]).is_success

        export = api.get("admin", f"/v1/mothers/{mother['id']}/subject-access-export").json()
        (entry,) = export["records"]["staff_member"]
        assert entry["id"] == worker["id"] and entry["name"] == "Aoife Ní Bhriain"
        for field in ("identity_subject", "api_client_id", "signs_in_as"):
            assert field not in entry
        assert [a["staff_member_id"] for a in export["records"]["allocation"]] == [worker["id"]]
        (withheld,) = [w for w in export["withheld"] if w["table"] == "staff_member"]
        assert withheld["record_id"] == worker["id"]
        assert withheld["fields"] == ["identity_subject", "api_client_id", "signs_in_as"]
        assert client_id(api, "sdi_worker") not in json.dumps(export["records"])


def test_me_is_read_only(api: Api) -> None:
    """ "me" is no entry's id: another method is 405, not a 422 about the id."""
    response = api.patch("admin", f"{STAFF}/me", {"name": "X"}, '"1"')
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.headers["content-type"] == "application/problem+json"
    options = api.client.options(f"{STAFF}/me", headers=api.headers("admin"))
    assert options.status_code == 405 and options.headers["Allow"] == "GET"
