"""Who is calling: the token of ``Authorization: Token <t>``, checked once per request.

ListenBrainz takes whatever follows the header's first space, so the scheme word does not
matter: ``Token``, ``token`` (Airsonic) and ``Bearer`` all work. Tokens are tastegraph personal
API tokens and log-in sessions.

The route wrapper (``route.py``) identifies the caller before the endpoint runs, because the
rate limit is counted per valid token; endpoints then read the result from the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from tastegraph.accounts.errors import NotAuthenticated
from tastegraph.accounts.models import User
from tastegraph.protocols.listenbrainz.errors import ListenBrainzError
from tastegraph.runtime import Runtime, Services

MISSING_HEADER = "You need to provide an Authorization header."
MALFORMED_HEADER = "Provided Authorization header is invalid."
INVALID_TOKEN = "Invalid authorization token."  # noqa: S105 - a message, not a secret


@dataclass(frozen=True)
class Caller:
    """The outcome of reading the Authorization header of one request."""

    token: str | None = None
    user_id: int | None = None
    problem: str = MISSING_HEADER
    """The 401 message for endpoints that need a user, when there is none."""


ANONYMOUS = Caller()


def header_token(header: str | None) -> tuple[str | None, str]:
    """The token in an Authorization header, or None and the reason there is none."""
    if header is None or not header.strip():
        return None, MISSING_HEADER
    _scheme, space, value = header.strip().partition(" ")
    if not space or not value.strip():
        return None, MALFORMED_HEADER
    return value.strip(), INVALID_TOKEN


def user_id_for(runtime: Runtime, token: str) -> int | None:
    """The id of the user a token belongs to, None when it is unknown, revoked or expired."""
    with runtime.db.unit_of_work() as session:
        try:
            return runtime.services(session).accounts.authenticate_token(token).id
        except NotAuthenticated:
            return None


def identify(runtime: Runtime, request: Request) -> Caller:
    token, problem = header_token(request.headers.get("authorization"))
    if token is None:
        return Caller(problem=problem)
    return Caller(token=token, user_id=user_id_for(runtime, token), problem=INVALID_TOKEN)


def caller_of(request: Request) -> Caller:
    caller = getattr(request.state, "listenbrainz_caller", None)
    return caller if isinstance(caller, Caller) else ANONYMOUS


def require_token(request: Request) -> None:
    """A 401 unless the request carries a valid token (no database needed: it was checked)."""
    caller = caller_of(request)
    if caller.user_id is None:
        raise ListenBrainzError(401, caller.problem)


def require_user(services: Services, request: Request) -> User:
    """The authenticated user, loaded in the endpoint's own unit of work, or a 401."""
    caller = caller_of(request)
    user = services.session.get(User, caller.user_id) if caller.user_id is not None else None
    if user is None:
        raise ListenBrainzError(401, caller.problem)
    return user


def optional_user(services: Services, request: Request) -> User | None:
    """The caller on public reads. A bad token there is ignored, as ListenBrainz does: reads
    are public, and the token only matters to let owners see their own private data."""
    caller = caller_of(request)
    if caller.user_id is None:
        return None
    return services.session.get(User, caller.user_id)
