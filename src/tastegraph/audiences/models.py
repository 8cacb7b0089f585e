from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tastegraph.storage.base import Base, BigIntPK, EnumText, UTCDateTime, utcnow


class SegmentKind(StrEnum):
    RULE = "rule"
    """Members are the eligible users the rule selects; refreshed continuously."""
    LOOKALIKE = "lookalike"
    """A seed segment expanded with the most similar eligible users; a snapshot."""
    CLUSTER = "cluster"
    """An automatic interest cluster, labelled from its top tags; a snapshot."""


class AdConsent(Base):
    """A user's advertising choices, TCF v2.2 purposes 3 and 4 kept apart.

    Profiles are built (purpose 3) and used (purpose 4) only when both are given; a user with
    no row has given neither. ``declared_adult`` is the user's statement that they are 18 or
    older, which counts only when ``users.birth_year`` does not settle it (see docs/audiences.md).
    """

    __tablename__ = "ad_consents"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    profiling: Mapped[bool] = mapped_column(Boolean, default=False)
    """TCF purpose 3: create profiles for personalised advertising."""
    personalised_ads: Mapped[bool] = mapped_column(Boolean, default=False)
    """TCF purpose 4: use profiles to select personalised advertising."""
    declared_adult: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(32), default="api")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsentEvent(Base):
    """The audit log of consent changes: whose, when, by whom, from what to what, through what.

    When a user is erased their events go with them, and one event without a user records
    that an erasure happened (``source`` = ``erasure``).
    """

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    """``self``, ``admin``, ``operator`` (the CLI) or ``system``; never another user's name."""
    source: Mapped[str] = mapped_column(String(32))
    """Where the change came from: ``api``, ``settings``, ``cli``, ``erasure``."""
    old: Mapped[dict[str, Any]] = mapped_column(JSON)
    new: Mapped[dict[str, Any]] = mapped_column(JSON)


class Segment(Base):
    """A named audience. Advertisers see only its size and breakdowns, never its members."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[SegmentKind] = mapped_column(EnumText(SegmentKind), default=SegmentKind.RULE)
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The validated rule (``audiences.rules``) of a rule segment."""
    iab_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    """IAB Audience Taxonomy 1.1 ids (segtax 4) this segment is sold as."""
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    """Who created it (an advertiser's user or an administrator); none for the operator CLI."""
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    """Visible to every advertiser (made by an administrator, the operator or clustering);
    otherwise only its owner and administrators see it."""
    seed_segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("segments.id", ondelete="SET NULL")
    )
    target_size: Mapped[int | None] = mapped_column(Integer)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Kind-specific facts: a cluster's top tags, a lookalike's score threshold."""
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SegmentMember(Base):
    """Materialised membership. Only eligible users (consenting adults) are ever stored."""

    __tablename__ = "segment_members"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float | None] = mapped_column(Float)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_segment_members_user_id", "user_id"),)
