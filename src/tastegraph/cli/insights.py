"""``tastegraph insights``: content economics from the shell — a title's audience, revenue
and break-even, title costs, audience overlap and the local-content report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from tastegraph.catalog.kinds import Kind
from tastegraph.cli.context import fail, runtime
from tastegraph.insights import segment_bits
from tastegraph.insights.export import local_content_csv, overlap_csv, title_csv
from tastegraph.insights.models import CostKind, TitleCost
from tastegraph.insights.schemas import CostIn, TitleInsightsOut
from tastegraph.insights.services import cost_out
from tastegraph.insights.windows import InsightWindow
from tastegraph.runtime import Services

app = typer.Typer(
    help="Content economics: audience insights per title, costs, break-even, overlap and the "
    "local-content report (see docs/insights.md).",
    no_args_is_help=True,
)
costs_app = typer.Typer(help="Production and licence costs of titles.", no_args_is_help=True)
app.add_typer(costs_app, name="costs")

_out = Console(soft_wrap=True, emoji=False)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
SinceOpt = Annotated[
    datetime | None, typer.Option("--since", help="Window start (UTC date or time).")
]
UntilOpt = Annotated[
    datetime | None, typer.Option("--until", help="Window end, exclusive (default: now).")
]
WeeksOpt = Annotated[int, typer.Option("--weeks", min=1, max=57, help="Weeks without --since.")]
ZoneOpt = Annotated[str, typer.Option("--tz", help="Time zone of the weeks.")]


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _window(
    svc: Services, since: datetime | None, until: datetime | None, weeks: int, tz: str
) -> InsightWindow:
    return svc.insights.window(since=_utc(since), until=_utc(until), weeks=weeks, timezone=tz)


def _json(model: BaseModel) -> None:
    typer.echo(model.model_dump_json(indent=2))


def _kinds(values: list[str] | None) -> list[Kind] | None:
    if not values:
        return None
    kinds = []
    for value in values:
        try:
            kinds.append(Kind(value.strip().lower()))
        except ValueError:
            fail(
                "Invalid kind", f"{value!r}: use one of {', '.join(k.value for k in Kind)}", code=2
            )
    return kinds


@app.command("title")
def title(
    item_id: Annotated[int, typer.Argument(help="The title's item id.")],
    since: SinceOpt = None,
    until: UntilOpt = None,
    weeks: WeeksOpt = 12,
    tz: ZoneOpt = "UTC",
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """A title's audience, weekly trend, countries, segments, groups, revenue and break-even."""
    with runtime() as rt, rt.db.unit_of_work() as session:
        svc = rt.services(session)
        out = svc.insights.title(item_id, _window(svc, since, until, weeks, tz))
    if as_json:
        _json(out)
    elif as_csv:
        typer.echo(title_csv(out), nl=False)
    else:
        _print_title(out)


def _print_title(out: TitleInsightsOut) -> None:
    a, r = out.audience, out.revenue
    rate = f"{a.completion.rate:.1%}" if a.completion.rate is not None else "-"
    _out.print(
        f"{out.title.title} ({out.title.kind.value}, {out.covered_items} items) "
        f"{out.window.since:%Y-%m-%d} – {out.window.until:%Y-%m-%d %H:%M} {out.window.timezone}",
        highlight=False,
    )
    _out.print(
        f"viewers {a.viewers}, plays {a.plays}, completion {rate} "
        f"({a.completion.completed} of {a.completion.playbacks} playbacks)",
        highlight=False,
    )
    weeks = Table(title="weeks")
    for column in ("week", "viewers", "plays", "completion", "impressions", "revenue"):
        weeks.add_column(column, justify="left" if column == "week" else "right")
    for w in out.weeks:
        done = f"{w.completion_rate:.0%}" if w.completion_rate is not None else "-"
        weeks.add_row(
            f"{w.start:%Y-%m-%d}", str(w.viewers), str(w.plays), done, str(w.impressions),
            f"{w.revenue:.2f}",
        )  # fmt: skip
    _out.print(weeks)
    countries = ", ".join(f"{c.country or '?'} {c.viewers}" for c in out.countries[:10])
    _out.print(f"countries: {countries or '-'}", highlight=False)
    cells = ", ".join(f"{c.name} {c.viewers_display}" for c in out.segments.cells)
    _out.print(f"segments (floor {out.segments.floor}): {cells or '-'}", highlight=False)
    groups = ", ".join(f"{g.name} {g.viewers}" for g in out.groups)
    _out.print(f"groups: {groups or '-'}", highlight=False)
    _out.print(
        f"revenue {r.revenue:.2f} {r.currency} from {r.impressions} impressions "
        f"(targeted {r.targeted.revenue:.2f}, run of network {r.run_of_network.revenue:.2f}); "
        f"per viewer {r.revenue_per_viewer if r.revenue_per_viewer is not None else '-'}",
        highlight=False,
    )
    even = out.break_even
    if even is None:
        _out.print("break-even: no cost entered (tastegraph insights costs set)")
    else:
        _out.print(
            f"break-even: cost {even.cost:.2f} {even.currency}; viewers needed "
            f"{even.viewers_needed if even.viewers_needed is not None else '-'} at current "
            f"prices, {even.viewers_needed_at_network_prices or '-'} at run-of-network prices "
            f"(now {even.viewers})",
            highlight=False,
        )


@app.command("overlap")
def overlap(
    kind: Annotated[str | None, typer.Option("--kind", help="The top titles of a kind.")] = None,
    ids: Annotated[list[int] | None, typer.Option("--id", help="A title (repeat).")] = None,
    top: Annotated[int, typer.Option("--top", min=2, max=30)] = 10,
    since: SinceOpt = None,
    until: UntilOpt = None,
    weeks: WeeksOpt = 12,
    tz: ZoneOpt = "UTC",
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Audience overlap: Jaccard and the share of A's viewers who watch B."""
    kinds = _kinds([kind] if kind else None)
    with runtime() as rt, rt.db.unit_of_work() as session:
        svc = rt.services(session)
        out = svc.insights.overlap(
            _window(svc, since, until, weeks, tz),
            kind=kinds[0] if kinds else None,
            item_ids=ids or None,
            top=top,
        )
    if as_json:
        _json(out)
        return
    if as_csv:
        typer.echo(overlap_csv(out), nl=False)
        return
    names = {t.title.id: t.title.title for t in out.titles}
    table = Table(title="share of the row's viewers who watch the column")
    table.add_column("title")
    table.add_column("viewers", justify="right")
    for t in out.titles:
        table.add_column(str(t.title.id), justify="right")
    shares = {(c.a, c.b): c.share_of_a for c in out.cells}
    for t in out.titles:
        row = [names[t.title.id], str(t.viewers)]
        for other in out.titles:
            share = shares.get((t.title.id, other.title.id))
            row.append("·" if other.title.id == t.title.id else f"{share:.0%}" if share else "-")
        table.add_row(*row)
    _out.print(table)


@app.command("local-content")
def local_content(
    country: Annotated[
        list[str] | None, typer.Option("--country", help="A country (repeat).")
    ] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="A kind (repeat).")] = None,
    sample: Annotated[int, typer.Option("--sample", min=1, max=500)] = 20,
    since: SinceOpt = None,
    until: UntilOpt = None,
    weeks: WeeksOpt = 12,
    tz: ZoneOpt = "UTC",
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Local works offered, recommended and consumed per country and kind, against the
    local-content policy (pass/fail per cell). Exit 1 when a cell fails."""
    kinds = _kinds(kind)
    with runtime() as rt, rt.db.unit_of_work() as session:
        svc = rt.services(session)
        out = svc.insights.local_content(
            _window(svc, since, until, weeks, tz),
            countries=country or None,
            kinds=kinds,
            sample=sample,
        )
    if as_json:
        _json(out)
    elif as_csv:
        typer.echo(local_content_csv(out), nl=False)
    else:
        table = Table(
            title=f"local content ({out.window.since:%Y-%m-%d} – {out.window.until:%Y-%m-%d})"
        )
        for column in ("country", "kind", "policy", "offered", "recommended", "consumed", "result"):
            table.add_column(column)

        def share(value: float | None) -> str:
            return f"{value:.0%}" if value is not None else "-"

        for cell in out.cells:
            result = {True: "pass", False: "FAIL", None: "-"}[cell.passes]
            table.add_row(
                cell.country,
                cell.kind.value,
                share(cell.threshold),
                share(cell.offered.share),
                share(cell.recommended.share),
                share(cell.consumed.share),
                result,
            )
        _out.print(table)
    if any(cell.passes is False for cell in out.cells):
        raise typer.Exit(1)


@app.command("bitmaps")
def bitmaps(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rewrite every bitmap from the members.")
    ] = False,
) -> None:
    """Check the segment member bitmaps title pages count from (exit 1 on a difference), or
    rebuild them (after a restore or a hand edit of segment_members)."""
    with runtime() as rt, rt.db.unit_of_work(write=rebuild) as session:
        if rebuild:
            segment_bits.rebuild_all(session)
        wrong = segment_bits.check(session)
    if wrong:
        fail("Segments whose bitmap differs from their members", ", ".join(map(str, wrong)))
    typer.echo("segment bitmaps rebuilt" if rebuild else "segment bitmaps match their members")


# -- costs ------------------------------------------------------------------------------------


def _cost_row(cost: TitleCost) -> dict[str, Any]:
    row: dict[str, Any] = cost_out(cost).model_dump(mode="json")
    return row


@costs_app.command("set")
def set_cost(
    item_id: Annotated[int, typer.Argument(help="The title's item id.")],
    kind: Annotated[CostKind, typer.Argument(help="production or licence.")],
    amount: Annotated[str, typer.Argument(help="The amount, e.g. 250000 or 1999.99.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217.")] = "EUR",
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Enter (or replace) a title's production or licence cost."""
    try:
        data = CostIn(amount=Decimal(amount), currency=currency, notes=notes)
    except (InvalidOperation, ValidationError) as exc:
        fail("Invalid cost", str(exc).splitlines()[0] if str(exc) else amount, code=2)
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        row = _cost_row(rt.services(session).insights.set_cost(item_id, kind, data))
    if as_json:
        typer.echo(json.dumps(row))
    else:
        typer.echo(f"item {item_id}: {kind.value} cost {row['amount']} {row['currency']}")


@costs_app.command("list")
def list_costs(
    item_id: Annotated[int | None, typer.Option("--item", help="Only this title.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The costs entered."""
    with runtime() as rt, rt.db.unit_of_work() as session:
        rows = [_cost_row(c) for c in rt.services(session).insights.costs(item_id)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title=f"costs ({len(rows)})")
    for column in ("item_id", "kind", "amount", "currency", "notes"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(str(row[c] or "") for c in ("item_id", "kind", "amount", "currency", "notes"))
        )
    _out.print(table)


@costs_app.command("remove")
def remove_cost(
    item_id: Annotated[int, typer.Argument(help="The title's item id.")],
    kind: Annotated[CostKind, typer.Argument(help="production or licence.")],
) -> None:
    """Remove a title's cost."""
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        rt.services(session).insights.remove_cost(item_id, kind)
    typer.echo(f"item {item_id}: {kind.value} cost removed")
