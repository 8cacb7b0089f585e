"""The social graph and what people say: friendships, follows, blocks, groups and their topics,
shouts with reactions and reports, and notifications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tastegraph.storage.base import Base, BigIntPK, EnumText, UTCDateTime, utcnow

# -- relationships ----------------------------------------------------------------------------


class FriendshipStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"


class Friendship(Base):
    """A symmetric friendship, stored once with the lower user id first. ``requested_by_id``
    says who asked; a pending row is a friend request."""

    __tablename__ = "friendships"

    user_low_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    user_high_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[FriendshipStatus] = mapped_column(
        EnumText(FriendshipStatus), default=FriendshipStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("user_low_id < user_high_id", name="ordered_pair"),)


class Follow(Base):
    """A one-way follow: the follower sees the followee's public activity in their feed."""

    __tablename__ = "follows"

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followee_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Block(Base):
    """A block hides the two people from each other everywhere."""

    __tablename__ = "blocks"

    blocker_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlayCount(Base):
    """How many plays each person has in the play log (incognito plays are apart): the feed
    numbers the plays it reads from it to find milestones. Kept equal to the log by the write
    path's hooks (``social/counts.py``)."""

    __tablename__ = "play_counts"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    plays: Mapped[int] = mapped_column(BigInteger, default=0)


# -- groups -----------------------------------------------------------------------------------


class GroupPrivacy(StrEnum):
    PUBLIC = "public"
    """Everyone sees everything; anyone joins at once."""
    PRIVATE = "private"
    """Listed, with its name and description; members, talk and charts are for members;
    joining is a request a moderator approves (or an invitation)."""
    INVITE_ONLY = "invite_only"
    """Hidden from everyone but members and invitees; joining only by invitation."""


class GroupRole(StrEnum):
    OWNER = "owner"
    MODERATOR = "moderator"
    MEMBER = "member"


class MembershipStatus(StrEnum):
    MEMBER = "member"
    INVITED = "invited"
    REQUESTED = "requested"


class Group(Base):
    """A group around an item (a show, a team, an artist, an outlet) or a free theme."""

    __tablename__ = "social_groups"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    """The group's address: its name, lower-cased, with dashes."""
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="SET NULL"), index=True
    )
    privacy: Mapped[GroupPrivacy] = mapped_column(EnumText(GroupPrivacy))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GroupMember(Base):
    """A member of a group, or an invitation to it, or a request to join it."""

    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("social_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[GroupRole] = mapped_column(EnumText(GroupRole), default=GroupRole.MEMBER)
    status: Mapped[MembershipStatus] = mapped_column(EnumText(MembershipStatus))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_group_members_group_status", "group_id", "status"),
        # People's newest joins first, in a time window: what activity feeds read.
        Index("ix_group_members_user_joined", "user_id", "joined_at"),
    )


class Topic(Base):
    """A discussion thread in a group; its posts are shouts on the topic."""

    __tablename__ = "group_topics"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("social_groups.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_group_topics_group_last_post", "group_id", "last_post_at"),)


# -- shouts -----------------------------------------------------------------------------------


class ShoutTarget(StrEnum):
    USER = "user"
    """A profile's wall."""
    ITEM = "item"
    """An item's page; for an event (a match, a broadcast, a premiere) its live room."""
    GROUP = "group"
    """A group's shoutbox."""
    TOPIC = "topic"
    """A post in a group's discussion thread."""


class Shout(Base):
    """A short public message on a wall, an item, a group or a topic; a reply when it has a
    parent (one level: replies to a reply join the first shout's thread)."""

    __tablename__ = "shouts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target_kind: Mapped[ShoutTarget] = mapped_column(EnumText(ShoutTarget))
    target_id: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("shouts.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    """The text as written; rendered as escaped HTML on the way out, never stored as HTML."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_shouts_target", "target_kind", "target_id", "id"),
        Index("ix_shouts_author_time", "author_id", "created_at"),
    )


class ShoutReaction(Base):
    """One reaction code per user per shout per code."""

    __tablename__ = "shout_reactions"

    shout_id: Mapped[int] = mapped_column(
        ForeignKey("shouts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportReason(StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    HARASSMENT = "harassment"
    HATE = "hate"
    OTHER = "other"


class ReportStatus(StrEnum):
    OPEN = "open"
    REMOVED = "removed"
    """Upheld: the shout was deleted."""
    DISMISSED = "dismissed"


class ShoutReport(Base):
    """An abuse report on a shout, waiting in the moderation queue until resolved."""

    __tablename__ = "shout_reports"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shout_id: Mapped[int] = mapped_column(ForeignKey("shouts.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[ReportReason] = mapped_column(EnumText(ReportReason))
    note: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ReportStatus] = mapped_column(EnumText(ReportStatus), default=ReportStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        UniqueConstraint("shout_id", "reporter_id"),
        Index("ix_shout_reports_status_id", "status", "id"),
    )


# -- notifications ----------------------------------------------------------------------------


class NotificationKind(StrEnum):
    FRIEND_REQUEST = "friend_request"
    FRIEND_ACCEPTED = "friend_accepted"
    REPLY = "reply"
    MENTION = "mention"
    WALL_SHOUT = "wall_shout"
    GROUP_INVITATION = "group_invitation"
    GROUP_REQUEST = "group_request"


class Notification(Base):
    """An in-app notification: unread until ``read_at`` is set."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(EnumText(NotificationKind, 24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    shout_id: Mapped[int | None] = mapped_column(ForeignKey("shouts.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("social_groups.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_notifications_user_id", "user_id", "id"),
        Index("ix_notifications_user_read", "user_id", "read_at"),
    )
