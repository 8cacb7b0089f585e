"""What is happening on the site right now: the items with the most people on them (live
audiences, from the now-playing entries; incognito ones never count), the events running by
their schedule, and what a set of people (a viewer's friends) are playing. Whose names may be
shown is the social area's call, made by the caller."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import NowPlaying
from tastegraph.ingest.progress import runtime_of
from tastegraph.social.events import EVENT_KINDS, LONGEST_EVENT
from tastegraph.storage.base import utcnow


@dataclass(frozen=True)
class LiveItem:
    item: Item
    watching: int
    """People on it now (never the incognito ones)."""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    """The schedule of an event (a match, a broadcast, a premiere); None for other items."""


class SiteNow:
    """Reads only; works inside the caller's unit of work."""

    def __init__(self, session: Session, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.clock = clock

    def live_events(self, *, limit: int = 10) -> list[LiveItem]:
        """Events live now: running by their schedule or watched now, most watched first."""
        now = self.clock()
        watched = dict(
            self.session.execute(
                select(NowPlaying.item_id, func.count())
                .join(Item, Item.id == NowPlaying.item_id)
                .where(
                    NowPlaying.expires_at > now,
                    NowPlaying.incognito == false(),
                    Item.kind.in_(EVENT_KINDS),
                )
                .group_by(NowPlaying.item_id)
            ).all()
        )
        scheduled = list(
            self.session.scalars(
                select(Item).where(
                    Item.kind.in_(EVENT_KINDS),
                    Item.merged_into_id.is_(None),
                    Item.released_at >= now - LONGEST_EVENT,
                    Item.released_at <= now,
                )
            )
        )
        items = {item.id: item for item in scheduled}
        missing = [i for i in watched if i not in items]
        if missing:
            items.update(
                (item.id, item)
                for item in self.session.scalars(select(Item).where(Item.id.in_(missing)))
            )
        out = []
        for item in items.values():
            starts = item.released_at
            ends = starts + runtime_of(item) if starts is not None else None
            running = starts is not None and ends is not None and starts <= now < ends
            count = int(watched.get(item.id, 0))
            if running or count:
                out.append(LiveItem(item, count, starts, ends))
        out.sort(key=lambda e: (-e.watching, e.starts_at or now, e.item.id))
        return out[:limit]

    def playing_among(self, user_ids: Collection[int]) -> list[tuple[User, NowPlaying, Item]]:
        """What each of ``user_ids`` is playing now (not incognito), most recent first."""
        if not user_ids:
            return []
        rows = self.session.execute(
            select(User, NowPlaying, Item)
            .join(NowPlaying, NowPlaying.user_id == User.id)
            .join(Item, Item.id == NowPlaying.item_id)
            .where(
                NowPlaying.user_id.in_(list(user_ids)),
                NowPlaying.expires_at > self.clock(),
                NowPlaying.incognito == false(),
            )
            .order_by(NowPlaying.started_at.desc(), User.name)
        ).all()
        return [(user, entry, item) for user, entry, item in rows]
