"""Push a local authority's children to tac-api from its case-management system's CSV export.

    python examples/la_sync.py children.csv --url http://127.0.0.1:8000 --token "$TOKEN"

(the token may instead be in TAC_API_TOKEN; it must be a `la_system` client's). The children go
in batches of up to 1,000, each child by the authority's own id: sending the same file again
changes nothing, and a changed row updates that child.

The CSV: UTF-8 (a BOM, as spreadsheets write, is fine), a header row naming every one of COLUMNS,
in any order. A blank cell is null; where a field has a default, blank means the default
(sex `unknown`, contact_arrangement `direct`, placement_confidential false). Every column must be
present, because a PUT replaces the child's record: a column missing from an export would clear
that field for every child, so it is refused instead.

Resumable: a state file beside the CSV (`<csv>.sync-state.json`, or --state) records the file's
SHA-256 and, per batch, its Idempotency-Key and whether its answer came back. Run again after a
crash and the batches answered are skipped; the one that was in flight is sent again under the
same key, so if it had landed the service replays its first answer instead of applying it twice.
A changed CSV (another hash), server or batch size starts afresh; so does --restart (to send
again, say, rows that failed because their mother was not yet recorded).

A child whose mother your authority has no confirmed child of yet (or whose prison number no
mother has) is not failed but pending: held as your authority's link request until her prison's
social worker confirms it. Nothing of it shows on her case until then; the change feed says when
it is decided (`link-request.confirmed`, `.declined`, `.expired`), and once confirmed, sending the
file again (--restart) updates the child as usual.

Prints each batch's counts, every pending row and every failed row (its line, its external id,
the service's reason: never the row's personal data) and exits 1 if any row failed, 2 if the run
could not finish; pending rows alone exit 0.
"""

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tac_api.client import TacApiError, TacSyncClient

COLUMNS = (
    "external_id",
    "mother_prison_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "expected_date",
    "sex",
    "legal_status",
    "placement_type",
    "lives_with",
    "placement_confidential",
    "carer_name",
    "carer_phone",
    "carer_address",
    "social_worker_name",
    "social_worker_email",
    "social_worker_phone",
    "contact_arrangement",
    "contact_arrangement_reason",
)
NESTED = {"carer": ("name", "phone", "address"), "social_worker": ("name", "email", "phone")}
NESTED_COLUMNS = {f"{nested}_{field}" for nested, fields in NESTED.items() for field in fields}
TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}
MAX_BATCH = 1000
STATE_VERSION = 1


class CsvProblem(Exception):
    pass


@dataclass
class Row:
    line: int  # where the row starts in the file, counting the header as line 1
    item: dict[str, Any]


def child_item(cells: dict[str, str]) -> dict[str, Any]:
    """One batch item from one row: blank cells left out (null, or the field's default)."""
    values = {name: value.strip() for name, value in cells.items() if value.strip()}
    item: dict[str, Any] = {
        name: value for name, value in values.items() if name not in NESTED_COLUMNS
    }
    for nested, fields in NESTED.items():
        given = {field: values.get(f"{nested}_{field}") for field in fields}
        if any(given.values()):
            item[nested] = given  # a carer's phone without a name is the service's to refuse
    confidential = item.get("placement_confidential")
    if confidential is not None and confidential.lower() in TRUE | FALSE:
        item["placement_confidential"] = confidential.lower() in TRUE
    return item


def read_rows(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise CsvProblem("the file is empty: it needs a header row") from None
    unknown = sorted(set(header) - set(COLUMNS))
    missing = [name for name in COLUMNS if name not in header]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if unknown or missing or duplicated:
        said = [
            f"{what}: {', '.join(names)}"
            for what, names in (
                ("unknown columns", unknown),
                ("missing columns", missing),
                ("columns named twice", duplicated),
            )
            if names
        ]
        raise CsvProblem("; ".join(said) + f" (expected exactly: {', '.join(COLUMNS)})")
    rows = []
    line_before = reader.line_num
    for cells in reader:
        line, line_before = line_before + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) != len(header):
            raise CsvProblem(f"line {line}: {len(cells)} cells where the header has {len(header)}")
        rows.append(Row(line, child_item(dict(zip(header, cells, strict=True)))))
    if not rows:
        raise CsvProblem("the file has a header but no children")
    return rows


def batches(rows: Sequence[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


class State:
    """What this CSV's runs have done, saved after every step so a crash loses nothing."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path, self.data = path, data

    @classmethod
    def load(cls, path: Path, identity: dict[str, Any], restart: bool) -> "State":
        fresh = {"version": STATE_VERSION, **identity, "batches": {}}
        if restart or not path.exists():
            return cls(path, fresh)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            print(f"{path}: unreadable state file; starting afresh", file=sys.stderr)
            return cls(path, fresh)
        if not isinstance(data, dict) or any(data.get(k) != v for k, v in identity.items()):
            print(
                f"{path}: written for another CSV, server or batch size; starting afresh",
                file=sys.stderr,
            )
            return cls(path, fresh)
        return cls(path, data)

    def batch(self, number: int) -> dict[str, Any]:
        return self.data["batches"].setdefault(str(number), {})

    def save(self) -> None:
        # Written whole and renamed into place: a crash mid-write leaves the previous state.
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".sync-state-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(self.data, file, indent=2)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


PENDING = "pending: held as your link request until her prison confirms it"


def _counts(record: dict[str, Any]) -> str:
    kinds = ("created", "updated", "unchanged", "pending", "failed")
    return ", ".join(f"{record.get(kind, 0)} {kind}" for kind in kinds)


def _reason(detail: str, index: int) -> str:
    return detail.removeprefix(f"item {index}: ")


def push(client: TacSyncClient, rows: Sequence[Row], size: int, state: State) -> tuple[int, int]:
    """Send every batch not yet answered; the numbers of rows that failed and that are pending,
    this run or before."""
    planned = list(batches(rows, size))
    failed = pending = 0
    for number, batch in enumerate(planned, start=1):
        record = state.batch(number)
        where = f"batch {number}/{len(planned)} (lines {batch[0].line}-{batch[-1].line})"
        if record.get("done"):
            print(f"{where}: answered in an earlier run: {_counts(record)}")
        else:
            # Saved before sending: if no answer comes back, the next run resends under this key.
            record.setdefault("idempotency_key", str(uuid.uuid4()))
            state.save()
            answer = client.batch_children(
                [row.item for row in batch], idempotency_key=record["idempotency_key"]
            )
            record.update(
                done=True,
                created=answer.created,
                updated=answer.updated,
                unchanged=answer.unchanged,
                pending=answer.pending,
                failed=answer.failed,
                pending_rows=[
                    {"line": batch[result.index].line, "external_id": result.external_id}
                    for result in answer.results
                    if result.result == "pending"
                ],
                failures=[
                    {
                        "line": batch[result.index].line,
                        "external_id": result.external_id,
                        "reason": _reason(result.problem.detail, result.index)
                        if result.problem
                        else "failed",
                    }
                    for result in answer.results
                    if result.result == "failed"
                ],
            )
            state.save()
            replayed = " (the service's first answer to this batch, replayed)"
            print(f"{where}: {_counts(record)}{replayed if answer.replayed else ''}")
        for held in record.get("pending_rows", []):
            print(f"  line {held['line']} ({held['external_id']}): {PENDING}")
        for failure in record.get("failures", []):
            print(f"  line {failure['line']} ({failure['external_id']}): {failure['reason']}")
        failed += record.get("failed", 0)
        pending += record.get("pending", 0)
    return failed, pending


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Push children from a CSV export to tac-api, in batches, resumably."
    )
    parser.add_argument("csv", type=Path, help="the export (columns: see this script's doc)")
    parser.add_argument("--url", default=os.environ.get("TAC_API_URL", "http://127.0.0.1:8000"))
    parser.add_argument(
        "--token", default=os.environ.get("TAC_API_TOKEN"), help="default: $TAC_API_TOKEN"
    )
    parser.add_argument("--state", type=Path, help="default: <csv>.sync-state.json beside it")
    parser.add_argument(
        "--batch-size", type=int, default=MAX_BATCH, help=f"1 to {MAX_BATCH} (default)"
    )
    parser.add_argument("--restart", action="store_true", help="ignore the state: send it all")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token or set TAC_API_TOKEN (a la_system client's token)")
    if not 1 <= args.batch_size <= MAX_BATCH:
        parser.error(f"--batch-size must be 1 to {MAX_BATCH}")
    return args


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    args = parse_args(argv)
    try:
        raw = args.csv.read_bytes()
        rows = read_rows(raw.decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, CsvProblem, csv.Error) as problem:
        print(f"error: {args.csv}: {problem}", file=sys.stderr)
        return 2
    identity = {
        "csv_sha256": hashlib.sha256(raw).hexdigest(),
        "url": args.url.rstrip("/"),
        "batch_size": args.batch_size,
    }
    state_path = args.state or args.csv.with_name(args.csv.name + ".sync-state.json")
    state = State.load(state_path, identity, args.restart)
    try:
        with TacSyncClient(args.url, args.token, transport=transport) as client:
            failed, pending = push(client, rows, args.batch_size, state)
    except TacApiError as error:
        print(f"error: {error}", file=sys.stderr)
        print(f"run again to resume (state: {state_path})", file=sys.stderr)
        return 2
    waiting = f", {pending} pending (waiting for the prison side)" if pending else ""
    print(f"{len(rows)} rows, {failed} failed{waiting} (state: {state_path})")
    # Pending is not a failure: nothing to correct, only a decision to wait for.
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
