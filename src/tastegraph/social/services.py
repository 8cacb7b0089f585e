"""Relationships (friends and requests, follows, blocks), friend suggestions, and the one
access-check layer: who may see whose profile, plays and activity.

Blocks hide two people from each other everywhere: ``can_view`` is false both ways (so their
profiles, walls, plays and charts answer 404 to each other), and every list of people, shouts
and activity leaves the other out (``hidden_ids``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from tastegraph.accounts.errors import UserNotFound
from tastegraph.accounts.models import User, Visibility
from tastegraph.accounts.services import name_key
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Play
from tastegraph.social.errors import AlreadyFriends, FriendRequestNotFound, InvalidSocialAction
from tastegraph.social.graph import (
    blocked_between,
    followee_ids,
    friend_ids,
    hidden_ids,
    pair,
)
from tastegraph.social.id_sets import IdSet
from tastegraph.social.models import (
    Block,
    Follow,
    Friendship,
    FriendshipStatus,
    GroupMember,
    MembershipStatus,
    Notification,
    NotificationKind,
)
from tastegraph.social.notifications import NotificationService
from tastegraph.storage.base import utcnow
from tastegraph.storage.dialect import insert_or_ignore

Neighbours = Callable[[User, int], Sequence[tuple[int, float]]]
"""(user, how many) -> [(user id, similarity 0..1)]: taste neighbours from a recommender,
plugged in by the composition root (social sits below recs and does not import it)."""

TASTE_DAYS = 180
"""How far back "shared top items" look."""
TOP_ITEMS = 30


@dataclass(frozen=True)
class FriendRequest:
    friendship: Friendship
    other: User
    direction: Literal["incoming", "outgoing"]


@dataclass(frozen=True)
class Relationship:
    friends: bool
    request: Literal["incoming", "outgoing"] | None
    following: bool
    followed_by: bool
    blocked: bool
    """The caller blocks the other person."""


@dataclass(frozen=True)
class ActivityAudience:
    """What a viewer may see of some people's activity (``SocialService.activity_audience``)."""

    people: set[int]
    """Whose activity shows: loves, groups joined, shouts."""
    players: list[int]
    """Those among ``people`` whose plays and milestones show, sorted."""


@dataclass
class Suggestion:
    user: User
    score: float
    mutual_friends: int = 0
    mutual_names: list[str] = field(default_factory=list)
    shared_items: list[Item] = field(default_factory=list)
    similarity: float | None = None


class SocialService:
    """Works inside the caller's unit of work and never commits."""

    def __init__(
        self,
        session: Session,
        *,
        notifications: NotificationService | None = None,
        neighbours: Neighbours | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        self.notifications = notifications or NotificationService(session, clock=clock)
        self.neighbours = neighbours
        self.clock = clock
        self._hidden: dict[int, set[int]] = {}
        """Who each viewer blocks or is blocked by, read once per unit of work."""

    # -- who may see what -------------------------------------------------------------------

    def can_view(self, viewer: User | None, owner: User) -> bool:
        """Whether ``viewer`` (None for anonymous) may see ``owner``'s profile and plays."""
        if viewer is not None and (viewer.id == owner.id or viewer.is_admin):
            return True
        if viewer is not None and owner.id in self.hidden_ids(viewer):
            return False
        if owner.visibility == Visibility.PUBLIC:
            return True
        if owner.visibility == Visibility.FRIENDS and viewer is not None:
            return self.are_friends(viewer.id, owner.id)
        return False

    def can_see_recent(self, viewer: User | None, owner: User) -> bool:
        """Whether ``viewer`` may see ``owner``'s recent plays and now playing: the profile must
        be visible and, unless it is their own, the owner must not hide recent activity."""
        if viewer is not None and (viewer.id == owner.id or viewer.is_admin):
            return True
        return self.can_view(viewer, owner) and not owner.hide_recent_activity

    def visible_among(self, viewer: User | None, users: Iterable[User]) -> list[User]:
        """``users`` whose profiles ``viewer`` may see, in order (three queries at most)."""
        people = list(users)
        keep = set(self.visible_ids(viewer, [(u.id, u.visibility) for u in people]))
        return [u for u in people if u.id in keep]

    def visible_ids(
        self, viewer: User | None, people: Iterable[tuple[int, Visibility]]
    ) -> list[int]:
        """The ids among ``people`` (id and profile visibility) whose profiles ``viewer`` may
        see, in order: ``visible_among`` for callers that read no whole rows (a feed over
        hundreds of people)."""
        if viewer is not None and viewer.is_admin:
            return [user_id for user_id, _visibility in people]
        viewer_id = viewer.id if viewer is not None else None
        hidden = self.hidden_ids(viewer)
        friends: set[int] | None = None
        out = []
        for user_id, visibility in people:
            if user_id == viewer_id:
                out.append(user_id)
            elif user_id in hidden:
                continue
            elif visibility == Visibility.PUBLIC:
                out.append(user_id)
            elif visibility == Visibility.FRIENDS and viewer_id is not None:
                if friends is None:
                    friends = friend_ids(self.session, viewer_id)
                if user_id in friends:
                    out.append(user_id)
        return out

    def hidden_ids(self, viewer: User | None) -> set[int]:
        """The people ``viewer`` blocks or is blocked by (read once per unit of work)."""
        if viewer is None:
            return set()
        found = self._hidden.get(viewer.id)
        if found is None:
            found = self._hidden[viewer.id] = hidden_ids(self.session, viewer.id)
        return found

    def access_user_by_name(self, viewer: User | None, name: str) -> User:
        """The user called ``name`` if ``viewer`` may see them; a hidden user is as missing."""
        owner = self._by_name(name)
        if owner is None or not self.can_view(viewer, owner):
            raise UserNotFound(f"There is no user called {name!r}.")
        return owner

    def reachable_user_by_name(self, viewer: User, name: str) -> User:
        """The user called ``name`` if no block stands between them and ``viewer`` (a private
        or friends-only profile can still be asked to be friends)."""
        other = self._by_name(name)
        if other is None or (
            not viewer.is_admin and blocked_between(self.session, viewer.id, other.id)
        ):
            raise UserNotFound(f"There is no user called {name!r}.")
        return other

    def _by_name(self, name: str) -> User | None:
        return self.session.scalar(select(User).where(User.name_key == name_key(name)))

    # -- friends ----------------------------------------------------------------------------

    def are_friends(self, a: int, b: int) -> bool:
        if a == b:
            return False
        row = self.session.get(Friendship, pair(a, b))
        return row is not None and row.status == FriendshipStatus.ACCEPTED

    def befriend(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Record accepted friendships directly (imports and the demo community)."""
        now = self.clock()
        rows = []
        for a, b in pairs:
            if a == b:
                continue
            low, high = pair(a, b)
            rows.append(
                {
                    "user_low_id": low,
                    "user_high_id": high,
                    "requested_by_id": a,
                    "status": FriendshipStatus.ACCEPTED.value,
                    "created_at": now,
                    "accepted_at": now,
                }
            )
        for start in range(0, len(rows), 1000):
            self.session.execute(
                insert_or_ignore(self.session, Friendship), rows[start : start + 1000]
            )

    def friends_of(self, user_id: int) -> list[User]:
        ids = friend_ids(self.session, user_id)
        if not ids:
            return []
        return list(self.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))

    def request_friend(self, user: User, other: User) -> tuple[Friendship, bool]:
        """Ask ``other`` to be friends; (the friendship, whether it is accepted now). Asking
        someone who already asked you accepts their request; asking twice changes nothing."""
        if user.id == other.id:
            raise InvalidSocialAction("You cannot befriend yourself.")
        existing = self.session.get(Friendship, pair(user.id, other.id))
        if existing is not None:
            if existing.status == FriendshipStatus.ACCEPTED:
                raise AlreadyFriends(f"You and {other.name} are already friends.")
            if existing.requested_by_id == user.id:
                return existing, False
            return self._accept(existing, user, other), True
        low, high = pair(user.id, other.id)
        friendship = Friendship(
            user_low_id=low,
            user_high_id=high,
            requested_by_id=user.id,
            status=FriendshipStatus.PENDING,
            created_at=self.clock(),
        )
        self.session.add(friendship)
        self.notifications.notify(other.id, NotificationKind.FRIEND_REQUEST, actor_id=user.id)
        return friendship, False

    def accept_request(self, user: User, requester: User) -> Friendship:
        row = self._incoming(user, requester)
        return self._accept(row, user, requester)

    def decline_request(self, user: User, requester: User) -> None:
        self.session.delete(self._incoming(user, requester))
        self.notifications.withdraw(user.id, NotificationKind.FRIEND_REQUEST, actor_id=requester.id)

    def cancel_request(self, user: User, other: User) -> None:
        row = self.session.get(Friendship, pair(user.id, other.id))
        if row is None or row.status != FriendshipStatus.PENDING or row.requested_by_id != user.id:
            raise FriendRequestNotFound(f"You have not asked {other.name} to be friends.")
        self.session.delete(row)
        self.notifications.withdraw(other.id, NotificationKind.FRIEND_REQUEST, actor_id=user.id)

    def remove_friend(self, user: User, other: User) -> None:
        row = self.session.get(Friendship, pair(user.id, other.id))
        if row is None or row.status != FriendshipStatus.ACCEPTED:
            raise FriendRequestNotFound(f"You and {other.name} are not friends.")
        self.session.delete(row)

    def friend_requests(
        self, user: User, direction: Literal["incoming", "outgoing"]
    ) -> list[FriendRequest]:
        pending = select(Friendship).where(
            Friendship.status == FriendshipStatus.PENDING,
            or_(Friendship.user_low_id == user.id, Friendship.user_high_id == user.id),
        )
        if direction == "incoming":
            pending = pending.where(Friendship.requested_by_id != user.id)
        else:
            pending = pending.where(Friendship.requested_by_id == user.id)
        rows = list(self.session.scalars(pending.order_by(Friendship.created_at.desc())))
        others = self._users(
            [r.user_high_id if r.user_low_id == user.id else r.user_low_id for r in rows]
        )
        hidden = self.hidden_ids(user)
        out = []
        for row in rows:
            other_id = row.user_high_id if row.user_low_id == user.id else row.user_low_id
            if other_id in others and other_id not in hidden:
                out.append(FriendRequest(row, others[other_id], direction))
        return out

    def _incoming(self, user: User, requester: User) -> Friendship:
        row = self.session.get(Friendship, pair(user.id, requester.id))
        if (
            row is None
            or row.status != FriendshipStatus.PENDING
            or row.requested_by_id != requester.id
        ):
            raise FriendRequestNotFound(f"{requester.name} has not asked you to be friends.")
        return row

    def _accept(self, row: Friendship, user: User, requester: User) -> Friendship:
        row.status = FriendshipStatus.ACCEPTED
        row.accepted_at = self.clock()
        self.notifications.withdraw(user.id, NotificationKind.FRIEND_REQUEST, actor_id=requester.id)
        self.notifications.notify(requester.id, NotificationKind.FRIEND_ACCEPTED, actor_id=user.id)
        return row

    # -- follows ----------------------------------------------------------------------------

    def follow(self, user: User, other: User) -> bool:
        """Follow ``other``; False if already following."""
        if user.id == other.id:
            raise InvalidSocialAction("You cannot follow yourself.")
        if self.session.get(Follow, (user.id, other.id)) is not None:
            return False
        self.session.add(Follow(follower_id=user.id, followee_id=other.id, created_at=self.clock()))
        return True

    def unfollow(self, user: User, other: User) -> None:
        self.session.execute(
            delete(Follow).where(Follow.follower_id == user.id, Follow.followee_id == other.id)
        )

    def following(self, user: User) -> list[User]:
        return self._users_ordered(select(Follow.followee_id).where(Follow.follower_id == user.id))

    def followers(self, user: User) -> list[User]:
        return self._users_ordered(select(Follow.follower_id).where(Follow.followee_id == user.id))

    # -- blocks -----------------------------------------------------------------------------

    def block(self, user: User, other: User) -> bool:
        """Block ``other``: ends friendship, requests and follows both ways, withdraws
        invitations between them. False if already blocked."""
        if user.id == other.id:
            raise InvalidSocialAction("You cannot block yourself.")
        if self.session.get(Block, (user.id, other.id)) is not None:
            return False
        self._hidden.clear()
        self.session.add(Block(blocker_id=user.id, blocked_id=other.id, created_at=self.clock()))
        low, high = pair(user.id, other.id)
        self.session.execute(
            delete(Friendship).where(Friendship.user_low_id == low, Friendship.user_high_id == high)
        )
        self.session.execute(
            delete(Follow).where(
                or_(
                    (Follow.follower_id == user.id) & (Follow.followee_id == other.id),
                    (Follow.follower_id == other.id) & (Follow.followee_id == user.id),
                )
            )
        )
        # Invitations one sent the other are withdrawn.
        for invitee, inviter in ((user.id, other.id), (other.id, user.id)):
            self.session.execute(
                delete(GroupMember).where(
                    GroupMember.user_id == invitee,
                    GroupMember.invited_by_id == inviter,
                    GroupMember.status == MembershipStatus.INVITED,
                )
            )
        self.session.execute(
            delete(Notification).where(
                or_(
                    (Notification.user_id == user.id) & (Notification.actor_id == other.id),
                    (Notification.user_id == other.id) & (Notification.actor_id == user.id),
                )
            )
        )
        return True

    def unblock(self, user: User, other: User) -> None:
        self._hidden.clear()
        self.session.execute(
            delete(Block).where(Block.blocker_id == user.id, Block.blocked_id == other.id)
        )

    def blocked(self, user: User) -> list[User]:
        return self._users_ordered(select(Block.blocked_id).where(Block.blocker_id == user.id))

    def relationship(self, user: User, other: User) -> Relationship:
        row = self.session.get(Friendship, pair(user.id, other.id))
        request: Literal["incoming", "outgoing"] | None = None
        if row is not None and row.status == FriendshipStatus.PENDING:
            request = "outgoing" if row.requested_by_id == user.id else "incoming"
        return Relationship(
            friends=row is not None and row.status == FriendshipStatus.ACCEPTED,
            request=request,
            following=self.session.get(Follow, (user.id, other.id)) is not None,
            followed_by=self.session.get(Follow, (other.id, user.id)) is not None,
            blocked=self.session.get(Block, (user.id, other.id)) is not None,
        )

    def feed_sources(self, user: User) -> set[int]:
        """Whose activity ``user``'s feed shows: friends, followed people and themselves,
        less anyone blocked either way."""
        sources = friend_ids(self.session, user.id) | followee_ids(self.session, user.id)
        return (sources - self.hidden_ids(user)) | {user.id}

    def activity_audience(
        self, viewer: User | None, sources: Iterable[int] | None = None
    ) -> ActivityAudience:
        """Whose activity ``viewer`` may see among ``sources`` (None: ``viewer``'s feed
        sources, ``feed_sources``), and whose plays among them — the rule of ``visible_ids``
        and ``can_see_recent`` for a whole feed at once: private profiles show only to
        themselves, people who hide recent activity show no plays but to themselves.

        The viewer's friends, follows and blocks are read as id lists (blocks once per unit
        of work), then the people in one statement with the profile rule in its ``WHERE``:
        only those who show come back, with whether they hide recent activity. Hundreds of
        whole rows, or even their visibility read as Python values, would cost more than the
        rest of the feed."""
        viewer_id = viewer.id if viewer is not None else None
        everyone = viewer is not None and viewer.is_admin
        friends = friend_ids(self.session, viewer_id) if viewer_id is not None else set()
        if sources is None:
            assert viewer_id is not None, "an anonymous viewer has no feed"
            ids = friends | followee_ids(self.session, viewer_id) | {viewer_id}
            hidden = self.hidden_ids(viewer)
        else:
            ids = set(sources)
            hidden = set() if everyone else self.hidden_ids(viewer)
        # The ids as parameters, not subqueries: with a subquery beside an OR, PostgreSQL
        # reads every user rather than the few hundred asked for.
        shows: ColumnElement[bool] = User.visibility == Visibility.PUBLIC
        if everyone:
            shows = User.visibility != Visibility.PRIVATE
        elif friends:
            shows = or_(
                shows,
                and_(
                    User.visibility == Visibility.FRIENDS, IdSet(self.session, friends).has(User.id)
                ),
            )
        if viewer_id is not None:
            # Oneself, always (even private, even hiding recent activity: see below).
            shows = or_(User.id == viewer_id, shows)
        found = select(User.id, User.hide_recent_activity).where(
            IdSet(self.session, ids).has(User.id)
        )
        rows = self.session.execute(found.where(shows)).all()
        people: set[int] = set()
        players: list[int] = []
        for user_id, hides in rows:
            if user_id == viewer_id:
                people.add(user_id)
                players.append(user_id)
            elif user_id not in hidden:
                people.add(user_id)
                if not hides:
                    players.append(user_id)
        return ActivityAudience(people, sorted(players))

    # -- suggestions ------------------------------------------------------------------------

    def suggestions(self, user: User, *, limit: int = 10) -> list[Suggestion]:
        """People ``user`` may know or would like: friends of friends (by how many friends
        they share) and taste neighbours (people who played the same top items in the last
        half year, or a plugged-in recommender's neighbours). Only people whose profile the
        user may see, who are not friends, asked, or blocked."""
        friends = friend_ids(self.session, user.id)
        excluded = friends | self.hidden_ids(user) | {user.id}
        pending = self.session.execute(
            select(Friendship.user_low_id, Friendship.user_high_id).where(
                Friendship.status == FriendshipStatus.PENDING,
                or_(Friendship.user_low_id == user.id, Friendship.user_high_id == user.id),
            )
        )
        for low, high in pending:
            excluded |= {low, high}
        mutual = self._mutual_friends(friends, excluded)
        shared = self._shared_items(user, excluded)
        similar: dict[int, float] = {}
        if self.neighbours is not None:
            similar = {
                other: float(score)
                for other, score in self.neighbours(user, 50)
                if other not in excluded
            }
        scores: dict[int, float] = defaultdict(float)
        for other, via in mutual.items():
            scores[other] += 3.0 * len(via)
        for other, got in shared.items():
            scores[other] += float(len(got))
        for other, score in similar.items():
            scores[other] += 10.0 * score
        if not scores:
            return []
        ranked = sorted(scores, key=lambda other: (-scores[other], other))
        candidates = self._users(ranked[: limit * 3])
        visible = {
            u.id
            for u in self.visible_among(user, [candidates[i] for i in ranked if i in candidates])
        }
        friends_by_id = {
            u.id: u
            for u in self.visible_among(
                user, self._users(sorted({f for via in mutual.values() for f in via})).values()
            )
        }
        shared_by_id = self._items(sorted({i for got in shared.values() for i in got}))
        out = []
        for other in ranked:
            if other not in visible:
                continue
            names = sorted(
                friends_by_id[f].name for f in mutual.get(other, ()) if f in friends_by_id
            )
            out.append(
                Suggestion(
                    user=candidates[other],
                    score=round(scores[other], 3),
                    mutual_friends=len(mutual.get(other, ())),
                    mutual_names=names[:3],
                    shared_items=[
                        shared_by_id[i] for i in shared.get(other, [])[:3] if i in shared_by_id
                    ],
                    similarity=similar.get(other),
                )
            )
            if len(out) == limit:
                break
        return out

    def _mutual_friends(self, friends: set[int], excluded: set[int]) -> dict[int, set[int]]:
        if not friends:
            return {}
        out: dict[int, set[int]] = {}
        rows = self.session.execute(
            select(Friendship.user_low_id, Friendship.user_high_id).where(
                Friendship.status == FriendshipStatus.ACCEPTED,
                or_(Friendship.user_low_id.in_(friends), Friendship.user_high_id.in_(friends)),
            )
        )
        for low, high in rows:
            for friend, other in ((low, high), (high, low)):
                if friend in friends and other not in excluded:
                    out.setdefault(other, set()).add(friend)
        return out

    def _shared_items(self, user: User, excluded: set[int]) -> dict[int, list[int]]:
        """Other people's shared items among ``user``'s top items of the last half year,
        most-played (by ``user``) first."""
        since = self.clock() - timedelta(days=TASTE_DAYS)
        top = [
            item_id
            for item_id, _ in self.session.execute(
                select(Play.item_id, func.count())
                .where(Play.user_id == user.id, Play.played_at >= since)
                .group_by(Play.item_id)
                .order_by(func.count().desc(), Play.item_id)
                .limit(TOP_ITEMS)
            )
        ]
        if not top:
            return {}
        rank = {item_id: i for i, item_id in enumerate(top)}
        rows = self.session.execute(
            select(Play.user_id, Play.item_id)
            .where(Play.item_id.in_(top), Play.played_at >= since, Play.user_id != user.id)
            .group_by(Play.user_id, Play.item_id)
        )
        out: dict[int, list[int]] = {}
        for other, item_id in rows:
            if other not in excluded:
                out.setdefault(other, []).append(item_id)
        for got in out.values():
            got.sort(key=rank.__getitem__)
        return out

    def _users(self, ids: Sequence[int]) -> dict[int, User]:
        if not ids:
            return {}
        return {u.id: u for u in self.session.scalars(select(User).where(User.id.in_(ids)))}

    def _items(self, ids: Sequence[int]) -> dict[int, Item]:
        if not ids:
            return {}
        return {i.id: i for i in self.session.scalars(select(Item).where(Item.id.in_(ids)))}

    def _users_ordered(self, ids: Select[int]) -> list[User]:
        return list(self.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))
