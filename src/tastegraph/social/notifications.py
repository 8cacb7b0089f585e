"""In-app notifications: friend requests and acceptances, replies, mentions, shouts on one's
wall, group invitations and join requests. Unread until marked read."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, aliased

from tastegraph.accounts.models import User
from tastegraph.social.errors import NotificationNotFound
from tastegraph.social.graph import blocked_between, hidden_ids
from tastegraph.social.models import Group, Notification, NotificationKind, Shout
from tastegraph.storage.base import utcnow


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    actor: User | None
    shout: Shout | None
    group: Group | None


class NotificationService:
    """Works inside the caller's unit of work and never commits."""

    def __init__(self, session: Session, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.clock = clock

    def notify(
        self,
        user_id: int,
        kind: NotificationKind,
        *,
        actor_id: int | None,
        shout_id: int | None = None,
        group_id: int | None = None,
    ) -> Notification | None:
        """Notify ``user_id``, unless they are the actor or the two block each other."""
        if actor_id == user_id or blocked_between(self.session, user_id, actor_id):
            return None
        entry = Notification(
            user_id=user_id,
            kind=kind,
            actor_id=actor_id,
            shout_id=shout_id,
            group_id=group_id,
            created_at=self.clock(),
        )
        self.session.add(entry)
        return entry

    def withdraw(
        self,
        user_id: int,
        kind: NotificationKind,
        *,
        actor_id: int | None,
        group_id: int | None = None,
    ) -> None:
        """Drop unread notifications that no longer stand (a cancelled request)."""
        stmt = select(Notification).where(
            Notification.user_id == user_id,
            Notification.kind == kind,
            Notification.read_at.is_(None),
        )
        if actor_id is not None:
            stmt = stmt.where(Notification.actor_id == actor_id)
        if group_id is not None:
            stmt = stmt.where(Notification.group_id == group_id)
        for entry in self.session.scalars(stmt):
            self.session.delete(entry)

    def page(
        self, user: User, *, unread_only: bool = False, before: int | None = None, limit: int = 50
    ) -> list[NotificationView]:
        """Newest first, paged by id; notifications from blocked people or about deleted
        shouts are left out."""
        actor = aliased(User, name="actor")
        stmt = (
            select(Notification, actor, Shout, Group)
            .outerjoin(actor, actor.id == Notification.actor_id)
            .outerjoin(Shout, Shout.id == Notification.shout_id)
            .outerjoin(Group, Group.id == Notification.group_id)
            .where(*self._standing(user))
            .order_by(Notification.id.desc())
            .limit(limit)
        )
        if unread_only:
            stmt = stmt.where(Notification.read_at.is_(None))
        if before is not None:
            stmt = stmt.where(Notification.id < before)
        return [
            NotificationView(notification=n, actor=a, shout=s, group=g)
            for n, a, s, g in self.session.execute(stmt)
        ]

    def unread_count(self, user: User) -> int:
        stmt = (
            select(func.count())
            .select_from(Notification)
            .outerjoin(Shout, Shout.id == Notification.shout_id)
            .where(*self._standing(user), Notification.read_at.is_(None))
        )
        return self.session.scalar(stmt) or 0

    def _standing(self, user: User) -> list[ColumnElement[bool]]:
        """The user's notifications that still stand: none from people they block or who
        block them, none about deleted shouts."""
        conditions = [
            Notification.user_id == user.id,
            Notification.shout_id.is_(None) | Shout.deleted_at.is_(None),
        ]
        hidden = hidden_ids(self.session, user.id)
        if hidden:
            conditions.append(
                Notification.actor_id.is_(None) | Notification.actor_id.not_in(hidden)
            )
        return conditions

    def mark_read(
        self, user: User, *, ids: Collection[int] | None = None, up_to: int | None = None
    ) -> int:
        """Mark some (``ids``), all up to an id, or all notifications read; how many changed."""
        stmt = update(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
        if ids is not None:
            stmt = stmt.where(Notification.id.in_(list(ids)))
        if up_to is not None:
            stmt = stmt.where(Notification.id <= up_to)
        result = self.session.execute(stmt.values(read_at=self.clock()))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def mark_one_read(self, user: User, notification_id: int) -> Notification:
        entry = self.session.get(Notification, notification_id)
        if entry is None or entry.user_id != user.id:
            raise NotificationNotFound(f"You have no notification with id {notification_id}.")
        if entry.read_at is None:
            entry.read_at = self.clock()
        return entry
