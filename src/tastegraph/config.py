"""Typed settings, read from ``TASTEGRAPH_*`` environment variables.

This is the only module that reads the environment. Nothing here runs at import time: call
``Settings()`` (or ``load_settings()``) where a process starts, and pass the object down.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me"  # noqa: S105 - the sentinel that production refuses


class Mode(StrEnum):
    PRODUCTION = "production"
    DEV = "dev"
    DEMO = "demo"


class InsecureSettingsError(ValueError):
    """Raised when production settings keep a development default."""


class Settings(BaseSettings):
    """Every setting tastegraph reads. See docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="TASTEGRAPH_", extra="ignore")

    mode: Mode = Mode.PRODUCTION
    """production refuses development defaults; dev and demo accept them."""

    data_dir: Path = Path("data")
    """Where the embedded SQLite database and exports live."""

    database_url: str = ""
    """SQLAlchemy URL. Empty means ``sqlite:///<data_dir>/tastegraph.db``."""

    database_echo: bool = False

    secret_key: str = DEFAULT_SECRET_KEY
    """Signs web sessions. Must be changed outside dev and demo mode."""

    sqlite_synchronous: str = "FULL"
    """SQLite ``synchronous`` pragma. FULL keeps acknowledged plays across power loss."""

    max_batch_plays: int = Field(default=1000, ge=1, le=10000)
    max_body_bytes: int = Field(default=10_240_000, ge=1024)
    future_skew_seconds: int = Field(default=3600, ge=0)
    """How far in the future a play's timestamp may lie (clock skew of clients)."""

    now_playing_max_seconds: int = Field(default=600, ge=1)
    """How long a now-playing entry lives when the item's duration is unknown."""

    session_token_days: int = Field(default=30, ge=1)

    public_url: str = ""
    """The server's address as clients reach it (https://scrobble.example.org). Used in the
    URLs the Audioscrobbler handshake hands out; empty means the address of the request."""

    lastfm_unknown_keys: Literal["accept", "reject"] = "accept"
    """Last.fm requests with an api_key this server did not register: ``accept`` them unverified
    (players ship their own keys) or ``reject`` them with error 10."""

    redis_url: str = ""
    """redis://host:6379/0 to share rate-limit counters between server processes; empty keeps
    them in the process."""

    rate_limit: int = Field(default=300, ge=1)
    rate_limit_window_seconds: int = Field(default=10, ge=1)
    """Requests each client (token, or address when anonymous) may make per window on the
    compatibility APIs."""

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if self.mode is Mode.PRODUCTION and self.secret_key == DEFAULT_SECRET_KEY:
            raise InsecureSettingsError(
                "TASTEGRAPH_SECRET_KEY is still at its default. Set it to a long random value "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or set TASTEGRAPH_MODE=dev for local development."
            )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'tastegraph.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
