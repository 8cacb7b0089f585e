"""What the operator enters about a title (its costs) and the ad delivery attributed to titles.

``title_costs`` holds a production or licence cost per title and kind, in a currency (micros,
like ad money). ``title_ad_delivery`` is the ad delivery of the ads area seen from the content
side: impressions, clicks and spend per UTC day, *context item* (what the viewer was watching
when the ad was decided), line item, placement, kind of targeting and country. It is written
next to ``ad_delivery`` when an impression or click is counted (``insights/attribution.py``), so
its sums are exact; the viewer is never stored.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tastegraph.accounts.models import User
from tastegraph.ingest.models import Play
from tastegraph.storage.base import Base, BigIntPK, EnumText, UTCDateTime, utcnow


class CostKind(StrEnum):
    PRODUCTION = "production"
    LICENCE = "licence"


class TitleCost(Base):
    """A cost the operator paid for a title: producing it, or licensing it."""

    __tablename__ = "title_costs"
    __table_args__ = (UniqueConstraint("item_id", "kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    kind: Mapped[CostKind] = mapped_column(EnumText(CostKind, 16))
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    """ISO 4217."""
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TitleAdDelivery(Base):
    """Ad delivery per day and context item (derived data: no foreign keys)."""

    __tablename__ = "title_ad_delivery"
    __table_args__ = (Index("ix_title_ad_delivery_item_id_day", "item_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    """The UTC day of the decision, as in ``ad_delivery``."""
    item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    line_item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    placement_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mode: Mapped[str] = mapped_column(String(12), primary_key=True)
    """audience, contextual, network or house (ads/tokens.py)."""
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    advertiser_id: Mapped[int] = mapped_column(BigInteger)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    spend_micros: Mapped[int] = mapped_column(BigInteger, default=0)


PLAYS_BY_TITLE = Index(
    "ix_plays_item_time_user_progress",
    Play.item_id,
    Play.played_at,
    Play.user_id,
    Play.progress,
)
"""A title's plays in a window with who played them and how far, from the index alone: a
title page reads tens of thousands of plays, and fetching each from the table (scattered over
it, since plays are stored in the order they arrive) cost a second for the most watched show of
a 20-million-play log; from this index it takes milliseconds. It extends the ingest area's
``ix_plays_item_time_user`` by the progress."""


USERS_BY_COUNTRY = Index("ix_users_country_id", User.country, User.id)
"""Every user's country from the index alone: a page about a title watched by a twentieth of
all users or more reads every user's country (grouped by country, in the index's order) instead
of looking 50,000 viewers up, and the users table is wide (30 ms for 100,000 users from the
table, 15 ms fewer from this index)."""


class SegmentBitmap(Base):
    """Who is in a segment, one bit per user id (bit ``u % 8`` of byte ``u // 8``): a title
    page counts how many of its viewers are in each segment by looking 50,000 bits up per
    segment (milliseconds) instead of joining 450,000 membership rows. Derived data, rewritten
    by ``insights/segment_bits.py`` in the transaction that changes the members (the audiences
    area's member hooks); a segment without one is counted from its members."""

    __tablename__ = "segment_bitmaps"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    members: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
