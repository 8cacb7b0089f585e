from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from tastegraph.cli.context import err, fail, runtime
from tastegraph.portability.exports import records, write_csv, write_jsonl
from tastegraph.portability.formats.listenbrainz_export import write_listenbrainz

FORMATS = ("jsonl", "csv", "listenbrainz")


app = typer.Typer(invoke_without_command=True)


@app.callback()
def export(
    ctx: typer.Context,
    *,
    user: Annotated[str | None, typer.Option("--user", help="Whose data to export.")] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="jsonl (everything), csv, or listenbrainz (music plays)."),
    ] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="File (default: stdout)."),
    ] = None,
) -> None:
    """Export one user's complete data, with time zones.

    JSONL holds every record (profile, tokens, plays with UTC and local time, loves and other
    feedback, tags, friends); its plays import again losslessly with `tastegraph import`. CSV
    holds one row per play, feedback, tag and friend. listenbrainz writes the music plays as
    ListenBrainz listens (JSONL), for ListenBrainz and the tools that read its format; other
    plays and incognito plays are skipped and counted on stderr. A file given with --output
    appears only once the export is complete.

    `tastegraph export parquet DIR` writes the whole play log and catalogue as Parquet for
    batch jobs instead (see docs/batch.md).
    """
    if ctx.invoked_subcommand is not None:
        return
    if user is None:
        fail("Missing option '--user'", "whose data to export.", code=2)
    if fmt not in FORMATS:
        fail(f"Unknown format {fmt!r}", "use jsonl, csv or listenbrainz.", code=2)
    skipped: Counter[str] = Counter()
    writers: dict[str, Writer] = {
        "jsonl": write_jsonl,
        "csv": write_csv,
        "listenbrainz": partial(write_listenbrainz, skipped=skipped),
    }
    writer = writers[fmt]
    with runtime() as rt, rt.db.unit_of_work() as session:
        svc = rt.services(session)
        owner = svc.accounts.get_by_name(user)
        if output is None:
            count = _to_stdout(writer, records(svc, owner))
        else:
            count = _to_file(writer, records(svc, owner), output)
    noun = "listens" if fmt == "listenbrainz" else "records"
    err.print(f"exported {count} {noun} of {owner.name}", markup=False)
    for reason, number in sorted(skipped.items()):
        err.print(f"skipped {number} {reason}", markup=False)


Writer = Callable[[TextIO, Iterator[dict[str, Any]]], int]


def _to_stdout(writer: Writer, rows: Iterator[dict[str, Any]]) -> int:
    try:
        count = writer(sys.stdout, rows)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining
        # about the unflushed rest when it exits.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(1) from None
    return count


def _to_file(writer: Writer, rows: Iterator[dict[str, Any]], output: Path) -> int:
    """Write next to ``output`` and rename when complete: no half-written export remains."""
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            count = writer(stream, rows)
            stream.flush()
            os.fsync(stream.fileno())
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail("Cannot write the export", f"{exc.filename or output}: {exc.strerror or exc}")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


@app.command("parquet")
def parquet(
    target: Annotated[
        Path, typer.Argument(file_okay=False, help="A new or empty directory to write into.")
    ],
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Refresh the export already in DIR: only the months of plays that changed "
            "since are written again (the small tables always are).",
        ),
    ] = False,
) -> None:
    """Export the play log, catalogue, users (without anything secret), feedback and segment
    members as Parquet, for `tastegraph batch run` and Spark jobs (layout in docs/batch.md).

    Streams in batches, so memory stays flat on any log; the manifest (`_manifest.json`) is
    written last. With --update, a month of plays whose fingerprint (count, highest id, sums
    of item and user ids) is unchanged is kept as it is.
    """
    from tastegraph.portability.parquet import ExportDirectoryNotEmpty, export_parquet

    def progress(table: str, rows: int) -> None:
        err.print(f"  {table}: {rows} rows", markup=False)

    with runtime() as rt:
        started = time.perf_counter()
        try:
            manifest = export_parquet(rt.db, target, update=update, progress=progress)
        except ExportDirectoryNotEmpty:
            fail(
                "Cannot write the export",
                f"{target} is not empty (--update refreshes an export there)",
                code=2,
            )
        except OSError as exc:
            fail("Cannot write the export", f"{exc.filename or target}: {exc.strerror or exc}")
    tables = ", ".join(f"{rows} {name}" for name, rows in manifest["tables"].items())
    months = f"{len(manifest['written_months'])} of {len(manifest['months'])} months written"
    typer.echo(f"exported {tables} to {target} ({months}) in {time.perf_counter() - started:.1f} s")
