"""``tastegraph stats rebuild``: every rollup recomputed from the play log.

A year of plays at a time, newest first, so memory stays flat on a large log: each year's
pair-days (per listener, item and day) give that year's rows (every bucket but ``all`` lies
inside one year). One pass over them, sorted by listener and item, marks the pair-days that
open a month, quarter, half-year or year for their listener and the one holding their last
play; after that no grain looks at listeners again: the days' rows per country are grouped
from the pair-days, each coarser grain's from the finer grain's, and the site-wide rows from
the country rows (a listener has one country). Going back in time, a listener's last play
of an item is in the first year they show up in, which is when ``ChartPair`` has no row for
them yet; their first play moves back with every year. The ``all`` rows and the items' last
plays come from the finished pairs at the end. The rows are inserted knowing their bucket's
threshold (``head``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, DropIndex

from tastegraph.accounts.models import User
from tastegraph.ingest.models import Play
from tastegraph.stats import rollups
from tastegraph.stats.models import SITE, ChartCount, ChartPair, ChartSize, CountryChartCount, Grain
from tastegraph.storage.dialect import int_div


def _table(model: Any) -> Table:
    """A mapped class's table (typed as a plain FromClause by SQLAlchemy's stubs)."""
    return cast(Table, model.__table__)


_TEMP = MetaData()
_CAL = Table(
    "tastegraph_chart_cal",
    _TEMP,
    Column("day", Integer, primary_key=True),
    Column("month", Integer),
    Column("quarter", Integer),
    Column("half", Integer),
    Column("year", Integer),
)
"""Each day's month, quarter, half-year and year bucket in one row (``rollups._DAYS`` has
one row per grain), so a pair-day and the one before it are compared with one join each."""
_BUCKETS = ("day", "month", "quarter", "half", "year")
"""``_CAL``'s bucket columns, finest first: a grain's bucket is its column (``Grain``'s
value)."""


def _agg_table(name: str) -> Table:
    return Table(
        name,
        _TEMP,
        Column("country", String(2)),
        Column("level", String(16)),
        Column("item_id", BigInteger),
        *(Column(b, Integer) for b in _BUCKETS),
        Column("plays", Integer),
        *(Column(f"l_{b}", Integer) for b in _BUCKETS),
        Column("lasts", Integer),
        Column("first_us", BigInteger),
        Column("last_us", BigInteger),
    )


_AGG = _agg_table("tastegraph_chart_agg")
_AGG_NEXT = _agg_table("tastegraph_chart_agg_next")
"""Per listener country, chart item and bucket of one grain (its column set, the finer ones
NULL): the plays, and for the bucket's grain and every coarser one how many of its
listeners have their first pair-day of that coarser bucket in it (``l_month`` summed over a
month's days is the month's distinct listeners), how many have their last play of the item
(of all years) in it, and the first and last play. Every grain is grouped from the finer
grain's rows, never from the listeners again."""
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
    spans so far. One pass over the year's pair-days (sorted by pair) marks which of them
    open a month, quarter, half-year or year for their listener; from then on every grain is
    a GROUP BY of the finer grain's rows per country, and the site-wide rows one of the
    country rows (a listener has one country, so listeners add up across countries)."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    rollups._fill_pair_days(
        session, [Play.played_at >= start, Play.played_at < end, Play.id <= top]
    )
    rollups._fill_pairs(session, with_stored=True)
    _fill_calendar(session)
    _day_rows(session)
    source, spare = _AGG, _AGG_NEXT
    for grain in _FINER:
        if grain is not Grain.DAY:
            _coarser(session, source, spare, grain)
            source, spare = spare, source
        _sizes(session, source, grain)
        for model in rollups._MODELS:
            _insert_rows(session, source, model, grain)
    np = rollups._NP.c
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


def _fill_calendar(session: Session) -> None:
    """``_CAL`` rows for the days ``rollups._DAYS`` knows and ``_CAL`` does not yet."""
    rollups._create_temp(session, _CAL)
    d = rollups._DAYS.c
    buckets = [
        func.max(case((d.grain == grain, d.bucket), else_=None)).label(grain)
        for grain in _BUCKETS[1:]
    ]
    rows = select(d.day, *buckets).where(d.day.not_in(select(_CAL.c.day))).group_by(d.day)
    session.execute(_CAL.insert().from_select(["day", *_BUCKETS[1:]], rows))
    rollups._analyze(session, _CAL)


def _day_rows(session: Session) -> None:
    """``_AGG`` from the year's pair-days: per country, item and day the plays, the
    listeners (one per pair-day), how many open a coarser bucket for their listener (the
    listener's previous pair-day of the item this year is in another one), and how many hold
    their listener's last play of the item (``_NP``: none in a later year)."""
    pd, np = rollups._PD.c, rollups._NP.c
    previous = (
        func.lag(pd.day)
        .over(partition_by=[pd.level, pd.item_id, pd.user_id], order_by=pd.day)
        .label("previous")
    )
    ordered = select(
        pd.country,
        pd.level,
        pd.item_id,
        pd.day,
        pd.plays,
        pd.first_us,
        pd.last_us,
        previous,
    ).subquery("ordered")
    here, before = _CAL.alias("here"), _CAL.alias("before")
    o = ordered.c
    opens = [
        case((before.c[b].is_(None), 1), (before.c[b] != here.c[b], 1), else_=0).label(f"l_{b}")
        for b in _BUCKETS[1:]
    ]
    days = select(
        o.country,
        o.level,
        o.item_id,
        *(here.c[b] for b in _BUCKETS),
        o.plays,
        literal(1).label("l_day"),
        *opens,
        literal(0).label("lasts"),
        o.first_us,
        o.last_us,
    ).select_from(
        ordered.join(here, here.c.day == o.day).outerjoin(before, before.c.day == o.previous)
    )
    last_day = _CAL.alias("last_day")
    zero = [literal(0).label(f"l_{b}") for b in _BUCKETS]
    lasts = (
        select(
            np.country,
            np.level,
            np.item_id,
            *(last_day.c[b] for b in _BUCKETS),
            literal(0).label("plays"),
            *zero,
            literal(1).label("lasts"),
            rollups.NO_US.label("first_us"),
            rollups.NO_US.label("last_us"),
        )
        .select_from(rollups._NP.join(last_day, last_day.c.day == rollups._day_of(np.last_us)))
        .where(np.old_last.is_(None))
    )
    both = union_all(days, lasts).subquery("both")
    _group_into(session, both, _AGG, _BUCKETS)


def _coarser(session: Session, source: Table, target: Table, grain: Grain) -> None:
    """``target``: ``source``'s rows (of the grain finer than ``grain``) grouped by
    ``grain``'s bucket."""
    keep = _BUCKETS[_BUCKETS.index(grain.value) :]
    _group_into(session, source.select().subquery("finer"), target, keep)


def _group_into(session: Session, rows: Any, target: Table, buckets: Sequence[str]) -> None:
    """``target`` (emptied) := ``rows`` summed per country, level, item and ``buckets``."""
    rollups._temp(session, target)
    r = rows.c
    keys = [r.country, r.level, r.item_id, *(r[b] for b in buckets)]
    sums = [func.sum(r[f"l_{b}"]) for b in buckets]
    stmt = select(
        *keys,
        func.sum(r.plays),
        *sums,
        func.sum(r.lasts),
        func.min(r.first_us),
        func.max(r.last_us),
    ).group_by(*keys)
    names = [
        "country",
        "level",
        "item_id",
        *buckets,
        "plays",
        *(f"l_{b}" for b in buckets),
        "lasts",
        "first_us",
        "last_us",
    ]
    session.execute(target.insert().from_select(names, stmt))
    rollups._analyze(session, target)


def _sizes(session: Session, source: Table, grain: Grain) -> None:
    """A grain's bucket totals and thresholds, per country and site-wide."""
    a = source.c
    bucket = a[grain.value]
    for by_country in (True, False):
        scope: Any = a.country if by_country else literal(SITE)
        plays = func.sum(a.plays)
        stmt = (
            select(
                scope,
                a.level,
                literal(grain.value),
                bucket,
                plays,
                literal(0),
                int_div(plays, rollups.HEAD_SHARE),
            )
            .where(a.country.is_not(None) if by_country else literal(True))
            .group_by(*([a.country] if by_country else []), a.level, bucket)
        )
        session.execute(_table(ChartSize).insert().from_select(_SIZE_NAMES, stmt))


def _insert_rows(session: Session, source: Table, model: rollups.Model, grain: Grain) -> None:
    """One grain's rows of one table from ``source``: a country row is a row of ``source``;
    a site-wide row sums the countries'."""
    a = source.c
    s = _table(ChartSize).c
    by_country = model is CountryChartCount
    bucket = a[grain.value]
    span = grain is not Grain.DAY
    names = rollups._key_names(model)
    names += ["plays", "listeners", "lasts", "first_us", "last_us", "head"]
    if by_country:
        sizes = and_(
            s.country == a.country, s.level == a.level, s.grain == grain.value, s.bucket == bucket
        )
        keys: list[Any] = [a.country, a.level, bucket, a.item_id]
        rows = (
            select(
                a.country,
                a.level,
                literal(grain.value),
                bucket,
                a.item_id,
                a.plays,
                a[f"l_{grain.value}"],
                a.lasts,
                a.first_us if span else rollups.NO_US,
                a.last_us if span else rollups.NO_US,
                a.plays > s.tau,
            )
            .select_from(source.join(_table(ChartSize), sizes))
            .where(a.country.is_not(None))
        )
    else:
        sizes = and_(
            s.country == SITE,
            s.level == a.level,
            s.grain == grain.value,
            s.bucket == bucket,
        )
        keys = [a.level, bucket, a.item_id]
        plays = func.sum(a.plays)
        rows = (
            select(
                a.level,
                literal(grain.value),
                bucket,
                a.item_id,
                plays,
                func.sum(a[f"l_{grain.value}"]),
                func.sum(a.lasts),
                func.min(a.first_us) if span else rollups.NO_US,
                func.max(a.last_us) if span else rollups.NO_US,
                plays > func.max(s.tau),
            )
            .select_from(source.join(_table(ChartSize), sizes))
            .group_by(*keys)
        )
    # In key order, so a bucket's rows of a chart lie together on disk: a chart of one
    # country reads a few pages per bucket, not one page per row among every other
    # country's (and rows go into live indexes in one walk).
    rows = rows.order_by(*keys)
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
        scope: Any = pairs.c.country if by_country else literal(SITE)
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
        row_scope = (t.country if by_country else literal(SITE)).label("country")
        rollups._shift_item_lasts(
            session,
            select(row_scope, t.level, rollups.NO_US.label("old"), t.last_us.label("new")).where(
                t.grain == Grain.ALL.value
            ),
        )
