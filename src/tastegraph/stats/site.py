"""Site-wide views: trending items and the top listeners of an item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User, Visibility
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Play
from tastegraph.social.models import Friendship, FriendshipStatus
from tastegraph.stats.levels import played_for, target_for


@dataclass(frozen=True)
class Trend:
    item: Item
    plays: int
    previous: int
    rise: float
    """(plays - previous) / (previous + 5): growth, damped so a jump from 0 to 2 is no trend."""


@dataclass(frozen=True)
class Listener:
    user: User
    plays: int


_DAMPING = 5


class SiteStats:
    def __init__(self, session: Session) -> None:
        self.session = session

    def trending(
        self, level: Kind, start: datetime, end: datetime, *, limit: int = 20, min_plays: int = 3
    ) -> list[Trend]:
        """Items rising fastest in [start, end) against the equal period just before it."""
        span = end - start
        target = target_for(level)
        item_id = target.column.label("item_id")
        current = func.sum(case((Play.played_at >= start, 1), else_=0)).label("current")
        stmt = target.apply(
            select(item_id, current, func.count().label("both")).select_from(Play)
        ).where(Play.played_at >= start - span, Play.played_at < end)
        rows = self.session.execute(stmt.group_by(target.column)).all()
        scored = []
        for row in rows:
            now_plays = int(row.current or 0)
            before = int(row.both) - now_plays
            if now_plays >= min_plays and now_plays > before:
                scored.append(
                    (row.item_id, now_plays, before, (now_plays - before) / (before + _DAMPING))
                )
        scored.sort(key=lambda r: (-r[3], -r[1], r[0]))
        top = scored[:limit]
        items = {
            i.id: i
            for i in self.session.scalars(select(Item).where(Item.id.in_([r[0] for r in top])))
        }
        return [Trend(items[i], n, b, rise) for i, n, b, rise in top if i in items]

    def top_listeners(
        self,
        level: Kind,
        item_id: int,
        *,
        viewer: User | None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 20,
    ) -> list[Listener]:
        """The users who played an item most, among those whose profile the viewer may see.

        Only the plays that count for the item are read: the played items under it (a show's
        episodes, an artist's credited tracks, from ``played_for``) and their plays through
        the (item, time, user) index — never every play mapped up to its show or artist."""
        played = played_for(level, [item_id]).subquery("played")
        stmt = (
            select(Play.user_id, func.count().label("plays"))
            .select_from(played)
            .join(Play, Play.item_id == played.c.item_id)
        )
        if start is not None:
            stmt = stmt.where(Play.played_at >= start)
        if end is not None:
            stmt = stmt.where(Play.played_at < end)
        visible = [User.visibility == Visibility.PUBLIC]
        if viewer is not None:
            visible.append(User.id == viewer.id)
            friends = (
                select(Friendship.user_high_id)
                .where(
                    Friendship.user_low_id == viewer.id,
                    Friendship.status == FriendshipStatus.ACCEPTED,
                )
                .union(
                    select(Friendship.user_low_id).where(
                        Friendship.user_high_id == viewer.id,
                        Friendship.status == FriendshipStatus.ACCEPTED,
                    )
                )
            )
            visible.append((User.visibility == Visibility.FRIENDS) & User.id.in_(friends))
        counted = stmt.group_by(Play.user_id).subquery()
        rows = self.session.execute(
            select(User, counted.c.plays)
            .join(counted, counted.c.user_id == User.id)
            .where(or_(*visible))
            .order_by(counted.c.plays.desc(), User.name)
            .limit(limit)
        ).all()
        return [Listener(user, plays) for user, plays in rows]
