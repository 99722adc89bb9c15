"""Who sees what: every kind of record's visibility rule, in one module.

Read this file to know who may see a record. Each rule is a SQL condition on its table, given
the caller (or, for statements built once per role, the role: then the caller's prison or
authority is bound as a parameter, see `scope_value`). Everything outside a rule reads as 404.

The common shape: the prison side sees the records of the mothers held in its prison; a local
authority sees the records that concern at least one of its own children, and of their children
only its own (`concerning_visible`); what is hers rather than a child's (evidence, her release
plan) is seen by whoever may see her. Governors and auditors see no person at all.
"""

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    and_,
    exists,
    false,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tac_api.assessments.models import ParentingAssessment, ParentingAssessmentChild
from tac_api.auth.schemas import (
    LOCAL_AUTHORITY_ROLES,
    Caller,
    Role,
    role_of,
    scope_today,
    scope_value,
)
from tac_api.children.models import Child
from tac_api.communications.models import Communication, CommunicationChild
from tac_api.consents.models import Consent
from tac_api.costs.models import UnitCost
from tac_api.evidence.models import Evidence
from tac_api.flags.models import ReviewFlag
from tac_api.groups.models import GroupAttendance, GroupSession
from tac_api.hearings.models import (
    CourtHearing,
    CourtHearingChild,
    Proceedings,
    ProceedingsChild,
    ProceedingsExtension,
)
from tac_api.link_requests.models import LinkRequest
from tac_api.meetings.models import Meeting, MeetingChild
from tac_api.mothers.models import Mother
from tac_api.organisations.models import Organisation
from tac_api.practitioners.models import Practitioner, PractitionerLink
from tac_api.referrals.models import Referral
from tac_api.release.models import ReleasePlan
from tac_api.reviews.models import Pregnancy, Review
from tac_api.staff.models import Allocation, StaffMember
from tac_api.support_plans.models import SupportPlan
from tac_api.tasks.models import Task
from tac_api.transfers.models import TransferSummary
from tac_api.visits.models import ContactVisit, ContactVisitChild
from tac_api.webhooks.models import Webhook

log = logging.getLogger("tac_api")
Rule = Callable[[Caller | Role], ColumnElement[bool]]


# -- The mother and her children -------------------------------------------------------------


def mother_visible(who: Caller | Role) -> ColumnElement[bool]:
    """A prison social worker: the mothers held in her prison. A local authority: mothers of at
    least one of its children. Governors see no one (figures only)."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        return Mother.prison_code == scope_value(who, "prison_code")
    if role in LOCAL_AUTHORITY_ROLES:
        # Its own alias of child, so that it never correlates with children the outer query joins.
        theirs = aliased(Child)
        return exists().where(
            theirs.mother_id == Mother.id,
            theirs.local_authority_code == scope_value(who, "local_authority_code"),
        )
    return false()


def child_visible(who: Caller | Role) -> ColumnElement[bool]:
    """A prison social worker: children of mothers held in her prison. A local authority: its
    own children (others' appear only in the family view, reduced to what coordination needs)."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        # Its own alias of mother, so that it never correlates with a mother the outer query joins.
        holder = aliased(Mother)
        return exists().where(
            holder.id == Child.mother_id, holder.prison_code == scope_value(who, "prison_code")
        )
    if role in LOCAL_AUTHORITY_ROLES:
        return Child.local_authority_code == scope_value(who, "local_authority_code")
    return false()


def shown_with_their_mother(who: Caller | Role) -> ColumnElement[bool]:
    """Which of a visible mother's children this caller sees: with `mother_visible` on her,
    the same children as `child_visible`, for queries that join her anyway."""
    if role_of(who) in LOCAL_AUTHORITY_ROLES:
        return Child.local_authority_code == scope_value(who, "local_authority_code")
    return true()


def hers_visible(who: Caller | Role, mother_id: Any) -> ColumnElement[bool]:
    """What is hers rather than a child's (evidence, her release plan): seen by whoever may see
    her."""
    if role_of(who) is Role.admin:
        return true()
    return exists().where(Mother.id == mother_id, mother_visible(who))


# -- Records that concern her and some of her children ---------------------------------------


def concerning_visible(
    who: Caller | Role, mother_id: Any, item_id: Any, link_item_id: Any, link_child_id: Any
) -> ColumnElement[bool]:
    """A record's scope, from its mother's column, its id, and its children's link table
    (pass the link table's columns through an alias of their own)."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        holder = aliased(Mother)  # its own alias: never correlated with a mother joined outside
        return exists().where(
            holder.id == mother_id, holder.prison_code == scope_value(who, "prison_code")
        )
    if role in LOCAL_AUTHORITY_ROLES:
        theirs = aliased(Child)
        return exists().where(
            link_item_id == item_id,
            theirs.id == link_child_id,
            theirs.local_authority_code == scope_value(who, "local_authority_code"),
        )
    return false()


def held_in(mother_id: Any, prison_code: str | BindParameter[str]) -> ColumnElement[bool]:
    """Records of the mothers held in this prison (a list filter; the prison may be a parameter,
    for a statement built once)."""
    held = aliased(Mother)
    return exists().where(held.id == mother_id, held.prison_code == prison_code)


def concerning_child(
    caller: Caller | Role,
    item_id: Any,
    link_item_id: Any,
    link_child_id: Any,
    child_id: uuid.UUID | BindParameter[Any],
) -> ColumnElement[bool]:
    """Records that concern this child, if the caller may see the child: a local authority
    cannot learn which records concern another authority's child by asking for it."""
    return exists().where(
        link_item_id == item_id,
        link_child_id == child_id,
        Child.id == link_child_id,
        child_visible(caller),
    )


def hearing_visible(who: Caller | Role) -> ColumnElement[bool]:
    link = aliased(CourtHearingChild)
    return concerning_visible(
        who, CourtHearing.mother_id, CourtHearing.id, link.court_hearing_id, link.child_id
    )


def proceedings_visible(who: Caller | Role) -> ColumnElement[bool]:
    link = aliased(ProceedingsChild)
    return concerning_visible(
        who, Proceedings.mother_id, Proceedings.id, link.proceedings_id, link.child_id
    )


def extension_visible(who: Caller | Role) -> ColumnElement[bool]:
    """An extension is seen with its proceedings."""
    return exists().where(
        Proceedings.id == ProceedingsExtension.proceedings_id, proceedings_visible(who)
    )


def meeting_visible(who: Caller | Role) -> ColumnElement[bool]:
    link = aliased(MeetingChild)
    return concerning_visible(who, Meeting.mother_id, Meeting.id, link.meeting_id, link.child_id)


def visit_visible(who: Caller | Role) -> ColumnElement[bool]:
    link = aliased(ContactVisitChild)
    return concerning_visible(
        who, ContactVisit.mother_id, ContactVisit.id, link.contact_visit_id, link.child_id
    )


def assessment_visible(who: Caller | Role) -> ColumnElement[bool]:
    """An assessment about another authority's child is that authority's business."""
    link = aliased(ParentingAssessmentChild)
    return concerning_visible(
        who,
        ParentingAssessment.mother_id,
        ParentingAssessment.id,
        link.parenting_assessment_id,
        link.child_id,
    )


def communication_visible(who: Caller | Role) -> ColumnElement[bool]:
    """One about the mother alone is not a local authority's business."""
    link = aliased(CommunicationChild)
    return concerning_visible(
        who, Communication.mother_id, Communication.id, link.communication_id, link.child_id
    )


# -- What is hers -----------------------------------------------------------------------------


def evidence_visible(who: Caller | Role) -> ColumnElement[bool]:
    """Evidence of rehabilitation is hers: whoever may see her may read it. Writes are the
    prison side's."""
    return hers_visible(who, Evidence.mother_id)


def release_plan_visible(who: Caller | Role) -> ColumnElement[bool]:
    return hers_visible(who, ReleasePlan.mother_id)


# -- The programme's own work: the prison side's record ---------------------------------------


def prison_side_hers(who: Caller | Role, mother_id: Any) -> ColumnElement[bool]:
    """The programme's record of her (her allocation, pregnancies, consents): seen by the prison
    side as her case is; never by a local authority."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        return held_in(mother_id, scope_value(who, "prison_code"))
    return false()


def referral_visible(who: Caller | Role) -> ColumnElement[bool]:
    """The prison side's: before her record exists, the prison the referral was made to; once it
    is linked to her record, as her case (it follows her if she moves). Never an authority's,
    even one that made the referral."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        prison = scope_value(who, "prison_code")
        return or_(
            and_(Referral.mother_id.is_(None), Referral.prison_code == prison),
            held_in(Referral.mother_id, prison),
        )
    return false()


def staff_member_visible(who: Caller | Role) -> ColumnElement[bool]:
    """Each prison's directory of the service's staff: its own social workers see it."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        return StaffMember.prison_code == scope_value(who, "prison_code")
    return false()


def allocation_visible(who: Caller | Role) -> ColumnElement[bool]:
    return prison_side_hers(who, Allocation.mother_id)


def consent_in_force(
    who: Caller | Role, mother_id: Any, covers: ColumnElement[bool]
) -> ColumnElement[bool]:
    """She has consented to share this with the caller's authority, and not withdrawn it: read
    on every request, so a withdrawal holds on the next one."""
    return exists().where(
        Consent.mother_id == mother_id,
        Consent.local_authority_code == scope_value(who, "local_authority_code"),
        Consent.withdrawn_on.is_(None),
        covers,
    )


def shared_with_consent(
    who: Caller | Role, mother_id: Any, covers: ColumnElement[bool]
) -> ColumnElement[bool]:
    """Her support plan and reviews are hers: the prison side sees them as her case; a local
    authority, only while she consents to share them with it (and it may see her)."""
    role = role_of(who)
    if role in LOCAL_AUTHORITY_ROLES:
        return and_(hers_visible(who, mother_id), consent_in_force(who, mother_id, covers))
    return prison_side_hers(who, mother_id)


def onward_referrals_shown(who: Caller | Role, mother_id: Any) -> ColumnElement[bool]:
    """Her onward referrals, within a release plan the caller sees: the prison side sees them
    with the plan; a local authority, only while she consents to share her plan with it
    (`covers_plan`), as her support plan. Which services she goes on to is hers to share."""
    if role_of(who) in LOCAL_AUTHORITY_ROLES:
        return consent_in_force(who, mother_id, Consent.covers_plan.is_(True))
    return true()


def support_plan_visible(who: Caller | Role) -> ColumnElement[bool]:
    return shared_with_consent(who, SupportPlan.mother_id, Consent.covers_plan.is_(True))


def review_visible(who: Caller | Role) -> ColumnElement[bool]:
    return shared_with_consent(who, Review.mother_id, Consent.covers_reviews.is_(True))


def pregnancy_visible(who: Caller | Role) -> ColumnElement[bool]:
    return prison_side_hers(who, Pregnancy.mother_id)


def consent_visible(who: Caller | Role) -> ColumnElement[bool]:
    return prison_side_hers(who, Consent.mother_id)


def group_session_visible(who: Caller | Role) -> ColumnElement[bool]:
    """A session is its prison's: other women attend it too, so no local authority sees one."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        return GroupSession.prison_code == scope_value(who, "prison_code")
    return false()


def group_attendance_visible(who: Caller | Role) -> ColumnElement[bool]:
    """One woman's row of a register. The prison side: the sessions of its prison, and the rows of
    the women whose case it holds now (her attendance follows her, as her case does). A local
    authority: her own row only, while she consents to share her group attendance with it;
    never another woman's row of the same register."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        prison = scope_value(who, "prison_code")
        held_session = aliased(GroupSession)
        return or_(
            exists().where(
                held_session.id == GroupAttendance.group_session_id,
                held_session.prison_code == prison,
            ),
            held_in(GroupAttendance.mother_id, prison),
        )
    if role in LOCAL_AUTHORITY_ROLES:
        return shared_with_consent(who, GroupAttendance.mother_id, Consent.covers_groups.is_(True))
    return false()


# -- The social worker's day: tasks, flags, what a sending prison keeps -------------------------


def task_visible(who: Caller | Role) -> ColumnElement[bool]:
    """A task on her case is the prison side's, and follows her case (a transfer takes it to
    the receiving prison, whose worker carries it on). Never a local authority's."""
    return prison_side_hers(who, Task.mother_id)


def review_flag_visible(who: Caller | Role) -> ColumnElement[bool]:
    """A flag for review is the prison side's working note on her case: it follows her case, and
    no local authority sees one (nor learns that a record of its child is flagged)."""
    return prison_side_hers(who, ReviewFlag.mother_id)


def transfer_summary_visible(who: Caller | Role) -> ColumnElement[bool]:
    """What a sending prison keeps of a case it transferred out: its own social workers read it
    until `kept_until` (the day it is kept to, inclusive, in UTC), and no one else: the
    receiving prison has her case itself. An admin: all."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        return and_(
            TransferSummary.from_prison_code == scope_value(who, "prison_code"),
            TransferSummary.kept_until >= scope_today(who),
        )
    return false()


# -- The directory, link requests and webhooks ------------------------------------------------


def practitioner_visible(who: Caller | Role) -> ColumnElement[bool]:
    """The prison side shares one directory (a solicitor acts for mothers in both prisons, and a
    duplicate entry is worse than a shared one). A local authority sees its own staff and the
    practitioners linked to its children."""
    role = role_of(who)
    if role in (Role.admin, Role.prison_social_worker):
        return true()
    if role in LOCAL_AUTHORITY_ROLES:
        authority = scope_value(who, "local_authority_code")
        linked_to_our_children = exists().where(
            PractitionerLink.practitioner_id == Practitioner.id,
            PractitionerLink.child_id == Child.id,
            Child.local_authority_code == authority,
        )
        return or_(Practitioner.local_authority_code == authority, linked_to_our_children)
    return false()


def practitioner_link_visible(who: Caller | Role) -> ColumnElement[bool]:
    """Links follow the mother's scope; a local authority sees links to its own children and to
    the mother herself, not to other authorities' children."""
    mother_in_scope = exists().where(Mother.id == PractitionerLink.mother_id, mother_visible(who))
    if role_of(who) in LOCAL_AUTHORITY_ROLES:
        child_in_scope = exists().where(Child.id == PractitionerLink.child_id, child_visible(who))
        return mother_in_scope & or_(PractitionerLink.child_id.is_(None), child_in_scope)
    return mother_in_scope


def link_request_visible(who: Caller | Role) -> ColumnElement[bool]:
    """Her prison's social worker: requests naming a mother held in her prison. An admin: all,
    including those naming a prison number no mother has. The asking authority: its own."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        # Imported here: the mothers' service stands on this module.
        from tac_api.mothers.service import mother_named

        # Its own alias, so that it never correlates with a mother the outer query joins.
        held = aliased(Mother)
        return exists().where(
            held.id == mother_named(LinkRequest.mother_prison_number),
            held.prison_code == scope_value(who, "prison_code"),
        )
    if role in LOCAL_AUTHORITY_ROLES:
        return LinkRequest.local_authority_code == scope_value(who, "local_authority_code")
    return false()


def organisation_visible(who: Caller | Role) -> ColumnElement[bool]:
    """Services in the community are organisations, not people: whoever works with her case may
    look them up. Governors and auditors read figures and the trail, not the directory."""
    role = role_of(who)
    if role in (Role.admin, Role.prison_social_worker) or role in LOCAL_AUTHORITY_ROLES:
        return true()
    return false()


def unit_cost_visible(who: Caller | Role) -> ColumnElement[bool]:
    """The costs the programme report estimates with: an administrator's to set and read."""
    return true() if role_of(who) is Role.admin else false()


def webhook_visible(who: Caller | Role) -> ColumnElement[bool]:
    """A local authority's system: its own authority's. An admin: all."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role in LOCAL_AUTHORITY_ROLES:
        return Webhook.local_authority_code == scope_value(who, "local_authority_code")
    return false()


# -- Every kind, by the name the audit trail gives it -----------------------------------------


@dataclass(frozen=True)
class Kind:
    id_column: Any
    visible: Rule


KINDS: dict[str, Kind] = {
    "mother": Kind(Mother.id, mother_visible),
    "child": Kind(Child.id, child_visible),
    "practitioner": Kind(Practitioner.id, practitioner_visible),
    "practitioner_link": Kind(PractitionerLink.id, practitioner_link_visible),
    "release_plan": Kind(ReleasePlan.id, release_plan_visible),
    "communication": Kind(Communication.id, communication_visible),
    "parenting_assessment": Kind(ParentingAssessment.id, assessment_visible),
    "evidence": Kind(Evidence.id, evidence_visible),
    "meeting": Kind(Meeting.id, meeting_visible),
    "contact_visit": Kind(ContactVisit.id, visit_visible),
    "court_hearing": Kind(CourtHearing.id, hearing_visible),
    "proceedings": Kind(Proceedings.id, proceedings_visible),
    "proceedings_extension": Kind(ProceedingsExtension.id, extension_visible),
    "webhook": Kind(Webhook.id, webhook_visible),
    "link_request": Kind(LinkRequest.id, link_request_visible),
    "referral": Kind(Referral.id, referral_visible),
    "staff_member": Kind(StaffMember.id, staff_member_visible),
    "allocation": Kind(Allocation.id, allocation_visible),
    "support_plan": Kind(SupportPlan.id, support_plan_visible),
    "review": Kind(Review.id, review_visible),
    "pregnancy": Kind(Pregnancy.id, pregnancy_visible),
    "consent": Kind(Consent.id, consent_visible),
    "group_session": Kind(GroupSession.id, group_session_visible),
    "group_attendance": Kind(GroupAttendance.id, group_attendance_visible),
    "organisation": Kind(Organisation.id, organisation_visible),
    "unit_cost": Kind(UnitCost.id, unit_cost_visible),
    "task": Kind(Task.id, task_visible),
    "review_flag": Kind(ReviewFlag.id, review_flag_visible),
    "transfer_summary": Kind(TransferSummary.id, transfer_summary_visible),
}


# The records of her case, by kind: the column naming the mother each is about (her own id for
# her record). What a flag for review, or a task, may be on; visibility is each kind's rule in
# KINDS. A referral is hers once linked to her record.
HER_RECORDS: dict[str, Any] = {
    "mother": Mother.id,
    "child": Child.mother_id,
    "court_hearing": CourtHearing.mother_id,
    "proceedings": Proceedings.mother_id,
    "meeting": Meeting.mother_id,
    "contact_visit": ContactVisit.mother_id,
    "parenting_assessment": ParentingAssessment.mother_id,
    "evidence": Evidence.mother_id,
    "release_plan": ReleasePlan.mother_id,
    "communication": Communication.mother_id,
    "referral": Referral.mother_id,
    "support_plan": SupportPlan.mother_id,
    "review": Review.mother_id,
    "pregnancy": Pregnancy.mother_id,
    "consent": Consent.mother_id,
    "allocation": Allocation.mother_id,
    "group_attendance": GroupAttendance.mother_id,
    "practitioner_link": PractitionerLink.mother_id,
    "task": Task.mother_id,
}


async def mother_of_record(
    session: AsyncSession, caller: Caller, resource_type: str, resource_id: uuid.UUID
) -> uuid.UUID | None:
    """The mother one record of her case is about, if the caller may see the record (its kind's
    rule) and her; None otherwise, the same whether it does not exist or is out of sight."""
    mother_column = HER_RECORDS[resource_type]
    kind = KINDS[resource_type]
    return await session.scalar(
        select(mother_column).where(
            kind.id_column == resource_id,
            kind.visible(caller),
            exists().where(Mother.id == mother_column, mother_visible(caller))
            if resource_type != "mother"
            else true(),
        )
    )


async def first_unseen(
    session: AsyncSession, caller: Caller, records: Iterable[tuple[str, uuid.UUID]]
) -> tuple[str, uuid.UUID] | None:
    """The first of these (kind, id) records the caller may not see now, or that is gone; None
    when every one is seen. For what must look at records it did not load itself: a replayed
    Idempotency-Key answer shows again what its first request disclosed, and must not once the
    caller has lost sight of it. One statement, however many records and kinds. A kind with no
    rule here counts as unseen: what cannot be checked is not shown."""
    wanted = list(dict.fromkeys(records))
    by_kind: dict[str, list[uuid.UUID]] = {}
    for kind, record_id in wanted:
        by_kind.setdefault(kind, []).append(record_id)
    unknown = [kind for kind in by_kind if kind not in KINDS]
    if unknown:
        log.error("no visibility rule for records of kind %r: add one to tac_api.scope", unknown)
        return next(record for record in wanted if record[0] == unknown[0])
    if not wanted:
        return None
    queries = [
        select(KINDS[kind].id_column.label("id")).where(
            KINDS[kind].id_column.in_(ids), KINDS[kind].visible(caller)
        )
        for kind, ids in by_kind.items()
    ]
    statement = queries[0] if len(queries) == 1 else union_all(*queries)
    seen = set((await session.execute(statement)).scalars())
    # Ids of different kinds are all random UUIDs: one set of what was found is enough.
    return next((record for record in wanted if record[1] not in seen), None)
