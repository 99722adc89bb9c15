"""The tac-report command: a report from tac-api over HTTP, written as Markdown, CSV, XLSX, HTML
or PDF.

It needs only the API's address and a token, so it runs from a governor's office or a scheduler:
the PDF is printed by the service (`Accept: application/pdf`), so nothing here prints one.
"""

import os
import re
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, Self, TypeVar

import httpx
import typer
from pydantic import Field, TypeAdapter, ValidationError

from tac_api.client.core import Call, Core
from tac_api.client.errors import (
    ApiProblem,
    AuthenticationFailed,
    ConnectionFailed,
    InvalidRequest,
    NotAllowed,
    NotFound,
    RateLimited,
    ServerError,
    TacApiError,
)
from tac_api.reports.render import ChartProgress, Report, ReportFormat, render
from tac_api.reports.schemas import GovernorReport, ProgrammeReport, ReportKind

DEFAULT_API_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 120.0  # a report over 100,000 mothers takes about a second; leave room
RETRIES = 2  # after a 429 (waiting as Retry-After says), a lost connection or a gateway's 50x
PATHS: dict[ReportKind, str] = {
    "governor": "/v1/reports/governor",
    "programme": "/v1/reports/programme",
}

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3

HELP = "\n\n".join(
    [
        (__doc__ or "").strip(),
        f"Environment: TAC_API_URL (default {DEFAULT_API_URL}; --api-url overrides it) and "
        "TAC_API_TOKEN (required; never an option, so that it stays out of shell history and "
        "process lists).",
        "In every format c marks a small published figure (from 1 to the threshold once "
        "perturbed, or one worked out from it), z a cell that does not apply (a median of "
        "nothing), x one that is not available (a cost where no unit cost is set), and [as it "
        "stood] a count of who the women or children were, not to be added up across quarters; "
        "every count is perturbed, and each format's key says how. Parts sit under their totals, "
        "each breakdown under its own subheading. The governor's report is one calendar quarter "
        "beside the one before, with the last four quarters of its headline figures; the "
        "programme report is a table a section, a column a quarter, an estimate's method a "
        "numbered note beside it. CSV is one tidy table, a row a figure, with where it sits "
        "(part_of, breakdown, subheading, depth, stock); the key is its last rows, section "
        "`legend`.",
        "Name the governor's quarter with --quarter (2026-Q2), or with --from its first day and "
        "--to its last: the report covers one calendar quarter, and any other period is refused "
        "(fixed quarters, so that no two reports can be subtracted).",
        "Exit codes:\n"
        "0  written\n"
        "1  the API failed, refused or could not be reached; the file could not be written\n"
        "2  usage: options, TAC_API_TOKEN unset, a period the API refused (422)\n"
        "3  the token was refused (401) or may not read this report (403)",
    ]
)

app = typer.Typer(
    help=HELP, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)

_REPORT: TypeAdapter[GovernorReport | ProgrammeReport] = TypeAdapter(
    Annotated[GovernorReport | ProgrammeReport, Field(discriminator="kind")]
)
_sleep = time.sleep  # a test replaces it to see the waits without waiting
PDF = "application/pdf"
T = TypeVar("T")


class InvalidReport(TacApiError):
    """A successful answer whose body is not a report."""


def _get(
    api_url: str,
    token: str,
    call: Call[T],
    *,
    timeout: float,
    retries: int,
    transport: httpx.BaseTransport | None,
) -> T:
    # The sync client's rules for trying again and for reading a problem, not a copy of them.
    core = Core(
        api_url, token, retries=retries, backoff=0.5, max_backoff=5.0, max_retry_after=120.0
    )
    with httpx.Client(
        base_url=core.base_url, headers=core.headers, timeout=timeout, transport=transport
    ) as http:
        # `_sleep` looked up at each wait: a test replaces it.
        return core.run(http, call, lambda seconds: _sleep(seconds))


def fetch_report(
    api_url: str,
    token: str,
    path: str,
    params: Mapping[str, str],
    *,
    timeout: float = TIMEOUT_SECONDS,
    retries: int = RETRIES,
    transport: httpx.BaseTransport | None = None,
) -> GovernorReport | ProgrammeReport:
    """GET a report and validate it against the report models. Raises the client's typed errors
    (`AuthenticationFailed`, `NotFound`, `ConnectionFailed`, ...) or `InvalidReport`."""
    call: Call[bytes] = Call("GET", path, lambda response: response.content, params=params)
    answer = _get(api_url, token, call, timeout=timeout, retries=retries, transport=transport)
    try:
        return _REPORT.validate_json(answer)
    except ValidationError as error:
        # Where it is wrong, never the input: a wrong answer might hold anything.
        first = error.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        raise InvalidReport(
            f"the answer to GET {path} is not a valid report ({where}: {first['msg']}; "
            f"{error.error_count()} problem(s))"
        ) from None


def fetch_pdf(
    api_url: str,
    token: str,
    path: str,
    params: Mapping[str, str],
    *,
    timeout: float = TIMEOUT_SECONDS,
    retries: int = RETRIES,
    transport: httpx.BaseTransport | None = None,
) -> bytes:
    """GET a report as the PDF the service prints (`Accept: application/pdf`). Raises as
    `fetch_report` does, and `InvalidReport` for an answer that is not a PDF."""
    # A problem (401, 422, ...) still comes back as problem+json, read as the client reads it.
    accept = {"Accept": f"{PDF}, application/problem+json;q=0.5"}
    call: Call[httpx.Response] = Call(
        "GET", path, lambda response: response, params=params, headers=accept
    )
    answer = _get(api_url, token, call, timeout=timeout, retries=retries, transport=transport)
    media_type = answer.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != PDF or not answer.content.startswith(b"%PDF-"):
        raise InvalidReport(
            f"the answer to GET {path} is not a PDF (it is {media_type or 'of no type'}): "
            "is the service older than this tac-report?"
        )
    return answer.content


class Failed(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def explain(error: TacApiError, api_url: str, hint: str = "") -> Failed:
    """One line a governor's office can act on, and the exit code. `hint`: what to do about a
    period the API refused (422 on `from` or `to`)."""
    given = getattr(error, "request_id", None)
    request_id = f" (request id {given})" if given else ""
    match error:
        case ConnectionFailed():
            cause = type(error.__cause__).__name__ if error.__cause__ else "no answer"
            return Failed(
                f"cannot reach the API at {api_url} ({cause}): is TAC_API_URL right "
                "and the service running?"
            )
        case AuthenticationFailed():
            return Failed(f"the token was refused (401): {error.detail}{request_id}", EXIT_AUTH)
        case NotAllowed():
            return Failed(
                f"this token may not read this report (403): {error.detail}{request_id}",
                EXIT_AUTH,
            )
        case NotFound():
            return Failed(f"not found (404): {error.detail}{request_id}")
        case InvalidRequest():
            fields = "; ".join(f"{item.field}: {item.message}" for item in error.errors)
            period = any(item.field in ("from", "to") for item in error.errors)
            return Failed(
                f"the API refused the request (422): {fields or error.detail}{request_id}"
                + (hint if period else ""),
                EXIT_USAGE,
            )
        case RateLimited():
            return Failed(
                f"too many requests (429), still after {RETRIES} retries: {error.detail}; "
                f"try again later{request_id}"
            )
        case ServerError():
            return Failed(
                f"the API failed ({error.status} {error.title}): {error.detail}{request_id}"
            )
        case ApiProblem():
            return Failed(
                f"the API answered {error.status} {error.title}: {error.detail}{request_id}"
            )
    return Failed(str(error))


class Steps:
    """Progress on stderr, never stdout (which may be the report): a live bar on a terminal, a
    line per step otherwise, which is what a scheduler's log keeps."""

    def __init__(self, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.quiet = quiet
        console = Console(stderr=True)
        self.live: Progress | None = None
        self.current: Any = None  # the live step under way, done when the next one starts
        if not quiet and console.is_terminal:
            self.live = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            )

    def __enter__(self) -> Self:
        if self.live:
            self.live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.live:
            if kind is None:
                self._finish()
            self.live.stop()

    def _finish(self) -> None:
        if self.live is not None and self.current is not None:
            total = self.live.tasks[self.current].total or 1
            self.live.update(self.current, total=total, completed=total)

    def _start(self, description: str) -> Any:
        assert self.live is not None
        self._finish()
        self.current = self.live.add_task(description, total=None)
        return self.current

    def step(self, description: str) -> None:
        if self.live:
            self._start(description)
        elif not self.quiet:
            typer.echo(f"tac-report: {description}", err=True)

    def counter(self, description: str) -> ChartProgress:
        """A step with a count of things done, e.g. charts drawn."""
        if self.live:
            task = self._start(description)
            live = self.live
            return lambda done, total: live.update(task, completed=done, total=total)
        announced = False

        def announce(done: int, total: int) -> None:
            nonlocal announced
            if not announced and total and not self.quiet:
                typer.echo(f"tac-report: {description}: {total}", err=True)
            announced = True

        return announce


def _format(fmt: ReportFormat | None, out: str) -> ReportFormat:
    if fmt is None:
        try:
            fmt = ReportFormat(Path(out).suffix.removeprefix(".").lower())
        except ValueError:
            raise Failed(
                f"say --format (md, csv, xlsx, html or pdf): {out!r} does not end in one",
                EXIT_USAGE,
            ) from None
    if out == "-" and fmt in (ReportFormat.xlsx, ReportFormat.pdf):
        raise Failed(f"{fmt.upper()} is not text: give --out a file name, not -", EXIT_USAGE)
    return fmt


def _write(out: str, data: bytes) -> None:
    if out == "-":
        stream = typer.get_binary_stream("stdout")
        stream.write(data)
        stream.flush()
        return
    target = Path(out)
    # Written beside the target, then renamed: a scheduler never picks up half a file.
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise Failed(f"cannot write {out}: {error.strerror or error}") from None


def run(
    kind: ReportKind,
    params: dict[str, str] | Callable[[], dict[str, str]],
    fmt: ReportFormat | None,
    out: str,
    api_url: str,
    quiet: bool,
    hint: str = "",
) -> None:
    """Fetch, render (or, for a PDF, take the service's), write; any failure is one line on
    stderr and an exit code. `params`, or what works them out from the options (raising
    `Failed`); `hint`: what to do when the API refuses them."""
    try:
        if callable(params):
            params = params()
        chosen = _format(fmt, out)
        token = os.environ.get("TAC_API_TOKEN", "").strip()
        if not token:
            raise Failed(
                "TAC_API_TOKEN is not set: export the token the service's admin gave you",
                EXIT_USAGE,
            )
        if not api_url.startswith(("http://", "https://")):
            raise Failed(f"the API URL must start http:// or https://, not {api_url!r}", EXIT_USAGE)
        with Steps(quiet) as steps:
            if chosen is ReportFormat.pdf:
                steps.step(f"fetching the {kind} report as PDF from {api_url}")
                try:
                    data = fetch_pdf(api_url, token, PATHS[kind], params)
                except TacApiError as error:
                    raise explain(error, api_url, hint) from None
            else:
                steps.step(f"fetching the {kind} report from {api_url}")
                try:
                    report: Report = fetch_report(api_url, token, PATHS[kind], params)
                except TacApiError as error:
                    raise explain(error, api_url, hint) from None
                if report.kind != kind:
                    raise Failed(f"the API answered a {report.kind} report, not a {kind} report")
                on_chart = steps.counter("drawing charts") if chosen is ReportFormat.html else None
                data = render(report, chosen, on_chart=on_chart)
            steps.step(f"writing {out}")
            _write(out, data)
    except Failed as failure:
        typer.echo(f"tac-report: error: {failure}", err=True)
        raise typer.Exit(failure.code) from None
    except Exception as error:  # a bug, still one line and not a traceback
        typer.echo(f"tac-report: error: unexpected {type(error).__name__}: {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    if not quiet and out != "-":
        typer.echo(f"tac-report: wrote {out} ({len(data):,} bytes)", err=True)


def _params(**given: str | datetime | None) -> dict[str, str]:
    """Query parameters, dates as ISO days, the ones not given left out."""
    return {
        name: value.date().isoformat() if isinstance(value, datetime) else value
        for name, value in given.items()
        if value is not None
    }


def quarter_days(quarter: str) -> tuple[date, date]:
    """The first and last day of a calendar quarter named as `2026-Q2` (or `2026q2`)."""
    found = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", quarter.strip())
    # Years a date can hold, the whole of the last: a quarter of year 0 or of 9999's end
    # cannot be named in days (the API would refuse either as out of its range anyway).
    if found is None or not 1 <= int(found[1]) <= date.max.year - 1:
        raise Failed(
            f"--quarter is a year and a quarter, e.g. 2026-Q2 (April to June), not {quarter!r}",
            EXIT_USAGE,
        )
    year, number = int(found[1]), int(found[2])
    first = date(year, 3 * number - 2, 1)
    after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return first, after - timedelta(days=1)


def _governor_period(
    quarter: str | None, from_: datetime | None, to: datetime | None
) -> dict[str, str]:
    """`from` and `to` from --quarter, or from --from and --to as given (the API checks that
    they are a quarter's first and last day, and says which is not)."""
    if quarter is not None:
        if from_ is not None or to is not None:
            raise Failed("say --quarter, or --from and --to, not both", EXIT_USAGE)
        first, last = quarter_days(quarter)
        return {"from": first.isoformat(), "to": last.isoformat()}
    if from_ is None or to is None:
        raise Failed(
            "say which quarter: --quarter 2026-Q2, or --from its first day and --to its last "
            "(2026-04-01 and 2026-06-30)",
            EXIT_USAGE,
        )
    return _params(to=to, **{"from": from_})


QUARTER_ONLY = (
    " (the governor's report covers one calendar quarter, once it has ended and settled: say "
    "--quarter 2026-Q2, or --from a quarter's first day and --to its last)"
)
DATE_FORMATS = ["%Y-%m-%d"]
Format = Annotated[
    ReportFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="md, csv, xlsx or html (made here), or pdf (A4, printed by the service). "
        "Default: from --out's extension.",
        show_default=False,
    ),
]
Out = Annotated[
    str, typer.Option("--out", "-o", help="The file to write; - for stdout (not xlsx or pdf).")
]
ApiUrl = Annotated[str, typer.Option("--api-url", envvar="TAC_API_URL", help="The API's address.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]


@app.command()
def governor(
    out: Out,
    quarter: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-Qn", help="The calendar quarter, e.g. 2026-Q2 (April to June 2026)."
        ),
    ] = None,
    from_: Annotated[
        datetime | None,
        typer.Option(
            "--from", formats=DATE_FORMATS, help="Instead of --quarter: the quarter's first day."
        ),
    ] = None,
    to: Annotated[
        datetime | None,
        typer.Option(formats=DATE_FORMATS, help="With --from: the quarter's last day."),
    ] = None,
    prison: Annotated[
        str | None,
        typer.Option(
            help="The prison's code, e.g. EWI: a governor's own unless given; an admin's "
            "token needs it."
        ),
    ] = None,
    fmt: Format = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    quiet: Quiet = False,
) -> None:
    """One prison's figures for one calendar quarter, beside the quarter before it, with the
    headline figures over four quarters. Only a whole calendar quarter is accepted."""
    prison_code = prison.strip().upper() if prison else None

    def params() -> dict[str, str]:
        return _params(prison_code=prison_code) | _governor_period(quarter, from_, to)

    run("governor", params, fmt, out, api_url, quiet, hint=QUARTER_ONLY)


@app.command()
def programme(
    out: Out,
    from_: Annotated[
        datetime | None, typer.Option("--from", formats=DATE_FORMATS, help="First day.")
    ] = None,
    to: Annotated[datetime | None, typer.Option(formats=DATE_FORMATS, help="Last day.")] = None,
    fmt: Format = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    quiet: Quiet = False,
) -> None:
    """Both prisons, quarter by quarter (the admin's and the evaluators' report)."""
    run("programme", _params(to=to, **{"from": from_}), fmt, out, api_url, quiet)
