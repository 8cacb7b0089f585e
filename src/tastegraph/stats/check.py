"""``tastegraph stats check``: the rollups against a recount of the play log.

The recount is written independently of the fold: it maps plays to chart items with
``rollups.contributions`` (one branch per kind of target) and counts every column of every row
with plain aggregates (distinct listeners, first and last plays, each listener's last play),
then compares both ways. Slow on a large log, and meant to be: it trusts nothing the fold
keeps.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Select,
    and_,
    case,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.ingest.models import Play
from tastegraph.stats.models import SITE, ChartCount, ChartPair, ChartSize, CountryChartCount, Grain
from tastegraph.stats.rollups import GRAINS, bucket_sql, contributions
from tastegraph.storage.dialect import int_div, utc_micros

US_PER_DAY = 86_400_000_000


def differences(session: Session, through: int) -> int:
    """How many stored rows (of every table the rollups keep) differ from the recount of the
    plays with ids up to ``through``, both ways, plus the rows above their bucket's threshold
    that are not ``head``."""
    counted = [Play.id <= through]
    rows = contributions(counted).subquery("contribution")
    micros = utc_micros(rows.c.played_at)
    day = int_div(micros, US_PER_DAY)
    grains = union_all(*(select(literal(g.value).label("grain")) for g in GRAINS)).subquery(
        "grains"
    )
    bucket = bucket_sql(grains.c.grain, day)
    # Each listener's last play of each item.
    pairs = (
        select(
            rows.c.level,
            rows.c.item_id,
            rows.c.user_id,
            func.min(micros).label("first_us"),
            func.max(micros).label("last_us"),
        )
        .group_by(rows.c.level, rows.c.item_id, rows.c.user_id)
        .subquery("pairs")
    )
    different = 0
    for model in (ChartCount, CountryChartCount):
        by_country = model is CountryChartCount
        plays = _bucket_counts(rows, grains, bucket, micros, by_country)
        lasts = _last_counts(pairs, by_country)
        expected = _merged(plays, lasts, by_country)
        table = model.__table__
        names = ["country"] if by_country else []
        names += ["level", "grain", "bucket", "item_id", "plays", "listeners", "lasts"]
        day_grain = table.c.grain == Grain.DAY.value
        stored = select(
            *(table.c[n] for n in names),
            case((day_grain, null()), else_=table.c.first_us),
            case((day_grain, null()), else_=table.c.last_us),
        )
        different += _both_ways(session, expected, stored)
        different += _unmarked_heads(session, model)
    stored_pairs = select(
        ChartPair.level, ChartPair.item_id, ChartPair.user_id, ChartPair.first_us, ChartPair.last_us
    )
    different += _both_ways(session, select(pairs), stored_pairs)
    different += _both_ways(session, _sizes(rows, grains, bucket, pairs), _stored_sizes())
    return different


def _bucket_counts(rows: Any, grains: Any, bucket: Any, micros: Any, by_country: bool) -> Any:
    """(country,) level, grain, bucket, item: plays, distinct listeners, first and last play
    (none for days)."""
    keys: list[Any] = [
        rows.c.level,
        grains.c.grain.label("grain"),
        bucket.label("bucket"),
        rows.c.item_id,
    ]
    source = rows.join(grains, true())
    if by_country:
        source = source.join(User, User.id == rows.c.user_id)
        keys.insert(0, User.country.label("country"))
    span = grains.c.grain != Grain.DAY.value
    stmt = select(
        *keys,
        func.count().label("plays"),
        func.count(rows.c.user_id.distinct()).label("listeners"),
        func.min(case((span, micros))).label("first_us"),
        func.max(case((span, micros))).label("last_us"),
    ).select_from(source)
    if by_country:
        stmt = stmt.where(User.country.is_not(None))
    return stmt.group_by(*keys).subquery("bucket_counts")


def _last_counts(pairs: Any, by_country: bool) -> Any:
    """(country,) level, grain, bucket, item: listeners whose last play is in the bucket."""
    grains = union_all(*(select(literal(g.value).label("grain")) for g in GRAINS)).subquery(
        "last_grains"
    )
    bucket = bucket_sql(grains.c.grain, int_div(pairs.c.last_us, US_PER_DAY))
    keys: list[Any] = [
        pairs.c.level,
        grains.c.grain.label("grain"),
        bucket.label("bucket"),
        pairs.c.item_id,
    ]
    source = pairs.join(grains, true())
    if by_country:
        source = source.join(User, User.id == pairs.c.user_id)
        keys.insert(0, User.country.label("country"))
    stmt = select(*keys, func.count().label("lasts")).select_from(source)
    if by_country:
        stmt = stmt.where(User.country.is_not(None))
    return stmt.group_by(*keys).subquery("last_counts")


def _merged(plays: Any, lasts: Any, by_country: bool) -> Select[Any]:
    names = ["country"] if by_country else []
    names += ["level", "grain", "bucket", "item_id"]
    on = and_(*(lasts.c[n] == plays.c[n] for n in names))
    return select(
        *(plays.c[n] for n in names),
        plays.c.plays,
        plays.c.listeners,
        func.coalesce(lasts.c.lasts, 0),
        plays.c.first_us,
        plays.c.last_us,
    ).select_from(plays.outerjoin(lasts, on))


def _sizes(rows: Any, grains: Any, bucket: Any, pairs: Any) -> Select[Any]:
    """country ('' site-wide), level, grain, bucket: plays and items whose last play is in
    the bucket; only buckets where either is not zero."""
    per_scope = []
    for by_country in (False, True):
        keys: list[Any] = [rows.c.level, grains.c.grain, bucket.label("bucket")]
        source = rows.join(grains, true())
        scope: Any = literal(SITE)
        if by_country:
            source = source.join(User, User.id == rows.c.user_id)
            scope = User.country
        plays = (
            select(
                scope.label("country"), *keys, func.count().label("plays"), literal(0).label("n")
            )
            .select_from(source)
            .where(User.country.is_not(None) if by_country else true())
            .group_by(scope, *keys)
        )
        items = _item_lasts(pairs, by_country)
        per_scope += [plays, items]
    parts = union_all(*per_scope).subquery("parts")
    keys = [parts.c.country, parts.c.level, parts.c.grain, parts.c.bucket]
    return select(*keys, func.sum(parts.c.plays), func.sum(parts.c.n)).group_by(*keys)


def _item_lasts(pairs: Any, by_country: bool) -> Select[Any]:
    """Per bucket, the items whose last play (in the scope) is in it."""
    scope: Any = literal(SITE)
    source: Any = pairs
    if by_country:
        source = pairs.join(User, User.id == pairs.c.user_id)
        scope = User.country
    items = (
        select(
            scope.label("country"),
            pairs.c.level,
            pairs.c.item_id,
            func.max(pairs.c.last_us).label("last_us"),
        )
        .select_from(source)
        .where(User.country.is_not(None) if by_country else true())
        .group_by(scope, pairs.c.level, pairs.c.item_id)
        .subquery("items")
    )
    grains = union_all(*(select(literal(g.value).label("grain")) for g in GRAINS)).subquery(
        "item_grains"
    )
    bucket = bucket_sql(grains.c.grain, int_div(items.c.last_us, US_PER_DAY))
    keys = [items.c.country, items.c.level, grains.c.grain, bucket.label("bucket")]
    return (
        select(*keys, literal(0).label("plays"), func.count().label("n"))
        .select_from(items.join(grains, true()))
        .group_by(*keys)
    )


def _stored_sizes() -> Select[Any]:
    s = ChartSize.__table__.c
    return select(s.country, s.level, s.grain, s.bucket, s.plays, s.item_lasts).where(
        (s.plays != 0) | (s.item_lasts != 0)
    )


def _both_ways(session: Session, expected: Any, stored: Any) -> int:
    different = 0
    for left, right in ((expected, stored), (stored, expected)):
        missing = left.except_(right).subquery()
        different += session.scalar(select(func.count()).select_from(missing)) or 0
    return different


def _unmarked_heads(session: Session, model: type[ChartCount] | type[CountryChartCount]) -> int:
    """Rows with more plays than their bucket's ``tau`` that are not ``head``."""
    table = model.__table__
    sizes = ChartSize.__table__.c
    scope = table.c.country if model is CountryChartCount else literal(SITE)
    on = and_(
        sizes.country == scope,
        sizes.level == table.c.level,
        sizes.grain == table.c.grain,
        sizes.bucket == table.c.bucket,
    )
    tau = func.coalesce(sizes.tau, 0)
    stmt = (
        select(func.count())
        .select_from(table.outerjoin(ChartSize.__table__, on))
        .where(table.c.plays > tau, ~table.c.head)
    )
    return session.scalar(stmt) or 0
