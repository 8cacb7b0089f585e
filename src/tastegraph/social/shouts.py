"""Shouts: short messages on a profile's wall, an item (an event's live room), a group's
shoutbox or a group topic — with one level of replies, reactions, mentions, moderation and
abuse reports.

* Reading a shout needs reading its place: a wall as the profile's visibility says, an item
  always, a group or topic as the group's privacy says. Shouts of people the reader blocks
  (or is blocked by) are left out, and missing for them by id.
* Posting needs a visible place; in groups and topics, membership. Each person may post
  ``Settings.shout_rate_limit`` shouts per window (``ShoutRateLimited``, 429) and at most
  ``MAX_LINKS`` links per shout (``TooManyLinks``).
* A shout is deleted (kept as a tombstone, hidden from everyone) by its author, the owner of
  the wall it is on, a moderator or owner of its group, or an administrator. A deleted shout
  takes its replies out of view.
* Reports go to a queue: administrators see every open report, group owners and moderators
  those on their groups' shouts.
* Polling reads what came after an id. So that no reader skips a shout, the shouts of one
  place commit in the order of their ids: a post holds a lock on its place (a transaction
  advisory lock on PostgreSQL; SQLite has one writer at a time) from before its id is drawn
  until it commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from tastegraph.accounts.errors import PermissionDenied, UserNotFound
from tastegraph.accounts.models import User
from tastegraph.accounts.services import name_key
from tastegraph.catalog.errors import ItemNotFound
from tastegraph.catalog.models import Item
from tastegraph.ratelimit import RateLimiter
from tastegraph.social.errors import (
    GroupNotFound,
    InvalidShout,
    InvalidSocialAction,
    MembersOnly,
    ReportNotFound,
    ShoutNotFound,
    ShoutRateLimited,
    TooManyLinks,
    TopicNotFound,
)
from tastegraph.social.groups import MODERATING, GroupService
from tastegraph.social.models import (
    Group,
    GroupMember,
    MembershipStatus,
    NotificationKind,
    ReportReason,
    ReportStatus,
    Shout,
    ShoutReaction,
    ShoutReport,
    ShoutTarget,
    Topic,
)
from tastegraph.social.notifications import NotificationService
from tastegraph.social.rendering import count_links, mentioned_names
from tastegraph.social.services import SocialService
from tastegraph.storage.base import utcnow
from tastegraph.text import check_text

MAX_LENGTH = 1000
"""Characters in a shout."""
MAX_LINKS = 2
"""Links (http://, https://, www.) in a shout: more is how spam looks."""
MAX_MENTIONS = 10
REPLIES_SHOWN = 50
"""Replies listed under each shout (``reply_count`` says how many there are)."""
HIDDEN_PLACE = (UserNotFound, ItemNotFound, GroupNotFound, MembersOnly, TopicNotFound)
"""What opening a place the reader may not see raises."""
_LOCK_SPACE = 0x7473
"""The high bits of the advisory lock keys of shout places."""


class Reaction(StrEnum):
    LIKE = "like"
    LOVE = "love"
    LAUGH = "laugh"
    WOW = "wow"
    SAD = "sad"
    FIRE = "fire"
    CLAP = "clap"
    GOAL = "goal"


class ModerationAction(StrEnum):
    REMOVE = "remove"
    """Delete the shout; its open reports are upheld."""
    DISMISS = "dismiss"
    """Keep the shout; its open reports are dismissed."""


@dataclass(frozen=True)
class Place:
    """Where shouts are: a wall, an item, a group, a topic — opened for one viewer."""

    kind: ShoutTarget
    id: int
    wall_owner: User | None = None
    item: Item | None = None
    group: Group | None = None
    topic: Topic | None = None


@dataclass
class ShoutView:
    shout: Shout
    author: User
    reactions: dict[str, int] = field(default_factory=dict)
    mine: list[str] = field(default_factory=list)
    replies: list[ShoutView] = field(default_factory=list)
    reply_count: int = 0


@dataclass(frozen=True)
class ReportView:
    report: ShoutReport
    shout: Shout
    author: User
    reporter: User


class ShoutService:
    """Works inside the caller's unit of work and never commits."""

    def __init__(
        self,
        session: Session,
        social: SocialService,
        groups: GroupService,
        notifications: NotificationService,
        *,
        limiter: RateLimiter | None = None,
        max_links: int = MAX_LINKS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        self.social = social
        self.groups = groups
        self.notifications = notifications
        self.limiter = limiter
        self.max_links = max_links
        self.clock = clock

    # -- places -----------------------------------------------------------------------------

    def open(self, viewer: User | None, kind: ShoutTarget, target_id: int) -> Place:
        """The place, if ``viewer`` may read it (else the place's own not-found error)."""
        if kind is ShoutTarget.USER:
            owner = self.session.get(User, target_id)
            if owner is None or not self.social.can_view(viewer, owner):
                raise UserNotFound(f"There is no user with id {target_id}.")
            return Place(kind, owner.id, wall_owner=owner)
        if kind is ShoutTarget.ITEM:
            item = self.session.get(Item, target_id)
            for _ in range(8):
                if item is None or item.merged_into_id is None:
                    break
                item = self.session.get(Item, item.merged_into_id)
            if item is None:
                raise ItemNotFound(f"There is no item with id {target_id}.")
            return Place(kind, item.id, item=item)
        if kind is ShoutTarget.GROUP:
            group, membership = self.groups.get(viewer, target_id)
            self.groups.require_read(viewer, group, membership)
            return Place(kind, group.id, group=group)
        topic, group = self.groups.topic(viewer, target_id)
        return Place(kind, topic.id, group=group, topic=topic)

    def open_for_posting(self, user: User, kind: ShoutTarget, target_id: int) -> Place:
        place = self.open(user, kind, target_id)
        if place.group is not None:
            self.groups.require_member(user, place.group)
        return place

    def _place_of(self, viewer: User | None, shout: Shout) -> Place:
        try:
            return self.open(viewer, shout.target_kind, shout.target_id)
        except HIDDEN_PLACE:
            raise ShoutNotFound(f"There is no shout with id {shout.id}.") from None

    # -- posting ----------------------------------------------------------------------------

    def post(self, user: User, place: Place, body: str, *, parent_id: int | None = None) -> Shout:
        text = _clean(body)
        links = count_links(text)
        if links > self.max_links:
            raise TooManyLinks(
                f"A shout may carry at most {self.max_links} links; this one has {links}.",
                max_links=self.max_links,
                links=links,
            )
        parent = self._parent(place, parent_id) if parent_id is not None else None
        self._count_against_limit(user)
        self._lock_place(place)
        now = self.clock()
        shout = Shout(
            target_kind=place.kind,
            target_id=place.id,
            author_id=user.id,
            parent_id=(parent.parent_id or parent.id) if parent is not None else None,
            body=text,
            created_at=now,
        )
        self.session.add(shout)
        self.session.flush()
        if place.topic is not None:
            self.groups.touch_topic(place.topic.id, now)
        self._notify(user, place, shout, parent)
        return shout

    def _lock_place(self, place: Place) -> None:
        """Posts to one place wait for each other until commit: ids commit in order."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        kind = list(ShoutTarget).index(place.kind)
        key = (_LOCK_SPACE << 48) | (kind << 40) | (place.id & ((1 << 40) - 1))
        self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def _parent(self, place: Place, parent_id: int) -> Shout:
        parent = self.session.get(Shout, parent_id)
        if (
            parent is None
            or parent.deleted_at is not None
            or parent.target_kind is not place.kind
            or parent.target_id != place.id
        ):
            raise InvalidShout(f"Shout {parent_id} is not here to be replied to.")
        return parent

    def _count_against_limit(self, user: User) -> None:
        if self.limiter is None or user.is_admin:
            return
        state = self.limiter.hit(f"shout:{user.id}")
        if state.exceeded:
            retry = state.reset_in(self.clock().timestamp())
            raise ShoutRateLimited(
                f"You have shouted {state.limit} times in a short while; try again in "
                f"{retry} seconds.",
                retry_after=retry,
                limit=state.limit,
            )

    def _notify(self, user: User, place: Place, shout: Shout, parent: Shout | None) -> None:
        told: set[int] = {user.id}
        if parent is not None:
            # The author replied to, and the author of the thread's first shout.
            thread = [parent.author_id]
            if parent.parent_id is not None:
                root = self.session.get(Shout, parent.parent_id)
                if root is not None:
                    thread.append(root.author_id)
            for author_id in thread:
                if author_id not in told:
                    self.notifications.notify(
                        author_id, NotificationKind.REPLY, actor_id=user.id, shout_id=shout.id
                    )
                    told.add(author_id)
        names = mentioned_names(shout.body)[:MAX_MENTIONS]
        if names:
            mentioned = self.session.scalars(
                select(User).where(User.name_key.in_([name_key(n) for n in names]))
            )
            for person in mentioned:
                if person.id not in told and self._can_read(person, place):
                    self.notifications.notify(
                        person.id, NotificationKind.MENTION, actor_id=user.id, shout_id=shout.id
                    )
                    told.add(person.id)
        owner = place.wall_owner
        if owner is not None and owner.id not in told:
            self.notifications.notify(
                owner.id, NotificationKind.WALL_SHOUT, actor_id=user.id, shout_id=shout.id
            )

    def _can_read(self, person: User, place: Place) -> bool:
        if place.wall_owner is not None:
            return self.social.can_view(person, place.wall_owner)
        if place.group is not None:
            membership = self.groups.membership(place.group.id, person.id)
            return self.groups.can_read(person, place.group, membership)
        return True

    # -- reading ----------------------------------------------------------------------------

    def thread_list(
        self, viewer: User | None, place: Place, *, before: int | None = None, limit: int = 20
    ) -> list[ShoutView]:
        """Shouts newest first (paged by id), each with its replies oldest first."""
        hidden = self.social.hidden_ids(viewer)
        stmt = (
            select(Shout, User)
            .join(User, User.id == Shout.author_id)
            .where(*self._here(place), Shout.parent_id.is_(None), *_not_by(hidden))
            .order_by(Shout.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(Shout.id < before)
        views = [ShoutView(shout, author) for shout, author in self.session.execute(stmt)]
        self._attach_replies(views, hidden)
        self._attach_reactions(viewer, [*views, *(r for v in views for r in v.replies)])
        return views

    def since(
        self, viewer: User | None, place: Place, *, after: int = 0, limit: int = 100
    ) -> list[ShoutView]:
        """Shouts and replies posted after the shout ``after``, oldest first: what a live
        room polls for."""
        return self._flat(viewer, place, after=after, limit=limit, newest=False)

    def recent(self, viewer: User | None, place: Place, *, limit: int = 50) -> list[ShoutView]:
        """The newest ``limit`` shouts and replies, oldest first: a live room's backlog."""
        return self._flat(viewer, place, after=0, limit=limit, newest=True)[::-1]

    def _flat(
        self, viewer: User | None, place: Place, *, after: int, limit: int, newest: bool
    ) -> list[ShoutView]:
        hidden = self.social.hidden_ids(viewer)
        root = aliased(Shout, name="root")
        stmt = (
            select(Shout, User)
            .join(User, User.id == Shout.author_id)
            .outerjoin(root, root.id == Shout.parent_id)
            .where(
                *self._here(place),
                Shout.id > after,
                *_not_by(hidden),
                root.deleted_at.is_(None),
            )
            .order_by(Shout.id.desc() if newest else Shout.id)
            .limit(limit)
        )
        views = [ShoutView(shout, author) for shout, author in self.session.execute(stmt)]
        self._attach_reactions(viewer, views)
        return views

    def report_view(self, report: ShoutReport) -> ReportView:
        shout = self.session.get(Shout, report.shout_id)
        assert shout is not None
        author = self.session.get(User, shout.author_id)
        reporter = self.session.get(User, report.reporter_id)
        assert author is not None
        assert reporter is not None
        return ReportView(report, shout, author, reporter)

    def latest(self, place: Place) -> int:
        """The id of the newest shout here (0 if none): where polling starts."""
        return self.session.scalar(select(func.max(Shout.id)).where(*self._here(place))) or 0

    def high_water(self, place: Place) -> int:
        """The id of the newest shout ever posted here, deleted or not (0 if none): every
        shout posted from now on has a higher one."""
        stmt = select(func.max(Shout.id)).where(
            Shout.target_kind == place.kind, Shout.target_id == place.id
        )
        return self.session.scalar(stmt) or 0

    def count(self, place: Place) -> int:
        """Shouts and replies here."""
        stmt = select(func.count()).select_from(Shout).where(*self._here(place))
        return self.session.scalar(stmt) or 0

    def get(self, viewer: User | None, shout_id: int) -> tuple[ShoutView, Place]:
        """One visible shout with its replies, and its place."""
        shout = self._visible(viewer, shout_id)
        place = self._place_of(viewer, shout)
        author = self.session.get(User, shout.author_id)
        assert author is not None
        view = ShoutView(shout, author)
        hidden = self.social.hidden_ids(viewer)
        if shout.parent_id is None:
            self._attach_replies([view], hidden)
        self._attach_reactions(viewer, [view, *view.replies])
        return view, place

    def readable(self, viewer: User | None, shouts: Sequence[Shout]) -> list[Shout]:
        """Those of ``shouts`` the viewer may read (their places checked once each)."""
        verdicts: dict[tuple[ShoutTarget, int], bool] = {}
        out = []
        for shout in shouts:
            key = (shout.target_kind, shout.target_id)
            if key not in verdicts:
                try:
                    self._place_of(viewer, shout)
                    verdicts[key] = True
                except ShoutNotFound:
                    verdicts[key] = False
            if verdicts[key]:
                out.append(shout)
        return out

    def _visible(self, viewer: User | None, shout_id: int) -> Shout:
        shout = self.session.get(Shout, shout_id)
        missing = ShoutNotFound(f"There is no shout with id {shout_id}.")
        if shout is None or shout.deleted_at is not None:
            raise missing
        if shout.author_id in self.social.hidden_ids(viewer):
            raise missing
        if shout.parent_id is not None:
            root = self.session.get(Shout, shout.parent_id)
            if root is None or root.deleted_at is not None:
                raise missing
        return shout

    def _here(self, place: Place) -> list[ColumnElement[bool]]:
        return [
            Shout.target_kind == place.kind,
            Shout.target_id == place.id,
            Shout.deleted_at.is_(None),
        ]

    def _attach_replies(self, views: list[ShoutView], hidden: set[int]) -> None:
        if not views:
            return
        by_id = {v.shout.id: v for v in views}
        rows = self.session.execute(
            select(Shout, User)
            .join(User, User.id == Shout.author_id)
            .where(Shout.parent_id.in_(list(by_id)), Shout.deleted_at.is_(None), *_not_by(hidden))
            .order_by(Shout.id)
        )
        for shout, author in rows:
            assert shout.parent_id is not None
            parent = by_id[shout.parent_id]
            parent.reply_count += 1
            if len(parent.replies) < REPLIES_SHOWN:
                parent.replies.append(ShoutView(shout, author))

    def _attach_reactions(self, viewer: User | None, views: Sequence[ShoutView]) -> None:
        if not views:
            return
        by_id = {v.shout.id: v for v in views}
        ids = list(by_id)
        rows = self.session.execute(
            select(ShoutReaction.shout_id, ShoutReaction.code, func.count())
            .where(ShoutReaction.shout_id.in_(ids))
            .group_by(ShoutReaction.shout_id, ShoutReaction.code)
        )
        for shout_id, code, count in rows:
            by_id[shout_id].reactions[code] = int(count)
        if viewer is not None:
            mine = self.session.execute(
                select(ShoutReaction.shout_id, ShoutReaction.code)
                .where(ShoutReaction.shout_id.in_(ids), ShoutReaction.user_id == viewer.id)
                .order_by(ShoutReaction.code)
            )
            for shout_id, code in mine:
                by_id[shout_id].mine.append(code)

    # -- reactions --------------------------------------------------------------------------

    def react(self, user: User, shout_id: int, code: Reaction) -> None:
        shout = self._visible(user, shout_id)
        self._place_of(user, shout)
        if self.session.get(ShoutReaction, (shout.id, user.id, code.value)) is None:
            self.session.add(
                ShoutReaction(
                    shout_id=shout.id, user_id=user.id, code=code.value, created_at=self.clock()
                )
            )

    def unreact(self, user: User, shout_id: int, code: Reaction) -> None:
        shout = self._visible(user, shout_id)
        self.session.execute(
            delete(ShoutReaction).where(
                ShoutReaction.shout_id == shout.id,
                ShoutReaction.user_id == user.id,
                ShoutReaction.code == code.value,
            )
        )

    # -- moderation -------------------------------------------------------------------------

    def can_delete(self, user: User, shout: Shout, place: Place) -> bool:
        if user.is_admin or shout.author_id == user.id:
            return True
        if place.wall_owner is not None and place.wall_owner.id == user.id:
            return True
        return place.group is not None and self.groups.can_moderate(user, place.group.id)

    def delete(self, actor: User, shout_id: int) -> None:
        shout = self._visible(actor, shout_id)
        place = self._place_of(actor, shout)
        if not self.can_delete(actor, shout, place):
            raise PermissionDenied(
                "Only the author, the wall's owner, a group moderator or an administrator "
                "may delete this shout."
            )
        self._remove(actor, shout, ReportStatus.REMOVED)

    def _remove(self, actor: User, shout: Shout, verdict: ReportStatus) -> None:
        now = self.clock()
        if verdict is ReportStatus.REMOVED and shout.deleted_at is None:
            shout.deleted_at = now
            shout.deleted_by_id = actor.id
        self.session.execute(
            update(ShoutReport)
            .where(ShoutReport.shout_id == shout.id, ShoutReport.status == ReportStatus.OPEN)
            .values(status=verdict, resolved_at=now, resolved_by_id=actor.id)
        )

    def report(
        self, user: User, shout_id: int, reason: ReportReason, note: str | None
    ) -> tuple[ShoutReport, bool]:
        """Report a shout; (the report, whether it is new). Reporting twice changes nothing."""
        shout = self._visible(user, shout_id)
        self._place_of(user, shout)
        if shout.author_id == user.id:
            raise InvalidSocialAction("You cannot report your own shout; delete it instead.")
        existing = self.session.scalar(
            select(ShoutReport).where(
                ShoutReport.shout_id == shout.id, ShoutReport.reporter_id == user.id
            )
        )
        if existing is not None:
            return existing, False
        entry = ShoutReport(
            shout_id=shout.id,
            reporter_id=user.id,
            reason=reason,
            note=note,
            status=ReportStatus.OPEN,
            created_at=self.clock(),
        )
        self.session.add(entry)
        self.session.flush()
        return entry, True

    def reports(
        self,
        actor: User,
        *,
        status: ReportStatus = ReportStatus.OPEN,
        before: int | None = None,
        limit: int = 50,
    ) -> list[ReportView]:
        """The moderation queue the actor may work on, newest first (paged by id)."""
        author = aliased(User, name="author")
        reporter = aliased(User, name="reporter")
        stmt = (
            select(ShoutReport, Shout, author, reporter)
            .join(Shout, Shout.id == ShoutReport.shout_id)
            .join(author, author.id == Shout.author_id)
            .join(reporter, reporter.id == ShoutReport.reporter_id)
            .where(ShoutReport.status == status, *self._queue_scope(actor))
            .order_by(ShoutReport.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(ShoutReport.id < before)
        return [ReportView(r, s, a, p) for r, s, a, p in self.session.execute(stmt)]

    def resolve(self, actor: User, report_id: int, action: ModerationAction) -> ShoutReport:
        report = self.session.scalar(
            select(ShoutReport)
            .join(Shout, Shout.id == ShoutReport.shout_id)
            .where(ShoutReport.id == report_id, *self._queue_scope(actor))
        )
        if report is None:
            raise ReportNotFound(f"There is no report {report_id} in your moderation queue.")
        shout = self.session.get(Shout, report.shout_id)
        assert shout is not None
        verdict = (
            ReportStatus.REMOVED if action is ModerationAction.REMOVE else (ReportStatus.DISMISSED)
        )
        self._remove(actor, shout, verdict)
        self.session.refresh(report)
        return report

    def _queue_scope(self, actor: User) -> list[ColumnElement[bool]]:
        if actor.is_admin:
            return []
        moderated = select(GroupMember.group_id).where(
            GroupMember.user_id == actor.id,
            GroupMember.status == MembershipStatus.MEMBER,
            GroupMember.role.in_(MODERATING),
        )
        if self.session.scalar(moderated.limit(1)) is None:
            raise PermissionDenied(
                "The moderation queue is for administrators and group moderators."
            )
        topics = select(Topic.id).where(Topic.group_id.in_(moderated))
        return [
            or_(
                (Shout.target_kind == ShoutTarget.GROUP) & Shout.target_id.in_(moderated),
                (Shout.target_kind == ShoutTarget.TOPIC) & Shout.target_id.in_(topics),
            )
        ]


def _clean(body: str) -> str:
    text = body.strip().replace("\r\n", "\n")
    if not text:
        raise InvalidShout("A shout needs some text.")
    if len(text) > MAX_LENGTH:
        raise InvalidShout(f"A shout may be at most {MAX_LENGTH} characters long.")
    try:
        check_text(text.replace("\n", " "))
    except ValueError as exc:
        raise InvalidShout(f"The shout {exc}.") from None
    return text


def _not_by(hidden: set[int]) -> list[ColumnElement[bool]]:
    return [Shout.author_id.not_in(hidden)] if hidden else []


def move_shouts_on_merge(session: Session, source: int, target: int) -> None:
    """Catalogue merge hook: shouts on an item and groups around it follow the merge."""
    session.execute(
        update(Shout)
        .where(Shout.target_kind == ShoutTarget.ITEM, Shout.target_id == source)
        .values(target_id=target)
    )
    session.execute(update(Group).where(Group.item_id == source).values(item_id=target))
