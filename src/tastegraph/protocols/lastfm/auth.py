"""The three ways a client gets a session key, and the tokens of the first two.

* Desktop: ``auth.getToken``; the user approves the token on ``/api/auth/``;
  ``auth.getSession`` exchanges it, once, within 60 minutes.
* Web callback: ``/api/auth/?api_key=…&cb=…`` logs the user in and sends the browser back to
  ``cb`` with an approved token, which ``auth.getSession`` exchanges.
* Mobile: ``auth.getMobileSession`` with the password (the account's, or a personal token),
  or with ``authToken = md5(username + md5(password))`` where the password is a personal
  token: the server keeps md5 of tokens, never of real passwords.

Session keys are tokens of kind ``lastfm_session`` named after the client's api_key; they
last until revoked.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tastegraph.accounts.models import TokenKind, User
from tastegraph.accounts.secrets import md5_hex
from tastegraph.protocols.lastfm.context import Call, Method
from tastegraph.protocols.lastfm.errors import Code, LastfmError, missing
from tastegraph.protocols.lastfm.keys import new_hex32
from tastegraph.protocols.lastfm.render import El, leaf, node
from tastegraph.protocols.models import LastfmAuthToken
from tastegraph.runtime import Services

TOKEN_LIFETIME = timedelta(minutes=60)


# -- tokens -----------------------------------------------------------------------------------


def issue_token(session: Session, api_key: str, now: datetime, user: User | None = None) -> str:
    """A new single-use token, already approved when ``user`` is given (web callback)."""
    token = LastfmAuthToken(
        token=new_hex32(),
        api_key=api_key[:64],
        user_id=user.id if user is not None else None,
        created_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    session.add(token)
    session.flush()
    return token.token


def live_token(session: Session, token: str, api_key: str, now: datetime) -> LastfmAuthToken:
    """A token that may still be approved or exchanged, or the error that says why not."""
    row = session.get(LastfmAuthToken, token.strip().lower()[:32])
    if row is None or row.used_at is not None or row.api_key != api_key[:64]:
        raise LastfmError(
            Code.AUTHENTICATION_FAILED, "Unauthorized Token - This token has not been issued"
        )
    if row.expires_at <= now:
        raise LastfmError(Code.TOKEN_EXPIRED)
    return row


def start_session(svc: Services, user: User, api_key: str | None) -> El:
    _, key = svc.accounts.create_token(
        user, (api_key or "lastfm")[:100], kind=TokenKind.LASTFM_SESSION, secret=new_hex32()
    )
    return session_element(user, key)


def session_element(user: User, key: str) -> El:
    # subscriber is one of the few numbers Last.fm's JSON sends as a number.
    return node("session", [leaf("name", user.name), leaf("key", key), leaf("subscriber", 0)])


# -- methods ----------------------------------------------------------------------------------


def get_token(call: Call) -> list[El]:
    return [leaf("token", issue_token(call.svc.session, call.api_key or "", call.now))]


def get_session(call: Call) -> list[El]:
    row = live_token(call.svc.session, call.params.require("token"), call.api_key or "", call.now)
    if row.user_id is None:
        raise LastfmError(Code.TOKEN_NOT_AUTHORIZED)
    user = call.svc.session.get(User, row.user_id)
    if user is None:
        raise LastfmError(Code.AUTHENTICATION_FAILED, "Invalid authentication token")
    row.used_at = call.now
    return [start_session(call.svc, user, call.api_key)]


def get_mobile_session(call: Call) -> list[El]:
    name = call.params.require("username")
    # A password is taken as sent: spaces at its ends may be part of it.
    password = call.params.get("password")
    proof = call.params.text("authToken")
    if not password and proof is None:
        raise missing("password")
    user = _authenticate(call.svc, name, password, proof)
    if user is None:
        raise LastfmError(
            Code.AUTHENTICATION_FAILED, "Authentication Failed - Invalid username or password"
        )
    return [start_session(call.svc, user, call.api_key)]


def _authenticate(svc: Services, name: str, password: str | None, proof: str | None) -> User | None:
    found = svc.accounts.find_by_name(name)
    if found is None:
        return None
    if password:
        return found if svc.accounts.verify_password_or_token(found, password) else None
    assert proof is not None
    sent = proof.strip().lower()
    # pylast hashes the name as typed, GNU FM lower-cases it; any spelling of this user counts.
    spellings = {name, name.lower(), found.name, found.name.lower()}

    def proves(digest: str) -> bool:
        return any(hmac.compare_digest(md5_hex(n + digest), sent) for n in spellings)

    return svc.accounts.authenticate_legacy(name, proves)


def get_session_info(call: Call) -> list[El]:
    """ListenBrainz's extra: who a session key belongs to."""
    user = call.session_user()
    session = node(
        "session",
        [
            leaf("name", user.name),
            leaf("key", call.params.require("sk")),
            leaf("subscriber", 0),
            leaf("country", user.country or ""),
        ],
    )
    return [node("application", [session])]


METHODS = [
    Method("auth.gettoken", get_token, writes=True, signed=True, auth=True),
    Method("auth.getsession", get_session, writes=True, signed=True, auth=True),
    Method(
        "auth.getmobilesession",
        get_mobile_session,
        writes=True,
        post_only=True,
        signed=True,
        auth=True,
    ),
    Method("auth.getsessioninfo", get_session_info, session=True),
]
