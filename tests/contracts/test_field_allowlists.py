"""Every role's response fields are an allowlist: a field reaching a role that was not given it
here fails, as does a field a role was given and no longer gets. Reads as each role what a
fully filled-in family returns, and compares field paths (`items[].first_name`)."""

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tac_api.db import utcnow
from tac_api.reports.service import quarters_between, settled_by
from tac_api.webhooks.models import WebhookDelivery
from tests.support import groups, world
from tests.support.api import Api
from tests.support.bodies import TODAY, child_body, mother_body
from tests.support.operations import OPERATIONS
from tests.support.reviews import engaged
from tests.support.sql import db_id

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
    "supported_from",
    "released_on",
}
# A local authority sees who and where she is, not her record.
MOTHER_FOR_AUTHORITY = {
    "id",
    "first_name",
    "last_name",
    "prison_code",
    "status",
    "earliest_release_date",
    "released_on",
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
        "external_id",  # the authority's own id: null for anyone else
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
RELEASE_PATHWAYS = (
    "accommodation",
    "attitudes_thinking_behaviour",
    "children_families_community",
    "drugs_alcohol",
    "education_skills_work",
    "finance_id",
    "health",
)
# The mother's own plan: whoever sees her sees it, a local authority with its own children's
# contact after release only (checked below).
RELEASE_PLAN = (
    RECORD
    | {
        "mother_id",
        "expected_release_date",
        "release_local_authority_code",
        "accommodation_status",
        "probation_contact.name",
        "probation_contact.email",
        "probation_contact.phone",
        "contact_after_release[].child_id",
        "contact_after_release[].arrangement",
        "complete",
        "missing[].field",
        "missing[].message",
    }
    | {f"pathways.{p}.{f}" for p in RELEASE_PATHWAYS for f in ("status", "note")}
    | {f"actions[].{f}" for f in ("id", "description", "owner", "due_on", "done_on")}
)
ONWARD_REFERRALS = "pathways.children_families_community.onward_referrals"
ONWARD_REFERRAL = {
    "id",
    "organisation_id",
    "organisation_name",
    "made_on",
    "accepted_on",
    "declined_on",
    "first_contact_on",
    "note",
}
# Her onward referrals: the prison side's, and an authority's she consents to share her plan
# with (Bristol, below); another authority of hers (Surrey, consent withdrawn) sees an empty list.
RELEASE_PLAN_SHARED = RELEASE_PLAN | {f"{ONWARD_REFERRALS}[].{f}" for f in ONWARD_REFERRAL}
RELEASE_PLAN_UNSHARED = RELEASE_PLAN | {ONWARD_REFERRALS}
ORGANISATION = RECORD | {
    "name",
    "service_type",
    "area",
    "local_authority_code",
    "email",
    "phone",
    "website",
    "closed_on",
}
UNIT_COST = RECORD | {
    "outcome",
    "valid_from",
    "amount_pence",
    "source",
    "changed_at",
    "changed_by.client_id",
    "changed_by.name",
    "changed_by.role",
}
# Her support plan: the same to the prison side and to an authority she consents to share it
# with (without her consent, an authority gets 404: tests/contracts/test_access_matrix.py).
PLAN_AREA = {
    "area",
    "label",
    "chosen_by_her",
    "goal",
    "goal_written_by",
    "steps",
    "steps_written_by",
    "who_helps",
    "rating_at_start",
}
SUPPORT_PLAN = (
    RECORD
    | {"mother_id", "status", "content_version", "agreed_version", "agreed_on"}
    | {f"areas[].{f}" for f in PLAN_AREA}
)
SUPPORT_PLAN_HISTORY = (
    {"mother_id", "support_plan_id"}
    | {f"versions[].{f}" for f in ("number", "agreed_on", "changed_at")}
    | {f"versions[].changed_by.{f}" for f in ("client_id", "name", "role")}
    | {f"versions[].areas[].{f}" for f in PLAN_AREA}
    | {f"versions[].changes[].{f}" for f in ("area", "field", "before", "after")}
)
# Her consents: the prison side's only.
CONSENT = RECORD | {
    "mother_id",
    "local_authority_code",
    "covers_plan",
    "covers_reviews",
    "covers_groups",
    "given_on",
    "withdrawn_on",
    "withdrawn_at",
    "withdrawn_by_name",
    "in_force",
    "changed_at",
    "changed_by.client_id",
    "changed_by.name",
    "changed_by.role",
}
RELEASE_DUE = {
    "mother_id",
    "prison_number",
    "first_name",
    "last_name",
    "prison_code",
    "release_date",
    "release_date_from",
    "days_to_release",
    "release_plan_id",
    "accommodation_status",
    "pathways_outstanding",
    "open_actions",
}
COMMUNICATION = RECORD | {
    "mother_id",
    "kind",
    "from_party",
    "from_name",
    "to_party",
    "to_name",
    "channel",
    "occurred_at",
    "summary",
    "item_description",
    "child_ids",
}
ASSESSMENT = RECORD | {
    "mother_id",
    "child_ids",
    "requested_by",
    "requested_on",
    "requesting_local_authority_code",
    "assessor_name",
    "assessor_organisation",
    "model",
    "model_other",
    "started_on",
    "completed_on",
    "outcome",
    "report_shared_with[].role",
    "report_shared_with[].name",
}
EVIDENCE = RECORD | {
    "mother_id",
    "category",
    "title",
    "provider",
    "started_on",
    "completed_on",
    "hours",
    "verified_by.name",
    "verified_by.role",
    "verified_on",
}
# What a court or local authority is handed (a local authority's: her date of birth and prison
# number null, tested in tests/evidence).
EVIDENCE_BUNDLE = (
    {f"mother.{f}" for f in ("id", "first_name", "last_name", "prison_number")}
    | {"mother.prison_code", "mother.prison_name", "mother.date_of_birth", "case_numbers"}
    | {f"items[].{f}" for f in EVIDENCE}
    | {"totals[].category", "totals[].count", "totals[].hours", "total.count", "total.hours"}
    | {"totals[].hours_not_recorded", "total.hours_not_recorded"}
    | {"generated_at", "prepared_by"}
)
# Her review as a local authority she consents to share her reviews with reads it: never the
# social workers' relationships with her (the prison side's judgement).
REVIEW_SHARED = RECORD | {
    "mother_id",
    "held_on",
    "milestone",
    "mental_health_support",
    "employment_or_learning",
    "children_with_her",
    "positive_social_worker_feedback",
    "stable_housing_or_finances",
    "family_relationships_improved",
    "contact_with_child",
    "ratings[].area",
    "ratings[].rating",
    "summary",
}
REVIEW = REVIEW_SHARED | {"relationships[].practitioner_id", "relationships[].status"}
REVIEW_SCHEDULE = {"mother_id", "engaged_on", "support_closed_on"} | {
    f"milestones[].{f}" for f in ("milestone", "due_on", "state", "review_id", "held_on")
}
PREGNANCY = RECORD | {
    "mother_id",
    "known_on",
    "at_referral",
    "due_on",
    "outcome",
    "ended_on",
    "births[].born_on",
    "births[].baby_went",
    "births[].child_id",
}
# A hearing or meeting that does not go ahead: its status, who decided, why, and the link.
NOT_GOING_AHEAD = {
    "status",
    "status_decided_by",
    "status_reason",
    "status_changed_at",
    "adjourned_to_id",
    "adjourned_from_id",
}
MEETING = (
    NOT_GOING_AHEAD
    | RECORD
    | {
        "mother_id",
        "child_ids",
        "meeting_type",
        "starts_at",
        "notified_at",
        "notice_days",
        "late_notice",
        "platform",
        "prison_can_join",
        "invited",
        "attended",
        "barrier",
        "barrier_detail",
        "supported_by",
    }
)
CONTACT_VISIT = (
    RECORD
    | {
        "mother_id",
        "child_ids",
        "visit_type",
        "escort.name",
        "escort.role",
        "supervisor.name",
        "supervisor.role",
        "scheduled_at",
        "status",
        "status_reason",
        "status_reason_code",
        "next_statuses",
        "outcome",
        "outcome_notes",
    }
    | {
        f"status_history[].{f}"
        for f in (
            "changed_at",
            "from_status",
            "to_status",
            "reason",
            "reason_code",
            "changed_by.client_id",
            "changed_by.name",
            "changed_by.role",
        )
    }
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

HEARING = (
    RECORD
    | NOT_GOING_AHEAD
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
# Who made a change and when, alike in every history.
CHANGED = {"changed_at", "changed_by.client_id", "changed_by.name", "changed_by.role"}
AMENDMENT = (
    {"id", "court_hearing_id"} | CHANGED | {f"changes[].{f}" for f in ("field", "old", "new")}
)
CHILD_HISTORY = (
    {"id", "child_id", "source", "request_id"}
    | CHANGED
    | {f"changes[].{f}" for f in ("field", "old", "new", "withheld")}
)
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

# Never the secret after it was given out.
WEBHOOK = RECORD | {"local_authority_code", "url", "description", "event_types", "active", "cursor"}
WEBHOOK_DELIVERY = {
    "id",
    "webhook_id",
    "event_id",
    "event_type",
    "status",
    "attempts",
    "created_at",
    "last_attempt_at",
    "next_attempt_at",
    "finished_at",
    "response_status",
    "error",
}


# The child as the authority pushed it: held for the prison side to decide on.
PUSHED_CHILD = {
    f"child.{f}"
    for f in (
        "first_name",
        "last_name",
        "date_of_birth",
        "expected_date",
        "sex",
        "legal_status",
        "placement_type",
        "lives_with",
        "placement_confidential",
        "carer.name",
        "carer.phone",
        "carer.address",
        "social_worker.name",
        "social_worker.email",
        "social_worker.phone",
        "contact_arrangement",
        "contact_arrangement_reason",
    )
}
LINK_REQUEST = PUSHED_CHILD | {
    "id",
    "local_authority_code",
    "requested_by",
    "external_id",
    "mother_prison_number",
    "mother_id",
    "status",
    "requested_at",
    "updated_at",
    "decided_at",
    "decided_by",
    "reason",
    "child_id",
}
# The asking authority's own request: nothing of the mother, nor of the prison side's decision
# but its outcome.
LINK_REQUEST_FOR_AUTHORITY = {
    "id",
    "external_id",
    "mother_prison_number",
    "status",
    "requested_at",
    "updated_at",
    "decided_at",
    "child_id",
}

CHRONOLOGY = {"mother_id"} | {
    f"events[].{f}"
    for f in ("on", "at", "kind", "summary", "resource_type", "resource_id", "child_ids")
}

# The change feed's events carry codes, dates and statuses: never names, free text, or another
# authority's children. What this family's records tell Bristol (the other event types' data,
# a transfer's or a status change's, are checked field by field in tests/test_changes.py).
CHANGE_DATA = {
    "changed",
    # court hearings, and their outcome's codes
    "hearing_type",
    "starts_at",
    "notified_at",
    "court_name",
    "court_code",
    "proceedings_id",
    "attendance_mode",
    "social_worker_attends",
    "attended",
    "attended_how",
    "barrier",
    "order_made",
    "recorded_at",
    # hearings and meetings that do not go ahead: codes and dates, never the reason
    "status_decided_by",
    "status_changed_at",
    "adjourned_to_id",
    "adjourned_to_starts_at",
    # meetings
    "meeting_type",
    "platform",
    "prison_can_join",
    "invited",
    # contact visits
    "visit_type",
    "scheduled_at",
    "status",
    # parenting assessments
    "requested_by",
    "requested_on",
    "requesting_local_authority_code",
    "model",
    "started_on",
    "completed_on",
    "outcome",
    # evidence
    "category",
    "hours",
    "verified_on",
    # release plan, and her release date
    "expected_release_date",
    "release_local_authority_code",
    "accommodation_status",
    "complete",
}
CHANGE_FEED = (
    {"next_cursor"}
    | {
        f"items[].{f}"
        for f in (
            "id",
            "type",
            "occurred_at",
            "mother_id",
            "child_ids",
            "resource_type",
            "resource_id",
            "cursor",
        )
    }
    | {f"items[].data.{f}" for f in CHANGE_DATA}
)


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

REFERRAL = RECORD | {
    "prison_code",
    "received_on",
    "source",
    "referred_by_id",
    "prison_number",
    "first_name",
    "last_name",
    "reason",
    "pregnant",
    "status",
    "decided_on",
    "decision_reason",
    "mother_id",
    "first_contact_on",
    "engaged_on",
    "support_closed_on",
    "support_closed_reason",
    "support_closed_note",
}
# Figures only: no person in them.
REFERRAL_FUNNEL = {
    "prison_code",
    "received_from",
    "received_before",
    "as_of",
    "referred",
    "awaiting_decision",
    "accepted",
    "declined",
    "not_eligible",
    "engaged",
} | {f"milestones[].{f}" for f in ("months", "reached", "still_engaged")}

PRISON = ("admin", "sdi_worker")
STAFF_MEMBER = RECORD | {
    "prison_code",
    "name",
    "role",
    "email",
    "phone",
    "identity_subject",
    "api_client_id",
    "signs_in_as",
    "left_on",
}
ALLOCATION = (
    RECORD
    | CHANGED
    | {"mother_id", "allocated_on", "ended_on", "reason", "end_reason"}
    | {f"staff_member.{f}" for f in ("id", "name", "role")}
)
HER_NAMES = {"mother_id", "first_name", "last_name", "prison_number"}
CASELOADS = (
    {"guide.lower", "guide.upper", "prisons[].prison_code", "prisons[].prison_name"}
    | {
        f"prisons[].workers[].{f}"
        for f in ("staff_member_id", "name", "role", "count", "over_guide", "under_guide")
    }
    | {f"prisons[].workers[].women[].{f}" for f in HER_NAMES | {"allocated_on"}}
    | {f"prisons[].unallocated[].{f}" for f in HER_NAMES}
)
# The worklist: what needs action, each item naming her and the record; no free text of hers.
WORKLIST = (
    {"prison_code", "within_days", "mine", "as_of", "total", "truncated"}
    | {f"counts[].{f}" for f in ("kind", "reason", "count")}
    | {
        f"items[].{f}"
        for f in (
            "kind",
            "reason",
            "summary",
            "resource_type",
            "resource_id",
            "due_at",
            "due_on",
            "overdue",
            "waiting_since",
        )
    }
    | {f"items[].mother.{f}" for f in ("id", "first_name", "last_name", "prison_number")}
)
# Her row of a register: a local authority she consents to share her group attendance with
# reads it without the session's id, who followed her up and the worker's note.
ATTENDANCE_SHARED = RECORD | {
    "mother_id",
    "held_on",
    "prison_code",
    "activity",
    "check_in",
    "check_in_word",
    "check_out",
    "check_out_word",
    "follow_up_due_on",
    "follow_up_done_on",
}
ATTENDANCE = ATTENDANCE_SHARED | {"group_session_id", "follow_up_by_id", "follow_up_note"}
GROUP_SESSION = RECORD | {
    "prison_code",
    "held_on",
    "duration_minutes",
    "activity",
    "activity_chosen_by_members",
    "facilitator_ids",
}
REGISTER = {f"session.{f}" for f in GROUP_SESSION} | {f"attendance[].{f}" for f in ATTENDANCE}
# Tasks and flags for review: the prison side's alone. A record's open flags reach the prison side
# on the record (`flags_for_review`); the field is absent from what a local authority gets.
TASK = (
    RECORD
    | CHANGED
    | {
        "mother_id",
        "title",
        "detail",
        "owner_id",
        "due_on",
        "done_on",
        "done",
        "resource_type",
        "resource_id",
        "made_by_record",
    }
)
FLAG = RECORD | {
    "mother_id",
    "resource_type",
    "resource_id",
    "reason",
    "raised_by_source",
    "raised_at",
    "raised_by.name",
    "raised_by.role",
    "open",
    "cleared_at",
    "cleared_by.name",
    "cleared_by.role",
    "clearance_note",
}
FLAGGED = {f"flags_for_review[].{f}" for f in ("id", "reason", "raised_at", "raised_by")}
# A list holding records with no open flag as well (an empty list's path is its own).
SOME_FLAGGED = FLAGGED | {"flags_for_review"}
AUTHORITY = ("bristol", "bristol_system")
WEBHOOK_KEEPERS = ("admin", "bristol_system")

# Operation -> the callers who read it -> the fields they get.
REPORT = {
    "report_id",
    "kind",
    "generated_at",
    "suppression.threshold",
    "suppression.marker",
    "suppression.legend",
    "perturbation.applied",
    "perturbation.unperturbed_share",
    "perturbation.largest",
    "perturbation.legend",
    "notes",
}
CELLS = {f"{cell}.{f}" for cell in ("current", "previous") for f in ("value", "suppressed")}
QUARTERS = {f"{{}}.{f}" for f in ("key", "label", "period.from", "period.to")}
GOVERNOR_REPORT = (
    REPORT
    | {"prison_code", "prison_name", "sections[].key", "sections[].title"}
    | {f"{period}.{end}" for period in ("period", "previous_period") for end in ("from", "to")}
    | {
        f"sections[].figures[].{f}"
        for f in ("key", "label", "unit", "part_of", "breakdown", "stock", "exact_zero", *CELLS)
    }
    | {path.format("trend.quarters[]") for path in QUARTERS}
    | {f"trend.figures[].{f}" for f in ("key", "label", "stock", "exact_zero")}
    | {f"trend.figures[].values[].{f}" for f in ("value", "suppressed")}
)
PROGRAMME_REPORT = REPORT | {
    "prison_codes",
    *(path.format("quarters[]") for path in QUARTERS),
    "sections[].key",
    "sections[].title",
    *(
        f"sections[].figures[].{f}"
        for f in ("key", "label", "unit", "part_of", "breakdown", "method", "stock", "exact_zero")
    ),
    *(f"sections[].figures[].values[].{f}" for f in ("value", "suppressed", "available")),
}


TRANSFER_SUMMARY = (
    RECORD
    | CHANGED
    | {"mother_id", "from_prison_code", "to_prison_code", "transferred_on", "kept_until"}
    | {f"case.mother.{f}" for f in ("first_name", "last_name", "prison_number", "date_of_birth")}
    | {
        f"case.children[].{f}"
        for f in (
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "expected_date",
            "local_authority.code",
            "local_authority.name",
            "legal_status.code",
            "legal_status.description",
        )
    }
    | {
        f"case.open_hearings[].{f}"
        for f in ("id", "starts_at", "hearing_type", "court_name", "attendance_mode", "child_ids")
    }
    | {
        f"case.open_visits[].{f}"
        for f in ("id", "visit_type", "status", "scheduled_at", "child_ids")
    }
    | {
        f"case.open_meetings[].{f}"
        for f in ("id", "meeting_type", "starts_at", "platform", "prison_can_join", "child_ids")
    }
    | {f"case.worker.{f}" for f in ("staff_member_id", "name", "role", "allocated_on")}
)
# The sending prison's: Eastwood Park's, for the woman moved to Send in the family below.
SENDING = ("admin", "ewi_worker")


ALLOWED: dict[str, dict[tuple[str, ...], set[str]]] = {
    "GET /v1/mothers": {
        PRISON: items(MOTHER | SOME_FLAGGED),
        AUTHORITY: items(MOTHER_FOR_AUTHORITY),
    },
    "GET /v1/mothers/{mother_id}": {
        PRISON: MOTHER | FLAGGED | {f"children[].{f}" for f in CHILD_SUMMARY},
        AUTHORITY: MOTHER_FOR_AUTHORITY,
    },
    "GET /v1/mothers/{mother_id}/prison-stays": {PRISON: items(STAY)},
    "GET /v1/mothers/{mother_id}/children": {
        PRISON: items(CHILD | SOME_FLAGGED),
        AUTHORITY: items(CHILD),
    },
    "GET /v1/children/{child_id}": {PRISON: CHILD | FLAGGED, AUTHORITY: CHILD},
    "GET /v1/children/{child_id}/history": {PRISON + AUTHORITY: items(CHILD_HISTORY)},
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
    "GET /v1/mothers/{mother_id}/release-plan": {
        PRISON: RELEASE_PLAN_SHARED | FLAGGED,
        AUTHORITY: RELEASE_PLAN_SHARED,
        ("surrey",): RELEASE_PLAN_UNSHARED,
    },
    "GET /v1/release-plans/due": {PRISON: items(RELEASE_DUE)},
    "GET /v1/mothers/{mother_id}/communications": {PRISON + AUTHORITY: items(COMMUNICATION)},
    "GET /v1/communications/{communication_id}": {PRISON + AUTHORITY: COMMUNICATION},
    "GET /v1/parenting-assessments": {
        PRISON: items(ASSESSMENT | FLAGGED),
        AUTHORITY: items(ASSESSMENT),
    },
    "GET /v1/parenting-assessments/{parenting_assessment_id}": {
        PRISON: ASSESSMENT | FLAGGED,
        AUTHORITY: ASSESSMENT,
    },
    "GET /v1/mothers/{mother_id}/evidence": {
        PRISON: items(EVIDENCE | FLAGGED),
        AUTHORITY: items(EVIDENCE),
    },
    "GET /v1/evidence/{evidence_id}": {PRISON: EVIDENCE | FLAGGED, AUTHORITY: EVIDENCE},
    "GET /v1/mothers/{mother_id}/evidence-bundle": {PRISON + AUTHORITY: EVIDENCE_BUNDLE},
    # Bristol has her consent to share her plan (the family below): what it then sees.
    "GET /v1/mothers/{mother_id}/support-plan": {PRISON + AUTHORITY: SUPPORT_PLAN},
    "GET /v1/mothers/{mother_id}/support-plan/history": {PRISON + AUTHORITY: SUPPORT_PLAN_HISTORY},
    "GET /v1/mothers/{mother_id}/consents": {PRISON: items(CONSENT)},
    "GET /v1/consents/{consent_id}": {PRISON: CONSENT},
    # Bristol reads her reviews under her consent (the family's), without the relationships.
    "GET /v1/mothers/{mother_id}/reviews": {PRISON: items(REVIEW), AUTHORITY: items(REVIEW_SHARED)},
    "GET /v1/reviews/{review_id}": {PRISON: REVIEW, AUTHORITY: REVIEW_SHARED},
    "GET /v1/mothers/{mother_id}/review-schedule": {PRISON: REVIEW_SCHEDULE},
    "GET /v1/mothers/{mother_id}/pregnancies": {PRISON: items(PREGNANCY)},
    "GET /v1/pregnancies/{pregnancy_id}": {PRISON: PREGNANCY},
    # The family's adjourned meeting and hearing have new dates, which no one has flagged.
    "GET /v1/meetings": {PRISON: items(MEETING | SOME_FLAGGED), AUTHORITY: items(MEETING)},
    "GET /v1/meetings/{meeting_id}": {PRISON: MEETING | FLAGGED, AUTHORITY: MEETING},
    "GET /v1/contact-visits": {
        PRISON: items(CONTACT_VISIT | FLAGGED),
        AUTHORITY: items(CONTACT_VISIT),
    },
    "GET /v1/contact-visits/{contact_visit_id}": {
        PRISON: CONTACT_VISIT | FLAGGED,
        AUTHORITY: CONTACT_VISIT,
    },
    # A hearing's outcome is null until recorded (the family's new date has none yet).
    "GET /v1/court-hearings": {
        PRISON: items(HEARING | SOME_FLAGGED | {"outcome"}),
        AUTHORITY: items(HEARING | {"outcome"}),
    },
    "GET /v1/court-hearings/{court_hearing_id}": {PRISON: HEARING | FLAGGED, AUTHORITY: HEARING},
    "GET /v1/court-hearings/{court_hearing_id}/amendments": {PRISON + AUTHORITY: items(AMENDMENT)},
    "GET /v1/proceedings": {PRISON + AUTHORITY: items(PROCEEDINGS)},
    "GET /v1/proceedings/{proceedings_id}": {PRISON + AUTHORITY: PROCEEDINGS},
    "GET /v1/mothers/{mother_id}/chronology": {PRISON + AUTHORITY: CHRONOLOGY},
    "GET /v1/audit": {("admin", "auditor"): items(AUDIT_EVENT)},
    "GET /v1/referrals": {PRISON: items(REFERRAL)},
    "GET /v1/referrals/{referral_id}": {PRISON: REFERRAL},
    "GET /v1/referral-funnel": {PRISON: REFERRAL_FUNNEL},
    "GET /v1/mothers/{mother_id}/referrals": {PRISON: items(REFERRAL)},
    # Figures only: the report's own fields, never a person's.
    "GET /v1/reports/governor": {("admin", "ewi_governor"): GOVERNOR_REPORT},
    "GET /v1/reports/programme": {("admin",): PROGRAMME_REPORT},
    "GET /v1/sync/changes": {("admin", *AUTHORITY): CHANGE_FEED},
    "GET /v1/link-requests": {PRISON: items(LINK_REQUEST)},
    "GET /v1/link-requests/{link_request_id}": {PRISON: LINK_REQUEST},
    "GET /v1/sync/link-requests": {AUTHORITY: items(LINK_REQUEST_FOR_AUTHORITY)},
    "GET /v1/sync/link-requests/{link_request_id}": {AUTHORITY: LINK_REQUEST_FOR_AUTHORITY},
    "GET /v1/sync/webhooks": {WEBHOOK_KEEPERS: items(WEBHOOK)},
    "GET /v1/sync/webhooks/{webhook_id}": {WEBHOOK_KEEPERS: WEBHOOK},
    "GET /v1/sync/webhooks/{webhook_id}/deliveries": {WEBHOOK_KEEPERS: items(WEBHOOK_DELIVERY)},
    "GET /v1/staff": {PRISON: items(STAFF_MEMBER)},
    "GET /v1/staff/{staff_member_id}": {PRISON: STAFF_MEMBER},
    # Her own entry: the Send worker's client is linked to one (an admin signs in as none).
    "GET /v1/staff/me": {("sdi_worker",): STAFF_MEMBER},
    "GET /v1/mothers/{mother_id}/allocations": {PRISON: items(ALLOCATION)},
    "GET /v1/organisations": {PRISON + AUTHORITY + ("ewi_worker", "surrey"): items(ORGANISATION)},
    "GET /v1/organisations/{organisation_id}": {
        PRISON + AUTHORITY + ("ewi_worker", "surrey"): ORGANISATION
    },
    "GET /v1/unit-costs": {("admin",): items(UNIT_COST)},
    "GET /v1/unit-costs/{unit_cost_id}": {("admin",): UNIT_COST},
    # Group sessions and registers: the prison side's; her own row, Bristol's under her consent.
    "GET /v1/group-sessions": {PRISON: items(GROUP_SESSION)},
    "GET /v1/group-sessions/{group_session_id}": {PRISON: GROUP_SESSION},
    "GET /v1/group-sessions/{group_session_id}/register": {PRISON: REGISTER},
    "GET /v1/group-attendances/{group_attendance_id}": {
        PRISON: ATTENDANCE,
        AUTHORITY: ATTENDANCE_SHARED,
    },
    "GET /v1/mothers/{mother_id}/group-attendance": {
        PRISON: items(ATTENDANCE),
        AUTHORITY: items(ATTENDANCE_SHARED),
    },
    "GET /v1/group-follow-ups": {PRISON: items(ATTENDANCE | {"overdue"})},
    "GET /v1/transfer-summaries": {SENDING: items(TRANSFER_SUMMARY)},
    "GET /v1/transfer-summaries/{transfer_summary_id}": {SENDING: TRANSFER_SUMMARY},
    # An admin gets every prison's: those with no staff and no women show empty lists.
    "GET /v1/caseloads": {
        ("admin",): CASELOADS | {"prisons[].workers", "prisons[].unallocated"},
        ("sdi_worker",): CASELOADS,
    },
    # Her reviews at 6 and 12 months are owed (her support began a year ago).
    "GET /v1/worklist": {PRISON: WORKLIST},
    "GET /v1/tasks": {PRISON: items(TASK)},
    "GET /v1/mothers/{mother_id}/tasks": {PRISON: items(TASK)},
    "GET /v1/tasks/{task_id}": {PRISON: TASK},
    # Open flags show no one who cleared them (`cleared_by` null); the one read is cleared.
    "GET /v1/flags": {PRISON: items(FLAG) | {"items[].cleared_by"}},
    "GET /v1/flags/{flag_id}": {PRISON: FLAG},
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
def api(module_api: Api) -> Api:
    """One world for the whole module, built once per database: its tests only read it, or
    are refused and change nothing (a hundred-odd operations, each once, rebuilt it before)."""
    return module_api


@pytest.fixture(scope="module")
def family(module_api: Api) -> dict[str, str]:
    """A Send mother with every field filled in: a Bristol child, a Surrey child, a link."""
    api = module_api
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
    due = str(TODAY + timedelta(days=90))
    unborn = filled | {"date_of_birth": None, "expected_date": due}
    made = world.family(
        api,
        {
            "child": world.child("Rhys", **filled),
            "surrey_child": world.child("Dafydd", "936", **filled),
            "unborn": world.child("Baby", **unborn),
        },
        prison_code="SDI",
    )
    mother, child, surrey_child = made["mother"], made["child"], made["surrey_child"]
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
    plan = {
        "expected_release_date": str(TODAY + timedelta(days=30)),
        "release_local_authority_code": "801",
        "accommodation_status": "temporary",
        "probation_contact": {
            "name": "Rhiannon Pryce-Jones",
            "email": "rhiannon.pryce-jones@probation.example.gov.uk",
            "phone": "0117 496 0002",
        },
        "pathways": {
            pathway: {"status": "in_progress", "note": "Referral made."}
            for pathway in RELEASE_PATHWAYS
        },
        "contact_after_release": [
            {"child_id": child["id"], "arrangement": "Supervised, fortnightly."},
            {"child_id": surrey_child["id"], "arrangement": "Letters through the carer."},
        ],
        "actions": [
            {
                "description": "Book the housing options interview.",
                "owner": "Prison social worker",
                "due_on": str(TODAY + timedelta(days=7)),
                "done_on": str(TODAY),
            }
        ],
    }
    service = api.post(
        "admin",
        "/v1/organisations",
        {
            "name": "Step Together (Sefton)",
            "service_type": "birth_mothers",
            "area": "Sefton",
            "local_authority_code": "343",
            "email": "referrals@step-together.example.org",
            "phone": "0151 496 0123",
            "website": "https://step-together.example.org",
        },
    )
    assert service.status_code == 201, service.text
    plan["pathways"]["children_families_community"]["onward_referrals"] = [
        {
            "organisation_id": service.json()["id"],
            "made_on": str(TODAY - timedelta(days=10)),
            "accepted_on": str(TODAY - timedelta(days=2)),
            "note": "Her advocate there will meet her at the gate.",
        }
    ]
    put = api.put("admin", f"/v1/mothers/{mother['id']}/release-plan", plan)
    assert put.status_code == 201, put.text
    unit_cost = api.post(
        "admin",
        "/v1/unit-costs",
        {
            "outcome": "child_with_her_at_twelve_months",
            "valid_from": "2025-04-01",
            "amount_pence": 5_200_000,
            "source": "Step Together's evaluation, year 5.",
        },
    )
    assert unit_cost.status_code == 201, unit_cost.text
    communication = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/communications",
        {
            "from_party": "mother",
            "from_name": "Siân O'Connor",
            "to_party": "la_social_worker",
            "to_name": "Gwen Llewellyn",
            "channel": "email",
            "occurred_at": "2026-01-15T10:30:00Z",
            "summary": "Asked for the date of the looked-after child review.",
            "child_ids": [child["id"], surrey_child["id"]],
        },
    )
    assert communication.status_code == 201, communication.text
    assessment = api.post(
        "admin",
        "/v1/parenting-assessments",
        assessment_body(mother["id"], [child["id"], surrey_child["id"]]),
    ).json()
    evidence = api.post("admin", f"/v1/mothers/{mother['id']}/evidence", EVIDENCE_BODY).json()
    # Her support plan, changed once and agreed; her consent to share her plan and reviews with
    # Bristol, and one to Surrey she has withdrawn.
    plan_url = f"/v1/mothers/{mother['id']}/support-plan"
    first = api.put("admin", plan_url, {"areas": [SUPPORT_PLAN_AREA]}).json()
    changed = {"areas": [SUPPORT_PLAN_AREA | {"rating_at_start": 5}]}
    assert api.put("admin", plan_url, changed, if_match=f'"{first["version"]}"').is_success
    agreement = {"version": 2, "agreed_on": str(TODAY)}
    assert api.post("admin", f"{plan_url}/agreement", agreement).is_success
    consents = f"/v1/mothers/{mother['id']}/consents"
    both = {
        "covers_plan": True,
        "covers_reviews": True,
        "covers_groups": True,
        "given_on": str(TODAY),
    }
    consent = api.post("admin", consents, {"local_authority_code": "801", **both}).json()
    withdrawn = api.post("admin", consents, {"local_authority_code": "936", **both}).json()
    withdrawal = {"withdrawn_on": str(TODAY)}
    assert api.post("admin", f"/v1/consents/{withdrawn['id']}/withdrawal", withdrawal).is_success
    # Her support began a year ago (her consent to Bristol, above, covers her reviews).
    engaged(api, mother, TODAY - timedelta(days=365))
    relationships = [{"practitioner_id": solicitor["id"], "status": "improving"}]
    review = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/reviews",
        {**REVIEW_BODY, "relationships": relationships},
    )
    assert review.status_code == 201, review.text
    births = [{"born_on": "2026-03-02", "baby_went": "with_her_child_in_need", "child_id": None}]
    pregnancy = api.post(
        "admin", f"/v1/mothers/{mother['id']}/pregnancies", {**PREGNANCY_BODY, "births": births}
    )
    assert pregnancy.status_code == 201, pregnancy.text
    meeting = api.post(
        "admin",
        "/v1/meetings",
        {
            "mother_id": mother["id"],
            "child_ids": [child["id"]],
            "meeting_type": "child_protection_conference",
            "starts_at": "2026-01-05T10:00:00Z",
            "notified_at": "2026-01-02T09:00:00Z",
            "platform": "microsoft_teams",
            "attended": False,
            "barrier": "other",
            "barrier_detail": "The link sent did not open on the prison's laptop.",
            "supported_by": "Eleri Bowen, prison social worker",
        },
    ).json()
    visit = api.post(
        "admin",
        "/v1/contact-visits",
        {
            "mother_id": mother["id"],
            "child_ids": [child["id"]],
            "visit_type": "family_day",
            "escort": {"name": "Aoife Ní Bhriain", "role": "carer"},
            "supervisor": {"name": "Gwen Llewellyn", "role": "social worker, Bristol"},
            "scheduled_at": "2026-02-14T13:30:00Z",
        },
    ).json()
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
    api.post("admin", f"/v1/proceedings/{proceedings['id']}/extensions", extension, '"1"')
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
    # A hearing and a meeting that did not go ahead: the one adjourned to a new date (both
    # linked), the other vacated, with who decided and why.
    listed = api.post(
        "admin",
        "/v1/court-hearings",
        {
            "mother_id": mother["id"],
            "child_ids": [child["id"]],
            "hearing_type": "final",
            "starts_at": f"{TODAY + timedelta(days=5)}T10:00:00Z",
            **court,
        },
    ).json()
    adjourned = {
        "status": "adjourned",
        "decided_by": "court",
        "reason": "The expert's report is not ready.",
        "adjourned_to": {"starts_at": f"{TODAY + timedelta(days=40)}T10:00:00Z"},
    }
    url = f"/v1/court-hearings/{listed['id']}/status"
    assert api.post("admin", url, adjourned, '"1"').is_success
    called_off = api.post(
        "admin",
        "/v1/meetings",
        {
            "mother_id": mother["id"],
            "child_ids": [child["id"]],
            "meeting_type": "core_group",
            "starts_at": f"{TODAY + timedelta(days=5)}T10:00:00Z",
            "platform": "zoom",
        },
    ).json()
    vacated = {"status": "vacated", "decided_by": "chair", "reason": "The chair is unwell."}
    assert api.post("admin", f"/v1/meetings/{called_off['id']}/status", vacated, '"1"').is_success
    webhook = api.post(
        "bristol_system",
        "/v1/sync/webhooks",
        {"url": "https://sync.example.gov.uk/tac", "description": "Mosaic", "event_types": ["x"]},
    ).json()
    add_delivery(api, webhook["id"])
    # Bristol asking to be linked to another mother in Send, every field of the child filled in.
    stranger = api.mother(prison_code="SDI")
    pushed = child_body(
        mother_prison_number=stranger["prison_number"], placement_confidential=False, **filled
    )
    del pushed["local_authority_code"]
    link_request = api.put("bristol_system", "/v1/sync/children/BR-ASK", pushed)
    assert link_request.status_code == 202, link_request.text
    # Her worker, who signs in as the Send worker's client; the stranger is unallocated.
    (sdi_worker,) = api.sql("SELECT id FROM api_client WHERE name = 'sdi_worker'")
    worker = api.post(
        "admin",
        "/v1/staff",
        {
            "prison_code": "SDI",
            "name": "Aoife Ní Bhriain",
            "role": "prison_social_worker",
            "email": "aoife@tac.example.org",
            "phone": "01483 496 000",
            "api_client_id": str(uuid.UUID(str(sdi_worker[0]))),
        },
    )
    assert worker.status_code == 201, worker.text
    allocations = f"/v1/mothers/{mother['id']}/allocation"
    first = {"staff_member_id": worker.json()["id"], "allocated_on": str(TODAY - timedelta(days=9))}
    assert api.put("admin", allocations, first | {"reason": "Referred."}).is_success
    ended = {"ended_on": str(TODAY - timedelta(days=2)), "reason": "She asked for a break."}
    assert api.post("admin", f"{allocations}/end", ended).is_success
    again = {"staff_member_id": worker.json()["id"], "allocated_on": str(TODAY)}
    assert api.put("sdi_worker", allocations, again).is_success
    # Another mother's (hers has her support open already, for her review schedule).
    referral = add_referral(api, stranger["prison_number"], solicitor["id"])
    group_session, attendance = add_group_session(api, worker.json()["id"], mother, stranger)
    summary = add_transfer_summary(api)
    task, flag = add_tasks_and_flags(
        api,
        worker.json()["id"],
        mother["id"],
        {
            "mother": mother["id"],
            "child": child["id"],
            "court_hearing": hearing["id"],
            "meeting": meeting["id"],
            "contact_visit": visit["id"],
            "parenting_assessment": assessment["id"],
            "evidence": evidence["id"],
            "release_plan": put.json()["id"],
        },
    )
    return {
        "transfer_summary_id": summary["id"],
        "task_id": task["id"],
        "flag_id": flag["id"],
        "group_session_id": group_session["id"],
        "group_attendance_id": attendance["id"],
        "referral_id": referral["id"],
        "staff_member_id": worker.json()["id"],
        "link_request_id": link_request.json()["id"],
        "webhook_id": webhook["id"],
        "mother_id": mother["id"],
        "child_id": child["id"],
        "surrey_child_id": surrey_child["id"],
        "practitioner_id": solicitor["id"],
        "communication_id": communication.json()["id"],
        "parenting_assessment_id": assessment["id"],
        "evidence_id": evidence["id"],
        "review_id": review.json()["id"],
        "pregnancy_id": pregnancy.json()["id"],
        "meeting_id": meeting["id"],
        "contact_visit_id": visit["id"],
        "court_hearing_id": hearing["id"],
        "proceedings_id": proceedings["id"],
        "consent_id": consent["id"],
        "organisation_id": service.json()["id"],
        "unit_cost_id": unit_cost.json()["id"],
    }


def add_referral(api: Api, prison_number: str, referred_by_id: str) -> dict[str, Any]:
    """Her referral, every field filled in: accepted (her record linked), engaged, and her
    support closed with a note."""
    referral = api.post(
        "admin",
        "/v1/referrals",
        {
            "received_on": str(TODAY - timedelta(days=60)),
            "prison_code": "SDI",
            "source": "local_authority",
            "referred_by_id": referred_by_id,
            "prison_number": prison_number,
            "first_name": "Siân",
            "last_name": "O'Connor",
            "reason": "Her son's social worker asked for support with contact.",
            "pregnant": True,
        },
    ).json()
    steps = [
        (
            "post",
            "/decision",
            {
                "decision": "accepted",
                "decided_on": str(TODAY - timedelta(days=50)),
                "reason": "She wants to work with us.",
            },
        ),
        (
            "patch",
            "",
            {
                "first_contact_on": str(TODAY - timedelta(days=45)),
                "engaged_on": str(TODAY - timedelta(days=40)),
            },
        ),
        (
            "post",
            "/support-closure",
            {
                "closed_on": str(TODAY - timedelta(days=5)),
                "reason": "other",
                "note": "She asked to pause while her appeal is heard.",
            },
        ),
    ]
    for method, below, body in steps:
        done = getattr(api, method)(
            "admin",
            f"/v1/referrals/{referral['id']}{below}",
            body,
            if_match=f'"{referral["version"]}"',
        )
        assert done.status_code == 200, done.text
        referral = done.json()
    return referral


def add_group_session(
    api: Api, facilitator_id: str, mother: dict[str, Any], stranger: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A session in Send she and the stranger attended, every field filled in: she checked out
    lower and was followed up."""
    held_on = str(TODAY - timedelta(days=7))
    session = groups.group_session(
        api, [facilitator_id], prison_code="SDI", held_on=held_on, duration_minutes=90
    )
    row = groups.attended(
        api,
        session,
        mother["id"],
        check_in=4,
        check_in_word="hopeful",
        check_out=2,
        check_out_word="tired",
    )
    done = {
        "follow_up_done_on": held_on,
        "follow_up_by_id": facilitator_id,
        "follow_up_note": "Talked it through on the wing.",
    }
    followed = api.patch("admin", groups.row_url(row), done, if_match=groups.etag(row))
    assert followed.status_code == 200, followed.text
    groups.attended(api, session, stranger["id"], check_in=3, check_in_word="calm", check_out=1)
    return session, followed.json()


def add_transfer_summary(api: Api) -> dict[str, Any]:
    """A woman moved from Eastwood Park to Send with a Surrey child and a hearing, a visit and
    a meeting open: what Eastwood Park keeps. The open records are then gone from her case
    (Send's to decide), so that Send's lists show the family's alone; the summary keeps them."""
    moved = api.mother(prison_code="EWI")
    child = api.child(moved["id"], local_authority_code="936", legal_status="C2")
    concerning = {"mother_id": moved["id"], "child_ids": [child["id"]]}
    hearing = api.post(
        "admin",
        "/v1/court-hearings",
        concerning
        | {
            "court_name": "Guildford Family Court",
            "hearing_type": "case_management",
            "starts_at": f"{TODAY + timedelta(days=5)}T10:00:00Z",
            "notified_at": f"{TODAY - timedelta(days=1)}T09:00:00Z",
            "attendance_mode": "prison_video_link",
        },
    )
    assert hearing.status_code == 201, hearing.text
    visit = api.post("admin", "/v1/contact-visits", concerning | {"visit_type": "video_call"})
    meeting = api.post(
        "admin",
        "/v1/meetings",
        concerning
        | {
            "meeting_type": "core_group",
            "starts_at": f"{TODAY + timedelta(days=6)}T10:00:00Z",
            "platform": "zoom",
        },
    )
    worker = api.post(
        "admin", "/v1/staff", {"prison_code": "EWI", "name": "Eleri Bowen", "role": "advocate"}
    ).json()
    allocation = {"staff_member_id": worker["id"], "allocated_on": str(TODAY)}
    assert api.put("admin", f"/v1/mothers/{moved['id']}/allocation", allocation).is_success
    url = f"/v1/mothers/{moved['id']}"
    assert api.patch("ewi_worker", url, {"prison_code": "SDI"}, if_match='"1"').is_success
    for table, record in (
        ("court_hearing", hearing),
        ("contact_visit", visit),
        ("meeting", meeting),
    ):
        api.sql(f"DELETE FROM {table} WHERE id = :id", id=db_id(api, record.json()["id"]))
    api.sql("DELETE FROM allocation WHERE staff_member_id = :id", id=db_id(api, worker["id"]))
    api.sql("DELETE FROM staff_member WHERE id = :id", id=db_id(api, worker["id"]))
    (summary,) = api.get("ewi_worker", "/v1/transfer-summaries").json()["items"]
    return summary


def add_tasks_and_flags(
    api: Api, worker_id: str, mother_id: str, records: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A task on her case with every field filled in, done; an open flag on each record that
    shows its flags, and a flag on her child cleared with a note (the one read)."""
    body = {
        "mother_id": mother_id,
        "title": "Ask Bristol for the date of Rhys's review",
        "detail": "Gwen said she'd confirm by Friday.",
        "owner_id": worker_id,
        "due_on": str(TODAY + timedelta(days=3)),
        "resource_type": "child",
        "resource_id": records["child"],
    }
    task = api.post("admin", "/v1/tasks", body).json()
    done = api.patch("admin", f"/v1/tasks/{task['id']}", {"done_on": str(TODAY)}, '"1"')
    assert done.status_code == 200, done.text
    for kind, record_id in records.items():
        flag = {"resource_type": kind, "resource_id": record_id, "reason": "Check with Zoë."}
        assert api.post("sdi_worker", "/v1/flags", flag).status_code == 201
    cleared = api.post(
        "admin",
        "/v1/flags",
        {"resource_type": "child", "resource_id": records["child"], "reason": "Wrong order?"},
    ).json()
    note = {"note": "Checked with Bristol: the order is right."}
    made = api.post("admin", f"/v1/flags/{cleared['id']}/clearance", note, if_match='"1"')
    assert made.status_code == 200, made.text
    return done.json(), made.json()


def add_delivery(api: Api, webhook_id: str) -> None:
    """A delivery that was tried and is waiting to be tried again: every field filled in."""

    async def add() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            now = utcnow()
            session.add(
                WebhookDelivery(
                    webhook_id=uuid.UUID(webhook_id),
                    event_position=1,
                    event_id=uuid.uuid4(),
                    event_type="court-hearing.updated",
                    attempts=1,
                    last_attempt_at=now,
                    next_attempt_at=now,
                    finished_at=now,
                    response_status=500,
                    error="HTTP 500",
                )
            )

    api.client.portal.call(add)  # type: ignore[union-attr]


def assessment_body(mother_id: str, child_ids: list[str]) -> dict[str, Any]:
    return {
        "mother_id": mother_id,
        "child_ids": child_ids,
        "requested_by": "local_authority",
        "requested_on": "2025-08-20",
        "requesting_local_authority_code": "801",
        "assessor_name": "Bethan Ap Rhys",
        "assessor_organisation": "Cymru Independent Social Work",
        "model": "other",
        "model_other": "Cognitive-behavioural parenting assessment",
        "started_on": "2025-09-15",
        "completed_on": "2025-11-03",
        "outcome": "positive",
        "report_shared_with": [{"role": "court", "name": "Bristol Family Court"}],
    }


EVIDENCE_BODY = {
    "category": "parenting_programme",
    "title": "Triple P Level 4",
    "provider": "Barnardo's",
    "started_on": "2025-09-01",
    "completed_on": "2025-10-20",
    "hours": 16.5,
    "verified_by": {"name": "Hélène D'Arcy", "role": "Family services lead, HMP Send"},
    "verified_on": "2025-10-21",
}


SUPPORT_PLAN_AREA = {
    "area": "healthy_relationships",
    "chosen_by_her": True,
    "goal": "Keep in touch with my sister, and say no to Darren.",
    "goal_written_by": "her",
    "steps": "Write to Ffion every fortnight; Freedom Programme sessions.",
    "steps_written_by": "together",
    "who_helps": "Eleri Bowen, prison social worker",
    "rating_at_start": 4,
}
REVIEW_BODY = {
    "held_on": str(TODAY - timedelta(days=270)),
    "milestone": "three_months",
    "mental_health_support": "yes",
    "employment_or_learning": "no",
    "ratings": [{"area": "healthy_relationships", "rating": 7}],
    "summary": "Siân has kept to supervised contact; Gwen's feedback was positive.",
}
PREGNANCY_BODY = {
    "known_on": "2025-07-14",
    "at_referral": True,
    "due_on": "2026-03-09",
    "outcome": "born",
    "ended_on": "2026-03-02",
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
    if operation == "GET /v1/sync/changes":
        params = {"local_authority": "801", "limit": 1000}  # an admin names the authority
    if operation == "GET /v1/reports/governor":
        # One calendar quarter that has settled: the latest.
        [quarter] = quarters_between(settled_by(TODAY, 14), settled_by(TODAY, 14))
        params = {"prison_code": "EWI", "from": str(quarter.start), "to": str(quarter.end)}
    if operation == "GET /v1/worklist":
        params = {"prison_code": "SDI"}  # an admin names the prison
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


def test_a_local_authority_is_told_of_its_own_children_only(
    api: Api, family: dict[str, str]
) -> None:
    """In her release plan and in what was relayed: another authority's child is not named."""
    plan = api.get("bristol", f"/v1/mothers/{family['mother_id']}/release-plan").json()
    assert [c["child_id"] for c in plan["contact_after_release"]] == [family["child_id"]]
    relayed = api.get("bristol", f"/v1/communications/{family['communication_id']}").json()
    assert relayed["child_ids"] == [family["child_id"]]
    for who in PRISON:
        plan = api.get(who, f"/v1/mothers/{family['mother_id']}/release-plan").json()
        assert len(plan["contact_after_release"]) == 2
        relayed = api.get(who, f"/v1/communications/{family['communication_id']}").json()
        assert len(relayed["child_ids"]) == 2


def test_every_read_operation_has_an_allowlist() -> None:
    """A new GET route needs its entry here (reference data and health hold no personal data;
    the subject access export is everything about her, by definition, for admins and the
    estate's subject access service only; /subject-access-request, outside /v1, is that too)."""
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
    "parenting_assessment": KEPT_BY_THE_SERVICE,
    "evidence": [*KEPT_BY_THE_SERVICE, {"mother_id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"}],
    "review": [*KEPT_BY_THE_SERVICE, {"mother_id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"}],
    "pregnancy": [*KEPT_BY_THE_SERVICE, {"mother_id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"}],
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
        "parenting_assessment": f"/v1/parenting-assessments/{family['parenting_assessment_id']}",
        "evidence": f"/v1/evidence/{family['evidence_id']}",
        "review": f"/v1/reviews/{family['review_id']}",
        "pregnancy": f"/v1/pregnancies/{family['pregnancy_id']}",
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
        "parenting_assessment": "/v1/parenting-assessments",
        "evidence": f"/v1/mothers/{family['mother_id']}/evidence",
        "review": f"/v1/mothers/{family['mother_id']}/reviews",
        "pregnancy": f"/v1/mothers/{family['mother_id']}/pregnancies",
    }[kind]
    count = f"SELECT count(*) FROM {kind}"
    rows = api.sql(count)
    body = {
        "mother": mother_body(prison_code="SDI"),
        "child": child_body(),
        "practitioner": {"role": "solicitor", "name": "Eleri Bowen"},
        "parenting_assessment": assessment_body(family["mother_id"], [family["child_id"]]),
        "evidence": EVIDENCE_BODY,
        "review": {"held_on": str(TODAY), "milestone": "other"},
        "pregnancy": PREGNANCY_BODY | {"outcome": "ongoing", "ended_on": None},
    }[kind]
    created = api.post("sdi_worker", collection, {**body, **field})
    assert created.status_code == 422, created.text
    assert api.sql(count) == rows
