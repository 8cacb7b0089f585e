from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tastegraph.catalog.kinds import CreditRole, Domain, Kind
from tastegraph.storage.base import Base, BigIntPK, EnumText, UTCDateTime, utcnow


class Item(Base):
    """Anything people consume or that groups what they consume: a track, a show, a team..."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[Kind] = mapped_column(EnumText(Kind))
    domain: Mapped[Domain] = mapped_column(EnumText(Domain, 8), index=True)
    title: Mapped[str] = mapped_column(String(1024))
    match_key: Mapped[str] = mapped_column(String(512))
    """Normalised identity within the kind; see catalog.matching."""
    search_key: Mapped[str] = mapped_column(String(1024), index=True)
    """Normalised title, for search."""
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[int | None] = mapped_column(Integer)
    """Track, season or episode number."""
    original_language: Mapped[str | None] = mapped_column(String(35))
    country: Mapped[str | None] = mapped_column(String(2))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Release, first air or start time."""
    description: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "match_key"),)


class ItemCredit(Base):
    """A creator or participant of an item, with a role: a featured artist, the home team..."""

    __tablename__ = "item_credits"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    credited_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[CreditRole] = mapped_column(EnumText(CreditRole), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ExternalId(Base):
    __tablename__ = "external_ids"

    scheme: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)


class ItemAlias(Base):
    """Another spelling that resolves to an item; also left behind by merges."""

    __tablename__ = "item_aliases"

    kind: Mapped[Kind] = mapped_column(EnumText(Kind), primary_key=True)
    match_key: Mapped[str] = mapped_column(String(512), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(1024))


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64), unique=True)


class ItemTag(Base):
    """A user's tag on an item (the folksonomy)."""

    __tablename__ = "item_tags"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_item_tags_item_tag", "item_id", "tag_id"),)


class ItemTranslation(Base):
    """An item's title and description in another language (BCP 47: ``de``, ``pt-BR``)."""

    __tablename__ = "item_translations"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(35), primary_key=True)
    title: Mapped[str] = mapped_column(String(1024))
    search_key: Mapped[str] = mapped_column(String(1024), index=True)
    """The normalised title: search finds items by their translated titles too."""
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Offer(StrEnum):
    """How an item is offered in a territory."""

    AD_SUPPORTED = "ad_supported"
    SUBSCRIPTION = "subscription"
    RENTAL = "rental"


class TerritoryGroup(Base):
    """A named set of countries rights can be granted to: EU, DACH, LATAM... (editable data)."""

    __tablename__ = "territory_groups"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TerritoryGroupMember(Base):
    __tablename__ = "territory_group_members"

    group_key: Mapped[str] = mapped_column(
        ForeignKey("territory_groups.key", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True)


class ItemRight(Base):
    """One grant: an item (and, by inheritance, what hangs under it) offered in a territory
    during a window. See docs/catalog.md for how grants combine."""

    __tablename__ = "item_rights"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    territory: Mapped[str] = mapped_column(String(32), index=True)
    """An ISO 3166-1 country code, a territory group's key, or WORLD."""
    offer: Mapped[Offer] = mapped_column(EnumText(Offer))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Exclusive; open-ended when null."""
    audio_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    subtitle_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ItemBlackout(Base):
    """An item (a match, or every match of a competition) not shown in some territories during
    a window, whatever the rights say."""

    __tablename__ = "item_blackouts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    territories: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RightsVersion(Base):
    """One row whose version goes up with every change to rights, blackouts or territory
    groups: servers rebuild their availability index only when it moved."""

    __tablename__ = "catalog_rights_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
