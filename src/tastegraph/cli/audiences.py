"""``tastegraph audiences``: the operator's side of segments (refresh job, listing, debugging)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from tastegraph.cli.context import fail, runtime

app = typer.Typer(
    help="Audience segments: refresh, list, create, clusters, export.", no_args_is_help=True
)


def _rule(text: str) -> Any:
    """A rule given inline as JSON, or as @path to a JSON file."""
    raw = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        fail("Invalid rule", f"not JSON: {exc}", code=2)


@app.command("refresh")
def refresh(
    watch: Annotated[
        float, typer.Option("--watch", help="Keep refreshing every so many seconds (0: once).")
    ] = 0.0,
) -> None:
    """Bring every materialised segment up to date (a diff: new members in, departed out)."""
    with runtime() as rt:
        while True:
            report = rt.refresh_audiences()
            typer.echo(
                f"refreshed {report.segments} segments: +{report.added} -{report.removed} "
                f"in {report.seconds:.2f} s"
                + (f"; deactivated invalid segments {report.failed}" if report.failed else "")
            )
            if watch <= 0:
                return
            time.sleep(watch)


@app.command("list")
def list_segments() -> None:
    """Every segment with its kind, size and IAB ids."""
    with runtime() as rt, rt.db.unit_of_work() as session:
        audiences = rt.services(session).audiences
        for s in audiences.visible_segments(None):
            size = audiences.size(s).display
            ids = ",".join(str(i) for i in s.iab_ids or []) or "-"
            state = "" if s.active else " (inactive)"
            typer.echo(f"{s.id}\t{s.kind.value}\t{size}\tiab {ids}\t{s.name}{state}")


@app.command("create")
def create(
    name: Annotated[str, typer.Argument()],
    rule: Annotated[str, typer.Option("--rule", help="The rule as JSON, or @file.json.")],
) -> None:
    """Create a shared rule segment (the operator's)."""
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        audiences = rt.services(session).audiences
        segment = audiences.create_segment(None, name=name, rule=_rule(rule))
        typer.echo(f"segment {segment.id}: {audiences.size(segment).display} members")


@app.command("estimate")
def estimate(rule: Annotated[str, typer.Argument(help="The rule as JSON, or @file.json.")]) -> None:
    with runtime() as rt, rt.db.unit_of_work() as session:
        typer.echo(str(rt.services(session).audiences.estimate(_rule(rule)).display))


@app.command("members")
def members(
    segment_id: Annotated[int, typer.Argument()],
    limit: Annotated[int, typer.Option("--limit")] = 100,
) -> None:
    """The operator's debugging view: member ids and names (never shown to advertisers)."""
    with runtime() as rt, rt.db.unit_of_work() as session:
        audiences = rt.services(session).audiences
        for user_id, user_name in audiences.members(audiences.segment(segment_id), limit=limit):
            typer.echo(f"{user_id}\t{user_name}")


@app.command("lookalike")
def lookalike(
    segment_id: Annotated[int, typer.Argument(help="The seed segment.")],
    size: Annotated[int, typer.Option("--size", help="The target size.")],
) -> None:
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        audiences = rt.services(session).audiences
        made = audiences.lookalike(audiences.segment(segment_id), target_size=size, owner=None)
        typer.echo(f"segment {made.id}: {made.member_count} members")


@app.command("clusters")
def clusters(
    k: Annotated[int, typer.Option("--k", help="How many clusters.")] = 12,
    within_days: Annotated[int, typer.Option("--days")] = 180,
) -> None:
    """Recompute the automatic interest clusters, labelled from their top tags."""
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        for s in rt.services(session).audiences.build_clusters(k=k, within_days=within_days):
            typer.echo(f"{s.id}\t{s.member_count}\t{s.name}")


@app.command("export")
def export() -> None:
    """Every segment as segtax 4 JSON (IAB Audience Taxonomy 1.1 ids)."""
    with runtime() as rt, rt.db.unit_of_work() as session:
        typer.echo(json.dumps(rt.services(session).audiences.export(None), indent=2))
