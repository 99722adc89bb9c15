"""Every table model, imported in one place so metadata (and Alembic) sees them all."""

from tac_api.audit.models import AuditEvent
from tac_api.auth.models import ApiClient, RevokedSubject
from tac_api.children.models import Child
from tac_api.hearings.models import (
    CourtHearing,
    CourtHearingAmendment,
    CourtHearingChild,
    Proceedings,
    ProceedingsChild,
    ProceedingsExtension,
)
from tac_api.limits.models import RateLimitState
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

ALL_MODELS = (
    ApiClient,
    AuditEvent,
    Child,
    CourtHearing,
    CourtHearingAmendment,
    CourtHearingChild,
    CpPlanCategory,
    Ethnicity,
    LegalStatus,
    LocalAuthority,
    Mother,
    PlacementType,
    PractitionerLink,
    Practitioner,
    Prison,
    PrisonStay,
    Proceedings,
    ProceedingsChild,
    ProceedingsExtension,
    RateLimitState,
    RevokedSubject,
)
