"""The handshake (who is scrobbling, with which client) and the sessions it hands out.

Standard authentication proves a password by ``a = md5(md5(password) + t)``. The password is
one of the user's personal API tokens (their "scrobble password"), whose md5 the accounts
area keeps for exactly this, so no md5 of a real password exists anywhere.

The web-services variant of 1.2.1 sends a Last.fm session key (``sk``) with the client's
``api_key`` and ``a = md5(api_secret + t)``. Only keys registered here have a secret to check
that against; for others the session key is the proof, as on GNU FM, unless the operator set
``lastfm_unknown_keys = reject``.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from tastegraph.accounts.errors import NotAuthenticated
from tastegraph.accounts.models import ApiToken, TokenKind, User
from tastegraph.accounts.secrets import hash_token, md5_hex
from tastegraph.accounts.services import name_key
from tastegraph.config import Settings
from tastegraph.protocols.audioscrobbler import replies
from tastegraph.protocols.lastfm.keys import ApiKeyService
from tastegraph.runtime import Services

SESSION_LIFETIME = timedelta(hours=24)
"""As on GNU FM; a client whose session expired is told BADSESSION and shakes hands again."""
MAX_CLOCK_SKEW = timedelta(seconds=300)
VERSIONS = frozenset({"1.2", "1.2.1"})

BANNED_CLIENTS: dict[str, frozenset[str] | None] = {}
"""Client ids (``c``) refused with BANNED: the versions, or None for every version. Empty: no
client is known to send bad data; a broken release can be listed here."""


class Refused(Exception):
    """The handshake fails; ``reply`` is the first line the client gets."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Handshake:
    protocol: str
    client: str
    version: str
    user: str
    timestamp: str
    auth: str
    api_key: str
    session_key: str

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Handshake:
        def get(name: str) -> str:
            return fields.get(name, "").strip()

        return cls(
            protocol=get("p"),
            client=get("c"),
            version=get("v"),
            user=get("u"),
            timestamp=get("t"),
            auth=get("a").lower(),
            api_key=get("api_key"),
            session_key=get("sk"),
        )


@dataclass(frozen=True)
class ScrobbleSession:
    user: User
    client: str


def shake_hands(svc: Services, settings: Settings, hs: Handshake, now: datetime) -> str:
    """Check the handshake and open a session; its 32 hex digits are returned."""
    if hs.protocol not in VERSIONS:
        raise Refused(f"{replies.FAILED} Unsupported protocol version {hs.protocol!r}")
    if hs.client in BANNED_CLIENTS:
        versions = BANNED_CLIENTS[hs.client]
        if versions is None or hs.version in versions:
            raise Refused(replies.BANNED)
    if not hs.timestamp.isdigit() or abs(int(hs.timestamp) - now.timestamp()) > (
        MAX_CLOCK_SKEW.total_seconds()
    ):
        raise Refused(replies.BADTIME)
    if not hs.user or not hs.auth:
        raise Refused(replies.BADAUTH)
    if hs.session_key:
        user = _web_services_user(svc, settings, hs, now)
    else:
        user = svc.accounts.authenticate_legacy(
            hs.user, proves=lambda digest: _same(md5_hex(digest + hs.timestamp), hs.auth)
        )
    if user is None:
        raise Refused(replies.BADAUTH)
    session_id = secrets.token_hex(16)
    svc.accounts.create_token(
        user,
        hs.client[:100] or "unknown",
        kind=TokenKind.AUDIOSCROBBLER_SESSION,
        secret=session_id,
        lifetime=SESSION_LIFETIME,
    )
    return session_id


def _web_services_user(
    svc: Services, settings: Settings, hs: Handshake, now: datetime
) -> User | None:
    if not hs.api_key:
        return None
    try:
        user = svc.accounts.authenticate_token(
            hs.session_key, now=now, kinds=(TokenKind.LASTFM_SESSION,)
        )
    except NotAuthenticated:
        return None
    if name_key(user.name) != name_key(hs.user):
        return None
    key = ApiKeyService(svc.session).find(hs.api_key)
    if key is None:
        return user if settings.lastfm_unknown_keys == "accept" else None
    return user if _same(md5_hex(key.secret + hs.timestamp), hs.auth) else None


def find_session(svc: Services, session_id: str, now: datetime) -> ScrobbleSession | None:
    """The live session ``session_id`` names, or None (unknown, revoked or expired)."""
    session_id = session_id.strip()
    if not session_id:
        return None
    try:
        user = svc.accounts.authenticate_token(
            session_id, now=now, kinds=(TokenKind.AUDIOSCROBBLER_SESSION,)
        )
    except NotAuthenticated:
        return None
    client = svc.session.scalar(
        select(ApiToken.name).where(ApiToken.token_hash == hash_token(session_id))
    )
    return ScrobbleSession(user=user, client=client or "unknown")


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))
