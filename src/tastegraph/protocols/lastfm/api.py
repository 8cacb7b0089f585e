"""Routes of the Last.fm 2.0 adapter: ``/2.0/`` (and ``/2.0``) and the ``/api/auth/`` page.

One endpoint serves every method, on GET and POST (pylast sends even reads as POST), with
the query string and the form body merged. The answer is XML unless ``format=json`` (in the
query or the body) or ``Accept: application/json`` asks for JSON; ``callback`` wraps JSON as
JSONP. Every answer, errors included, is a well-formed Last.fm document with CORS headers.
"""

from __future__ import annotations

import logging
import re
import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tastegraph.protocols.lastfm import approval
from tastegraph.protocols.lastfm.dispatch import Incoming, dispatch
from tastegraph.protocols.lastfm.errors import Code, LastfmError, invalid
from tastegraph.protocols.lastfm.params import Params, read_params
from tastegraph.protocols.lastfm.render import CORS_HEADERS, Format, respond, respond_error
from tastegraph.runtime import Runtime

_log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
router.include_router(approval.router)

_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")


def negotiate(params: Params, request: Request) -> tuple[Format, str | None]:
    """The response format and the JSONP callback, if any."""
    value = (params.text("format") or "").lower()
    if value == "json":
        fmt = Format.JSON
    elif value == "xml":
        fmt = Format.XML
    elif value:
        raise LastfmError(Code.INVALID_FORMAT)
    else:
        # Some clients ask for JSON only through the Accept header.
        accept = request.headers.get("accept", "").lower()
        fmt = Format.JSON if "application/json" in accept else Format.XML
    return fmt, _callback(params) if fmt is Format.JSON else None


def _callback(params: Params) -> str | None:
    callback = params.text("callback")
    if callback is not None and (len(callback) > 128 or not _CALLBACK.match(callback)):
        # Echoing anything else into a script would let a page inject code.
        raise invalid("Invalid parameters - callback must be a JavaScript function name")
    return callback


def _base_url(runtime: Runtime, request: Request) -> str:
    return (runtime.settings.public_url or str(request.base_url)).rstrip("/")


def _rate_limit(runtime: Runtime, request: Request, params: Params) -> None:
    """Per session key, or per address for calls without one. Auth calls always count per
    address: they ignore ``sk``, so a made-up one must not buy a fresh window of password
    guesses."""
    address = request.client.host if request.client else "unknown"
    is_auth = (params.text("method") or "").lower().startswith("auth.")
    who = address if is_auth else params.text("sk") or address
    state = runtime.rate_limiter.hit(f"lastfm:{who}")
    if state.exceeded:
        raise LastfmError(Code.RATE_LIMITED, retry_after=max(1, state.reset_in(time.time())))


@router.api_route("/2.0/", methods=["GET", "POST"])
@router.api_route("/2.0", methods=["GET", "POST"])
async def endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    fmt, callback = Format.XML, None
    try:
        params = await read_params(request, runtime.settings.max_body_bytes)
        # Set first, so that an error in negotiating (a bad callback) still answers in JSON.
        fmt = Format.JSON if (params.text("format") or "").lower() == "json" else Format.XML
        fmt, callback = negotiate(params, request)
        _rate_limit(runtime, request, params)
        incoming = Incoming(params, request.method, _base_url(runtime, request))
        payload = await run_in_threadpool(dispatch, runtime, incoming)
    except LastfmError as exc:
        return respond_error(
            int(exc.code),
            exc.message,
            fmt,
            callback=callback,
            status=exc.status,
            headers=exc.headers,
        )
    except Exception:
        _log.exception("Last.fm call failed: %s %s", request.method, request.url.path)
        failed = LastfmError(Code.OPERATION_FAILED)
        return respond_error(
            int(failed.code), failed.message, fmt, callback=callback, status=failed.status
        )
    return respond(payload, fmt, callback=callback)


@router.options("/2.0/")
@router.options("/2.0")
async def preflight(request: Request) -> Response:
    """CORS preflight, for browser clients (Web Scrobbler and web players)."""
    headers = dict(CORS_HEADERS)
    asked = request.headers.get("access-control-request-headers")
    if asked:
        headers["Access-Control-Allow-Headers"] = asked
    return Response(status_code=204, headers=headers)
