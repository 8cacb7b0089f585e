"""Chart rollups: plays per item and chart level in UTC days, months and years, and overall.

They count the play log (``ingest.models.Play``) up to a watermark, ``ChartState``: plays
after it are counted raw by every chart until a fold adds them in. Deletions, merges and moves
of counted plays adjust them in the same transaction (see ``stats/rollups.py`` and
docs/stats.md); ``tastegraph stats rebuild`` recomputes them from the log. Incognito plays are
never in them.

A play counts once at every level ``stats/levels.py`` gives it (a track play for the track,
its album and each main artist), in four grains: its UTC day, month and year, and ``all``.
Site-wide charts read ``chart_counts``; geo charts read ``country_chart_counts``, by the
country the listener has now (a user who moves takes their plays along).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from tastegraph.catalog.kinds import Kind
from tastegraph.storage.base import Base, EnumText


class Grain(StrEnum):
    """How much time one rollup row covers. Buckets are numbered in UTC: days since
    1970-01-01, months since January 1970, the year itself, and 0 for ``all``."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    ALL = "all"


class ChartCount(Base):
    """Everyone's plays of an item at a chart level in one bucket."""

    __tablename__ = "chart_counts"
    # SQLite keeps the rows in the primary key's tree (no rowid): one lookup per upsert.
    # PostgreSQL leaves room in each page, so a count updated in place touches no index.
    __table_args__ = ({"sqlite_with_rowid": False, "postgresql_with": {"fillfactor": 75}},)

    level: Mapped[Kind] = mapped_column(EnumText(Kind), primary_key=True)
    grain: Mapped[Grain] = mapped_column(EnumText(Grain, 8), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """The charted item (a track, an album, an artist...); no foreign key: derived data."""
    plays: Mapped[int] = mapped_column(Integer)


class CountryChartCount(Base):
    """The plays of the listeners of one country, as ``ChartCount``."""

    __tablename__ = "country_chart_counts"
    __table_args__ = ({"sqlite_with_rowid": False, "postgresql_with": {"fillfactor": 75}},)

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    level: Mapped[Kind] = mapped_column(EnumText(Kind), primary_key=True)
    grain: Mapped[Grain] = mapped_column(EnumText(Grain, 8), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plays: Mapped[int] = mapped_column(Integer)


class ChartState(Base):
    """How far the rollups have counted the play log: one row."""

    __tablename__ = "chart_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    counted_through: Mapped[int] = mapped_column(BigInteger)
    """The rollups count every play with an id up to this one; the plays after it (a few
    seconds' worth while the server folds) are counted from the log by each chart."""
