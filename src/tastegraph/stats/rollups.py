"""Keeping the chart rollups (``stats/models.py``) equal to the play log.

The rollups count every play up to a watermark (``ChartState.counted_through``, a play id);
charts count the plays after it raw. So a play is in the charts the moment its transaction
commits, and recording one costs the write path nothing here: ``fold`` (the server runs it
every second, ``tastegraph import`` and the demo when they finish) adds the new plays in bulk
and moves the watermark, in one transaction.

Everything is counted from *pair-days*: per listener, chart item and UTC day, the plays and
the first and last of them (``_PD``, filled in one pass over the plays, ``_counted_plays``).
Plays add up across days; distinct listeners and first/last plays do not, so they are kept
with the help of ``ChartPair`` (each listener's first and last play of each item): a new play
after a listener's last one (the usual case) makes them a new listener of exactly the buckets
their last play is not in, and moves their "last play" from one bucket to another. Plays that
arrive in the middle of a listener's history are checked against the log (``_SEEN``).

What changes counted plays is applied in the transaction that makes the change:

* plays deleted (a user's delete, a cancelled check-in): their pair-days are taken before the
  delete; afterwards every bucket they were in is checked for other plays of the same
  listener, and the first and last plays that went are looked up again;
* the catalogue reshaped (a merge; a track learning its album): the plays of the affected
  items leave the counts before and come back after; the chart items whose set of plays
  changed (a track merged away and the one it went into; an album that gained a track) get
  their listeners, first and last plays recounted from the log;
* a user changing country: their pair-days move from one country's rows to the other's (a
  user's pair-days are the whole of their listening, so nothing needs looking up).

On PostgreSQL two advisory locks order this: writers of plays hold ``_WRITE`` shared, and a
fold takes it exclusively for a moment, so every play up to the id it reads has committed; the
fold and the changes above hold ``_FOLD``, so none of them counts a play another is moving.
SQLite has one writer at a time and needs neither. Every change also moves
``ChartState.version`` on, so a chart read in several statements can tell (see
``services.py``).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Index,
    Integer,
    MetaData,
    Select,
    SmallInteger,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    tuple_,
    union,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import CONSUMABLE, CreditRole, Kind
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.ingest.models import Play
from tastegraph.stats import archive
from tastegraph.stats.levels import children_of
from tastegraph.stats.models import (
    SITE,
    ChartCount,
    ChartPair,
    ChartSize,
    ChartState,
    CountryChartCount,
    Grain,
)
from tastegraph.stats.spans import bucket_days, day_start
from tastegraph.storage.base import UTCDateTime
from tastegraph.storage.database import Database
from tastegraph.storage.dialect import (
    date_month,
    date_year,
    day_date,
    greatest,
    insert_adding,
    int_div,
    least,
    no_index,
    utc_micros,
)


def _among(targets: Any) -> Any:
    """A filter on a target column: it is one of ``targets`` (bound now, not in a loop)."""
    return lambda target: target.in_(targets)


def _table(model: Any) -> Table:
    """A mapped class's table (typed as a plain FromClause by SQLAlchemy's stubs)."""
    return typing.cast(Table, model.__table__)


GRAINS = (Grain.DAY, Grain.MONTH, Grain.QUARTER, Grain.HALF, Grain.YEAR, Grain.ALL)
HEAD_SHARE = 10_000
"""A row is ``head`` once it holds more than 1/HEAD_SHARE of its bucket's plays: at most that
many rows per bucket, and a chart's top fifty are always among them for the periods people
ask for (a fiftieth-best track has far more than a ten-thousandth of the plays)."""
FOLD_CHUNK = 100_000
"""Play ids folded per transaction."""
US_PER_DAY = 86_400_000_000
NO_US = cast(null(), BigInteger)
"""No first or last play (typed, for PostgreSQL's unions)."""
NO_COUNTRY = cast(null(), String(2))

_CONTAINERS = (Kind.ALBUM, Kind.SEASON, Kind.COMPETITION)
_CHUNK = 2000
"""Item ids per statement (SQLite takes at most 32,766 parameters)."""
_WRITE = 0x74670001
_FOLD = 0x74670002
Model = type[ChartCount] | type[CountryChartCount]
_MODELS: tuple[Model, ...] = (ChartCount, CountryChartCount)


def _any_of(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    return no_index(column).in_([str(v) for v in values])


def contributions(where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """(level, item_id, played_at, user_id): one row per chart item each play matching
    ``where`` counts for. Mirrors ``levels.target_for`` for every level at once; the recount
    ``differences`` compares the rollups with."""
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


def _counted_plays(batch: Any) -> Select[Any]:
    """The same rows as ``contributions``, computed in one pass over the rows of ``batch`` (a
    CTE of ``item_id``, ``played_at`` and ``user_id``): each is joined to its item, parent and
    grandparent once and unfolded into its three possible targets (the item itself; its
    album, season or competition; its show or outlet), plus one row per main artist or team.
    ``differences`` checks the rollups built from it against ``contributions``."""
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


def _plays_batch(where: Sequence[ColumnElement[bool]]) -> Any:
    return select(Play.item_id, Play.played_at, Play.user_id).where(*where).cte("batch")


def bucket_sql(grain: Grain | Any, day: Any) -> ColumnElement[int]:
    """The bucket number holding a day number (days since 1970), for a grain given as a
    ``Grain`` or as an SQL expression of its value."""
    if isinstance(grain, Grain):
        return _bucket(grain, day)
    return case(*((grain == g.value, _bucket(g, day)) for g in GRAINS), else_=0)


def _bucket(grain: Grain, day: Any) -> ColumnElement[int]:
    if grain is Grain.DAY:
        return day  # type: ignore[no-any-return]
    if grain is Grain.ALL:
        return literal(0)
    on = day_date(day)
    if grain is Grain.YEAR:
        return date_year(on)
    months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.HALF: 6}[grain]
    return int_div(date_month(on), months) if months > 1 else date_month(on)


def _day_of(micros: Any) -> ColumnElement[int]:
    return int_div(micros, US_PER_DAY)


# -- the temporary tables (one set per connection) --------------------------------------------

_TEMP = MetaData()
_PD = Table(
    "tastegraph_chart_pd",
    _TEMP,
    Column("country", String(2)),
    Column("level", String(16)),
    Column("item_id", BigInteger),
    Column("user_id", BigInteger),
    Column("day", Integer),
    Column("plays", Integer),
    Column("first_us", BigInteger),
    Column("last_us", BigInteger),
)
"""Pair-days: per listener (and their country), chart item and UTC day, the plays being
counted (or taken away), and the first and last of them."""
_NP = Table(
    "tastegraph_chart_np",
    _TEMP,
    Column("level", String(16)),
    Column("item_id", BigInteger),
    Column("user_id", BigInteger),
    Column("country", String(2)),
    Column("first_us", BigInteger),
    Column("last_us", BigInteger),
    Column("old_first", BigInteger),
    Column("old_last", BigInteger),
    Column("slow", SmallInteger),
)
Index("tastegraph_chart_np_pair", _NP.c.level, _NP.c.item_id, _NP.c.user_id)
"""The pairs of ``_PD``: the first and last of its plays, and the pair's first and last
*other* counted play (``ChartPair`` before a fold; what the log has left after a delete)."""
_SEEN = Table(
    "tastegraph_chart_seen",
    _TEMP,
    Column("level", String(16)),
    Column("item_id", BigInteger),
    Column("user_id", BigInteger),
    Column("grain", String(8)),
    Column("bucket", Integer),
)
"""Buckets of ``_PD`` in which a pair has other counted plays, as the log says."""
_BOUNDS = Table(
    "tastegraph_chart_bounds",
    _TEMP,
    Column("grain", String(8)),
    Column("bucket", Integer),
    Column("start_at", UTCDateTime()),
    Column("end_at", UTCDateTime()),
)
_DELTA = Table(
    "tastegraph_chart_delta",
    _TEMP,
    Column("country", String(2)),
    Column("level", String(16)),
    Column("grain", String(8)),
    Column("bucket", Integer),
    Column("item_id", BigInteger),
    Column("plays", Integer),
    Column("listeners", Integer),
    Column("lasts", Integer),
    Column("first_us", BigInteger),
    Column("last_us", BigInteger),
)
"""What to add to the rollup rows (per listener country; the site-wide rows get the sum)."""
_MOVED = Table(
    "tastegraph_chart_moved",
    _TEMP,
    Column("country", String(2)),
    Column("level", String(16)),
    Column("old", BigInteger),
    Column("new", BigInteger),
)
"""Items whose last play moves (``ChartSize.item_lasts``)."""
_BEFORE = _PD.to_metadata(_TEMP, name="tastegraph_chart_pd_before")
_AFTER = _PD.to_metadata(_TEMP, name="tastegraph_chart_pd_after")
"""The pair-days of the plays a catalogue change affects, before and after it."""
_TOUCHED = Table(
    "tastegraph_chart_touched",
    _TEMP,
    Column("country", String(2)),
    Column("level", String(16)),
    Column("grain", String(8)),
    Column("bucket", Integer),
    Column("item_id", BigInteger),
)
"""Rows a catalogue change took plays from (site-wide ones with no country)."""
_RECOUNT = Table(
    "tastegraph_chart_recount",
    _TEMP,
    Column("level", String(16)),
    Column("target_id", BigInteger),
)
"""Chart items whose listeners, first and last plays are recounted from the log."""
_DAYS = Table(
    "tastegraph_chart_days",
    _TEMP,
    Column("day", Integer, primary_key=True),
    Column("grain", String(8), primary_key=True),
    Column("bucket", Integer),
)
"""Which bucket of each grain a day is in: filled as days come up and kept (the calendar does
not change), so the buckets are computed once per day, not once per row."""


def _temp(session: Session, *tables: Table) -> None:
    """Create (once per connection) and empty the temporary tables."""
    postgresql_ = session.get_bind().dialect.name == "postgresql"
    for table in tables:
        _create_temp(session, table)
        if postgresql_:  # no dead rows left behind (nothing vacuums a temporary table)
            session.connection().exec_driver_sql(f"TRUNCATE {table.name}")
        else:
            session.execute(delete(table))


def _create_temp(session: Session, table: Table) -> None:
    connection = session.connection()
    columns = [
        f"{c.name} {c.type.compile(connection.dialect)}"
        for c in table.columns  # every name and type is the table's own
    ]
    keys = [c.name for c in table.primary_key.columns]
    if keys:
        columns.append(f"PRIMARY KEY ({', '.join(keys)})")
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {table.name} ({', '.join(columns)})"
    )
    for index in table.indexes:
        names = ", ".join(c.name for c in index.columns)
        connection.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {index.name} ON {table.name} ({names})"
        )


def _analyze(session: Session, *tables: Table) -> None:
    """PostgreSQL plans a temporary table as if it had a thousand rows unless it is analysed
    (and never analyses one itself)."""
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.connection().exec_driver_sql(f"ANALYZE {table.name}")


def _days(session: Session, days: Any) -> None:
    """Make sure ``_DAYS`` knows the days of ``days`` (a select of one column of day
    numbers)."""
    _create_temp(session, _DAYS)
    wanted = days.subquery("wanted")
    new = (
        select(wanted.c[0].label("day"))
        .where(wanted.c[0].is_not(None), wanted.c[0].not_in(select(_DAYS.c.day)))
        .distinct()
        .subquery("new")
    )
    grains = _grain_values()
    rows = select(new.c.day, grains.c.grain, bucket_sql(grains.c.grain, new.c.day)).select_from(
        new.join(grains, true())
    )
    session.execute(_DAYS.insert().from_select(["day", "grain", "bucket"], rows))


def _grain_values() -> Any:
    return union_all(*(select(literal(g.value).label("grain")) for g in GRAINS)).subquery("grains")


# -- the rollups' maintenance -----------------------------------------------------------------


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

    def recorded(self, session: Session, user_id: int, play_ids: Sequence[int]) -> None:
        """Plays were added to the log: nothing to do until a fold counts them."""

    def removing(self, session: Session, where: Sequence[ColumnElement[bool]]) -> None:
        """The plays matching ``where`` are about to be deleted: note the counted ones'
        pair-days (``removed`` takes them out once they are gone)."""
        _lock(session, _FOLD)
        archive.forget_plays(session, where)
        _fill_pair_days(session, [*where, Play.id <= _counted_through(session)])

    def removed(self, session: Session) -> None:
        """Plays were deleted: the pair-days ``removing`` noted leave the rollups."""
        _uncount(session, _counted_through(session))
        _keep_ids_ahead(session)
        archive.changed(session)
        _bump(session)

    @contextmanager
    def restructuring(self, session: Session, item_ids: Sequence[int]) -> Iterator[None]:
        """The catalogue around ``item_ids`` is about to change (a merge, a new parent): the
        counted plays of the affected items leave the play counts now and come back after,
        and the chart items whose set of plays changed are recounted."""
        _lock(session, _FOLD)
        affected = _affected(session, item_ids)
        through = _counted_through(session)
        _temp(session, _BEFORE, _AFTER, _TOUCHED)
        for chunk in _chunks(affected):
            _add_plays(session, [Play.item_id.in_(chunk), Play.id <= through], -1)
        yield
        for chunk in _chunks(affected):
            _add_plays(session, [Play.item_id.in_(chunk), Play.id <= through], 1)
        _recount_changed(session, through)
        _drop_empty_touched(session)
        _keep_ids_ahead(session)  # a merge deletes a user's double plays
        archive.forget_all(session)
        _bump(session)

    def country_changed(
        self, session: Session, user_id: int, old: str | None, new: str | None
    ) -> None:
        """A user moves (called before their country changes): their counted plays leave
        the old country's rows for the new one's."""
        if old == new:
            return
        _lock(session, _FOLD)
        through = _counted_through(session)
        _fill_pair_days(session, [Play.user_id == user_id, Play.id <= through])
        _move_country(session, old, new, user_id)
        archive.forget_scopes(session, [c for c in (old, new) if c])
        _bump(session)

    # -- repair -----------------------------------------------------------------------------

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
        """Recompute every rollup from the play log, a year of plays at a time, and count the
        log up to its last play; ``progress(done, steps)`` after each year. Returns the
        (site, country) rows written."""
        from tastegraph.stats.rebuild import rebuild

        _lock(self.session, _WRITE)
        _lock(self.session, _FOLD)
        top = self.session.scalar(select(func.max(Play.id))) or 0
        rows = rebuild(self.session, top, progress)
        _set_counted_through(self.session, top)
        archive.forget_all(self.session)
        _bump(self.session)
        return rows

    def load_rows(
        self,
        tables: Mapping[str, Iterable[Sequence[Mapping[str, Any]]]],
        counted_through: int,
    ) -> tuple[int, int]:
        """Replace every rollup with rows counted elsewhere from the plays with ids up to
        ``counted_through`` (a batch job over a snapshot of the log, ``batch/charts.py``):
        ``tables`` maps ``chart_counts``, ``country_chart_counts``, ``chart_sizes`` and
        ``chart_pairs`` to batches of rows, their columns named as the tables'. The plays
        after ``counted_through`` are left to the next fold. Returns the (site, country) rows
        written; ``differences`` tells whether they were right."""
        from tastegraph.stats.load import load_rows

        _lock(self.session, _WRITE)
        _lock(self.session, _FOLD)
        top = self.session.scalar(select(func.max(Play.id))) or 0
        if counted_through > top:
            raise ValueError(f"the rows count plays up to {counted_through}; the log ends at {top}")
        rows = load_rows(self.session, tables)
        _set_counted_through(self.session, counted_through)
        archive.forget_all(self.session)
        _bump(self.session)
        return rows

    def differences(self) -> int:
        """How many rollup rows differ from a recount of the plays they should count (0:
        exact): rows missing, extra or with other numbers; pairs likewise; bucket totals; and
        rows above their bucket's threshold without ``head``. Changes nothing, but waits for a
        fold in progress and holds the next one back until the transaction ends."""
        from tastegraph.stats.check import differences

        _lock(self.session, _FOLD)
        return differences(self.session, _counted_through(self.session))


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
    with database.unit_of_work(rollups_only=True) as session:
        _lock(session, _FOLD)
        if database.dialect != "postgresql":
            top = session.scalar(select(func.max(Play.id)))
        through = _counted_through(session)
        if top is None or top <= through:
            return None
        upto = min(top, through + chunk)
        where = [Play.id > through, Play.id <= upto]
        plays = session.scalar(select(func.count()).select_from(Play).where(*where)) or 0
        _fill_pair_days(session, where)
        _count_in(session, through)
        archive.forget_plays(session, where)
        _set_counted_through(session, upto)
        _bump(session)
        return plays


def committed_top(database: Database) -> int:
    """The largest play id such that every play up to it has committed: what a snapshot of
    the log (a Parquet export, ``portability/parquet.py``) may count through. On PostgreSQL
    ids are handed out in one order and committed in another, so this waits for the writers
    in flight as a fold does."""
    with database.unit_of_work() as session:
        _lock(session, _WRITE)
        return session.scalar(select(func.max(Play.id))) or 0


def pending(session: Session) -> int:
    """Plays in the log that the rollups do not count yet."""
    stmt = select(func.count()).select_from(Play).where(Play.id > _counted_through(session))
    return session.scalar(stmt) or 0


# -- locks and the watermark ------------------------------------------------------------------


def hold_changes(session: Session) -> None:
    """No fold or other change of the rollups commits until this transaction ends (others
    holding this too may go on; on SQLite, one at a time)."""
    _lock(session, _FOLD, shared=True)


def _lock(session: Session, key: int, *, shared: bool = False) -> None:
    """A PostgreSQL advisory lock held until the transaction ends. On SQLite, ``_FOLD`` is
    the rollups' write lock (their own file's, when they have one: ``storage/engine.py``),
    taken by a write that changes nothing; it must come before the transaction reads them, or
    a fold committed in between makes the write fail instead of wait."""
    if session.get_bind().dialect.name == "postgresql":
        name = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        session.execute(select(getattr(func, name)(key)))
    elif key == _FOLD:
        session.execute(delete(ChartState).where(false()))


def _counted_through(session: Session) -> int:
    return session.scalar(select(ChartState.counted_through)) or 0


def _set_counted_through(session: Session, play_id: int) -> None:
    result = session.execute(update(ChartState).values(counted_through=play_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ChartState(id=1, counted_through=play_id, version=0))
        session.flush()


def _bump(session: Session) -> None:
    session.execute(update(ChartState).values(version=ChartState.version + 1))


def _keep_ids_ahead(session: Session) -> None:
    """SQLite gives a new row the largest id plus one, so the id of a deleted last play comes
    back: keep the watermark below every id a new play can get."""
    top = session.scalar(select(func.max(Play.id))) or 0
    if top < _counted_through(session):
        _set_counted_through(session, top)


# -- pair-days and pairs -------------------------------------------------------------------------


def _fill_pair_days(
    session: Session, where: Sequence[ColumnElement[bool]], *, batch: Any = None
) -> None:
    """``_PD`` from the plays matching ``where`` (or the rows of ``batch``)."""
    _temp(session, _PD)
    rows = _counted_plays(_plays_batch(where) if batch is None else batch).subquery("counted")
    micros = utc_micros(rows.c.played_at)
    day = _day_of(micros)
    keys = [User.country, rows.c.level, rows.c.item_id, rows.c.user_id, day]
    counted = (
        select(*keys, func.count(), func.min(micros), func.max(micros))
        .select_from(rows)
        .join(User, User.id == rows.c.user_id)
        .group_by(*keys)
    )
    session.execute(_PD.insert().from_select([c.name for c in _PD.columns], counted))
    _analyze(session, _PD)
    _days(session, select(_PD.c.day))


def _fill_pairs(session: Session, *, with_stored: bool) -> None:
    """``_NP`` from ``_PD``; ``with_stored``: the pairs' ``ChartPair`` as their other
    plays' first and last (before a fold)."""
    _temp(session, _NP)
    pd = _PD.c
    grouped = (
        select(
            pd.level,
            pd.item_id,
            pd.user_id,
            pd.country,
            func.min(pd.first_us).label("first_us"),
            func.max(pd.last_us).label("last_us"),
        )
        .group_by(pd.level, pd.item_id, pd.user_id, pd.country)
        .subquery("grouped")
    )
    g = grouped.c
    if with_stored:
        pair = _table(ChartPair).c
        old_first: Any = pair.first_us
        old_last: Any = pair.last_us
        source: Any = grouped.outerjoin(
            _table(ChartPair),
            and_(pair.level == g.level, pair.item_id == g.item_id, pair.user_id == g.user_id),
        )
    else:
        old_first = old_last = literal(None, BigInteger())
        source = grouped
    # In order: all the new plays at or after the pair's last counted one (or at or before
    # its first). Then the buckets they fall in are new to the pair exactly when that last
    # (first) play is not in them. Otherwise the log says (``_SEEN``).
    in_order = or_(old_last.is_(None), g.first_us >= old_last, g.last_us <= old_first)
    rows = select(
        g.level,
        g.item_id,
        g.user_id,
        g.country,
        g.first_us,
        g.last_us,
        old_first,
        old_last,
        case((in_order, 0), else_=1),
    ).select_from(source)
    session.execute(_NP.insert().from_select([c.name for c in _NP.columns], rows))
    _analyze(session, _NP)


def _pair_buckets() -> Any:
    """Per pair of ``_PD`` and grain, its buckets with their plays and first and last play."""
    pd = _PD.c
    days = _DAYS.alias("days")
    keys = [pd.country, pd.level, pd.item_id, pd.user_id, days.c.grain, days.c.bucket]
    return (
        select(
            *keys,
            func.sum(pd.plays).label("plays"),
            func.min(pd.first_us).label("first_us"),
            func.max(pd.last_us).label("last_us"),
        )
        .select_from(_PD.join(days, days.c.day == pd.day))
        .group_by(*keys)
        .subquery("pair_buckets")
    )


def _with_spans(pb: Any, first: Any, last: Any) -> tuple[Any, Any, Any]:
    """``pb`` joined to ``_NP`` and to the buckets (of ``pb``'s grain) of ``first`` and
    ``last`` (``_NP`` columns); returns the join and the two bucket columns."""
    np = _NP.c
    fd, ld = _DAYS.alias("first_day"), _DAYS.alias("last_day")
    joined = (
        pb.join(
            _NP,
            and_(np.level == pb.c.level, np.item_id == pb.c.item_id, np.user_id == pb.c.user_id),
        )
        .outerjoin(fd, and_(fd.c.day == _day_of(first), fd.c.grain == pb.c.grain))
        .outerjoin(ld, and_(ld.c.day == _day_of(last), ld.c.grain == pb.c.grain))
    )
    return joined, fd.c.bucket, ld.c.bucket


def _mark_seen(session: Session, through: int, *, first: Any, last: Any, only: Any) -> bool:
    """``_SEEN``: the buckets of ``_PD`` in which a pair of ``_NP`` picked by ``only`` has
    other counted plays (ids up to ``through``), knowing that the first and last of those are
    ``first`` and ``last`` (``_NP`` columns). Buckets holding either are seen and buckets
    outside them are not; the log is asked about the ones in between."""
    _temp(session, _SEEN, _BOUNDS)
    _days(session, select(_day_of(first)).union(select(_day_of(last))))
    if session.scalar(select(literal(1)).select_from(_NP).where(only).limit(1)) is None:
        return False
    pb = _pair_buckets()
    joined, first_bucket, last_bucket = _with_spans(pb, first, last)
    between = (
        select(pb.c.level, pb.c.item_id, pb.c.user_id, pb.c.grain, pb.c.bucket)
        .select_from(joined)
        .where(
            only,
            first.is_not(None),
            pb.c.grain != Grain.ALL.value,
            pb.c.bucket > first_bucket,
            pb.c.bucket < last_bucket,
        )
    )
    session.execute(
        _SEEN.insert().from_select(["level", "item_id", "user_id", "grain", "bucket"], between)
    )
    asked = list(session.execute(select(_SEEN.c.grain, _SEEN.c.bucket).distinct()))
    if not asked:
        return False
    session.execute(
        _BOUNDS.insert(),
        [
            {"grain": g, "bucket": b, "start_at": day_start(days[0]), "end_at": day_start(days[1])}
            for g, b in asked
            if (days := bucket_days(Grain(g), b)) is not None
        ],
    )
    # Keep the ones the log confirms: a counted play of the listener, of an item that counts
    # for that row's item (not any row's: ``children_of``'s ``outer``), inside the bucket.
    seen, bound = _SEEN.c, _BOUNDS.c
    for level in _levels_in(session, _SEEN):
        played = children_of(
            Kind(level), lambda target: target == seen.item_id, items_only=True, outer=_SEEN
        )
        confirmed = (
            select(literal(1))
            .select_from(_BOUNDS, Play)
            .where(
                bound.grain == seen.grain,
                bound.bucket == seen.bucket,
                Play.user_id == seen.user_id,
                Play.item_id.in_(played),
                # By listener and item (not listener and time: a listener's whole year).
                no_index(Play.played_at) >= bound.start_at,
                no_index(Play.played_at) < bound.end_at,
                Play.id <= through,
            )
            .exists()
        )
        session.execute(delete(_SEEN).where(seen.level == level, ~confirmed))
    return True


def _new_buckets(*, first: Any, last: Any, everything: bool = False, asked: bool = True) -> Any:
    """The pair buckets of ``_PD`` with ``new``: 1 where the pair has no other counted play
    in the bucket (see ``_mark_seen``; ``asked``: whether it found any to ask the log
    about), else 0; ``everything``: 1 everywhere (``_PD`` holds all of each pair's plays)."""
    pb = _pair_buckets()
    if everything:
        return select(pb, literal(1).label("new")).subquery("news")
    joined, first_bucket, last_bucket = _with_spans(pb, first, last)
    if not asked:
        other = or_(pb.c.bucket == first_bucket, pb.c.bucket == last_bucket)
        return (
            select(pb, case((other, 0), else_=1).label("new")).select_from(joined).subquery("news")
        )
    seen = _SEEN.c
    was_seen = (
        select(literal(1))
        .select_from(_SEEN)
        .where(
            seen.level == pb.c.level,
            seen.item_id == pb.c.item_id,
            seen.user_id == pb.c.user_id,
            seen.grain == pb.c.grain,
            seen.bucket == pb.c.bucket,
        )
        .exists()
    )
    other = or_(pb.c.bucket == first_bucket, pb.c.bucket == last_bucket, was_seen)
    return select(pb, case((other, 0), else_=1).label("new")).select_from(joined).subquery("news")


def _bucket_delta(news: Any, sign: int, *, listeners: bool = True, spans: bool = True) -> Any:
    """Delta rows: plays, first and last plays (not for days) and new (gone) listeners."""
    keep_span = news.c.grain != Grain.DAY.value
    keys = [news.c.country, news.c.level, news.c.grain, news.c.bucket, news.c.item_id]
    return select(
        *keys,
        func.sum(news.c.plays) * sign,
        (func.sum(news.c.new) * sign) if listeners else literal(0),
        literal(0),
        func.min(case((keep_span, news.c.first_us))) if spans else NO_US,
        func.max(case((keep_span, news.c.last_us))) if spans else NO_US,
    ).group_by(*keys)


def _last_moves(*, old: Any, new: Any, sign: int = 1) -> Any:
    """Delta rows of ``lasts``: for each pair of ``_NP`` whose last play moves from ``old`` to
    ``new`` (expressions; NULL: none), one less in old's buckets and one more in new's
    (times ``sign``)."""
    np = _NP.c
    moved = or_(
        and_(old.is_(None), new.is_not(None)),
        and_(old.is_not(None), new.is_(None)),
        old != new,
    )
    parts = []
    for when, by in ((old, -sign), (new, sign)):
        days = _DAYS.alias("days")
        parts.append(
            select(
                np.country,
                np.level,
                days.c.grain,
                days.c.bucket,
                np.item_id,
                literal(0),
                literal(0),
                literal(by),
                NO_US,
                NO_US,
            )
            .select_from(_NP.join(days, days.c.day == _day_of(when)))
            .where(moved, when.is_not(None))
        )
    return union_all(*parts)


def _insert_delta(session: Session, rows: Any) -> None:
    session.execute(_DELTA.insert().from_select([c.name for c in _DELTA.columns], rows))


def _count_in(session: Session, through: int) -> None:
    """Count ``_PD`` (new plays) into the rollups and the pairs."""
    _fill_pairs(session, with_stored=True)
    np = _NP.c
    asked = _mark_seen(session, through, first=np.old_first, last=np.old_last, only=np.slow == 1)
    _temp(session, _DELTA)
    news = _new_buckets(first=np.old_first, last=np.old_last, asked=asked)
    _insert_delta(session, _bucket_delta(news, 1))
    _insert_delta(session, _last_moves(old=np.old_last, new=greatest(np.old_last, np.last_us)))
    _apply_delta(session)
    pair = _table(ChartPair)
    rows = select(np.level, np.item_id, np.user_id, np.first_us, np.last_us).where(true())
    session.execute(
        _upsert(session, pair)
        .from_select(["level", "item_id", "user_id", "first_us", "last_us"], rows)
        .on_conflict_do_update(
            index_elements=["level", "item_id", "user_id"],
            set_={
                "first_us": least(pair.c.first_us, _excluded(session, pair, "first_us")),
                "last_us": greatest(pair.c.last_us, _excluded(session, pair, "last_us")),
            },
        )
    )


def _uncount(session: Session, through: int) -> None:
    """Take ``_PD`` (plays just deleted) out of the rollups and the pairs."""
    _fill_pairs(session, with_stored=True)
    np = _NP.c
    pair = _table(ChartPair).c
    stored_last = (
        select(pair.last_us)
        .where(pair.level == np.level, pair.item_id == np.item_id, pair.user_id == np.user_id)
        .scalar_subquery()
    )
    # What the pairs have left: their first and last remaining counted play.
    for level in _levels_in(session, _NP):
        left_first, left_last = _pair_span(Kind(level), np.item_id, np.user_id, through)
        session.execute(
            update(_NP).where(np.level == level).values(old_first=left_first, old_last=left_last)
        )
    asked = _mark_seen(session, through, first=np.old_first, last=np.old_last, only=true())
    _temp(session, _DELTA)
    news = _new_buckets(first=np.old_first, last=np.old_last, asked=asked)
    _insert_delta(session, _bucket_delta(news, -1))
    _days(session, select(_day_of(stored_last)).select_from(_NP))
    _insert_delta(session, _last_moves(old=stored_last, new=np.old_last))
    _apply_delta(session, spans_shrink=True)
    # The pairs: what is left of them, or nothing.
    keys = tuple_(ChartPair.level, ChartPair.item_id, ChartPair.user_id)
    left = np.old_first.is_not(None)
    for_pair = and_(
        np.level == ChartPair.level,
        np.item_id == ChartPair.item_id,
        np.user_id == ChartPair.user_id,
    )
    session.execute(
        update(ChartPair)
        .where(keys.in_(select(np.level, np.item_id, np.user_id).where(left)))
        .values(
            first_us=select(np.old_first).where(for_pair).scalar_subquery(),
            last_us=select(np.old_last).where(for_pair).scalar_subquery(),
        )
    )
    session.execute(
        delete(ChartPair).where(keys.in_(select(np.level, np.item_id, np.user_id).where(~left)))
    )


def _move_country(session: Session, old: str | None, new: str | None, user_id: int) -> None:
    """``_PD`` holds all of one user's counted plays: move them from ``old``'s country rows to
    ``new``'s. Their pairs are whole, so every pair bucket is one listener and every pair's
    last play is in ``_PD``."""
    _fill_pairs(session, with_stored=False)
    np = _NP.c
    for country, sign in ((old, -1), (new, 1)):
        if country is None:
            continue
        _temp(session, _DELTA)
        _insert_delta(
            session, _bucket_delta(_new_buckets(first=None, last=None, everything=True), sign)
        )
        _insert_delta(session, _last_moves(old=NO_US, new=np.last_us, sign=sign))
        session.execute(update(_DELTA).values(country=country))
        _apply_delta(session, site=False, spans_shrink=sign < 0, without_user=user_id)


# -- applying deltas --------------------------------------------------------------------------


def _grouped_delta(model: type[ChartCount] | type[CountryChartCount]) -> Any:
    d = _DELTA.c
    by_country = model is CountryChartCount
    keys: list[Any] = [d.level, d.grain, d.bucket, d.item_id]
    if by_country:
        keys.insert(0, d.country)
    return (
        select(
            *keys,
            func.sum(d.plays).label("plays"),
            func.sum(d.listeners).label("listeners"),
            func.sum(d.lasts).label("lasts"),
            func.min(d.first_us).label("first_us"),
            func.max(d.last_us).label("last_us"),
        )
        .where(d.country.is_not(None) if by_country else true())
        .group_by(*keys)
        .subquery("rows")
    )


def _apply_delta(
    session: Session,
    *,
    site: bool = True,
    spans_shrink: bool = False,
    without_user: int | None = None,
) -> None:
    """Add ``_DELTA`` to the rollup rows (site-wide: summed over countries; and per
    country), their buckets' totals and thresholds, and the items' last plays; rows left
    without plays are deleted. ``spans_shrink``: plays were taken away, so first and last
    plays are looked up again where they may have been among them (``without_user``: not
    counting that user's plays, who is leaving the country)."""
    for model in _MODELS if site else (CountryChartCount,):
        rows = _grouped_delta(model)
        _add_sizes(session, model)
        _move_item_lasts(session, rows, model)
        _upsert_rows(session, rows, model)
        if spans_shrink:
            _respan(session, rows, model, without_user)
            _drop_empty(session, rows, model)


def _scope(rows: Any, model: type[ChartCount] | type[CountryChartCount]) -> Any:
    return rows.c.country if model is CountryChartCount else literal(SITE)


def _add_sizes(session: Session, model: Model) -> None:
    """Bucket totals (from ``_DELTA``): plays, and the threshold above which rows are head."""
    sizes = ChartSize.__table__
    d = _DELTA.c
    by_country = model is CountryChartCount
    scope: Any = d.country if by_country else literal(SITE)
    keys = [d.level, d.grain, d.bucket]
    if by_country:
        keys.insert(0, d.country)
    plays = func.sum(d.plays)
    added = (
        select(
            scope,
            d.level,
            d.grain,
            d.bucket,
            plays,
            literal(0),
            int_div(greatest(plays, literal(0)), HEAD_SHARE),
        )
        .where(d.country.is_not(None) if by_country else true())
        .group_by(*keys)
        .having(plays != 0)
    )
    names = ["country", "level", "grain", "bucket", "plays", "item_lasts", "tau"]
    total = sizes.c.plays + _excluded(session, sizes, "plays")
    session.execute(
        _upsert(session, sizes)
        .from_select(names, added)
        .on_conflict_do_update(
            index_elements=names[:4],
            set_={
                "plays": total,
                "tau": greatest(sizes.c.tau, int_div(greatest(total, literal(0)), HEAD_SHARE)),
            },
        )
    )


def _move_item_lasts(
    session: Session, rows: Any, model: type[ChartCount] | type[CountryChartCount]
) -> None:
    """Before plays are added to the ``all`` rows: items whose last play moves later leave
    the ``item_lasts`` of their old last play's buckets for the new one's."""
    table = _table(model)
    t = table.c
    on = [t[n] == rows.c[n] for n in _key_names(model)]
    moved = (
        select(
            _scope(rows, model).label("country"),
            rows.c.level,
            t.last_us.label("old"),
            rows.c.last_us.label("new"),
        )
        .select_from(rows.outerjoin(table, and_(*on)))
        .where(
            rows.c.grain == Grain.ALL.value,
            rows.c.plays > 0,
            or_(t.last_us.is_(None), rows.c.last_us > t.last_us),
        )
    )
    _shift_item_lasts(session, moved)


def _shift_item_lasts(session: Session, moved: Any) -> None:
    """``moved``: a select of (country, level, old, new) last plays of items (NULL: none);
    one item less in every grain's bucket of ``old``, one more in ``new``'s."""
    _temp(session, _MOVED)
    session.execute(_MOVED.insert().from_select(["country", "level", "old", "new"], moved))
    m = _MOVED.c
    _days(session, select(_day_of(m.old)).union(select(_day_of(m.new))))
    parts = []
    for when, sign in ((m.old, -1), (m.new, 1)):
        days = _DAYS.alias("days")
        parts.append(
            select(m.country, m.level, days.c.grain, days.c.bucket, literal(sign).label("n"))
            .select_from(_MOVED.join(days, days.c.day == _day_of(when)))
            .where(when.is_not(None))
        )
    shifts = union_all(*parts).subquery("shifts")
    keys = [shifts.c.country, shifts.c.level, shifts.c.grain, shifts.c.bucket]
    total = func.sum(shifts.c.n)
    rows = (
        select(*keys, literal(0), total, literal(0))
        .where(true())
        .group_by(*keys)
        .having(total != 0)
    )
    names = ["country", "level", "grain", "bucket", "plays", "item_lasts", "tau"]
    sizes = _table(ChartSize)
    session.execute(insert_adding(session, sizes, names[:4], "item_lasts").from_select(names, rows))


def _upsert_rows(
    session: Session, rows: Any, model: type[ChartCount] | type[CountryChartCount]
) -> None:
    table = _table(model)
    t = table.c
    sizes = _table(ChartSize).c

    def tau_of(scope: Any, level: Any, grain: Any, bucket: Any) -> Any:
        found = (
            select(sizes.tau)
            .where(
                sizes.country == scope,
                sizes.level == level,
                sizes.grain == grain,
                sizes.bucket == bucket,
            )
            .scalar_subquery()
        )
        return func.coalesce(found, 0)

    # Inside ON CONFLICT DO UPDATE, SQLAlchemy does not correlate a subquery with the row
    # being updated (it would read every row of the table: PostgreSQL refuses "more than one
    # row returned by a subquery", SQLite takes any bucket's threshold), so that subquery
    # names the target table itself.
    name = table.name
    scope_sql = f"{name}.country" if model is CountryChartCount else "''"
    updated_tau: Any = literal_column(
        f"(SELECT coalesce(max(s.tau), 0) FROM {ChartSize.__tablename__} AS s"  # noqa: S608 - table names from the models
        f" WHERE s.country = {scope_sql} AND s.level = {name}.level"
        f" AND s.grain = {name}.grain AND s.bucket = {name}.bucket)"
    )

    key_names = _key_names(model)
    key_cols = [rows.c[n] for n in key_names]
    names = [*key_names, "plays", "listeners", "lasts", "first_us", "last_us", "head"]
    source = (
        select(
            *key_cols,
            rows.c.plays,
            rows.c.listeners,
            rows.c.lasts,
            rows.c.first_us,
            rows.c.last_us,
            rows.c.plays > tau_of(_scope(rows, model), rows.c.level, rows.c.grain, rows.c.bucket),
        )
        .where(true())
        # In key order: the index is walked once, and concurrent folds lock alike.
        .order_by(*key_cols)
    )
    plays = t.plays + _excluded(session, table, "plays")
    session.execute(
        _upsert(session, table)
        .from_select(names, source)
        .on_conflict_do_update(
            index_elements=key_names,
            set_={
                "plays": plays,
                "listeners": t.listeners + _excluded(session, table, "listeners"),
                "lasts": t.lasts + _excluded(session, table, "lasts"),
                "first_us": least(t.first_us, _excluded(session, table, "first_us")),
                "last_us": greatest(t.last_us, _excluded(session, table, "last_us")),
                "head": or_(t.head, plays > updated_tau),
            },
        )
    )


def _respan(
    session: Session,
    rows: Any,
    model: type[ChartCount] | type[CountryChartCount],
    without_user: int | None,
) -> None:
    """After plays were taken away: look up the first and last remaining play of the rows
    that may have lost theirs (coarser than a day), and move the items whose last play
    changed in ``item_lasts``; rows left without plays take their item's last play away."""
    table = _table(model)
    t = table.c
    key_names = _key_names(model)
    on = and_(*(t[n] == rows.c[n] for n in key_names))
    touched = list(
        session.execute(
            select(*(t[n] for n in key_names), t.first_us, t.last_us)
            .select_from(rows.join(table, on))
            .where(
                rows.c.grain != Grain.DAY.value,
                rows.c.plays < 0,
                t.plays > 0,
                or_(rows.c.first_us <= t.first_us, rows.c.last_us >= t.last_us),
            )
        ).all()
    )
    through = _counted_through(session)
    moved: list[tuple[str, str, int | None, int | None]] = []
    for row in touched:
        keys = dict(zip(key_names, row[: len(key_names)], strict=True))
        old_first, old_last = row[-2], row[-1]
        first, last = _row_span(session, model, keys, through, without_user)
        if (first, last) != (old_first, old_last):
            where = [t[n] == v for n, v in keys.items()]
            session.execute(update(table).where(*where).values(first_us=first, last_us=last))
        if keys["grain"] == Grain.ALL.value and last != old_last:
            moved.append((keys.get("country", SITE), keys["level"], old_last, last))
    gone = (
        select(
            _scope(rows, model).label("country"),
            t.level,
            t.last_us.label("old"),
            NO_US.label("new"),
        )
        .select_from(rows.join(table, on))
        .where(rows.c.grain == Grain.ALL.value, t.plays <= 0)
    )
    parts: list[Any] = [gone]
    parts += [
        select(
            literal(country).label("country"),
            literal(level).label("level"),
            literal(old, BigInteger()).label("old"),
            literal(new, BigInteger()).label("new"),
        )
        for country, level, old, new in moved
    ]
    _shift_item_lasts(session, union_all(*parts))


def _row_span(
    session: Session,
    model: type[ChartCount] | type[CountryChartCount],
    keys: dict[str, Any],
    through: int,
    without_user: int | None,
) -> tuple[int | None, int | None]:
    """The first and last counted play of one rollup row, from the log."""
    level = Kind(keys["level"])
    played = children_of(level, lambda target: target == keys["item_id"]).subquery()
    where: list[ColumnElement[bool]] = [
        Play.item_id.in_(select(played.c.item_id)),
        Play.id <= through,
    ]
    days = bucket_days(Grain(keys["grain"]), keys["bucket"])
    if days is not None:
        where += [Play.played_at >= day_start(days[0]), Play.played_at < day_start(days[1])]
    micros = utc_micros(Play.played_at)
    stmt = select(func.min(micros), func.max(micros)).where(*where)
    if model is CountryChartCount:
        stmt = stmt.join(User, User.id == Play.user_id).where(User.country == keys["country"])
    if without_user is not None:
        stmt = stmt.where(Play.user_id != without_user)
    first, last = session.execute(stmt).one()
    return first, last


def _drop_empty(
    session: Session, rows: Any, model: type[ChartCount] | type[CountryChartCount]
) -> None:
    """Delete the rows of ``rows``' keys left without plays (a row exists only for an item
    played in its bucket)."""
    table = _table(model)
    names = _key_names(model)
    keys = tuple_(*(table.c[n] for n in names))
    touched = select(*(rows.c[n] for n in names)).where(rows.c.plays < 0)
    session.execute(delete(table).where(table.c.plays <= 0, keys.in_(touched)))


# -- catalogue changes --------------------------------------------------------------------------


def _add_plays(session: Session, where: Sequence[ColumnElement[bool]], sign: int) -> None:
    """Add (or take away) the plays matching ``where`` to the play counts only; rows are kept
    even at zero (``_drop_empty_touched`` clears them once the change is done), and the
    rows plays are taken from are noted in ``_TOUCHED``."""
    _fill_pair_days(session, where)
    names = [c.name for c in _PD.columns]
    noted = _BEFORE if sign < 0 else _AFTER
    session.execute(noted.insert().from_select(names, select(_PD)))
    _temp(session, _DELTA)
    news = _new_buckets(first=None, last=None, everything=True)
    _insert_delta(session, _bucket_delta(news, sign, listeners=False, spans=False))
    for model in _MODELS:
        rows = _grouped_delta(model)
        _add_sizes(session, model)
        _upsert_rows(session, rows, model)
        if sign < 0:
            names = _key_names(model)
            country = [rows.c.country] if model is CountryChartCount else [NO_COUNTRY]
            session.execute(
                _TOUCHED.insert().from_select(
                    ["country", "level", "grain", "bucket", "item_id"],
                    select(*country, *(rows.c[n] for n in names if n != "country")),
                )
            )


def _recount_changed(session: Session, through: int) -> None:
    """After a catalogue change: the chart items whose share of the affected plays is not
    what it was (a track merged away and the one it went into, an album that gained a track)
    get their listeners, first and last plays and pairs recounted from the log. The others
    count the very same plays as before."""
    names = [c.name for c in _PD.columns]
    before = select(*(_BEFORE.c[n] for n in names))
    after = select(*(_AFTER.c[n] for n in names))
    targets: set[tuple[str, int]] = set()
    for left, right in ((before, after), (after, before)):
        changed = left.except_(right).subquery("changed")
        rows = session.execute(select(changed.c.level, changed.c.item_id).distinct())
        targets.update((str(level), int(item)) for level, item in rows)
    if targets:
        recount(session, sorted(targets), through)


def recount(session: Session, targets: Sequence[tuple[str, int]], through: int) -> None:
    """Recount the listeners, lasts, first and last plays of the rows of ``targets`` ((level,
    item id)) and the items' last plays and pairs, from the counted plays (ids up to
    ``through``). Their play counts must be right already. The rows looked at are those the
    plays fall in and those ``_TOUCHED`` names."""
    _temp(session, _RECOUNT)
    session.execute(_RECOUNT.insert(), [{"level": lv, "target_id": t} for lv, t in targets])
    rc = _RECOUNT.c
    for level in sorted({lv for lv, _t in targets}):
        mine = select(rc.target_id).where(rc.level == level)
        played = children_of(Kind(level), _among(mine)).subquery("played")
        batch = (
            select(Play.item_id, Play.played_at, Play.user_id)
            .where(Play.item_id.in_(select(played.c.item_id)), Play.id <= through)
            .cte("batch")
        )
        _fill_pair_days(session, [], batch=batch)
        pd = _PD.c
        session.execute(delete(_PD).where(or_(pd.level != level, pd.item_id.not_in(mine))))
        _fill_pairs(session, with_stored=False)
        _temp(session, _DELTA)
        _insert_delta(
            session, _bucket_delta(_new_buckets(first=None, last=None, everything=True), 1)
        )
        np = _NP.c
        _insert_delta(session, _last_moves(old=NO_US, new=np.last_us))
        for model in _MODELS:
            _recount_rows(session, model, level, mine)
        pair = _table(ChartPair)
        session.execute(delete(pair).where(pair.c.level == level, pair.c.item_id.in_(mine)))
        session.execute(
            pair.insert().from_select(
                ["level", "item_id", "user_id", "first_us", "last_us"],
                select(np.level, np.item_id, np.user_id, np.first_us, np.last_us),
            )
        )


def _recount_rows(
    session: Session, model: type[ChartCount] | type[CountryChartCount], level: str, mine: Any
) -> None:
    """Set the listener columns of ``model``'s rows of the items ``mine`` (of ``level``) to
    ``_DELTA``'s, and their items' last plays in ``item_lasts``."""
    table = _table(model)
    t = table.c
    names = _key_names(model)
    rows = _grouped_delta(model)
    tc = _TOUCHED.c
    touched_keys = select(
        *(tc[n] for n in names if n != "country"),
    ).where(tc.level == level, tc.item_id.in_(mine))
    if model is CountryChartCount:
        touched_keys = select(*(tc[n] for n in names)).where(
            tc.level == level, tc.item_id.in_(mine), tc.country.is_not(None)
        )
    else:
        touched_keys = touched_keys.where(tc.country.is_(None))
    keys = tuple_(*(t[n] for n in names))
    delta_keys = select(*(rows.c[n] for n in names))
    theirs = and_(t.level == level, keys.in_(union(touched_keys, delta_keys)))
    scope = (t.country if model is CountryChartCount else literal(SITE)).label("country")
    _shift_item_lasts(
        session,
        select(scope, t.level, t.last_us.label("old"), NO_US.label("new")).where(
            theirs, t.grain == Grain.ALL.value
        ),
    )
    session.execute(
        update(table).where(theirs).values(listeners=0, lasts=0, first_us=None, last_us=None)
    )
    values = ["listeners", "lasts", "first_us", "last_us"]
    session.execute(
        _upsert(session, table)
        .from_select(
            [*names, "plays", *values, "head"],
            select(
                *(rows.c[n] for n in names),
                literal(0),
                *(rows.c[v] for v in values),
                literal(False),
            ).where(true()),
        )
        .on_conflict_do_update(
            index_elements=names,
            set_={v: _excluded(session, table, v) for v in values},
        )
    )
    _shift_item_lasts(
        session,
        select(scope, t.level, NO_US.label("old"), t.last_us.label("new")).where(
            theirs, t.grain == Grain.ALL.value, t.plays > 0
        ),
    )


def _drop_empty_touched(session: Session) -> None:
    """Delete the rows a catalogue change left without plays."""
    tc = _TOUCHED.c
    for model in _MODELS:
        table = _table(model)
        names = _key_names(model)
        keys = tuple_(*(table.c[n] for n in names))
        if model is CountryChartCount:
            touched = select(*(tc[n] for n in names)).where(tc.country.is_not(None))
        else:
            touched = select(*(tc[n] for n in names)).where(tc.country.is_(None))
        scope = (table.c.country if model is CountryChartCount else literal(SITE)).label("country")
        empty = and_(table.c.plays <= 0, keys.in_(touched))
        _shift_item_lasts(
            session,
            select(scope, table.c.level, table.c.last_us.label("old"), NO_US.label("new")).where(
                empty, table.c.grain == Grain.ALL.value
            ),
        )
        session.execute(delete(table).where(empty))


# -- helpers ------------------------------------------------------------------------------------


def _pair_span(level: Kind, target: Any, user: Any, through: int) -> tuple[Any, Any]:
    """Scalar subqueries: the first and last counted play (microseconds) of a pair, whose
    ``target`` and ``user`` are columns of ``_NP`` (the statement they go into changes it)."""
    played = children_of(level, lambda t: t == target, items_only=True, outer=_NP)
    where = [
        Play.user_id == user,
        Play.item_id.in_(played),
        Play.id <= through,
    ]
    micros = utc_micros(Play.played_at)
    return (
        select(func.min(micros)).where(*where).scalar_subquery(),
        select(func.max(micros)).where(*where).scalar_subquery(),
    )


def _levels_in(session: Session, table: Table) -> list[str]:
    return sorted(session.scalars(select(table.c.level).distinct()))


def _key_names(model: type[ChartCount] | type[CountryChartCount]) -> list[str]:
    return [c.name for c in model.__table__.primary_key.columns]  # type: ignore[attr-defined]


def _upsert(session: Session, table: Any) -> Any:
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def _excluded(session: Session, table: Any, column: str) -> Any:
    return _upsert(session, table).excluded[column]


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


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
