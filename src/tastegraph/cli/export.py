from __future__ import annotations

import sys
from pathlib import Path

import typer

from tastegraph.cli.context import err, runtime
from tastegraph.portability.exports import records, write_csv, write_jsonl


def export(
    user: str = typer.Option(..., "--user", help="Whose data to export."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl (everything) or csv."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
) -> None:
    """Export one user's complete data, with time zones.

    JSONL holds every record (profile, tokens, plays with UTC and local time, loves, tags,
    friends) and imports again losslessly; CSV holds one row per play, love, tag and friend.
    """
    if fmt not in ("jsonl", "csv"):
        err.print(f"[red]Unknown format {fmt!r}[/red]: use jsonl or csv.")
        raise typer.Exit(2)
    with runtime() as rt, rt.db.unit_of_work() as session:
        svc = rt.services(session)
        owner = svc.accounts.get_by_name(user)
        stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            writer = write_jsonl if fmt == "jsonl" else write_csv
            count = writer(stream, records(svc, owner))
        finally:
            if output:
                stream.close()
    err.print(f"exported {count} records of {user}")
