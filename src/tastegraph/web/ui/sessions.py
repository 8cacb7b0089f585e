"""Signed-in browser sessions and CSRF tokens.

A web session is an ``ApiToken`` of kind ``WEB_SESSION``: its random secret travels in the
``tg_session`` cookie (HttpOnly, SameSite=Lax, Secure outside dev and demo), only its SHA-256
is stored, it expires after ``session_token_days`` and log-out revokes it. The cookie also
carries a keyed fingerprint of the password hash it was opened with, so changing the password
(through the pages or the API) ends every web session at once, without a table of its own.

CSRF: each form carries ``csrf_token``, an HMAC of the session secret (or, before signing
in, of a random ``tg_anon`` cookie), checked on every unsafe page request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select

from tastegraph.accounts.errors import NotAuthenticated
from tastegraph.accounts.models import ApiToken, TokenKind, User
from tastegraph.accounts.secrets import hash_token
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Services

SESSION_COOKIE = "tg_session"
ANON_COOKIE = "tg_anon"
LANGUAGE_COOKIE = "tg_lang"
CSRF_FIELD = "csrf_token"


def _mac(settings: Settings, purpose: str, value: str) -> str:
    key = settings.secret_key.encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def secure_cookies(settings: Settings) -> bool:
    """Cookies are Secure except in dev and demo mode, which serve plain http on localhost."""
    return settings.mode is Mode.PRODUCTION


def _fingerprint(settings: Settings, secret: str, user: User) -> str:
    return _mac(settings, "session", f"{secret}\x00{user.password_hash or ''}")[:32]


def open_session(svc: Services, settings: Settings, user: User) -> str:
    """Start a web session for ``user``; returns the cookie value."""
    _, secret = svc.accounts.create_token(
        user,
        "web session",
        kind=TokenKind.WEB_SESSION,
        lifetime=timedelta(days=settings.session_token_days),
    )
    return f"{secret}.{_fingerprint(settings, secret, user)}"


def session_user(svc: Services, settings: Settings, cookie: str | None) -> User | None:
    """The user a session cookie belongs to; None when it is unknown, revoked, expired or
    opened before the last password change."""
    if not cookie:
        return None
    secret, _, fingerprint = cookie.rpartition(".")
    if not secret or not fingerprint:
        return None
    try:
        user = svc.accounts.authenticate_token(secret, kinds=(TokenKind.WEB_SESSION,))
    except NotAuthenticated:
        return None
    if not hmac.compare_digest(fingerprint, _fingerprint(settings, secret, user)):
        return None
    return user


def _session_token(svc: Services, cookie: str | None) -> ApiToken | None:
    """The live web-session token behind a cookie, if any."""
    if not cookie:
        return None
    secret = cookie.rpartition(".")[0]
    return svc.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(secret),
            ApiToken.kind == TokenKind.WEB_SESSION,
            ApiToken.revoked_at.is_(None),
        )
    )


def keep_after_password_change(
    svc: Services, settings: Settings, user: User, cookie: str | None
) -> str | None:
    """Once ``user``'s password hash has changed: revoke every other log-in session of theirs
    (other browsers, API log-ins; personal tokens stay) and return the cookie that keeps this
    browser signed in — the same secret, fingerprinted with the new hash (None when the
    cookie is not a live session)."""
    token = _session_token(svc, cookie)
    mine = token if token is not None and token.user_id == user.id else None
    svc.accounts.end_sessions(user, keep=mine.id if mine is not None else None)
    if mine is None or cookie is None:
        return None
    secret = cookie.rpartition(".")[0]
    return f"{secret}.{_fingerprint(settings, secret, user)}"


def close_session(svc: Services, cookie: str | None) -> None:
    """Revoke the session behind a cookie (log-out); unknown cookies are ignored."""
    token = _session_token(svc, cookie)
    if token is not None:
        user = svc.session.get(User, token.user_id)
        if user is not None:
            svc.accounts.revoke_token(user, token.id)


def new_anonymous_id() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(settings: Settings, session_cookie: str | None, anonymous_id: str) -> str:
    """The form token of a browser: bound to its session, or to its anonymous id."""
    if session_cookie:
        return _mac(settings, "csrf-session", session_cookie.rpartition(".")[0])
    return _mac(settings, "csrf-anonymous", anonymous_id)


def csrf_matches(expected: str, sent: object) -> bool:
    return isinstance(sent, str) and hmac.compare_digest(expected.encode(), sent.encode())
