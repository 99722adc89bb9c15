import base64
import json
import uuid
from datetime import timedelta

import pytest

from tac_api.pagination import encode_cursor
from tests.support.api import Api
from tests.support.bodies import TODAY, child_body


def count_children(api: Api) -> int:
    return api.sql("SELECT count(*) FROM child")[0][0]


class TestCreate:
    def test_record_a_child(self, api: Api) -> None:
        mother = api.mother()
        response = api.post(
            "ewi_worker",
            f"/v1/mothers/{mother['id']}/children",
            child_body(
                first_name="Seán",
                contact_arrangement="supervised",
                contact_arrangement_reason="Agreed at the looked-after child review.",
                social_worker={"name": "Hélène D'Arcy", "phone": "0117 496 0000"},
            ),
        )
        assert response.status_code == 201, response.text
        child = response.json()
        assert child["mother_id"] == mother["id"] and child["first_name"] == "Seán"
        assert child["social_worker"] == {
            "name": "Hélène D'Arcy",
            "email": None,
            "phone": "0117 496 0000",
        }
        assert response.headers["Location"] == f"/v1/children/{child['id']}"
        assert api.get("ewi_worker", f"/v1/children/{child['id']}").json() == child

    def test_an_unborn_child_has_an_expected_date_and_no_age(self, api: Api) -> None:
        mother = api.mother()
        due = str(TODAY + timedelta(days=90))
        child = api.child(mother["id"], date_of_birth=None, expected_date=due, lives_with="mother")
        assert child["age"] is None and child["expected_date"] == due

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"date_of_birth": None}, "date_of_birth"),
            ({"expected_date": "2026-12-01"}, "date_of_birth"),
            ({"date_of_birth": str(TODAY + timedelta(days=1))}, "date_of_birth"),
            ({"date_of_birth": "1985-01-01"}, "date_of_birth"),  # before his mother was born
            (
                {"date_of_birth": None, "expected_date": str(TODAY + timedelta(days=400))},
                "expected_date",
            ),
            ({"contact_arrangement": "none"}, "contact_arrangement_reason"),
            ({"local_authority_code": "999"}, "local_authority_code"),
            ({"local_authority_code": "928"}, "local_authority_code"),  # Northamptonshire, gone
            ({"legal_status": "Q9"}, "legal_status"),
            ({"placement_type": "Q9"}, "placement_type"),
            ({"lives_with": "neighbour"}, "lives_with"),
            ({"sex": "x"}, "sex"),
            ({"mother_id": "00000000-0000-4000-8000-000000000000"}, "mother_id"),
            ({"social_worker": {"name": "Gwen", "email": "not-an-email"}}, "social_worker.email"),
            ({"social_worker": {"name": "Gwen", "badge": 1}}, "social_worker.badge"),
        ],
    )
    def test_rules_refuse_bad_input_and_write_nothing(
        self, api: Api, fields: dict, field: str
    ) -> None:
        mother = api.mother(date_of_birth="1990-04-12")
        response = api.post("admin", f"/v1/mothers/{mother['id']}/children", child_body(**fields))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]
        assert count_children(api) == 0

    def test_only_for_mothers_in_scope(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        url = f"/v1/mothers/{mother['id']}/children"
        assert api.post("ewi_worker", url, child_body()).status_code == 404
        assert api.post("bristol", url, child_body()).status_code == 403
        assert count_children(api) == 0


class TestScope:
    def test_local_authority_reads_only_its_own_children(self, api: Api) -> None:
        mother = api.mother()
        ours = api.child(mother["id"], local_authority_code="801")
        theirs = api.child(mother["id"], local_authority_code="936", first_name="Nia")
        assert api.get("bristol", f"/v1/children/{ours['id']}").status_code == 200
        assert api.get("bristol", f"/v1/children/{theirs['id']}").status_code == 404
        listed = api.get("bristol", f"/v1/mothers/{mother['id']}/children").json()["items"]
        assert [c["id"] for c in listed] == [ours["id"]]
        everyone = api.get("ewi_worker", f"/v1/mothers/{mother['id']}/children").json()
        assert {c["id"] for c in everyone["items"]} == {ours["id"], theirs["id"]}

    def test_prison_social_worker_reads_her_prisons_children_only(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        child = api.child(mother["id"])
        assert api.get("ewi_worker", f"/v1/children/{child['id']}").status_code == 404
        assert api.get("sdi_worker", f"/v1/children/{child['id']}").status_code == 200
        assert api.get("ewi_worker", f"/v1/mothers/{mother['id']}/children").status_code == 404

    def test_her_children_out_of_sight_name_her_as_the_mother_not_found(self, api: Api) -> None:
        """The list is of her children: what is not visible is her, not a child with her id."""
        mother = api.mother(prison_code="SDI")
        for mother_id in (mother["id"], str(uuid.uuid4())):
            response = api.get("ewi_worker", f"/v1/mothers/{mother_id}/children")
            assert response.status_code == 404
            assert response.json()["detail"] == (
                f"No mother with id {mother_id} is visible to you."
            )


class TestUpdate:
    def test_patch_with_if_match(self, api: Api) -> None:
        child = api.child(api.mother()["id"])
        url = f"/v1/children/{child['id']}"
        change = {"lives_with": "kinship_carer", "placement_type": "U1"}
        assert api.patch("ewi_worker", url, change).status_code == 428
        assert api.patch("ewi_worker", url, change, if_match='"7"').status_code == 412
        response = api.patch("ewi_worker", url, change, if_match=child_etag(child))
        assert response.status_code == 200
        assert response.json()["lives_with"] == "kinship_carer"
        assert response.json()["version"] == 2

    def test_a_change_that_changes_nothing_keeps_its_version_and_history(self, api: Api) -> None:
        """Nothing altered: the ETag still holds, the history has nothing new, and the audit
        trail says the record was consulted."""
        child = api.child(api.mother()["id"])
        url = f"/v1/children/{child['id']}"
        same = {key: child[key] for key in ("first_name", "lives_with", "placement_type")}
        response = api.patch("bristol", url, same, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"1"'
        assert response.json()["updated_at"] == child["updated_at"]
        assert len(api.get("bristol", f"{url}/history").json()["items"]) == 1  # its creation
        audited = "SELECT action FROM audit_event WHERE request_id = :r AND resource_type = :t"
        assert api.sql(audited, r=response.headers["X-Request-ID"], t="child") == [("consult",)]
        changed = api.patch("bristol", url, {**same, "lives_with": "kinship_carer"}, '"1"')
        assert changed.headers["ETag"] == '"2"'
        assert len(api.get("bristol", f"{url}/history").json()["items"]) == 2
        assert api.sql(audited, r=changed.headers["X-Request-ID"], t="child") == [("alter",)]

    def test_born_at_last(self, api: Api) -> None:
        child = api.child(
            api.mother()["id"], date_of_birth=None, expected_date=str(TODAY + timedelta(days=10))
        )
        response = api.patch(
            "admin",
            f"/v1/children/{child['id']}",
            {"date_of_birth": str(TODAY), "expected_date": None},
            if_match='"1"',
        )
        assert response.status_code == 200 and response.json()["age"] == 0

    @pytest.mark.parametrize(
        "change",
        [
            {"contact_arrangement": "indirect_only"},  # no reason given
            {"lives_with": None},
            {"mother_id": "00000000-0000-4000-8000-000000000000"},
            {"local_authority_code": "000"},
        ],
    )
    def test_bad_changes_write_nothing(self, api: Api, change: dict) -> None:
        child = api.child(api.mother()["id"])
        url = f"/v1/children/{child['id']}"
        assert api.patch("admin", url, change, if_match='"1"').status_code == 422
        assert api.get("admin", url).json() == child

    def test_a_local_authority_keeps_its_own_childrens_records(self, api: Api) -> None:
        child = api.child(api.mother()["id"], local_authority_code="801")
        url = f"/v1/children/{child['id']}"
        change = {"legal_status": "E1", "carer": {"name": "Bethan Ap Rhys"}}
        response = api.patch("bristol_system", url, change, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.json()["carer"]["name"] == "Bethan Ap Rhys"
        assert api.patch("surrey", url, {"sex": "female"}, if_match='"2"').status_code == 404

    def test_a_local_authority_cannot_hand_a_child_to_another(self, api: Api) -> None:
        child = api.child(api.mother()["id"], local_authority_code="801")
        url = f"/v1/children/{child['id']}"
        response = api.patch("bristol", url, {"local_authority_code": "936"}, if_match='"1"')
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "local_authority_code"
        assert api.get("admin", url).json() == child
        moved = api.patch("ewi_worker", url, {"local_authority_code": "936"}, if_match='"1"')
        assert moved.status_code == 200

    @pytest.mark.parametrize(
        "field",
        [
            {"id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"},
            {"version": 7},
            {"mother_id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"},
            {"created_at": "2020-01-01T00:00:00Z"},
            {"placement_withheld": False},
            {"age": 3},
        ],
    )
    def test_fields_the_service_keeps_cannot_be_written(self, api: Api, field: dict) -> None:
        child = api.child(api.mother()["id"])
        url = f"/v1/children/{child['id']}"
        response = api.patch("admin", url, field, if_match='"1"')
        assert response.status_code == 422
        assert api.get("admin", url).json() == child

    def test_clear_the_social_worker(self, api: Api) -> None:
        child = api.child(api.mother()["id"])
        url = f"/v1/children/{child['id']}"
        response = api.patch("admin", url, {"social_worker": None}, if_match='"1"')
        assert response.json()["social_worker"] is None


def child_etag(child: dict) -> str:
    return f'"{child["version"]}"'


class TestFamily:
    def build(self, api: Api) -> tuple[dict, dict]:
        mother = api.mother()
        ids = {
            "rhys": api.child(
                mother["id"],
                first_name="Rhys",
                date_of_birth="2014-05-01",
                local_authority_code="801",
                lives_with="foster_carer",
                social_worker={"name": "Gwen Llewellyn", "email": "gwen@bristol.example.gov.uk"},
            )["id"],
            "cerys": api.child(
                mother["id"],
                first_name="Cerys",
                date_of_birth="2016-08-09",
                local_authority_code="801",
                lives_with="foster_carer",
                social_worker={"name": "gwen llewellyn ", "email": "GWEN@bristol.example.gov.uk"},
            )["id"],
            "leo": api.child(
                mother["id"],
                first_name="Leo",
                date_of_birth="2020-01-20",
                local_authority_code="936",
                lives_with="father",
                legal_status=None,
                placement_type=None,
                placement_confidential=True,
                social_worker={"name": "Tomás Ó Briain", "phone": "01483 000000"},
            )["id"],
            "unborn": api.child(
                mother["id"],
                first_name="Baby",
                date_of_birth=None,
                lives_with="mother",
                expected_date=str(TODAY + timedelta(days=60)),
                local_authority_code="803",
                social_worker=None,
            )["id"],
        }
        return mother, ids

    def test_the_cross_authority_picture(self, api: Api) -> None:
        mother, ids = self.build(api)
        response = api.get("ewi_worker", f"/v1/mothers/{mother['id']}/family")
        assert response.status_code == 200
        family = response.json()
        assert family["separated"] is True
        assert [c["first_name"] for c in family["children"]] == ["Rhys", "Cerys", "Leo"]
        assert [c["id"] for c in family["unborn"]] == [ids["unborn"]]
        households = {
            (h["lives_with"], h["local_authority_code"]): h["child_ids"]
            for h in family["households"]
        }
        assert households == {
            ("foster_carer", "801"): [ids["rhys"], ids["cerys"]],
            (None, "936"): [ids["leo"]],  # a confidential placement: withheld
        }
        authorities = {a["dfe_number"]: a for a in family["local_authorities"]}
        assert set(authorities) == {"801", "936", "803"}
        assert authorities["801"]["name"] == "Bristol, City of"
        assert authorities["801"]["child_ids"] == [ids["rhys"], ids["cerys"]]
        workers = sorted(family["social_workers"], key=lambda w: w["name"])
        assert [(w["name"], w["child_ids"]) for w in workers] == [
            ("Gwen Llewellyn", [ids["rhys"], ids["cerys"]]),  # one worker, typed twice
            ("Tomás Ó Briain", [ids["leo"]]),
        ]

    def test_siblings_together_are_not_separated(self, api: Api) -> None:
        mother = api.mother()
        api.child(mother["id"], first_name="Rhys")
        api.child(mother["id"], first_name="Cerys", date_of_birth="2018-01-01")
        family = api.get("admin", f"/v1/mothers/{mother['id']}/family").json()
        assert family["separated"] is False and len(family["households"]) == 1

    def test_a_local_authority_sees_others_only_to_coordinate(self, api: Api) -> None:
        mother, ids = self.build(api)
        family = api.get("surrey", f"/v1/mothers/{mother['id']}/family").json()
        children = {c["id"]: c for c in family["children"]}
        assert "lives_with" in children[ids["leo"]]  # Surrey's own child, in full
        assert set(children[ids["rhys"]]) == {
            "id",
            "first_name",
            "age",
            "local_authority_code",
            "social_worker",
        }
        assert children[ids["rhys"]]["social_worker"]["name"] == "Gwen Llewellyn"
        households = {h["local_authority_code"]: h["lives_with"] for h in family["households"]}
        assert households == {"801": None, "936": "father"}
        assert family["separated"] is True

    def test_not_visible_to_an_authority_without_her_children(self, api: Api) -> None:
        mother = api.mother()
        api.child(mother["id"], local_authority_code="801")
        assert api.get("surrey", f"/v1/mothers/{mother['id']}/family").status_code == 404


class TestList:
    def test_pages_through_her_children(self, api: Api) -> None:
        mother = api.mother()
        names = ["Élodie", "Iolo", "Leo", "Nia", "Rhys"]
        for name in reversed(names):
            api.child(mother["id"], first_name=name)
        seen, url = [], f"/v1/mothers/{mother['id']}/children?limit=2"
        while url:
            response = api.get("ewi_worker", url)
            body = response.json()
            seen += [c["first_name"] for c in body["items"]]
            url = body["next_cursor"] and (
                f"/v1/mothers/{mother['id']}/children?limit=2&cursor={body['next_cursor']}"
            )
            assert ("Link" in response.headers) == bool(body["next_cursor"])
        assert seen == sorted(names)

    def test_a_cursor_is_the_childs_id_and_pages_through_twins_of_one_name(self, api: Api) -> None:
        mother = api.mother()
        made = [api.child(mother["id"], first_name="Nia") for _ in range(3)]
        made.append(api.child(mother["id"], first_name="Aled", last_name="Zeller"))
        url = f"/v1/mothers/{mother['id']}/children"
        seen, cursor = [], None
        while True:
            body = api.get(
                "admin", url, params={"limit": 1, "cursor": cursor} if cursor else {"limit": 1}
            ).json()
            seen += [c["id"] for c in body["items"]]
            if not (cursor := body["next_cursor"]):
                break
            padded = cursor + "=" * (-len(cursor) % 4)
            assert json.loads(base64.urlsafe_b64decode(padded)) == [body["items"][-1]["id"]]
        by_name = sorted(made, key=lambda c: (c["last_name"], c["first_name"], c["id"]))
        assert seen == [c["id"] for c in by_name]

    def test_a_cursor_naming_another_authoritys_child_is_422(self, api: Api) -> None:
        """Bristol sees its children of hers only: a cursor naming Surrey's child, or one of
        another mother's, places no page (it would tell where that child's name sorts)."""
        mother, other = api.mother(), api.mother()
        api.child(mother["id"], local_authority_code="801", first_name="Cai")
        surreys = api.child(mother["id"], local_authority_code="936", first_name="Bea")
        elsewhere = api.child(other["id"], local_authority_code="801", first_name="Ann")
        url = f"/v1/mothers/{mother['id']}/children"
        for child in (surreys, elsewhere, {"id": str(uuid.uuid4())}):
            cursor = encode_cursor((child["id"],))
            response = api.get("bristol", url, params={"cursor": cursor})
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == "cursor"
        # Her own child, the last of the list: an empty last page, not a refusal.
        own = api.get("bristol", url).json()["items"][-1]
        after_last = api.get("bristol", url, params={"cursor": encode_cursor((own["id"],))})
        assert after_last.json() == {"items": [], "next_cursor": None}

    def test_a_visible_mother_without_visible_children_is_an_empty_list(self, api: Api) -> None:
        mother = api.mother()
        assert api.get("admin", f"/v1/mothers/{mother['id']}/children").json() == {
            "items": [],
            "next_cursor": None,
        }
        api.child(mother["id"], local_authority_code="801")
        api.child(mother["id"], local_authority_code="936")
        surrey = api.get("surrey", f"/v1/mothers/{mother['id']}/children").json()["items"]
        assert [c["local_authority_code"] for c in surrey] == ["936"]


CARER = {"name": "Morwenna Trevithick", "phone": "01179 496 000", "address": "1 Quay St"}


class TestConfidentialPlacement:
    CARER = CARER

    def confidential(self, api: Api) -> tuple[dict, dict]:
        mother = api.mother()
        child = api.child(
            mother["id"],
            local_authority_code="801",
            placement_confidential=True,
            placement_type="U1",
            carer=self.CARER,
        )
        return mother, child

    def test_only_the_childs_own_authority_sees_where_and_with_whom(self, api: Api) -> None:
        mother, child = self.confidential(api)
        url = f"/v1/children/{child['id']}"
        own = api.get("bristol", url).json()
        assert own["placement_withheld"] is False
        assert (own["lives_with"], own["placement_type"], own["carer"]) == (
            "foster_carer",
            "U1",
            self.CARER,
        )
        for who in ("admin", "ewi_worker"):
            seen = api.get(who, url).json()
            assert seen["placement_withheld"] is True, who
            assert (seen["lives_with"], seen["placement_type"], seen["carer"]) == (None,) * 3
            assert "Trevithick" not in api.get(who, f"/v1/mothers/{mother['id']}/children").text
            family = api.get(who, f"/v1/mothers/{mother['id']}/family").json()
            assert family["households"][0]["lives_with"] is None
            assert "Trevithick" not in str(family)
        summary = api.get("ewi_worker", f"/v1/mothers/{mother['id']}").json()["children"][0]
        assert (summary["lives_with"], summary["placement_withheld"]) == (None, True)
        # Whoever recorded it sees it withheld from the moment it is saved.
        assert child["carer"] is None and child["placement_withheld"] is True

    def test_an_ordinary_placement_is_shown_to_the_prison_side(self, api: Api) -> None:
        child = api.child(api.mother()["id"], carer=self.CARER)
        seen = api.get("ewi_worker", f"/v1/children/{child['id']}").json()
        assert (seen["carer"], seen["placement_withheld"]) == (self.CARER, False)

    @pytest.mark.parametrize(
        "change",
        [
            {"lives_with": "kinship_carer"},
            {"placement_type": "U3"},
            {"carer": None},
            {"placement_confidential": False},
        ],
    )
    def test_only_the_childs_own_authority_changes_it(self, api: Api, change: dict) -> None:
        _, child = self.confidential(api)
        url = f"/v1/children/{child['id']}"
        for who in ("ewi_worker", "admin"):
            response = api.patch(who, url, change, if_match='"1"')
            assert response.status_code == 422, (who, response.text)
        assert api.get("bristol", url).json()["version"] == 1
        assert api.patch("bristol", url, change, if_match='"1"').status_code == 200

    def test_the_prison_side_may_still_mark_a_placement_confidential(self, api: Api) -> None:
        child = api.child(api.mother()["id"], carer=self.CARER)
        url = f"/v1/children/{child['id']}"
        response = api.patch("ewi_worker", url, {"placement_confidential": True}, if_match='"1"')
        assert response.status_code == 200
        assert response.json()["carer"] is None

    def test_a_hidden_placement_is_a_household_of_its_own(self, api: Api) -> None:
        mother = api.mother()
        visible = api.child(mother["id"], lives_with="kinship_carer", carer=self.CARER)
        hidden = api.child(
            mother["id"], first_name="Nia", lives_with="kinship_carer", placement_confidential=True
        )
        family = api.get("ewi_worker", f"/v1/mothers/{mother['id']}/family").json()
        households = sorted((h["lives_with"] or "", h["child_ids"]) for h in family["households"])
        # Grouped with her brother, Nia would be shown living where he lives, with his carer.
        assert households == [("", [hidden["id"]]), ("kinship_carer", [visible["id"]])]
        assert family["separated"] is False  # a hidden placement says nothing either way
        own = api.get("bristol", f"/v1/mothers/{mother['id']}/family").json()
        assert [set(h["child_ids"]) for h in own["households"]] == [{visible["id"], hidden["id"]}]

    def test_moving_a_child_to_another_authority_leaves_the_carer_behind(self, api: Api) -> None:
        _, child = self.confidential(api)
        url = f"/v1/children/{child['id']}"
        moved = api.patch("ewi_worker", url, {"local_authority_code": "936"}, if_match='"1"')
        assert moved.status_code == 200
        # Had the code been mistyped, Surrey would otherwise now read the carer's address.
        seen = api.get("surrey", url).json()
        assert seen["carer"] is None and seen["placement_withheld"] is False
        assert "Trevithick" not in str(api.sql("SELECT * FROM child"))
