"""Who watches a title: viewers, plays, completion, by week, country, segment and group.

Everything is counted from the play log (incognito plays are stored apart and never counted)
and the progress-scrobbling playbacks, for the items a title covers, in the window. A viewer
is a user with at least one play; each user has one country, so the viewers of the countries
add up to the title's viewers.

The plays travel packed (``packed.py``) and are counted in numpy, once. Segments are counted
from their bitmaps (``segment_bits.py``); countries and groups either from every user's
country and every group's members read through once (many viewers) or by sending the viewers
back as one parameter to be looked up (few).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
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
from tastegraph.insights.packed import IntArray, id_rows, packed, unpack
from tastegraph.insights.schemas import COMPLETION_THRESHOLD
from tastegraph.insights.segment_bits import count_members
from tastegraph.insights.windows import InsightWindow
from tastegraph.social.models import Group, GroupMember, MembershipStatus
from tastegraph.storage.dialect import roomy_sorts

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


def in_window(items: Sequence[int], window: InsightWindow) -> list[ColumnElement[bool]]:
    return [
        Play.item_id.in_(list(items)),
        Play.played_at >= window.since,
        Play.played_at < window.until,
    ]


WEEK_BITS = 6
"""A play's code is ``(user << 8) | (week << 2) | state``: 64 weeks (a window has at most
``windows.MAX_WEEKS``), four states."""
_NO_PROGRESS, _SHORT, _COMPLETE = 0, 1, 2


def play_codes(session: Session, items: Sequence[int], window: InsightWindow) -> IntArray:
    """One integer per play of the title in the window: who played it, in which week, and
    whether it has a progress and reached the completion threshold. One statement that reads
    the index on item, time, user and progress (never the table) and sends the codes packed
    into one value."""
    state = case(
        (Play.progress >= COMPLETION_THRESHOLD, _COMPLETE),
        (Play.progress.is_not(None), _SHORT),
        else_=_NO_PROGRESS,
    )
    code = Play.user_id * 256 + window.week_of(Play.played_at) * 4 + state
    return unpack(session.scalar(select(packed(code)).where(*in_window(items, window))))


@dataclass
class Viewers:
    """A title's viewers in the window (ascending ids) with their plays, completed plays and
    plays with a progress."""

    ids: IntArray
    plays: IntArray
    done: IntArray
    known: IntArray

    def tally(self, ids: IntArray) -> Tally:
        """The viewers among ``ids`` (each a viewer, once) and their plays."""
        at = np.searchsorted(self.ids, ids)
        return Tally(
            len(ids),
            int(self.plays[at].sum()),
            int(self.done[at].sum()),
            int(self.known[at].sum()),
        )


def count_plays(codes: IntArray, weeks: int) -> tuple[Tally, list[Tally], Viewers]:
    """The totals, the weeks and the viewers of a title's play codes.

    One sort (by viewer, then week) and runs over it: the first code of each viewer starts
    their run, the first of each (viewer, week) pair counts a viewer for the week. (numpy's
    ``unique`` hashes instead and took ten times as long for 185,000 plays.)"""
    if not len(codes):
        return Tally(), [Tally() for _ in range(weeks)], Viewers(*(codes,) * 4)
    codes = np.sort(codes)
    state = codes & 3
    done = (state == _COMPLETE).astype(np.int64)
    known = (state != _NO_PROGRESS).astype(np.int64)
    users = codes >> 8
    first = np.flatnonzero(np.concatenate(([True], users[1:] != users[:-1])))
    viewers = Viewers(
        ids=users[first],
        plays=np.diff(np.append(first, len(codes))),
        done=np.add.reduceat(done, first),
        known=np.add.reduceat(known, first),
    )
    pairs = codes >> 2
    new_pair = np.concatenate(([True], pairs[1:] != pairs[:-1]))
    week = pairs & (2**WEEK_BITS - 1)
    columns = (
        np.bincount(week[new_pair], minlength=weeks),
        np.bincount(week, minlength=weeks),
        np.bincount(week, weights=done, minlength=weeks),
        np.bincount(week, weights=known, minlength=weeks),
    )
    by_week = [Tally(*(int(c) for c in row)) for row in zip(*columns, strict=True)]
    total = Tally(len(first), len(codes), int(done.sum()), int(known.sum()))
    return total, by_week[:weeks], viewers


def count_audience(
    session: Session, items: Sequence[int], window: InsightWindow, *, floor: int
) -> Audience:
    """The plays in one statement, counted in numpy (totals, weeks, per viewer); then the
    breakdowns of the viewers by country, segment and group in another; then the unfinished
    playbacks."""
    segments, below = eligible_segments(session, floor)
    roomy_sorts(session)
    total, weeks, viewers = count_plays(play_codes(session, items, window), len(window.weeks))
    audience = Audience(total=total, weeks=weeks, countries={}, segments_below_floor=below)
    everyone = _breakdowns(session, viewers, segments, audience) if total.viewers else None
    if everyone is None:
        _unfinished(session, items, window, total, weeks, audience.countries)
    else:
        _unfinished_of_everyone(session, items, window, audience, everyone)
    return audience


@dataclass
class Everyone:
    """Every user's country, as read through by the breakdowns of a title with many viewers:
    ``index[user]`` is the position in ``names`` of the user's country (-1: no such user)."""

    index: np.ndarray[Any, np.dtype[np.int32]]
    names: list[str | None]

    def add(self, country: str | None, ids: IntArray) -> None:
        if len(ids) and ids.max() >= len(self.index):
            grown = np.full(int(ids.max()) + 1, -1, dtype=np.int32)
            grown[: len(self.index)] = self.index
            self.index = grown
        self.index[ids] = len(self.names)
        self.names.append(country)


def _breakdowns(
    session: Session, viewers: Viewers, segments: list[Segment], audience: Audience
) -> Everyone | None:
    """The viewers of each country, group and segment: segments from their bitmaps, the rest
    in one ``UNION ALL`` that returns each cell's viewers packed.

    Many viewers: every user's country and every group's (and bitmap-less segment's) members
    are read through once and looked up in a flag per viewer; every user's country is
    returned. Few: the viewers, sent as a parameter, are looked up one by one in users, groups
    and segments."""
    in_segment = count_members(session, [s.id for s in segments], viewers.ids)
    unmapped = [s.id for s in segments if s.id not in in_segment]
    many = reads_through(session, len(viewers.ids))
    flags = np.zeros(int(viewers.ids[-1]) + 1, dtype=bool)
    flags[viewers.ids] = True
    listed = None if many else select(id_rows(session, viewers.ids).cte("viewers").c.user_id)

    def cell(name: str, key: Any, users: Any, *where: ColumnElement[bool]) -> Select[Any]:
        number, country = (null(), key) if name == "country" else (key, null())
        columns: list[Any] = [literal(name), number, country, packed(users)]
        if listed is not None:
            where = (*where, users.in_(listed))
        return select(*columns).where(*where).group_by(key)

    branches = [
        cell("country", User.country, User.id),
        cell(
            "group",
            GroupMember.group_id,
            GroupMember.user_id,
            GroupMember.status == MembershipStatus.MEMBER,
        ),
    ]
    if unmapped:
        branches.append(
            cell(
                "segment",
                SegmentMember.segment_id,
                SegmentMember.user_id,
                SegmentMember.segment_id.in_(unmapped),
            )
        )
    in_group: dict[int, int] = {}
    everyone = Everyone(np.full(len(flags), -1, dtype=np.int32), []) if many else None
    with join_plan(session, many):
        rows: Any = session.execute(union_all(*branches))
        for name, number, country, packed_ids in rows:
            ids = unpack(packed_ids)
            if everyone is not None and name == "country":
                everyone.add(country, ids)
            ids = ids[ids < len(flags)]
            ids = ids[flags[ids]]  # the viewers among them
            if not len(ids):
                continue
            if name == "country":
                audience.countries[country] = viewers.tally(ids)
            elif name == "segment":
                in_segment[int(number)] = len(ids)
            else:
                in_group[int(number)] = len(ids)
    audience.segments = [(s, in_segment.get(s.id, 0)) for s in segments]
    top = sorted(in_group.items(), key=lambda g: (-g[1], g[0]))[:GROUPS_SHOWN]
    if top:
        found = session.scalars(select(Group).where(Group.id.in_([i for i, _ in top])))
        groups = {g.id: g for g in found}
        audience.groups = [(groups[i], n) for i, n in top if i in groups]
    return everyone


HASH_SHARE = 0.05
"""From this share of all users on (and at least ``HASH_MIN`` viewers), the breakdowns read
users and group members through once and look the viewers up in numpy; below, they look each
viewer up in the database, which is what scales with the title rather than with the tables."""
HASH_MIN = 2_000


def reads_through(session: Session, viewers: int) -> bool:
    """Whether a title's breakdowns should read users and members through (many viewers)
    rather than look each viewer up. The number of users is PostgreSQL's estimate."""
    if viewers < HASH_MIN:
        return False
    if session.get_bind().dialect.name == "postgresql":
        query = text("SELECT reltuples FROM pg_class WHERE oid = 'users'::regclass")
        users = float(session.scalar(query) or 0)
    else:
        users = float(session.scalar(select(func.count()).select_from(User)) or 0)
    return viewers >= HASH_SHARE * users


@contextmanager
def join_plan(session: Session, many: bool) -> Iterator[None]:
    """Look the viewers up one by one unless there are ``many`` (until the block ends).

    PostgreSQL's estimate of a title's viewers is often ten times off either way (a range over
    a few dozen items), and it then hashed 100,000 users and 450,000 segment members for 150
    viewers. The exact count is known by now. Nothing on SQLite, which looks up anyway."""
    if many or session.get_bind().dialect.name != "postgresql":
        yield
        return
    off = ("enable_hashjoin", "enable_mergejoin")
    session.execute(text("; ".join(f"SET LOCAL {o} = off" for o in off)))
    try:
        yield
    finally:
        session.execute(text("; ".join(f"SET LOCAL {o} = on" for o in off)))


def _unfinished(
    session: Session,
    items: Sequence[int],
    window: InsightWindow,
    total: Tally,
    weeks: list[Tally],
    countries: dict[str | None, Tally],
) -> None:
    """Playbacks paused or stopped short (a stop at 80 % or more becomes a play and its
    playback row goes), started in the window, counted per week, country and completion;
    incognito ones are not counted."""
    # Each playback's country looked up (a join hashed all users for 5,000 playbacks).
    country = select(User.country).where(User.id == Playback.user_id).scalar_subquery()
    started = (
        select(
            window.week_of(Playback.started_at).label("week"),
            country.label("country"),
            (Playback.progress >= COMPLETION_THRESHOLD).label("done"),
        )
        .where(
            Playback.item_id.in_(list(items)),
            Playback.incognito.is_(False),
            Playback.started_at >= window.since,
            Playback.started_at < window.until,
        )
        .subquery("started")
    )
    keys = (started.c.week, started.c.country, started.c.done)
    rows: Any = session.execute(select(*keys, func.count()).group_by(*keys))
    for index, country, complete, count in rows:
        completed = int(count) if complete else 0
        for tally in (total, weeks[int(index)], countries.setdefault(country, Tally())):
            tally.unfinished += int(count)
            tally.completed += completed


def _unfinished_of_everyone(
    session: Session,
    items: Sequence[int],
    window: InsightWindow,
    audience: Audience,
    everyone: Everyone,
) -> None:
    """``_unfinished`` when every user's country is at hand: the playbacks packed like plays
    (user, week, complete) and their countries looked up in numpy, without a join."""
    done = case((Playback.progress >= COMPLETION_THRESHOLD, 1), else_=0)
    code = Playback.user_id * 256 + window.week_of(Playback.started_at) * 4 + done
    codes = unpack(
        session.scalar(
            select(packed(code)).where(
                Playback.item_id.in_(list(items)),
                Playback.incognito.is_(False),
                Playback.started_at >= window.since,
                Playback.started_at < window.until,
            )
        )
    )
    if not len(codes):
        return
    users, week, complete = codes >> 8, (codes >> 2) & (2**WEEK_BITS - 1), codes & 1
    country = everyone.index[np.minimum(users, len(everyone.index) - 1)]
    # A playback's user always exists (a foreign key): never -1 unless users were added
    # between the two statements, and then their country is looked up.
    missing = (users >= len(everyone.index)) | (country < 0)
    if missing.any():
        late = dict(
            session.execute(
                select(User.id, User.country).where(User.id.in_(users[missing].tolist()))
            ).all()
        )
        for at in np.flatnonzero(missing).tolist():
            everyone.add(late.get(int(users[at])), users[at : at + 1])
        country = everyone.index[users]

    def in_country(at: int) -> Tally:
        return audience.countries.setdefault(everyone.names[at], Tally())

    cells: list[tuple[IntArray, Callable[[int], Tally]]] = [
        (week, audience.weeks.__getitem__),
        (country.astype(np.int64), in_country),
    ]
    for keys, tally_of in cells:
        unfinished = np.bincount(keys)
        completed = np.bincount(keys, weights=complete)
        for at in np.flatnonzero(unfinished).tolist():
            tally = tally_of(at)
            tally.unfinished += int(unfinished[at])
            tally.completed += int(completed[at])
    audience.total.unfinished += len(codes)
    audience.total.completed += int(complete.sum())


def eligible_segments(session: Session, floor: int) -> tuple[list[Segment], int]:
    """Active segments with at least ``floor`` consenting members, and how many are below."""
    segments = list(session.scalars(select(Segment).where(Segment.active.is_(True))))
    eligible = [s for s in segments if s.member_count >= floor]
    return sorted(eligible, key=lambda s: (s.name.lower(), s.id)), len(segments) - len(eligible)
