"""Plain queries over the social graph, shared by the social services.

Whose profile someone may see is decided in one place, ``SocialService`` (``can_view``,
``can_see_recent``); these helpers only say who is linked to whom.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select, union
from sqlalchemy.orm import Session

from tastegraph.social.models import Block, Follow, Friendship, FriendshipStatus


def pair(a: int, b: int) -> tuple[int, int]:
    """A friendship's key: the lower id first."""
    return (a, b) if a < b else (b, a)


def friend_ids_query(user_id: int) -> Select[int]:
    """The ids of ``user_id``'s friends, as a subquery to filter with."""
    accepted = Friendship.status == FriendshipStatus.ACCEPTED
    query: Select[int] = select(
        union(
            select(Friendship.user_high_id).where(Friendship.user_low_id == user_id, accepted),
            select(Friendship.user_low_id).where(Friendship.user_high_id == user_id, accepted),
        ).subquery()
    )
    return query


def friend_ids(session: Session, user_id: int) -> set[int]:
    return set(session.scalars(friend_ids_query(user_id)))


def followee_ids(session: Session, user_id: int) -> set[int]:
    return set(session.scalars(select(Follow.followee_id).where(Follow.follower_id == user_id)))


def hidden_ids(session: Session, user_id: int | None) -> set[int]:
    """Everyone ``user_id`` blocked or was blocked by: they do not see each other."""
    if user_id is None:
        return set()
    blocked = select(Block.blocked_id).where(Block.blocker_id == user_id)
    blockers = select(Block.blocker_id).where(Block.blocked_id == user_id)
    return set(session.scalars(union(blocked, blockers)))


def blocked_between(session: Session, a: int | None, b: int | None) -> bool:
    if a is None or b is None or a == b:
        return False
    found = session.scalar(
        select(Block.blocker_id).where(
            or_(
                and_(Block.blocker_id == a, Block.blocked_id == b),
                and_(Block.blocker_id == b, Block.blocked_id == a),
            )
        )
    )
    return found is not None
