"""Her chronology as papers a court reads: the same events, filters, scope and audit as the
JSON, as an HTML page and a PDF, headed by who she is and who prepared it."""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tac_api.chronology.document import render, significance_of, source_of
from tac_api.chronology.schemas import Chronology, ChronologyEvent
from tac_api.chronology.service import Read
from tac_api.documents.page import NOTHING, long_date
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY, sync_child
from tests.support.documents import cells, pdf_pages, printed
from tests.support.sql import counting, db_id

SCRIPT = "<script>alert('x')</script>"


def day(offset: int) -> str:
    return str(TODAY + timedelta(days=offset))


def at(offset: int, time: str = "10:00:00") -> str:
    return f"{day(offset)}T{time}Z"


def url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/chronology"


def client_id(api: Api, name: str) -> str:
    (row,) = api.sql("SELECT id FROM api_client WHERE name = :name", name=name)
    return str(uuid.UUID(str(row[0])))


@pytest.fixture(scope="module")
def world(module_api: Api) -> Iterator[dict[str, Any]]:
    """Siân at Eastwood Park with Rhys (Bristol, synced by Bristol's system) and Nia (Surrey);
    proceedings for each with the court's case number, a hearing Bristol pushed where she did
    not attend and an order was made, a final contact, a completed assessment, evidence with a
    title typed as markup; and Eastwood Park's worker in the staff directory."""
    api = module_api
    mother = api.mother(
        first_name="Siân",
        last_name="O'Connor",
        date_of_birth="1990-04-12",
        reception_date=day(-400),
    )
    her = mother["id"]
    # Bristol's system may push her children once the prison side has linked her to Bristol.
    api.child(her, first_name="Cerys", local_authority_code="801", date_of_birth="2009-01-02")
    pushed = api.put(
        "bristol_system",
        "/v1/sync/children/BR-1",
        sync_child(mother["prison_number"], first_name="Rhys", date_of_birth="2018-05-01"),
    )
    assert pushed.status_code == 201, pushed.text
    rhys = pushed.json()["id"]
    nia = api.child(her, first_name="Nia", local_authority_code="936")["id"]
    for child, case_number, issued in ((rhys, "BS24C00123", -120), (nia, "GU24C00456", -110)):
        body = {
            "mother_id": her,
            "child_ids": [child],
            "court_name": "Bristol",
            "issued_on": day(issued),
            "case_number": case_number,
        }
        assert api.post("admin", "/v1/proceedings", body).status_code == 201
    hearing = api.put(
        "bristol_system",
        "/v1/sync/court-hearings/H-1",
        {
            "mother_prison_number": mother["prison_number"],
            "child_external_ids": ["BR-1"],
            "court_name": "Bristol Civil and Family Justice Centre",
            "hearing_type": "interim_care_order",
            "starts_at": at(-100),
            "notified_at": at(-101),
        },
    )
    assert hearing.status_code == 201, hearing.text
    outcome = {"attended": False, "barrier": "late_notice", "order_made": "interim_care_order"}
    recorded = api.client.put(
        f"/v1/court-hearings/{hearing.json()['id']}/outcome",
        headers=api.headers("ewi_worker", **{"If-Match": hearing.headers["ETag"]}),
        json=outcome,
    )
    assert recorded.status_code == 200, recorded.text
    visit = {
        "mother_id": her,
        "child_ids": [nia],
        "visit_type": "final_contact_before_adoption",
        "escort": {"name": "Ann", "role": "carer"},
    }
    made = api.post("admin", "/v1/contact-visits", visit)
    assert made.status_code == 201, made.text
    assessment = {
        "mother_id": her,
        "child_ids": [rhys],
        "requested_by": "local_authority",
        "requested_on": day(-200),
        "requesting_local_authority_code": "801",
        "assessor_name": "Bethan Ap Rhys",
        "model": "pams",
    }
    assessed = api.post("admin", "/v1/parenting-assessments", assessment)
    assert assessed.status_code == 201, assessed.text
    done = {"started_on": day(-190), "completed_on": day(-150), "outcome": "positive"}
    changed = api.patch("admin", f"/v1/parenting-assessments/{assessed.json()['id']}", done, '"1"')
    assert changed.status_code == 200, changed.text
    evidence = {"category": "course", "title": SCRIPT, "started_on": day(-90)}
    assert api.post("admin", f"/v1/mothers/{her}/evidence", evidence).status_code == 201
    staff = {
        "prison_code": "EWI",
        "name": "Ffion Hughes-O'Neill",
        "role": "prison_social_worker",
        "api_client_id": client_id(api, "ewi_worker"),
    }
    assert api.post("admin", "/v1/staff", staff).status_code == 201
    yield {"mother": mother, "rhys": rhys, "nia": nia}


def html_of(api: Api, who: str, mother_id: str, **params: Any) -> str:
    response = api.get(who, url(mother_id), params={"format": "html", **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


def test_the_header_says_who_she_is_the_case_numbers_and_who_prepared_it(
    module_api: Api, world: dict
) -> None:
    mother = world["mother"]
    page = html_of(module_api, "ewi_worker", mother["id"])
    assert "<dt>Name</dt><dd>Siân O&#x27;Connor</dd>" in page
    assert "<dt>Date of birth</dt><dd>12 April 1990</dd>" in page
    assert f"<dd>{mother['prison_number']}</dd>" in page
    assert "<dt>Court case number</dt><dd>BS24C00123, GU24C00456</dd>" in page
    # Her staff directory entry's name, not her client's; when, in UK time.
    assert "Prepared by Ffion Hughes-O&#x27;Neill on " in page and "(UK time)" in page
    # A caller with no entry: her client's name.
    assert "Prepared by bristol on " in html_of(module_api, "bristol", mother["id"])


def test_each_event_a_row_with_its_source_and_significance(module_api: Api, world: dict) -> None:
    page = html_of(module_api, "ewi_worker", world["mother"]["id"])
    rows = cells(page)
    assert rows[0] == ["Date", "Event", "Source", "Significance"]
    by_event = {row[1]: row for row in rows[1:]}
    hearing = next(row for event, row in by_event.items() if event.startswith("Interim care"))
    assert hearing[2] == "Court hearing; sent by Bristol, City of (its case system)"
    assert hearing[3] == "Order made: interim care order; She did not attend: late notice"
    visit = by_event["Final contact before adoption: requested"]
    assert visit[2] == "Contact visit; recorded by the prison social worker"
    assert visit[3] == "Final contact before adoption; Requested; not yet held"
    assert by_event["Parenting assessment: positive"][3] == (
        "Assessment completed; outcome: positive"
    )
    issued = [row for row in rows[1:] if row[1] == "Proceedings issued at Bristol"]
    assert [row[3].split("; ")[-1] for row in issued] == [
        "Case number BS24C00123",
        "Case number GU24C00456",
    ]
    assert by_event[f"Course: {SCRIPT} started"][3] == "Ongoing: started, not completed"
    # Oldest first, as the JSON: the same events, one row each.
    events = module_api.get("ewi_worker", url(world["mother"]["id"])).json()["events"]
    assert [row[1] for row in rows[1:]] == [event["summary"] for event in events]


def test_everything_typed_prints_as_text(module_api: Api, world: dict) -> None:
    page = html_of(module_api, "ewi_worker", world["mother"]["id"])
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "Siân O&#x27;Connor" in page


def test_a_local_authority_reads_only_what_it_may_see(module_api: Api, world: dict) -> None:
    page = html_of(module_api, "bristol", world["mother"]["id"])
    assert "BS24C00123" in page and "GU24C00456" not in page  # Surrey's child's proceedings
    assert "Final contact" not in page  # with Nia, Surrey's
    json = module_api.get("bristol", url(world["mother"]["id"])).json()["events"]
    assert len(cells(page)) - 1 == len(json)
    surrey = html_of(module_api, "surrey", world["mother"]["id"])
    assert "GU24C00456" in surrey and "BS24C00123" not in surrey and "Final contact" in surrey
    refused = module_api.get("ewi_governor", url(world["mother"]["id"]), params={"format": "pdf"})
    assert refused.status_code == 403


def test_out_of_scope_is_404_in_every_format(module_api: Api, world: dict) -> None:
    for fmt in ("html", "pdf"):
        response = module_api.get("sdi_worker", url(world["mother"]["id"]), params={"format": fmt})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_filters_as_the_json(module_api: Api, world: dict) -> None:
    her = world["mother"]["id"]
    page = html_of(module_api, "ewi_worker", her, child_id=world["nia"])
    json = module_api.get("ewi_worker", url(her), params={"child_id": world["nia"]}).json()
    assert [row[1] for row in cells(page)[1:]] == [e["summary"] for e in json["events"]]
    assert "BS24C00123" not in page and "GU24C00456" in page
    assert "<dd>Only the events that concern one of her children</dd>" in page
    only = html_of(module_api, "ewi_worker", her, kind=["evidence"])
    assert [row[1] for row in cells(only)[1:]] == [f"Course: {SCRIPT} started"]
    assert "Not shown: this chronology leaves out her proceedings" in only


def test_audited_as_the_json_a_combination(module_api: Api, world: dict) -> None:
    her = world["mother"]["id"]
    for params in ({}, {"kind": ["court_hearing", "evidence"]}):
        json = module_api.get("bristol", url(her), params=params)
        for fmt in ("html", "pdf"):
            page = module_api.get("bristol", url(her), params={**params, "format": fmt})
            assert page.status_code == 200
            assert [row[2:] for row in trail(module_api, page)] == [
                row[2:] for row in trail(module_api, json)
            ]
        assert {row[2] for row in trail(module_api, json)} == {"combine"}


@pytest.mark.parametrize(
    ("query", "accept", "kind"),
    [
        ("?format=pdf", None, "application/pdf"),
        ("?format=html", "application/pdf", "text/html"),
        ("?format=json", "application/pdf", "application/json"),
        ("", "application/pdf", "application/pdf"),
        ("", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("", "application/json, application/pdf;q=0.5", "application/json"),
        ("", "application/pdf;q=0.9, text/html;q=0.5", "application/pdf"),
        ("", "*/*", "application/json"),
        ("", None, "application/json"),
        ("", "image/png", "application/json"),  # as the evidence bundle: the default, not 406
    ],
)
def test_content_negotiation(
    module_api: Api, world: dict, query: str, accept: str | None, kind: str
) -> None:
    extra = {"Accept": accept} if accept else {}
    response = module_api.client.get(
        url(world["mother"]["id"]) + query, headers=module_api.headers("admin", **extra)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)
    assert response.headers["vary"] == "Accept"


def test_a_bad_format_is_refused(module_api: Api, world: dict) -> None:
    response = module_api.get("admin", url(world["mother"]["id"]), params={"format": "docx"})
    assert response.status_code == 422
    assert "format" in response.text


def test_the_pdf_is_a_real_a4_pdf_with_the_same_rows(module_api: Api, world: dict) -> None:
    her = world["mother"]["id"]
    response = module_api.get("ewi_worker", url(her), params={"format": "pdf"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'inline; filename="chronology-{her}-')
    assert disposition.endswith('.pdf"') and "Connor" not in disposition
    assert "script-src 'none'" in response.headers["content-security-policy"]
    pages = pdf_pages(response.content)
    # What it prints: WeasyPrint's layout of the same page, as many pages as the PDF has.
    shown = printed(html_of(module_api, "ewi_worker", her))
    assert len(shown) == pages >= 1
    first = shown[0]
    assert "Siân O'Connor" in first and "BS24C00123" in first and "12 April 1990" in first
    assert f"Page 1 of {pages}" in first and "Prepared by Ffion Hughes-O'Neill" in first
    # Printed as typed (wrapped in its column: compared without the breaks).
    assert any(SCRIPT in "".join(text.split()) for text in shown)


def test_headers_of_the_html(module_api: Api, world: dict) -> None:
    her = world["mother"]["id"]
    response = module_api.client.get(
        url(her), headers=module_api.headers("ewi_worker", Accept="text/html")
    )
    assert response.headers["content-disposition"].startswith(
        f'inline; filename="chronology-{her}-'
    )
    policies = response.headers.get_list("content-security-policy")
    assert any("script-src 'none'" in policy for policy in policies)


def event_of(resource_type: str, kind: str, summary: str) -> ChronologyEvent:
    """An event as the chronology makes it; of a kind it may not list yet (not validated)."""
    return ChronologyEvent.model_construct(
        on=TODAY,
        at=None,
        kind=kind,
        summary=summary,
        resource_type=resource_type,
        resource_id=uuid.uuid4(),
        child_ids=[],
    )


def test_a_hearing_that_did_not_go_ahead_says_so_and_nothing_of_attendance() -> None:
    hearing = event_of("court_hearing", "court_hearing", "Final hearing at Bristol; vacated")
    assert significance_of(hearing, {"status": "vacated"}) == "Vacated: did not go ahead as listed"
    adjourned = {"status": "adjourned", "order_made": "interim_care_order"}
    assert significance_of(hearing, adjourned) == (
        "Order made: interim care order; Adjourned: did not go ahead as listed"
    )


def test_a_kind_of_event_the_papers_do_not_know_prints_generically() -> None:
    """Another part of the service adds its events (tasks, flags): its summary, the kind of
    record, and no significance claimed."""
    task = event_of("task", "task", "Task due: <b>ring the school</b>")
    assert significance_of(task, {"title": "x"}) == NOTHING
    assert source_of(task, {}, {}) == "Task"
    pushed = source_of(task, {"external_authority_code": "801"}, {})
    assert pushed == "Task; sent by local authority 801 (its case system)"
    page = render(
        Chronology.model_construct(mother_id=uuid.uuid4(), events=[task]),
        Read(
            her={
                "first_name": "Siân",
                "last_name": "O'Connor",
                "date_of_birth": TODAY - timedelta(days=12_000),
                "prison_number": "A1234BC",
                "prison_code": "EWI",
            }
        ),
        kinds=set(),
        child_named=False,
        prepared_by="Ffion <i>Hughes</i>",
        generated_at=datetime.now(UTC),
        authorities={},
    )
    assert cells(page)[1][1:] == ["Task due: <b>ring the school</b>", "Task", NOTHING]
    assert "<b>" not in page and "<i>" not in page
    assert "Prepared by Ffion &lt;i&gt;Hughes&lt;/i&gt; on " in page
    assert "<dt>Court case number</dt><dd>Not recorded</dd>" in page


def test_the_document_reads_her_records_once(module_api: Api, world: dict) -> None:
    """The JSON's statements, and two small ones besides: the preparer's name, and the names
    of the authorities whose systems sent a record shown (Bristol's hearing here)."""
    her = world["mother"]["id"]
    with counting(module_api) as json:
        module_api.get("ewi_worker", url(her))
    for fmt in ("html", "pdf"):
        with counting(module_api) as printed_read:
            assert module_api.get("ewi_worker", url(her), params={"format": fmt}).status_code == 200
        assert len(printed_read) == len(json) + 2, printed_read
        reading = [sql for sql in printed_read if "FROM evidence" in sql]
        assert len(reading) == 1, printed_read


def test_the_services_own_tasks_and_flags_are_left_out_unless_asked_for(
    module_api: Api, world: dict
) -> None:
    """Her chronology shows the prison side its tasks and flags for review; the document a court
    reads holds the events of her case only, so they are neither printed nor read (nor audited)
    unless asked for by kind."""
    her = world["mother"]["id"]
    task = module_api.post(
        "admin", "/v1/tasks", {"mother_id": her, "title": "Ring Nia's carer", "due_on": day(3)}
    )
    assert task.status_code == 201, task.text
    flag = {"resource_type": "mother", "resource_id": her, "reason": "Check her release date."}
    assert module_api.post("admin", "/v1/flags", flag).status_code == 201
    kinds = {event["kind"] for event in module_api.get("admin", url(her)).json()["events"]}
    assert {"task", "review_flag"} <= kinds
    page = module_api.get("admin", url(her), params={"format": "html"})
    assert "Ring Nia" not in page.text and "Check her release date" not in page.text
    assert "tasks and flags for review are not events of her case" in page.text
    audited = {row[3] for row in trail(module_api, page)}
    assert "task" not in audited and "review_flag" not in audited
    asked = html_of(module_api, "admin", her, kind=["task"])
    assert "Ring Nia" in asked


def version_of(response: Any) -> str:
    assert response.status_code in (200, 201), response.text
    return response.headers["ETag"]


def test_the_26_weeks_run_to_the_date_the_extensions_make(module_api: Api) -> None:
    """The date the API answers (`twenty_six_week_date`), extensions and all: one rule."""
    api = module_api
    her = api.mother(first_name="Gwen")["id"]
    child = api.child(her, local_authority_code="801")["id"]
    made = []
    for number, issued in (("BS24C00900", -60), ("BS24C00901", -50)):
        body = {"mother_id": her, "child_ids": [child], "court_name": "Bristol"}
        body |= {"issued_on": day(issued), "case_number": number}
        response = api.post("admin", "/v1/proceedings", body)
        assert response.status_code == 201, response.text
        made.append(response.json())
    extended, etag = made[0]["id"], '"1"'
    for weeks in (4, 2):
        body = {"weeks": weeks, "reason": "The expert's report is late."}
        etag = version_of(api.post("admin", f"/v1/proceedings/{extended}/extensions", body, etag))
    rows = cells(html_of(api, "admin", her))[1:]
    shown = [row[3] for row in rows if row[1] == "Proceedings issued at Bristol"]
    answered = [api.get("admin", f"/v1/proceedings/{p['id']}").json() for p in made]
    assert answered[0]["twenty_six_week_date"] == str(TODAY + timedelta(days=-60, weeks=32))
    assert shown == [
        f"Care proceedings issued: 26 weeks run to "
        f"{long_date(date.fromisoformat(answered[0]['twenty_six_week_date']))} "
        "(extended by 6 weeks); Case number BS24C00900",
        f"Care proceedings issued: 26 weeks run to "
        f"{long_date(date.fromisoformat(answered[1]['twenty_six_week_date']))}; "
        "Case number BS24C00901",
    ]


def test_a_time_uk_time_cannot_say_is_printed_in_utc_never_refused(module_api: Api) -> None:
    """No meeting may be listed in year 1 now (`tac_api.plausible`); one kept from before the
    rule still prints, its time in UTC."""
    api = module_api
    her = api.mother(first_name="Eleri")["id"]
    child = api.child(her, local_authority_code="801")["id"]
    body = {
        "mother_id": her,
        "child_ids": [child],
        "meeting_type": "looked_after_child_review",
        "platform": "microsoft_teams",
    }
    refused = api.post("admin", "/v1/meetings", body | {"starts_at": "0001-01-01T00:00:00Z"})
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["starts_at"]
    kept = api.post("admin", "/v1/meetings", body | {"starts_at": at(3)})
    assert kept.status_code == 201, kept.text
    year_one: Any = datetime(1, 1, 1, tzinfo=UTC)
    if not api.database_url.startswith("postgresql"):
        year_one = "0001-01-01 00:00:00.000000"  # as SQLite keeps a time
    api.sql(
        "UPDATE meeting SET starts_at = :at WHERE id = :id",
        at=year_one,
        id=db_id(api, kept.json()["id"]),
    )
    for fmt in ("html", "pdf"):
        response = api.get("admin", url(her), params={"format": fmt})
        assert response.status_code == 200, response.text
    rows = cells(html_of(api, "admin", her))
    assert rows[1][0] == "1 January 1, 00:00 UTC" and rows[1][1].startswith("Looked after")
    hearing = event_of("court_hearing", "court_hearing", "Listed")
    summer = datetime(2026, 7, 1, 9, tzinfo=UTC)  # 10:00 in UK time
    assert cells(page_of(hearing.model_copy(update={"at": summer})))[1][0] == "1 July 2026, 10:00"
    year_one = hearing.model_copy(update={"at": datetime(1, 1, 1, 0, 0, 30, tzinfo=UTC)})
    assert cells(page_of(year_one))[1][0] == "1 January 1, 00:00 UTC"


def page_of(*events: ChronologyEvent, reader_authority: str | None = None) -> str:
    return render(
        Chronology.model_construct(mother_id=uuid.uuid4(), events=list(events)),
        Read(
            her={
                "first_name": "Siân",
                "last_name": "O'Connor",
                "date_of_birth": TODAY - timedelta(days=12_000),
                "prison_number": "A1234BC",
                "prison_code": "EWI",
            }
        ),
        kinds=set(),
        child_named=False,
        prepared_by="Ffion",
        generated_at=datetime.now(UTC),
        authorities={},
        reader_authority=reader_authority,
    )


@pytest.fixture(scope="module")
def shared_hearing(module_api: Api) -> dict[str, Any]:
    """Mali at Eastwood Park with Osian (Bristol's, synced by its system) and Efa (Surrey's):
    a hearing Bristol's system pushed for Osian, to which the prison side added Efa."""
    api = module_api
    mother = api.mother(first_name="Mali", last_name="Price", date_of_birth="1993-02-03")
    api.child(mother["id"], first_name="Iolo", local_authority_code="801")
    pushed = api.put(
        "bristol_system",
        "/v1/sync/children/BR-8",
        sync_child(mother["prison_number"], first_name="Osian", date_of_birth="2019-05-01"),
    )
    assert pushed.status_code == 201, pushed.text
    efa = api.child(mother["id"], first_name="Efa", local_authority_code="936")["id"]
    hearing = api.put(
        "bristol_system",
        "/v1/sync/court-hearings/H-8",
        {
            "mother_prison_number": mother["prison_number"],
            "child_external_ids": ["BR-8"],
            "court_name": "Bristol Civil and Family Justice Centre",
            "hearing_type": "interim_care_order",
            "starts_at": at(5),
            "notified_at": at(-1),
        },
    )
    assert hearing.status_code == 201, hearing.text
    both = {"child_ids": [pushed.json()["id"], efa]}
    added = api.patch(
        "admin", f"/v1/court-hearings/{hearing.json()['id']}", both, hearing.headers["ETag"]
    )
    assert added.status_code == 200, added.text
    return mother


def source_of_the_hearing(api: Api, who: str, mother_id: str) -> str:
    (row,) = [row for row in cells(html_of(api, who, mother_id))[1:] if row[1].startswith("Int")]
    return row[2]


def test_an_authority_is_named_to_the_prison_side_and_to_itself_only(
    module_api: Api, shared_hearing: dict
) -> None:
    her = shared_hearing["id"]
    named = "Court hearing; sent by Bristol, City of (its case system)"
    for who in ("ewi_worker", "admin", "bristol", "bristol_system"):
        assert source_of_the_hearing(module_api, who, her) == named, who
    # Surrey reads the hearing (Efa's too), but not which other authority's system sent it.
    assert source_of_the_hearing(module_api, "surrey", her) == (
        "Court hearing; sent by a local authority (its case system)"
    )
    event = event_of("meeting", "meeting", "Review")
    assert source_of(event, {"external_authority_code": "801"}, {}, "936") == (
        "Meeting; sent by a local authority (its case system)"
    )
    assert source_of(event, {"external_authority_code": "801"}, {}, "801") == (
        "Meeting; sent by local authority 801 (its case system)"
    )


def test_an_authoritys_papers_leave_out_her_date_of_birth_and_prison_number(
    module_api: Api, shared_hearing: dict
) -> None:
    """A local authority knows of her only her name, prison, status and release date."""
    her, number = shared_hearing["id"], shared_hearing["prison_number"]
    prison_side = html_of(module_api, "ewi_worker", her)
    assert "<dt>Date of birth</dt><dd>3 February 1993</dd>" in prison_side
    assert f"<dt>Prison number</dt><dd>{number}</dd>" in prison_side
    for who in ("bristol", "bristol_system", "surrey"):
        page = html_of(module_api, who, her)
        assert "<dt>Name</dt><dd>Mali Price</dd>" in page and "<dt>Held at</dt>" in page
        assert "Date of birth" not in page and "February 1993" not in page, who
        assert "Prison number" not in page and number not in page, who
    shown = printed(html_of(module_api, "bristol", her))
    assert "Mali Price" in shown[0] and "3 February 1993" not in shown[0]
    assert number not in "".join(shown)
