from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tastegraph.cli.context import err, fail, runtime
from tastegraph.portability import sources
from tastegraph.portability.formats.base import Reading, UnreadableFile
from tastegraph.portability.importing import COUNTS, Report, run_import, where
from tastegraph.runtime import Runtime
from tastegraph.stats.rollups import fold

_SHOWN = 50


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
    with progress:
        task = progress.add_task("import", total=None, unit=reading.unit)

        def advance(now: Reading) -> None:
            progress.update(task, total=now.total or None, completed=now.position(), unit=now.unit)

        run_import(
            rt,
            user=user,
            path=path,
            fmt=fmt,
            reading=reading,
            source=source,
            result=result,
            progress=advance,
        )
        done = max(1, reading.total)
        progress.update(task, total=done, completed=done, unit=reading.unit)


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
        out.print(f"{where(entry)}: " + "; ".join(entry["errors"]), markup=False)
    if len(rejected) > _SHOWN:
        out.print(f"... and {len(rejected) - _SHOWN} more rejected rows (see --report).")


def _table(title: str, counts: Counter[str]) -> Table:
    table = Table(title=title)
    for column in COUNTS:
        table.add_column(column, justify="right")
    table.add_row(*(str(counts[name]) for name in COUNTS))
    return table
