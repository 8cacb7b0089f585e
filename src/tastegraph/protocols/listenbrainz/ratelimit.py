"""Rate limits on ``/1/``, counted by the runtime's limiter (memory, or Redis when
``TASTEGRAPH_REDIS_URL`` is set), announced as ListenBrainz announces them (§4.8).

Callers are counted per valid token, or per address when they have none (or a bad one, so
that inventing tokens buys nothing). liblistenbrainz reads ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset-In`` and sleeps when nothing remains; over the limit it retries after
``Retry-After``, which ListenBrainz does not send but we do.
"""

from __future__ import annotations

import logging
import time

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from tastegraph.accounts.secrets import hash_token
from tastegraph.protocols.listenbrainz.auth import Caller
from tastegraph.protocols.listenbrainz.errors import error_response
from tastegraph.ratelimit import RateLimiter, RateState

_log = logging.getLogger(__name__)

EXPOSED_HEADERS = "X-RateLimit-Remaining,X-RateLimit-Limit,X-RateLimit-Reset,X-RateLimit-Reset-In"
EXCEEDED = (
    "You have exceeded your rate limit. See the X-RateLimit-* response headers for more "
    "information on your current rate limit."
)


def limiter_key(caller: Caller, request: Request) -> str:
    if caller.token is not None and caller.user_id is not None:
        # The hash, not the token: limiter keys may sit in a shared Redis.
        return "listenbrainz:token:" + hash_token(caller.token)[:32]
    address = request.client.host if request.client else "unknown"
    return "listenbrainz:ip:" + address


def count(limiter: RateLimiter, key: str) -> RateState | None:
    """Count the request. A limiter that fails (Redis down) lets it through unlimited, logged:
    a scrobble lost to an outage of the counter would be worse than a burst let through."""
    try:
        return limiter.hit(key)
    except Exception:
        _log.warning("rate limiter unavailable; /1/ requests go uncounted", exc_info=True)
        return None


def add_headers(response: Response, state: RateState | None) -> None:
    if state is None:
        return
    now = time.time()
    response.headers["X-RateLimit-Limit"] = str(state.limit)
    response.headers["X-RateLimit-Remaining"] = str(state.remaining)
    response.headers["X-RateLimit-Reset"] = str(state.reset_at)
    response.headers["X-RateLimit-Reset-In"] = str(state.reset_in(now))
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS + ",Retry-After"


def too_many_requests(state: RateState) -> JSONResponse:
    response = error_response(429, EXCEEDED)
    # At least one second: a client told to retry after 0 s would hammer the same window.
    response.headers["Retry-After"] = str(max(1, state.reset_in(time.time())))
    return response
