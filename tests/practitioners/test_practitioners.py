from tests.support.api import Api

SOLICITOR = {
    "role": "solicitor",
    "name": "Máire O'Donnell",
    "organisation": "Bryn & Ó Dálaigh Solicitors",
    "email": "maire@bryn.example.org",
}


def add(api: Api, who: str = "ewi_worker", **fields: object) -> dict:
    response = api.post(who, "/v1/practitioners", {**SOLICITOR, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_add_find_and_change(api: Api) -> None:
    solicitor = add(api)
    add(api, role="health_visitor", name="Bethan Hughes", organisation="Community Health")
    found = api.get("sdi_worker", "/v1/practitioners?q=BRYN").json()["items"]
    assert [p["id"] for p in found] == [solicitor["id"]]  # by organisation, any case
    by_role = api.get("admin", "/v1/practitioners?role=health_visitor").json()["items"]
    assert [p["name"] for p in by_role] == ["Bethan Hughes"]
    url = f"/v1/practitioners/{solicitor['id']}"
    assert api.patch("ewi_worker", url, {"phone": "0117 496 0101"}).status_code == 428
    changed = api.patch("ewi_worker", url, {"phone": "0117 496 0101"}, if_match='"1"')
    assert changed.status_code == 200 and changed.json()["phone"] == "0117 496 0101"


def test_a_change_that_changes_nothing_keeps_the_version(api: Api) -> None:
    solicitor = add(api, phone="0117 496 0101")
    url = f"/v1/practitioners/{solicitor['id']}"
    same = {"name": solicitor["name"], "phone": solicitor["phone"]}
    response = api.patch("ewi_worker", url, same, if_match='"1"')
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"1"' and response.json() == solicitor
    audited = "SELECT action FROM audit_event WHERE request_id = :r"
    assert api.sql(audited, r=response.headers["X-Request-ID"]) == [("consult",)]
    changed = api.patch("ewi_worker", url, {**same, "phone": "0117 496 0102"}, if_match='"1"')
    assert changed.headers["ETag"] == '"2"'
    assert api.sql(audited, r=changed.headers["X-Request-ID"]) == [("alter",)]


def test_bad_input(api: Api) -> None:
    for body in (
        {**SOLICITOR, "role": "astrologer"},
        {**SOLICITOR, "email": "nope"},
        {**SOLICITOR, "local_authority_code": "999"},
        {**SOLICITOR, "salary": 1},
    ):
        assert api.post("admin", "/v1/practitioners", body).status_code == 422
    assert api.sql("SELECT count(*) FROM practitioner")[0][0] == 0


def test_link_to_mother_and_child_and_scope(api: Api) -> None:
    mother = api.mother()
    ours = api.child(mother["id"], local_authority_code="801")
    theirs = api.child(mother["id"], local_authority_code="936", first_name="Nia")
    solicitor = add(api)
    guardian = add(api, role="childrens_guardian", name="Ffion Evans", organisation="Cafcass")
    carer = add(api, role="carer", name="Dolores Nuñez", organisation=None)
    url = f"/v1/mothers/{mother['id']}/practitioners"
    for practitioner, child in ((solicitor, None), (guardian, ours), (carer, theirs)):
        response = api.post(
            "ewi_worker",
            url,
            {"practitioner_id": practitioner["id"], "child_id": child and child["id"]},
        )
        assert response.status_code == 201, response.text
    duplicate = api.post("ewi_worker", url, {"practitioner_id": solicitor["id"]})
    assert duplicate.status_code == 409

    everyone = api.get("ewi_worker", url).json()["items"]
    assert {(link["practitioner"]["name"], link["child_id"]) for link in everyone} == {
        ("Máire O'Donnell", None),
        ("Ffion Evans", ours["id"]),
        ("Dolores Nuñez", theirs["id"]),
    }
    # Bristol sees the mother's own practitioners and its child's, not Surrey's child's carer.
    bristol = api.get("bristol", url).json()["items"]
    assert {link["practitioner"]["name"] for link in bristol} == {"Máire O'Donnell", "Ffion Evans"}
    assert api.get("bristol", f"/v1/practitioners/{carer['id']}").status_code == 404
    assert api.get("bristol", f"/v1/practitioners/{guardian['id']}").status_code == 200
    # Another prison's worker cannot see who works with this mother.
    assert api.get("sdi_worker", url).status_code == 404

    link_id = next(link["id"] for link in everyone if link["child_id"] == theirs["id"])
    assert api.delete("bristol", f"/v1/practitioner-links/{link_id}").status_code == 403
    assert api.delete("sdi_worker", f"/v1/practitioner-links/{link_id}").status_code == 404
    # A link never changes: removing it takes its one ETag, or *.
    assert api.delete("ewi_worker", f"/v1/practitioner-links/{link_id}").status_code == 428
    stale = api.delete("ewi_worker", f"/v1/practitioner-links/{link_id}", if_match='"2"')
    assert stale.status_code == 412
    assert len(api.get("ewi_worker", url).json()["items"]) == 3
    gone = api.delete("ewi_worker", f"/v1/practitioner-links/{link_id}", if_match='"1"')
    assert gone.status_code == 204
    assert len(api.get("ewi_worker", url).json()["items"]) == 2


def test_links_refuse_someone_elses_child(api: Api) -> None:
    mother, other = api.mother(), api.mother()
    child = api.child(other["id"])
    solicitor = add(api)
    response = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/practitioners",
        {"practitioner_id": solicitor["id"], "child_id": child["id"]},
    )
    assert response.status_code == 422
    missing = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/practitioners",
        {"practitioner_id": "00000000-0000-4000-8000-000000000000"},
    )
    assert missing.status_code == 422
    assert api.sql("SELECT count(*) FROM practitioner_link")[0][0] == 0
