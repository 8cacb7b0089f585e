"""State the compatibility protocols keep: Last.fm API keys and desktop-auth tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tastegraph.storage.base import Base, UTCDateTime, utcnow


class LastfmApiKey(Base):
    """An API key registered on this server (``tastegraph apikeys create``).

    The secret is kept as is: verifying ``api_sig`` means recomputing md5(params + secret).
    """

    __tablename__ = "lastfm_api_keys"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LastfmAuthToken(Base):
    """A desktop or web-callback auth token: issued, approved by a user, exchanged once."""

    __tablename__ = "lastfm_auth_tokens"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    api_key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    """Set when the user approves the token."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
