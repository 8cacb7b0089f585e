"""Routes of the ListenBrainz API v1 at ``/1/`` (reference §4): thin, the work is in the
modules beside. Every route goes through ``route.ListenBrainzRoute`` (auth, rate limits, CORS,
ListenBrainz's error shape); the two catch-alls at the end give unknown paths and methods that
shape too, and answer CORS preflights.

See docs/protocols/listenbrainz.md.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Match

from tastegraph.accounts.errors import NotAuthenticated
from tastegraph.protocols.listenbrainz import feedback, listens, lookup, stats, submit
from tastegraph.protocols.listenbrainz.auth import header_token, require_token
from tastegraph.protocols.listenbrainz.errors import ListenBrainzError, bad_request
from tastegraph.protocols.listenbrainz.params import flag
from tastegraph.protocols.listenbrainz.route import ListenBrainzRoute
from tastegraph.protocols.listenbrainz.validate import MAX_LISTEN_PAYLOAD_SIZE
from tastegraph.web.deps import RuntimeDep, unit_of_work

router = APIRouter(prefix="/1", include_in_schema=False, route_class=ListenBrainzRoute)

_CATCH_ALL = "listenbrainz_catch_all"
_PREFLIGHT = "listenbrainz_preflight"


@router.post("/submit-listens")
async def submit_listens(request: Request, runtime: RuntimeDep) -> Any:
    require_token(request)  # before reading up to 10 MB for nothing
    limit = min(runtime.settings.max_body_bytes, MAX_LISTEN_PAYLOAD_SIZE)
    raw = await submit.read_body(request, limit=limit)
    return_msid = flag(request, "return_msid")
    return await run_in_threadpool(
        submit.submit_listens, runtime, request, raw, return_msid=return_msid
    )


@router.post("/playing-now/delete")
async def delete_playing_now(request: Request, runtime: RuntimeDep) -> Any:
    raw = await submit.read_body(request, limit=10_240)
    return await run_in_threadpool(submit.delete_playing_now, runtime, request, raw)


@router.post("/delete-listen")
async def delete_listen(request: Request, runtime: RuntimeDep) -> Any:
    raw = await submit.read_body(request, limit=10_240)
    return await run_in_threadpool(listens.delete_listen, runtime, request, raw)


@router.get("/validate-token")
def validate_token(request: Request, runtime: RuntimeDep) -> Any:
    """Header first, then ``?token=`` (kept by ListenBrainz for old clients). Always 200 once
    a token was given; ``valid`` says whether it works."""
    token, _problem = header_token(request.headers.get("authorization"))
    token = token or (request.query_params.get("token") or "").strip() or None
    if token is None:
        raise bad_request("You need to provide an Authorization token.")
    with unit_of_work(runtime) as services:
        try:
            user = services.accounts.authenticate_token(token)
        except NotAuthenticated:
            return {"code": 200, "message": "Token invalid.", "valid": False}
        return {"code": 200, "message": "Token valid.", "valid": True, "user_name": user.name}


@router.get("/user/{name}/listens")
def user_listens(name: str, request: Request, runtime: RuntimeDep) -> Any:
    return listens.listens(runtime, request, name)


@router.get("/user/{name}/playing-now")
def user_playing_now(name: str, request: Request, runtime: RuntimeDep) -> Any:
    return listens.playing_now(runtime, request, name)


@router.get("/user/{name}/listen-count")
def user_listen_count(name: str, request: Request, runtime: RuntimeDep) -> Any:
    return listens.listen_count(runtime, request, name)


@router.post("/feedback/recording-feedback")
async def recording_feedback(request: Request, runtime: RuntimeDep) -> Any:
    raw = await submit.read_body(request, limit=10_240)
    return await run_in_threadpool(feedback.submit, runtime, request, raw)


@router.get("/feedback/user/{name}/get-feedback")
def user_feedback(name: str, request: Request, runtime: RuntimeDep) -> Any:
    return feedback.user_feedback(runtime, request, name)


@router.get("/stats/user/{name}/{entity}")
def user_stats(name: str, entity: str, request: Request, runtime: RuntimeDep) -> Any:
    return stats.user_entity(runtime, request, name, entity)


@router.get("/stats/sitewide/artists")
def sitewide_artists(request: Request, runtime: RuntimeDep) -> Any:
    return stats.sitewide_artists(runtime, request)


@router.get("/cf/recommendation/user/{name}/recording")
def recommendations(name: str, request: Request, runtime: RuntimeDep) -> Response:
    """No recommender yet: 204, ListenBrainz's "none for this user" (after the user check)."""
    with unit_of_work(runtime) as services:
        listens.visible_user(services, request, name)
    return Response(status_code=204)


@router.get("/metadata/lookup")
@router.get("/metadata/lookup/")
def metadata_lookup(request: Request, runtime: RuntimeDep) -> Any:
    return lookup.lookup(runtime, request)


@router.options("/{path:path}", name=_PREFLIGHT)
def preflight() -> Response:
    return Response(status_code=200, headers={"Allow": "GET, POST, OPTIONS"})


@router.api_route(
    "/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], name=_CATCH_ALL
)
def not_found(request: Request) -> Response:
    """Unknown paths are 404; known paths asked with another method are 405. The catch-all
    matches every method, so it also decides which of the two it is."""
    for route in router.routes:
        if getattr(route, "name", None) in (_CATCH_ALL, _PREFLIGHT):
            continue
        if route.matches(request.scope)[0] is Match.PARTIAL:
            raise ListenBrainzError(405, "The method is not allowed for the requested URL.")
    raise ListenBrainzError(404, "The requested URL was not found on the server.")
