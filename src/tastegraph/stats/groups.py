"""Charts of a set of people: a group's aggregate taste.

The same counting as ``StatsService.chart`` — every play of the people in the window, at the
chart's level (``levels.py``) — restricted to a set of user ids, given as ids or as a
subquery (``GroupService.chart_members``: the members, less private profiles). Incognito
plays are stored apart and never counted, so a group chart always equals a recount of the
members' play log.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Play
from tastegraph.stats.levels import target_for
from tastegraph.stats.periods import Window
from tastegraph.stats.services import Chart, ChartEntry


class GroupStats:
    """Reads only; works inside the caller's unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def chart(
        self,
        level: Kind,
        members: Collection[int] | Select[int],
        *,
        window: Window | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Chart:
        """The most played items of a level among ``members``'s plays in ``window``, with how
        many of them played each (``listeners``)."""
        target = target_for(level)
        item_id = target.column.label("item_id")
        who = members if isinstance(members, Select) else list(members)
        base = target.apply(select(item_id, Play.user_id.label("user_id")).select_from(Play)).where(
            Play.user_id.in_(who)
        )
        if window is not None:
            if window.start is not None:
                base = base.where(Play.played_at >= window.start)
            base = base.where(Play.played_at < window.end)
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
        ids = [r.item_id for r in rows]
        items = (
            {i.id: i for i in self.session.scalars(select(Item).where(Item.id.in_(ids)))}
            if ids
            else {}
        )
        entries = [
            ChartEntry(
                item=items[r.item_id], plays=r.plays, listeners=r.listeners, rank=offset + i + 1
            )
            for i, r in enumerate(rows)
            if r.item_id in items
        ]
        return Chart(entries=entries, total=total, window=window)
