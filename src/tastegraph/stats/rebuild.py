"""``tastegraph stats rebuild``: every rollup recomputed from the play log.

A year of plays at a time, newest first, so memory stays flat on a large log: each year's
pair-days give that year's rows (every bucket but ``all`` lies inside one year), grain by
grain, each grain's pair-buckets grouped from the finer grain's. Going back in time, a
listener's last play of an item is in the first year they show up in, which is when
``ChartPair`` has no row for them yet; their first play moves back with every year. The
``all`` rows and the items' last plays come from the finished pairs at the end. Bucket
totals add up, so only the days' are counted from the plays; the rows are inserted knowing
their bucket's threshold (``head``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, DropIndex

from tastegraph.accounts.models import User
from tastegraph.ingest.models import Play
from tastegraph.stats import rollups
from tastegraph.stats.models import ChartCount, ChartPair, ChartSize, CountryChartCount, Grain
from tastegraph.storage.dialect import int_div


def _table(model: Any) -> Table:
    """A mapped class's table (typed as a plain FromClause by SQLAlchemy's stubs)."""
    return cast(Table, model.__table__)


_TEMP = MetaData()
_PB = Table(
    "tastegraph_chart_pb",
    _TEMP,
    Column("country", String(2)),
    Column("level", String(16)),
    Column("item_id", BigInteger),
    Column("user_id", BigInteger),
    Column("bucket", Integer),
    Column("plays", Integer),
    Column("first_us", BigInteger),
    Column("last_us", BigInteger),
    Column("is_last", SmallInteger),
)
"""Pair-buckets of one grain: per listener, item and bucket, the plays, the first and last
of them, and whether the listener's last play of the item (of all years) is among them."""
_NEXT = _PB.to_metadata(_TEMP, name="tastegraph_chart_pb_next")
_FINER = (Grain.DAY, Grain.MONTH, Grain.QUARTER, Grain.HALF, Grain.YEAR)
_SIZE_NAMES = ["country", "level", "grain", "bucket", "plays", "item_lasts", "tau"]


def rebuild(
    session: Session, top: int, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """Recount the rollups from the plays with ids up to ``top``; returns the (site,
    country) rows written. The caller holds the locks and moves the watermark."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    # A first build (nothing to keep readable meanwhile): PostgreSQL builds the tables'
    # indexes once at the end, from sorted rows, rather than row by row.
    unindexed = postgresql and session.scalar(select(ChartCount.item_id).limit(1)) is None
    for model in (ChartCount, CountryChartCount, ChartSize, ChartPair):
        session.execute(delete(model))
    if postgresql:
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    if unindexed:
        _drop_indexes(session)
    first, last = session.execute(
        select(func.min(Play.played_at), func.max(Play.played_at)).where(Play.id <= top)
    ).one()
    if first is not None:
        years = list(range(_year(last), _year(first) - 1, -1))
        for done, year in enumerate(years, start=1):
            _count_year(session, year, top)
            if progress is not None:
                progress(done, len(years))
        _count_all(session)
    if unindexed:
        _create_indexes(session)
    count = func.count()
    return (
        session.scalar(select(count).select_from(ChartCount)) or 0,
        session.scalar(select(count).select_from(CountryChartCount)) or 0,
    )


def _drop_indexes(session: Session) -> None:
    for model in rollups._MODELS:
        table: Table = model.__table__  # type: ignore[assignment]
        for index in table.indexes:
            session.execute(DropIndex(index))
        session.execute(text(f"ALTER TABLE {table.name} DROP CONSTRAINT pk_{table.name}"))


def _create_indexes(session: Session) -> None:
    for model in rollups._MODELS:
        table: Table = model.__table__  # type: ignore[assignment]
        keys = ", ".join(c.name for c in table.primary_key.columns)
        session.execute(
            text(f"ALTER TABLE {table.name} ADD CONSTRAINT pk_{table.name} PRIMARY KEY ({keys})")
        )
        for index in table.indexes:
            session.execute(CreateIndex(index))
        session.execute(text(f"ANALYZE {table.name}"))


def _year(moment: datetime) -> int:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).year


def _count_year(session: Session, year: int, top: int) -> None:
    """The rows of every bucket inside ``year`` (every grain but ``all``) and the pairs'
    spans so far."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    rollups._fill_pair_days(
        session, [Play.played_at >= start, Play.played_at < end, Play.id <= top]
    )
    rollups._fill_pairs(session, with_stored=True)
    np, pd = rollups._NP.c, rollups._PD.c
    # The pair-day holding each pair's last play, unless a later year has one.
    pair = and_(np.level == pd.level, np.item_id == pd.item_id, np.user_id == pd.user_id)
    is_last = and_(np.old_last.is_(None), np.last_us == pd.last_us)
    rollups._temp(session, _PB)
    session.execute(
        _PB.insert().from_select(
            [c.name for c in _PB.columns],
            select(
                pd.country,
                pd.level,
                pd.item_id,
                pd.user_id,
                pd.day,
                pd.plays,
                pd.first_us,
                pd.last_us,
                case((is_last, 1), else_=0),
            ).select_from(rollups._PD.join(rollups._NP, pair)),
        )
    )
    rollups._analyze(session, _PB)
    _day_sizes(session)
    for grain in _FINER:
        if grain is not Grain.DAY:
            _coarser(session, grain)
            _coarser_sizes(session, grain, year)
        for model in rollups._MODELS:
            _insert_rows(session, model, grain)
    pairs = _table(ChartPair)
    session.execute(
        rollups._upsert(session, pairs)
        .from_select(
            ["level", "item_id", "user_id", "first_us", "last_us"],
            select(np.level, np.item_id, np.user_id, np.first_us, np.last_us).where(literal(True)),
        )
        .on_conflict_do_update(
            index_elements=["level", "item_id", "user_id"],
            set_={"first_us": rollups._excluded(session, pairs, "first_us")},
        )
    )


def _day_sizes(session: Session) -> None:
    """The days' totals and thresholds, site-wide and per country, from the pair-days."""
    pb = _PB.c
    for by_country in (False, True):
        scope: Any = pb.country if by_country else literal(rollups.SITE)
        plays = func.sum(pb.plays)
        stmt = (
            select(
                scope,
                pb.level,
                literal(Grain.DAY.value),
                pb.bucket,
                plays,
                literal(0),
                int_div(plays, rollups.HEAD_SHARE),
            )
            .where(pb.country.is_not(None) if by_country else literal(True))
            .group_by(*([pb.country] if by_country else []), pb.level, pb.bucket)
        )
        session.execute(_table(ChartSize).insert().from_select(_SIZE_NAMES, stmt))


def _coarser_sizes(session: Session, grain: Grain, year: int) -> None:
    """A grain's totals summed from the finer grain's (of this year)."""
    s = _table(ChartSize).c
    finer = _FINER[_FINER.index(grain) - 1]
    days = rollups._DAYS.alias("size_days")
    bucket = _coarser_bucket(grain, s.bucket, days)
    low, high = _year_buckets(finer, year)
    source: Any = _table(ChartSize)
    if grain is Grain.MONTH:
        source = source.join(days, and_(days.c.day == s.bucket, days.c.grain == Grain.MONTH.value))
        bucket = days.c.bucket
    plays = func.sum(s.plays)
    stmt = (
        select(
            s.country,
            s.level,
            literal(grain.value),
            bucket,
            plays,
            literal(0),
            int_div(plays, rollups.HEAD_SHARE),
        )
        .select_from(source)
        .where(s.grain == finer.value, s.bucket >= low, s.bucket <= high)
        .group_by(s.country, s.level, bucket)
    )
    session.execute(_table(ChartSize).insert().from_select(_SIZE_NAMES, stmt))


def _year_buckets(grain: Grain, year: int) -> tuple[int, int]:
    """The first and last bucket of a grain inside a year."""
    from tastegraph.stats.spans import bucket_of, year_first_day

    first, last = year_first_day(year), year_first_day(year + 1) - 1
    return bucket_of(grain, first), bucket_of(grain, last)


def _coarser_bucket(grain: Grain, bucket: Any, days: Any) -> Any:
    if grain is Grain.MONTH:
        return days.c.bucket
    by = {Grain.QUARTER: 3, Grain.HALF: 2, Grain.YEAR: 2}[grain]
    coarser = int_div(bucket, by)
    return coarser + 1970 if grain is Grain.YEAR else coarser


def _coarser(session: Session, grain: Grain) -> None:
    """Replace ``_PB``'s buckets (of the grain below ``grain``) by ``grain``'s."""
    c = _PB.c
    days = rollups._DAYS.alias("days")
    bucket = _coarser_bucket(grain, c.bucket, days)
    source: Any = _PB
    if grain is Grain.MONTH:
        source = _PB.join(days, and_(days.c.day == c.bucket, days.c.grain == Grain.MONTH.value))
    keys = [c.country, c.level, c.item_id, c.user_id, bucket]
    rows = select(
        *keys,
        func.sum(c.plays),
        func.min(c.first_us),
        func.max(c.last_us),
        func.max(c.is_last),
    ).select_from(source)
    names = [col.name for col in _NEXT.columns]
    rollups._temp(session, _NEXT)
    session.execute(_NEXT.insert().from_select(names, rows.group_by(*keys)))
    rollups._temp(session, _PB)
    session.execute(_PB.insert().from_select(names, select(_NEXT)))
    rollups._analyze(session, _PB)


def _insert_rows(session: Session, model: rollups.Model, grain: Grain) -> None:
    """One grain's rows of one table, from ``_PB``: every pair-bucket is one listener."""
    pb = _PB.c
    s = _table(ChartSize).c
    by_country = model is CountryChartCount
    scope: Any = pb.country if by_country else literal(rollups.SITE)
    keys: list[Any] = [pb.level, pb.bucket, pb.item_id]
    if by_country:
        keys.insert(0, pb.country)
    span = grain is not Grain.DAY
    plays = func.sum(pb.plays)
    sizes = and_(
        s.country == scope, s.level == pb.level, s.grain == grain.value, s.bucket == pb.bucket
    )
    rows = (
        select(
            *([pb.country] if by_country else []),
            pb.level,
            literal(grain.value),
            pb.bucket,
            pb.item_id,
            plays,
            func.count(),
            func.sum(pb.is_last),
            func.min(pb.first_us) if span else rollups.NO_US,
            func.max(pb.last_us) if span else rollups.NO_US,
            plays > func.max(s.tau),
        )
        .select_from(_PB.join(_table(ChartSize), sizes))
        .where(pb.country.is_not(None) if by_country else literal(True))
        .group_by(*keys)
        .order_by(*keys)
    )
    names = rollups._key_names(model)
    names += ["plays", "listeners", "lasts", "first_us", "last_us", "head"]
    session.execute(_table(model).insert().from_select(names, rows))


def _count_all(session: Session) -> None:
    """The ``all`` rows: plays from the year rows, listeners and first and last plays from
    the pairs; the ``all`` totals from the years'; then every item's last play in
    ``item_lasts``."""
    s = _table(ChartSize).c
    plays = func.sum(s.plays)
    session.execute(
        _table(ChartSize)
        .insert()
        .from_select(
            _SIZE_NAMES,
            select(
                s.country,
                s.level,
                literal(Grain.ALL.value),
                literal(0),
                plays,
                literal(0),
                int_div(plays, rollups.HEAD_SHARE),
            )
            .where(s.grain == Grain.YEAR.value)
            .group_by(s.country, s.level),
        )
    )
    p = _table(ChartPair).c
    for model in rollups._MODELS:
        by_country = model is CountryChartCount
        t = _table(model).c
        pairs = (
            select(
                *([User.country.label("country")] if by_country else []),
                p.level,
                p.item_id,
                func.count().label("listeners"),
                func.min(p.first_us).label("first_us"),
                func.max(p.last_us).label("last_us"),
            )
            .select_from(_table(ChartPair).join(User, User.id == p.user_id))
            .where(User.country.is_not(None) if by_country else literal(True))
            .group_by(*([User.country] if by_country else []), p.level, p.item_id)
            .subquery("pairs")
        )
        years = (
            select(
                *([t.country.label("country")] if by_country else []),
                t.level,
                t.item_id,
                func.sum(t.plays).label("plays"),
            )
            .where(t.grain == Grain.YEAR.value)
            .group_by(*([t.country] if by_country else []), t.level, t.item_id)
            .subquery("years")
        )
        scope: Any = pairs.c.country if by_country else literal(rollups.SITE)
        same = [years.c.level == pairs.c.level, years.c.item_id == pairs.c.item_id]
        if by_country:
            same.append(years.c.country == pairs.c.country)
        sizes = and_(
            s.country == scope, s.level == pairs.c.level, s.grain == Grain.ALL.value, s.bucket == 0
        )
        rows = select(
            *([pairs.c.country] if by_country else []),
            pairs.c.level,
            literal(Grain.ALL.value),
            literal(0),
            pairs.c.item_id,
            years.c.plays,
            pairs.c.listeners,
            pairs.c.listeners,
            pairs.c.first_us,
            pairs.c.last_us,
            years.c.plays > s.tau,
        ).select_from(pairs.join(years, and_(*same)).join(_table(ChartSize), sizes))
        names = rollups._key_names(model)
        names += ["plays", "listeners", "lasts", "first_us", "last_us", "head"]
        session.execute(_table(model).insert().from_select(names, rows))
        row_scope = (t.country if by_country else literal(rollups.SITE)).label("country")
        rollups._shift_item_lasts(
            session,
            select(row_scope, t.level, rollups.NO_US.label("old"), t.last_us.label("new")).where(
                t.grain == Grain.ALL.value
            ),
        )
