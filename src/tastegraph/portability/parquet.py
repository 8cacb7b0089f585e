"""``tastegraph export parquet DIR``: the play log and what charts, recommendations and
audiences need of the rest, as Parquet, for batch jobs (``tastegraph batch``, Spark).

Written in batches with pyarrow (a server-side cursor on PostgreSQL), so memory stays flat
whatever the size of the log. The layout is fixed; jobs read it by these names:

```text
DIR/_manifest.json                       written last: the export is complete when it is there
DIR/plays/year=YYYY/month=M/part-00000.parquet
    id int64, user_id int64, item_id int64, played_at timestamp[us, UTC],
    tz_offset_minutes int16, duration_played int32?, progress float64?, source string
    (the taste log only: incognito plays are never exported; partitioned by the UTC
    year and month of played_at, month 1-12 unpadded)
DIR/items/part-00000.parquet
    id int64, kind string, domain string, title string, parent_id int64?, number int32?,
    country string?, original_language string?, duration_seconds int32?,
    merged_into_id int64? (set: merged away, plays moved to the item it went into),
    created_at timestamp[us, UTC]
DIR/item_credits/part-00000.parquet
    item_id int64, credited_id int64, role string (main, featured, home, away, ...),
    position int32
DIR/users/part-00000.parquet
    id int64, country string?, timezone string, locale string, birth_year int32?,
    visibility string, consent_ad_profiling bool, created_at timestamp[us, UTC]
    (no names, e-mail addresses, passwords or tokens)
DIR/feedback/part-00000.parquet
    user_id int64, item_id int64, sentiment string (love, hate, ...),
    created_at timestamp[us, UTC]
DIR/segment_members/part-00000.parquet
    segment_id int64, user_id int64
```

What a play counts for at each chart level (``stats/levels.py``) follows from ``items``
(``parent_id``: track -> album, episode -> season -> show, story -> programme -> outlet,
match -> competition) and ``item_credits`` (main artists, home and away teams).

``_manifest.json`` holds ``format`` ("tastegraph-parquet"), ``layout`` (1),
``exported_at`` (ISO 8601, UTC), ``schema_version`` (the database's alembic revision),
``plays_through`` (every play with an id up to it is in the export, and no later one),
``tables`` (rows per table), ``months`` (per UTC month "YYYY-MM" of the play log, its
fingerprint: plays, highest id, and the sums of item and user ids) and ``written_months``
(the months this run wrote). The export reads one snapshot of the database.

**Updating an export** (``update=True``, ``--update``): the plays are written month by month,
and a month whose fingerprint equals the one in the earlier manifest is kept as it is. New
plays always get higher ids (so a month that gains plays gains a higher ``max_id``, however
old the month), a deletion lowers the count, and a catalogue merge, which moves plays to
another item, changes the sum of item ids; so the months a fingerprint leaves alone are the
months nothing touched. The fingerprints cost one pass over the log's indexes and columns
(a ``GROUP BY`` month), not a write of it. The small tables are always written in full.
Anything else in the directory (a job's side tables) is dropped, since it was derived from
the old export; the manifest is removed first and written last, so a job never reads a
half-updated export.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.audiences.models import SegmentMember
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.ingest.models import Feedback, Play
from tastegraph.ingest.partitions import Month
from tastegraph.migrations import current_revision
from tastegraph.stats.rollups import committed_top
from tastegraph.storage.database import Database
from tastegraph.storage.dialect import utc_month

FORMAT = "tastegraph-parquet"
LAYOUT = 1
MANIFEST = "_manifest.json"
BATCH_ROWS = 100_000
"""Rows fetched and written at a time (one Parquet row group per partition touched)."""

_TS = pa.timestamp("us", tz="UTC")
Rows = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: pa.Schema
    query: Callable[[int], Rows]
    """The rows, given the last play id of the snapshot."""


def _plays(top: int, start: datetime, end: datetime) -> Rows:
    return (
        select(
            Play.id,
            Play.user_id,
            Play.item_id,
            Play.played_at,
            Play.tz_offset_minutes,
            Play.duration_played,
            Play.progress,
            Play.source,
        )
        .where(Play.id <= top, Play.played_at >= start, Play.played_at < end)
        .order_by(Play.id)
    )


def _fingerprints(session: Session, top: int) -> dict[str, dict[str, int]]:
    """Per UTC month of the log (up to ``top``): plays, highest id, sums of item and user
    ids; what tells an update which months changed (module doc)."""
    month = utc_month(Play.played_at)
    stmt = (
        select(
            month,
            func.count(),
            func.max(Play.id),
            func.sum(Play.item_id),
            func.sum(Play.user_id),
        )
        .where(Play.id <= top)
        .group_by(month)
    )
    out: dict[str, dict[str, int]] = {}
    for number, plays, max_id, item_sum, user_sum in session.execute(stmt.order_by(month)):
        out[str(Month(1970, 1).plus(int(number)))] = {
            "plays": int(plays),
            "max_id": int(max_id),
            "item_sum": int(item_sum),
            "user_sum": int(user_sum),
        }
    return out


def _items(_top: int) -> Rows:
    return select(
        Item.id,
        Item.kind,
        Item.domain,
        Item.title,
        Item.parent_id,
        Item.number,
        Item.country,
        Item.original_language,
        Item.duration_seconds,
        Item.merged_into_id,
        Item.created_at,
    ).order_by(Item.id)


def _credits(_top: int) -> Rows:
    return select(
        ItemCredit.item_id, ItemCredit.credited_id, ItemCredit.role, ItemCredit.position
    ).order_by(ItemCredit.item_id, ItemCredit.credited_id, ItemCredit.role)


def _users(_top: int) -> Rows:
    return select(
        User.id,
        User.country,
        User.timezone,
        User.locale,
        User.birth_year,
        User.visibility,
        User.consent_ad_profiling,
        User.created_at,
    ).order_by(User.id)


def _feedback(_top: int) -> Rows:
    return select(
        Feedback.user_id, Feedback.item_id, Feedback.sentiment, Feedback.created_at
    ).order_by(Feedback.user_id, Feedback.item_id)


def _members(_top: int) -> Rows:
    return select(SegmentMember.segment_id, SegmentMember.user_id).order_by(
        SegmentMember.segment_id, SegmentMember.user_id
    )


PLAYS_NAME = "plays"
PLAYS_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("user_id", pa.int64()),
        ("item_id", pa.int64()),
        ("played_at", _TS),
        ("tz_offset_minutes", pa.int16()),
        ("duration_played", pa.int32()),
        ("progress", pa.float64()),
        ("source", pa.string()),
    ]
)
TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "items",
        pa.schema(
            [
                ("id", pa.int64()),
                ("kind", pa.string()),
                ("domain", pa.string()),
                ("title", pa.string()),
                ("parent_id", pa.int64()),
                ("number", pa.int32()),
                ("country", pa.string()),
                ("original_language", pa.string()),
                ("duration_seconds", pa.int32()),
                ("merged_into_id", pa.int64()),
                ("created_at", _TS),
            ]
        ),
        _items,
    ),
    TableSpec(
        "item_credits",
        pa.schema(
            [
                ("item_id", pa.int64()),
                ("credited_id", pa.int64()),
                ("role", pa.string()),
                ("position", pa.int32()),
            ]
        ),
        _credits,
    ),
    TableSpec(
        "users",
        pa.schema(
            [
                ("id", pa.int64()),
                ("country", pa.string()),
                ("timezone", pa.string()),
                ("locale", pa.string()),
                ("birth_year", pa.int32()),
                ("visibility", pa.string()),
                ("consent_ad_profiling", pa.bool_()),
                ("created_at", _TS),
            ]
        ),
        _users,
    ),
    TableSpec(
        "feedback",
        pa.schema(
            [
                ("user_id", pa.int64()),
                ("item_id", pa.int64()),
                ("sentiment", pa.string()),
                ("created_at", _TS),
            ]
        ),
        _feedback,
    ),
    TableSpec(
        "segment_members",
        pa.schema([("segment_id", pa.int64()), ("user_id", pa.int64())]),
        _members,
    ),
)


class ExportDirectoryNotEmpty(ValueError):
    """The target directory holds files already (an export is never written over another;
    ``update`` refreshes one in place)."""


def export_parquet(
    database: Database,
    target: Path,
    *,
    update: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    """Write the export into ``target`` (missing or empty; with ``update``, an earlier
    export there is refreshed: only the months that changed are written again); returns
    the manifest."""
    earlier: dict[str, dict[str, int]] = {}
    if target.exists() and any(target.iterdir()):
        if not update:
            raise ExportDirectoryNotEmpty(str(target))
        earlier = _earlier_months(target)
        (target / MANIFEST).unlink(missing_ok=True)  # incomplete from here until written
        for child in target.iterdir():  # what is not the export's own was derived from it
            if child.name != PLAYS_NAME or not earlier:
                _remove(child)
    (target / PLAYS_NAME).mkdir(parents=True, exist_ok=True)
    # Every play up to ``top`` has committed, so the snapshot below holds all of them.
    top = committed_top(database)
    counts: dict[str, int] = {}
    try:
        with database.unit_of_work() as session:
            _snapshot(session)
            months = _fingerprints(session, top)
            written = [m for m, print_ in months.items() if earlier.get(m) != print_]
            for name in set(earlier) - set(months):  # every play of the month is gone
                _remove(_month_folder(target, name))
            counts[PLAYS_NAME] = sum(m["plays"] for m in months.values())
            _write_plays(session, target, top, written, batch_rows, progress)
            for spec in TABLES:
                counts[spec.name] = _write_table(session, target, spec, top, batch_rows)
                if progress is not None:
                    progress(spec.name, counts[spec.name])
        manifest = {
            "format": FORMAT,
            "layout": LAYOUT,
            "exported_at": datetime.now(UTC).isoformat(),
            "schema_version": current_revision(database.engine),
            "plays_through": top,
            "tables": counts,
            "months": months,
            "written_months": written,
        }
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        # Never leave a half-written export that a job could mistake for a whole one (an
        # update starts from scratch next time: no manifest, no fingerprints).
        for child in target.iterdir():
            _remove(child)
        raise
    return manifest


def _earlier_months(target: Path) -> dict[str, dict[str, int]]:
    """The month fingerprints of the export in ``target``; none (write every month) when it
    is incomplete, of another layout, or older than fingerprints."""
    try:
        manifest = read_manifest(target)
    except (OSError, ValueError):
        return {}
    if manifest.get("format") != FORMAT or manifest.get("layout") != LAYOUT:
        return {}
    months = manifest.get("months")
    return dict(months) if isinstance(months, dict) else {}


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _month_folder(target: Path, name: str) -> Path:
    month = Month.parse(name)
    return target / PLAYS_NAME / f"year={month.year}" / f"month={month.month}"


def read_manifest(target: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    return data


def _snapshot(session: Session) -> None:
    """One snapshot for every table (SQLite's read transaction is one already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        )


def _batches(session: Session, stmt: Rows, batch_rows: int) -> Iterator[Sequence[Any]]:
    """The rows in batches, from a server-side cursor where the database has one."""
    result = (
        session.connection()
        .execution_options(stream_results=True, yield_per=batch_rows)
        .execute(stmt)
    )
    yield from result.partitions(batch_rows)


def _to_table(rows: Sequence[Any], schema: pa.Schema) -> pa.Table:
    """Columns straight from the rows: pyarrow takes enums as the strings they are and naive
    datetimes (SQLite's) as the UTC they are stored in."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = [
        pa.array(column, type=field.type) for column, field in zip(columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _write_table(session: Session, target: Path, spec: TableSpec, top: int, batch_rows: int) -> int:
    folder = target / spec.name
    folder.mkdir()
    rows = 0
    with pq.ParquetWriter(folder / "part-00000.parquet", spec.schema) as writer:
        for batch in _batches(session, spec.query(top), batch_rows):
            writer.write_table(_to_table(batch, spec.schema))
            rows += len(batch)
        if rows == 0:  # a file with the schema, so readers find the columns
            writer.write_table(spec.schema.empty_table())
    return rows


def _write_plays(
    session: Session,
    target: Path,
    top: int,
    months: Sequence[str],
    batch_rows: int,
    progress: Callable[[str, int], None] | None,
) -> None:
    """Each of ``months`` into its own file (a row group per batch), written beside the old
    one and moved over it; one query per month, which PostgreSQL reads from that month's
    partition alone."""
    rows = 0
    for name in sorted(months):
        folder = _month_folder(target, name)
        folder.parent.mkdir(parents=True, exist_ok=True)
        fresh = folder.with_name(folder.name + ".new")
        _remove(fresh)
        fresh.mkdir()
        month = Month.parse(name)
        start, end = month.start, month.plus(1).start
        with pq.ParquetWriter(fresh / "part-00000.parquet", PLAYS_SCHEMA) as writer:
            for batch in _batches(session, _plays(top, start, end), batch_rows):
                writer.write_table(_to_table(batch, PLAYS_SCHEMA))
                rows += len(batch)
                if progress is not None:
                    progress(PLAYS_NAME, rows)
        _remove(folder)
        fresh.rename(folder)
