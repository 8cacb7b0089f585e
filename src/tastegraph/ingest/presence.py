"""Who is watching (or listening to) an item right now: live audiences.

"Now" is the now-playing table: one row per user, kept by plain now-playing updates, progress
scrobbling and check-ins, each with an ``expires_at`` at the end of the item's runtime. An
audience is the live rows on one item. Incognito rows are never counted: the user asked to
leave no trace. Whose names may be shown is the social area's call, made by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.ingest.models import NowPlaying
from tastegraph.storage.base import utcnow


@dataclass(frozen=True)
class Audience:
    as_of: datetime
    watching: int
    countries: list[tuple[str | None, int]]
    """Country codes (None: not given) with their counts, most first."""


class PresenceService:
    """Works inside the caller's unit of work and never commits."""

    def __init__(self, session: Session, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.clock = clock

    def audience(self, item_id: int) -> Audience:
        """How many people watch ``item_id`` now, overall and per country, in one query."""
        now = self.clock()
        rows = self.session.execute(
            select(User.country, func.count())
            .select_from(NowPlaying)
            .join(User, User.id == NowPlaying.user_id)
            .where(*self._live(item_id, now))
            .group_by(User.country)
        ).all()
        countries = sorted(
            ((country, int(count)) for country, count in rows),
            key=lambda row: (-row[1], row[0] is None, row[0] or ""),
        )
        return Audience(
            as_of=now, watching=sum(count for _, count in countries), countries=countries
        )

    def watching_among(
        self, item_id: int, user_ids: Collection[int]
    ) -> list[tuple[User, NowPlaying]]:
        """Which of ``user_ids`` watch ``item_id`` now, longest-watching first."""
        if not user_ids:
            return []
        rows = self.session.execute(
            select(User, NowPlaying)
            .join(NowPlaying, NowPlaying.user_id == User.id)
            .where(*self._live(item_id, self.clock()), NowPlaying.user_id.in_(user_ids))
            .order_by(NowPlaying.started_at, User.name)
        ).all()
        return [(user, entry) for user, entry in rows]

    @staticmethod
    def _live(item_id: int, now: datetime) -> tuple[ColumnElement[bool], ...]:
        return (
            NowPlaying.item_id == item_id,
            NowPlaying.expires_at > now,
            NowPlaying.incognito == false(),
        )
