"""Every table model, imported in one place so metadata (and Alembic) sees them all."""

from tac_api.assessments.models import (
    ParentingAssessment,
    ParentingAssessmentChild,
    ParentingAssessmentRecipient,
)
from tac_api.audit.models import AuditEvent
from tac_api.auth.models import ApiClient, RevokedSubject
from tac_api.changes.models import ChangeEvent
from tac_api.children.models import Child, ChildHistoryEntry
from tac_api.communications.models import Communication, CommunicationChild
from tac_api.consents.models import Consent
from tac_api.costs.models import UnitCost
from tac_api.events.models import EventPublication, PrisonEvent, ServiceEvent
from tac_api.evidence.models import Evidence
from tac_api.flags.models import ReviewFlag
from tac_api.groups.models import GroupAttendance, GroupFacilitator, GroupSession
from tac_api.hearings.models import (
    CourtHearing,
    CourtHearingAmendment,
    CourtHearingChild,
    Proceedings,
    ProceedingsChild,
    ProceedingsExtension,
)
from tac_api.idempotency.models import IdempotencyKey
from tac_api.limits.models import RateLimitState
from tac_api.link_requests.models import LinkRequest
from tac_api.meetings.models import Meeting, MeetingChild
from tac_api.mothers.models import Mother, PrisonNumberAlias, PrisonStay
from tac_api.organisations.models import Organisation
from tac_api.practitioners.models import Practitioner, PractitionerLink
from tac_api.reference.models import (
    CpPlanCategory,
    Ethnicity,
    LegalStatus,
    LocalAuthority,
    PlacementType,
    Prison,
)
from tac_api.referrals.models import Referral
from tac_api.release.models import (
    OnwardReferral,
    ReleasePlan,
    ReleasePlanAction,
    ReleasePlanContact,
    ReleasePlanHistoryEntry,
    ReleasePlanPathway,
)
from tac_api.reports.models import PublishedFigure
from tac_api.reviews.models import Birth, Pregnancy, Review, ReviewRating, ReviewRelationship
from tac_api.staff.models import Allocation, StaffMember
from tac_api.support_plans.models import SupportPlan, SupportPlanArea, SupportPlanVersion
from tac_api.tasks.models import Task
from tac_api.transfers.models import TransferSummary
from tac_api.visits.models import ContactVisit, ContactVisitChild, ContactVisitStatusChange
from tac_api.webhooks.models import Webhook, WebhookDelivery

ALL_MODELS = (
    ReviewFlag,
    Task,
    TransferSummary,
    GroupAttendance,
    GroupFacilitator,
    GroupSession,
    OnwardReferral,
    Organisation,
    UnitCost,
    Allocation,
    Birth,
    Consent,
    Pregnancy,
    Referral,
    Review,
    ReviewRating,
    ReviewRelationship,
    StaffMember,
    SupportPlan,
    SupportPlanArea,
    SupportPlanVersion,
    ApiClient,
    AuditEvent,
    ChangeEvent,
    Child,
    ChildHistoryEntry,
    Communication,
    CommunicationChild,
    ContactVisit,
    ContactVisitChild,
    ContactVisitStatusChange,
    CourtHearing,
    CourtHearingAmendment,
    CourtHearingChild,
    CpPlanCategory,
    Ethnicity,
    Evidence,
    EventPublication,
    IdempotencyKey,
    LegalStatus,
    LinkRequest,
    LocalAuthority,
    Meeting,
    MeetingChild,
    Mother,
    ParentingAssessment,
    ParentingAssessmentChild,
    ParentingAssessmentRecipient,
    PlacementType,
    PractitionerLink,
    Practitioner,
    Prison,
    PrisonStay,
    PrisonEvent,
    PrisonNumberAlias,
    Proceedings,
    ProceedingsChild,
    ProceedingsExtension,
    PublishedFigure,
    RateLimitState,
    ReleasePlan,
    ReleasePlanAction,
    ReleasePlanContact,
    ReleasePlanHistoryEntry,
    ReleasePlanPathway,
    RevokedSubject,
    ServiceEvent,
    Webhook,
    WebhookDelivery,
)
