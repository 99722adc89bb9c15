"""The worklist: each kind of item for its reason and not otherwise, the window's edges, the
order, who sees what, its audit rows, and a fixed number of statements whatever the size."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tac_api.assessments.models import ParentingAssessment
from tac_api.flags.models import ReviewFlag
from tac_api.groups.models import GroupAttendance, GroupSession
from tac_api.hearings.models import CourtHearing
from tac_api.history import BY_DEMO_DATA
from tac_api.link_requests.models import LinkRequest
from tac_api.meetings.models import Meeting
from tac_api.referrals.models import Referral
from tac_api.release.models import ReleasePlan
from tac_api.reviews.models import Review
from tac_api.staff.models import Allocation, StaffMember
from tac_api.tasks.models import Task
from tac_api.visits.models import ContactVisit
from tests.support import groups
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.sql import counting

URL = "/v1/worklist"
DAY = timedelta(days=1)


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().date()


def add(api: Api, *records: Any) -> None:
    async def write() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            session.add_all(records)

    api.client.portal.call(write)  # type: ignore[union-attr]


def mother(api: Api, prison: str = "EWI", **fields: Any) -> tuple[uuid.UUID, str]:
    made = api.mother(prison_code=prison, **fields)
    return uuid.UUID(made["id"]), made["prison_number"]


def hearing(mother_id: uuid.UUID, starts_at: datetime, **fields: Any) -> CourtHearing:
    values: dict[str, Any] = {
        "court_name": "Bristol Civil Justice Centre",
        "hearing_type": "case_management",
        "notified_at": starts_at - timedelta(days=30),
        "attendance_mode": "video_link",
    }
    return CourtHearing(mother_id=mother_id, starts_at=starts_at, **(values | fields))


def meeting(mother_id: uuid.UUID, starts_at: datetime, **fields: Any) -> Meeting:
    values: dict[str, Any] = {
        "meeting_type": "core_group",
        "notified_at": starts_at - timedelta(days=30),
        "platform": "cloud_video_platform",
        "prison_can_join": True,
        "invited": True,
        "supported_by": "Siân, prison social worker",
    }
    return Meeting(mother_id=mother_id, starts_at=starts_at, **(values | fields))


def visit(mother_id: uuid.UUID, **fields: Any) -> ContactVisit:
    values: dict[str, Any] = {"visit_type": "in_person_social_visit", "status": "approved"}
    return ContactVisit(mother_id=mother_id, **(values | fields))


def assessment(mother_id: uuid.UUID, requested_on: date, **fields: Any) -> ParentingAssessment:
    values: dict[str, Any] = {
        "requested_by": "court",
        "assessor_name": "Dr Okafor",
        "model": "pams",
    }
    return ParentingAssessment(mother_id=mother_id, requested_on=requested_on, **(values | fields))


def referral(mother_id: uuid.UUID, number: str, engaged_on: date, **fields: Any) -> Referral:
    values: dict[str, Any] = {
        "prison_code": "EWI",
        "received_on": engaged_on - timedelta(days=10),
        "source": "self",
        "first_name": "Siân",
        "last_name": "O'Connor",
        "reason": "She asked for help.",
        "status": "accepted",
    }
    return Referral(
        mother_id=mother_id, prison_number=number, engaged_on=engaged_on, **(values | fields)
    )


def task(mother_id: uuid.UUID, due_on: date, **fields: Any) -> Task:
    values = {"title": "Ring her solicitor", **BY_DEMO_DATA}
    return Task(mother_id=mother_id, due_on=due_on, **(values | fields))


def flag(mother_id: uuid.UUID, **fields: Any) -> ReviewFlag:
    values: dict[str, Any] = {
        "resource_type": "meeting",
        "resource_id": uuid.uuid4(),
        "reason": "Check the platform.",
        "raised_by_name": "tests",
        "raised_by_role": "prison_social_worker",
    }
    return ReviewFlag(mother_id=mother_id, **(values | fields))


def link_request(number: str, **fields: Any) -> LinkRequest:
    values: dict[str, Any] = {
        "local_authority_code": "801",
        "external_id": uuid.uuid4().hex,
        "requested_by": "bristol system",
        "status": "pending",
        "child": {"first_name": "Rhys"},
    }
    return LinkRequest(mother_prison_number=number, **(values | fields))


def follow_up(mother_id: uuid.UUID, held_on: date, prison: str = "EWI") -> list[Any]:
    group = GroupSession(prison_code=prison, held_on=held_on, activity="Collage")
    row = GroupAttendance(
        group_session_id=group.id,
        mother_id=mother_id,
        check_in=4,
        check_out=2,
        follow_up_due_on=held_on + timedelta(days=6 - held_on.weekday()),
    )
    return [group, row]


def worklist(api: Api, who: str = "ewi_worker", **query: Any) -> dict[str, Any]:
    response = api.get(who, URL, params=query)
    assert response.status_code == 200, response.text
    return response.json()


def reasons(listed: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(kind, reason, record id) of every item shown."""
    return {(i["kind"], i["reason"], i["resource_id"]) for i in listed["items"]}


def every_kind(api: Api, mother_id: uuid.UUID, number: str) -> dict[str, Any]:
    """One record of each kind needing action, for her: each key is (kind, reason)."""
    soon = now() + 3 * DAY
    records: dict[tuple[str, str], Any] = {
        ("court_hearing", "late_notice"): hearing(mother_id, soon, notified_at=soon - 2 * DAY),
        ("court_hearing", "no_attendance_arranged"): hearing(mother_id, soon, attendance_mode=None),
        ("court_hearing", "outcome_not_recorded"): hearing(mother_id, now() - 2 * DAY),
        ("meeting", "prison_cannot_join"): meeting(
            mother_id, soon, platform="microsoft_teams", prison_can_join=False
        ),
        ("meeting", "late_notice"): meeting(mother_id, soon, notified_at=soon - 1 * DAY),
        ("meeting", "not_invited"): meeting(mother_id, soon, invited=False),
        ("meeting", "no_attendance_arranged"): meeting(mother_id, soon, supported_by=None),
        ("contact_visit", "awaiting_approval"): visit(mother_id, status="requested"),
        ("contact_visit", "final_contact_due"): visit(
            mother_id,
            visit_type="final_contact_before_adoption",
            status="scheduled",
            scheduled_at=soon,
        ),
        ("contact_visit", "outcome_not_recorded"): visit(
            mother_id, status="held", scheduled_at=now() - 5 * DAY
        ),
        ("parenting_assessment", "not_started"): assessment(
            mother_id, today() - timedelta(days=40)
        ),
        ("review", "review_overdue"): referral(mother_id, number, today() - timedelta(days=100)),
        ("task", "task_due"): task(mother_id, today() + 2 * DAY),
        ("task", "task_overdue"): task(mother_id, today() - 2 * DAY),
        ("review_flag", "flagged_for_review"): flag(mother_id),
        ("link_request", "awaiting_confirmation"): link_request(number),
    }
    group, attendance = follow_up(mother_id, today() - DAY)
    records[("group_follow_up", "follow_up_owed")] = attendance
    add(api, group)
    add(api, *records.values())
    return records


def test_every_kind_of_item_for_its_reason(api: Api) -> None:
    her, number = mother(api, earliest_release_date=str(today() + 5 * DAY))
    records = every_kind(api, her, number)
    listed = worklist(api)
    shown = reasons(listed)
    for (kind, reason), record in records.items():
        assert (kind, reason, str(record.id)) in shown, (kind, reason)
    # Her release, due within the window, with no plan.
    assert ("release", "no_release_plan", str(her)) in shown
    assert listed["total"] == len(listed["items"]) == len(records) + 1
    assert not listed["truncated"]
    counts = {(c["kind"], c["reason"]): c["count"] for c in listed["counts"]}
    assert counts[("task", "task_due")] == 1
    assert sum(counts.values()) == listed["total"]
    for item in listed["items"]:
        assert item["mother"] == {
            "id": str(her),
            "first_name": "Siân",
            "last_name": "O'Connor",
            "prison_number": number,
        }
        assert item["summary"].endswith(".")
    by_reason = {(i["kind"], i["reason"]): i for i in listed["items"]}
    assert by_reason[("task", "task_overdue")]["overdue"] is True
    assert by_reason[("task", "task_due")]["overdue"] is False
    flagged = by_reason[("review_flag", "flagged_for_review")]
    assert flagged["due_on"] is None and flagged["waiting_since"] is not None
    hearing_due = by_reason[("court_hearing", "outcome_not_recorded")]
    assert hearing_due["overdue"] is True and hearing_due["resource_type"] == "court_hearing"
    assert by_reason[("review", "review_overdue")]["resource_type"] == "referral"
    assert by_reason[("group_follow_up", "follow_up_owed")]["resource_type"] == ("group_attendance")


def test_what_needs_no_action_is_not_listed(api: Api) -> None:
    her, number = mother(api)
    soon = now() + 3 * DAY
    fine = [
        # Hearings: notice enough and attendance arranged; outcome recorded; started less than
        # a day ago; vacated, adjourned or cancelled ones need nothing, however late.
        hearing(her, soon),
        hearing(her, now() - 2 * DAY, outcome_recorded_at=now() - DAY, attended=True),
        hearing(her, now() - timedelta(hours=12)),
        *(
            hearing(her, soon, notified_at=soon - DAY, attendance_mode=None, status=status)
            for status in ("adjourned", "vacated", "cancelled")
        ),
        hearing(her, now() - 3 * DAY, status="vacated"),
        # Meetings the prison joins, notified in time, she invited and supported; not going ahead.
        meeting(her, soon),
        meeting(her, soon, prison_can_join=False, invited=False, status="cancelled"),
        # Visits approved, held with an outcome, cancelled final contact.
        visit(her),
        visit(her, status="held", outcome="went_well", scheduled_at=now() - DAY),
        visit(
            her,
            visit_type="final_contact_before_adoption",
            status="cancelled",
            scheduled_at=soon,
        ),
        # Assessments started, or asked for today (28 days to start).
        assessment(her, today() - timedelta(days=60), started_on=today() - timedelta(days=50)),
        assessment(her, today()),
        # Her 3-month review held; the 6-month one is months away.
        referral(her, number, today() - timedelta(days=95)),
        # Tasks done, or due after the window; flags cleared.
        task(her, today(), done_on=today()),
        task(her, today() + timedelta(days=15)),
        flag(her, cleared_at=now()),
        # A link request decided.
        link_request(number, status="confirmed", decided_at=now(), child=None),
    ]
    add(api, *fine)
    engaged = next(r for r in fine if isinstance(r, Referral))
    add(
        api,
        Review(
            mother_id=her,
            milestone="three_months",
            held_on=engaged.engaged_on + timedelta(days=92),
            summary="Going well.",
        ),
    )
    # A follow-up done.
    group, attendance = follow_up(her, today() - DAY)
    attendance.follow_up_done_on = today()
    add(api, group)
    add(api, attendance)
    listed = worklist(api)
    assert listed["items"] == [], listed["items"]
    assert listed["total"] == 0 and listed["counts"] == []


def test_window_edges(api: Api) -> None:
    her, _ = mother(api)
    last_day = today() + timedelta(days=14)
    inside = hearing(
        her, datetime.combine(last_day, datetime.max.time(), UTC) - DAY / 24, attendance_mode=None
    )
    outside = hearing(
        her, datetime.combine(last_day + DAY, datetime.min.time(), UTC), attendance_mode=None
    )
    started = hearing(her, now() - timedelta(minutes=5), attendance_mode=None)
    due_last_day, due_after = task(her, last_day), task(her, last_day + DAY)
    add(api, inside, outside, started, due_last_day, due_after)
    shown = {i["resource_id"] for i in worklist(api)["items"]}
    assert str(inside.id) in shown and str(due_last_day.id) in shown
    assert str(outside.id) not in shown and str(due_after.id) not in shown
    assert str(started.id) not in shown
    # A shorter window leaves them out; a longer one takes the next day in.
    shown = {i["resource_id"] for i in worklist(api, within_days=15)["items"]}
    assert str(outside.id) in shown and str(due_after.id) in shown
    shown = {i["resource_id"] for i in worklist(api, within_days=3)["items"]}
    assert str(inside.id) not in shown and str(due_last_day.id) not in shown


def test_assessment_start_and_review_due(api: Api) -> None:
    her, number = mother(api)
    # Due to start 28 days after the request: listed once that day is within the window.
    edge = assessment(her, today() - timedelta(days=28 - 14))
    beyond = assessment(her, today() - timedelta(days=28 - 15))
    # A 3-month review due in 10 days is `due` (the schedule's 14 days), in 20 days not yet.
    due_soon = referral(her, number, today() - timedelta(days=80))
    other, other_number = mother(api)
    later = referral(other, other_number, today() - timedelta(days=60))
    add(api, edge, beyond, due_soon, later)
    listed = worklist(api)
    shown = reasons(listed)
    assert ("parenting_assessment", "not_started", str(edge.id)) in shown
    assert not any(record == str(beyond.id) for _, _, record in shown)
    assert ("review", "review_due", str(due_soon.id)) in shown
    assert not any(record == str(later.id) for _, _, record in shown)


def test_soonest_first_and_undated_by_when_they_waited(api: Api) -> None:
    her, _ = mother(api)
    in_two_days = task(her, today() + 2 * DAY)
    overdue = task(her, today() - 3 * DAY)
    hearing_tomorrow = hearing(her, now() + DAY, attendance_mode=None)
    flag_last_week = flag(her, raised_at=now() - timedelta(days=7))
    flag_now = flag(her, raised_at=now())
    add(api, in_two_days, overdue, hearing_tomorrow, flag_last_week, flag_now)
    order = [i["resource_id"] for i in worklist(api)["items"]]
    assert order == [
        str(flag_last_week.id),
        str(overdue.id),
        str(flag_now.id),
        str(hearing_tomorrow.id),
        str(in_two_days.id),
    ]


def test_limit_keeps_the_soonest_and_counts_all(api: Api) -> None:
    her, _ = mother(api)
    tasks = [task(her, today() + timedelta(days=n)) for n in range(5)]
    add(api, *tasks)
    listed = worklist(api, limit=2)
    assert [i["resource_id"] for i in listed["items"]] == [str(t.id) for t in tasks[:2]]
    assert listed["total"] == 5 and listed["truncated"] is True
    assert listed["counts"] == [{"kind": "task", "reason": "task_due", "count": 5}]
    assert api.get("ewi_worker", URL, params={"limit": 501}).status_code == 422
    assert api.get("ewi_worker", URL, params={"within_days": 367}).status_code == 422


def test_another_prisons_women_never_appear(api: Api) -> None:
    ewi, ewi_number = mother(api, "EWI")
    sdi, sdi_number = mother(api, "SDI")
    every_kind(api, ewi, ewi_number)
    every_kind(api, sdi, sdi_number)
    for who, prison, her in (("ewi_worker", "EWI", ewi), ("sdi_worker", "SDI", sdi)):
        listed = worklist(api, who)
        assert listed["prison_code"] == prison
        assert {i["mother"]["id"] for i in listed["items"]} == {str(her)}
    # An admin names the prison; a worker naming another prison gets 404, as for caseloads.
    assert {i["mother"]["id"] for i in worklist(api, "admin", prison_code="SDI")["items"]} == {
        str(sdi)
    }
    assert api.get("ewi_worker", URL, params={"prison_code": "SDI"}).status_code == 404
    assert worklist(api, "ewi_worker", prison_code="EWI")["prison_code"] == "EWI"
    missing = api.get("admin", URL)
    assert missing.status_code == 422 and "prison_code" in missing.text
    assert api.get("admin", URL, params={"prison_code": "XYZ"}).status_code == 422


def test_roles_without_a_worklist_get_403(api: Api) -> None:
    for who in ("bristol", "bristol_system", "ewi_governor", "auditor"):
        assert api.get(who, URL).status_code == 403, who
    assert api.client.get(URL).status_code == 401


def client_id(api: Api, name: str) -> uuid.UUID:
    (row,) = api.sql("SELECT id FROM api_client WHERE name = :name", name=name)
    return uuid.UUID(str(row[0]))


def test_mine_lists_only_the_women_allocated_to_her(api: Api) -> None:
    refused = api.get("ewi_worker", URL, params={"mine": "true"})
    assert refused.status_code == 422 and "staff directory" in refused.text
    hers, hers_number = mother(api)
    colleagues, colleagues_number = mother(api)
    ended, ended_number = mother(api)
    me = StaffMember(
        prison_code="EWI",
        name="Siân",
        role="prison_social_worker",
        signs_in_as=client_id(api, "ewi_worker"),
    )
    colleague = StaffMember(prison_code="EWI", name="Ffion", role="advocate")
    add(api, me, colleague)
    add(
        api,
        Allocation(mother_id=hers, staff_member_id=me.id, allocated_on=today(), **BY_DEMO_DATA),
        Allocation(
            mother_id=colleagues,
            staff_member_id=colleague.id,
            allocated_on=today(),
            **BY_DEMO_DATA,
        ),
        Allocation(
            mother_id=ended,
            staff_member_id=me.id,
            allocated_on=today() - 9 * DAY,
            ended_on=today() - DAY,
            **BY_DEMO_DATA,
        ),
    )
    for her, number in (
        (hers, hers_number),
        (colleagues, colleagues_number),
        (ended, ended_number),
    ):
        add(api, task(her, today()), link_request(number))
    mine = worklist(api, mine="true")
    assert mine["mine"] is True
    assert {i["mother"]["id"] for i in mine["items"]} == {str(hers)}
    assert mine["total"] == 2
    everyone = worklist(api)
    assert {i["mother"]["id"] for i in everyone["items"]} == {
        str(hers),
        str(colleagues),
        str(ended),
    }


def test_every_woman_and_record_shown_is_audited_as_consulted(api: Api) -> None:
    her, number = mother(api, earliest_release_date=str(today() + 5 * DAY))
    records = every_kind(api, her, number)
    response = api.get("ewi_worker", URL)
    assert response.status_code == 200
    rows = trail(api, response)
    assert {row[2] for row in rows} == {"consult"} and {row[6] for row in rows} == {"succeeded"}
    audited = {(row[3], row[4]) for row in rows}
    assert len(audited) == len(rows), "each record once, however many reasons"
    expected = {("mother", str(her))}
    for record in records.values():
        expected.add((type(record).__tablename__, str(record.id)))
    assert audited == expected
    assert {row[5] for row in rows} == {str(her)}
    # A record shown for two reasons (a meeting not joinable and late) is audited once.
    # Nothing shown: nothing audited but the read itself being said.
    empty = api.get("sdi_worker", URL)
    assert trail(api, empty) == []


def test_statements_do_not_grow_with_the_prison(api: Api) -> None:
    def measure(women: int) -> int:
        for _ in range(women):
            her, number = mother(api, earliest_release_date=str(today() + 5 * DAY))
            every_kind(api, her, number)
            add(
                api,
                ReleasePlan(
                    mother_id=her,
                    expected_release_date=today() + 6 * DAY,
                    accommodation_status="unknown",
                ),
            )
        with counting(api) as statements:
            listed = worklist(api, limit=500)
        assert listed["total"] >= women * 17
        return len(statements)

    small = measure(2)
    large = measure(38)  # 40 women in all
    assert small == large


def test_a_record_needing_action_for_two_reasons_is_two_items_audited_once(api: Api) -> None:
    her, _ = mother(api)
    soon = now() + 3 * DAY
    teams = meeting(
        her, soon, platform="zoom", prison_can_join=False, notified_at=soon - timedelta(hours=30)
    )
    add(api, teams)
    response = api.get("ewi_worker", URL)
    items = response.json()["items"]
    assert {(i["reason"], i["resource_id"]) for i in items} == {
        ("prison_cannot_join", str(teams.id)),
        ("late_notice", str(teams.id)),
    }
    rows = trail(api, response)
    assert sorted((row[3], row[4]) for row in rows) == [
        ("meeting", str(teams.id)),
        ("mother", str(her)),
    ]


def test_a_group_follow_up_and_the_task_it_made_are_one_item(api: Api) -> None:
    """A check-out lower than check-in owes a follow-up and makes a task for it: the worklist
    lists the follow-up owed once, not its task again; a task made by hand is listed."""
    her_id, _ = mother(api, reception_date=str(today() - timedelta(days=60)))
    worker = groups.facilitator(api)
    session = groups.group_session(api, [worker["id"]])
    row = groups.attended(api, session, str(her_id), check_in=4, check_out=2)
    made = api.get("admin", "/v1/tasks", params={"mother_id": str(her_id)}).json()["items"]
    assert [t["made_by_record"] for t in made] == ["group_follow_up"]
    by_hand = api.post(
        "ewi_worker",
        "/v1/tasks",
        {"mother_id": str(her_id), "title": "Ring her son's school", "due_on": str(today())},
    )
    assert by_hand.status_code == 201, by_hand.text
    listed = reasons(worklist(api))
    assert ("group_follow_up", "follow_up_owed", row["id"]) in listed
    assert {item for item in listed if item[0] == "task"} == {
        ("task", "task_due", by_hand.json()["id"])
    }


def test_a_task_is_listed_by_its_title_overdue_said(api: Api) -> None:
    her, _ = mother(api)
    add(
        api,
        task(her, today() - DAY, title="Send Zoë the visiting order"),
        task(her, today() + DAY, title="Ring her son's school"),
    )
    summaries = {i["reason"]: i["summary"] for i in worklist(api)["items"] if i["kind"] == "task"}
    assert summaries["task_overdue"].startswith("Task overdue")
    assert summaries["task_overdue"].endswith(': "Send Zoë the visiting order".')
    assert summaries["task_due"].startswith("Task due")
    assert summaries["task_due"].endswith(': "Ring her son\'s school".')
