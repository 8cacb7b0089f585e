"""Who watches a title: viewers, plays, completion, by week, country, segment and group.

Everything is counted from the play log (incognito plays are stored apart and never counted)
and the progress-scrobbling playbacks, for the items a title covers, in the window. A viewer
is a user with at least one play; each user has one country, so the viewers of the countries
add up to the title's viewers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    func,
    literal,
    null,
    select,
    text,
    union_all,
)
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


def count_audience(
    session: Session, items: Sequence[int], window: InsightWindow, *, floor: int
) -> Audience:
    """Two statements that read the title's plays from the index on item, time, user and
    progress (never the table): the weeks and the totals, then the breakdowns of the viewers
    by country, segment and group."""
    segments, below = eligible_segments(session, floor)
    played = (
        select(Play.user_id, window.week_of(Play.played_at).label("week"), Play.progress)
        .where(*_in_window(items, window))
        .subquery("played")
    )
    done = func.sum(case((played.c.progress >= COMPLETION_THRESHOLD, 1), else_=0))
    per_week = (
        select(
            played.c.user_id,
            played.c.week,
            func.count().label("plays"),
            done.label("done"),
            func.count(played.c.progress).label("known"),
        )
        .group_by(played.c.user_id, played.c.week)
        .cte("per_week")
    )
    sums = [
        func.sum(per_week.c.plays),
        func.sum(per_week.c.done),
        func.sum(per_week.c.known),
    ]
    weeks = [Tally() for _ in window.weeks]
    total = Tally()
    audience = Audience(total=total, weeks=weeks, countries={})
    audience.segments_below_floor = below
    with by_lookups(session):
        rows: Any = session.execute(
            union_all(
                select(per_week.c.week, func.count(), *sums).group_by(per_week.c.week),
                select(literal(-1), func.count(per_week.c.user_id.distinct()), *sums),
            )
        )
        for week, viewers, plays, completed, known in rows:
            tally = Tally(int(viewers), int(plays or 0), int(completed or 0), int(known or 0))
            if int(week) < 0:
                audience.total = total = tally
            else:
                weeks[int(week)] = tally
        if total.viewers:
            _breakdowns(session, played, done, segments, audience)
    _unfinished(session, items, window, total, weeks, audience.countries)
    return audience


def _breakdowns(
    session: Session,
    played: Any,
    done: ColumnElement[Any],
    segments: list[Segment],
    audience: Audience,
) -> None:
    per_viewer = (
        select(
            played.c.user_id,
            func.count().label("plays"),
            done.label("done"),
            func.count(played.c.progress).label("known"),
        )
        .group_by(played.c.user_id)
        .cte("per_viewer")
    )

    def part(name: str, number: Any, text: Any) -> list[Any]:
        return [
            literal(name).label("part"),
            number.label("number"),
            text.label("text"),
            func.count().label("viewers"),
            func.sum(per_viewer.c.plays).label("plays"),
            func.sum(per_viewer.c.done).label("done"),
            func.sum(per_viewer.c.known).label("known"),
        ]

    branches: list[Select[Any]] = [
        select(*part("country", null(), User.country))
        .join(User, User.id == per_viewer.c.user_id)
        .group_by(User.country),
        select(*part("group", GroupMember.group_id, null()))
        .join(GroupMember, GroupMember.user_id == per_viewer.c.user_id)
        .where(GroupMember.status == MembershipStatus.MEMBER)
        .group_by(GroupMember.group_id),
    ]
    if segments:
        branches.append(
            select(*part("segment", SegmentMember.segment_id, null()))
            .join(SegmentMember, SegmentMember.user_id == per_viewer.c.user_id)
            .where(SegmentMember.segment_id.in_([s.id for s in segments]))
            .group_by(SegmentMember.segment_id)
        )
    in_segment: dict[int, int] = {}
    in_group: dict[int, int] = {}
    for name, number, country, viewers, plays, completed, known in session.execute(
        union_all(*branches)
    ):
        if name == "country":
            audience.countries[country] = Tally(
                int(viewers), int(plays or 0), int(completed or 0), int(known or 0)
            )
        elif name == "segment":
            in_segment[int(number)] = int(viewers)
        else:
            in_group[int(number)] = int(viewers)
    audience.segments = [(s, in_segment.get(s.id, 0)) for s in segments]
    top = sorted(in_group.items(), key=lambda g: (-g[1], g[0]))[:GROUPS_SHOWN]
    if top:
        found = session.scalars(select(Group).where(Group.id.in_([i for i, _ in top])))
        groups = {g.id: g for g in found}
        audience.groups = [(groups[i], n) for i, n in top if i in groups]


@contextmanager
def by_lookups(session: Session) -> Iterator[None]:
    """Join a title's viewers to users, segments and groups by index lookups, however many
    there are, with room to group them in memory.

    PostgreSQL's estimate of a title's viewers in a window is often ten times off either way (a
    range over a few dozen items), and it then hashed 100,000 users and 450,000 segment members
    for 150 viewers. Even for 25,000 viewers, looking each up costs about what reading those
    tables whole does. Until the block ends; SQLite always looks up."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(
        text(
            "SET LOCAL work_mem = '64MB'; SET LOCAL enable_hashjoin = off; "
            "SET LOCAL enable_mergejoin = off"
        )
    )
    try:
        yield
    finally:
        session.execute(text("SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on"))


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
    country = select(User.country).where(User.id == Playback.user_id).scalar_subquery()
    rows: Any = session.execute(
        select(Playback.started_at, Playback.progress, country).where(
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
