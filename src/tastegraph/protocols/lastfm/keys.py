"""Registered Last.fm API keys: created by operators, used to verify ``api_sig``."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from tastegraph.protocols.models import LastfmApiKey


def new_hex32() -> str:
    """32 lower-case hex digits: the format of Last.fm keys, secrets, tokens and sessions."""
    return secrets.token_hex(16)


class ApiKeyService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, name: str) -> LastfmApiKey:
        key = LastfmApiKey(key=new_hex32(), secret=new_hex32(), name=name)
        self.session.add(key)
        self.session.flush()
        return key

    def find(self, key: str) -> LastfmApiKey | None:
        """The registered, unrevoked key, or None for keys this server does not know."""
        row = self.session.get(LastfmApiKey, key)
        return row if row is not None and row.revoked_at is None else None
