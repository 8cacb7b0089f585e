"""Friendships and who may see whose profile."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tastegraph.accounts.errors import UserNotFound
from tastegraph.accounts.models import User, Visibility
from tastegraph.accounts.services import name_key
from tastegraph.social.models import Friendship, FriendshipStatus
from tastegraph.storage.base import utcnow
from tastegraph.storage.dialect import insert_or_ignore


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


class SocialService:
    """Works inside the caller's unit of work and never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def are_friends(self, a: int, b: int) -> bool:
        if a == b:
            return False
        low, high = _pair(a, b)
        row = self.session.get(Friendship, (low, high))
        return row is not None and row.status == FriendshipStatus.ACCEPTED

    def befriend(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Record accepted friendships directly (imports and the demo community)."""
        now = utcnow()
        rows = []
        for a, b in pairs:
            if a == b:
                continue
            low, high = _pair(a, b)
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
        rows = self.session.scalars(
            select(Friendship).where(
                Friendship.status == FriendshipStatus.ACCEPTED,
                or_(Friendship.user_low_id == user_id, Friendship.user_high_id == user_id),
            )
        )
        ids = [r.user_high_id if r.user_low_id == user_id else r.user_low_id for r in rows]
        if not ids:
            return []
        return list(self.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))

    def access_user_by_name(self, viewer: User | None, name: str) -> User:
        """The user called ``name`` if ``viewer`` may see them; a hidden user is as missing."""
        owner = self.session.scalar(select(User).where(User.name_key == name_key(name)))
        if owner is None or not self.can_view(viewer, owner):
            raise UserNotFound(f"There is no user called {name!r}.")
        return owner

    def can_see_recent(self, viewer: User | None, owner: User) -> bool:
        """Whether ``viewer`` may see ``owner``'s recent plays and now playing: the profile must
        be visible and, unless it is their own, the owner must not hide recent activity."""
        if viewer is not None and (viewer.id == owner.id or viewer.is_admin):
            return True
        return self.can_view(viewer, owner) and not owner.hide_recent_activity

    def can_view(self, viewer: User | None, owner: User) -> bool:
        """Whether ``viewer`` (None for anonymous) may see ``owner``'s profile and plays."""
        if viewer is not None and (viewer.id == owner.id or viewer.is_admin):
            return True
        if owner.visibility == Visibility.PUBLIC:
            return True
        if owner.visibility == Visibility.FRIENDS and viewer is not None:
            return self.are_friends(viewer.id, owner.id)
        return False
