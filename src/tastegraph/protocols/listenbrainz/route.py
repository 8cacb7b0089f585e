"""The route class of every ``/1/`` endpoint: what each answer shares.

Around each endpoint it identifies the caller (``auth.identify``), counts the request against
the rate limit, renders any error in ListenBrainz's shape, and adds the rate-limit and CORS
headers, so that no answer under ``/1/`` (errors included) goes without them. Doing this in
the route class keeps it out of the app-wide error handlers and middleware.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.responses import Response

from tastegraph.protocols.listenbrainz import ratelimit
from tastegraph.protocols.listenbrainz.auth import Caller, identify
from tastegraph.protocols.listenbrainz.errors import response_for
from tastegraph.ratelimit import RateState
from tastegraph.runtime import Runtime

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "21600",
}

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _admit(runtime: Runtime, request: Request) -> tuple[Caller, RateState | None]:
    """Identify the caller and count the request (blocking: database and maybe Redis)."""
    caller = identify(runtime, request)
    state = ratelimit.count(runtime.rate_limiter, ratelimit.limiter_key(caller, request))
    return caller, state


async def _respond(endpoint: Handler, request: Request) -> tuple[Response, RateState | None]:
    runtime: Runtime = request.app.state.runtime
    try:
        caller, state = await run_in_threadpool(_admit, runtime, request)
    except Exception as exc:
        # The database is down, say: answer in our shape all the same.
        return response_for(exc, request.method, request.url.path), None
    request.state.listenbrainz_caller = caller
    if state is not None and state.exceeded:
        return ratelimit.too_many_requests(state), state
    try:
        return await endpoint(request), state
    except Exception as exc:
        return response_for(exc, request.method, request.url.path), state


class ListenBrainzRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        endpoint = super().get_route_handler()

        async def handle(request: Request) -> Response:
            response, state = await _respond(endpoint, request)
            response.headers.update(CORS_HEADERS)
            ratelimit.add_headers(response, state)
            return response

        return handle
