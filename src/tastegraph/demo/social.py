"""The demo community's social life: follows, groups around its favourite things, topics,
shouts with replies and reactions, a live room, and a few waiting friend requests.

Written in bulk, deterministically (times come from the community's window, choices from
the seed), after plays and friendships, in one unit of work and a fraction of a second:

* everyone with friends follows one or two of the busiest public people;
* five groups: one around the most played artist, show, team and outlet (their top public
  listeners are the members, the first one the owner, the second a moderator), and a free
  theme; the demo person owns the show's group and is in every one;
* each group has a topic with posts and a shoutbox; friends shout on the demo person's wall,
  with replies and reactions; the most watched match has a live room;
* two people ask the demo person to be friends (with notifications).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User, Visibility
from tastegraph.catalog.kinds import CreditRole, Domain, Kind
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.catalog.schemas import ItemRef, MatchRef
from tastegraph.demo.generate import Community
from tastegraph.demo.items import DOMAIN_INDEX
from tastegraph.social.graph import pair
from tastegraph.social.groups import slugify
from tastegraph.social.models import (
    Follow,
    Friendship,
    FriendshipStatus,
    Group,
    GroupMember,
    GroupPrivacy,
    GroupRole,
    MembershipStatus,
    Notification,
    NotificationKind,
    Shout,
    ShoutReaction,
    ShoutTarget,
    Topic,
)
from tastegraph.storage.dialect import insert_or_ignore

MEMBERS = 30
STARS = 40
"""Busiest public people, whom others follow."""

_GROUPS: tuple[tuple[Domain, Kind, str, GroupPrivacy], ...] = (
    (Domain.MUSIC, Kind.ARTIST, "{} fans", GroupPrivacy.PUBLIC),
    (Domain.TV, Kind.SHOW, "{} watchers", GroupPrivacy.PUBLIC),
    (Domain.SPORTS, Kind.TEAM, "{} supporters", GroupPrivacy.PUBLIC),
    (Domain.NEWS, Kind.OUTLET, "{} readers", GroupPrivacy.PRIVATE),
)
_TOPICS = (
    "What got you into {}?",
    "Best moments of {} this year",
    "Recommendations for fellow {} lovers",
)
_POSTS = (
    "Still can't stop coming back to this.",
    "Saw this with friends last week — what a night.",
    "Underrated, honestly. More people should know about it.",
    "Does anyone else think the early stuff was better?",
    "Adding this to my weekend list, thanks!",
    "Absolutely agree. @{} said the same thing yesterday.",
    "Here's a good read about it: https://en.wikipedia.org/wiki/{}",
)
_WALL = (
    "Your charts this week are wild 😄",
    "We have the same taste, it's uncanny.",
    "Thanks for the recommendation, loved it!",
    "Long time no see — what are you listening to these days?",
)
_LIVE = ("Here we go!", "What a start!", "GOAL! 🎉", "Unbelievable save.", "Come on!!")
_REACTIONS = ("like", "love", "laugh", "fire", "clap")


@dataclass
class SocialCounts:
    follows: int = 0
    groups: int = 0
    shouts: int = 0


def populate(
    session: Session,
    community: Community,
    user_ids: list[int],
    item_ids: list[int],
    resolve: Callable[[list[ItemRef]], list[int]],
) -> SocialCounts:
    """Write the social layer; how much of it there is. ``resolve`` is the catalogue's, for
    the supported team's next fixtures."""
    if len(user_ids) < 4:
        return SocialCounts()
    end, seed = community.window.end, community.config.seed
    plays_item = community.plays.item
    domains = community.catalogue.items.domain
    gen = np.random.default_rng([seed, 11])
    counts = SocialCounts()
    demo = user_ids[0]
    public = _public_by_activity(community, user_ids)
    counts.follows = _follow(session, user_ids, public, gen, end)
    writer = _Writer(session, gen, end)
    played = np.bincount(plays_item, minlength=len(item_ids))
    for domain, kind, pattern, privacy in _GROUPS:
        in_domain = np.flatnonzero(domains == DOMAIN_INDEX[domain])
        if len(in_domain) == 0:
            continue
        # The most played item that has a root of the kind (a race has no home team).
        ranked = in_domain[np.argsort(-played[in_domain], kind="stable")][:50]
        found = next(
            (
                (i, r)
                for i in ranked.tolist()
                if (r := _root(session, item_ids[i], kind)) is not None
            ),
            None,
        )
        if found is None:
            continue
        top, root = found
        fans = _listeners(community, top, user_ids, set(public))
        members = [m for m in fans or public if m != demo]
        members = members[: MEMBERS - 1]
        # The demo person owns the show's group and is a member of the others.
        members = [demo, *members] if kind is Kind.SHOW else [*members, demo]
        writer.group(pattern.format(root.title), root, privacy, members)
        if kind is Kind.TEAM:
            _fixtures(session, root, end, resolve)
    theme = [demo, *public[: MEMBERS - 1]]
    writer.group("Night owls", None, GroupPrivacy.INVITE_ONLY, theme[:12])
    friends = _friends(session, demo)
    writer.wall(demo, friends[:6])
    writer.live_room(_busiest_match(session, item_ids, plays_item, domains), public[:10])
    writer.requests(demo, [p for p in public if p not in friends and p != demo][:2])
    counts.groups = writer.groups
    counts.shouts = writer.shouts
    return counts


def _public_by_activity(community: Community, user_ids: list[int]) -> list[int]:
    """The busiest people with public profiles, busiest first."""
    plays = np.bincount(community.plays.user, minlength=len(user_ids))
    order = np.argsort(-plays, kind="stable").tolist()
    visibility = community.people.visibility
    public = [i for i in order if visibility[i] == Visibility.PUBLIC and plays[i] > 0]
    return [user_ids[i] for i in public[: STARS * 3]]


def _follow(
    session: Session, user_ids: list[int], stars: list[int], gen: np.random.Generator, end: datetime
) -> int:
    if not stars:
        return 0
    top = stars[:STARS]
    rows = []
    picks = gen.integers(0, len(top), size=(len(user_ids), 2))
    days = gen.integers(1, 200, size=len(user_ids))
    for index, user_id in enumerate(user_ids):
        for followee in {top[int(p)] for p in picks[index]}:
            if followee != user_id:
                rows.append(
                    {
                        "follower_id": user_id,
                        "followee_id": followee,
                        "created_at": end - timedelta(days=int(days[index])),
                    }
                )
    for start in range(0, len(rows), 1000):
        session.execute(insert_or_ignore(session, Follow), rows[start : start + 1000])
    return len(rows)


def _root(session: Session, item_id: int, kind: Kind) -> Item | None:
    """The item of ``kind`` a played item belongs to: up its parents, or a match's home team."""
    item = session.get(Item, item_id)
    if kind is Kind.TEAM:
        team = session.scalar(
            select(Item)
            .join(ItemCredit, ItemCredit.credited_id == Item.id)
            .where(ItemCredit.item_id == item_id, ItemCredit.role == CreditRole.HOME)
        )
        return team
    for _ in range(3):
        if item is None or item.kind is kind:
            return item
        item = session.get(Item, item.parent_id) if item.parent_id else None
    return item if item is not None and item.kind is kind else None


def _listeners(community: Community, item: int, user_ids: list[int], public: set[int]) -> list[int]:
    """The public people who played an item (the root's most played one) most."""
    plays = community.plays
    who = plays.user[plays.item == item]
    counts = np.bincount(who, minlength=len(user_ids))
    order = np.argsort(-counts, kind="stable").tolist()
    return [user_ids[i] for i in order if counts[i] > 0 and user_ids[i] in public][:MEMBERS]


def _fixtures(
    session: Session, team: Item, end: datetime, resolve: Callable[[list[ItemRef]], list[int]]
) -> None:
    """Two upcoming matches of the team, against teams it has played, so that its group has
    events coming up."""
    played = session.execute(
        select(Item, ItemCredit.role)
        .join(ItemCredit, ItemCredit.item_id == Item.id)
        .where(ItemCredit.credited_id == team.id, Item.kind == Kind.MATCH)
        .order_by(Item.released_at.desc(), Item.id)
        .limit(2)
    ).all()
    refs: list[ItemRef] = []
    for days, (match, _) in zip((2, 6), played, strict=False):
        rival = session.scalar(
            select(Item.title)
            .join(ItemCredit, ItemCredit.credited_id == Item.id)
            .where(ItemCredit.item_id == match.id, Item.id != team.id)
        )
        competition = session.get(Item, match.parent_id) if match.parent_id else None
        if rival is None:
            continue
        home, away = (team.title, rival) if days == 2 else (rival, team.title)
        refs.append(
            MatchRef(
                kind=Kind.MATCH,
                competition=competition.title if competition else None,
                home=home,
                away=away,
                starts_at=end + timedelta(days=days, hours=19),
            )
        )
    if refs:
        resolve(refs)


def _friends(session: Session, user_id: int) -> list[int]:
    from tastegraph.social.graph import friend_ids

    return sorted(friend_ids(session, user_id))


def _busiest_match(
    session: Session,
    item_ids: list[int],
    plays_item: NDArray[np.int64],
    domains: NDArray[np.int64],
) -> Item | None:
    sports = np.flatnonzero(domains[plays_item] == DOMAIN_INDEX[Domain.SPORTS])
    if len(sports) == 0:
        return None
    top = int(np.bincount(plays_item[sports]).argmax())
    return session.get(Item, item_ids[top])


class _Writer:
    def __init__(self, session: Session, gen: np.random.Generator, end: datetime) -> None:
        self.session = session
        self.gen = gen
        self.end = end
        self.groups = 0
        self.shouts = 0
        self._names: dict[int, str] = {}

    def _ago(self, low_hours: float, high_hours: float) -> datetime:
        hours = float(self.gen.uniform(low_hours, high_hours))
        return (self.end - timedelta(hours=hours)).replace(microsecond=0)

    def _name(self, user_id: int) -> str:
        if user_id not in self._names:
            self._names[user_id] = (
                self.session.scalar(select(User.name).where(User.id == user_id)) or "someone"
            )
        return self._names[user_id]

    def group(
        self, name: str, item: Item | None, privacy: GroupPrivacy, members: list[int]
    ) -> None:
        members = list(dict.fromkeys(members))
        slug = slugify(name)
        if len(slug) < 2 or self.session.scalar(select(Group.id).where(Group.slug == slug)):
            return
        created = self._ago(24 * 60, 24 * 90)
        group = Group(
            slug=slug,
            name=name,
            description=f"For everyone who loves {item.title}." if item else "Up late? Us too.",
            item_id=item.id if item else None,
            privacy=privacy,
            created_by_id=members[0],
            created_at=created,
        )
        self.session.add(group)
        self.session.flush()
        self.groups += 1
        rows = []
        for position, user_id in enumerate(members):
            role = GroupRole.MEMBER
            if position == 0:
                role = GroupRole.OWNER
            elif position == 1:
                role = GroupRole.MODERATOR
            joined = created if position == 0 else self._ago(1, 24 * 59)
            rows.append(
                GroupMember(
                    group_id=group.id,
                    user_id=user_id,
                    role=role,
                    status=MembershipStatus.MEMBER,
                    created_at=joined,
                    joined_at=joined,
                )
            )
        self.session.add_all(rows)
        subject = item.title if item else "late nights"
        talkers = members[: min(len(members), 8)]
        topic_time = self._ago(24 * 3, 24 * 20)
        topic = Topic(
            group_id=group.id,
            author_id=talkers[0],
            title=_TOPICS[self.groups % len(_TOPICS)].format(subject),
            created_at=topic_time,
            last_post_at=topic_time,
        )
        self.session.add(topic)
        self.session.flush()
        posts = [
            self._shout(
                ShoutTarget.TOPIC, topic.id, talkers[i % len(talkers)], subject, i, topic_time
            )
            for i in range(min(4, len(talkers) + 1))
        ]
        topic.last_post_at = max(p.created_at for p in posts)
        box = [
            self._shout(ShoutTarget.GROUP, group.id, talkers[-1 - i % len(talkers)], subject, i + 3)
            for i in range(3)
        ]
        self._reply(box[0], talkers[1 % len(talkers)], "Couldn't agree more.")
        self._react([*posts, *box], members)

    def wall(self, owner: int, friends: list[int]) -> None:
        for i, friend in enumerate(friends):
            shout = self._add(
                ShoutTarget.USER, owner, friend, _WALL[i % len(_WALL)], self._ago(2, 24 * 14)
            )
            if i == 0:
                self._reply(shout, owner, "Ha, thanks! Let's compare charts soon.")
            self._notify(owner, NotificationKind.WALL_SHOUT, friend, shout.id, shout.created_at)
            self._react([shout], [owner])

    def live_room(self, match: Item | None, people: list[int]) -> None:
        if match is None or not people:
            return
        start = match.released_at or self._ago(24, 48)
        for i, text in enumerate(_LIVE):
            at = start + timedelta(minutes=3 + 17 * i)
            if at >= self.end:
                break
            self._add(ShoutTarget.ITEM, match.id, people[i % len(people)], text, at)

    def requests(self, owner: int, askers: list[int]) -> None:
        for asker in askers:
            low, high = pair(owner, asker)
            at = self._ago(1, 48)
            self.session.add(
                Friendship(
                    user_low_id=low,
                    user_high_id=high,
                    requested_by_id=asker,
                    status=FriendshipStatus.PENDING,
                    created_at=at,
                )
            )
            self._notify(owner, NotificationKind.FRIEND_REQUEST, asker, None, at)

    def _shout(
        self,
        kind: ShoutTarget,
        target_id: int,
        author: int,
        subject: str,
        index: int,
        after: datetime | None = None,
    ) -> Shout:
        text = _POSTS[index % len(_POSTS)]
        if "@{}" in text:
            text = text.format(self._name(author))
        elif "{}" in text:
            text = text.format(subject.replace(" ", "_"))
        at = self._ago(1, 24 * 10) if after is None else after + timedelta(hours=2 * index + 1)
        return self._add(kind, target_id, author, text, min(at, self.end - timedelta(minutes=5)))

    def _add(
        self, kind: ShoutTarget, target_id: int, author: int, text: str, at: datetime
    ) -> Shout:
        shout = Shout(
            target_kind=kind, target_id=target_id, author_id=author, body=text, created_at=at
        )
        self.session.add(shout)
        self.session.flush()
        self.shouts += 1
        return shout

    def _reply(self, parent: Shout, author: int, text: str) -> None:
        if author == parent.author_id:
            return
        at = parent.created_at + timedelta(minutes=int(self.gen.integers(5, 120)))
        reply = Shout(
            target_kind=parent.target_kind,
            target_id=parent.target_id,
            author_id=author,
            parent_id=parent.id,
            body=text,
            created_at=min(at, self.end - timedelta(minutes=1)),
        )
        self.session.add(reply)
        self.session.flush()
        self.shouts += 1
        self._notify(parent.author_id, NotificationKind.REPLY, author, reply.id, reply.created_at)

    def _react(self, shouts: list[Shout], people: list[int]) -> None:
        rows = []
        for shout in shouts:
            for person in people[:6]:
                if person != shout.author_id and self.gen.random() < 0.4:
                    code = _REACTIONS[int(self.gen.integers(0, len(_REACTIONS)))]
                    rows.append(
                        ShoutReaction(
                            shout_id=shout.id,
                            user_id=person,
                            code=code,
                            created_at=shout.created_at,
                        )
                    )
        self.session.add_all(rows)

    def _notify(
        self, user_id: int, kind: NotificationKind, actor: int, shout_id: int | None, at: datetime
    ) -> None:
        if user_id == actor:
            return
        self.session.add(
            Notification(
                user_id=user_id, kind=kind, actor_id=actor, shout_id=shout_id, created_at=at
            )
        )
