"""Advertisers, campaigns, line items, creatives, placements, beacons and delivery rows.

Money is stored in micros (millionths of the currency, ``ads_currency``), as integers.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tastegraph.storage.base import Base, BigIntPK, EnumText, UTCDateTime, utcnow


class Priority(StrEnum):
    """The priority ladder: a higher tier always beats a lower one, whatever the price."""

    SPONSORSHIP = "sponsorship"
    STANDARD = "standard"
    REMNANT = "remnant"
    HOUSE = "house"
    """The operator's own ads: no budget, no floor, served only when nothing else fills."""


PRIORITY_RANK: dict[Priority, int] = {
    Priority.SPONSORSHIP: 0,
    Priority.STANDARD: 1,
    Priority.REMNANT: 2,
    Priority.HOUSE: 3,
}


class Pricing(StrEnum):
    CPM = "cpm"
    """The bid is per thousand impressions; spend is counted at decision time."""
    CPC = "cpc"
    """The bid is per click; spend is counted when a click is recorded."""


class Pacing(StrEnum):
    EVEN = "even"
    """Spread the daily budget over the day (see ads/pacing.py)."""
    ASAP = "asap"
    """Spend as fast as traffic allows, up to the daily budget."""


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"
    """Deleted through the API: kept so that reports stay whole, never served or listed."""


class CreativeFormat(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    TEXT = "text"


class PlacementType(StrEnum):
    PAGE = "page"
    """A slot on a page or screen (a banner, a text ad)."""
    INSTREAM = "instream"
    """A break in a stream: pre-, mid- or post-roll of a video, a live match, a programme."""


class Advertiser(Base):
    __tablename__ = "ad_advertisers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253))
    """The advertiser's domain, sent as ``adomain`` in OpenRTB bids."""
    status: Mapped[Status] = mapped_column(EnumText(Status), default=Status.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AdvertiserMember(Base):
    """A user who works for an advertiser: they manage its campaigns and read its reports."""

    __tablename__ = "ad_advertiser_members"

    advertiser_id: Mapped[int] = mapped_column(
        ForeignKey("ad_advertisers.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(Base):
    __tablename__ = "ad_campaigns"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    advertiser_id: Mapped[int] = mapped_column(
        ForeignKey("ad_advertisers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[Priority] = mapped_column(EnumText(Priority), default=Priority.STANDARD)
    pricing: Mapped[Pricing] = mapped_column(EnumText(Pricing), default=Pricing.CPM)
    pacing: Mapped[Pacing] = mapped_column(EnumText(Pacing), default=Pacing.EVEN)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    total_budget_micros: Mapped[int | None] = mapped_column(BigInteger)
    """None only for house campaigns."""
    daily_budget_micros: Mapped[int | None] = mapped_column(BigInteger)
    """A day is a UTC calendar day."""
    status: Mapped[Status] = mapped_column(EnumText(Status), default=Status.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LineItem(Base):
    """What to buy: a bid, targeting and frequency caps, under a campaign's budget."""

    __tablename__ = "ad_line_items"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("ad_campaigns.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    bid_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    """Per thousand impressions (CPM campaigns) or per click (CPC campaigns)."""
    targeting: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """A validated ``schemas.Targeting``."""
    frequency_caps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Validated ``schemas.FrequencyCap`` objects."""
    status: Mapped[Status] = mapped_column(EnumText(Status), default=Status.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Creative(Base):
    __tablename__ = "ad_creatives"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    line_item_id: Mapped[int] = mapped_column(
        ForeignKey("ad_line_items.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    format: Mapped[CreativeFormat] = mapped_column(EnumText(CreativeFormat))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    asset_url: Mapped[str | None] = mapped_column(String(2048))
    mime: Mapped[str | None] = mapped_column(String(64))
    headline: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    click_url: Mapped[str] = mapped_column(String(2048))
    status: Mapped[Status] = mapped_column(EnumText(Status), default=Status.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Placement(Base):
    """Where ads show: a slot on a page, or a break in a stream (a mid-roll in a live match)."""

    __tablename__ = "ad_placements"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    """The name clients and OpenRTB ``imp.tagid`` use."""
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[PlacementType] = mapped_column(EnumText(PlacementType))
    formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[str | None] = mapped_column(String(16))
    """In-stream only: preroll, midroll or postroll."""
    max_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    floor_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    """The lowest CPM that may win here (house ads excepted)."""
    status: Mapped[Status] = mapped_column(EnumText(Status), default=Status.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AdBeacon(Base):
    """One row per counted impression, click or loss notice: a replayed beacon finds its row
    and counts nothing (``INSERT ... ON CONFLICT DO NOTHING``)."""

    __tablename__ = "ad_beacons"

    token_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AdDelivery(Base):
    """What was delivered, per day, line item, creative, placement, segment, country, kind of
    targeting and viewer (a keyed hash, never a user id). Impressions, clicks and spend are
    exact. Viewers outside the frequency sample (``ads_frequency_sample``: one viewer in N,
    by hash; 1 keeps all) share the row whose viewer is '': the sampled viewers' rows give the
    frequency distribution, unique reach comes from ``AdReach`` sketches (or Redis)."""

    __tablename__ = "ad_delivery"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    line_item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    creative_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    placement_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    segment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """The audience segment the impression was bought for; 0 when none."""
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    """ISO 3166-1 alpha-2, or '' when unknown."""
    mode: Mapped[str] = mapped_column(String(12), primary_key=True)
    """audience, contextual, network (run of network) or house."""
    viewer: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    advertiser_id: Mapped[int] = mapped_column(BigInteger)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    spend_micros: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        Index("ix_ad_delivery_campaign_id_day", "campaign_id", "day"),
        Index("ix_ad_delivery_advertiser_id_day", "advertiser_id", "day"),
    )


class AdReach(Base):
    """HyperLogLog registers of the viewers of one reporting cell on one day (ads/sketch.py):
    only registers that are not zero, at most 16,384 rows per cell and day however many
    viewers it had. A beacon raises its viewer's register to its rank
    (``ON CONFLICT DO UPDATE ... WHERE rank < excluded.rank``): concurrent writers merge, and
    a report merges any cells and days with ``MAX(rank) GROUP BY register``. Used when no
    Redis is configured (with Redis the sketches are ``PFADD`` keys there)."""

    __tablename__ = "ad_reach"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    line_item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    creative_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    placement_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    segment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    mode: Mapped[str] = mapped_column(String(12), primary_key=True)
    register: Mapped[int] = mapped_column(Integer, primary_key=True)
    rank: Mapped[int] = mapped_column(SmallInteger)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    advertiser_id: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_ad_reach_campaign_id_day", "campaign_id", "day"),
        Index("ix_ad_reach_advertiser_id_day", "advertiser_id", "day"),
    )


class AdIndexVersion(Base):
    """One row whose version goes up with every change to what the decision index holds:
    servers rebuild their index only when it moved (ads/index.py)."""

    __tablename__ = "ad_index_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
