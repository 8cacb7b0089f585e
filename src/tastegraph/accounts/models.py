from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from tastegraph.storage.base import Base, BigIntPK, EnumText, UTCDateTime, utcnow


class Visibility(StrEnum):
    PUBLIC = "public"
    FRIENDS = "friends"
    PRIVATE = "private"


class TokenKind(StrEnum):
    PERSONAL = "personal"
    """Created by the user for a player or script; lives until revoked."""
    SESSION = "session"
    """Issued by a password log-in; expires."""
    LASTFM_SESSION = "lastfm_session"
    """A Last.fm 2.0 session key (``sk``); ``name`` holds the client's api_key."""
    AUDIOSCROBBLER_SESSION = "audioscrobbler_session"
    """An Audioscrobbler 1.2 session id, handed out by the handshake; expires."""
    WEB_SESSION = "web_session"
    """A browser's signed-in session on the web pages (its secret is the session cookie);
    expires, and ends at log-out."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64), unique=True)
    """The case-folded name: names are unique regardless of case."""
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(128))
    country: Mapped[str | None] = mapped_column(String(2))
    locale: Mapped[str] = mapped_column(String(35), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    visibility: Mapped[Visibility] = mapped_column(EnumText(Visibility), default=Visibility.PUBLIC)
    birth_year: Mapped[int | None]
    hide_recent_activity: Mapped[bool] = mapped_column(Boolean, default=False)
    """Others do not see what the user plays right now or played recently (charts still show)."""
    incognito: Mapped[bool] = mapped_column(Boolean, default=False)
    """Default for new plays: keep them out of the taste profile."""
    consent_ad_profiling: Mapped[bool] = mapped_column(Boolean, default=False)
    """Opt-in to profiling for advertising (TCF purposes 3 and 4). Off until the user says yes."""
    consent_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_users_email_lower", func.lower(email)),)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TokenKind] = mapped_column(EnumText(TokenKind, 32), default=TokenKind.PERSONAL)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The first characters of the token, so users can tell their tokens apart."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    legacy_md5: Mapped[str | None] = mapped_column(String(32), index=True)
    """md5 of a personal token's secret, for the legacy protocols that prove a password by
    md5 (Audioscrobbler 1.2 handshakes, Last.fm ``auth.getMobileSession`` with ``authToken``).
    The token serves as the "scrobble password", so no md5 of a real password is kept."""
