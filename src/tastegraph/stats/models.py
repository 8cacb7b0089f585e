"""Chart rollups: plays, listeners and more per item and chart level in UTC days, months,
quarters, half-years and years, and overall.

They count the play log (``ingest.models.Play``) up to a watermark, ``ChartState``: plays
after it are counted raw by every chart until a fold adds them in. Deletions, merges and moves
of counted plays adjust them in the same transaction (see ``stats/rollups.py`` and
docs/stats.md); ``tastegraph stats rebuild`` recomputes them from the log. Incognito plays are
never in them.

A play counts once at every level ``stats/levels.py`` gives it (a track play for the track,
its album and each main artist), in every grain: its UTC day, month, quarter, half-year and
year, and ``all``. Site-wide charts read ``chart_counts``; geo charts read
``country_chart_counts``, by the country the listener has now (a user who moves takes their
plays along).

Distinct listeners do not add up across buckets, so the rows also say how many listeners a
bucket has and how many of them played the item for the last time (so far) in it: a window
that runs to the present has the listeners whose last play is inside it, and that sum does
add up. ``ChartPair`` keeps each listener's first and last play of each item, which is what
keeps those numbers right as plays arrive. ``ChartSize`` does the same for whole charts (how
many distinct items) and says which rows may be in a chart's top (``head``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tastegraph.catalog.kinds import Kind
from tastegraph.storage.base import Base, EnumText

SITE = ""
"""The ``country`` of site-wide rows (``ChartSize``, ``ArchivedChart``)."""


class Grain(StrEnum):
    """How much time one rollup row covers. Buckets are numbered in UTC: days since
    1970-01-01, months since January 1970, quarters and half-years since 1970 (the month
    number // 3 and // 6), the year itself, and 0 for ``all``."""

    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"
    ALL = "all"


class _CountColumns:
    level: Mapped[Kind] = mapped_column(EnumText(Kind), primary_key=True)
    grain: Mapped[Grain] = mapped_column(EnumText(Grain, 8), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """The charted item (a track, an album, an artist...); no foreign key: derived data."""
    plays: Mapped[int] = mapped_column(Integer)
    listeners: Mapped[int] = mapped_column(Integer, default=0)
    """Distinct listeners of the item in the bucket."""
    lasts: Mapped[int] = mapped_column(Integer, default=0)
    """Listeners whose latest play of the item (of all their plays so far) is in the bucket."""
    first_us: Mapped[int | None] = mapped_column(BigInteger)
    last_us: Mapped[int | None] = mapped_column(BigInteger)
    """The first and last play in the bucket, in microseconds since 1970 (UTC); not kept for
    days."""
    head: Mapped[bool] = mapped_column(Boolean, default=False)
    """Set on every row with more plays than the bucket's ``ChartSize.tau``: a chart's top
    items are found among these rows."""


class ChartCount(_CountColumns, Base):
    """Everyone's plays of an item at a chart level in one bucket."""

    __tablename__ = "chart_counts"
    # SQLite keeps the rows in the primary key's tree (no rowid): one lookup per upsert.
    # PostgreSQL leaves room in each page, so a count updated in place touches no index.
    __table_args__ = (
        Index(
            "ix_chart_counts_head",
            "level",
            "grain",
            "bucket",
            "item_id",
            sqlite_where=text("head"),
            postgresql_where=text("head"),
        ),
        # The items whose last play falls in a stretch of hours (their ``all`` row's last
        # play): a chart to the present counts them for the edge of its first day.
        Index(
            "ix_chart_counts_all_last",
            "level",
            "last_us",
            sqlite_where=text("grain = 'all'"),
            postgresql_where=text("grain = 'all'"),
        ),
        {"sqlite_with_rowid": False, "postgresql_with": {"fillfactor": 75}},
    )


class CountryChartCount(_CountColumns, Base):
    """The plays of the listeners of one country, as ``ChartCount``."""

    __tablename__ = "country_chart_counts"
    __table_args__ = (
        Index(
            "ix_country_chart_counts_head",
            "country",
            "level",
            "grain",
            "bucket",
            "item_id",
            sqlite_where=text("head"),
            postgresql_where=text("head"),
        ),
        Index(
            "ix_country_chart_counts_all_last",
            "country",
            "level",
            "last_us",
            sqlite_where=text("grain = 'all'"),
            postgresql_where=text("grain = 'all'"),
        ),
        {"sqlite_with_rowid": False, "postgresql_with": {"fillfactor": 75}},
    )

    country: Mapped[str] = mapped_column(String(2), primary_key=True, sort_order=-1)


class ChartSize(Base):
    """One bucket of one chart (site-wide: ``country`` ''): its plays, how many items have
    their latest play in it, and the threshold above which its rows are ``head``."""

    __tablename__ = "chart_sizes"
    __table_args__ = ({"sqlite_with_rowid": False},)

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    level: Mapped[Kind] = mapped_column(EnumText(Kind), primary_key=True)
    grain: Mapped[Grain] = mapped_column(EnumText(Grain, 8), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    plays: Mapped[int] = mapped_column(BigInteger, default=0)
    item_lasts: Mapped[int] = mapped_column(Integer, default=0)
    """Items whose latest play (so far) is in the bucket."""
    tau: Mapped[int] = mapped_column(Integer, default=0)
    """Every row of the bucket with more plays than this is ``head``. It only grows (with the
    bucket's plays: 1/``HEAD_SHARE`` of them), so a row that was not head when its count last
    changed is still at most ``tau``."""


class ChartPair(Base):
    """A listener's first and last counted play of a chart item (microseconds since 1970)."""

    __tablename__ = "chart_pairs"
    __table_args__ = (
        # The listeners whose last play of an item falls in a stretch of hours, counted from
        # the index: a chart to the present needs them for the edge of its first day.
        Index("ix_chart_pairs_level_item_last", "level", "item_id", "last_us"),
        {"sqlite_with_rowid": False, "postgresql_with": {"fillfactor": 80}},
    )

    level: Mapped[Kind] = mapped_column(EnumText(Kind), primary_key=True)
    item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_us: Mapped[int] = mapped_column(BigInteger)
    last_us: Mapped[int] = mapped_column(BigInteger)


class ChartState(Base):
    """How far the rollups have counted the play log: one row."""

    __tablename__ = "chart_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    counted_through: Mapped[int] = mapped_column(BigInteger)
    """The rollups count every play with an id up to this one; the plays after it (a few
    seconds' worth while the server folds) are counted from the log by each chart."""
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    """Moves on with every change of the rollups: a chart read in several statements checks
    it did not change meanwhile."""
    epoch: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Moves on with every change of the rollups other than a fold (deletions, merges, moves,
    rebuilds, loads): a chart the archiver computed across one is not kept."""


class ArchivedChart(Base):
    """A site-wide or geo chart of a closed window (last week, month, quarter, half-year or
    year in some time zone), computed ahead from the rollups by ``stats/archiver.py``.

    It is deleted in the transaction of any change that could alter it (a fold or deletion of
    plays in its window, a listener of its country moving, a merge or rebuild: see
    ``stats/archive.py``); a chart is served from it only while no play of its window waits to
    be folded."""

    __tablename__ = "chart_archive"
    __table_args__ = (Index("ix_chart_archive_end", "end_us"),)

    scope: Mapped[str] = mapped_column(String(2), primary_key=True)
    """A country, or '' for site-wide."""
    level: Mapped[Kind] = mapped_column(EnumText(Kind), primary_key=True)
    start_us: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    end_us: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
    entries: Mapped[list[list[int]]] = mapped_column(JSON)
    """[item_id, plays, listeners] of the top items, best first (ties by id)."""
    through: Mapped[int] = mapped_column(BigInteger)
    """The watermark of the rollups it was computed from."""


ROLLUP_TABLES: tuple[Table, ...] = tuple(
    cast(Table, model.__table__)
    for model in (ChartState, ChartCount, CountryChartCount, ChartSize, ChartPair, ArchivedChart)
)
"""What a fold writes: on a SQLite file these live in the rollups file (``storage/engine.py``)."""
