from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
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
