"""A child's history, and what an authority's sync push does to what the prison side recorded."""

from datetime import timedelta
from typing import Any

from tests.support.api import Api
from tests.support.bodies import BATCH, TODAY, batch_item, sync_child
from tests.support.world import linked_mother

CARER = {"name": "Morwenna Trevithick", "phone": "01179 496 000", "address": "1 Quay St"}
SOCIAL_WORKER = {"name": "Gwen Llewellyn", "email": "gwen@bristol.example.gov.uk", "phone": None}


def history(api: Api, who: str, child_id: str) -> list[dict[str, Any]]:
    response = api.get(who, f"/v1/children/{child_id}/history")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def changed(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {change["field"]: (change["old"], change["new"]) for change in entry["changes"]}


def bare(prison_number: str, **fields: Any) -> dict[str, Any]:
    """What an authority's system sends that holds no social worker or carer for the child."""
    body = sync_child(prison_number, **fields)
    del body["social_worker"]
    return body


def take_up(api: Api) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """The prison side records Rhys with his social worker and carer; Bristol's system then
    sends him for the first time without either."""
    mother = linked_mother(api)
    recorded = api.child(mother["id"], carer=CARER)
    response = api.put("bristol_system", "/v1/sync/children/BR-55", bare(mother["prison_number"]))
    return mother, recorded, response


class TestTakeUp:
    def test_a_first_push_keeps_what_the_prison_side_recorded(self, api: Api) -> None:
        _, recorded, response = take_up(api)

        assert response.status_code == 200, response.text
        assert response.headers["Sync-Result"] == "updated"
        child = response.json()
        assert child["id"] == recorded["id"]
        assert child["social_worker"] == SOCIAL_WORKER
        assert child["carer"] == CARER
        assert child["kept_from_prison_record"] == ["carer", "social_worker"]
        # The record as anyone reads it afterwards says the same.
        read = api.get("bristol", f"/v1/children/{recorded['id']}").json()
        assert (read["social_worker"], read["carer"]) == (SOCIAL_WORKER, CARER)

    def test_the_childs_history_shows_both_sides(self, api: Api) -> None:
        _, recorded, _ = take_up(api)

        entries = history(api, "ewi_worker", recorded["id"])

        assert [e["source"] for e in entries] == ["prison_side", "local_authority"]
        assert [e["changed_by"]["role"] for e in entries] == ["admin", "la_system"]
        created = changed(entries[0])
        assert created["social_worker.name"] == (None, "Gwen Llewellyn")
        assert created["carer.address"] == (None, "1 Quay St")
        # The push took the child up under Bristol's id and kept both: its entry changes neither.
        assert not {"social_worker.name", "carer.name"} & changed(entries[1]).keys()
        assert entries[1]["changes"] == [
            {"field": "external_id", "old": None, "new": None, "withheld": True}
        ]
        own = history(api, "bristol", recorded["id"])[1]
        assert own["changes"] == [
            {"field": "external_id", "old": None, "new": "BR-55", "withheld": False}
        ]

    def test_once_sent_a_field_is_the_authoritys_and_left_out_it_is_cleared(self, api: Api) -> None:
        mother, recorded, _ = take_up(api)
        url = "/v1/sync/children/BR-55"
        worker = {"name": "Rhiannon Pryce-Jones", "email": "rhiannon@bristol.example.gov.uk"}

        sent = api.put(
            "bristol_system", url, {**bare(mother["prison_number"]), "social_worker": worker}
        )
        assert sent.json()["kept_from_prison_record"] == ["carer"]
        left_out = api.put("bristol_system", url, bare(mother["prison_number"]))

        assert left_out.headers["Sync-Result"] == "updated"
        assert left_out.json()["social_worker"] is None
        assert left_out.json()["carer"] == CARER  # still never sent: still the prison side's
        last = changed(history(api, "bristol", recorded["id"])[-1])
        assert last["social_worker.name"] == ("Rhiannon Pryce-Jones", None)

    def test_sending_the_value_the_record_holds_makes_the_field_the_authoritys(
        self, api: Api
    ) -> None:
        mother, _, first = take_up(api)
        url = "/v1/sync/children/BR-55"
        same = {**bare(mother["prison_number"]), "social_worker": SOCIAL_WORKER}

        claimed = api.put("bristol_system", url, same)
        assert claimed.headers["Sync-Result"] == "unchanged"
        assert claimed.headers["ETag"] == first.headers["ETag"]
        assert claimed.json()["kept_from_prison_record"] == ["carer"]
        cleared = api.put("bristol_system", url, bare(mother["prison_number"]))

        assert cleared.json()["social_worker"] is None

    def test_the_same_push_again_answers_the_same(self, api: Api) -> None:
        mother, _, first = take_up(api)
        again = api.put("bristol_system", "/v1/sync/children/BR-55", bare(mother["prison_number"]))
        assert again.headers["Sync-Result"] == "unchanged"
        assert again.json() == first.json()

    def test_a_child_the_authority_created_loses_nothing_it_never_sent(self, api: Api) -> None:
        """The prison side adds a carer to a child the authority's system created without one:
        the system's next push, still without a carer, keeps it."""
        mother = linked_mother(api)
        url = "/v1/sync/children/BR-9"
        child = api.put("bristol_system", url, bare(mother["prison_number"])).json()
        api.patch("ewi_worker", f"/v1/children/{child['id']}", {"carer": CARER}, '"1"')

        again = api.put("bristol_system", url, bare(mother["prison_number"]))

        assert again.headers["Sync-Result"] == "unchanged"
        assert again.json()["carer"] == CARER
        assert again.json()["kept_from_prison_record"] == ["carer"]

    def test_a_date_of_birth_replaces_the_expected_date_it_was_recorded_with(
        self, api: Api
    ) -> None:
        """Sending one of the two dates sends both: the record never holds both."""
        mother = linked_mother(api)
        due = str(TODAY - timedelta(days=10))
        recorded = api.child(mother["id"], date_of_birth=None, expected_date=due)

        response = api.put(
            "bristol_system",
            "/v1/sync/children/BR-56",
            bare(mother["prison_number"], date_of_birth=due),
        )

        assert response.status_code == 200, response.text
        assert response.json()["id"] == recorded["id"]
        assert (response.json()["date_of_birth"], response.json()["expected_date"]) == (due, None)

    def test_a_contact_arrangement_sent_takes_its_reason_with_it(self, api: Api) -> None:
        mother = linked_mother(api)
        api.child(
            mother["id"],
            contact_arrangement="supervised",
            contact_arrangement_reason="Agreed at the looked-after child review.",
        )

        response = api.put(
            "bristol_system",
            "/v1/sync/children/BR-57",
            bare(mother["prison_number"], contact_arrangement="direct"),
        )

        assert response.json()["contact_arrangement"] == "direct"
        assert response.json()["contact_arrangement_reason"] is None
        assert response.json()["kept_from_prison_record"] == ["social_worker"]

    def test_a_batch_item_names_the_fields_kept(self, api: Api) -> None:
        mother = linked_mother(api)
        api.child(mother["id"], carer=CARER)
        item = batch_item(mother["prison_number"], "BR-55")
        new = batch_item(mother["prison_number"], "BR-56", first_name="Nia")

        body = api.post("bristol_system", BATCH, {"items": [item, new]}).json()

        assert [r["result"] for r in body["results"]] == ["updated", "created"]
        assert [r["kept_from_prison_record"] for r in body["results"]] == [["carer"], []]
        child = api.get("bristol", f"/v1/children/{body['results'][0]['id']}").json()
        assert child["carer"] == CARER

    def test_a_batch_writes_each_childs_history(self, api: Api) -> None:
        mother = linked_mother(api)
        items = [
            batch_item(mother["prison_number"], f"BR-{n}", first_name=f"Child{n}") for n in range(3)
        ]
        api.post("bristol_system", BATCH, {"items": items})
        items[1]["lives_with"] = "kinship_carer"

        api.post("bristol_system", BATCH, {"items": items})

        rows = api.sql(
            "SELECT child_id, source, changed_by_role FROM child_history "
            "WHERE source = 'local_authority'"
        )
        assert len(rows) == 4  # three created, one changed; the unchanged two write nothing
        assert {(row[1], row[2]) for row in rows} == {("local_authority", "la_system")}


class TestHistory:
    def test_who_changed_which_field_from_what_to_what(self, api: Api) -> None:
        mother = linked_mother(api)
        child = api.child(mother["id"], who="ewi_worker")
        patched = api.patch(
            "bristol",
            f"/v1/children/{child['id']}",
            {"legal_status": "C1", "sex": "unknown"},
            '"1"',
        )

        entries = history(api, "bristol", child["id"])

        assert len(entries) == 2
        latest = entries[1]
        assert (
            latest["source"] == "local_authority"
            and latest["changed_by"]["role"] == "la_practitioner"
        )
        assert latest["changed_by"]["name"] == "bristol"
        assert latest["request_id"] == patched.headers["X-Request-ID"]
        assert latest["changes"] == [
            {"field": "sex", "old": "male", "new": "unknown", "withheld": False},
            {"field": "legal_status", "old": "C2", "new": "C1", "withheld": False},
        ]
        assert (
            entries[0]["source"] == "prison_side"
            and entries[0]["changed_by"]["name"] == "ewi_worker"
        )
        trail = api.get("auditor", "/v1/audit", params={"subject_id": child["id"]}).json()
        assert patched.headers["X-Request-ID"] in {e["request_id"] for e in trail["items"]}

    def test_a_change_that_changes_nothing_writes_nothing(self, api: Api) -> None:
        child = api.child(api.mother()["id"])
        api.patch("ewi_worker", f"/v1/children/{child['id']}", {"sex": "male"}, '"1"')
        assert len(history(api, "ewi_worker", child["id"])) == 1

    def test_scoped_like_the_child(self, api: Api) -> None:
        child = api.child(api.mother(prison_code="SDI")["id"], local_authority_code="801")
        for who in ("ewi_worker", "surrey"):
            response = api.get(who, f"/v1/children/{child['id']}/history")
            assert response.status_code == 404, who
        for who in ("sdi_worker", "bristol", "bristol_system", "admin"):
            assert len(history(api, who, child["id"])) == 1, who

    def test_reading_it_is_audited(self, api: Api) -> None:
        child = api.child(api.mother()["id"])
        api.get("bristol", f"/v1/children/{child['id']}/history")
        trail = api.get(
            "auditor", "/v1/audit", params={"subject_id": child["mother_id"], "client": "bristol"}
        ).json()["items"]
        assert {e["resource_type"] for e in trail} == {"child", "child_history"}

    def test_pages_oldest_first(self, api: Api) -> None:
        child = api.child(api.mother()["id"])
        for version, name in enumerate(("Cerys", "Nia", "Iolo"), start=1):
            api.patch(
                "ewi_worker", f"/v1/children/{child['id']}", {"first_name": name}, f'"{version}"'
            )
        first = api.get("ewi_worker", f"/v1/children/{child['id']}/history?limit=2").json()
        rest = api.get(
            "ewi_worker",
            f"/v1/children/{child['id']}/history?limit=2&cursor={first['next_cursor']}",
        ).json()
        names = [changed(e)["first_name"][1] for e in first["items"] + rest["items"]]
        assert names == ["Rhys", "Cerys", "Nia", "Iolo"]


class TestConfidentialPlacementInHistory:
    def confidential(self, api: Api) -> dict[str, Any]:
        child = api.child(
            api.mother()["id"],
            local_authority_code="801",
            placement_confidential=True,
            placement_type="U1",
            carer=CARER,
        )
        moved = {"lives_with": "kinship_carer", "carer": {**CARER, "address": "9 Harbour Rd"}}
        assert api.patch("bristol", f"/v1/children/{child['id']}", moved, '"1"').status_code == 200
        return child

    def test_withheld_as_in_the_record(self, api: Api) -> None:
        child = self.confidential(api)
        for who in ("ewi_worker", "admin"):
            entries = history(api, who, child["id"])
            assert "Trevithick" not in str(entries) and "Harbour" not in str(entries), who
            placement = [
                c for e in entries for c in e["changes"] if c["field"].startswith("carer.")
            ]
            assert placement and all(
                (c["old"], c["new"], c["withheld"]) == (None, None, True) for c in placement
            )
            names = changed(entries[0])
            assert names["first_name"] == (None, "Rhys")  # the rest is shown
        own = history(api, "bristol", child["id"])
        assert changed(own[1])["carer.address"] == ("1 Quay St", "9 Harbour Rd")
        assert changed(own[1])["lives_with"] == ("foster_carer", "kinship_carer")

    def test_what_was_confidential_stays_withheld_once_lifted(self, api: Api) -> None:
        child = self.confidential(api)
        url = f"/v1/children/{child['id']}"
        api.patch("bristol", url, {"placement_confidential": False}, '"2"')

        entries = history(api, "ewi_worker", child["id"])

        assert "Trevithick" not in str(entries)
        assert api.get("ewi_worker", url).json()["carer"]["name"] == "Morwenna Trevithick"

    def test_the_subject_access_export_leaves_it_out(self, api: Api) -> None:
        child = self.confidential(api)
        export = api.get("admin", f"/v1/mothers/{child['mother_id']}/subject-access-export")
        assert export.status_code == 200, export.text
        assert "Trevithick" not in export.text and "Harbour" not in export.text
        withheld = {w["table"] for w in export.json()["withheld"]}
        assert "child_history" in withheld


class TestMovingAConfidentialPlacement:
    def test_the_new_authority_does_not_read_where_the_child_lived(self, api: Api) -> None:
        child = TestConfidentialPlacementInHistory().confidential(api)
        url = f"/v1/children/{child['id']}"

        moved = api.patch("ewi_worker", url, {"local_authority_code": "936"}, '"2"')

        assert moved.status_code == 200, moved.text
        seen = api.get("surrey", url).json()
        assert (seen["lives_with"], seen["placement_type"], seen["carer"]) == (None, None, None)
        assert seen["placement_confidential"] is True and seen["placement_withheld"] is False
        assert api.get("ewi_worker", url).json()["placement_withheld"] is True
        entries = history(api, "surrey", child["id"])
        assert "Trevithick" not in str(entries) and "kinship" not in str(entries)
        assert changed(entries[-1])["local_authority_code"] == ("801", "936")
        assert api.sql("SELECT lives_with, placement_type, carer_name FROM child") == [
            (None, None, None)
        ]

    def test_the_new_authority_records_the_placement_afresh(self, api: Api) -> None:
        child = TestConfidentialPlacementInHistory().confidential(api)
        url = f"/v1/children/{child['id']}"
        api.patch("ewi_worker", url, {"local_authority_code": "936"}, '"2"')

        recorded = api.patch("surrey", url, {"lives_with": "foster_carer", "carer": CARER}, '"3"')

        assert recorded.status_code == 200, recorded.text
        assert changed(history(api, "surrey", child["id"])[-1])["carer.name"] == (
            None,
            "Morwenna Trevithick",
        )

    def test_an_ordinary_placement_moves_with_its_type_and_who_the_child_lives_with(
        self, api: Api
    ) -> None:
        child = api.child(api.mother()["id"], carer=CARER)
        url = f"/v1/children/{child['id']}"
        api.patch("ewi_worker", url, {"local_authority_code": "936"}, '"1"')
        seen = api.get("surrey", url).json()
        assert (seen["lives_with"], seen["placement_type"], seen["carer"]) == (
            "foster_carer",
            "U3",
            None,
        )

    def test_two_children_not_recorded_are_not_taken_to_live_together(self, api: Api) -> None:
        mother = api.mother()
        for name in ("Rhys", "Nia"):
            child = api.child(
                mother["id"], first_name=name, placement_confidential=True, carer=CARER
            )
            api.patch(
                "ewi_worker", f"/v1/children/{child['id']}", {"local_authority_code": "936"}, '"1"'
            )

        family = api.get("surrey", f"/v1/mothers/{mother['id']}/family").json()

        assert len(family["households"]) == 2
        assert all(h["lives_with"] is None for h in family["households"])


class TestAfterAMove:
    """What the old authority had stays with it: the fields its system owned, and the carer
    the move cleared."""

    def test_the_new_authoritys_first_push_keeps_what_the_prison_side_recorded(
        self, api: Api
    ) -> None:
        mother = api.mother()
        child = api.child(mother["id"], local_authority_code="936")
        # As Surrey's system would have left it: the carer and social worker were its own.
        owned = '["carer", "social_worker"]'
        if api.database_url.startswith("postgresql"):
            api.sql("UPDATE child SET authority_fields = CAST(:f AS json)", f=owned)
        else:
            api.sql("UPDATE child SET authority_fields = :f", f=owned)
        url = f"/v1/children/{child['id']}"
        moved = {"local_authority_code": "801", "carer": CARER, "social_worker": SOCIAL_WORKER}
        assert api.patch("ewi_worker", url, moved, '"1"').status_code == 200

        taken_up = api.put(
            "bristol_system", "/v1/sync/children/BR-70", bare(mother["prison_number"])
        )

        assert taken_up.status_code == 200, taken_up.text
        assert taken_up.json()["id"] == child["id"]
        assert taken_up.json()["kept_from_prison_record"] == ["carer", "social_worker"]
        assert (taken_up.json()["carer"], taken_up.json()["social_worker"]) == (
            CARER,
            SOCIAL_WORKER,
        )

    def test_the_new_authority_reads_no_carer_of_the_old_one_in_the_history(self, api: Api) -> None:
        child = api.child(api.mother()["id"], local_authority_code="801", carer=CARER)
        url = f"/v1/children/{child['id']}"
        assert (
            api.patch("ewi_worker", url, {"local_authority_code": "936"}, '"1"').status_code == 200
        )
        assert api.get("surrey", url).json()["carer"] is None

        entries = history(api, "surrey", child["id"])

        assert "Trevithick" not in str(entries) and "Quay" not in str(entries)
        carers = [c for e in entries for c in e["changes"] if c["field"].startswith("carer.")]
        assert carers and all(c["withheld"] for c in carers)
        # The prison side still reads it.
        assert "Trevithick" in str(history(api, "ewi_worker", child["id"]))
