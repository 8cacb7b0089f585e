"""The stats service behind every interface: charts, totals and weekly charts.

Every figure is counted from the play log (incognito plays are stored apart and never
counted), so a chart always equals a recount of the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.matching import identity
from tastegraph.catalog.models import Item, ItemTag, Tag
from tastegraph.ingest.models import Play
from tastegraph.stats.levels import target_for
from tastegraph.stats.periods import Window, week_starts


@dataclass(frozen=True)
class ChartEntry:
    item: Item
    plays: int
    listeners: int
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
    ) -> Chart:
        """The most played items of a level, for one user or everyone, in a time window."""
        target = target_for(level)
        item_id = target.column.label("item_id")
        base = target.apply(select(item_id, Play.user_id.label("user_id")).select_from(Play))
        base = base.where(*self._filters(user, window, country))
        if tag is not None:
            tag_ids = (
                select(ItemTag.item_id)
                .join(Tag, Tag.id == ItemTag.tag_id)
                .where(Tag.key == identity(tag)[:64])
            )
            base = base.where(target.column.in_(tag_ids))
        rows_q = base.subquery()
        counted = (
            select(
                rows_q.c.item_id,
                func.count().label("plays"),
                func.count(rows_q.c.user_id.distinct()).label("listeners"),
            )
            .group_by(rows_q.c.item_id)
            .order_by(func.count().desc(), rows_q.c.item_id)
            .limit(limit)
            .offset(offset)
        )
        rows = self.session.execute(counted).all()
        total = self.session.scalar(select(func.count(rows_q.c.item_id.distinct()))) or 0
        items = self._items([r.item_id for r in rows])
        entries = [
            ChartEntry(
                item=items[r.item_id], plays=r.plays, listeners=r.listeners, rank=offset + i + 1
            )
            for i, r in enumerate(rows)
            if r.item_id in items
        ]
        return Chart(entries=entries, total=total, window=window)

    def item_totals(
        self, level: Kind, item_ids: list[int], *, user: User | None = None
    ) -> dict[int, ItemTotals]:
        """Plays and distinct listeners of items (for one user: that user's plays)."""
        if not item_ids:
            return {}
        target = target_for(level)
        item_id = target.column.label("item_id")
        stmt = target.apply(
            select(
                item_id,
                func.count().label("plays"),
                func.count(Play.user_id.distinct()).label("listeners"),
            ).select_from(Play)
        )
        stmt = stmt.where(target.column.in_(item_ids), *self._filters(user, None, None))
        stmt = stmt.group_by(target.column)
        found = {r.item_id: ItemTotals(r.plays, r.listeners) for r in self.session.execute(stmt)}
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


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
