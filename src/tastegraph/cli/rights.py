"""``tastegraph rights``: territorial rights, blackouts and territory groups from the shell."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from tastegraph.catalog.errors import RightsSheetRejected
from tastegraph.catalog.models import Item, Offer
from tastegraph.catalog.rights_schemas import BlackoutIn, RightIn
from tastegraph.catalog.rights_sheet import OFFER_NAMES, parse_moment
from tastegraph.catalog.territories import GroupView, normalize_country_code
from tastegraph.catalog.viewer import Viewer
from tastegraph.cli.context import fail, runtime
from tastegraph.runtime import Services

app = typer.Typer(
    help="Territorial rights: grants, live blackouts, territory groups and rights sheets "
    "(see docs/catalog.md).",
    no_args_is_help=True,
)
blackout_app = typer.Typer(help="Live blackouts.", no_args_is_help=True)
groups_app = typer.Typer(help="Territory groups (EU, DACH, LATAM...).", no_args_is_help=True)
app.add_typer(blackout_app, name="blackout")
app.add_typer(groups_app, name="groups")

ItemArg = Annotated[str, typer.Argument(help="An item id, or scheme:value (imdb:tt2397459).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_out = Console(soft_wrap=True, emoji=False)


def item_of(svc: Services, ref: str) -> Item:
    ref = ref.strip()
    if ref.isdigit():
        return svc.catalog.get(int(ref))
    scheme, sep, value = ref.partition(":")
    if not sep:
        fail("Invalid item", f"{ref!r} is neither an item id nor scheme:value", code=2)
    return svc.catalog.by_external_id(scheme.lower(), value)


def _moment(text: str | None, what: str, *, end: bool = False) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_moment(text, end=end)
    except ValueError:
        fail(f"Invalid {what}", f"{text!r} is not a date (2025-03-31) or an ISO 8601 time", code=2)


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors(include_url=False, include_input=False)
    )


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _languages(text: str | None) -> list[str]:
    return [part for part in (text or "").replace(";", " ").replace(",", " ").split() if part]


# -- grants -----------------------------------------------------------------------------------


@app.command("add")
def add(
    item: ItemArg,
    territories: Annotated[
        list[str], typer.Argument(help="Countries (DE), groups (EU, DACH) or WORLD.")
    ],
    *,
    offer: Annotated[
        str, typer.Option("--offer", help="ad_supported (avod), subscription (svod), rental.")
    ],
    starts: Annotated[str | None, typer.Option("--from", help="Start (date or time).")] = None,
    ends: Annotated[
        str | None, typer.Option("--until", help="End; a date includes that whole day.")
    ] = None,
    audio: Annotated[str | None, typer.Option("--audio", help="Languages: 'da de'.")] = None,
    subtitles: Annotated[str | None, typer.Option("--subtitles", help="Languages.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Grant an item (and what hangs under it) to territories, one grant per territory."""
    kind = OFFER_NAMES.get(offer.strip().lower())
    if kind is None:
        fail("Invalid offer", f"{offer!r}: use {', '.join(o.value for o in Offer)}", code=2)
    starts_at, ends_at = _moment(starts, "start"), _moment(ends, "end", end=True)
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        svc = rt.services(session)
        target = item_of(svc, item)
        granted: list[dict[str, Any]] = []
        for territory in territories:
            try:
                data = RightIn(
                    item_id=target.id,
                    territory=territory,
                    offer=kind,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    audio_languages=_languages(audio),
                    subtitle_languages=_languages(subtitles),
                )
            except ValidationError as exc:
                fail("Invalid grant", _problems(exc), code=2)
            row = svc.catalog.rights.grant(data)
            granted.append({"id": row.id, "item_id": row.item_id, "territory": row.territory})
    if as_json:
        typer.echo(json.dumps(granted))
    else:
        for entry in granted:
            typer.echo(f"granted {entry['id']}: item {entry['item_id']} in {entry['territory']}")


@app.command("list")
def list_rights(
    item: Annotated[str | None, typer.Option("--item", help="Only this item's grants.")] = None,
    territory: Annotated[str | None, typer.Option("--territory")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """Grants, by item and territory (an item's own grants, not those it inherits)."""
    with runtime() as rt, rt.db.unit_of_work() as session:
        svc = rt.services(session)
        item_id = item_of(svc, item).id if item else None
        rows, total = svc.catalog.rights.find(item_id=item_id, territory=territory, limit=limit)
        ids = {row.item_id for row in rows}
        items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids)))}
        found: list[dict[str, Any]] = [
            {
                "id": row.id,
                "item_id": row.item_id,
                "item": items[row.item_id].title,
                "territory": row.territory,
                "offer": row.offer.value,
                "starts_at": _iso(row.starts_at),
                "ends_at": _iso(row.ends_at),
                "audio": " ".join(row.audio_languages),
                "subtitles": " ".join(row.subtitle_languages),
            }
            for row in rows
        ]
    if as_json:
        typer.echo(json.dumps({"rights": found, "total": total}, ensure_ascii=False))
        return
    table = Table(title=f"rights ({total})")
    for column in ("id", "item_id", "item", "territory", "offer", "starts_at", "ends_at"):
        table.add_column(column)
    table.add_column("audio / subtitles")
    for row in found:
        table.add_row(
            *(str(row[c]) for c in ("id", "item_id", "item", "territory", "offer")),
            row["starts_at"] or "-",
            row["ends_at"] or "-",
            f"{row['audio'] or '-'} / {row['subtitles'] or '-'}",
        )
    _out.print(table)


@app.command("remove")
def remove(
    ids: Annotated[list[int] | None, typer.Argument(help="Grant ids.")] = None,
    item: Annotated[
        str | None, typer.Option("--item", help="Remove every grant of this item.")
    ] = None,
) -> None:
    """Remove grants by id, or all of an item's."""
    if not ids and not item:
        fail("Nothing to remove", "name grant ids or --item", code=2)
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        svc = rt.services(session)
        removed = svc.catalog.rights.remove(ids or [])
        if item:
            removed += svc.catalog.rights.remove_for_item(item_of(svc, item).id)
    typer.echo(f"removed {removed} grant{'s' if removed != 1 else ''}")


@app.command("import")
def import_sheet(
    path: Annotated[Path, typer.Argument(help="A CSV rights sheet (UTF-8).")],
    as_json: JsonOpt = False,
) -> None:
    """Import a CSV rights sheet, reporting every rejected row with its line.

    Columns: item, territory, offer, and optionally start, end, audio, subtitles (see
    docs/catalog.md). Good rows are stored. Exit 0 when something was stored or nothing was
    wrong, 1 when every row was rejected, 2 when the file cannot be read as a sheet."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        fail("Cannot read the file", f"{path}: {exc.strerror or exc}", code=2)
    except UnicodeDecodeError as exc:
        fail("Cannot import", f"{path} is not UTF-8 text (byte {exc.start})", code=2)
    rejected_all: list[dict[str, Any]] | None = None
    with runtime() as rt:
        try:
            with rt.db.unit_of_work(write=True) as session:
                report = rt.services(session).catalog.rights.import_sheet(text)
        except RightsSheetRejected as exc:
            rejected_all = list(exc.extra.get("rejected", []))
            if not rejected_all:
                fail(exc.title, exc.detail, code=2)
            report = None
    if report is None:
        assert rejected_all is not None
        if as_json:
            typer.echo(json.dumps({"stored": 0, "rejected": rejected_all}, ensure_ascii=False))
        else:
            _print_rejected(rejected_all)
        fail("Nothing imported", f"every row of {path.name} was rejected")
    if as_json:
        typer.echo(report.model_dump_json())
        return
    table = Table(title=f"rights sheet {path.name}")
    for column in ("rows", "stored", "updated", "unchanged", "rejected"):
        table.add_column(column, justify="right")
    table.add_row(
        *(str(v) for v in (report.rows, report.stored, report.updated, report.unchanged)),
        str(len({p.line for p in report.rejected})),
    )
    _out.print(table)
    if report.ignored_columns:
        _out.print(f"ignored columns: {', '.join(report.ignored_columns)}", markup=False)
    if report.rejected:
        _print_rejected([p.model_dump() for p in report.rejected])


def _print_rejected(problems: list[dict[str, Any]]) -> None:
    table = Table(title="rejected rows")
    for column in ("line", "field", "code", "reason"):
        table.add_column(column, overflow="fold")
    for p in problems:
        table.add_row(str(p["line"]), p["field"] or "-", p["code"], p["message"])
    _out.print(table)


@app.command("check")
def check(
    item: ItemArg,
    country: Annotated[str | None, typer.Option("--country", help="ISO 3166-1 code.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When (default: now).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Whether a viewer in a country can watch or listen to an item, and which grants decide."""
    code = normalize_country_code(country) if country else None
    moment = _moment(at, "time")
    with runtime() as rt, rt.db.unit_of_work() as session:
        svc = rt.services(session)
        target = item_of(svc, item)
        when = moment or rt.clock()
        verdict = rt.availability.explain(target.id, code, when)
        answer = svc.catalog.availability_of([target], Viewer(country=code, at=when))[target.id]
        out = {
            "item_id": target.id,
            "title": target.title,
            "country": code,
            "at": when.isoformat(),
            "decided_by": verdict.decided_by,
            **answer.model_dump(mode="json", exclude={"country"}),
        }
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    state = "available" if out["available"] else "NOT available"
    where = code or "an unknown country"
    offers = ", ".join(o["kind"] for o in out["offers"]) or "no offer"
    typer.echo(f"{target.title} ({target.id}) is {state} in {where} at {out['at']}: {offers}")
    typer.echo(
        f"decided by item {verdict.decided_by}"
        if verdict.decided_by
        else "no grants above it: the default applies"
    )
    if out["blackout_until"]:
        typer.echo(f"blacked out until {out['blackout_until']}")


# -- blackouts --------------------------------------------------------------------------------


@blackout_app.command("add")
def blackout_add(
    item: ItemArg,
    territories: Annotated[list[str], typer.Argument(help="Countries, groups or WORLD.")],
    *,
    starts: Annotated[str, typer.Option("--from", help="Start of the live window.")],
    ends: Annotated[str, typer.Option("--until", help="End of the live window.")],
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    """Keep an event (or every event under an item) off screens in territories for a window."""
    starts_at, ends_at = _moment(starts, "start"), _moment(ends, "end", end=True)
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        svc = rt.services(session)
        target = item_of(svc, item)
        try:
            data = BlackoutIn(
                item_id=target.id,
                territories=territories,
                starts_at=starts_at,
                ends_at=ends_at,
                note=note,
            )
        except ValidationError as exc:
            fail("Invalid blackout", _problems(exc), code=2)
        row = svc.catalog.rights.add_blackout(data)
        typer.echo(f"blackout {row.id}: item {row.item_id} in {' '.join(row.territories)}")


@blackout_app.command("list")
def blackout_list(
    item: Annotated[str | None, typer.Option("--item")] = None, as_json: JsonOpt = False
) -> None:
    """Blackouts, by start."""
    with runtime() as rt, rt.db.unit_of_work() as session:
        svc = rt.services(session)
        rows = svc.catalog.rights.blackouts(item_id=item_of(svc, item).id if item else None)
        found: list[dict[str, Any]] = [
            {
                "id": r.id,
                "item_id": r.item_id,
                "territories": list(r.territories),
                "starts_at": _iso(r.starts_at),
                "ends_at": _iso(r.ends_at),
                "note": r.note,
            }
            for r in rows
        ]
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False))
        return
    table = Table(title=f"blackouts ({len(found)})")
    for column in ("id", "item_id", "territories", "starts_at", "ends_at", "note"):
        table.add_column(column)
    for r in found:
        table.add_row(
            str(r["id"]),
            str(r["item_id"]),
            " ".join(r["territories"]),
            str(r["starts_at"]),
            str(r["ends_at"]),
            str(r["note"] or ""),
        )
    _out.print(table)


@blackout_app.command("remove")
def blackout_remove(blackout_id: Annotated[int, typer.Argument()]) -> None:
    """Remove a blackout."""
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        rt.services(session).catalog.rights.remove_blackout(blackout_id)
    typer.echo(f"removed blackout {blackout_id}")


# -- territory groups -------------------------------------------------------------------------


def _print_groups(groups: list[GroupView], as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                [{"key": g.key, "name": g.name, "countries": list(g.countries)} for g in groups]
            )
        )
        return
    table = Table(title="territory groups")
    for column in ("key", "name", "countries"):
        table.add_column(column, overflow="fold")
    for g in groups:
        table.add_row(g.key, g.name, " ".join(g.countries))
    _out.print(table)


@groups_app.command("list")
def groups_list(as_json: JsonOpt = False) -> None:
    """Every territory group with its countries."""
    with runtime() as rt, rt.db.unit_of_work() as session:
        groups = rt.services(session).catalog.territories.all()
    _print_groups(groups, as_json)


@groups_app.command("set")
def groups_set(
    key: Annotated[str, typer.Argument(help="EU, DACH, MY_GROUP...")],
    countries: Annotated[list[str], typer.Argument(help="Its countries.")],
    *,
    name: Annotated[str, typer.Option("--name", help="A readable name.")],
    as_json: JsonOpt = False,
) -> None:
    """Create a group or replace its countries."""
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        group = rt.services(session).catalog.territories.put(key, name, countries)
    _print_groups([group], as_json)


@groups_app.command("add")
def groups_add(key: str, country: str, as_json: JsonOpt = False) -> None:
    """A country joins a group."""
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        group = rt.services(session).catalog.territories.add_country(key, country)
    _print_groups([group], as_json)


@groups_app.command("remove")
def groups_remove(key: str, country: str, as_json: JsonOpt = False) -> None:
    """A country leaves a group."""
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        group = rt.services(session).catalog.territories.remove_country(key, country)
    _print_groups([group], as_json)


@groups_app.command("delete")
def groups_delete(key: str) -> None:
    """Delete a group no grant or blackout names."""
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        rt.services(session).catalog.territories.delete(key)
    typer.echo(f"deleted {key.upper()}")


@groups_app.command("defaults")
def groups_defaults(as_json: JsonOpt = False) -> None:
    """Put back the default groups that are missing (existing ones are left alone)."""
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        groups = rt.services(session).catalog.territories.restore_defaults()
    _print_groups(groups, as_json)
