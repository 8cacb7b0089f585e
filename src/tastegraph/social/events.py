"""Events: items people watch together as they happen — a match, a broadcast (a news
programme), a premiere (an episode or a film at its first air time).

An event starts at its item's ``released_at`` and lasts its runtime (``ingest.progress.
runtime_of``). It is live while it runs, and whenever people are watching it now (a replay
watched together is a live room too). Audiences come from the now-playing entries
(``ingest.presence``); incognito viewers are never counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session

from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.ingest.models import NowPlaying
from tastegraph.ingest.progress import runtime_of
from tastegraph.storage.base import utcnow

EVENT_KINDS: frozenset[Kind] = frozenset({Kind.MATCH, Kind.PROGRAMME, Kind.EPISODE, Kind.FILM})
"""Kinds whose items happen at a time: matches, broadcasts and premieres."""
LONGEST_EVENT = timedelta(hours=6)
"""How far back a running event may have started (for the query; runtimes decide)."""
UPCOMING = timedelta(days=14)


@dataclass(frozen=True)
class EventView:
    item: Item
    starts_at: datetime | None
    ends_at: datetime | None
    live: bool
    watching: int


def is_event(item: Item) -> bool:
    return item.kind in EVENT_KINDS


class EventService:
    """Reads only; works inside the caller's unit of work."""

    def __init__(self, session: Session, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.clock = clock

    def describe(self, item: Item) -> EventView:
        """One item as an event: when it runs, whether it is live, how many watch now."""
        now = self.clock()
        watching = self._watching([item.id], now).get(item.id, 0)
        return self._view(item, now, watching)

    def around(self, item: Item, *, limit: int = 20) -> tuple[list[EventView], list[EventView]]:
        """(live, upcoming) events linked to ``item``: the item itself if it is an event, a
        team's or a competition's matches, a show's or a season's episodes, an outlet's
        programmes."""
        linked = linked_events(item)
        if linked is None:
            return [], []
        now = self.clock()
        running = list(
            self.session.scalars(
                select(Item)
                .where(
                    Item.id.in_(linked),
                    Item.released_at >= now - LONGEST_EVENT,
                    Item.released_at <= now,
                )
                .order_by(Item.released_at, Item.id)
            )
        )
        watched_ids = self._watched_among(linked, now)
        watched = dict(watched_ids)
        extra = [i for i in watched if i not in {e.id for e in running}]
        if extra:
            running += list(self.session.scalars(select(Item).where(Item.id.in_(extra))))
        live = [
            view
            for view in (self._view(e, now, watched.get(e.id, 0)) for e in running)
            if view.live
        ]
        live.sort(key=lambda v: (-v.watching, v.starts_at or now, v.item.id))
        upcoming = [
            self._view(e, now, 0)
            for e in self.session.scalars(
                select(Item)
                .where(
                    Item.id.in_(linked),
                    Item.released_at > now,
                    Item.released_at <= now + UPCOMING,
                )
                .order_by(Item.released_at, Item.id)
                .limit(limit)
            )
        ]
        return live[:limit], upcoming

    def everywhere(self, *, limit: int = 30) -> tuple[list[EventView], list[EventView]]:
        """(live, upcoming) events of the whole site: those running or watched now, the most
        watched first, and those starting in the next 14 days, the soonest first."""
        now = self.clock()
        events = (Item.kind.in_(list(EVENT_KINDS)), Item.merged_into_id.is_(None))
        watched = {
            item_id: int(count)
            for item_id, count in self.session.execute(
                select(NowPlaying.item_id, func.count())
                .join(Item, Item.id == NowPlaying.item_id)
                .where(NowPlaying.expires_at > now, NowPlaying.incognito == false(), *events)
                .group_by(NowPlaying.item_id)
                .order_by(func.count().desc(), NowPlaying.item_id)
                .limit(limit * 4)
            )
        }
        running = list(
            self.session.scalars(
                select(Item)
                .where(*events, Item.released_at >= now - LONGEST_EVENT, Item.released_at <= now)
                .order_by(Item.released_at.desc(), Item.id)
                .limit(limit * 4)
            )
        )
        known = {item.id for item in running}
        missing = [item_id for item_id in watched if item_id not in known]
        if missing:
            running += list(self.session.scalars(select(Item).where(Item.id.in_(missing))))
        live = [
            view
            for view in (self._view(i, now, watched.get(i.id, 0)) for i in running)
            if view.live
        ]
        live.sort(key=lambda v: (-v.watching, v.starts_at or now, v.item.id))
        upcoming = [
            self._view(item, now, 0)
            for item in self.session.scalars(
                select(Item)
                .where(*events, Item.released_at > now, Item.released_at <= now + UPCOMING)
                .order_by(Item.released_at, Item.id)
                .limit(limit)
            )
        ]
        return live[:limit], upcoming

    def _view(self, item: Item, now: datetime, watching: int) -> EventView:
        starts = item.released_at
        ends = starts + runtime_of(item) if starts is not None else None
        running = starts is not None and ends is not None and starts <= now < ends
        return EventView(
            item=item,
            starts_at=starts,
            ends_at=ends,
            live=is_event(item) and (running or watching > 0),
            watching=watching,
        )

    def _watching(self, item_ids: list[int], now: datetime) -> dict[int, int]:
        rows = self.session.execute(
            select(NowPlaying.item_id, func.count())
            .where(
                NowPlaying.item_id.in_(item_ids),
                NowPlaying.expires_at > now,
                NowPlaying.incognito == false(),
            )
            .group_by(NowPlaying.item_id)
        )
        return {item_id: int(count) for item_id, count in rows}

    def _watched_among(self, linked: Select[int], now: datetime) -> list[tuple[int, int]]:
        rows = self.session.execute(
            select(NowPlaying.item_id, func.count())
            .where(
                NowPlaying.item_id.in_(linked),
                NowPlaying.expires_at > now,
                NowPlaying.incognito == false(),
            )
            .group_by(NowPlaying.item_id)
        )
        return [(item_id, int(count)) for item_id, count in rows]


def linked_events(item: Item) -> Select[int] | None:
    """The ids of the event items that belong to ``item``, as a subquery; None if none can."""
    if item.kind in EVENT_KINDS:
        return select(Item.id).where(Item.id == item.id)
    canonical = Item.merged_into_id.is_(None)
    if item.kind is Kind.TEAM:
        return (
            select(ItemCredit.item_id)
            .join(Item, Item.id == ItemCredit.item_id)
            .where(ItemCredit.credited_id == item.id, Item.kind == Kind.MATCH, canonical)
        )
    if item.kind is Kind.SHOW:
        seasons = select(Item.id).where(Item.parent_id == item.id, Item.kind == Kind.SEASON)
        return select(Item.id).where(
            or_(Item.parent_id == item.id, Item.parent_id.in_(seasons)),
            Item.kind == Kind.EPISODE,
            canonical,
        )
    child = _CHILD_EVENTS.get(item.kind)
    if child is None:
        return None
    return select(Item.id).where(Item.parent_id == item.id, Item.kind == child, canonical)


_CHILD_EVENTS = {
    Kind.COMPETITION: Kind.MATCH,
    Kind.SEASON: Kind.EPISODE,
    Kind.OUTLET: Kind.PROGRAMME,
}
"""Kinds whose events hang right under them."""
