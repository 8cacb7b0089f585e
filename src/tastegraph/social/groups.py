"""Groups around an item or a free theme: privacy, roles, membership, invitations and join
requests, discussion topics, and what the members like that the caller has not tried.

Who sees a group:

* public — everyone sees everything; anyone joins at once;
* private — everyone sees the group (name, description, item, member count); members, talk,
  charts and recommendations are for members (``MembersOnly``); joining is a request an owner
  or moderator approves, or an invitation;
* invite-only — only members and invitees know it exists (``GroupNotFound`` to others);
  joining only by invitation.

Administrators see every group. Owners and moderators moderate: they approve requests, remove
members and delete shouts and topics. Only owners change roles, privacy, or delete the group.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, union
from sqlalchemy.orm import Session

from tastegraph.accounts.errors import PermissionDenied, UserNotFound
from tastegraph.accounts.models import User, Visibility
from tastegraph.catalog.availability import Availability
from tastegraph.catalog.kinds import Domain
from tastegraph.catalog.models import Item
from tastegraph.catalog.viewer import Viewer
from tastegraph.ingest.models import Feedback, IncognitoPlay, Play, Sentiment
from tastegraph.social.errors import (
    AlreadyMember,
    GroupNameTaken,
    GroupNotFound,
    InvalidSocialAction,
    InvitationNotFound,
    LastOwner,
    MembersOnly,
    TopicNotFound,
)
from tastegraph.social.graph import blocked_between
from tastegraph.social.models import (
    Group,
    GroupMember,
    GroupPrivacy,
    GroupRole,
    MembershipStatus,
    NotificationKind,
    Shout,
    ShoutTarget,
    Topic,
)
from tastegraph.social.notifications import NotificationService
from tastegraph.social.services import SocialService
from tastegraph.storage.base import utcnow

RECOMMEND_DAYS = 90
"""How far back group recommendations look at the members' plays."""
_SLUG = re.compile(r"[^\w]+", re.UNICODE)
MODERATING = (GroupRole.OWNER, GroupRole.MODERATOR)


def slugify(name: str) -> str:
    return _SLUG.sub("-", name.casefold()).strip("-_")[:64].strip("-_")


@dataclass(frozen=True)
class GroupView:
    group: Group
    membership: GroupMember | None
    """The caller's membership, invitation or request."""
    members: int
    item: Item | None


@dataclass(frozen=True)
class TopicView:
    topic: Topic
    author: User | None
    posts: int


@dataclass(frozen=True)
class GroupPick:
    item: Item
    lovers: int
    listeners: int
    score: float


class GroupService:
    """Works inside the caller's unit of work and never commits."""

    def __init__(
        self,
        session: Session,
        social: SocialService,
        notifications: NotificationService,
        *,
        clock: Callable[[], datetime] = utcnow,
        availability: Availability | None = None,
    ) -> None:
        self.session = session
        self.social = social
        self.notifications = notifications
        self.clock = clock
        self.availability = availability
        """Territorial rights (``Runtime.availability``): recommendations leave out what the
        viewer cannot watch where they are. None: nothing is filtered."""

    # -- finding and seeing -----------------------------------------------------------------

    def find(self, viewer: User | None, slug: str) -> tuple[Group, GroupMember | None]:
        """The group at ``slug`` with the viewer's membership; an invite-only group the
        viewer is not in (nor invited to) is as missing."""
        group = self.session.scalar(select(Group).where(Group.slug == slugify(slug)))
        if group is None:
            raise GroupNotFound(f"There is no group {slug!r}.")
        membership = self.membership(group.id, viewer.id) if viewer is not None else None
        if (
            group.privacy is GroupPrivacy.INVITE_ONLY
            and membership is None
            and not (viewer is not None and viewer.is_admin)
        ):
            raise GroupNotFound(f"There is no group {slug!r}.")
        return group, membership

    def get(self, viewer: User | None, group_id: int) -> tuple[Group, GroupMember | None]:
        group = self.session.get(Group, group_id)
        if group is None:
            raise GroupNotFound(f"There is no group with id {group_id}.")
        return self.find(viewer, group.slug)

    def membership(self, group_id: int, user_id: int) -> GroupMember | None:
        return self.session.get(GroupMember, (group_id, user_id))

    def can_read(self, viewer: User | None, group: Group, membership: GroupMember | None) -> bool:
        """Whether ``viewer`` sees the group's members, talk and charts."""
        if group.privacy is GroupPrivacy.PUBLIC:
            return True
        if viewer is not None and viewer.is_admin:
            return True
        return membership is not None and membership.status is MembershipStatus.MEMBER

    def require_read(
        self, viewer: User | None, group: Group, membership: GroupMember | None
    ) -> None:
        if not self.can_read(viewer, group, membership):
            raise MembersOnly(f"Only members see inside {group.name}; join it first.")

    def require_member(self, user: User, group: Group) -> GroupMember:
        membership = self.membership(group.id, user.id)
        if membership is None or membership.status is not MembershipStatus.MEMBER:
            raise PermissionDenied(f"Only members of {group.name} may do this; join it first.")
        return membership

    def can_moderate(self, user: User | None, group_id: int) -> bool:
        if user is None:
            return False
        if user.is_admin:
            return True
        membership = self.membership(group_id, user.id)
        return (
            membership is not None
            and membership.status is MembershipStatus.MEMBER
            and membership.role in MODERATING
        )

    def view(self, group: Group, membership: GroupMember | None) -> GroupView:
        item = self.session.get(Item, group.item_id) if group.item_id else None
        return GroupView(group, membership, self.member_counts([group.id])[group.id], item)

    def views(self, groups: Sequence[Group], viewer: User | None) -> list[GroupView]:
        ids = [g.id for g in groups]
        counts = self.member_counts(ids)
        mine: dict[int, GroupMember] = {}
        if viewer is not None and ids:
            mine = {
                m.group_id: m
                for m in self.session.scalars(
                    select(GroupMember).where(
                        GroupMember.user_id == viewer.id, GroupMember.group_id.in_(ids)
                    )
                )
            }
        item_ids = [g.item_id for g in groups if g.item_id]
        items = (
            {i.id: i for i in self.session.scalars(select(Item).where(Item.id.in_(item_ids)))}
            if item_ids
            else {}
        )
        return [
            GroupView(g, mine.get(g.id), counts[g.id], items.get(g.item_id) if g.item_id else None)
            for g in groups
        ]

    def member_counts(self, group_ids: Sequence[int]) -> dict[int, int]:
        counts = dict.fromkeys(group_ids, 0)
        if group_ids:
            rows = self.session.execute(
                select(GroupMember.group_id, func.count())
                .where(
                    GroupMember.group_id.in_(group_ids),
                    GroupMember.status == MembershipStatus.MEMBER,
                )
                .group_by(GroupMember.group_id)
            )
            counts.update((group_id, int(count)) for group_id, count in rows)
        return counts

    def search(
        self,
        viewer: User | None,
        *,
        query: str | None = None,
        item_id: int | None = None,
        domain: Domain | None = None,
        themes: bool = False,
        offset: int = 0,
        limit: int = 50,
    ) -> list[Group]:
        """Public and private groups (and invite-only ones the viewer is in), biggest first.
        ``domain`` keeps groups about an item of that domain (music, tv ...); ``themes``
        keeps groups about no item (a free theme)."""
        visible: list[ColumnElement[bool]] = [Group.privacy != GroupPrivacy.INVITE_ONLY]
        if viewer is not None:
            if viewer.is_admin:
                visible.append(Group.id.is_not(None))
            visible.append(
                Group.id.in_(select(GroupMember.group_id).where(GroupMember.user_id == viewer.id))
            )
        members = (
            select(func.count())
            .where(GroupMember.group_id == Group.id, GroupMember.status == MembershipStatus.MEMBER)
            .correlate(Group)
            .scalar_subquery()
        )
        stmt = select(Group).where(or_(*visible))
        if query:
            key = slugify(query)
            stmt = stmt.where(
                or_(
                    Group.slug.contains(key, autoescape=True),
                    func.lower(Group.name).contains(query.lower(), autoescape=True),
                )
            )
        if item_id is not None:
            stmt = stmt.where(Group.item_id == item_id)
        if domain is not None:
            stmt = stmt.where(Group.item_id.in_(select(Item.id).where(Item.domain == domain)))
        if themes:
            stmt = stmt.where(Group.item_id.is_(None))
        stmt = stmt.order_by(members.desc(), Group.id).offset(offset).limit(limit)
        return list(self.session.scalars(stmt))

    def groups_of(self, user: User) -> list[tuple[Group, GroupMember]]:
        """The caller's groups, invitations and requests, newest first."""
        rows = self.session.execute(
            select(Group, GroupMember)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.user_id == user.id)
            .order_by(GroupMember.created_at.desc(), Group.id)
        )
        return [(group, membership) for group, membership in rows]

    def visible_groups_of(self, viewer: User | None, owner: User) -> list[Group]:
        """The groups ``owner`` is a member of that ``viewer`` may know about."""
        rows = [
            group
            for group, membership in self.groups_of(owner)
            if membership.status is MembershipStatus.MEMBER
        ]
        if viewer is not None and (viewer.is_admin or viewer.id == owner.id):
            return rows
        mine = set()
        if viewer is not None:
            mine = {g.id for g, m in self.groups_of(viewer) if m.status is MembershipStatus.MEMBER}
        return [g for g in rows if g.privacy is GroupPrivacy.PUBLIC or g.id in mine]

    # -- creating and changing --------------------------------------------------------------

    def create(
        self,
        user: User,
        *,
        name: str,
        description: str | None,
        privacy: GroupPrivacy,
        item: Item | None,
    ) -> Group:
        slug = slugify(name)
        if len(slug) < 2:
            raise InvalidSocialAction("A group's name needs at least two letters or digits.")
        if self.session.scalar(select(Group.id).where(Group.slug == slug)) is not None:
            raise GroupNameTaken(f"There is a group called {name!r} already.")
        now = self.clock()
        group = Group(
            slug=slug,
            name=name,
            description=description,
            privacy=privacy,
            item_id=item.id if item is not None else None,
            created_by_id=user.id,
            created_at=now,
        )
        self.session.add(group)
        self.session.flush()
        self.session.add(
            GroupMember(
                group_id=group.id,
                user_id=user.id,
                role=GroupRole.OWNER,
                status=MembershipStatus.MEMBER,
                created_at=now,
                joined_at=now,
            )
        )
        return group

    def update(
        self,
        actor: User,
        group: Group,
        *,
        name: str | None = None,
        description: str | None = None,
        privacy: GroupPrivacy | None = None,
    ) -> Group:
        self._require_moderator(actor, group)
        if privacy is not None and privacy is not group.privacy:
            self._require_owner(actor, group)
            group.privacy = privacy
        if name is not None and name != group.name:
            slug = slugify(name)
            taken = self.session.scalar(
                select(Group.id).where(Group.slug == slug, Group.id != group.id)
            )
            if len(slug) < 2:
                raise InvalidSocialAction("A group's name needs at least two letters or digits.")
            if taken is not None:
                raise GroupNameTaken(f"There is a group called {name!r} already.")
            group.name, group.slug = name, slug
        if description is not None:
            group.description = description or None
        return group

    def delete(self, actor: User, group: Group) -> None:
        """Delete the group with its members, topics and shouts."""
        self._require_owner(actor, group)
        topics = select(Topic.id).where(Topic.group_id == group.id)
        self.session.execute(
            delete(Shout).where(
                or_(
                    (Shout.target_kind == ShoutTarget.GROUP) & (Shout.target_id == group.id),
                    (Shout.target_kind == ShoutTarget.TOPIC) & Shout.target_id.in_(topics),
                )
            )
        )
        self.session.delete(group)

    # -- membership -------------------------------------------------------------------------

    def join(self, user: User, group: Group) -> GroupMember:
        """Join a public group, accept an invitation, or ask to join a private group."""
        membership = self.membership(group.id, user.id)
        if membership is not None:
            if membership.status is MembershipStatus.MEMBER:
                raise AlreadyMember(f"You are a member of {group.name} already.")
            if membership.status is MembershipStatus.INVITED:
                return self._admit(membership)
            return membership  # a request, still waiting
        now = self.clock()
        if group.privacy is GroupPrivacy.PUBLIC:
            membership = GroupMember(
                group_id=group.id,
                user_id=user.id,
                role=GroupRole.MEMBER,
                status=MembershipStatus.MEMBER,
                created_at=now,
                joined_at=now,
            )
        elif group.privacy is GroupPrivacy.PRIVATE:
            membership = GroupMember(
                group_id=group.id,
                user_id=user.id,
                role=GroupRole.MEMBER,
                status=MembershipStatus.REQUESTED,
                created_at=now,
            )
            for moderator in self._moderator_ids(group.id):
                self.notifications.notify(
                    moderator, NotificationKind.GROUP_REQUEST, actor_id=user.id, group_id=group.id
                )
        else:
            raise PermissionDenied(f"{group.name} takes members by invitation only.")
        self.session.add(membership)
        return membership

    def leave(self, user: User, group: Group) -> None:
        """Leave the group, withdraw a request or decline an invitation."""
        membership = self.membership(group.id, user.id)
        if membership is None:
            raise InvitationNotFound(f"You are not in {group.name}.")
        if membership.role is GroupRole.OWNER and membership.status is MembershipStatus.MEMBER:
            self._keep_an_owner(group, user.id)
        if membership.status is MembershipStatus.REQUESTED:
            for moderator in self._moderator_ids(group.id):
                self.notifications.withdraw(
                    moderator, NotificationKind.GROUP_REQUEST, actor_id=user.id, group_id=group.id
                )
        self.session.delete(membership)

    def invite(self, actor: User, group: Group, invitee: User) -> GroupMember:
        """Invite someone: any member may in a public group, owners and moderators in the
        others. Inviting someone who asked to join lets them in."""
        self.require_member(actor, group)
        if group.privacy is not GroupPrivacy.PUBLIC:
            self._require_moderator(actor, group)
        if blocked_between(self.session, actor.id, invitee.id):
            raise UserNotFound(f"There is no user called {invitee.name!r}.")
        membership = self.membership(group.id, invitee.id)
        if membership is not None:
            if membership.status is MembershipStatus.MEMBER:
                raise AlreadyMember(f"{invitee.name} is a member of {group.name} already.")
            if membership.status is MembershipStatus.REQUESTED:
                return self._admit(membership)
            return membership
        membership = GroupMember(
            group_id=group.id,
            user_id=invitee.id,
            role=GroupRole.MEMBER,
            status=MembershipStatus.INVITED,
            invited_by_id=actor.id,
            created_at=self.clock(),
        )
        self.session.add(membership)
        self.notifications.notify(
            invitee.id, NotificationKind.GROUP_INVITATION, actor_id=actor.id, group_id=group.id
        )
        return membership

    def accept_invitation(self, user: User, group: Group) -> GroupMember:
        membership = self.membership(group.id, user.id)
        if membership is None or membership.status is not MembershipStatus.INVITED:
            raise InvitationNotFound(f"You have no invitation to {group.name}.")
        return self._admit(membership)

    def decline_invitation(self, user: User, group: Group) -> None:
        membership = self.membership(group.id, user.id)
        if membership is None or membership.status is not MembershipStatus.INVITED:
            raise InvitationNotFound(f"You have no invitation to {group.name}.")
        self.session.delete(membership)

    def requests(self, actor: User, group: Group) -> list[tuple[GroupMember, User]]:
        self._require_moderator(actor, group)
        rows = self.session.execute(
            select(GroupMember, User)
            .join(User, User.id == GroupMember.user_id)
            .where(
                GroupMember.group_id == group.id,
                GroupMember.status == MembershipStatus.REQUESTED,
            )
            .order_by(GroupMember.created_at, User.name)
        )
        return [(membership, user) for membership, user in rows]

    def answer_request(self, actor: User, group: Group, user: User, *, approve: bool) -> None:
        self._require_moderator(actor, group)
        membership = self.membership(group.id, user.id)
        if membership is None or membership.status is not MembershipStatus.REQUESTED:
            raise InvitationNotFound(f"{user.name} has not asked to join {group.name}.")
        for moderator in self._moderator_ids(group.id):
            self.notifications.withdraw(
                moderator, NotificationKind.GROUP_REQUEST, actor_id=user.id, group_id=group.id
            )
        if approve:
            self._admit(membership)
        else:
            self.session.delete(membership)

    def set_role(self, actor: User, group: Group, target: User, role: GroupRole) -> GroupMember:
        self._require_owner(actor, group)
        membership = self.membership(group.id, target.id)
        if membership is None or membership.status is not MembershipStatus.MEMBER:
            raise UserNotFound(f"{target.name} is not a member of {group.name}.")
        if membership.role is GroupRole.OWNER and role is not GroupRole.OWNER:
            self._keep_an_owner(group, target.id)
        membership.role = role
        return membership

    def remove_member(self, actor: User, group: Group, target: User) -> None:
        """Moderators remove members; owners remove anyone (but the last owner)."""
        self._require_moderator(actor, group)
        membership = self.membership(group.id, target.id)
        if membership is None:
            raise UserNotFound(f"{target.name} is not in {group.name}.")
        if membership.role in MODERATING and membership.status is MembershipStatus.MEMBER:
            self._require_owner(actor, group)
            if membership.role is GroupRole.OWNER:
                self._keep_an_owner(group, target.id)
        self.session.delete(membership)

    def members(
        self,
        viewer: User | None,
        group: Group,
        *,
        role: GroupRole | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[tuple[GroupMember, User]]:
        """Members, owners first, then moderators, then by name. Owners and moderators are
        always listed; other members only as their profile's visibility allows (and never
        someone the viewer blocks or is blocked by)."""
        order = {GroupRole.OWNER: 0, GroupRole.MODERATOR: 1, GroupRole.MEMBER: 2}
        stmt = (
            select(GroupMember, User)
            .join(User, User.id == GroupMember.user_id)
            .where(GroupMember.group_id == group.id, GroupMember.status == MembershipStatus.MEMBER)
        )
        if role is not None:
            stmt = stmt.where(GroupMember.role == role)
        rows = [(m, u) for m, u in self.session.execute(stmt)]
        visible = {u.id for u in self.social.visible_among(viewer, [u for _, u in rows])}
        hidden = self.social.hidden_ids(viewer)
        kept = [
            (m, u)
            for m, u in rows
            if u.id in visible or (m.role in MODERATING and u.id not in hidden)
        ]
        kept.sort(key=lambda row: (order[row[0].role], row[1].name_key))
        return kept[offset : offset + limit]

    def chart_members(self, group: Group) -> Select[int]:
        """Whose plays make the group's charts: its members, less private profiles."""
        return (
            select(GroupMember.user_id)
            .join(User, User.id == GroupMember.user_id)
            .where(
                GroupMember.group_id == group.id,
                GroupMember.status == MembershipStatus.MEMBER,
                User.visibility != Visibility.PRIVATE,
            )
        )

    def recommendations(
        self, viewer: User, group: Group, *, limit: int = 20, where: Viewer | None = None
    ) -> list[GroupPick]:
        """What the members love or played most in the last 90 days that ``viewer`` has
        never played nor rated: 3 points per member who loves it, 1 per member who played
        it; only what is available ``where`` (default: the viewer's country, now)."""
        members = self.chart_members(group).where(GroupMember.user_id != viewer.id)
        since = self.clock() - timedelta(days=RECOMMEND_DAYS)
        lovers = {
            item_id: int(count)
            for item_id, count in self.session.execute(
                select(Feedback.item_id, func.count())
                .where(Feedback.user_id.in_(members), Feedback.sentiment == Sentiment.LOVE)
                .group_by(Feedback.item_id)
                .order_by(func.count().desc(), Feedback.item_id)
                .limit(500)
            )
        }
        listeners = {
            item_id: int(count)
            for item_id, count in self.session.execute(
                select(Play.item_id, func.count(Play.user_id.distinct()))
                .where(Play.user_id.in_(members), Play.played_at >= since)
                .group_by(Play.item_id)
                .order_by(func.count(Play.user_id.distinct()).desc(), Play.item_id)
                .limit(500)
            )
        }
        candidates = set(lovers) | set(listeners)
        if self.availability is not None and candidates:
            shown = where if where is not None else Viewer(country=viewer.country)
            candidates = self.availability.available(candidates, shown.country, shown.at)
        if not candidates:
            return []
        tried = set(
            self.session.scalars(
                union(
                    select(Play.item_id).where(
                        Play.user_id == viewer.id, Play.item_id.in_(candidates)
                    ),
                    select(IncognitoPlay.item_id).where(
                        IncognitoPlay.user_id == viewer.id, IncognitoPlay.item_id.in_(candidates)
                    ),
                    select(Feedback.item_id).where(
                        Feedback.user_id == viewer.id, Feedback.item_id.in_(candidates)
                    ),
                )
            )
        )
        scored = sorted(
            (
                (3.0 * lovers.get(i, 0) + listeners.get(i, 0), i)
                for i in candidates
                if i not in tried
            ),
            key=lambda row: (-row[0], row[1]),
        )[: limit * 2]
        items = {
            i.id: i
            for i in self.session.scalars(
                select(Item).where(
                    Item.id.in_([i for _, i in scored]), Item.merged_into_id.is_(None)
                )
            )
        }
        picks = [
            GroupPick(items[i], lovers.get(i, 0), listeners.get(i, 0), score)
            for score, i in scored
            if i in items
        ]
        return picks[:limit]

    # -- topics -----------------------------------------------------------------------------

    def create_topic(self, user: User, group: Group, title: str) -> Topic:
        self.require_member(user, group)
        now = self.clock()
        topic = Topic(
            group_id=group.id, author_id=user.id, title=title, created_at=now, last_post_at=now
        )
        self.session.add(topic)
        self.session.flush()
        return topic

    def topics(
        self, viewer: User | None, group: Group, *, before: tuple[datetime, int] | None, limit: int
    ) -> list[TopicView]:
        """Topics with the latest post first, paged by (last post, id)."""
        posts = (
            select(func.count())
            .where(
                Shout.target_kind == ShoutTarget.TOPIC,
                Shout.target_id == Topic.id,
                Shout.deleted_at.is_(None),
            )
            .correlate(Topic)
            .scalar_subquery()
        )
        stmt = (
            select(Topic, User, posts)
            .outerjoin(User, User.id == Topic.author_id)
            .where(Topic.group_id == group.id, Topic.deleted_at.is_(None))
            .order_by(Topic.last_post_at.desc(), Topic.id.desc())
            .limit(limit)
        )
        if before is not None:
            at, topic_id = before
            stmt = stmt.where(
                or_(
                    Topic.last_post_at < at,
                    (Topic.last_post_at == at) & (Topic.id < topic_id),
                )
            )
        hidden = self.social.hidden_ids(viewer)
        return [
            TopicView(topic, None if author is not None and author.id in hidden else author, n)
            for topic, author, n in self.session.execute(stmt)
        ]

    def topic(self, viewer: User | None, topic_id: int) -> tuple[Topic, Group]:
        """A topic the viewer may read; any other is as missing."""
        topic = self.session.get(Topic, topic_id)
        missing = TopicNotFound(f"There is no topic with id {topic_id}.")
        if topic is None or topic.deleted_at is not None:
            raise missing
        try:
            group, membership = self.get(viewer, topic.group_id)
        except GroupNotFound:
            raise missing from None
        if not self.can_read(viewer, group, membership):
            raise missing
        return topic, group

    def delete_topic(self, actor: User, topic: Topic) -> None:
        if topic.author_id != actor.id and not self.can_moderate(actor, topic.group_id):
            raise PermissionDenied("Only the topic's author or a moderator may delete it.")
        topic.deleted_at = self.clock()

    def touch_topic(self, topic_id: int, at: datetime) -> None:
        topic = self.session.get(Topic, topic_id)
        if topic is not None and at > topic.last_post_at:
            topic.last_post_at = at

    # -- helpers ----------------------------------------------------------------------------

    def _admit(self, membership: GroupMember) -> GroupMember:
        membership.status = MembershipStatus.MEMBER
        membership.joined_at = self.clock()
        return membership

    def _moderator_ids(self, group_id: int) -> list[int]:
        return list(
            self.session.scalars(
                select(GroupMember.user_id).where(
                    GroupMember.group_id == group_id,
                    GroupMember.status == MembershipStatus.MEMBER,
                    GroupMember.role.in_(MODERATING),
                )
            )
        )

    def _require_moderator(self, actor: User, group: Group) -> None:
        if not self.can_moderate(actor, group.id):
            raise PermissionDenied(f"Only owners and moderators of {group.name} may do this.")

    def _require_owner(self, actor: User, group: Group) -> None:
        if actor.is_admin:
            return
        membership = self.membership(group.id, actor.id)
        if (
            membership is None
            or membership.status is not MembershipStatus.MEMBER
            or membership.role is not GroupRole.OWNER
        ):
            raise PermissionDenied(f"Only owners of {group.name} may do this.")

    def _keep_an_owner(self, group: Group, leaving: int) -> None:
        others = self.session.scalar(
            select(func.count()).where(
                GroupMember.group_id == group.id,
                GroupMember.role == GroupRole.OWNER,
                GroupMember.status == MembershipStatus.MEMBER,
                GroupMember.user_id != leaving,
            )
        )
        if not others:
            raise LastOwner(
                f"{group.name} needs an owner: make another member owner first, "
                "or delete the group."
            )
