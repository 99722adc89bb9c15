import threading
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from tac_api import printing
from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller, Role
from tac_api.db import utctoday
from tac_api.errors import COMMON_PROBLEMS
from tac_api.pipeline import requires
from tac_api.reports import service
from tac_api.reports.disclosure import Protection
from tac_api.reports.schemas import GovernorReport, ProgrammeReport
from tac_api.schemas import IsoDate, PrisonCode
from tac_api.session import SessionDep

router = APIRouter(tags=["Reports"], responses=COMMON_PROBLEMS)

# Figures about people, never a person: a governor for her own prison, and admins.
GovernorReader = Annotated[Caller, Depends(requires(Role.governor))]
Admin = Annotated[Caller, Depends(requires())]


# The report's page shows itself with its inline style (its charts are inline SVG) and does
# nothing else: no script, nothing fetched, nothing sent, not framed.
PAGE_POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PRINTABLE = (
    " As JSON by default; as the report's HTML page (tables, charts, key) with `Accept: "
    "text/html` or `?format=html`, or that page printed as a PDF on A4 with `Accept: "
    "application/pdf` or `?format=pdf` (`?format=` wins over the header; an Accept the API "
    "cannot meet gets JSON). The same figures, scope and audit in every format."
)


def _protection(request: Request) -> Protection:
    state = request.app.state
    return service.report_protection(state.settings, exact=state.exact_report_figures)


def _settled_by(request: Request) -> date | None:
    """The last quarter end a report may reach; any, for the tests of the counting."""
    if request.app.state.exact_report_figures:
        return None
    return service.settled_by(utctoday(), request.app.state.settings.report_settle_days)


# matplotlib's settings, which the charts set for each drawing (rc_context: its style, the salt
# of its ids), are the process's own: pages drawn in two worker threads at once could take each
# other's. One page is drawn at a time (drawing holds the GIL all the same).
_DRAWING = threading.Lock()


def _page(report: GovernorReport | ProgrammeReport) -> str:
    # Loaded when a page is first asked for (the charts load matplotlib), not with the app.
    from tac_api.reports.render import ReportFormat, render

    with _DRAWING:
        return render(report, ReportFormat.html).decode()


async def _answer(
    wanted: printing.Format, report: GovernorReport | ProgrammeReport, name: str
) -> GovernorReport | ProgrammeReport | Response:
    """The report as it was asked for: itself (JSON), or its page as HTML or PDF. The page's
    charts take a moment to draw: in a worker thread, as the PDF is printed."""
    if wanted == "json":
        return report
    page = await run_in_threadpool(_page, report)
    return await printing.printable(wanted, page, name, PAGE_POLICY)


@router.get(
    "/v1/reports/governor",
    summary="A prison's work over a period, beside the period before it",
    description="One calendar quarter (`from` its first day, `to` its last) that has ended and "
    "settled (`TAC_REPORT_SETTLE_DAYS`, 14 whole days after its last day: a quarter ending "
    "30 September is reported from 15 October), beside the quarter "
    "before, with the headline figures' trend over four quarters. Periods are fixed to the "
    "quarter grid so that no two reports can be subtracted to single anyone out. Every count is "
    "perturbed (see `perturbation`), and a quarter's figures are fixed when first published: "
    "a later change to a record moves none of them. A "
    "published count from 1 to `TAC_REPORT_SUPPRESSION_THRESHOLD` (4) is suppressed (null, "
    "marked `suppressed`). No person-level field appears. A governor reads her own prison's "
    "(another reads as 404). Reading it is audited as a disclosure of the report." + PRINTABLE,
    responses=printing.responses("The governor's report"),
)
async def get_governor_report(
    caller: GovernorReader,
    session: SessionDep,
    request: Request,
    response: Response,
    from_: Annotated[
        IsoDate, Query(alias="from", description="First day of the quarter, e.g. 2026-04-01.")
    ],
    to: Annotated[IsoDate, Query(description="Last day of the quarter, e.g. 2026-06-30.")],
    prison_code: Annotated[
        PrisonCode | None, Query(description="Required of an admin; a governor's own by default.")
    ] = None,
    format: printing.FormatQuery = None,
) -> GovernorReport:
    prison = service.report_prison(caller, prison_code)
    span = service.check_span(from_, to, settled_by=_settled_by(request))
    settings = request.app.state.settings
    report = await service.governor_report(
        session,
        prison,
        span,
        protection=_protection(request),
        late_notice_days=settings.late_notice_days,
    )
    audit.record(session, Action.disclose, "governor_report", report.report_id)
    response.headers["Vary"] = "Accept"
    # No one's name in the file name: the prison and the quarter say which report it is.
    name = f"governor-report-{prison}-{service.quarter_label(span)}"
    return await _answer(printing.wanted(request, format), report, name)  # type: ignore[return-value]


@router.get(
    "/v1/reports/programme",
    summary="The evaluators' snapshot: both prisons together, quarter by quarter",
    description="Calendar quarters from the one holding `from` to the one holding `to` (by "
    "default the last four settled quarters), at most 20, each ended and settled as the "
    "governors' are. Perturbed and suppressed as the "
    "governors' report is, its population apart from either prison's. Reading it is audited "
    "as a disclosure of the report." + PRINTABLE,
    responses=printing.responses("The programme report"),
)
async def get_programme_report(
    caller: Admin,
    session: SessionDep,
    request: Request,
    response: Response,
    from_: Annotated[
        IsoDate | None, Query(alias="from", description="A day in the first quarter.")
    ] = None,
    to: Annotated[IsoDate | None, Query(description="A day in the last quarter.")] = None,
    format: printing.FormatQuery = None,
) -> ProgrammeReport:
    settled = _settled_by(request)
    first, last = service.default_quarters(
        service.settled_by(utctoday(), request.app.state.settings.report_settle_days)
    )
    quarters = service.check_quarters(from_ or first, to or last, settled_by=settled)
    report = await service.programme_report(
        session, quarters, request.app.state.settings, _protection(request)
    )
    audit.record(session, Action.disclose, "programme_report", report.report_id)
    response.headers["Vary"] = "Accept"
    name = "programme-report-" + "-".join(
        service.quarter_label(q) for q in (quarters[0], quarters[-1])
    )
    return await _answer(printing.wanted(request, format), report, name)  # type: ignore[return-value]
