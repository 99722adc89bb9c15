"""Whether a caller may see a record, knowing only its kind (as the audit trail names it) and id.

For what must look at records it did not load itself: a replayed Idempotency-Key answer shows
again the records its first request disclosed, and must not once the caller has lost sight of
them (her mother transferred to another prison, a child now another authority's). Each kind's
rule is its own package's scope function, the one place it is scoped; this only names them.
"""

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, exists, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.models import ParentingAssessment
from tac_api.assessments.service import assessment_visible
from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.children.service import child_visible
from tac_api.communications.models import Communication
from tac_api.communications.service import communication_visible
from tac_api.evidence.models import Evidence
from tac_api.evidence.service import evidence_visible
from tac_api.hearings.models import CourtHearing, Proceedings, ProceedingsExtension
from tac_api.hearings.service import hearing_visible, proceedings_visible
from tac_api.link_requests.models import LinkRequest
from tac_api.link_requests.service import link_request_visible
from tac_api.meetings.models import Meeting
from tac_api.meetings.service import meeting_visible
from tac_api.mothers.models import Mother
from tac_api.mothers.service import mother_visible
from tac_api.practitioners.models import Practitioner, PractitionerLink
from tac_api.practitioners.service import link_visible, practitioner_visible
from tac_api.release.models import ReleasePlan
from tac_api.release.service import release_plan_visible
from tac_api.visits.models import ContactVisit
from tac_api.visits.service import visit_visible
from tac_api.webhooks.models import Webhook
from tac_api.webhooks.service import webhook_visible

log = logging.getLogger("tac_api")
Scope = Callable[[Caller], ColumnElement[bool]]


def _extension_visible(caller: Caller) -> ColumnElement[bool]:
    """An extension is seen with its proceedings."""
    return exists().where(
        Proceedings.id == ProceedingsExtension.proceedings_id, proceedings_visible(caller)
    )


# Kind (the audit trail's resource_type) -> the id column of its table, and its scope.
KINDS: dict[str, tuple[Any, Scope]] = {
    "mother": (Mother.id, mother_visible),
    "child": (Child.id, child_visible),
    "practitioner": (Practitioner.id, practitioner_visible),
    "practitioner_link": (PractitionerLink.id, link_visible),
    "release_plan": (ReleasePlan.id, release_plan_visible),
    "communication": (Communication.id, communication_visible),
    "parenting_assessment": (ParentingAssessment.id, assessment_visible),
    "evidence": (Evidence.id, evidence_visible),
    "meeting": (Meeting.id, meeting_visible),
    "contact_visit": (ContactVisit.id, visit_visible),
    "court_hearing": (CourtHearing.id, hearing_visible),
    "proceedings": (Proceedings.id, proceedings_visible),
    "proceedings_extension": (ProceedingsExtension.id, _extension_visible),
    "webhook": (Webhook.id, webhook_visible),
    "link_request": (LinkRequest.id, link_request_visible),
}


async def first_unseen(
    session: AsyncSession, caller: Caller, records: Iterable[tuple[str, uuid.UUID]]
) -> tuple[str, uuid.UUID] | None:
    """The first of these (kind, id) records the caller may not see now, or that is gone; None
    when every one is seen. One statement, however many records and kinds. A kind with no rule
    here counts as unseen: what cannot be checked is not shown."""
    wanted = list(dict.fromkeys(records))
    by_kind: dict[str, list[uuid.UUID]] = {}
    for kind, record_id in wanted:
        by_kind.setdefault(kind, []).append(record_id)
    unknown = [kind for kind in by_kind if kind not in KINDS]
    if unknown:
        log.error(
            "no visibility rule for records of kind %r: add one to tac_api.visibility", unknown
        )
        return next(record for record in wanted if record[0] == unknown[0])
    if not wanted:
        return None
    queries = []
    for kind, ids in by_kind.items():
        id_column, scope = KINDS[kind]
        queries.append(select(id_column.label("id")).where(id_column.in_(ids), scope(caller)))
    statement = queries[0] if len(queries) == 1 else union_all(*queries)
    seen = set((await session.execute(statement)).scalars())
    # Ids of different kinds are all random UUIDs: one set of what was found is enough.
    return next((record for record in wanted if record[1] not in seen), None)
