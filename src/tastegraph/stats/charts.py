"""Site-wide and geo charts from the rollups: the top items, how many items the chart has,
and each top item's distinct listeners, each read from a handful of rows.

* **The top items.** A window is a signed sum of buckets and raw edges (``spans.plan``).
  Every row above its bucket's threshold (``ChartSize.tau``) is marked ``head``, so an item
  with no head row in a bucket has at most ``tau`` plays there. The head rows of the
  window's buckets are the candidates; their exact counts are summed, and the top is certain
  once its last entry beats what any other item could reach (the sum of the ``tau``). Where
  it is not (a thin chart), every row of the window is summed, as a recount would.
* **How many items.** A window that runs to the present counts the items whose last play is
  in it: per bucket, ``ChartSize.item_lasts``, which add up. A past calendar period is one
  UTC bucket (a month, quarter, half-year or year) shifted by the time zone: the bucket's
  rows, give or take the items played only in the hours at either end (each row keeps its
  first and last play, which settles whether an item has plays inside).
* **Listeners.** The same two ways: the listeners whose last play of an item is in a window
  to the present (``lasts``, with ``ChartPair`` for the hours at the edge), or a bucket's
  distinct listeners (``listeners``) give or take the ones at the ends, whom the play log
  settles one by one. Other windows count listeners from the log.

Plays not folded yet are counted from the log on top. A chart read in several statements
checks that no fold or change came in between (``ChartState.version``) and reads again if one
did.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
    values,
)
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.ingest.models import Play
from tastegraph.stats.levels import played_for, target_for
from tastegraph.stats.models import (
    SITE,
    ChartCount,
    ChartPair,
    ChartSize,
    ChartState,
    CountryChartCount,
    Grain,
)
from tastegraph.stats.spans import (
    Extent,
    Piece,
    bucket_days,
    bucket_of,
    day_number,
    day_start,
    plan,
    to_micros,
)
from tastegraph.storage.dialect import no_index

TOP_LIMIT = 1000
_CHUNK = 1000
"""Ids (or pairs) per statement."""
"""Deeper pages (offset + limit) are summed in full."""
_CALENDAR = (Grain.MONTH, Grain.QUARTER, Grain.HALF, Grain.YEAR)
_EDGE = 86_400_000_000
"""How far a window may start or end from a bucket's bounds to be read as that bucket (a
day: a calendar period in any time zone)."""

Model = type[ChartCount] | type[CountryChartCount]


@dataclass(frozen=True)
class State:
    """What one reading of a chart relies on."""

    through: int
    version: int
    extent: Extent
    top: int
    """The last play id when the chart was started: later plays wait for the next chart."""


@dataclass(frozen=True)
class Span:
    """[start, end) in microseconds; None: open."""

    start: int | None
    end: int | None


class SiteChart:
    """One site-wide or geo chart of a level in a window, inside the caller's unit of work."""

    def __init__(
        self,
        session: Session,
        level: Kind,
        start: datetime | None,
        end: datetime | None,
        country: str | None,
        state: State,
    ) -> None:
        self.session = session
        self.level = level
        self.start = start
        self.end = end
        self.country = country
        self.state = state
        self.model: Model = ChartCount if country is None else CountryChartCount
        self.scope = SITE if country is None else country
        self.pieces = plan(start, end, state.extent)
        self._raw: list[tuple[Piece, Any]] | None = None
        self._to_now: list[Piece] | None = None
        self._mapped: tuple[tuple[int, ...], dict[int, list[int]]] | None = None

    # -- state ------------------------------------------------------------------------------

    @staticmethod
    def read_state(session: Session) -> State | None:
        """The watermark, the rollups' version and the log's first and last play; None for
        an empty log."""
        row = session.execute(
            select(
                select(func.min(Play.played_at)).scalar_subquery(),
                select(func.max(Play.played_at)).scalar_subquery(),
                select(ChartState.counted_through).scalar_subquery(),
                select(ChartState.version).scalar_subquery(),
                select(func.max(Play.id)).scalar_subquery(),
            )
        ).one()
        first, last, through, version, top = row
        if first is None:
            return None
        extent = Extent(_aware(first), _aware(last))
        return State(int(through or 0), int(version or 0), extent, int(top or 0))

    @staticmethod
    def version(session: Session) -> int:
        return int(session.scalar(select(ChartState.version)) or 0)

    # -- the top items ----------------------------------------------------------------------

    def top(self, k: int) -> list[tuple[int, int]] | None:
        """The ``k`` items with most plays ((item, plays), ties by id), or None when the
        heads cannot tell (the caller sums everything)."""
        if k > TOP_LIMIT:
            return None
        taus = self._taus()
        bound_others = sum(taus.values())
        batch = max(2 * k, 200)
        exact: dict[int, int] = {}
        offset = 0
        while True:
            ranked = self._candidates(taus, batch, offset)
            offset += len(ranked)
            exact.update(self._exact([item for item, _upper in ranked]))
            found = sorted(((i, v) for i, v in exact.items() if v > 0), key=lambda e: (-e[1], e[0]))
            if len(ranked) < batch:  # every candidate counted: the rest have at most the taus
                if bound_others == 0 or (len(found) >= k and found[k - 1][1] > bound_others):
                    return found[:k]
                return None
            beyond = max(bound_others, ranked[-1][1] + bound_others)
            if len(found) >= k and found[k - 1][1] > beyond:
                return found[:k]
            if len(found) >= k and bound_others >= found[k - 1][1]:
                return None

    def _taus(self) -> dict[tuple[Grain, int], int]:
        """The thresholds of the buckets the window adds."""
        s = ChartSize.__table__.c
        parts = [
            select(literal(grain.value).label("grain"), s.bucket, s.tau).where(
                s.country == self.scope,
                s.level == self.level.value,
                s.grain == grain.value,
                s.bucket.in_(numbers),
            )
            for grain, numbers in self._buckets(self._positive())
        ]
        if not parts:
            return {}
        rows = union_all(*parts).subquery("taus")
        stmt = select(rows.c.grain, rows.c.bucket, rows.c.tau)
        return {(Grain(g), int(b)): int(t) for g, b, t in self.session.execute(stmt)}

    def _positive(self) -> list[Piece]:
        return [p for p in self.pieces if p.grain is not None and p.sign > 0]

    def _candidates(
        self, taus: dict[tuple[Grain, int], int], count: int, offset: int
    ) -> list[tuple[int, int]]:
        """Items that may be in the top, best first: the head rows of the buckets the window
        adds and the items played in the raw pieces it adds, with how many plays above the
        thresholds they may have at most."""
        t = self.model.__table__.c
        parts: list[Any] = []
        for grain, numbers in self._buckets(self._positive()):
            over = {b: taus.get((grain, b), 0) for b in numbers}
            tau = (
                case(over, value=t.bucket, else_=0) if len(over) > 1 else literal(over[numbers[0]])
            )
            parts.append(
                select(t.item_id, (t.plays - tau).label("plays")).where(
                    *self._mine(t), t.grain == grain.value, t.bucket.in_(numbers), t.head
                )
            )
        parts += [
            select(raw.c.item_id, raw.c.plays) for piece, raw in self._raw_parts() if piece.sign > 0
        ]
        if not parts:
            return []
        rows = union_all(*parts).subquery("candidates")
        upper = func.sum(rows.c.plays)
        stmt = (
            select(rows.c.item_id, upper)
            .group_by(rows.c.item_id)
            .order_by(upper.desc(), rows.c.item_id)
            .limit(count)
            .offset(offset)
        )
        return [(int(item), int(plays)) for item, plays in self.session.execute(stmt)]

    def _buckets(self, pieces: Sequence[Piece]) -> list[tuple[Grain, list[int]]]:
        """Each piece's grain and buckets, clipped to the log's extent."""
        first, last = day_number(self.state.extent.first), day_number(self.state.extent.last)
        out = []
        for piece in pieces:
            assert piece.grain is not None
            low = max(piece.first, bucket_of(piece.grain, first))
            high = min(piece.last, bucket_of(piece.grain, last))
            if piece.grain is Grain.ALL:
                low = high = 0
            if low <= high:
                out.append((piece.grain, list(range(low, high + 1))))
        return out

    def _exact(self, items: Sequence[int]) -> dict[int, int]:
        """The plays in the window of each of ``items``."""
        if not items:
            return {}
        t = self.model.__table__.c
        wanted = list(items)
        parts: list[Any] = []
        for piece in self.pieces:
            if piece.grain is None:
                continue
            for grain, numbers in self._buckets([piece]):
                parts.append(
                    select(t.item_id, (t.plays * piece.sign).label("plays")).where(
                        *self._mine(t),
                        t.grain == grain.value,
                        t.bucket.in_(numbers),
                        t.item_id.in_(wanted),
                    )
                )
        for piece, raw in self._raw_parts():
            parts.append(
                select(raw.c.item_id, (raw.c.plays * piece.sign).label("plays")).where(
                    raw.c.item_id.in_(wanted)
                )
            )
        rows = union_all(*parts).subquery("parts")
        stmt = select(rows.c.item_id, func.sum(rows.c.plays)).group_by(rows.c.item_id)
        totals = dict.fromkeys(items, 0)
        for item, plays in self.session.execute(stmt):
            totals[int(item)] += int(plays)
        return totals

    # -- raw pieces -------------------------------------------------------------------------

    def _raw_parts(self) -> list[tuple[Piece, Any]]:
        """Per raw piece of the plan, and for the plays after the watermark: (piece,
        subquery of (item_id, plays) of the level's items)."""
        if self._raw is not None:
            return self._raw
        out = []
        every = [*self.pieces, Piece(1, None, start=self.start, end=self.end)]
        for index, piece in enumerate(every):
            if piece.grain is not None:
                continue
            unfolded = index == len(every) - 1
            per_item = self._raw_plays(piece.start, piece.end, unfolded=unfolded)
            target = target_for(self.level, per_item.c.item_id)
            part = target.apply(
                select(target.column.label("item_id"), per_item.c.plays.label("plays")).select_from(
                    per_item
                )
            )
            out.append((piece, part.subquery(f"raw{index}")))
        self._raw = out
        return out

    def _pieces_to_now(self) -> list[Piece]:
        """The plan of the window from its start on (for counts of last plays)."""
        if self._to_now is None:
            self._to_now = plan(self.start, None, self.state.extent)
        return self._to_now

    def _raw_plays(self, start: datetime | None, end: datetime | None, *, unfolded: bool) -> Any:
        """(item_id, plays) per played item in [start, end): counted plays found by time, or
        the plays after the watermark (up to the last one when the chart was started) found
        by id."""
        through = self.state.through
        if unfolded:
            when: list[ColumnElement[bool]] = self._unfolded()
            at: Any = no_index(Play.played_at)
        else:
            when = [no_index(Play.id) <= through]
            at = Play.played_at
        if start is not None:
            when.append(at >= start)
        if end is not None:
            when.append(at < end)
        played_item = no_index(Play.item_id)
        stmt = select(
            played_item.label("item_id"), cast(func.count(), Integer).label("plays")
        ).where(*when)
        return of_country(stmt, self.country).group_by(played_item).subquery("per_item")

    def _unfolded(self) -> list[ColumnElement[bool]]:
        """The plays after the watermark (up to the last one when the chart was started);
        a constant false when there are none, so no partition of the log is looked at."""
        if self.state.top <= self.state.through:
            return [false()]
        return [Play.id > self.state.through, Play.id <= self.state.top]

    def _mine(self, t: Any) -> list[ColumnElement[bool]]:
        where = [t.level == self.level.value]
        if self.country is not None:
            where.insert(0, t.country == self.country)
        return where

    # -- how many items ---------------------------------------------------------------------

    def total(self) -> int | None:
        """How many items have plays in the window; None when neither way applies."""
        if self._to_present():
            return self._total_to_present()
        bucket = self._calendar_bucket()
        if bucket is not None:
            return self._total_of_bucket(*bucket)
        return None

    def _to_present(self) -> bool:
        """No play at or after the window's end: "in the window" is "last play in it"."""
        return self.end is None or self.state.extent.last < self.end

    def _total_to_present(self) -> int:
        s = ChartSize.__table__.c
        t = self.model.__table__.c
        parts: list[Any] = []
        for piece in self._pieces_to_now():
            if piece.grain is not None:
                for grain, numbers in self._buckets([piece]):
                    parts.append(
                        select((s.item_lasts * piece.sign).label("n")).where(
                            s.country == self.scope,
                            s.level == self.level.value,
                            s.grain == grain.value,
                            s.bucket.in_(numbers),
                        )
                    )
                continue
            # Items whose last counted play is in [start, end), from the index on the last
            # play of their ``all`` rows (the grain spelt out, so the partial index applies).
            where = [*self._mine(t), t.grain == literal_column("'all'"), t.bucket == 0]
            if piece.start is not None:
                where.append(t.last_us >= to_micros(piece.start))
            if piece.end is not None:
                where.append(t.last_us < to_micros(piece.end))
            parts.append(select((func.count() * piece.sign).label("n")).where(*where))
        # Items played since the watermark and not (counted) since the window's start.
        fresh = self._raw_items(self.start, self.end, unfolded=True)
        last = self._item_last(t, fresh.c.item_id)
        counted_since = (
            last >= to_micros(self.start) if self.start is not None else last.is_not(None)
        )
        parts.append(
            select(func.count().label("n"))
            .select_from(fresh)
            .where(or_(last.is_(None), ~counted_since))
        )
        rows = union_all(*parts).subquery("parts")
        return int(self.session.scalar(select(func.coalesce(func.sum(rows.c.n), 0))) or 0)

    def _item_last(self, t: Any, item: Any) -> Any:
        """The item's last counted play (its ``all`` row's), looked up per item."""
        return (
            select(t.last_us)
            .where(*self._mine(t), t.grain == Grain.ALL.value, t.bucket == 0, t.item_id == item)
            .scalar_subquery()
        )

    def _raw_items(self, start: datetime | None, end: datetime | None, *, unfolded: bool) -> Any:
        """The distinct items of the level with plays in [start, end)."""
        per_item = self._raw_plays(start, end, unfolded=unfolded)
        target = target_for(self.level, per_item.c.item_id)
        return (
            target.apply(select(target.column.label("item_id")).select_from(per_item))
            .distinct()
            .subquery("items")
        )

    def _calendar_bucket(self) -> tuple[Grain, int, Span, Span] | None:
        """A past calendar period read as one UTC bucket: the bucket, the window and the
        bucket in microseconds. The window may start and end up to a day off the bucket's
        bounds, but not inside it at both ends."""
        if self.start is None or self.end is None:
            return None
        start, end = to_micros(self.start), to_micros(self.end)
        middle = day_number(self.start + (self.end - self.start) / 2)
        for grain in _CALENDAR:
            bucket = bucket_of(grain, middle)
            days = bucket_days(grain, bucket)
            assert days is not None
            low, high = to_micros(day_start(days[0])), to_micros(day_start(days[1]))
            if abs(start - low) < _EDGE and abs(end - high) < _EDGE:
                if start > low and end < high:
                    return None
                return grain, bucket, Span(start, end), Span(low, high)
        return None

    def _total_of_bucket(self, grain: Grain, bucket: int, window: Span, whole: Span) -> int:
        t = self.model.__table__.c
        table = self.model.__table__
        in_bucket = select(func.count()).where(
            *self._mine(t), t.grain == grain.value, t.bucket == bucket
        )
        rows = int(self.session.scalar(in_bucket) or 0)
        # The items played in the hours where window and bucket differ, or since the
        # watermark: +1 if they have plays in the window and -1 if in the bucket.
        edges = self._edges(window, whole)
        parts = []
        for index, (low, high, inside) in enumerate(edges):
            items = self._raw_items(_moment(low), _moment(high), unfolded=False)
            parts.append(
                select(
                    items.c.item_id,
                    literal(1 if inside else 0).label("in_window"),
                    literal(0 if inside else 1).label("in_bucket"),
                    literal(index).label("edge"),
                )
            )
        fresh = self._raw_items(_moment(window.start), _moment(window.end), unfolded=True)
        parts.append(
            select(
                fresh.c.item_id,
                literal(1).label("in_window"),
                literal(0).label("in_bucket"),
                literal(-1).label("edge"),
            )
        )
        found = union_all(*parts).subquery("found")
        per_item = (
            select(
                found.c.item_id,
                func.max(case((found.c.edge >= 0, found.c.in_window), else_=0)).label("w"),
                func.max(found.c.in_bucket).label("b"),
                func.max(case((found.c.edge < 0, 1), else_=0)).label("fresh"),
            )
            .group_by(found.c.item_id)
            .subquery("per_item")
        )
        row = and_(
            *self._mine(t),
            t.grain == grain.value,
            t.bucket == bucket,
            t.item_id == per_item.c.item_id,
        )
        # Inside both window and bucket: the row's first and last play tell.
        both = self._inside_both(t, window, whole)
        counted_w = or_(per_item.c.w == 1, and_(t.item_id.is_not(None), both))
        counted_b = t.item_id.is_not(None)
        in_w = or_(counted_w, per_item.c.fresh == 1)
        change = case((in_w, 1), else_=0) - case((counted_b, 1), else_=0)
        stmt = select(func.coalesce(func.sum(change), 0)).select_from(
            per_item.outerjoin(table, row)
        )
        return rows + int(self.session.scalar(stmt) or 0)

    @staticmethod
    def _edges(window: Span, whole: Span) -> list[tuple[int, int, bool]]:
        """The hours where window and bucket differ: (start, end, in the window)."""
        assert window.start is not None
        assert window.end is not None
        assert whole.start is not None
        assert whole.end is not None
        edges = []
        if window.start < whole.start:
            edges.append((window.start, whole.start, True))
        if window.start > whole.start:
            edges.append((whole.start, window.start, False))
        if window.end > whole.end:
            edges.append((whole.end, window.end, True))
        if window.end < whole.end:
            edges.append((window.end, whole.end, False))
        return edges

    @staticmethod
    def _inside_both(t: Any, window: Span, whole: Span) -> ColumnElement[bool]:
        """A row of the bucket has a play in the window too (its first and last play tell:
        the window cuts the bucket at one end at most)."""
        assert window.start is not None
        assert window.end is not None
        assert whole.start is not None
        assert whole.end is not None
        if window.start > whole.start:
            return t.last_us >= window.start  # type: ignore[no-any-return]
        if window.end < whole.end:
            return t.first_us < window.end  # type: ignore[no-any-return]
        return literal(True)

    # -- listeners --------------------------------------------------------------------------

    def listeners(self, ids: list[int]) -> dict[int, int] | None:
        """Distinct listeners of each of ``ids`` (items of the level) in the window; None
        when neither way applies."""
        if not ids:
            return {}
        if self._to_present():
            return self._listeners_to_present(ids)
        bucket = self._calendar_bucket()
        if bucket is not None:
            return self._listeners_of_bucket(ids, *bucket)
        return None

    def _listeners_to_present(self, ids: list[int]) -> dict[int, int]:
        t = self.model.__table__.c
        counts = dict.fromkeys(ids, 0)
        parts: list[Any] = []
        for piece in self._pieces_to_now():
            if piece.grain is not None:
                for grain, numbers in self._buckets([piece]):
                    parts.append(
                        select(
                            t.item_id.label("target_id"), (t.lasts * piece.sign).label("n")
                        ).where(
                            *self._mine(t),
                            t.grain == grain.value,
                            t.bucket.in_(numbers),
                            t.item_id.in_(ids),
                        )
                    )
                continue
            # Listeners whose last counted play is in [start, end): counted from chart_pairs'
            # index on the last play, without listing them.
            for item, n in self.session.execute(self._lasts_between(ids, piece)):
                counts[int(item)] += piece.sign * int(n)
        if parts:
            rows = union_all(*parts).subquery("parts")
            stmt = select(rows.c.target_id, func.sum(rows.c.n)).group_by(rows.c.target_id)
            for target, n in self.session.execute(stmt):
                counts[int(target)] += int(n)
        # Listeners since the watermark with no counted play since the window's start.
        fresh = self._pairs(ids, self.start, self.end, unfolded=True)
        spans = self._pair_spans(fresh)
        start = to_micros(self.start) if self.start is not None else None
        for pair in fresh:
            span = spans.get(pair)
            if span is None or (start is not None and span[1] < start):
                counts[pair[0]] += 1
        return counts

    def _lasts_between(self, ids: list[int], piece: Piece) -> Any:
        """(item_id, listeners) of ``ids`` whose last counted play is in the raw ``piece``
        (of the chart's country: a listener's country is the one they have now, as in the
        country rows)."""
        pair = ChartPair.__table__.c
        where = [pair.level == self.level.value, pair.item_id.in_(ids)]
        if piece.start is not None:
            where.append(pair.last_us >= to_micros(piece.start))
        if piece.end is not None:
            where.append(pair.last_us < to_micros(piece.end))
        stmt = select(pair.item_id, func.count()).where(*where)
        if self.country is not None:
            stmt = stmt.join(User, User.id == pair.user_id).where(User.country == self.country)
        return stmt.group_by(pair.item_id)

    def _mapping(self, ids: list[int]) -> dict[int, list[int]]:
        """The played items whose plays count for ``ids`` (items of the level), each with
        the ones it counts for: resolved once, so the plays are then found by item id (the
        planner misjudges how many items a join to the catalogue yields)."""
        key = tuple(ids)
        if self._mapped is None or self._mapped[0] != key:
            mapping: dict[int, list[int]] = {}
            for chunk in _chunks(ids):
                played = played_for(self.level, chunk).subquery("played")
                for item, target in self.session.execute(
                    select(played.c.item_id, played.c.target_id)
                ):
                    mapping.setdefault(int(item), []).append(int(target))
            self._mapped = (key, mapping)
        return self._mapped[1]

    def _pairs(
        self, ids: list[int], start: datetime | None, end: datetime | None, *, unfolded: bool
    ) -> set[tuple[int, int]]:
        """The distinct (target_id, user_id) with plays of ``ids`` in [start, end), counted or
        after the watermark, of the chart's country."""
        mapping = self._mapping(ids)
        through = self.state.through
        item: Any = Play.item_id
        if unfolded:  # found by id: the few plays after the watermark
            if self.state.top <= through:
                return set()
            when: list[ColumnElement[bool]] = self._unfolded()
            item = no_index(Play.item_id)
        else:
            when = [no_index(Play.id) <= through]
        if start is not None:
            when.append(Play.played_at >= start)
        if end is not None:
            when.append(Play.played_at < end)
        found: set[tuple[int, int]] = set()
        for chunk in _chunks(sorted(mapping)):
            stmt = of_country(
                select(Play.item_id, Play.user_id).where(item.in_(chunk), *when), self.country
            )
            for played, user in self.session.execute(stmt.distinct()):
                for target in mapping[int(played)]:
                    found.add((target, int(user)))
        return found

    def _pair_spans(self, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
        """Each pair's first and last counted play (``ChartPair``); pairs with none left out."""
        pair = ChartPair.__table__.c
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        ordered = sorted(pairs)
        postgres = self.session.get_bind().dialect.name == "postgresql"
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            stmt = select(pair.item_id, pair.user_id, pair.first_us, pair.last_us).where(
                pair.level == self.level.value
            )
            if postgres:
                # Joined to a list, which PostgreSQL probes the key with pair by pair (a list
                # of row values it checks as one long OR: 160 ms for 1,000 pairs, not 10).
                wanted = values(
                    column("item_id", BigInteger), column("user_id", BigInteger), name="wanted"
                ).data(chunk)
                stmt = stmt.join(
                    wanted, and_(pair.item_id == wanted.c.item_id, pair.user_id == wanted.c.user_id)
                )
            else:
                stmt = stmt.where(tuple_(pair.item_id, pair.user_id).in_(chunk))
            for item, user, first, last in self.session.execute(stmt):
                spans[(int(item), int(user))] = (int(first), int(last))
        return spans

    def _listeners_of_bucket(
        self, ids: list[int], grain: Grain, bucket: int, window: Span, whole: Span
    ) -> dict[int, int]:
        t = self.model.__table__.c
        stored = select(t.item_id, t.listeners).where(
            *self._mine(t), t.grain == grain.value, t.bucket == bucket, t.item_id.in_(ids)
        )
        counts = dict.fromkeys(ids, 0)
        for item, n in self.session.execute(stored):
            counts[int(item)] = int(n)
        # The listeners of the hours where window and bucket differ: in the window only (w),
        # in the bucket only (b), or since the watermark (fresh).
        w: set[tuple[int, int]] = set()
        b: set[tuple[int, int]] = set()
        for low, high, inside in self._edges(window, whole):
            (w if inside else b).update(
                self._pairs(ids, _moment(low), _moment(high), unfolded=False)
            )
        fresh = self._pairs(ids, _moment(window.start), _moment(window.end), unfolded=True)
        assert window.start is not None
        assert window.end is not None
        assert whole.start is not None
        assert whole.end is not None
        inner = (max(window.start, whole.start), min(window.end, whole.end))
        both = self._played_between(w | b | fresh, inner)
        for pair in w | b | fresh:
            in_window = pair in w or pair in both or pair in fresh
            in_bucket = pair in b or pair in both
            counts[pair[0]] += int(in_window) - int(in_bucket)
        return counts

    def _played_between(
        self, pairs: set[tuple[int, int]], span: tuple[int, int]
    ) -> set[tuple[int, int]]:
        """The pairs with a counted play in [start, end) (microseconds). Their first and
        last counted play settle most; the log is asked about the others, by listener and
        played item."""
        low, high = span
        found: set[tuple[int, int]] = set()
        unsure: set[tuple[int, int]] = set()
        for pair, (first, last) in self._pair_spans(pairs).items():
            if low <= first < high or low <= last < high:
                found.add(pair)
            elif first < low and last >= high:
                unsure.add(pair)
        if not unsure:
            return found
        mapping = self._mapping(sorted({target for target, _user in unsure}))
        users = sorted({user for _target, user in unsure})
        for chunk in _chunks(sorted(mapping)):
            stmt = (
                select(Play.item_id, Play.user_id)
                .where(
                    Play.user_id.in_(users),
                    Play.item_id.in_(chunk),
                    Play.played_at >= _moment(low),
                    Play.played_at < _moment(high),
                    Play.id <= self.state.through,
                )
                .distinct()
            )
            for played, user in self.session.execute(stmt):
                for target in mapping[int(played)]:
                    if (target, int(user)) in unsure:
                        found.add((target, int(user)))
        return found


_AnySelect = TypeVar("_AnySelect", bound="Select[*tuple[Any, ...]]")


def of_country(stmt: _AnySelect, country: str | None) -> _AnySelect:
    """Only the plays (of a statement on ``plays``) of the listeners of ``country``; all of
    them for None. Joined from the plays, so the plays are found first: SQLite would
    otherwise start from the country's people and look each one's plays up (23,398 for the
    US; for a chart's listeners, once per item of a chunk)."""
    if country is None:
        return stmt
    return stmt.join(User, User.id == no_index(Play.user_id)).where(User.country == country)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _moment(micros: int | None) -> datetime | None:
    if micros is None:
        return None
    from datetime import UTC, timedelta

    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
