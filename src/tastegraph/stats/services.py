"""The stats service behind every interface: charts, totals and weekly charts.

Every figure equals a recount of the play log (incognito plays are stored apart and never
counted). A user's charts count their plays; site-wide and geo charts add up the rollups the
write path keeps (``rollups.py``), with raw plays at the window's edges (``spans.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    Subquery,
    cast,
    func,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.matching import identity
from tastegraph.catalog.models import Item, ItemTag, Tag
from tastegraph.ingest.models import Play
from tastegraph.stats import archive
from tastegraph.stats.charts import SiteChart, of_country
from tastegraph.stats.levels import played_for, target_for
from tastegraph.stats.models import ChartCount, ChartState, CountryChartCount, Grain
from tastegraph.stats.periods import Window, week_starts
from tastegraph.stats.spans import Extent, Piece, plan
from tastegraph.storage.dialect import no_index, planner_settings, roomy_sorts


@dataclass(frozen=True)
class ChartEntry:
    item: Item
    plays: int
    listeners: int | None
    """Distinct listeners in the window (1 in a user's chart); None when not asked for."""
    rank: int


@dataclass(frozen=True)
class Chart:
    entries: list[ChartEntry]
    total: int
    """How many distinct items the chart has, beyond this page."""
    window: Window | None


@dataclass(frozen=True)
class ItemTotals:
    plays: int
    listeners: int


class StatsService:
    """Reads only; works inside the caller's unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def chart(
        self,
        level: Kind,
        *,
        user: User | None = None,
        window: Window | None = None,
        country: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        offset: int = 0,
        listeners: bool = True,
    ) -> Chart:
        """The most played items of a level, for one user or everyone, in a time window.

        A user's chart counts their plays (an index on user and time finds them, and they
        are counted per item before they are mapped to the level). Site-wide and geo charts
        sum the rollups over the window's UTC days, months and years, with the raw plays at
        its edges (``spans.py``); listeners are counted for the page's items only, from the
        plays (over a long period the slow part: ``listeners=False`` leaves them out).
        """
        if user is None and tag is None:
            return self._site_chart(level, window, country, limit, offset, listeners)
        tag_ids = None
        if tag is not None:
            tag_ids = (
                select(ItemTag.item_id)
                .join(Tag, Tag.id == ItemTag.tag_id)
                .where(Tag.key == identity(tag)[:64])
            )
        if user is not None:
            # The user's plays come from the index; each played item then needs its catalogue
            # rows. PostgreSQL takes every play for a new item and prefers hashing the whole
            # catalogue (tens of ms at 700,000 items, growing with it) to a few thousand index
            # probes; for one user's chart the probes always win.
            with planner_settings(self.session, **_BY_INDEX_LOOKUPS):
                rows, total = self._page(
                    self._user_counts(level, user, window, country, tag_ids), limit, offset
                )
        else:
            counted = self._site_counts(level, window, country, tag_ids)
            if counted is None:
                return Chart(entries=[], total=0, window=window)
            rows, total = self._page(counted, limit, offset)
        ids = [item for item, _plays in rows]
        counts: dict[int, int] = {}
        if user is not None:
            counts = dict.fromkeys(ids, 1)
        elif listeners:
            counts = self._listeners(level, ids, window, country)
        return self._entries(rows, total, counts if listeners else None, offset, window)

    def _page(
        self, counted: Subquery, limit: int, offset: int
    ) -> tuple[list[tuple[int, int]], int]:
        """A page of (item, plays) of a full count, and how many items it has."""
        page = (
            select(counted.c.item_id, counted.c.plays, func.count().over().label("total"))
            .order_by(counted.c.plays.desc(), counted.c.item_id)
            .limit(limit)
            .offset(offset)
        )
        rows = self.session.execute(page).all()
        if rows:
            total = int(rows[0].total)
        else:
            total = self.session.scalar(select(func.count()).select_from(counted)) or 0
        return [(int(r.item_id), int(r.plays)) for r in rows], total

    def _entries(
        self,
        rows: list[tuple[int, int]],
        total: int,
        counts: dict[int, int] | None,
        offset: int,
        window: Window | None,
    ) -> Chart:
        items = self._items([item for item, _plays in rows])
        entries = [
            ChartEntry(
                item=items[item],
                plays=plays,
                listeners=counts.get(item, 0) if counts is not None else None,
                rank=offset + i + 1,
            )
            for i, (item, plays) in enumerate(rows)
            if item in items
        ]
        return Chart(entries=entries, total=total, window=window)

    def _site_chart(
        self,
        level: Kind,
        window: Window | None,
        country: str | None,
        limit: int,
        offset: int,
        listeners: bool,
    ) -> Chart:
        """A site-wide or geo chart: from the chart archive when it holds this window (a
        closed period) and is still right, else ``counted_site_chart``."""
        start, end = (window.start, window.end) if window is not None else (None, None)
        if start is not None and end is not None and offset + limit <= archive.ARCHIVE_DEPTH:
            kept = archive.served(self.session, archive.Key.of(level, country, start, end))
            if kept is not None:
                rows = [(item, plays) for item, plays, _n in kept.entries[offset : offset + limit]]
                counts = {item: n for item, _plays, n in kept.entries} if listeners else None
                return self._entries(rows, kept.total, counts, offset, window)
        return self.counted_site_chart(level, window, country, limit, offset, listeners)

    def counted_site_chart(
        self,
        level: Kind,
        window: Window | None,
        country: str | None,
        limit: int,
        offset: int,
        listeners: bool,
    ) -> Chart:
        """A site-wide or geo chart from the rollups (``charts.SiteChart``): its top items,
        how many there are and their listeners, each from a few rows where it can; summed in
        full where it cannot. Read again if the rollups changed meanwhile (PostgreSQL reads
        each statement afresh). Never read from the archive (``archiver.py`` fills it with
        these)."""
        start, end = (window.start, window.end) if window is not None else (None, None)
        settled = self.session.get_bind().dialect.name != "postgresql"
        for attempt in range(3):
            state = SiteChart.read_state(self.session)
            if state is None:
                return Chart(entries=[], total=0, window=window)
            roomy_sorts(self.session)
            _serial(self.session)
            chart = SiteChart(self.session, level, start, end, country, state)
            top = chart.top(offset + limit)
            total: int | None
            if top is None:
                counted = self._site_counts(level, window, country, None)
                if counted is None:
                    return Chart(entries=[], total=0, window=window)
                rows, total = self._page(counted, limit, offset)
            else:
                rows = top[offset : offset + limit]
                total = chart.total()
                if total is None:
                    counted = self._site_counts(level, window, country, None)
                    total = (
                        self.session.scalar(select(func.count()).select_from(counted)) or 0
                        if counted is not None
                        else 0
                    )
            ids = [item for item, _plays in rows]
            counts: dict[int, int] | None = None
            if listeners:
                counts = chart.listeners(ids)
                if counts is None:
                    counts = self._listeners(level, ids, window, country)
            if settled or attempt == 2 or SiteChart.version(self.session) == state.version:
                return self._entries(rows, total, counts, offset, window)
        raise AssertionError("unreachable")

    def _user_counts(
        self,
        level: Kind,
        user: User,
        window: Window | None,
        country: str | None,
        tag_ids: Select[int] | None,
    ) -> Subquery:
        """(item_id, plays) of the level's items in one user's plays."""
        # All of them: the (user, item, time) index hands them over grouped by item. A period:
        # the (user, time) index finds the few in it (and SQLite must not be tempted to walk
        # the first index to save the sort).
        played_item = (
            Play.item_id if window is None or window.start is None else no_index(Play.item_id)
        )
        per_item = (
            select(played_item.label("item_id"), func.count().label("plays"))
            .where(*self._filters(user, window, country))
            .group_by(played_item)
            .subquery("per_item")
        )
        target = target_for(level, per_item.c.item_id)
        stmt = target.apply(
            select(
                target.column.label("item_id"), _whole(func.sum(per_item.c.plays)).label("plays")
            ).select_from(per_item)
        )
        if tag_ids is not None:
            stmt = stmt.where(target.column.in_(tag_ids))
        return stmt.group_by(target.column).subquery("counted")

    def _site_counts(
        self,
        level: Kind,
        window: Window | None,
        country: str | None,
        tag_ids: Select[int] | None,
    ) -> Subquery | None:
        """(item_id, plays) of the level's items in everyone's plays, from the rollups and
        the raw plays at the window's edges; None when there are no plays at all."""
        first, last = self.session.execute(
            select(
                select(func.min(Play.played_at)).scalar_subquery(),
                select(func.max(Play.played_at)).scalar_subquery(),
            )
        ).one()
        if first is None:
            return None
        roomy_sorts(self.session)
        extent = Extent(_aware(first), _aware(last))
        start, end = (window.start, window.end) if window is not None else (None, None)
        # The rollups count the plays up to the watermark; the raw pieces count those too,
        # and the plays after it are counted raw over the whole window. Read in the same
        # statement, the watermark and the rollups agree.
        through = func.coalesce(select(ChartState.counted_through).scalar_subquery(), 0)
        # The watermark read a moment ago: a lower bound the index can use (a fold since then
        # only moves it on; the statement's own reading decides).
        through_hint = self.session.scalar(select(ChartState.counted_through)) or 0

        def raw(sign: int, begin: datetime | None, stop: datetime | None, counted: bool) -> Any:
            # Counted per played item first, then mapped to the level. Counted plays are found
            # by time; the plays after the watermark by id (``no_index`` keeps SQLite from
            # choosing the other index, or walking the item index to save a sort).
            if counted:
                when = [no_index(Play.id) <= through]
                at: Any = Play.played_at
            else:
                when = [Play.id > through_hint, Play.id > through]
                at = no_index(Play.played_at)
            if begin is not None:
                when.append(at >= begin)
            if stop is not None:
                when.append(at < stop)
            played_item = no_index(Play.item_id)
            # An integer count: PostgreSQL sums integers as bigints, bigints as numerics.
            plays = cast(func.count(), Integer).label("plays")
            per_item_plays = select(played_item.label("item_id"), plays)
            per_item = (
                of_country(per_item_plays, country)
                .where(*when)
                .group_by(played_item)
                .subquery("per_item")
            )
            target = target_for(level, per_item.c.item_id)
            part = target.apply(
                select(
                    target.column.label("item_id"), (per_item.c.plays * sign).label("plays")
                ).select_from(per_item)
            )
            return part if tag_ids is None else part.where(target.column.in_(tag_ids))

        parts: list[Any] = [raw(1, start, end, counted=False)]
        for piece in plan(start, end, extent):
            if piece.grain is None:
                parts.append(raw(piece.sign, piece.start, piece.end, counted=True))
                continue
            part = self._rollup_rows(level, piece, country)
            if tag_ids is not None:
                part = part.where(part.selected_columns.item_id.in_(tag_ids))
            parts.append(part)
        pieces = union_all(*parts).subquery("pieces")
        return (
            select(pieces.c.item_id, _whole(func.sum(pieces.c.plays)).label("plays"))
            .group_by(pieces.c.item_id)
            .having(func.sum(pieces.c.plays) > 0)
            .subquery("counted")
        )

    @staticmethod
    def _rollup_rows(level: Kind, piece: Piece, country: str | None) -> Select[int, int]:
        """(item_id, signed plays) of one bucket piece, site-wide or of one country."""
        model: type[ChartCount] | type[CountryChartCount] = (
            ChartCount if country is None else CountryChartCount
        )
        where = [model.level == level, model.grain == piece.grain]
        # As plain as possible, for PostgreSQL's estimates: ``all`` has one bucket.
        if piece.grain is Grain.ALL:
            pass
        elif piece.first == piece.last:
            where.append(model.bucket == piece.first)
        else:
            where.append(model.bucket.between(piece.first, piece.last))
        if country is not None:
            where.append(CountryChartCount.country == country)
        return select(
            model.item_id.label("item_id"), (model.plays * piece.sign).label("plays")
        ).where(*where)

    def _listeners(
        self, level: Kind, ids: list[int], window: Window | None, country: str | None
    ) -> dict[int, int]:
        """Distinct listeners of each of ``ids`` (items of ``level``) in the window, from the
        (item, time, user) index: each listener once per item, then (for a geo chart) the
        ones living in the country."""
        if not ids:
            return {}
        played = played_for(level, ids).subquery("played")
        pairs = (
            select(played.c.target_id, Play.user_id)
            .select_from(played)
            .join(Play, Play.item_id == played.c.item_id)
            .where(*self._filters(None, window, None))
            .distinct()
            .subquery("pairs")
        )
        stmt = select(pairs.c.target_id, func.count()).select_from(pairs)
        if country is not None:
            stmt = stmt.join(User, User.id == pairs.c.user_id).where(User.country == country)
        rows = self.session.execute(stmt.group_by(pairs.c.target_id)).all()
        return {int(target_id): int(listeners) for target_id, listeners in rows}

    def _totals(
        self,
        level: Kind,
        ids: list[int],
        window: Window | None,
        country: str | None,
        user: User | None,
    ) -> dict[int, ItemTotals]:
        """Plays and distinct listeners of each of ``ids`` (items of ``level``), from the raw
        plays of what counts for them, looked up by item (an index on item and time)."""
        if not ids:
            return {}
        played = played_for(level, ids).subquery("played")
        rows = of_country(
            select(played.c.target_id, Play.user_id)
            .select_from(played)
            .join(Play, Play.item_id == played.c.item_id),
            country,
        ).where(*self._filters(user, window, None))
        counted = rows.subquery("counted")
        stmt = select(
            counted.c.target_id, func.count(), func.count(counted.c.user_id.distinct())
        ).group_by(counted.c.target_id)
        return {
            int(target_id): ItemTotals(int(plays), int(listeners))
            for target_id, plays, listeners in self.session.execute(stmt).all()
        }

    def item_totals(
        self, level: Kind, item_ids: list[int], *, user: User | None = None
    ) -> dict[int, ItemTotals]:
        """Plays and distinct listeners of items (for one user: that user's plays)."""
        found = self._totals(level, item_ids, None, None, user)
        return {i: found.get(i, ItemTotals(0, 0)) for i in item_ids}

    def play_count(self, user: User, window: Window | None = None) -> int:
        stmt = select(func.count()).select_from(Play).where(*self._filters(user, window, None))
        return self.session.scalar(stmt) or 0

    def first_and_last(self, user: User) -> tuple[datetime, datetime] | None:
        row = self.session.execute(
            select(func.min(Play.played_at), func.max(Play.played_at)).where(
                Play.user_id == user.id
            )
        ).one()
        if row[0] is None:
            return None
        return _aware(row[0]), _aware(row[1])

    def weeks(self, user: User) -> list[tuple[datetime, datetime]]:
        """Every week, Monday to Monday in the user's zone, from their first play to now."""
        span = self.first_and_last(user)
        if span is None:
            return []
        return week_starts(span[0], span[1], user.timezone)

    def _filters(
        self, user: User | None, window: Window | None, country: str | None
    ) -> list[ColumnElement[bool]]:
        filters: list[ColumnElement[bool]] = []
        if user is not None:
            filters.append(Play.user_id == user.id)
        if window is not None:
            if window.start is not None:
                filters.append(Play.played_at >= window.start)
            filters.append(Play.played_at < window.end)
        if country is not None:
            filters.append(Play.user_id.in_(select(User.id).where(User.country == country)))
        return filters

    def _items(self, ids: list[int]) -> dict[int, Item]:
        if not ids:
            return {}
        return {
            item.id: item for item in self.session.scalars(select(Item).where(Item.id.in_(ids)))
        }


_BY_INDEX_LOOKUPS = {
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "max_parallel_workers_per_gather": "0",
}


def _serial(session: Session) -> None:
    """No parallel workers for this transaction's statements (PostgreSQL): a chart reads a
    few thousand rows per statement, and starting workers for each costs more than it saves
    (tens of milliseconds on a busy two-core machine)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _whole(total: ColumnElement[Any]) -> ColumnElement[int]:
    """A sum of counts as an integer: PostgreSQL sums BIGINT into NUMERIC (a Decimal)."""
    return cast(total, BigInteger)
