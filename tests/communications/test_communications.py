"""Communications: what the prison social worker relayed, between whom, about which children;
and life story contributions for children with whom contact is not appropriate."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tac_api.pagination import encode_cursor
from tests.support import sql
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import communication_body
from tests.support.sql import counting, statements


def url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/communications"


def count(api: Api) -> list[int]:
    return [sql.count(api, table) for table in ("communication", "communication_child")]


def life_story(child_id: str, **fields: Any) -> dict[str, Any]:
    return communication_body(
        kind="life_story_contribution",
        from_party="mother",
        from_name=None,
        to_party="la_social_worker",
        channel="letter",
        summary="A letter for Nia's memory book about the day she was born.",
        item_description="Letter, two pages, and a photo of the hospital bracelet.",
        child_ids=[child_id],
        **fields,
    )


class TestCreate:
    def test_record_what_was_relayed(self, api: Api) -> None:
        mother = api.mother()
        rhys = api.child(mother["id"], first_name="Rhys")
        cerys = api.child(mother["id"], first_name="Cerys")
        body = communication_body(
            to_name="Siân O'Connor", child_ids=[rhys["id"], cerys["id"]], channel="video_call"
        )
        response = api.post("ewi_worker", url(mother["id"]), body)
        assert response.status_code == 201, response.text
        relayed = response.json()
        assert response.headers["Location"] == f"/v1/communications/{relayed['id']}"
        assert response.headers["ETag"] == '"1"'
        assert relayed["kind"] == "relay" and relayed["item_description"] is None
        assert relayed["from_party"] == "la_social_worker" and relayed["to_name"] == "Siân O'Connor"
        assert relayed["occurred_at"] == "2026-01-15T10:30:00Z"
        assert relayed["child_ids"] == sorted([rhys["id"], cerys["id"]])
        assert relayed["mother_id"] == mother["id"]
        assert api.get("ewi_worker", f"/v1/communications/{relayed['id']}").json() == relayed
        assert trail(api, response) == [
            (
                "ewi_worker",
                "prison_social_worker",
                "collect",
                "communication",
                relayed["id"],
                mother["id"],
                "succeeded",
            )
        ]

    def test_about_her_alone(self, api: Api) -> None:
        mother = api.mother()
        body = communication_body(from_party="solicitor", summary="Hearing moved to Thursday.")
        response = api.post("admin", url(mother["id"]), body)
        assert response.status_code == 201 and response.json()["child_ids"] == []

    def test_a_time_with_an_offset_is_kept_as_utc(self, api: Api) -> None:
        mother = api.mother()
        body = communication_body(occurred_at="2026-06-01T09:00:00+01:00")
        relayed = api.post("admin", url(mother["id"]), body).json()
        assert relayed["occurred_at"] == "2026-06-01T08:00:00Z"

    def test_a_life_story_contribution(self, api: Api) -> None:
        mother = api.mother()
        nia = api.child(
            mother["id"],
            first_name="Nia",
            lives_with="adopters",
            contact_arrangement="none",
            contact_arrangement_reason="Nature of the offence.",
        )
        response = api.post("admin", url(mother["id"]), life_story(nia["id"]))
        assert response.status_code == 201, response.text
        contribution = response.json()
        assert contribution["kind"] == "life_story_contribution"
        assert contribution["child_ids"] == [nia["id"]]
        assert contribution["item_description"].startswith("Letter, two pages")

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"occurred_at": "2099-01-01T00:00:00Z"}, "occurred_at"),
            ({"occurred_at": 1760000000}, "occurred_at"),
            ({"occurred_at": "yesterday"}, "occurred_at"),
            ({"to_party": "la_social_worker"}, "to_party"),  # to herself
            ({"from_party": "neighbour"}, "from_party"),
            ({"channel": "carrier_pigeon"}, "channel"),
            ({"kind": "gossip"}, "kind"),
            ({"summary": ""}, "summary"),
            ({"summary": "x" * 2001}, "summary"),
            ({"item_description": "A photo."}, "item_description"),  # a relay has no item
            ({"to_party": "child"}, "child_ids"),  # to which child?
            ({"child_ids": [str(uuid.uuid4())]}, "child_ids"),  # the one children rule
            ({"child_ids": ["not-a-uuid"]}, "child_ids.0"),
            ({"mother_id": str(uuid.uuid4())}, "mother_id"),
            ({"id": str(uuid.uuid4())}, "id"),
            ({"version": 2}, "version"),
            ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ],
    )
    def test_rules_refuse_bad_input_and_write_nothing(
        self, api: Api, fields: dict[str, Any], field: str
    ) -> None:
        mother = api.mother()
        response = api.post("admin", url(mother["id"]), communication_body(**fields))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]
        assert count(api) == [0, 0]

    def test_a_child_must_be_hers_and_named_once(self, api: Api) -> None:
        mother, other = api.mother(), api.mother()
        hers = api.child(mother["id"])
        not_hers = api.child(other["id"])
        response = api.post(
            "admin", url(mother["id"]), communication_body(child_ids=[hers["id"], not_hers["id"]])
        )
        assert response.status_code == 422
        assert response.json()["errors"] == [
            # The one rule every record naming children keeps, with its messages.
            {
                "location": "body",
                "field": "child_ids",
                "message": "item 2 is not one of her children",
            }
        ]
        twice = communication_body(child_ids=[hers["id"], hers["id"]])
        response = api.post("admin", url(mother["id"]), twice)
        assert response.status_code == 422
        assert response.json()["errors"][0]["message"] == "names a child more than once"
        assert count(api) == [0, 0]

    def test_other_parties_may_both_be_other(self, api: Api) -> None:
        mother = api.mother()
        body = communication_body(from_party="other", to_party="other", from_name="Chaplaincy")
        assert api.post("admin", url(mother["id"]), body).status_code == 201

    def test_nothing_relayed_to_or_from_a_child_she_may_have_no_contact_with(
        self, api: Api
    ) -> None:
        mother = api.mother()
        nia = api.child(
            mother["id"],
            first_name="Nia",
            contact_arrangement="none",
            contact_arrangement_reason="Nature of the offence.",
        )
        for parties in ({"to_party": "child"}, {"from_party": "child", "to_party": "mother"}):
            body = communication_body(**parties, child_ids=[nia["id"]])
            response = api.post("admin", url(mother["id"]), body)
            assert response.status_code == 422, response.text
            assert "life story contribution" in response.json()["errors"][0]["message"]
        assert count(api) == [0, 0]
        # Her social worker may still tell her how Nia is.
        about = communication_body(child_ids=[nia["id"]])
        assert api.post("admin", url(mother["id"]), about).status_code == 201
        # Letters only: a letter to the child is what that allows.
        leo = api.child(
            mother["id"],
            first_name="Leo",
            contact_arrangement="indirect_only",
            contact_arrangement_reason="Letterbox contact agreed.",
        )
        letter = communication_body(
            from_party="mother", to_party="child", channel="letter", child_ids=[leo["id"]]
        )
        assert api.post("admin", url(mother["id"]), letter).status_code == 201

    def test_a_life_story_contribution_names_one_child_and_its_item(self, api: Api) -> None:
        mother = api.mother()
        arrangement = {
            "contact_arrangement": "none",
            "contact_arrangement_reason": "Nature of the offence.",
        }
        nia = api.child(mother["id"], first_name="Nia", **arrangement)
        leo = api.child(mother["id"], first_name="Leo", **arrangement)
        cases = [
            (life_story(nia["id"]) | {"child_ids": []}, "child_ids"),
            (life_story(nia["id"]) | {"child_ids": [nia["id"], leo["id"]]}, "child_ids"),
            (life_story(nia["id"]) | {"item_description": None}, "item_description"),
        ]
        for body, field in cases:
            response = api.post("admin", url(mother["id"]), body)
            assert response.status_code == 422, response.text
            assert field in [e["field"] for e in response.json()["errors"]]
        assert count(api) == [0, 0]

    def test_life_story_work_is_for_children_without_direct_contact(self, api: Api) -> None:
        mother = api.mother()
        rhys = api.child(mother["id"], contact_arrangement="direct")
        response = api.post("admin", url(mother["id"]), life_story(rhys["id"]))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "child_ids.0"
        leo = api.child(
            mother["id"],
            first_name="Leo",
            contact_arrangement="indirect_only",
            contact_arrangement_reason="Letterbox contact agreed.",
        )
        assert api.post("admin", url(mother["id"]), life_story(leo["id"])).status_code == 201

    def test_only_the_prison_side_in_scope(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        child = api.child(mother["id"], local_authority_code="801")
        body = communication_body(child_ids=[child["id"]])
        assert api.post("ewi_worker", url(mother["id"]), body).status_code == 404
        assert api.post("bristol", url(mother["id"]), body).status_code == 403
        assert api.post("admin", url(str(uuid.uuid4())), body).status_code == 404
        assert count(api) == [0, 0]
        assert api.post("sdi_worker", url(mother["id"]), body).status_code == 201


def listed(api: Api, who: str, mother_id: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(who, url(mother_id), params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


class TestRead:
    def test_a_local_authority_reads_what_concerns_its_children(self, api: Api) -> None:
        mother = api.mother()
        ours = api.child(mother["id"], local_authority_code="801")
        theirs = api.child(mother["id"], local_authority_code="936", first_name="Dafydd")
        both = api.post(
            "admin", url(mother["id"]), communication_body(child_ids=[ours["id"], theirs["id"]])
        ).json()
        surreys = api.post(
            "admin", url(mother["id"]), communication_body(child_ids=[theirs["id"]])
        ).json()
        hers = api.post("admin", url(mother["id"]), communication_body()).json()

        items = listed(api, "bristol", mother["id"])
        assert [i["id"] for i in items] == [both["id"]]
        assert items[0]["child_ids"] == [ours["id"]]  # Surrey's child is not Bristol's to know
        assert api.get("bristol", f"/v1/communications/{surreys['id']}").status_code == 404
        assert api.get("bristol", f"/v1/communications/{hers['id']}").status_code == 404
        shown = api.get("bristol_system", f"/v1/communications/{both['id']}").json()
        assert shown["child_ids"] == [ours["id"]]
        surrey = {i["id"] for i in listed(api, "surrey", mother["id"])}
        assert surrey == {both["id"], surreys["id"]}
        everything = listed(api, "ewi_worker", mother["id"])
        assert {i["id"] for i in everything} == {both["id"], surreys["id"], hers["id"]}

    def test_filtering_by_another_authoritys_child_finds_nothing(self, api: Api) -> None:
        mother = api.mother()
        ours = api.child(mother["id"], local_authority_code="801")
        theirs = api.child(mother["id"], local_authority_code="936", first_name="Dafydd")
        both = api.post(
            "admin", url(mother["id"]), communication_body(child_ids=[ours["id"], theirs["id"]])
        ).json()
        assert listed(api, "bristol", mother["id"], child_id=theirs["id"]) == []
        assert [i["id"] for i in listed(api, "bristol", mother["id"], child_id=ours["id"])] == [
            both["id"]
        ]
        assert [i["id"] for i in listed(api, "surrey", mother["id"], child_id=theirs["id"])] == [
            both["id"]
        ]
        assert [
            i["id"] for i in listed(api, "ewi_worker", mother["id"], child_id=theirs["id"])
        ] == [both["id"]]

    def test_a_confidential_placements_carer_is_not_named(self, api: Api) -> None:
        mother = api.mother()
        hidden = api.child(
            mother["id"], first_name="Nia", local_authority_code="801", placement_confidential=True
        )
        surreys = api.child(mother["id"], local_authority_code="936", first_name="Dafydd")
        from_carer = communication_body(
            from_party="carer",
            from_name="Eirlys Price",
            to_party="mother",
            child_ids=[hidden["id"], surreys["id"]],
        )
        created = api.post("admin", url(mother["id"]), from_carer)
        assert created.status_code == 201, created.text
        assert created.json()["from_name"] is None
        to_carer = communication_body(
            from_party="mother",
            from_name="Siân O'Connor",
            to_party="carer",
            to_name="Eirlys Price",
            child_ids=[hidden["id"]],
        )
        second = api.post("ewi_worker", url(mother["id"]), to_carer).json()
        ids = [created.json()["id"], second["id"]]
        for who in ("admin", "ewi_worker", "surrey"):
            for item in listed(api, who, mother["id"]):
                assert item["from_name"] != "Eirlys Price" and item["to_name"] is None, who
            got = api.get(who, f"/v1/communications/{ids[0]}").json()
            assert got["from_name"] is None and got["from_party"] == "carer", who
        shown = api.get("admin", f"/v1/communications/{second['id']}").json()
        assert shown["from_name"] == "Siân O'Connor"  # not a carer: named as ever
        for item in listed(api, "bristol", mother["id"]):
            assert "Eirlys Price" in (item["from_name"], item["to_name"])
        # With no confidential placement among its children, a carer is named.
        open_child = api.child(mother["id"], first_name="Rhys")
        body = from_carer | {"child_ids": [open_child["id"]]}
        assert api.post("admin", url(mother["id"]), body).json()["from_name"] == "Eirlys Price"

    def test_a_local_authority_without_her_children_sees_nothing(self, api: Api) -> None:
        mother = api.mother()
        api.child(mother["id"], local_authority_code="801")
        assert api.get("surrey", url(mother["id"])).status_code == 404

    def test_the_prison_side_reads_its_own_prisons(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        relayed = api.post("admin", url(mother["id"]), communication_body()).json()
        assert api.get("ewi_worker", url(mother["id"])).status_code == 404
        assert api.get("ewi_worker", f"/v1/communications/{relayed['id']}").status_code == 404
        assert api.get("sdi_worker", f"/v1/communications/{relayed['id']}").status_code == 200
        assert api.get("ewi_governor", f"/v1/communications/{relayed['id']}").status_code == 403
        assert api.get("admin", f"/v1/communications/{uuid.uuid4()}").status_code == 404

    def test_oldest_first_filtered_and_paged(self, api: Api) -> None:
        mother = api.mother()
        nia = api.child(
            mother["id"],
            first_name="Nia",
            contact_arrangement="none",
            contact_arrangement_reason="Nature of the offence.",
        )
        start = datetime(2026, 3, 1, 9, tzinfo=UTC)
        made = []
        for n in (4, 1, 3, 0, 2):
            when = (start + timedelta(days=n)).isoformat()
            body = communication_body(occurred_at=when)
            if n % 2:
                body = life_story(nia["id"], occurred_at=when)
            made.append((n, api.post("admin", url(mother["id"]), body).json()["id"]))
        in_order = [i for _, i in sorted(made)]
        assert [i["id"] for i in listed(api, "admin", mother["id"])] == in_order
        stories = listed(api, "admin", mother["id"], kind="life_story_contribution")
        assert [i["id"] for i in stories] == [i for n, i in sorted(made) if n % 2]
        assert listed(api, "admin", mother["id"], child_id=nia["id"]) == stories
        assert listed(api, "admin", mother["id"], child_id=str(uuid.uuid4())) == []
        paged, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = api.get("admin", url(mother["id"]), params=params).json()
            paged += [i["id"] for i in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert paged == in_order
        bad = api.get("admin", url(mother["id"]), params={"kind": "rumour"})
        assert bad.status_code == 422
        not_times = (encode_cursor(("soon", uuid.uuid4())), encode_cursor((7, uuid.uuid4())), "x")
        for cursor in not_times:
            bad = api.get("admin", url(mother["id"]), params={"cursor": cursor})
            assert bad.status_code == 422, bad.text
            assert bad.json()["errors"][0]["field"] == "cursor"

    def test_reads_are_audited_one_row_per_communication(self, api: Api) -> None:
        mother = api.mother()
        ids = [
            api.post("admin", url(mother["id"]), communication_body()).json()["id"] for _ in "ab"
        ]
        response = api.get("ewi_worker", url(mother["id"]))
        assert sorted(trail(api, response)) == sorted(
            (
                "ewi_worker",
                "prison_social_worker",
                "consult",
                "communication",
                i,
                mother["id"],
                "succeeded",
            )
            for i in ids
        )
        one = api.get("bristol", f"/v1/communications/{ids[0]}")
        assert one.status_code == 404
        assert [r[6] for r in trail(api, one)] == ["not_found"]

    def test_a_page_costs_the_same_whatever_its_size(self, api: Api) -> None:
        mother = api.mother()
        children = [api.child(mother["id"], local_authority_code="801")["id"] for _ in range(4)]
        for n in range(12):
            body = communication_body(
                occurred_at=f"2026-02-{n + 1:02d}T10:00:00Z", child_ids=children[: 1 + n % 4]
            )
            api.post("admin", url(mother["id"]), body)
        for who in ("ewi_worker", "bristol"):
            with counting(api) as small:
                api.get(who, url(mother["id"]) + "?limit=2")
            with counting(api) as large:
                response = api.get(who, url(mother["id"]) + "?limit=12")
            assert len(response.json()["items"]) == 12
            # Token, rate limit, her in scope, the page, its children, one audit insert.
            assert len(small) == len(large) == statements(api, sqlite=6, postgres=4), large
        with counting(api) as one:
            api.get("bristol", f"/v1/communications/{response.json()['items'][0]['id']}")
        # Token, rate limit, the communication, its children, audit.
        assert len(one) == statements(api, sqlite=5, postgres=3)
