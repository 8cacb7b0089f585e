"""/api/v1: progress scrobbling (start / pause / stop), saved playbacks, check-ins and live
audiences. See docs/progress.md."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from tastegraph.catalog.models import Item
from tastegraph.catalog.schemas import ItemBrief
from tastegraph.ingest.progress import PlaybackView, ScrobbleResult
from tastegraph.ingest.progress_schemas import (
    AudienceOut,
    CheckinIn,
    CheckinOut,
    CountryAudience,
    FriendWatching,
    PlaybackList,
    PlaybackOut,
    ScrobbleIn,
    ScrobbleOut,
)
from tastegraph.runtime import Services
from tastegraph.web.deps import RuntimeDep, caller, require_user, unit_of_work

router = APIRouter(prefix="/api/v1", tags=["progress"])


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


_Responses = dict[int | str, dict[str, Any]]

_NOT_FOUND: _Responses = {404: _problem("item_not_found / playback_not_found")}
_TOO_LOW: _Responses = {422: _problem("progress_too_low (below 1 %), validation_failed")}
_RECENT: _Responses = {
    409: _problem(
        "already_scrobbled: the item was watched less than one runtime ago; the body "
        "carries watched_at and expires_at (from when it may be scrobbled again)"
    )
}


def _brief(svc: Services, item: Item) -> ItemBrief:
    return svc.catalog.briefs([item])[item.id]


def _scrobble_out(svc: Services, result: ScrobbleResult) -> ScrobbleOut:
    return ScrobbleOut(
        action=result.action,
        progress=result.progress,
        item=_brief(svc, result.item),
        play_id=result.play.play_id if result.play else None,
        played_at=result.played_at,
        watching_until=result.watching_until,
        incognito=result.incognito,
    )


@router.post("/scrobble/start", status_code=status.HTTP_201_CREATED, responses=_NOT_FOUND)
def scrobble_start(data: ScrobbleIn, request: Request, runtime: RuntimeDep) -> ScrobbleOut:
    """Playback started or resumed at ``progress`` percent: the item shows as watched now
    until the rest of its runtime has passed. Send it again after seeking; do not poll."""
    with unit_of_work(runtime, write=True) as svc:
        result = svc.progress.start(require_user(svc, request), data)
        return _scrobble_out(svc, result)


@router.post(
    "/scrobble/pause", status_code=status.HTTP_201_CREATED, responses=_NOT_FOUND | _TOO_LOW
)
def scrobble_pause(data: ScrobbleIn, request: Request, runtime: RuntimeDep) -> ScrobbleOut:
    """Playback paused: the progress is kept (``GET /api/v1/playback``) to resume from."""
    with unit_of_work(runtime, write=True) as svc:
        result = svc.progress.pause(require_user(svc, request), data)
        return _scrobble_out(svc, result)


@router.post(
    "/scrobble/stop",
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND | _TOO_LOW | _RECENT,
)
def scrobble_stop(data: ScrobbleIn, request: Request, runtime: RuntimeDep) -> ScrobbleOut:
    """Playback stopped. At 80 % or more the play is recorded (action ``scrobble``) and the
    saved progress dropped; from 1 % to below 80 % it is kept as a pause."""
    with unit_of_work(runtime, write=True) as svc:
        result = svc.progress.stop(require_user(svc, request), data)
        return _scrobble_out(svc, result)


def _playback_out(brief: ItemBrief, view: PlaybackView) -> PlaybackOut:
    playback = view.playback
    return PlaybackOut(
        item=brief,
        status=view.status,
        progress=round(playback.progress * 100, 2),
        resume_at_seconds=view.resume_at_seconds,
        started_at=playback.started_at,
        updated_at=playback.updated_at,
        source=playback.source,
        incognito=playback.incognito,
    )


@router.get("/playback")
def list_playbacks(request: Request, runtime: RuntimeDep) -> PlaybackList:
    """Your unfinished items with their resume points, most recently reported first."""
    with unit_of_work(runtime) as svc:
        views = svc.progress.playbacks(require_user(svc, request))
        briefs = svc.catalog.briefs([view.item for view in views])
        return PlaybackList(playbacks=[_playback_out(briefs[v.item.id], v) for v in views])


@router.get("/playback/{item_id}", responses=_NOT_FOUND)
def get_playback(item_id: int, request: Request, runtime: RuntimeDep) -> PlaybackOut:
    """Where you are in one item: read it back to resume."""
    with unit_of_work(runtime) as svc:
        view = svc.progress.playback(require_user(svc, request), item_id)
        return _playback_out(_brief(svc, view.item), view)


@router.delete("/playback/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_playback(item_id: int, request: Request, runtime: RuntimeDep) -> Response:
    """Forget the progress saved for an item."""
    with unit_of_work(runtime, write=True) as svc:
        svc.progress.drop_playback(require_user(svc, request), item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/checkin",
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND
    | {
        409: _problem(
            "checkin_in_progress (with expires_at: when the running check-in ends), or "
            "already_scrobbled (with watched_at and expires_at)"
        )
    },
)
def checkin(data: CheckinIn, request: Request, runtime: RuntimeDep) -> CheckinOut:
    """Check in to an item: it shows as watched now for its runtime (or a default for its
    kind) and is recorded as a play at once. One check-in runs at a time."""
    with unit_of_work(runtime, write=True) as svc:
        result = svc.progress.checkin(require_user(svc, request), data)
        return CheckinOut(
            item=_brief(svc, result.item),
            play_id=result.play_id,
            watched_at=result.watched_at,
            expires_at=result.expires_at,
            incognito=result.incognito,
        )


@router.delete("/checkin", status_code=status.HTTP_204_NO_CONTENT)
def cancel_checkin(request: Request, runtime: RuntimeDep) -> Response:
    """Cancel the running check-in, and the play it recorded. Nothing running: 204 too."""
    with unit_of_work(runtime, write=True) as svc:
        svc.progress.cancel_checkin(require_user(svc, request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/items/{item_id}/audience", responses={404: _problem("item_not_found")})
def audience(item_id: int, request: Request, runtime: RuntimeDep) -> AudienceOut:
    """Who watches (or listens to) an item right now: a count overall and per country, and,
    for a signed-in caller, which friends, as far as each friend's privacy allows."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        item = svc.catalog.get(item_id)
        counted = svc.presence.audience(item.id)
        friends: list[FriendWatching] | None = None
        if viewer is not None:
            candidates = svc.social.friends_of(viewer.id)
            watching = svc.presence.watching_among(item.id, [f.id for f in candidates])
            friends = [
                FriendWatching(
                    name=friend.name,
                    display_name=friend.display_name,
                    since=entry.started_at,
                    progress=None if entry.progress is None else round(entry.progress * 100, 2),
                )
                for friend, entry in watching
                if svc.social.can_see_recent(viewer, friend)
            ]
        return AudienceOut(
            item=_brief(svc, item),
            as_of=counted.as_of,
            watching=counted.watching,
            countries=[
                CountryAudience(country=country, watching=count)
                for country, count in counted.countries
            ],
            friends=friends,
        )
