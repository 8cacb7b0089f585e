from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tastegraph.catalog.errors import ItemNotFound
from tastegraph.catalog.schemas import ItemRef
from tastegraph.cli.context import err, fail, runtime
from tastegraph.ingest.models import Feedback, Sentiment
from tastegraph.ingest.schemas import PlayProblem, PlayResult, PlayStatus
from tastegraph.ingest.validation import problems_from, validate_plays
from tastegraph.portability import sources
from tastegraph.portability.formats.base import FeedbackRow, Reading, Record, Row, UnreadableFile
from tastegraph.runtime import Runtime
from tastegraph.stats.rollups import fold

_BATCH = 1000
COUNTS = ("read", "accepted", "duplicate", "rejected")
"""The report's counts: every row read is accepted, a duplicate, or rejected."""
_SHOWN = 50
_ITEM: TypeAdapter[Any] = TypeAdapter(ItemRef)


@dataclass
class Report:
    counts: Counter[str] = field(default_factory=Counter)
    """Plays: read = accepted + duplicate + rejected."""
    feedback: Counter[str] = field(default_factory=Counter)
    """Loves, hates and the like, counted the same way as plays but apart from them."""
    rejected: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    """Records left out on purpose (not read): skipped Rockbox tracks, removed feedback."""
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False

    def reject(self, record: Record, errors: list[str]) -> None:
        is_feedback = isinstance(record, FeedbackRow)
        (self.feedback if is_feedback else self.counts)["rejected"] += 1
        entry: dict[str, Any] = {record.unit: record.line}
        if record.file:
            entry["file"] = record.file
        if is_feedback:
            entry["type"] = "feedback"
        entry["errors"] = errors
        self.rejected.append(entry)

    def as_json(self) -> dict[str, Any]:
        self.rejected.sort(key=_order)
        return {
            "counts": {name: self.counts[name] for name in COUNTS},
            "feedback": {name: self.feedback[name] for name in COUNTS},
            "skipped": dict(self.skipped),
            "notes": self.notes,
            "complete": not self.interrupted,
            "rejected": self.rejected,
        }


def _order(entry: dict[str, Any]) -> tuple[list[tuple[int, str]], int]:
    """By file (listens/2024/5.jsonl before listens/2024/10.jsonl), then position."""
    parts = re.split(r"(\d+)", str(entry.get("file", "")))
    natural = [(int(part), "") if part.isdigit() else (-1, part) for part in parts]
    return natural, int(entry.get("line", entry.get("record", 0)))


def _where(entry: dict[str, Any]) -> str:
    unit = "line" if "line" in entry else "record"
    where = f"{unit} {entry[unit]}"
    if "file" in entry:
        where = f"{entry['file']} {where}"
    if entry.get("type") == "feedback":
        where += " (feedback)"
    return where


def import_plays(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The file to import.")],
    *,
    user: Annotated[str, typer.Option("--user", help="Whose plays these are.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="auto (by extension and content), csv, jsonl, lastfm-csv, listenbrainz, "
            "rockbox, trakt or maloja.",
        ),
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
    """Import a play history, with a progress bar and a final report.

    Formats (see docs/imports.md): tastegraph's own CSV and JSONL (CSV columns are matched by
    name: played_at or timestamp, uts, listened_at, date; kind; title or track; artist, album,
    show, season, episode, competition, home, away, starts_at, outlet, programme, url,
    duration, mbid, isrc, imdb...); Last.fm CSV (lastfm.ghan.nl, or benjaminbenben's
    headerless artist,album,track,date); ListenBrainz (the export zip with its loves, JSON or
    JSONL listens); Rockbox .scrobbler.log; Trakt history JSON; Maloja export JSON. Times
    without a UTC offset are read in the user's time zone.

    Plays already stored count as duplicates, so an import can simply be run again. The report
    lists each rejected row with its line (or record) number and why; the exit code is 0 even
    when some rows were rejected, 1 when the import stopped early, 2 when the file cannot be
    imported at all.
    """
    result = Report()
    try:
        with path.open("rb") as probe:
            head = probe.read(sources.HEAD_BYTES)
    except OSError as exc:
        fail("Cannot read the file", f"{path}: {exc.strerror or exc}")
    if fmt == "auto":
        fmt = sources.detect(path, head)
    elif fmt not in sources.FORMATS:
        fail(f"Unknown format {fmt!r}", f"use auto, {', '.join(sources.FORMATS)}.", code=2)
    with runtime() as rt:
        with rt.db.unit_of_work() as session:
            owner = rt.services(session).accounts.get_by_name(user)
        reading = Reading(owner.timezone)
        try:
            _run(
                rt,
                user=owner.name,
                path=path,
                fmt=fmt,
                reading=reading,
                source=source,
                result=result,
            )
        except KeyboardInterrupt:
            result.interrupted = True
        except UnreadableFile as exc:
            fail(f"Cannot import {path.name}", str(exc), code=2)
        except OSError as exc:
            fail("Cannot read the file", f"{path}: {exc.strerror or exc}")
        result.skipped, result.notes = reading.skipped, reading.notes
        if result.counts["accepted"]:
            # Count the new plays into the chart rollups now rather than on a server's watch.
            fold(rt.db)
    _print_report(result, fmt)
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
    rt: Runtime,
    *,
    user: str,
    path: Path,
    fmt: str,
    reading: Reading,
    source: str,
    result: Report,
) -> None:
    progress = Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    records = sources.read(path, fmt, reading)
    with progress:
        task = progress.add_task("import", total=None, unit=reading.unit)
        batch: list[Row] = []
        feedback: list[FeedbackRow] = []
        try:
            for record in records:
                if isinstance(record, FeedbackRow):
                    # Loves wait until the plays are in: the items they name are made then.
                    result.feedback["read"] += 1
                    if record.error is not None:
                        result.reject(record, [record.error])
                    else:
                        feedback.append(record)
                    continue
                result.counts["read"] += 1
                if record.error is not None:
                    result.reject(record, [record.error])
                    continue
                batch.append(record)
                if len(batch) >= _BATCH:
                    _flush(rt, user, batch, source, result)
                    batch = []
                    progress.update(
                        task,
                        total=reading.total or None,
                        completed=reading.position(),
                        unit=reading.unit,
                    )
            _flush(rt, user, batch, source, result)
            for start in range(0, len(feedback), _BATCH):
                _store_feedback(rt, user, feedback[start : start + _BATCH], result)
        finally:
            records.close()
        done = max(1, reading.total)
        progress.update(task, total=done, completed=done, unit=reading.unit)


def _problems(problems: list[PlayProblem], prefix: str = "") -> list[str]:
    return [
        f"{prefix}{p.field}: {p.message} ({p.code})" if p.field else f"{p.message} ({p.code})"
        for p in problems
    ]


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
            result.reject(batch[outcome.index], _problems(outcome.errors))


def _store_feedback(rt: Runtime, user: str, rows: list[FeedbackRow], result: Report) -> None:
    """Store loves and hates in one transaction, through the ingest service.

    An item named by a reference is found or created as a play's would be; one named only by
    a MusicBrainz id must already be in the catalogue. Feedback the user already gave is a
    duplicate.
    """
    named: list[tuple[FeedbackRow, Any]] = []
    by_mbid: list[FeedbackRow] = []
    for row in rows:
        if row.item is None:
            by_mbid.append(row)
            continue
        try:
            named.append((row, _ITEM.validate_python(row.item)))
        except ValidationError as exc:
            result.reject(row, _problems(problems_from(exc), "item."))
    if not named and not by_mbid:
        return
    with rt.db.unit_of_work(write=True) as session:
        svc = rt.services(session)
        owner = svc.accounts.get_by_name(user)
        targets: list[tuple[FeedbackRow, int]] = []
        if named:
            item_ids = svc.catalog.resolve([ref for _, ref in named])
            targets.extend(zip([row for row, _ in named], item_ids, strict=True))
        for row in by_mbid:
            try:
                targets.append((row, svc.catalog.by_external_id("musicbrainz", str(row.mbid)).id))
            except ItemNotFound:
                result.reject(
                    row,
                    [f"no listen and no catalogue item is the MusicBrainz recording {row.mbid}"],
                )
        given: dict[int, Sentiment] = {}
        for row, item_id in targets:
            sentiment = Sentiment(row.sentiment)
            if item_id not in given:
                before = session.get(Feedback, (owner.id, item_id))
                if before is not None:
                    given[item_id] = before.sentiment
            if given.get(item_id) == sentiment:
                result.feedback["duplicate"] += 1
                continue
            svc.ingest.set_feedback(owner, item_id, sentiment)
            given[item_id] = sentiment
            result.feedback["accepted"] += 1


def _print_report(result: Report, fmt: str) -> None:
    out = Console(soft_wrap=True, emoji=False)
    title = f"import report ({fmt})" + (" (interrupted)" if result.interrupted else "")
    out.print(_table(title, result.counts))
    if result.feedback["read"]:
        out.print(_table("loves and other feedback", result.feedback))
    for reason, count in sorted(result.skipped.items()):
        out.print(f"not imported, on purpose: {count} {reason}", markup=False)
    for note in result.notes:
        out.print(note, markup=False)
    rejected = result.as_json()["rejected"]
    for entry in rejected[:_SHOWN]:
        out.print(f"{_where(entry)}: " + "; ".join(entry["errors"]), markup=False)
    if len(rejected) > _SHOWN:
        out.print(f"... and {len(rejected) - _SHOWN} more rejected rows (see --report).")


def _table(title: str, counts: Counter[str]) -> Table:
    table = Table(title=title)
    for column in COUNTS:
        table.add_column(column, justify="right")
    table.add_row(*(str(counts[name]) for name in COUNTS))
    return table
