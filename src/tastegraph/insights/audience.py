"""Who watches a title: viewers, plays, completion, by week, country, segment and group.

Everything is counted from the play log (incognito plays are stored apart and never counted)
and the progress-scrobbling playbacks, for the items a title covers, in the window. A viewer
is a user with at least one play; each user has one country, so the viewers of the countries
add up to the title's viewers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.audiences.models import Segment, SegmentMember
from tastegraph.ingest.models import Play, Playback
from tastegraph.insights.schemas import COMPLETION_THRESHOLD
from tastegraph.insights.windows import InsightWindow
from tastegraph.social.models import Group, GroupMember, MembershipStatus

GROUPS_SHOWN = 20


@dataclass
class Tally:
    viewers: int = 0
    plays: int = 0
    completed: int = 0
    known: int = 0
    """Plays with a progress."""
    unfinished: int = 0
    """Playbacks never recorded as plays (all below the completion threshold)."""

    @property
    def playbacks(self) -> int:
        return self.known + self.unfinished

    @property
    def completion_rate(self) -> float | None:
        return round(self.completed / self.playbacks, 4) if self.playbacks else None


@dataclass
class Audience:
    total: Tally
    weeks: list[Tally]
    countries: dict[str | None, Tally]
    segments: list[tuple[Segment, int]] = field(default_factory=list)
    """Eligible segments (at or above the floor) and how many of the title's viewers are in
    each."""
    segments_below_floor: int = 0
    groups: list[tuple[Group, int]] = field(default_factory=list)


def _in_window(items: Sequence[int], window: InsightWindow) -> list[ColumnElement[bool]]:
    return [
        Play.item_id.in_(list(items)),
        Play.played_at >= window.since,
        Play.played_at < window.until,
    ]


def viewers_of(items: Sequence[int], window: InsightWindow) -> Select[int]:
    return select(Play.user_id).where(*_in_window(items, window)).distinct()


def _completed() -> ColumnElement[int]:
    return func.sum(case((Play.progress >= COMPLETION_THRESHOLD, 1), else_=0))


def count_audience(
    session: Session, items: Sequence[int], window: InsightWindow, *, floor: int
) -> Audience:
    where = _in_window(items, window)
    weekly = (
        select(window.week_of(Play.played_at).label("week"), Play.user_id, Play.progress)
        .where(*where)
        .subquery("weekly")
    )
    weeks = [Tally() for _ in window.weeks]
    completed = func.sum(case((weekly.c.progress >= COMPLETION_THRESHOLD, 1), else_=0))
    for week, viewers, plays, done, known in session.execute(
        select(
            weekly.c.week,
            func.count(weekly.c.user_id.distinct()),
            func.count(),
            completed,
            func.count(weekly.c.progress),
        ).group_by(weekly.c.week)
    ):
        weeks[int(week)] = Tally(int(viewers), int(plays), int(done or 0), int(known))

    countries: dict[str | None, Tally] = {}
    total = Tally()
    for country, viewers, plays, done, known in session.execute(
        select(
            User.country,
            func.count(Play.user_id.distinct()),
            func.count(),
            _completed(),
            func.count(Play.progress),
        )
        .join(User, User.id == Play.user_id)
        .where(*where)
        .group_by(User.country)
    ):
        tally = Tally(int(viewers), int(plays), int(done or 0), int(known))
        countries[country] = tally
        total.viewers += tally.viewers
        total.plays += tally.plays
        total.completed += tally.completed
        total.known += tally.known

    _unfinished(session, items, window, total, weeks, countries)
    audience = Audience(total=total, weeks=weeks, countries=countries)
    if total.viewers:
        _segments(session, items, window, floor, audience)
        _groups(session, items, window, audience)
    return audience


def _unfinished(
    session: Session,
    items: Sequence[int],
    window: InsightWindow,
    total: Tally,
    weeks: list[Tally],
    countries: dict[str | None, Tally],
) -> None:
    """Playbacks paused or stopped short (a stop at 80 % or more becomes a play and its
    playback row goes), started in the window; incognito ones are not counted."""
    rows = session.execute(
        select(Playback.started_at, Playback.progress, User.country)
        .join(User, User.id == Playback.user_id)
        .where(
            Playback.item_id.in_(list(items)),
            Playback.incognito.is_(False),
            Playback.started_at >= window.since,
            Playback.started_at < window.until,
        )
    )
    for started_at, progress, country in rows:
        done = progress >= COMPLETION_THRESHOLD
        for tally in (total, countries.setdefault(country, Tally())):
            tally.unfinished += 1
            tally.completed += done
        index = window.week_index(started_at)
        if index is not None:
            weeks[index].unfinished += 1
            weeks[index].completed += done


def eligible_segments(session: Session, floor: int) -> tuple[list[Segment], int]:
    """Active segments with at least ``floor`` consenting members, and how many are below."""
    segments = list(session.scalars(select(Segment).where(Segment.active.is_(True))))
    eligible = [s for s in segments if s.member_count >= floor]
    return sorted(eligible, key=lambda s: (s.name.lower(), s.id)), len(segments) - len(eligible)


def _segments(
    session: Session, items: Sequence[int], window: InsightWindow, floor: int, audience: Audience
) -> None:
    segments, below = eligible_segments(session, floor)
    audience.segments_below_floor = below
    if not segments:
        return
    viewers = viewers_of(items, window).subquery("viewers")
    counts = dict(
        session.execute(
            select(SegmentMember.segment_id, func.count())
            .join(viewers, viewers.c.user_id == SegmentMember.user_id)
            .where(SegmentMember.segment_id.in_([s.id for s in segments]))
            .group_by(SegmentMember.segment_id)
        ).all()
    )
    audience.segments = [(s, int(counts.get(s.id, 0))) for s in segments]


def _groups(
    session: Session, items: Sequence[int], window: InsightWindow, audience: Audience
) -> None:
    viewers = viewers_of(items, window).subquery("viewers")
    viewers_in = func.count().label("viewers")
    rows = session.execute(
        select(Group, viewers_in)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .join(viewers, viewers.c.user_id == GroupMember.user_id)
        .where(GroupMember.status == MembershipStatus.MEMBER)
        .group_by(Group.id)
        .order_by(viewers_in.desc(), Group.id)
        .limit(GROUPS_SHOWN)
    )
    audience.groups = [(group, int(n)) for group, n in rows]
