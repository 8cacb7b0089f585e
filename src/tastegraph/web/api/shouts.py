"""/api/v1 shouts on walls, items, groups and topics; replies, reactions, deletion, abuse
reports and the moderation queue; an event's live room. See docs/social.md."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from tastegraph.accounts.models import User
from tastegraph.runtime import Runtime, Services
from tastegraph.social.models import ReportStatus, ShoutTarget
from tastegraph.social.rendering import render_html
from tastegraph.social.schemas import (
    AudienceCount,
    LiveRoomOut,
    ReportIn,
    ReportOut,
    ReportsOut,
    ResolveIn,
    ShoutIn,
    ShoutOut,
    ShoutPage,
    WatchingFriend,
)
from tastegraph.social.shouts import Place, Reaction, ReportView
from tastegraph.web.api.social_views import (
    briefs,
    event_out,
    page_link,
    shout_out,
    shout_page,
    shouts_out,
    target_of,
    targets,
    user_ref,
)
from tastegraph.web.deps import RuntimeDep, caller, require_user, unit_of_work
from tastegraph.web.rooms import Seen, rooms_of, shouts_json, stream_shouts, wait_for_shouts

router = APIRouter(prefix="/api/v1", tags=["shouts"])

_NO_CONTENT = status.HTTP_204_NO_CONTENT
Limit = Annotated[int, Query(ge=1, le=200)]
Before = Annotated[int | None, Query(description="Older shouts: from the 'next' link.")]
Since = Annotated[
    int | None,
    Query(description="Only shouts and replies newer than this id, oldest first (polling)."),
]
MAX_WAIT = 30.0
Wait = Annotated[
    float,
    Query(
        ge=0,
        le=MAX_WAIT,
        description="With since: when nothing is new, hold the answer until something is "
        "said or this many seconds pass (a long-poll); 0 answers at once.",
    ),
]
STREAM_SECONDS = 300.0
"""How long one event stream lasts before the client reconnects (with Last-Event-ID)."""
HEARTBEAT_SECONDS = 15.0
ACCESS_SECONDS = 60.0
"""How often an open stream reads its reader's blocks again."""


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


_POST_ERRORS: dict[int | str, dict[str, Any]] = {
    404: _problem("the place is missing or hidden from you"),
    403: _problem("permission_denied: groups and topics take members' shouts only"),
    422: _problem("invalid_shout (empty, too long, a parent elsewhere), too_many_links"),
    429: _problem("shout_rate_limited (Retry-After says when to try again)"),
}


def _read(
    svc: Services,
    viewer: User | None,
    place: Place,
    url: str,
    before: int | None,
    since: int | None,
    limit: int,
) -> ShoutPage:
    if since is not None:
        views = svc.shouts.since(viewer, place, after=since, limit=limit)
        latest = max([since, *(v.shout.id for v in views)])
        more = page_link(url, since=latest, limit=limit) if len(views) == limit else None
        return ShoutPage(shouts=shouts_out(svc, views), next=more, latest=latest)
    views = svc.shouts.thread_list(viewer, place, before=before, limit=limit)
    return shout_page(svc, views, url, limit, svc.shouts.latest(place))


def _post(svc: Services, user: User, kind: ShoutTarget, target_id: int, data: ShoutIn) -> ShoutOut:
    place = svc.shouts.open_for_posting(user, kind, target_id)
    shout = svc.shouts.post(user, place, data.body, parent_id=data.parent_id)
    view, _ = svc.shouts.get(user, shout.id)
    return shout_out(view, targets(svc, [shout]))


# -- walls, items, groups, topics -------------------------------------------------------------


@router.get("/users/{name}/shouts")
def wall(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    before: Before = None,
    since: Since = None,
    limit: Limit = 20,
) -> ShoutPage:
    """Shouts on a profile's wall, newest first with their replies (visible as the profile
    is)."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        owner = svc.social.access_user_by_name(viewer, name)
        place = svc.shouts.open(viewer, ShoutTarget.USER, owner.id)
        return _read(svc, viewer, place, f"/api/v1/users/{owner.name}/shouts", before, since, limit)


@router.post("/users/{name}/shouts", status_code=status.HTTP_201_CREATED, responses=_POST_ERRORS)
def shout_on_wall(name: str, data: ShoutIn, request: Request, runtime: RuntimeDep) -> ShoutOut:
    """Shout on a profile's wall (or reply, with ``parent_id``); the owner is notified."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        owner = svc.social.access_user_by_name(user, name)
        return _post(svc, user, ShoutTarget.USER, owner.id, data)


def _item_read(
    runtime: Runtime,
    request: Request,
    item_id: int,
    before: int | None,
    since: int | None,
    limit: int,
    *,
    shouts: bool = True,
) -> Seen:
    """An item's shouts as the caller may read them, with what waiting for more needs
    (without ``shouts``: only that, the caller's access to the room)."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        place = svc.shouts.open(viewer, ShoutTarget.ITEM, item_id)
        high = svc.shouts.high_water(place)  # before reading: later shouts have higher ids
        if not shouts:
            page = ShoutPage(shouts=[], next=None, latest=since or 0)
        elif since is not None and since < 0:  # from now on
            page = ShoutPage(shouts=[], next=None, latest=high)
        else:
            url = f"/api/v1/items/{place.id}/shouts"
            page = _read(svc, viewer, place, url, before, since, limit)
        hidden = frozenset(svc.social.hidden_ids(viewer))
        return Seen(page, place.id, viewer.id if viewer is not None else None, hidden, high)


@router.get("/items/{item_id}/shouts", response_model=ShoutPage)
async def item_shouts(
    item_id: int,
    request: Request,
    runtime: RuntimeDep,
    before: Before = None,
    since: Since = None,
    limit: Limit = 20,
    wait: Wait = 0.0,
) -> Any:
    """Shouts about an item; for an event, its live room: poll with ``since`` (and ``wait``
    to be answered as soon as something is said), or follow ``/shouts/stream``."""

    async def read(after: int | None) -> Seen:
        return await run_in_threadpool(_item_read, runtime, request, item_id, before, after, limit)

    if since is None or not wait:
        return (await read(since)).page
    hub = rooms_of(request.app)
    # A room someone already waits on answers from what it holds: only the caller's access
    # is read here. Otherwise the database first.
    seen = await run_in_threadpool(
        _item_read, runtime, request, item_id, before, since, limit, shouts=False
    )
    room = hub.rooms.get(seen.place_id)
    if room is None or since < room.base:
        seen = await read(since)
        if seen.page.shouts:
            return seen.page
    shown, latest = await wait_for_shouts(hub, read, seen, since, wait)
    more = None
    if len(shown) > limit:
        shown = shown[:limit]
        latest = orjson.loads(shown[-1])["id"]
        more = page_link(f"/api/v1/items/{seen.place_id}/shouts", since=latest, limit=limit)
    return Response(shouts_json(shown, latest, more=more), media_type="application/json")


@router.get(
    "/items/{item_id}/shouts/stream",
    response_class=StreamingResponse,
    responses={
        200: {"description": "Server-sent events", "content": {"text/event-stream": {}}},
        404: _problem("item_not_found"),
    },
)
async def item_shout_stream(
    item_id: int,
    request: Request,
    runtime: RuntimeDep,
    since: Annotated[
        int | None, Query(description="Start after this shout id (default: from now on).")
    ] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """A live room's shouts as they are said, as server-sent events: each ``shouts`` event
    carries ``{"shouts": [...], "latest": id}`` (oldest first) and has ``latest`` as its
    ``id``, so a reconnecting ``EventSource`` resumes where it stopped; ``: ping`` comments
    keep a quiet stream open. A stream ends after five minutes; reconnect."""
    resume = last_event_id.strip() if last_event_id else ""
    start = since if since is not None else int(resume) if resume.isdigit() else -1

    async def read(after: int | None) -> Seen:
        return await run_in_threadpool(_item_read, runtime, request, item_id, None, after, 100)

    seen = await read(start)

    async def events() -> AsyncIterator[bytes]:
        after = seen.page.latest
        if seen.page.shouts:
            shown = [orjson.dumps(s.model_dump(mode="json")) for s in seen.page.shouts]
            yield _event(shown, after)
        batches = stream_shouts(
            rooms_of(request.app),
            read,
            seen,
            after,
            STREAM_SECONDS,
            HEARTBEAT_SECONDS,
            ACCESS_SECONDS,
        )
        async for shouts, latest in batches:
            yield _event(shouts, latest) if shouts else b": ping\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _event(shouts: list[bytes], latest: int) -> bytes:
    return b"id: %d\nevent: shouts\ndata: %s\n\n" % (latest, shouts_json(shouts, latest))


@router.post("/items/{item_id}/shouts", status_code=status.HTTP_201_CREATED, responses=_POST_ERRORS)
def shout_on_item(item_id: int, data: ShoutIn, request: Request, runtime: RuntimeDep) -> ShoutOut:
    with unit_of_work(runtime, write=True) as svc:
        return _post(svc, require_user(svc, request), ShoutTarget.ITEM, item_id, data)


@router.get("/groups/{slug}/shouts")
def group_shouts(
    slug: str,
    request: Request,
    runtime: RuntimeDep,
    before: Before = None,
    since: Since = None,
    limit: Limit = 20,
) -> ShoutPage:
    """A group's shoutbox (members only in private and invite-only groups)."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        group, _ = svc.groups.find(viewer, slug)
        place = svc.shouts.open(viewer, ShoutTarget.GROUP, group.id)
        return _read(
            svc, viewer, place, f"/api/v1/groups/{group.slug}/shouts", before, since, limit
        )


@router.post("/groups/{slug}/shouts", status_code=status.HTTP_201_CREATED, responses=_POST_ERRORS)
def shout_in_group(slug: str, data: ShoutIn, request: Request, runtime: RuntimeDep) -> ShoutOut:
    """Shout in a group (members)."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        return _post(svc, user, ShoutTarget.GROUP, group.id, data)


@router.get("/topics/{topic_id}/posts")
def topic_posts(
    topic_id: int,
    request: Request,
    runtime: RuntimeDep,
    before: Before = None,
    since: Since = None,
    limit: Limit = 50,
) -> ShoutPage:
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        place = svc.shouts.open(viewer, ShoutTarget.TOPIC, topic_id)
        return _read(svc, viewer, place, f"/api/v1/topics/{topic_id}/posts", before, since, limit)


@router.post(
    "/topics/{topic_id}/posts", status_code=status.HTTP_201_CREATED, responses=_POST_ERRORS
)
def post_in_topic(topic_id: int, data: ShoutIn, request: Request, runtime: RuntimeDep) -> ShoutOut:
    """Post in a discussion (members of the group)."""
    with unit_of_work(runtime, write=True) as svc:
        return _post(svc, require_user(svc, request), ShoutTarget.TOPIC, topic_id, data)


# -- one shout --------------------------------------------------------------------------------


@router.get("/shouts/{shout_id}", responses={404: _problem("shout_not_found")})
def get_shout(shout_id: int, request: Request, runtime: RuntimeDep) -> ShoutOut:
    """One shout with its replies."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        view, _ = svc.shouts.get(viewer, shout_id)
        return shouts_out(svc, [view])[0]


@router.delete(
    "/shouts/{shout_id}",
    status_code=_NO_CONTENT,
    responses={403: _problem("permission_denied"), 404: _problem("shout_not_found")},
)
def delete_shout(shout_id: int, request: Request, runtime: RuntimeDep) -> Response:
    """Delete a shout: its author, the wall's owner, a group owner or moderator, or an
    administrator. Its replies go with it; open reports on it are upheld."""
    with unit_of_work(runtime, write=True) as svc:
        svc.shouts.delete(require_user(svc, request), shout_id)
    return Response(status_code=_NO_CONTENT)


@router.put("/shouts/{shout_id}/reactions/{code}", status_code=_NO_CONTENT)
def react(shout_id: int, code: Reaction, request: Request, runtime: RuntimeDep) -> Response:
    """React (like, love, laugh, wow, sad, fire, clap, goal): once per code per person."""
    with unit_of_work(runtime, write=True) as svc:
        svc.shouts.react(require_user(svc, request), shout_id, code)
    return Response(status_code=_NO_CONTENT)


@router.delete("/shouts/{shout_id}/reactions/{code}", status_code=_NO_CONTENT)
def unreact(shout_id: int, code: Reaction, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        svc.shouts.unreact(require_user(svc, request), shout_id, code)
    return Response(status_code=_NO_CONTENT)


# -- reports and moderation -------------------------------------------------------------------


def _report_out(svc: Services, view: ReportView) -> ReportOut:
    report, shout = view.report, view.shout
    return ReportOut(
        id=report.id,
        reason=report.reason,
        note=report.note,
        status=report.status,
        created_at=report.created_at,
        resolved_at=report.resolved_at,
        reporter=user_ref(view.reporter),
        shout_id=shout.id,
        shout_author=user_ref(view.author),
        shout_body=shout.body,
        shout_html=render_html(shout.body),
        shout_deleted=shout.deleted_at is not None,
        target=target_of(targets(svc, [shout]), shout),
    )


@router.post(
    "/shouts/{shout_id}/reports",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "You had reported it already."}},
)
def report_shout(
    shout_id: int, data: ReportIn, request: Request, runtime: RuntimeDep
) -> JSONResponse:
    """Report a shout as spam, abuse, harassment, hate or other: it goes to the moderation
    queue of administrators (and of the group's moderators, for group shouts)."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        report, new = svc.shouts.report(user, shout_id, data.reason, data.note)
        out = _report_out(svc, svc.shouts.report_view(report))
    code = status.HTTP_201_CREATED if new else status.HTTP_200_OK
    return JSONResponse(out.model_dump(mode="json"), status_code=code)


@router.get("/moderation/reports", responses={403: _problem("permission_denied")})
def moderation_queue(
    request: Request,
    runtime: RuntimeDep,
    status_: Annotated[ReportStatus, Query(alias="status")] = ReportStatus.OPEN,
    before: Annotated[int | None, Query(description="From the 'next' link.")] = None,
    limit: Limit = 50,
) -> ReportsOut:
    """Reports to work on, newest first: all of them for administrators, those on their
    groups' shouts for group owners and moderators."""
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        rows = svc.shouts.reports(user, status=status_, before=before, limit=limit)
        next_link = None
        if len(rows) == limit:
            next_link = page_link(
                "/api/v1/moderation/reports",
                status=status_.value,
                before=rows[-1].report.id,
                limit=limit,
            )
        return ReportsOut(reports=[_report_out(svc, r) for r in rows], next=next_link)


@router.post("/moderation/reports/{report_id}", responses={404: _problem("report_not_found")})
def resolve_report(
    report_id: int, data: ResolveIn, request: Request, runtime: RuntimeDep
) -> ReportOut:
    """``remove`` deletes the shout (every open report on it is upheld); ``dismiss`` keeps
    it (every open report on it is dismissed)."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        report = svc.shouts.resolve(user, report_id, data.action)
        return _report_out(svc, svc.shouts.report_view(report))


# -- live rooms -------------------------------------------------------------------------------


@router.get("/items/{item_id}/live", responses={404: _problem("item_not_found")})
def live_room(
    item_id: int,
    request: Request,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> LiveRoomOut:
    """An event's live room: whether it is on, how many watch now (overall and per
    country), which of your friends watch (as their privacy allows), and the newest shouts.
    Poll ``GET /items/{id}/shouts?since={latest}`` for what is said next."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        place = svc.shouts.open(viewer, ShoutTarget.ITEM, item_id)
        assert place.item is not None
        item = place.item
        event = svc.events.describe(item)
        counted = svc.presence.audience(item.id)
        friends: list[WatchingFriend] | None = None
        if viewer is not None:
            hidden = svc.social.hidden_ids(viewer)
            candidates = [f for f in svc.social.friends_of(viewer.id) if f.id not in hidden]
            friends = [
                WatchingFriend(
                    user=user_ref(friend),
                    since=entry.started_at,
                    progress=None if entry.progress is None else round(entry.progress * 100, 2),
                )
                for friend, entry in svc.presence.watching_among(
                    item.id, [f.id for f in candidates]
                )
                if svc.social.can_see_recent(viewer, friend)
            ]
        latest = svc.shouts.latest(place)
        recent = svc.shouts.recent(viewer, place, limit=limit)
        brief = briefs(svc, [item])[item.id]
        return LiveRoomOut(
            item=brief,
            event=event_out(event, brief),
            watching=counted.watching,
            countries=[AudienceCount(country=c, watching=n) for c, n in counted.countries],
            friends=friends,
            shouts=shouts_out(svc, recent),
            latest=max([latest, *(v.shout.id for v in recent)]),
        )
