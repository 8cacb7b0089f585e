from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tastegraph.cli.context import err, fail, runtime
from tastegraph.ingest.schemas import PlayResult, PlayStatus
from tastegraph.ingest.validation import validate_plays
from tastegraph.portability.imports import Row, UnreadableFile, detect_format, read_rows
from tastegraph.runtime import Runtime

_BATCH = 1000
COUNTS = ("read", "accepted", "duplicate", "rejected")
"""The report's counts: every row read is accepted, a duplicate, or rejected."""
_SHOWN = 50


@dataclass
class Report:
    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False

    def reject(self, line: int, errors: list[str]) -> None:
        self.counts["rejected"] += 1
        self.rejected.append({"line": line, "errors": errors})

    def as_json(self) -> dict[str, Any]:
        self.rejected.sort(key=lambda entry: int(entry["line"]))
        return {
            "counts": {name: self.counts[name] for name in COUNTS},
            "complete": not self.interrupted,
            "rejected": self.rejected,
        }


def import_plays(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CSV or JSONL file.")],
    *,
    user: Annotated[str, typer.Option("--user", help="Whose plays these are.")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv, jsonl or auto (by extension).")
    ] = "auto",
    source: Annotated[
        str, typer.Option("--source", help="Recorded as the client of plays that name none.")
    ] = "import",
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            dir_okay=False,
            help="Also write the full report (every rejected row) as JSON.",
        ),
    ] = None,
) -> None:
    """Import a play history (CSV or JSONL), with a progress bar and a final report.

    CSV columns are matched by name: played_at (or timestamp, uts, listened_at, date), kind
    (track by default), title (or track), artist, album, show, season, episode, competition,
    home, away, starts_at, outlet, programme, url, duration, mbid, isrc, imdb, ... Times without
    a UTC offset are read in the user's time zone. JSONL lines are plays in the API's shape,
    tastegraph export records, or ListenBrainz listens (a JSON array of them works too).

    Plays already stored count as duplicates, so an import can simply be run again. The report
    lists each rejected row with its line number and why; the exit code is 0 even when some
    rows were rejected, 1 when the import stopped early.
    """
    result = Report()
    try:
        stream = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        fail("Cannot read the file", f"{path}: {exc.strerror or exc}")
    with stream, runtime() as rt:
        head = stream.read(4096)
        stream.seek(0)
        fmt = detect_format(str(path), head) if fmt == "auto" else fmt
        if fmt not in ("csv", "jsonl"):
            fail(f"Unknown format {fmt!r}", "use csv, jsonl or auto.", code=2)
        with rt.db.unit_of_work() as session:
            owner = rt.services(session).accounts.get_by_name(user)
        try:
            _run(
                rt,
                user=owner.name,
                timezone=owner.timezone,
                stream=stream,
                fmt=fmt,
                source=source,
                result=result,
            )
        except KeyboardInterrupt:
            result.interrupted = True
        except UnreadableFile as exc:
            fail(f"Cannot import {path.name}", str(exc), code=2)
    _print_report(result)
    if report is not None:
        try:
            report.write_text(
                json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n",
                encoding="utf-8",
                errors="backslashreplace",  # undecodable input stays visible, as \udcXX
            )
        except OSError as exc:
            fail("Cannot write the report", f"{report}: {exc.strerror or exc}")
    if result.interrupted:
        err.print("[red]Interrupted:[/red] the plays counted as accepted above are stored.")
        raise typer.Exit(1)


def _run(
    rt: Runtime, *, user: str, timezone: str, stream: TextIO, fmt: str, source: str, result: Report
) -> None:
    size = max(1, _size(stream))
    progress = Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("bytes"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    with progress:
        task = progress.add_task("import", total=size)
        batch: list[Row] = []
        for row in read_rows(stream, fmt, timezone):
            result.counts["read"] += 1
            if row.error is not None:
                result.reject(row.line, [row.error])
                continue
            batch.append(row)
            if len(batch) >= _BATCH:
                _flush(rt, user, batch, source, result)
                batch = []
                progress.update(task, completed=_position(stream, size))
        _flush(rt, user, batch, source, result)
        progress.update(task, completed=size)


def _size(stream: TextIO) -> int:
    try:
        return Path(stream.name).stat().st_size
    except (AttributeError, OSError, TypeError):
        return 0


def _position(stream: TextIO, size: int) -> int:
    buffer = getattr(stream, "buffer", None)
    try:
        return min(size, int(buffer.tell())) if buffer is not None else 0
    except (OSError, ValueError):
        return 0


def _flush(rt: Runtime, user: str, batch: list[Row], source: str, result: Report) -> None:
    """Store one batch in one transaction; each row is accepted, a duplicate or rejected."""
    if not batch:
        return
    valid, bad = validate_plays([row.data for row in batch])
    stored: list[PlayResult] = []
    if valid:
        with rt.db.unit_of_work(write=True) as session:
            svc = rt.services(session)
            owner = svc.accounts.get_by_name(user)
            stored = svc.ingest.record(owner, valid, source=source)
    for outcome in [*stored, *bad]:
        if outcome.status is PlayStatus.ACCEPTED:
            result.counts["accepted"] += 1
        elif outcome.status is PlayStatus.DUPLICATE:
            result.counts["duplicate"] += 1
        else:
            result.reject(
                batch[outcome.index].line,
                [
                    f"{e.field}: {e.message} ({e.code})" if e.field else f"{e.message} ({e.code})"
                    for e in outcome.errors
                ],
            )


def _print_report(result: Report) -> None:
    out = Console(soft_wrap=True, emoji=False)
    table = Table(title="import report" + (" (interrupted)" if result.interrupted else ""))
    for column in COUNTS:
        table.add_column(column, justify="right")
    table.add_row(*(str(result.counts[name]) for name in COUNTS))
    out.print(table)
    rejected = result.as_json()["rejected"]
    for entry in rejected[:_SHOWN]:
        out.print(f"line {entry['line']}: " + "; ".join(entry["errors"]), markup=False)
    if len(rejected) > _SHOWN:
        out.print(f"... and {len(rejected) - _SHOWN} more rejected rows (see --report).")
