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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from time import monotonic

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User, Visibility
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Feedback, Play, Sentiment
from tastegraph.social.models import (
    Group,
    GroupMember,
    GroupPrivacy,
    MembershipStatus,
    Shout,
    ShoutTarget,
)
from tastegraph.social.services import SocialService
from tastegraph.social.shouts import HIDDEN_PLACE, Place, ShoutService
from tastegraph.storage.base import utcnow

MILESTONES = (100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000)
PLAY_BATCH = 1000
"""Plays read per page at most (before completing the last runs)."""
ENOUGH_PLAYS = 200
"""Plays that make a page without looking further back."""
LOOK_BACK = (timedelta(days=1), timedelta(days=7), timedelta(days=31), timedelta(days=366), None)
FUTURE = timedelta(hours=2)
"""Plays may lie a little in the future (clients' clocks)."""
MILESTONE_TTL = 300.0
"""Seconds a user's milestones are remembered (imports and deletions can move them)."""
ITEMS_SHOWN = 5


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
    user: User
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

    def sort_key(self) -> tuple[datetime, int, int, int]:
        return (self.at, -_ORDER[self.kind], self.user.id, self.tiebreak)


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


class MilestoneCache:
    """When each user reached each milestone, remembered for a few minutes per process: one
    pass over a user's plays finds them all, and a feed page need not count again."""

    def __init__(self, ttl: float = MILESTONE_TTL, size: int = 50_000) -> None:
        self.ttl = ttl
        self.size = size
        self._found: dict[int, tuple[float, list[tuple[int, datetime, int]]]] = {}

    def of(self, session: Session, user_id: int) -> list[tuple[int, datetime, int]]:
        """(milestone, when, the item played) for each milestone ``user_id`` reached."""
        now = monotonic()
        cached = self._found.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        numbered = (
            select(
                Play.played_at,
                Play.item_id,
                func.row_number().over(order_by=(Play.played_at, Play.id)).label("n"),
            )
            .where(Play.user_id == user_id)
            .subquery()
        )
        rows = session.execute(
            select(numbered.c.n, numbered.c.played_at, numbered.c.item_id)
            .where(numbered.c.n.in_(MILESTONES))
            .order_by(numbered.c.n)
        )
        found = [(int(n), _utc(at), int(item_id)) for n, at, item_id in rows]
        if len(self._found) >= self.size:
            self._found = {k: v for k, v in self._found.items() if v[0] > now}
            if len(self._found) >= self.size:
                self._found.clear()
        self._found[user_id] = (now + self.ttl, found)
        return found


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FeedService:
    """Reads only; works inside the caller's unit of work."""

    def __init__(
        self,
        session: Session,
        social: SocialService,
        shouts: ShoutService,
        *,
        milestones: MilestoneCache | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        self.social = social
        self.shouts = shouts
        self.milestones = milestones or MilestoneCache()
        self.clock = clock
        self._items: dict[int, Item] = {}
        self._roots: dict[int, int] = {}

    def feed(self, viewer: User, *, before: datetime | None = None, limit: int = 30) -> FeedPage:
        """``viewer``'s feed: their friends', followed people's and their own activity."""
        return self.page(viewer, self.social.feed_sources(viewer), before=before, limit=limit)

    def page(
        self,
        viewer: User | None,
        sources: Iterable[int],
        *,
        before: datetime | None = None,
        limit: int = 30,
    ) -> FeedPage:
        """The activity of ``sources`` as ``viewer`` may see it, events before ``before``."""
        people = self._people(viewer, sources)
        if not people:
            return FeedPage([], None)
        viewer_id = viewer.id if viewer is not None else None
        players = [u.id for u in people.values() if u.id == viewer_id or not u.hide_recent_activity]
        events: list[FeedEvent] = []
        floors: list[datetime] = []
        plays_floor, open_runs = self._plays(people, players, before, limit, events)
        if plays_floor is not None:
            floors.append(plays_floor)
        for floor in (
            self._loves(people, before, limit, events),
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
        # Runs the read cut short are completed now, for the page only.
        for index, event in enumerate(page):
            run = open_runs.get(id(event))
            if run is not None:
                self._complete(run)
                page[index] = self._run_event(event.user, run)
        return FeedPage(page, cut)

    # -- who ----------------------------------------------------------------------------------

    def _people(self, viewer: User | None, sources: Iterable[int]) -> dict[int, User]:
        ids = sorted(set(sources))
        if not ids:
            return {}
        users = list(self.session.scalars(select(User).where(User.id.in_(ids))))
        viewer_id = viewer.id if viewer is not None else None
        visible = self.social.visible_among(viewer, users)
        return {u.id: u for u in visible if u.id == viewer_id or u.visibility != Visibility.PRIVATE}

    # -- plays and milestones -----------------------------------------------------------------

    def _plays(
        self,
        people: dict[int, User],
        players: Sequence[int],
        before: datetime | None,
        limit: int,
        events: list[FeedEvent],
    ) -> tuple[datetime | None, dict[int, _Run]]:
        """Add the play runs and milestones. Returns the floor below which this page cannot
        go (every play of ``players`` in [floor, before) was read) and the runs that may go on
        below it, by the id of their event."""
        if not players:
            return None, {}
        raw, floor = self._read_plays(players, before, min(PLAY_BATCH, 100 + 20 * limit))
        if not raw:
            return floor, {}
        self._load_items({p.item_id for p in raw})
        by_user: dict[int, list[_Play]] = {}
        for play in raw:
            by_user.setdefault(play.user_id, []).append(play)
        heads = self._heads(list(by_user), before) if before is not None else {}
        open_runs: dict[int, _Run] = {}
        for user_id, plays in by_user.items():
            runs = self._runs(plays)
            bottom = runs[-1]
            head = heads.get(user_id)
            if (
                head is not None
                and self._roots[head.item_id] == runs[0].root_id
                and head.day == runs[0].day
            ):
                runs = runs[1:]  # the tail of a run an earlier page told in full
            user = people[user_id]
            for run in runs:
                event = self._run_event(user, run)
                events.append(event)
                if run is bottom and floor is not None:
                    open_runs[id(event)] = run
            events.extend(self._milestones(user, floor, before))
        return floor, open_runs

    def _read_plays(
        self, players: Sequence[int], before: datetime | None, size: int
    ) -> tuple[list[_Play], datetime | None]:
        """The newest plays before ``before``, looking back a day, a week, a month, a year,
        then without limit, until there are enough: time-bounded reads stay fast on a big
        log. The floor is the oldest time read completely (None: everything)."""
        top = before or self.clock() + FUTURE
        raw: list[_Play] = []
        for span in LOOK_BACK:
            lower = top - span if span is not None else None
            stmt = (
                select(Play.id, Play.user_id, Play.item_id, Play.played_at, Play.tz_offset_minutes)
                .where(Play.user_id.in_(players))
                .order_by(Play.played_at.desc(), Play.id.desc())
                .limit(size)
            )
            if before is not None:
                stmt = stmt.where(Play.played_at < before)
            if lower is not None:
                stmt = stmt.where(Play.played_at >= lower)
            raw = [_Play(*row) for row in self.session.execute(stmt)]
            if len(raw) == size:
                return raw, raw[-1].at
            if len(raw) >= min(ENOUGH_PLAYS, size) or lower is None:
                return raw, lower
        return raw, None

    def _runs(self, plays: list[_Play]) -> list[_Run]:
        runs: list[_Run] = []
        for play in plays:
            root = self._roots[play.item_id]
            last = runs[-1] if runs else None
            if last is not None and last.root_id == root and last.day == play.day:
                last.plays.append(play)
            else:
                runs.append(_Run(play.user_id, root, play.day, [play]))
        return runs

    def _complete(self, run: _Run) -> None:
        """Reach back for the rest of a run the page's read cut short."""
        oldest = run.plays[-1]
        day_start = datetime.combine(run.day, time(0), tzinfo=UTC) - timedelta(
            minutes=oldest.offset
        )
        rows = [
            _Play(*row)
            for row in self.session.execute(
                select(Play.id, Play.user_id, Play.item_id, Play.played_at, Play.tz_offset_minutes)
                .where(
                    Play.user_id == run.user_id,
                    Play.played_at >= day_start,
                    or_(
                        Play.played_at < oldest.at,
                        and_(Play.played_at == oldest.at, Play.id < oldest.id),
                    ),
                )
                .order_by(Play.played_at.desc(), Play.id.desc())
                .limit(PLAY_BATCH)
            )
        ]
        self._load_items({p.item_id for p in rows})
        for play in rows:
            if self._roots[play.item_id] != run.root_id or play.day != run.day:
                break
            run.plays.append(play)

    def _heads(self, user_ids: list[int], before: datetime) -> dict[int, _Play]:
        """Each user's first play at or after ``before``: whether their newest run here goes
        on from a run an earlier page told."""
        first = (
            select(Play.user_id, func.min(Play.played_at).label("at"))
            .where(Play.user_id.in_(user_ids), Play.played_at >= before)
            .group_by(Play.user_id)
            .subquery()
        )
        rows = self.session.execute(
            select(Play.id, Play.user_id, Play.item_id, Play.played_at, Play.tz_offset_minutes)
            .join(first, and_(Play.user_id == first.c.user_id, Play.played_at == first.c.at))
            .order_by(Play.id.desc())
        )
        heads = {play.user_id: play for play in (_Play(*row) for row in rows)}
        self._load_items({p.item_id for p in heads.values()})
        return heads

    def _run_event(self, user: User, run: _Run) -> FeedEvent:
        items = [self._items[p.item_id] for p in run.plays]
        root = self._items[run.root_id]
        newest = run.plays[0]
        return FeedEvent(
            kind=FeedKind.PLAYED,
            at=newest.at,
            user=user,
            summary=_played(items, root),
            subject=root,
            items=_distinct(items)[:ITEMS_SHOWN],
            count=len(run.plays),
            first_at=run.plays[-1].at,
            tiebreak=newest.id,
        )

    def _milestones(
        self, user: User, floor: datetime | None, before: datetime | None
    ) -> list[FeedEvent]:
        """The user's milestones in [floor, before)."""
        out = []
        for milestone, at, item_id in self.milestones.of(self.session, user.id):
            if (floor is None or at >= floor) and (before is None or at < before):
                self._load_items({item_id})
                item = self._items[item_id]
                out.append(
                    FeedEvent(
                        kind=FeedKind.MILESTONE,
                        at=at,
                        user=user,
                        summary=f"reached {milestone:,} plays",
                        subject=item,
                        items=[item],
                        milestone=milestone,
                        tiebreak=milestone,
                    )
                )
        return out

    def _load_items(self, ids: set[int]) -> None:
        """Items and their roots (the top of the parent chain, two levels up at most)."""
        missing = [i for i in ids if i not in self._roots]
        if not missing:
            return
        items = self._fetch(missing)
        parents = self._fetch([i.parent_id for i in items if i.parent_id])
        self._fetch([p.parent_id for p in parents if p.parent_id])
        for item in items:
            root = item
            for _ in range(2):
                if root.parent_id is None or root.parent_id not in self._items:
                    break
                root = self._items[root.parent_id]
            self._roots[item.id] = root.id

    def _fetch(self, ids: Iterable[int]) -> list[Item]:
        wanted = [i for i in set(ids) if i not in self._items]
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            for item in self.session.scalars(select(Item).where(Item.id.in_(chunk))):
                self._items[item.id] = item
        return [self._items[i] for i in set(ids) if i in self._items]

    # -- loves, groups, shouts ----------------------------------------------------------------

    def _loves(
        self,
        people: dict[int, User],
        before: datetime | None,
        limit: int,
        events: list[FeedEvent],
    ) -> datetime | None:
        stmt = (
            select(Feedback, Item)
            .join(Item, Item.id == Feedback.item_id)
            .where(Feedback.user_id.in_(list(people)), Feedback.sentiment == Sentiment.LOVE)
            .order_by(Feedback.created_at.desc(), Feedback.item_id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(Feedback.created_at < before)
        rows = list(self.session.execute(stmt))
        for feedback, item in rows:
            events.append(
                FeedEvent(
                    kind=FeedKind.LOVED,
                    at=feedback.created_at,
                    user=people[feedback.user_id],
                    summary=f"loved {item.title}",
                    subject=item,
                    items=[item],
                    tiebreak=item.id,
                )
            )
        return rows[-1][0].created_at if len(rows) == limit else None

    def _joins(
        self,
        viewer: User | None,
        people: dict[int, User],
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
                GroupMember.user_id.in_(list(people)),
                GroupMember.status == MembershipStatus.MEMBER,
                GroupMember.joined_at.is_not(None),
                or_(*open_to_viewer),
            )
            .order_by(GroupMember.joined_at.desc(), GroupMember.group_id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(GroupMember.joined_at < before)
        rows = list(self.session.execute(stmt))
        for membership, group in rows:
            assert membership.joined_at is not None
            events.append(
                FeedEvent(
                    kind=FeedKind.JOINED,
                    at=membership.joined_at,
                    user=people[membership.user_id],
                    summary=f"joined {group.name}",
                    group=group,
                    tiebreak=group.id,
                )
            )
        if len(rows) == limit:
            return rows[-1][0].joined_at
        return None

    def _shouts(
        self,
        viewer: User | None,
        people: dict[int, User],
        before: datetime | None,
        limit: int,
        events: list[FeedEvent],
    ) -> datetime | None:
        stmt = (
            select(Shout)
            .where(
                Shout.author_id.in_(list(people)),
                Shout.parent_id.is_(None),
                Shout.deleted_at.is_(None),
            )
            .order_by(Shout.created_at.desc(), Shout.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(Shout.created_at < before)
        rows = list(self.session.scalars(stmt))
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
                    user=people[shout.author_id],
                    summary=_shouted(place, people[shout.author_id]),
                    subject=place.item,
                    group=place.group,
                    shout=shout,
                    place=place,
                    tiebreak=shout.id,
                )
            )
        return rows[-1].created_at if len(rows) == limit else None


def _distinct(items: list[Item]) -> list[Item]:
    seen: dict[int, Item] = {}
    for item in items:
        seen.setdefault(item.id, item)
    return list(seen.values())


def _played(items: list[Item], root: Item) -> str:
    """'listened to 12 tracks by Beyoncé', 'watched Secrets from Dark', 'read 3 stories from
    NHK', 'listened to Halo by Beyoncé 3 times'."""
    first = items[0]
    verb, one, many, preposition = _WORDS.get(first.kind, ("played", "item", "items", "of"))
    distinct = _distinct(items)
    if len(distinct) == 1:
        text = f"{verb} {first.title}"
        if root.id != first.id and first.kind in (Kind.TRACK, Kind.STORY, Kind.EPISODE):
            text += f" {'by' if first.kind is Kind.TRACK else 'from'} {root.title}"
        return text + (f" {len(items)} times" if len(items) > 1 else "")
    if root.id in {i.id for i in distinct}:
        return f"{verb} {len(items)} {many if len(items) > 1 else one}"
    return f"{verb} {len(items)} {many} {preposition} {root.title}"


def _shouted(place: Place, author: User) -> str:
    if place.kind is ShoutTarget.USER and place.wall_owner is not None:
        if place.wall_owner.id == author.id:
            return "shouted on their own wall"
        return f"shouted on {place.wall_owner.name}'s wall"
    if place.kind is ShoutTarget.ITEM and place.item is not None:
        return f"shouted about {place.item.title}"
    if place.kind is ShoutTarget.TOPIC and place.topic is not None and place.group is not None:
        return f"posted in {place.topic.title} ({place.group.name})"
    if place.group is not None:
        return f"shouted in {place.group.name}"
    return "shouted"
