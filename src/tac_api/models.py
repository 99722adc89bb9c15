"""Every table model, imported in one place so metadata (and Alembic) sees them all."""

from tac_api.audit.models import AuditEvent
from tac_api.auth.models import ApiClient, RevokedSubject
from tac_api.children.models import Child
from tac_api.limits.models import RateLimitState
from tac_api.meetings.models import Meeting, MeetingChild
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.practitioners.models import Practitioner, PractitionerLink
from tac_api.reference.models import (
    CpPlanCategory,
    Ethnicity,
    LegalStatus,
    LocalAuthority,
    PlacementType,
    Prison,
)
from tac_api.visits.models import ContactVisit, ContactVisitChild, ContactVisitStatusChange

ALL_MODELS = (
    ApiClient,
    AuditEvent,
    Child,
    ContactVisit,
    ContactVisitChild,
    ContactVisitStatusChange,
    CpPlanCategory,
    Ethnicity,
    LegalStatus,
    LocalAuthority,
    Meeting,
    MeetingChild,
    Mother,
    PlacementType,
    PractitionerLink,
    Practitioner,
    Prison,
    PrisonStay,
    RateLimitState,
    RevokedSubject,
)
