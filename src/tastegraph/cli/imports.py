from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tastegraph.cli.context import err, runtime
from tastegraph.ingest.schemas import PlayStatus
from tastegraph.ingest.validation import validate_plays
from tastegraph.portability.imports import Row, detect_format, read_rows

_BATCH = 1000


def import_plays(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A CSV or JSONL file."),
    user: str = typer.Option(..., "--user", help="Whose plays these are."),
    fmt: str = typer.Option("auto", "--format", help="csv, jsonl or auto (by extension)."),
    source: str = typer.Option("import", "--source", help="Recorded as the plays' client."),
    report: Path | None = typer.Option(
        None, "--report", help="Also write the full report (every rejected row) as JSON."
    ),
) -> None:
    """Import a play history (CSV or JSONL), with a progress bar and a final report.

    CSV columns are matched by name: played_at (or timestamp, uts, listened_at, date), kind
    (track by default), title (or track), artist, album, show, season, episode, competition,
    home, away, starts_at, outlet, programme, url, duration, mbid, isrc, imdb, ... Times without
    a UTC offset are read in the user's time zone. JSONL lines are plays in the API's shape,
    tastegraph export records, or ListenBrainz listens.
    """
    size = path.stat().st_size
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as stream:
        head = stream.read(4096)
        stream.seek(0)
        fmt = detect_format(str(path), head) if fmt == "auto" else fmt
        if fmt not in ("csv", "jsonl"):
            err.print(f"[red]Unknown format {fmt!r}[/red]: use csv or jsonl.")
            raise typer.Exit(2)
        counts: Counter[str] = Counter()
        rejected: list[dict[str, object]] = []
        with runtime() as rt:
            with rt.db.unit_of_work() as session:
                owner = rt.services(session).accounts.get_by_name(user)
                timezone = owner.timezone
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
                    counts["read"] += 1
                    if row.error is not None:
                        counts["rejected"] += 1
                        rejected.append({"line": row.line, "errors": [row.error]})
                        continue
                    batch.append(row)
                    if len(batch) >= _BATCH:
                        _flush(rt, user, batch, source, counts, rejected)
                        batch = []
                        progress.update(task, completed=_position(stream, size))
                _flush(rt, user, batch, source, counts, rejected)
                progress.update(task, completed=size)
    _print_report(counts, rejected)
    if report is not None:
        report.write_text(
            json.dumps({"counts": dict(counts), "rejected": rejected}, indent=2, ensure_ascii=False)
        )


def _position(stream: object, size: int) -> int:
    try:
        return min(size, stream.buffer.tell())  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return 0


def _flush(
    rt: object,
    user: str,
    batch: list[Row],
    source: str,
    counts: Counter[str],
    rejected: list[dict[str, object]],
) -> None:
    if not batch:
        return
    from tastegraph.runtime import Runtime

    assert isinstance(rt, Runtime)
    valid, bad = validate_plays([row.data for row in batch])
    with rt.db.unit_of_work(write=True) as session:
        svc = rt.services(session)
        owner = svc.accounts.get_by_name(user)
        results = svc.ingest.record(owner, valid, source=source) + bad
    for result in results:
        if result.status is PlayStatus.ACCEPTED:
            counts["accepted"] += 1
        elif result.status is PlayStatus.DUPLICATE:
            counts["duplicate"] += 1
        else:
            counts["rejected"] += 1
            rejected.append(
                {
                    "line": batch[result.index].line,
                    "errors": [
                        f"{e.field}: {e.message} ({e.code})"
                        if e.field
                        else f"{e.message} ({e.code})"
                        for e in result.errors
                    ],
                }
            )


def _print_report(counts: Counter[str], rejected: list[dict[str, object]]) -> None:
    out = Console()
    table = Table(title="import report")
    for column in ("read", "accepted", "duplicate", "rejected"):
        table.add_column(column, justify="right")
    table.add_row(*(str(counts[c]) for c in ("read", "accepted", "duplicate", "rejected")))
    out.print(table)
    rejected.sort(key=lambda r: int(r["line"]))  # type: ignore[call-overload]
    for entry in rejected[:50]:
        out.print(f"line {entry['line']}: " + "; ".join(entry["errors"]))  # type: ignore[arg-type]
    if len(rejected) > 50:
        out.print(f"... and {len(rejected) - 50} more rejected rows (see --report).")
