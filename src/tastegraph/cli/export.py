from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from tastegraph.cli.context import err, fail, runtime
from tastegraph.portability.exports import records, write_csv, write_jsonl


def export(
    *,
    user: Annotated[str, typer.Option("--user", help="Whose data to export.")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl (everything) or csv.")] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="File (default: stdout)."),
    ] = None,
) -> None:
    """Export one user's complete data, with time zones.

    JSONL holds every record (profile, tokens, plays with UTC and local time, loves and other
    feedback, tags, friends); its plays import again losslessly with `tastegraph import`. CSV
    holds one row per play, feedback, tag and friend. A file given with --output appears only
    once the export is complete.
    """
    if fmt not in ("jsonl", "csv"):
        fail(f"Unknown format {fmt!r}", "use jsonl or csv.", code=2)
    writer = write_jsonl if fmt == "jsonl" else write_csv
    partial = output.with_name(output.name + ".partial") if output else None
    with runtime() as rt, rt.db.unit_of_work() as session:
        svc = rt.services(session)
        owner = svc.accounts.get_by_name(user)
        if partial is None:
            count = writer(sys.stdout, records(svc, owner))
            sys.stdout.flush()
        else:
            try:
                with partial.open("w", encoding="utf-8", newline="") as stream:
                    count = writer(stream, records(svc, owner))
                    stream.flush()
                    os.fsync(stream.fileno())
            except OSError as exc:
                partial.unlink(missing_ok=True)
                fail("Cannot write the export", f"{exc.filename or partial}: {exc.strerror}")
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            partial.replace(output)  # type: ignore[arg-type]
    err.print(f"exported {count} records of {owner.name}", markup=False)
