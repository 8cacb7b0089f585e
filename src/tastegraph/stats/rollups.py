"""Keeping the chart rollups (``stats/models.py``) equal to the play log.

The rollups count every play up to a watermark (``ChartState.counted_through``, a play id);
charts count the plays after it raw. So a play is in the charts the moment its transaction
commits, and recording one costs the write path nothing here: ``fold`` (the server runs it
every second, ``tastegraph import`` and the demo when they finish) adds the new plays in bulk
and moves the watermark, in one transaction.

What changes counted plays is applied in the transaction that makes the change:

* plays deleted (a user's delete, a cancelled check-in): subtracted before the delete;
* the catalogue reshaped (a merge; a track learning its album): the counted plays whose chart
  items may change are subtracted before and added back after, so they follow the new shape;
* a user changing country: their counted plays move from one country's rows to the other's.

A contribution is what ``stats/levels.py`` says a play counts for: the played item; its album,
season or competition; its show or outlet; its main artists or teams. Folds and rebuilds count
the plays per country, level, item and UTC day into a temporary table in one pass
(``_counted_plays``) and add every grain up from it; ``contributions`` writes the same as one
branch per kind of target, for the recount ``tastegraph stats check`` compares with.

On PostgreSQL two advisory locks order this: writers of plays hold ``_WRITE`` shared, and a
fold takes it exclusively for a moment, so every play up to the id it reads has committed; the
fold and the changes above hold ``_FOLD``, so none of them counts a play another is moving.
SQLite has one writer at a time and needs neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Date,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import CONSUMABLE, CreditRole, Kind
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.ingest.models import Play
from tastegraph.stats.models import ChartCount, ChartState, CountryChartCount, Grain
from tastegraph.storage.database import Database
from tastegraph.storage.dialect import (
    date_day,
    date_month,
    date_year,
    insert_adding,
    no_index,
    utc_date,
    utc_day,
    utc_month,
    utc_year,
)

GRAINS = (Grain.DAY, Grain.MONTH, Grain.YEAR, Grain.ALL)
FIRST_YEAR = 1970
"""Month buckets count from January of this year."""
FOLD_CHUNK = 100_000
"""Play ids folded per transaction."""

_CONTAINERS = (Kind.ALBUM, Kind.SEASON, Kind.COMPETITION)
_CHUNK = 2000
"""Item ids per statement (SQLite takes at most 32,766 parameters)."""
_WRITE = 0x74670001
_FOLD = 0x74670002


def _any_of(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    return no_index(column).in_([str(v) for v in values])


def contributions(where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """(level, item_id, played_at, user_id): one row per chart item each play matching
    ``where`` counts for. Mirrors ``levels.target_for`` for every level at once."""
    played = aliased(Item, name="played")
    parent = aliased(Item, name="parent")
    grand = aliased(Item, name="grand")
    credit = aliased(ItemCredit, name="credit")
    when = (Play.played_at, Play.user_id)
    own = (
        select(played.kind.label("level"), Play.item_id.label("item_id"), *when)
        .join(played, played.id == Play.item_id)
        .where(_any_of(played.kind, list(CONSUMABLE)), *where)
    )
    container = (
        select(parent.kind, parent.id, *when)
        .join(played, played.id == Play.item_id)
        .join(parent, parent.id == played.parent_id)
        .where(_any_of(parent.kind, _CONTAINERS), *where)
    )
    # A show or outlet is the parent, or the grandparent above a season or programme.
    tops = (Kind.SHOW, Kind.OUTLET)
    parent_kind, grand_kind = no_index(parent.kind), no_index(grand.kind)
    via_middle = or_(
        and_(parent_kind == Kind.SEASON.value, grand_kind == Kind.SHOW.value),
        and_(parent_kind == Kind.PROGRAMME.value, grand_kind == Kind.OUTLET.value),
    )
    on_top = parent_kind.in_([k.value for k in tops])
    top = (
        select(
            case((on_top, parent.kind), (via_middle, grand.kind)),
            case((on_top, parent.id), (via_middle, grand.id)),
            *when,
        )
        .join(played, played.id == Play.item_id)
        .join(parent, parent.id == played.parent_id)
        .outerjoin(grand, grand.id == parent.parent_id)
        .where(or_(on_top, via_middle), *where)
    )
    credited = (
        select(
            case(
                (credit.role == CreditRole.MAIN, literal(Kind.ARTIST.value)),
                else_=literal(Kind.TEAM.value),
            ),
            credit.credited_id,
            *when,
        )
        .join(
            credit,
            and_(
                credit.item_id == Play.item_id,
                credit.role.in_((CreditRole.MAIN, CreditRole.HOME, CreditRole.AWAY)),
            ),
        )
        .where(*where)
    )
    return union_all(own, container, top, credited)  # type: ignore[return-value]


def _counted_plays(where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """The same rows as ``contributions``, computed in one pass over the plays: each play is
    joined to its item, parent and grandparent once and unfolded into its three possible
    targets (the item itself; its album, season or competition; its show or outlet), plus one
    row per main artist or team. The fold and the rebuild use this; ``differences`` checks it
    against ``contributions``."""
    batch = select(Play.item_id, Play.played_at, Play.user_id).where(*where).cte("batch")
    played = aliased(Item, name="played")
    parent = aliased(Item, name="parent")
    grand = aliased(Item, name="grand")
    credit = aliased(ItemCredit, name="credit")
    tops = [Kind.SHOW.value, Kind.OUTLET.value]
    on_top = parent.kind.in_(tops)
    via_middle = or_(
        and_(parent.kind == Kind.SEASON.value, grand.kind == Kind.SHOW.value),
        and_(parent.kind == Kind.PROGRAMME.value, grand.kind == Kind.OUTLET.value),
    )
    step = union_all(*(select(literal(n).label("n")) for n in (1, 2, 3))).subquery("step")
    level = case(
        (step.c.n == 1, case((played.kind.in_([k.value for k in CONSUMABLE]), played.kind))),
        (step.c.n == 2, case((parent.kind.in_([k.value for k in _CONTAINERS]), parent.kind))),
        else_=case((on_top, parent.kind), (via_middle, grand.kind)),
    )
    target = case(
        (step.c.n == 1, played.id),
        (step.c.n == 2, parent.id),
        else_=case((on_top, parent.id), (via_middle, grand.id)),
    )
    items = (
        select(level.label("level"), target.label("item_id"), batch.c.played_at, batch.c.user_id)
        .select_from(
            batch.join(played, played.id == batch.c.item_id)
            .outerjoin(parent, parent.id == played.parent_id)
            .outerjoin(grand, grand.id == parent.parent_id)
            .join(step, true())
        )
        .where(level.is_not(None))
    )
    credited = select(
        case(
            (credit.role == CreditRole.MAIN, literal(Kind.ARTIST.value)),
            else_=literal(Kind.TEAM.value),
        ),
        credit.credited_id,
        batch.c.played_at,
        batch.c.user_id,
    ).select_from(
        batch.join(
            credit,
            and_(
                credit.item_id == batch.c.item_id,
                credit.role.in_((CreditRole.MAIN, CreditRole.HOME, CreditRole.AWAY)),
            ),
        )
    )
    return union_all(items, credited)  # type: ignore[return-value]


def _bucketed(where: Sequence[ColumnElement[bool]], sign: int, *, by_country: bool) -> Select[Any]:
    """Contributions counted per (country,) level, grain, bucket and item in one query, with
    ``sign`` times the count of plays; by country: the listener's country now. The recount
    ``differences`` compares with (``_apply`` counts the same another way, faster)."""
    rows = contributions(where).subquery("contribution")
    grains = union_all(*(select(literal(g.value).label("grain")) for g in GRAINS)).subquery(
        "grains"
    )
    bucket = case(
        (grains.c.grain == Grain.DAY.value, utc_day(rows.c.played_at)),
        (grains.c.grain == Grain.MONTH.value, utc_month(rows.c.played_at)),
        (grains.c.grain == Grain.YEAR.value, utc_year(rows.c.played_at)),
        else_=0,
    )
    keys: list[ColumnElement[Any]] = [
        rows.c.level,
        grains.c.grain.label("grain"),
        bucket.label("bucket"),
        rows.c.item_id,
    ]
    source = rows.join(grains, true())
    if by_country:
        source = source.join(User, User.id == rows.c.user_id)
        keys.insert(0, User.country.label("country"))
    stmt = select(*keys, (func.count() * sign).label("plays")).select_from(source)
    if by_country:
        stmt = stmt.where(User.country.is_not(None))
    return stmt.group_by(*keys)


class Rollups:
    """Maintains the rollups inside the caller's unit of work. Its methods that take a
    session are the hooks the composition root wires into the write path."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the write path's hooks -------------------------------------------------------------

    def recording(self, session: Session) -> None:
        """Plays may be added to the log in this transaction (they stay uncounted until a
        fold). Taken first, before a track learning its album takes ``_FOLD``: the same order
        as a rebuild's."""
        _lock(session, _WRITE, shared=True)

    def recorded(self, session: Session, play_ids: Sequence[int]) -> None:
        """Plays were added to the log: nothing to do until a fold counts them."""

    def removing(self, session: Session, where: Sequence[ColumnElement[bool]]) -> None:
        """The plays matching ``where`` are about to be deleted: the counted ones leave."""
        _lock(session, _FOLD)
        _apply(session, [*where, Play.id <= _counted_through(session)], -1)

    def removed(self, session: Session) -> None:
        """Plays were deleted."""
        _keep_ids_ahead(session)

    @contextmanager
    def restructuring(self, session: Session, item_ids: Sequence[int]) -> Iterator[None]:
        """The catalogue around ``item_ids`` is about to change (a merge, a new parent): the
        counted plays whose chart items may change leave the rollups now and come back after."""
        _lock(session, _FOLD)
        affected = _affected(session, item_ids)
        through = _counted_through(session)
        for chunk in _chunks(affected):
            _apply(session, [Play.item_id.in_(chunk), Play.id <= through], -1)
        yield
        for chunk in _chunks(affected):
            _apply(session, [Play.item_id.in_(chunk), Play.id <= through], 1)
        _keep_ids_ahead(session)  # a merge deletes a user's double plays

    def country_changed(
        self, session: Session, user_id: int, old: str | None, new: str | None
    ) -> None:
        """A user moved: their counted plays leave the old country's rows for the new one's."""
        if old == new:
            return
        _lock(session, _FOLD)
        where = [Play.user_id == user_id, Play.id <= _counted_through(session)]
        _fill_daily(session, where)
        for country, sign in ((old, -1), (new, 1)):
            if country is not None:
                session.execute(update(_DAILY).values(country=country))
                _add_daily(session, CountryChartCount, sign)

    # -- repair -----------------------------------------------------------------------------

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
        """Recompute every rollup from the play log, a month of plays at a time (so memory
        stays flat on a large log), and count the log up to its last play; ``progress(done,
        months)`` after each month. Returns the (site, country) rows written."""
        session = self.session
        _lock(session, _WRITE)
        _lock(session, _FOLD)
        session.execute(delete(ChartCount))
        session.execute(delete(CountryChartCount))
        top = session.scalar(select(func.max(Play.id))) or 0
        first, last = session.execute(
            select(func.min(Play.played_at), func.max(Play.played_at))
        ).one()
        if first is not None:
            # Each month's days and the month itself are new rows; years and totals are
            # summed from the months at the end.
            months = _month_starts(_aware(first), _aware(last))
            for done, (start, end) in enumerate(pairwise(months), start=1):
                _fill_daily(session, [Play.played_at >= start, Play.played_at < end])
                for model in (ChartCount, CountryChartCount):
                    _add_daily(session, model, 1, grains=(Grain.DAY, Grain.MONTH), new_rows=True)
                if progress is not None:
                    progress(done, len(months) - 1)
            for model in (ChartCount, CountryChartCount):
                _sum_up(session, model, Grain.MONTH)
                _sum_up(session, model, Grain.YEAR)
        _set_counted_through(session, top)
        count = func.count()
        return (
            session.scalar(select(count).select_from(ChartCount)) or 0,
            session.scalar(select(count).select_from(CountryChartCount)) or 0,
        )

    def differences(self) -> int:
        """How many rollup rows differ from a recount of the plays they should count (0:
        exact): rows missing, extra or with another number of plays. Changes nothing, but
        waits for a fold in progress and holds the next one back until the transaction ends."""
        _lock(self.session, _FOLD)
        counted = [Play.id <= _counted_through(self.session)]
        different = 0
        for model, by_country in ((ChartCount, False), (CountryChartCount, True)):
            names = _columns(model)
            expected = _reorder(_bucketed(counted, 1, by_country=by_country), names)
            table = model.__table__
            stored = select(*(table.c[name] for name in names))
            for left, right in ((expected, stored), (stored, expected)):
                missing = left.except_(right).subquery()
                different += self.session.scalar(select(func.count()).select_from(missing)) or 0
        return different


def fold(database: Database, *, chunk: int = FOLD_CHUNK) -> int:
    """Count the plays after the watermark into the rollups, ``chunk`` ids per transaction,
    until none is left; how many plays were folded."""
    folded = 0
    while True:
        done = _fold_once(database, chunk)
        if done is None:
            return folded
        folded += done


def _fold_once(database: Database, chunk: int) -> int | None:
    with database.unit_of_work() as session:  # nothing new: no lock taken, nothing written
        if (session.scalar(select(func.max(Play.id))) or 0) <= _counted_through(session):
            return None
    top: int | None = None
    if database.dialect == "postgresql":
        # Wait for the writers in flight: every play up to the id read next has committed.
        with database.unit_of_work(write=True) as session:
            _lock(session, _WRITE)
            top = session.scalar(select(func.max(Play.id)))
    with database.unit_of_work(write=True) as session:
        _lock(session, _FOLD)
        if database.dialect != "postgresql":
            top = session.scalar(select(func.max(Play.id)))
        through = _counted_through(session)
        if top is None or top <= through:
            return None
        upto = min(top, through + chunk)
        where = [Play.id > through, Play.id <= upto]
        plays = session.scalar(select(func.count()).select_from(Play).where(*where)) or 0
        _apply(session, where, 1)
        _set_counted_through(session, upto)
        return plays


def pending(session: Session) -> int:
    """Plays in the log that the rollups do not count yet."""
    stmt = select(func.count()).select_from(Play).where(Play.id > _counted_through(session))
    return session.scalar(stmt) or 0


# -- internals ------------------------------------------------------------------------------


def _lock(session: Session, key: int, *, shared: bool = False) -> None:
    """A PostgreSQL advisory lock held until the transaction ends; nothing on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        name = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        session.execute(select(getattr(func, name)(key)))


def _counted_through(session: Session) -> int:
    return session.scalar(select(ChartState.counted_through)) or 0


def _set_counted_through(session: Session, play_id: int) -> None:
    result = session.execute(update(ChartState).values(counted_through=play_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ChartState(id=1, counted_through=play_id))
        session.flush()


def _keep_ids_ahead(session: Session) -> None:
    """SQLite gives a new row the largest id plus one, so the id of a deleted last play comes
    back: keep the watermark below every id a new play can get."""
    top = session.scalar(select(func.max(Play.id))) or 0
    if top < _counted_through(session):
        _set_counted_through(session, top)


def _apply(session: Session, where: Sequence[ColumnElement[bool]], sign: int) -> None:
    """Add (or, with ``sign`` -1, take away) the plays matching ``where``."""
    _fill_daily(session, where)
    _add_daily(session, ChartCount, sign)
    _add_daily(session, CountryChartCount, sign)


_DAILY = Table(
    "tastegraph_chart_daily",
    MetaData(),
    Column("country", String(2)),
    Column("level", String(16)),
    Column("item_id", BigInteger),
    Column("day", Date),
    Column("plays", Integer),
)
"""A temporary table (one per connection): the plays being counted, per country, level, item
and UTC day. Every grain is summed from it, so the plays are joined to the catalogue once."""


def _fill_daily(session: Session, where: Sequence[ColumnElement[bool]]) -> None:
    connection = session.connection()
    columns = ", ".join(
        f"{c.name} {c.type.compile(connection.dialect)}"
        for c in _DAILY.columns  # every name and type is the table's own
    )
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_DAILY.name} ({columns})")
    session.execute(delete(_DAILY))
    rows = _counted_plays(where).subquery("contribution")
    keys = [User.country, rows.c.level, rows.c.item_id, utc_date(rows.c.played_at)]
    counted = (
        select(*keys, func.count())
        .select_from(rows)
        .outerjoin(User, User.id == rows.c.user_id)
        .group_by(*keys)
    )
    session.execute(_DAILY.insert().from_select([c.name for c in _DAILY.columns], counted))


def _add_daily(
    session: Session,
    model: type[ChartCount] | type[CountryChartCount],
    sign: int,
    *,
    grains: Sequence[Grain] = GRAINS,
    new_rows: bool = False,
) -> None:
    """Add the daily table's plays (times ``sign``) to the model's rows in ``grains``; rows a
    subtraction leaves at zero are deleted (a row exists only for an item played in it).
    ``new_rows``: none of the rows exists yet (a rebuild), so they are plainly inserted."""
    table = model.__table__
    names = _columns(model)
    by_country = model is CountryChartCount
    daily = _DAILY.c
    buckets: dict[Grain, Any] = {
        Grain.DAY: date_day(daily.day),
        Grain.MONTH: date_month(daily.day),
        Grain.YEAR: date_year(daily.day),
        Grain.ALL: None,
    }
    for grain in grains:
        bucket = buckets[grain]
        groups: list[Any] = [daily.level, daily.item_id] + ([bucket] if bucket is not None else [])
        if by_country:
            groups.insert(0, daily.country)
        rows = (
            select(
                *([daily.country] if by_country else []),
                daily.level,
                literal(grain.value).label("grain"),
                (bucket if bucket is not None else literal(0)).label("bucket"),
                daily.item_id,
                (func.sum(daily.plays) * sign).label("plays"),
            )
            .where(daily.country.is_not(None) if by_country else true())
            .group_by(*groups)
            # In key order: the index is walked once, and concurrent folds lock alike.
            .order_by(
                *([daily.country] if by_country else []),
                daily.level,
                *([bucket] if bucket is not None else []),
                daily.item_id,
            )
        )
        if new_rows:
            session.execute(table.insert().from_select(names, rows))  # type: ignore[attr-defined]
            continue
        stmt = insert_adding(session, table, names[:-1], "plays").from_select(names, rows)
        session.execute(stmt)
        if sign < 0:
            keys = tuple_(*(table.c[n] for n in names[:-1]))
            touched = rows.with_only_columns(*(rows.selected_columns[n] for n in names[:-1]))
            session.execute(delete(model).where(model.plays == 0, keys.in_(touched)))


def _sum_up(
    session: Session, model: type[ChartCount] | type[CountryChartCount], source: Grain
) -> None:
    """Insert the rows of the grain above ``source`` (a year from its months, ``all`` from the
    years), summed from the ``source`` rows (a rebuild, when none of them exists yet)."""
    table = model.__table__
    names = _columns(model)
    grain, bucket = (
        (Grain.YEAR, FIRST_YEAR + model.bucket // 12)
        if source is Grain.MONTH
        else (Grain.ALL, literal(0))
    )
    keys = [model.level, model.item_id] + ([bucket] if source is Grain.MONTH else [])
    if model is CountryChartCount:
        keys.insert(0, CountryChartCount.country)
    rows = (
        select(
            *([CountryChartCount.country] if model is CountryChartCount else []),
            model.level,
            literal(grain.value).label("grain"),
            bucket.label("bucket"),
            model.item_id,
            func.sum(model.plays).label("plays"),
        )
        .where(model.grain == source)
        .group_by(*keys)
    )
    session.execute(table.insert().from_select(names, rows))  # type: ignore[attr-defined]


def _affected(session: Session, item_ids: Sequence[int]) -> list[int]:
    """The played items whose chart items depend on ``item_ids``: the items themselves,
    their children and grandchildren, and what credits them."""
    ids = sorted(set(item_ids))
    middle = aliased(Item)
    found: set[int] = set(ids)
    for chunk in _chunks(ids):
        found.update(session.scalars(select(Item.id).where(Item.parent_id.in_(chunk))))
        found.update(
            session.scalars(
                select(Item.id)
                .join(middle, middle.id == Item.parent_id)
                .where(middle.parent_id.in_(chunk))
            )
        )
        found.update(
            session.scalars(select(ItemCredit.item_id).where(ItemCredit.credited_id.in_(chunk)))
        )
    return sorted(found)


def _month_starts(first: datetime, last: datetime) -> list[datetime]:
    """The UTC month starts from the one holding ``first`` to the one after ``last``."""
    month = first.year * 12 + first.month - 1
    stop = last.year * 12 + last.month
    return [datetime(m // 12, m % 12 + 1, 1, tzinfo=UTC) for m in range(month, stop + 1)]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _columns(model: type[ChartCount] | type[CountryChartCount]) -> list[str]:
    """The key columns, then ``plays``."""
    return [c.name for c in model.__table__.primary_key.columns] + ["plays"]  # type: ignore[attr-defined]


def _reorder(rows: Select[Any], names: list[str]) -> Select[Any]:
    """The same rows with their columns in the order of ``names``. (The ``WHERE`` keeps
    SQLite from reading the upsert's ``ON CONFLICT`` as a join constraint.)"""
    sub = rows.subquery("counted")
    return select(*(sub.c[name] for name in names)).where(true())


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
