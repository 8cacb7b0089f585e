"""The activity feed: what friends, followed people and oneself played (summarised), loved,
joined and shouted, and the milestones they reached — newest first, paged by time.

* Plays are summarised: consecutive plays of one person under one parent item (an artist, a
  show, an outlet, a competition) on one local day make one entry, "listened to 12 tracks by
  Beyoncé", "watched 3 episodes of Borgen". An entry belongs to the page of its newest play,
  and is complete there: a page that cuts a run of plays short reaches back for the rest, and
  the next page leaves out what was already told.
* Milestones: the 100th, 500th, 1,000th ... play, at the time of that play.
* Privacy: private profiles never appear (except to themselves); people who hide recent
  activity show no plays or milestones; blocked people (either way) nothing; incognito plays
  are stored apart and never read here. Loves show as the profile's visibility allows, groups
  joined only when the group is public or the reader is in it, shouts only where the reader
  may read them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVarTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Row,
    Select,
    and_,
    column,
    func,
    literal,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Feedback, Play, Sentiment
from tastegraph.social.id_sets import IdSet
from tastegraph.social.models import (
    Group,
    GroupMember,
    GroupPrivacy,
    MembershipStatus,
    PlayCount,
    Shout,
    ShoutTarget,
)
from tastegraph.social.services import ActivityAudience, SocialService
from tastegraph.social.shouts import HIDDEN_PLACE, Place, ShoutService
from tastegraph.storage.base import utcnow

MILESTONES = (100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000)
PLAYS_PER_EVENT = 4
"""Plays read at first per event the page wants (most runs are short)."""
PLAY_BATCH = 1000
"""Plays read per page at most (before completing the runs the page cuts)."""
LOOK_BACK: tuple[timedelta | None, ...] = (
    *(timedelta(days=4**power) for power in range(7)),
    None,
)
"""How far back a read looks: a day, four, sixteen ... about eleven years, then without limit.
A read of the plays of hundreds of people in a time window costs what the window holds, so
it widens until it holds enough."""
_SPARSE_START = 2
"""Loves, joins and shouts are rarer than plays: their windows start at sixteen days."""
FUTURE = timedelta(hours=2)
"""Plays may lie a little in the future (clients' clocks)."""
ITEMS_SHOWN = 5
_Row = TypeVarTuple("_Row")
_TICK = timedelta(microseconds=1)


class FeedKind(StrEnum):
    PLAYED = "played"
    LOVED = "loved"
    JOINED = "joined"
    SHOUTED = "shouted"
    MILESTONE = "milestone"


_ORDER = {
    FeedKind.MILESTONE: 0,
    FeedKind.PLAYED: 1,
    FeedKind.LOVED: 2,
    FeedKind.JOINED: 3,
    FeedKind.SHOUTED: 4,
}

# kind -> (verb, singular, plural, preposition before the parent)
_WORDS: dict[Kind, tuple[str, str, str, str]] = {
    Kind.TRACK: ("listened to", "track", "tracks", "by"),
    Kind.EPISODE: ("watched", "episode", "episodes", "of"),
    Kind.FILM: ("watched", "film", "films", "of"),
    Kind.MATCH: ("watched", "match", "matches", "of"),
    Kind.PROGRAMME: ("followed", "programme", "programmes", "from"),
    Kind.STORY: ("read", "story", "stories", "from"),
}


@dataclass
class FeedEvent:
    kind: FeedKind
    at: datetime
    user_id: int
    summary: str
    subject: Item | None = None
    """What the entry is about: the parent of the plays, the loved item, the milestone's play."""
    items: list[Item] = field(default_factory=list)
    """The items played, newest first (up to five)."""
    count: int = 1
    first_at: datetime | None = None
    """The oldest play of a summarised run."""
    group: Group | None = None
    shout: Shout | None = None
    place: Place | None = None
    milestone: int | None = None
    tiebreak: int = 0
    user: User = field(init=False)
    """Who did it: read once the event makes the page."""

    def sort_key(self) -> tuple[datetime, int, int, int]:
        return (self.at, -_ORDER[self.kind], self.user_id, self.tiebreak)


@dataclass(frozen=True)
class FeedPage:
    events: list[FeedEvent]
    next_before: datetime | None
    """Pass as ``before`` for the next page; None when this is the last one."""


@dataclass
class _Play:
    id: int
    user_id: int
    item_id: int
    at: datetime
    offset: int
    root_id: int
    """The top of the item's parent chain (two levels up at most): artist, show, outlet."""

    @property
    def day(self) -> date:
        return (self.at + timedelta(minutes=self.offset)).date()


@dataclass
class _Run:
    user_id: int
    root_id: int
    day: date
    plays: list[_Play] = field(default_factory=list)
    """Newest first."""
    open: bool = False
    """The read may have stopped inside it: completed if it makes the page."""


@dataclass
class _Read:
    plays: list[_Play]
    """Newest first."""
    floor: datetime | None
    """Every play of the people read in [floor, before) is in ``plays``; None: all of them."""
    numbers: dict[int, int]
    """Per person read: the number (1 = their first ever) of their newest play here."""
    span: int
    """The index in LOOK_BACK of the window that held them."""


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _with_roots(plays: Any) -> Select[Any]:
    """The columns of ``_Play`` for the rows of ``plays`` (a subquery or CTE of play columns),
    each with its root item."""
    # Aliases of a two-column view of the items table: aliasing the mapped class would
    # build proxies of all its columns on every call.
    items = table(Item.__tablename__, column("id", BigInteger), column("parent_id", BigInteger))
    played, parent, grand = (items.alias(n) for n in ("played", "parent", "grand"))
    return (
        select(
            plays.c.id,
            plays.c.user_id,
            plays.c.item_id,
            plays.c.played_at,
            plays.c.tz_offset_minutes,
            func.coalesce(grand.c.id, parent.c.id, played.c.id).label("root_id"),
        )
        .select_from(plays)
        .join(played, played.c.id == plays.c.item_id)
        .outerjoin(parent, parent.c.id == played.c.parent_id)
        .outerjoin(grand, grand.c.id == parent.c.parent_id)
        .order_by(plays.c.played_at.desc(), plays.c.id.desc())
    )


def _people_rows(people: IdSet) -> Any:
    """The people as rows of a derived table (``people.user_id``), for a lateral join that reads
    each person's plays from their own index range on PostgreSQL."""
    unnested = func.unnest(people.array()).table_valued(column("user_id", BigInteger))
    return unnested.render_derived("people")


def _play_columns() -> Select[Any]:
    columns: list[Any] = [
        Play.id,
        Play.user_id,
        Play.item_id,
        Play.played_at,
        Play.tz_offset_minutes,
    ]
    return select(*columns)


class FeedService:
    """Reads only; works inside the caller's unit of work."""

    def __init__(
        self,
        session: Session,
        social: SocialService,
        shouts: ShoutService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        self.social = social
        self.shouts = shouts
        self.clock = clock
        self._items: dict[int, Item] = {}
        self._owners: list[User] = []

    def feed(self, viewer: User, *, before: datetime | None = None, limit: int = 30) -> FeedPage:
        """``viewer``'s feed: their friends', followed people's and their own activity."""
        return self._page(viewer, self.social.activity_audience(viewer), before, limit)

    def page(
        self,
        viewer: User | None,
        sources: Iterable[int],
        *,
        before: datetime | None = None,
        limit: int = 30,
    ) -> FeedPage:
        """The activity of ``sources`` as ``viewer`` may see it, events before ``before``."""
        ids = set(sources)
        if not ids:
            return FeedPage([], None)
        return self._page(viewer, self.social.activity_audience(viewer, ids), before, limit)

    def _page(
        self,
        viewer: User | None,
        audience: ActivityAudience,
        before: datetime | None,
        limit: int,
    ) -> FeedPage:
        if not audience.people:
            return FeedPage([], None)
        # Whose activity and whose plays, as SQL parameters rendered once for the page.
        people = IdSet(self.session, audience.people)
        players = IdSet(self.session, audience.players)
        events: list[FeedEvent] = []
        floors: list[datetime] = []
        details: dict[int, _Run | int] = {}
        """What the play runs, milestones and loves among ``events`` are (their runs, the
        items played or loved), by the id of their event: filled in once they make the
        page."""
        plays_floor = self._plays(players, before, limit, events, details)
        if plays_floor is not None:
            floors.append(plays_floor)
        for floor in (
            self._loves(people, before, limit, events, details),
            self._joins(viewer, people, before, limit, events),
            self._shouts(viewer, people, before, limit, events),
        ):
            if floor is not None:
                floors.append(floor)
        events.sort(key=FeedEvent.sort_key, reverse=True)
        cut: datetime | None = None
        if len(events) > limit:
            cut = events[limit - 1].at
        if floors:
            cut = max([*floors, *([cut] if cut is not None else [])])
        page = events if cut is None else [e for e in events if e.at >= cut]
        self._fill(page, details)
        return FeedPage(page, cut)

    # -- plays and milestones -----------------------------------------------------------------

    def _plays(
        self,
        players: IdSet,
        before: datetime | None,
        limit: int,
        events: list[FeedEvent],
        details: dict[int, _Run | int],
    ) -> datetime | None:
        """Add the play runs and milestones (their details come once they make the page).
        Returns the floor below which this page cannot go: every play of ``players`` in
        [floor, before) was read."""
        if not players:
            return None
        size = min(PLAY_BATCH, PLAYS_PER_EVENT * limit + 20)
        read = self._read_plays(players, before, size, 0)
        found = self._runs(read, before)
        # Long runs: read further until the runs alone could fill the page.
        while len(found) <= limit and read.floor is not None and size < PLAY_BATCH:
            size = min(PLAY_BATCH, size * 2)
            read = self._read_plays(players, before, size, read.span)
            found = self._runs(read, before)
        for run in found:
            newest = run.plays[0]
            event = FeedEvent(
                kind=FeedKind.PLAYED,
                at=newest.at,
                user_id=run.user_id,
                summary="",
                count=len(run.plays),
                first_at=run.plays[-1].at,
                tiebreak=newest.id,
            )
            details[id(event)] = run
            events.append(event)
        for event, item_id in self._milestones(read):
            details[id(event)] = item_id
            events.append(event)
        return read.floor

    def _read_plays(self, players: IdSet, before: datetime | None, size: int, span: int) -> _Read:
        """The newest ``size`` plays of ``players`` before ``before``, in windows widening from
        ``LOOK_BACK[span]`` until one holds them (or at least half of them), each play with its
        root, and the numbers of each person's plays, all in one statement (one snapshot)."""
        top = before or self.clock() + FUTURE
        for index in range(span, len(LOOK_BACK)):
            reach = LOOK_BACK[index]
            lower = top - reach if reach is not None else None
            plays, numbers = self._read_window(players, before, lower, size)
            if len(plays) == size:
                return self._at_floor(players, before, plays, numbers, index)
            if lower is None or len(plays) >= max(1, size // 2):
                return _Read(plays, lower, numbers, index)
        raise AssertionError("the last window has no limit")  # pragma: no cover

    def _read_window(
        self,
        players: IdSet,
        before: datetime | None,
        lower: datetime | None,
        size: int | None,
        *,
        at: datetime | None = None,
    ) -> tuple[list[_Play], dict[int, int]]:
        window: list[ColumnElement[bool]] = []
        if before is not None:
            window.append(Play.played_at < before)
        if lower is not None:
            window.append(Play.played_at >= lower)
        if at is not None:
            window.append(Play.played_at == at)
        rows_cte = self._newest(players, window, size).cte("newest")
        stmt = _with_roots(rows_cte).add_columns(PlayCount.plays)
        stmt = stmt.outerjoin(PlayCount, PlayCount.user_id == rows_cte.c.user_id)
        if before is not None:
            # How many of each person's plays come after ``before``: the numbering starts
            # below them.
            later = (
                select(Play.user_id, func.count().label("n"))
                .where(
                    Play.user_id.in_(select(rows_cte.c.user_id)),
                    Play.played_at >= before,
                )
                .group_by(Play.user_id)
                .subquery("later")
            )
            stmt = stmt.add_columns(later.c.n).outerjoin(
                later, later.c.user_id == rows_cte.c.user_id
            )
        else:
            stmt = stmt.add_columns(literal(0))
        plays: list[_Play] = []
        numbers: dict[int, int] = {}
        for (
            play_id,
            user_id,
            item_id,
            played_at,
            offset,
            root_id,
            total,
            later_n,
        ) in self.session.execute(stmt):
            plays.append(_Play(play_id, user_id, item_id, _utc(played_at), offset, root_id))
            if user_id not in numbers and total is not None:
                numbers[user_id] = int(total) - int(later_n or 0)
        return plays, numbers

    def _newest(
        self, players: IdSet, window: list[ColumnElement[bool]], size: int | None
    ) -> Select[Any]:
        """The newest ``size`` plays of ``players`` in ``window``, newest first. On PostgreSQL
        each person's plays are read from their own index range (a lateral join over the
        people): left to itself the planner may walk the whole log's time index backwards and
        filter, which costs what everyone played, not what these people did."""
        order = (Play.played_at.desc(), Play.id.desc())
        if self.session.get_bind().dialect.name != "postgresql":
            plain = _play_columns().where(players.has(Play.user_id), *window)
            return plain.order_by(*order).limit(size) if size is not None else plain
        people = _people_rows(players)
        theirs = _play_columns().where(Play.user_id == people.c.user_id, *window)
        if size is not None:
            theirs = theirs.order_by(*order).limit(size)
        mine = theirs.lateral("theirs")
        newest: Select[Any] = select(
            mine.c.id, mine.c.user_id, mine.c.item_id, mine.c.played_at, mine.c.tz_offset_minutes
        ).select_from(people.join(mine, true()))
        if size is not None:
            newest = newest.order_by(mine.c.played_at.desc(), mine.c.id.desc()).limit(size)
        return newest

    def _at_floor(
        self,
        players: IdSet,
        before: datetime | None,
        plays: list[_Play],
        numbers: dict[int, int],
        span: int,
    ) -> _Read:
        """A read that stopped at its size may have stopped among plays of one instant: those
        are left to the next page, whole (the floor is just above them). If every play read
        is of that instant, all of that instant's plays are read instead."""
        last = plays[-1].at
        if plays[0].at != last:
            kept = [p for p in plays if p.at != last]
            return _Read(kept, last + _TICK, numbers, span)
        everything, numbers = self._read_window(players, before, None, None, at=last)
        return _Read(everything, last, numbers, span)

    def _runs(self, read: _Read, before: datetime | None) -> list[_Run]:
        """Consecutive plays of one person under one root on one local day. A person's oldest
        run may go on below the floor (open); their newest may be the tail of a run an
        earlier page told in full (left out)."""
        by_user: dict[int, list[_Play]] = {}
        for play in read.plays:
            by_user.setdefault(play.user_id, []).append(play)
        heads = self._heads(list(by_user), before) if before is not None and by_user else {}
        out: list[_Run] = []
        for user_id, plays in by_user.items():
            runs: list[_Run] = []
            for play in plays:
                last = runs[-1] if runs else None
                if last is not None and last.root_id == play.root_id and last.day == play.day:
                    last.plays.append(play)
                else:
                    runs.append(_Run(user_id, play.root_id, play.day, [play]))
            runs[-1].open = read.floor is not None
            head = heads.get(user_id)
            if head is not None and head.root_id == runs[0].root_id and head.day == runs[0].day:
                runs = runs[1:]  # the tail of a run an earlier page told in full
            out.extend(runs)
        return out

    def _heads(self, user_ids: list[int], before: datetime) -> dict[int, _Play]:
        """Each user's first play at or after ``before``: whether their newest run here goes
        on from a run an earlier page told."""
        people = IdSet(self.session, user_ids)
        if self.session.get_bind().dialect.name == "postgresql":
            # Each person's first play from their own index range (a lateral join): joined
            # back by time instead, the planner hashes every partition of the log.
            who = _people_rows(people)
            theirs = (
                _play_columns()
                .where(Play.user_id == who.c.user_id, Play.played_at >= before)
                .order_by(Play.played_at, Play.id)
                .limit(1)
                .lateral("first_play")
            )
            rows = (
                select(
                    theirs.c.id,
                    theirs.c.user_id,
                    theirs.c.item_id,
                    theirs.c.played_at,
                    theirs.c.tz_offset_minutes,
                )
                .select_from(who.join(theirs, true()))
                .subquery("heads")
            )
        else:
            first = (
                select(Play.user_id, func.min(Play.played_at).label("at"))
                .where(people.has(Play.user_id), Play.played_at >= before)
                .group_by(Play.user_id)
                .subquery()
            )
            rows = (
                _play_columns()
                .join(first, and_(Play.user_id == first.c.user_id, Play.played_at == first.c.at))
                .order_by(Play.id.desc())
                .subquery("heads")
            )
        heads: dict[int, _Play] = {}
        for row in self.session.execute(_with_roots(rows)):
            play = _Play(row[0], row[1], row[2], _utc(row[3]), row[4], row[5])
            current = heads.get(play.user_id)
            if current is None or play.id < current.id:
                heads[play.user_id] = play
        return heads

    def _complete(self, runs: list[_Run]) -> None:
        """Reach back for the rest of the runs the page's read may have cut short (each
        person's oldest run read): their plays of that local day below the oldest read, in
        one statement for them all (the people's plays in the span that covers every run's
        day, sorted out here)."""
        if not runs:
            return
        starts = {
            id(run): datetime.combine(run.day, time(0), tzinfo=UTC)
            - timedelta(minutes=run.plays[-1].offset)
            for run in runs
        }
        rows = (
            _play_columns()
            .where(
                Play.user_id.in_(sorted({run.user_id for run in runs})),
                Play.played_at >= min(starts.values()),
                Play.played_at <= max(run.plays[-1].at for run in runs),
            )
            .subquery("older")
        )
        older: dict[int, list[_Play]] = {}
        for row in self.session.execute(_with_roots(rows)):
            play = _Play(row[0], row[1], row[2], _utc(row[3]), row[4], row[5])
            older.setdefault(play.user_id, []).append(play)
        for run in runs:
            oldest = run.plays[-1]
            for play in older.get(run.user_id, []):
                if (play.at, play.id) >= (oldest.at, oldest.id):
                    continue
                if play.at < starts[id(run)] or play.root_id != run.root_id or play.day != run.day:
                    break
                run.plays.append(play)

    def _milestones(self, read: _Read) -> list[tuple[FeedEvent, int]]:
        """The milestones among the plays read, with the item played: each person's plays
        numbered down from the newest (its number from the person's play count)."""
        out = []
        position: dict[int, int] = {}
        for play in read.plays:
            top = read.numbers.get(play.user_id)
            if top is None:
                continue
            seen = position.get(play.user_id, 0)
            position[play.user_id] = seen + 1
            number = top - seen
            if number in _MILESTONE_SET:
                event = FeedEvent(
                    kind=FeedKind.MILESTONE,
                    at=play.at,
                    user_id=play.user_id,
                    summary=f"reached {number:,} plays",
                    milestone=number,
                    tiebreak=number,
                )
                out.append((event, play.item_id))
        return out

    def _fill(self, page: list[FeedEvent], details: dict[int, _Run | int]) -> None:
        """Complete the runs and name the people and items of the events that made the
        page."""
        if not page:
            return
        wanted_people = {event.user_id for event in page}
        users = {
            u.id: u
            for u in self.session.scalars(
                select(User).where(IdSet(self.session, wanted_people).has(User.id))
            )
        }
        for event in page:
            event.user = users[event.user_id]
        on_page: list[tuple[FeedEvent, _Run]] = []
        marked: list[tuple[FeedEvent, int]] = []
        for event in page:
            detail = details.get(id(event))
            if isinstance(detail, _Run):
                on_page.append((event, detail))
            elif detail is not None:
                marked.append((event, detail))
        self._complete([run for _event, run in on_page if run.open])
        wanted: set[int] = set()
        for _event, run in on_page:
            wanted.add(run.root_id)
            wanted.update(_distinct_ids(run.plays)[:ITEMS_SHOWN])
        wanted.update(item_id for _event, item_id in marked)
        self._fetch(wanted)
        for event, run in on_page:
            ids = _distinct_ids(run.plays)
            root = self._items[run.root_id]
            first = self._items[ids[0]]
            event.summary = _played(first, len(ids), root, run.root_id in ids, len(run.plays))
            event.subject = root
            event.items = [self._items[i] for i in ids[:ITEMS_SHOWN]]
            event.count = len(run.plays)
            event.first_at = run.plays[-1].at
        for event, item_id in marked:
            item = self._items[item_id]
            event.subject = item
            event.items = [item]
            if event.kind is FeedKind.LOVED:
                event.summary = f"loved {item.title}"

    def _fetch(self, ids: Iterable[int]) -> None:
        wanted = [i for i in set(ids) if i not in self._items]
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            for item in self.session.scalars(select(Item).where(Item.id.in_(chunk))):
                self._items[item.id] = item

    # -- loves, groups, shouts ----------------------------------------------------------------

    def _loves(
        self,
        people: IdSet,
        before: datetime | None,
        limit: int,
        events: list[FeedEvent],
        details: dict[int, _Run | int],
    ) -> datetime | None:
        stmt = (
            select(Feedback.user_id, Feedback.item_id, Feedback.created_at)
            .where(
                people.has(Feedback.user_id),
                Feedback.sentiment == Sentiment.LOVE,
            )
            .order_by(Feedback.created_at.desc(), Feedback.item_id.desc())
        )
        rows, floor = self._windowed(stmt, Feedback.created_at, lambda row: row[2], before, limit)
        for user_id, item_id, at in rows:
            # Named once it makes the page, with the page's other items.
            event = FeedEvent(
                kind=FeedKind.LOVED,
                at=_utc(at),
                user_id=user_id,
                summary="",
                tiebreak=item_id,
            )
            details[id(event)] = item_id
            events.append(event)
        return floor

    def _joins(
        self,
        viewer: User | None,
        people: IdSet,
        before: datetime | None,
        limit: int,
        events: list[FeedEvent],
    ) -> datetime | None:
        open_to_viewer = [Group.privacy == GroupPrivacy.PUBLIC]
        if viewer is not None:
            open_to_viewer.append(
                Group.id.in_(
                    select(GroupMember.group_id).where(
                        GroupMember.user_id == viewer.id,
                        GroupMember.status == MembershipStatus.MEMBER,
                    )
                )
            )
        stmt = (
            select(GroupMember, Group)
            .join(Group, Group.id == GroupMember.group_id)
            .where(
                people.has(GroupMember.user_id),
                GroupMember.status == MembershipStatus.MEMBER,
                GroupMember.joined_at.is_not(None),
                or_(*open_to_viewer),
            )
            .order_by(GroupMember.joined_at.desc(), GroupMember.group_id.desc())
        )
        rows, floor = self._windowed(
            stmt, GroupMember.joined_at, lambda row: row[0].joined_at, before, limit
        )
        for membership, group in rows:
            assert membership.joined_at is not None
            events.append(
                FeedEvent(
                    kind=FeedKind.JOINED,
                    at=membership.joined_at,
                    user_id=membership.user_id,
                    summary=f"joined {group.name}",
                    group=group,
                    tiebreak=group.id,
                )
            )
        return floor

    def _shouts(
        self,
        viewer: User | None,
        people: IdSet,
        before: datetime | None,
        limit: int,
        events: list[FeedEvent],
    ) -> datetime | None:
        stmt = (
            select(Shout)
            .where(
                people.has(Shout.author_id),
                Shout.parent_id.is_(None),
                Shout.deleted_at.is_(None),
            )
            .order_by(Shout.created_at.desc(), Shout.id.desc())
        )
        found, floor = self._windowed(
            stmt, Shout.created_at, lambda row: row[0].created_at, before, limit
        )
        rows: list[Shout] = [row[0] for row in found]
        # The walls' owners in one query: opening each wall then finds its owner in the
        # session (which holds them only while someone does: here, this service).
        walls = {s.target_id for s in rows if s.target_kind is ShoutTarget.USER}
        if walls:
            self._owners = list(self.session.scalars(select(User).where(User.id.in_(walls))))
        places: dict[tuple[ShoutTarget, int], Place | None] = {}
        for shout in rows:
            key = (shout.target_kind, shout.target_id)
            if key not in places:
                try:
                    places[key] = self.shouts.open(viewer, *key)
                except HIDDEN_PLACE:
                    places[key] = None
            place = places[key]
            if place is None:
                continue
            events.append(
                FeedEvent(
                    kind=FeedKind.SHOUTED,
                    at=shout.created_at,
                    user_id=shout.author_id,
                    summary=_shouted(place, shout.author_id),
                    subject=place.item,
                    group=place.group,
                    shout=shout,
                    place=place,
                    tiebreak=shout.id,
                )
            )
        return floor

    def _windowed(
        self,
        stmt: Select[*_Row],
        moment: Any,
        when: Callable[[Row[*_Row]], datetime | None],
        before: datetime | None,
        limit: int,
    ) -> tuple[list[Row[*_Row]], datetime | None]:
        """The newest ``limit`` rows of ``stmt`` (ordered newest first by the column
        ``moment``; ``when`` reads it from a row) before ``before``, in the widening windows
        of ``LOOK_BACK``, with the floor: every row in [floor, before) is among them (None:
        every row)."""
        if before is not None:
            stmt = stmt.where(moment < before)
        top = before or self.clock() + FUTURE
        for reach in LOOK_BACK[_SPARSE_START:]:
            lower = top - reach if reach is not None else None
            window = stmt.where(moment >= lower) if lower is not None else stmt
            rows = list(self.session.execute(window.limit(limit)).all())
            last = when(rows[-1]) if len(rows) == limit else None
            if last is not None:
                return rows, _utc(last)
            if lower is None:
                return rows, None
            if len(rows) >= max(1, limit // 2):
                return rows, lower
        raise AssertionError("the last window has no limit")  # pragma: no cover


_MILESTONE_SET = frozenset(MILESTONES)


def _distinct_ids(plays: list[_Play]) -> list[int]:
    """The items played, newest first, each once."""
    return list(dict.fromkeys(p.item_id for p in plays))


def _played(first: Item, distinct: int, root: Item, root_played: bool, plays: int) -> str:
    """'listened to 12 tracks by Beyoncé', 'watched Secrets from Dark', 'read 3 stories from
    NHK', 'listened to Halo by Beyoncé 3 times'."""
    verb, one, many, preposition = _WORDS.get(first.kind, ("played", "item", "items", "of"))
    if distinct == 1:
        text = f"{verb} {first.title}"
        if root.id != first.id and first.kind in (Kind.TRACK, Kind.STORY, Kind.EPISODE):
            text += f" {'by' if first.kind is Kind.TRACK else 'from'} {root.title}"
        return text + (f" {plays} times" if plays > 1 else "")
    if root_played:
        return f"{verb} {plays} {many if plays > 1 else one}"
    return f"{verb} {plays} {many} {preposition} {root.title}"


def _shouted(place: Place, author_id: int) -> str:
    if place.kind is ShoutTarget.USER and place.wall_owner is not None:
        if place.wall_owner.id == author_id:
            return "shouted on their own wall"
        return f"shouted on {place.wall_owner.name}'s wall"
    if place.kind is ShoutTarget.ITEM and place.item is not None:
        return f"shouted about {place.item.title}"
    if place.kind is ShoutTarget.TOPIC and place.topic is not None and place.group is not None:
        return f"posted in {place.topic.title} ({place.group.name})"
    if place.group is not None:
        return f"shouted in {place.group.name}"
    return "shouted"
