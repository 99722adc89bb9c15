"""What a governor's report counts: its sections and figures in the order they are shown,
and the small-number protection applied to each figure before anything leaves."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.schemas import Outcome as AssessmentOutcome
from tac_api.children.schemas import LivesWith
from tac_api.evidence.schemas import CATEGORY_LABELS
from tac_api.going_ahead import NotGoingAhead
from tac_api.hearings.schemas import AttendedHow, Barrier, HearingDecidedBy
from tac_api.meetings.schemas import Barrier as MeetingBarrier
from tac_api.meetings.schemas import MeetingDecidedBy
from tac_api.reference.models import Ethnicity, LegalStatus
from tac_api.reports.disclosure import LARGEST_NOISE, UNPERTURBED, Number, Protection, Rule
from tac_api.reports.people import AGE_BANDS, group_key
from tac_api.reports.periods import NOT_RECORDED
from tac_api.reports.schemas import Cell, Perturbation, Suppression, Unit
from tac_api.visits.schemas import ReasonCode


@dataclass(frozen=True)
class Spec:
    key: str
    label: str
    unit: Unit = "count"
    part_of: str | None = None
    follows: str | tuple[str, ...] | None = None
    # A count of who the women and children are, as they stood (not of events in the period):
    # perturbed at zero too, and not to be added up over quarters.
    stock: bool = False
    # A count of an attribute of the events a total counts (notified late, attended, a plan
    # complete), without being a part of a breakdown: its zeros are perturbed as a part's are.
    attribute: bool = False
    # How an estimated figure is worked out, shown beside it (the programme report's costs).
    method: str | None = None

    @property
    def breakdown(self) -> str | None:
        """Parts of one breakdown share the key up to their own code."""
        return self.key.rsplit(".", 1)[0] if self.part_of else None

    def described(self) -> dict[str, Any]:
        """What either report says of the figure beside its cells."""
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "part_of": self.part_of,
            "breakdown": self.breakdown,
            "stock": self.stock,
            "exact_zero": self.zero_exact,
        }

    @property
    def zero_exact(self) -> bool:
        """Only a total of events publishes its 0 as 0 (`disclosure.Rule.zero_exact`)."""
        return self.unit == "count" and not (self.stock or self.part_of or self.attribute)

    def rule(self) -> Rule:
        follows = (self.follows,) if isinstance(self.follows, str) else self.follows or ()
        return Rule(self.key, unit=self.unit, zero_exact=self.zero_exact, follows=follows)


@dataclass
class Catalogue:
    """The report's sections and figures, in the order they are shown; code lists come from the
    reference data, so a new legal status or ethnic group appears without a release."""

    sections: list[tuple[str, str, list[Spec]]] = field(default_factory=list)

    def add(self, key: str, title: str, specs: Iterable[Spec], *, stock: bool = False) -> None:
        """A section; `stock`: every figure of it counts who people are, as they stood."""
        if stock:
            specs = [replace(spec, stock=True) for spec in specs]
        self.sections.append((key, title, list(specs)))

    def specs(self) -> list[Spec]:
        return [spec for _, _, specs in self.sections for spec in specs]


def _short(description: str) -> str:
    """A code's description as a row or chart label: the 903 guide's run to a paragraph (J3).
    Up to its first aside or clause, never cut mid-phrase (the formats wrap a long label)."""
    for stop in (" (", ", ", ". "):
        description = description.split(stop)[0]
    return description


def _words(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _parts(total: str, prefix: str, codes: Iterable[tuple[str, str]]) -> list[Spec]:
    return [Spec(f"{prefix}.{code}", label, part_of=total) for code, label in codes]


def _did_not_go_ahead(kind: str, decided_by: Any) -> list[Spec]:
    """A hearing or meeting adjourned, vacated or cancelled: counted apart from those that went
    ahead (never held, missed, or late notice), as what it became and by who decided."""
    total = f"{kind}.did_not_go_ahead"
    return [
        Spec(total, "Did not go ahead (adjourned, vacated or cancelled)", part_of=f"{kind}.listed"),
        *_parts(total, f"{kind}.did_not_go_ahead_as", _coded(get_args(NotGoingAhead))),
        *_parts(
            total,
            f"{kind}.did_not_go_ahead_decided_by",
            [
                (code, f"Decided by: {label.lower()}")
                for code, label in _coded(get_args(decided_by), recorded=False)
            ],
        ),
    ]


def _coded(values: Iterable[str], *, recorded: bool = True) -> list[tuple[str, str]]:
    """A code list's parts; `recorded=False` adds one for a record without the code (older
    rows, or ones written before the rule that asks for it), so the parts still add up."""
    parts = [(value, _words(value)) for value in values]
    return parts if recorded else [*parts, (NOT_RECORDED, "Not recorded")]


async def catalogue(session: AsyncSession, late_notice_days: int) -> Catalogue:
    legal_statuses = (
        await session.execute(select(LegalStatus.code, LegalStatus.description).order_by("code"))
    ).all()
    groups = list(
        await session.scalars(select(Ethnicity.group).distinct().order_by(Ethnicity.group))
    )
    shown = Catalogue()
    shown.add(
        "women",
        "Women supported",
        [
            Spec("women.active", "Women supported in the period", stock=True),
            Spec("women.new", "New to the service"),
            Spec("women.closed", "Cases closed"),
        ],
    )
    shown.add(
        "children",
        "Children",
        [
            Spec("children.linked", "Children linked"),
            Spec("children.expected", "Children linked not yet born"),
            *_parts(
                "children.linked",
                "children.by_legal_status",
                [
                    *((code, f"{code}: {_short(text)}") for code, text in legal_statuses),
                    ("not_looked_after", "No legal status (not looked after)"),
                ],
            ),
            *_parts(
                "children.linked",
                "children.by_lives_with",
                _coded(get_args(LivesWith), recorded=False),
            ),
            Spec("children.families_with_separated_siblings", "Families with separated siblings"),
            Spec("children.local_authorities", "Local authorities involved"),
            Spec("children.social_workers", "Children's social workers involved"),
        ],
        stock=True,
    )
    shown.add(
        "hearings",
        "Family court hearings",
        [
            Spec("hearings.listed", "Hearings in the period"),
            Spec("hearings.held", "Held (outcome recorded)", part_of="hearings.listed"),
            Spec(
                "hearings.awaiting_outcome", "Outcome not yet recorded", part_of="hearings.listed"
            ),
            Spec("hearings.attended", "Attended", part_of="hearings.held"),
            *_parts(
                "hearings.attended",
                "hearings.attended_by_mode",
                _coded(get_args(AttendedHow), recorded=False),
            ),
            Spec("hearings.missed", "Missed", part_of="hearings.held"),
            *_parts(
                "hearings.missed",
                "hearings.missed_by_barrier",
                _coded(get_args(Barrier), recorded=False),
            ),
            *_did_not_go_ahead("hearings", HearingDecidedBy),
            Spec(
                "hearings.late_notice",
                f"Notified fewer than {late_notice_days} days ahead (of those not called off)",
                attribute=True,
            ),
            Spec(
                "hearings.median_notice_days",
                "Median days of notice",
                unit="days",
                follows="hearings.listed",
            ),
        ],
    )
    shown.add(
        "meetings",
        "Meetings about her children",
        [
            Spec("meetings.listed", "Meetings in the period"),
            Spec("meetings.attended", "Attended", part_of="meetings.listed"),
            Spec("meetings.missed", "Missed", part_of="meetings.listed"),
            Spec("meetings.attendance_not_recorded", "Not yet recorded", part_of="meetings.listed"),
            *_did_not_go_ahead("meetings", MeetingDecidedBy),
            *_parts(
                "meetings.missed",
                "meetings.missed_by_barrier",
                _coded(get_args(MeetingBarrier), recorded=False),
            ),
            Spec(
                "meetings.on_platform_prison_cannot_join",
                "Held on a platform the prison cannot join",
                attribute=True,
            ),
        ],
    )
    shown.add(
        "visits",
        "Contact visits",
        [
            Spec("visits.held", "Held"),
            Spec(
                "visits.final_contacts_held", "Final contacts before adoption held", attribute=True
            ),
            Spec("visits.cancelled", "Cancelled"),
            *_parts(
                "visits.cancelled",
                "visits.cancelled_by_reason",
                _coded(get_args(ReasonCode), recorded=False),
            ),
            Spec("visits.refused", "Refused"),
        ],
    )
    shown.add(
        "assessments",
        "Parenting assessments",
        [
            Spec("assessments.requested", "Requested"),
            Spec("assessments.completed", "Completed"),
            *_parts(
                "assessments.completed",
                "assessments.completed_by_outcome",
                _coded(get_args(AssessmentOutcome), recorded=False),
            ),
        ],
    )
    categories = list(CATEGORY_LABELS.items())
    shown.add(
        "evidence",
        "Evidence of rehabilitation",
        [
            Spec("evidence.items", "Items"),
            *_parts("evidence.items", "evidence.items_by_category", categories),
            Spec("evidence.hours", "Hours", unit="hours", follows="evidence.items"),
            *(
                Spec(
                    f"evidence.hours_by_category.{code}",
                    f"{label}: hours",
                    unit="hours",
                    part_of="evidence.hours",
                    follows=f"evidence.items_by_category.{code}",
                )
                for code, label in categories
            ),
        ],
    )
    shown.add(
        "releases",
        "Releases",
        [
            Spec("releases.due", "Releases due in the period"),
            Spec("releases.with_complete_plan", "With a complete plan", part_of="releases.due"),
            Spec(
                "releases.without_complete_plan",
                "Without a complete plan",
                part_of="releases.due",
            ),
        ],
    )
    shown.add(
        "demographics",
        "The women supported",
        [
            *_parts(
                "women.active",
                "demographics.age_band",
                [(key, label) for key, label, _ in AGE_BANDS],
            ),
            *_parts(
                "women.active",
                "demographics.ethnic_group",
                [*((group_key(group), group) for group in groups), (NOT_RECORDED, "Not recorded")],
            ),
            *_parts(
                "women.active",
                "demographics.domestic_abuse",
                [
                    ("yes", "Domestic abuse in her history"),
                    ("no", "None"),
                    ("not_known", "Not known"),
                ],
            ),
        ],
        stock=True,
    )
    shown.add(
        "programme",
        "The programme in the prison",
        [
            Spec("referrals.received", "Referrals received"),
            Spec("referrals.women_engaged", "Women engaged (first working session)"),
            Spec("groups.sessions_held", "Group sessions held"),
            Spec("groups.attendances", "Group attendances (rows of the registers)"),
        ],
    )
    return shown


def _values(counts: Mapping[str, Number | None], specs: Sequence[Spec]) -> dict[str, Number | None]:
    unknown = counts.keys() - {spec.key for spec in specs}
    # A code the catalogue does not list would leave its parts short of their total, and the
    # secondary suppression unsound: fail loudly rather than publish it.
    if unknown:
        raise LookupError(f"figures counted but not in the report: {sorted(unknown)}")
    return {spec.key: counts.get(spec.key, 0) for spec in specs}


def protect(
    counts: Mapping[str, Number | None],
    specs: Sequence[Spec],
    protection: Protection,
    *,
    scope: str,
    period: str,
) -> dict[str, Cell]:
    """One population's figures of one quarter, as published (see `disclosure`)."""
    published = protection.published(
        _values(counts, specs), [spec.rule() for spec in specs], scope=scope, period=period
    )
    return {
        key: Cell(value=None, suppressed=True) if hidden else Cell(value=value)
        for key, (value, hidden) in published.items()
    }


def suppression(threshold: int) -> Suppression:
    return Suppression(
        threshold=threshold,
        legend=f"c: a small figure, from 1 to {threshold} after perturbation, or a figure "
        "derived from one (hours, a median, a cost). "
        "z: not applicable (fewer than five to take a median of).",
    )


def perturbation(protection: Protection) -> Perturbation:
    return Perturbation(
        applied=protection.key is not None,
        unperturbed_share=round(UNPERTURBED, 3),
        largest=LARGEST_NOISE,
        legend="Every count is perturbed: a small random amount is added to it, the same "
        "every time the same figure is asked for, so that no difference between reports or "
        f"quarters can single anyone out. About {UNPERTURBED:.0%} of figures are the count "
        "itself and 94 in 100 are within 2 of it; parts need not add up to their totals. "
        "Totals of events keep their zeros (exact_zero): 0 is none, and any other figure is "
        "at least one. Every other count (who the women and children are, marked as they "
        "stood; the parts of a breakdown; attributes of events) is perturbed at zero too: 0 or "
        "c may be a few, and a small figure may be none. Hours are rounded to 5; a cost "
        "avoided is the published count times its unit cost; a median of fewer than five is "
        "not given (z).",
    )
