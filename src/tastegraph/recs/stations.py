"""Stations a client pages through: what each station already served, in order.

A station is computed a page at a time from the live model and the user's live plays and
feedback; what it served is kept here so that the next page never repeats an item of the same
station and the diversity rule (at most so many items per artist, show, competition or outlet
in any run of ``size`` consecutive items) holds across page boundaries. Pages already served
are read back as they were.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tastegraph.storage.base import Base, BigIntPK, UTCDateTime, utcnow


class StationSession(Base):
    """One station a user started: its kind, page size, rules and shuffle seed."""

    __tablename__ = "recs_stations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    """Items per page, and the length of the run the diversity rule counts over."""
    recent_days: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    """The weighted shuffle's seed; None for best first."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StationEntry(Base):
    """An item a station served, at its position in the queue (0, 1, ...)."""

    __tablename__ = "recs_station_entries"

    station_id: Mapped[int] = mapped_column(
        ForeignKey("recs_stations.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(BigInteger)
    """The item's artist, show, competition or outlet (the diversity rule's unit)."""
    score: Mapped[float] = mapped_column(Float)
    known: Mapped[bool] = mapped_column(Boolean)
    """The user had played it before (longer ago than the station's recent window)."""
