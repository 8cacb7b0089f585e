from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from tastegraph.storage.base import Base, BigIntPK, EnumText, UTCDateTime, utcnow


class Sentiment(StrEnum):
    LOVE = "love"
    HATE = "hate"
    NOT_INTERESTED = "not_interested"
    BAD_RECOMMENDATION = "bad_recommendation"
    """Said of a recommendation: never recommend it again (it does not count as a hate)."""


class _PlayColumns:
    """The columns of a play, shared by the taste log and the incognito log."""

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    played_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When playback started, UTC."""
    tz_offset_minutes: Mapped[int] = mapped_column(SmallInteger, default=0)
    """The user's UTC offset at that moment, so local-time charts survive a later move."""
    duration_played: Mapped[int | None] = mapped_column(Integer)
    """Seconds actually played."""
    progress: Mapped[float | None] = mapped_column(Float)
    """Share of the item consumed, 0..1."""
    source: Mapped[str] = mapped_column(String(64), default="api")
    """The client or protocol the play came through."""
    submission_id: Mapped[str | None] = mapped_column(String(128))
    raw_payload: Mapped[str | None] = mapped_column(Text)
    """The play as submitted (JSON), kept so it can be re-parsed when matching improves."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @declared_attr
    def user_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    @declared_attr
    def item_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(ForeignKey("items.id"))


class Play(_PlayColumns, Base):
    """The append-only log of what people consumed; the source of every chart and model.

    On PostgreSQL the table is partitioned by month of ``played_at`` (migration 0021,
    ``ingest/partitions.py``), with primary key (id, played_at): a unique index of a
    partitioned table must hold the partition key. Ids still come from one sequence and are
    unique. A client's ``submission_id`` is therefore kept unique in ``play_submissions``.
    """

    __tablename__ = "plays"
    __table_args__ = (
        Index("uq_plays_user_item_time", "user_id", "item_id", "played_at", unique=True),
        Index("ix_plays_user_time", "user_id", "played_at"),
        # With the user: an item's listeners in a period come from the index alone.
        Index("ix_plays_item_time_user", "item_id", "played_at", "user_id"),
        Index("ix_plays_time", "played_at"),
    )


class PlaySubmission(Base):
    """The ``submission_id`` of every play in the log that has one, one row per user and id:
    what makes a resent submission a duplicate. (The play log itself cannot hold a unique
    index without ``played_at`` once it is partitioned.) ``IngestService`` claims the ids
    of a batch here before storing its plays and gives back those of plays it did not store;
    deleting a play deletes its row."""

    __tablename__ = "play_submissions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    submission_id: Mapped[str] = mapped_column(String(128), primary_key=True)


class IncognitoPlay(_PlayColumns, Base):
    """Plays the user chose to keep out of the taste profile: only their own history sees them."""

    __tablename__ = "incognito_plays"
    __table_args__ = (
        Index("uq_incognito_plays_user_item_time", "user_id", "item_id", "played_at", unique=True),
        Index("uq_incognito_plays_user_submission", "user_id", "submission_id", unique=True),
        Index("ix_incognito_plays_user_time", "user_id", "played_at"),
    )


class NowPlaying(Base):
    __tablename__ = "now_playing"
    # Who is watching an item right now (live audiences) is asked by item, not by user.
    __table_args__ = (Index("ix_now_playing_item_id_expires_at", "item_id", "expires_at"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    progress: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(64), default="api")
    incognito: Mapped[bool] = mapped_column(default=False)


class Feedback(Base):
    """Love, hate, not-interested or bad recommendation: one current sentiment per user and
    item."""

    __tablename__ = "feedback"
    # A person's newest loves first, in a time window: what activity feeds read.
    __table_args__ = (Index("ix_feedback_user_time", "user_id", "created_at"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sentiment: Mapped[Sentiment] = mapped_column(EnumText(Sentiment, 32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlaybackStatus(StrEnum):
    PLAYING = "playing"
    PAUSED = "paused"


class Playback(Base):
    """Progress scrobbling (start / pause / stop): where a user is in an item they have not
    finished, so a paused episode can be resumed and a live event knows who watches it."""

    __tablename__ = "playbacks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[PlaybackStatus] = mapped_column(EnumText(PlaybackStatus))
    progress: Mapped[float] = mapped_column(Float)
    """0..1 of the item."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(64), default="api")
    incognito: Mapped[bool] = mapped_column(default=False)
