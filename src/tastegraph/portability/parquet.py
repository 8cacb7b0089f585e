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
``plays_through`` (every play with an id up to it is in the export, and no later one) and
``tables`` (rows per table). The export reads one snapshot of the database.
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
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.audiences.models import SegmentMember
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.ingest.models import Feedback, Play
from tastegraph.migrations import current_revision
from tastegraph.stats.rollups import committed_top
from tastegraph.storage.database import Database

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


def _plays(top: int) -> Rows:
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
        .where(Play.id <= top)
        .order_by(Play.id)
    )


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


PLAYS = TableSpec(
    "plays",
    pa.schema(
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
    ),
    _plays,
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
    """The target directory holds files already (an export is never written over another)."""


def export_parquet(
    database: Database,
    target: Path,
    *,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    """Write the export into ``target`` (missing or empty); returns the manifest."""
    if target.exists() and any(target.iterdir()):
        raise ExportDirectoryNotEmpty(str(target))
    target.mkdir(parents=True, exist_ok=True)
    # Every play up to ``top`` has committed, so the snapshot below holds all of them.
    top = committed_top(database)
    counts: dict[str, int] = {}
    try:
        with database.unit_of_work() as session:
            _snapshot(session)
            counts[PLAYS.name] = _write_plays(session, target, top, batch_rows, progress)
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
        }
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        # Never leave a half-written export that a job could mistake for a whole one.
        for child in target.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        raise
    return manifest


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
    batch_rows: int,
    progress: Callable[[str, int], None] | None,
) -> int:
    """Plays into one file per UTC month; a month's file gets a row group per batch."""
    folder = target / PLAYS.name
    folder.mkdir()
    writers: dict[tuple[int, int], pq.ParquetWriter] = {}
    rows = 0
    try:
        for batch in _batches(session, PLAYS.query(top), batch_rows):
            table = _to_table(batch, PLAYS.schema)
            played = table.column("played_at")
            key = pc.add(pc.multiply(pc.year(played), 100), pc.month(played))
            for month_key in pc.unique(key).to_pylist():
                year, month = divmod(int(month_key), 100)
                part = table.filter(pc.equal(key, month_key))
                writer = writers.get((year, month))
                if writer is None:
                    where = folder / f"year={year}" / f"month={month}"
                    where.mkdir(parents=True)
                    writer = pq.ParquetWriter(where / "part-00000.parquet", PLAYS.schema)
                    writers[year, month] = writer
                writer.write_table(part)
            rows += len(batch)
            if progress is not None:
                progress(PLAYS.name, rows)
    finally:
        for writer in writers.values():
            writer.close()
    return rows
