"""A user's listening profile beyond charts: the clock, streaks, discoveries, shares and tags.

These read one user's plays, which stay small (thousands to a few hundred thousand rows), so
they are computed in Python from the rows the database returns, in the user's local time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.models import Item, ItemTag, Tag
from tastegraph.ingest.models import Play
from tastegraph.stats.levels import target_for
from tastegraph.stats.periods import Window


@dataclass(frozen=True)
class DomainShare:
    domain: Domain
    plays: int
    share: float


@dataclass(frozen=True)
class Streaks:
    current: int
    """Local days in a row, up to today or yesterday, with at least one play."""
    longest: int
    longest_start: date | None
    longest_end: date | None
    active_days: int


@dataclass(frozen=True)
class DiscoveryWeek:
    week_start: date
    new_items: int
    plays: int


@dataclass(frozen=True)
class TagCount:
    name: str
    weight: int


class ProfileStats:
    """Reads only; works inside the caller's unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def shares(self, user: User, window: Window | None = None) -> list[DomainShare]:
        """Plays per content domain and each one's share of the total."""
        stmt = (
            select(Item.domain, func.count())
            .select_from(Play)
            .join(Item, Item.id == Play.item_id)
            .where(*_filters(user, window))
            .group_by(Item.domain)
        )
        counts = {Domain(d): n for d, n in self.session.execute(stmt)}
        total = sum(counts.values())
        return [
            DomainShare(
                domain=d, plays=counts.get(d, 0), share=counts.get(d, 0) / total if total else 0.0
            )
            for d in Domain
        ]

    def local_times(self, user: User, window: Window | None, zone: str | None) -> list[datetime]:
        """Each play's local time: as the person lived it (its stored offset), or in ``zone``."""
        rows = self.session.execute(
            select(Play.played_at, Play.tz_offset_minutes).where(*_filters(user, window))
        ).all()
        if zone is not None:
            tz = ZoneInfo(zone)
            return [_utc(at).astimezone(tz) for at, _ in rows]
        return [_utc(at).astimezone(timezone(timedelta(minutes=off))) for at, off in rows]

    def clock(
        self, user: User, window: Window | None = None, zone: str | None = None
    ) -> list[list[int]]:
        """Plays by weekday (0 = Monday) and hour of the local day: a 7 x 24 grid."""
        grid = [[0] * 24 for _ in range(7)]
        for moment in self.local_times(user, window, zone):
            grid[moment.weekday()][moment.hour] += 1
        return grid

    def streaks(self, user: User, today: date, zone: str | None = None) -> Streaks:
        days = sorted({m.date() for m in self.local_times(user, None, zone)})
        if not days:
            return Streaks(0, 0, None, None, 0)
        best_len, best_start, best_end = 1, days[0], days[0]
        run_start, run_len = days[0], 1
        for previous, day in pairwise(days):
            if day - previous == timedelta(days=1):
                run_len += 1
            else:
                run_start, run_len = day, 1
            if run_len > best_len:
                best_len, best_start, best_end = run_len, run_start, day
        current = 0
        if days[-1] >= today - timedelta(days=1):
            current = 1
            for previous, day in pairwise(reversed(days)):
                if previous - day != timedelta(days=1):
                    break
                current += 1
        return Streaks(current, best_len, best_start, best_end, len(days))

    def discoveries(self, user: User, level: Kind, zone: str) -> list[DiscoveryWeek]:
        """For every local week with plays: how many items of ``level`` were played for the
        first time ever, and how many plays the week had."""
        target = target_for(level)
        stmt = target.apply(
            select(target.column.label("item_id"), Play.played_at).select_from(Play)
        ).where(Play.user_id == user.id)
        tz = ZoneInfo(zone)
        first_seen: dict[int, datetime] = {}
        plays_per_week: Counter[date] = Counter()
        for item_id, at in self.session.execute(stmt):
            moment = _utc(at)
            if item_id not in first_seen or moment < first_seen[item_id]:
                first_seen[item_id] = moment
            plays_per_week[_week(moment.astimezone(tz).date())] += 1
        new_per_week = Counter(_week(m.astimezone(tz).date()) for m in first_seen.values())
        return [
            DiscoveryWeek(week_start=w, new_items=new_per_week.get(w, 0), plays=plays_per_week[w])
            for w in sorted(plays_per_week)
        ]

    def top_tags(
        self, user: User | None, window: Window | None = None, limit: int = 20
    ) -> list[TagCount]:
        """Tags weighted by plays: a play counts for the tags of the item played and of the
        artist, show, competition or outlet above it."""
        weights: Counter[str] = Counter()
        for level in (
            Kind.TRACK,
            Kind.ARTIST,
            Kind.EPISODE,
            Kind.SHOW,
            Kind.FILM,
            Kind.MATCH,
            Kind.COMPETITION,
            Kind.STORY,
            Kind.OUTLET,
        ):
            target = target_for(level)
            counts = target.apply(
                select(target.column.label("item_id"), func.count().label("n")).select_from(Play)
            )
            counted = counts.where(*_filters(user, window)).group_by(target.column).subquery()
            stmt = (
                select(Tag.name, func.sum(counted.c.n))
                .select_from(counted)
                .join(ItemTag, ItemTag.item_id == counted.c.item_id)
                .join(Tag, Tag.id == ItemTag.tag_id)
                .group_by(Tag.name)
            )
            for name, weight in self.session.execute(stmt):
                weights[name] += int(weight or 0)
        return [
            TagCount(name, w)
            for name, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        ]


def _filters(user: User | None, window: Window | None) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if user is not None:
        filters.append(Play.user_id == user.id)
    if window is not None:
        if window.start is not None:
            filters.append(Play.played_at >= window.start)
        filters.append(Play.played_at < window.end)
    return filters


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
