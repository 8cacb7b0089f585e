"""``tastegraph stats rebuild``: every rollup recomputed from the play log.

A year of plays at a time, newest first, so memory stays flat on a large log: each year's
pair-days give that year's rows (every bucket but ``all`` lies inside one year). Going back in
time, a listener's last play of an item is in the first year they show up in, which is when
``ChartPair`` has no row for them yet; their first play moves back with every year. The
``all`` rows and the items' last plays come from the finished pairs at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.ingest.models import Play
from tastegraph.stats import rollups
from tastegraph.stats.models import ChartCount, ChartPair, ChartSize, CountryChartCount, Grain
from tastegraph.storage.dialect import int_div


def rebuild(
    session: Session, top: int, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """Recount the rollups from the plays with ids up to ``top``; returns the (site,
    country) rows written. The caller holds the locks and moves the watermark."""
    for model in (ChartCount, CountryChartCount, ChartSize, ChartPair):
        session.execute(delete(model))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '256MB'"))
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
    count = func.count()
    return (
        session.scalar(select(count).select_from(ChartCount)) or 0,
        session.scalar(select(count).select_from(CountryChartCount)) or 0,
    )


def _year(moment: datetime) -> int:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).year


_PB = Table(
    "tastegraph_chart_pb",
    MetaData(),
    Column("country", String(2)),
    Column("level", String(16)),
    Column("item_id", BigInteger),
    Column("user_id", BigInteger),
    Column("bucket", Integer),
    Column("plays", Integer),
    Column("first_us", BigInteger),
    Column("last_us", BigInteger),
)
"""Pair-buckets of one grain: per listener, item and bucket, the plays and the first and last
of them. Each grain's are summed from the finer one's."""
_NEXT = _PB.to_metadata(MetaData(), name="tastegraph_chart_pb_next")
_LASTS = Table(
    "tastegraph_chart_lb",
    MetaData(),
    Column("country", String(2)),
    Column("level", String(16)),
    Column("item_id", BigInteger),
    Column("bucket", Integer),
    Column("lasts", Integer),
)
"""Per item and bucket of one grain, the listeners whose last play is in it."""
_NEXT_LASTS = _LASTS.to_metadata(MetaData(), name="tastegraph_chart_lb_next")
_FINER = (Grain.DAY, Grain.MONTH, Grain.QUARTER, Grain.HALF, Grain.YEAR)


def _count_year(session: Session, year: int, top: int) -> None:
    """The rows of every bucket inside ``year`` (every grain but ``all``), the lasts of the
    listeners whose last play is in it, and the pairs' spans so far. Grain by grain, each
    from the finer one: plays and lasts add up; listeners are counted from pair-buckets,
    which are themselves grouped from the finer pair-buckets."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    rollups._fill_pair_days(
        session, [Play.played_at >= start, Play.played_at < end, Play.id <= top]
    )
    rollups._fill_pairs(session, with_stored=True)
    np, pd = rollups._NP.c, rollups._PD.c
    rollups._temp(session, _PB, _LASTS)
    session.execute(_PB.insert().from_select([c.name for c in _PB.columns], select(rollups._PD)))
    # No later play: the last play is in this year.
    newest = rollups._day_of(np.last_us)
    keys = [np.country, np.level, np.item_id, newest]
    session.execute(
        _LASTS.insert().from_select(
            [c.name for c in _LASTS.columns],
            select(*keys, func.count()).where(np.old_last.is_(None)).group_by(*keys),
        )
    )
    del pd
    for grain in _FINER:
        if grain is not Grain.DAY:
            _coarser(session, _PB, _NEXT, grain, pairs=True)
            _coarser(session, _LASTS, _NEXT_LASTS, grain, pairs=False)
        rollups._temp(session, rollups._DELTA)
        pb, lb = _PB.c, _LASTS.c
        span = grain is not Grain.DAY
        keys = [pb.country, pb.level, pb.bucket, pb.item_id]
        rollups._insert_delta(
            session,
            select(
                pb.country,
                pb.level,
                literal(grain.value),
                pb.bucket,
                pb.item_id,
                func.sum(pb.plays),
                func.count(),
                literal(0),
                func.min(pb.first_us) if span else rollups.NO_US,
                func.max(pb.last_us) if span else rollups.NO_US,
            ).group_by(*keys),
        )
        rollups._insert_delta(
            session,
            select(
                lb.country,
                lb.level,
                literal(grain.value),
                lb.bucket,
                lb.item_id,
                literal(0),
                literal(0),
                lb.lasts,
                rollups.NO_US,
                rollups.NO_US,
            ),
        )
        rollups._analyze(session, rollups._DELTA)
        for model in rollups._MODELS:
            rows = rollups._grouped_delta(model)
            rollups._add_sizes(session, rows, model)
            rollups._upsert_rows(session, rows, model)
    pair = ChartPair.__table__
    session.execute(
        rollups._upsert(session, pair)
        .from_select(
            ["level", "item_id", "user_id", "first_us", "last_us"],
            select(np.level, np.item_id, np.user_id, np.first_us, np.last_us).where(literal(True)),
        )
        .on_conflict_do_update(
            index_elements=["level", "item_id", "user_id"],
            set_={"first_us": rollups._excluded(session, pair, "first_us")},
        )
    )


def _coarser(session: Session, table: Table, spare: Table, grain: Grain, *, pairs: bool) -> None:
    """Replace ``table``'s buckets (of the grain below ``grain``) by ``grain``'s, summing the
    rows that fall together (via ``spare``)."""
    c = table.c
    if grain is Grain.MONTH:
        days = rollups._DAYS.alias("days")
        bucket: Any = days.c.bucket
        source: Any = table.join(
            days, and_(days.c.day == c.bucket, days.c.grain == Grain.MONTH.value)
        )
    else:
        by = {Grain.QUARTER: 3, Grain.HALF: 2, Grain.YEAR: 2}[grain]
        bucket = int_div(c.bucket, by)
        if grain is Grain.YEAR:
            bucket = bucket + 1970
        source = table
    rollups._temp(session, spare)
    if pairs:
        keys = [c.country, c.level, c.item_id, c.user_id, bucket]
        rows = select(*keys, func.sum(c.plays), func.min(c.first_us), func.max(c.last_us))
    else:
        keys = [c.country, c.level, c.item_id, bucket]
        rows = select(*keys, func.sum(c.lasts))
    names = [col.name for col in spare.columns]
    session.execute(spare.insert().from_select(names, rows.select_from(source).group_by(*keys)))
    rollups._temp(session, table)
    session.execute(table.insert().from_select(names, select(spare)))


def _count_all(session: Session) -> None:
    """The ``all`` rows: plays from the year rows, listeners and first and last plays from
    the pairs; then every item's last play in ``item_lasts``."""
    p = ChartPair.__table__.c
    for model in rollups._MODELS:
        by_country = model is CountryChartCount
        rollups._temp(session, rollups._DELTA)
        country: Any = User.country if by_country else rollups.NO_COUNTRY
        from_pairs = (
            select(
                country,
                p.level,
                literal(Grain.ALL.value),
                literal(0),
                p.item_id,
                literal(0),
                func.count(),
                func.count(),
                func.min(p.first_us),
                func.max(p.last_us),
            )
            .select_from(ChartPair.__table__.join(User, User.id == p.user_id))
            .where(User.country.is_not(None) if by_country else literal(True))
            .group_by(*([User.country] if by_country else []), p.level, p.item_id)
        )
        rollups._insert_delta(session, from_pairs)
        t = model.__table__.c
        years = select(
            t.country if by_country else rollups.NO_COUNTRY,
            t.level,
            literal(Grain.ALL.value),
            literal(0),
            t.item_id,
            func.sum(t.plays),
            literal(0),
            literal(0),
            rollups.NO_US,
            rollups.NO_US,
        ).where(t.grain == Grain.YEAR.value)
        rollups._insert_delta(
            session, years.group_by(*([t.country] if by_country else []), t.level, t.item_id)
        )
        rollups._analyze(session, rollups._DELTA)
        rows = rollups._grouped_delta(model)
        rollups._add_sizes(session, rows, model)
        rollups._upsert_rows(session, rows, model)
        scope = (t.country if by_country else literal(rollups.SITE)).label("country")
        rollups._shift_item_lasts(
            session,
            select(scope, t.level, rollups.NO_US.label("old"), t.last_us.label("new")).where(
                t.grain == Grain.ALL.value
            ),
        )
