"""/api/v1/plays: submit plays (one, or batches with a report per play), history, now playing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from tastegraph.accounts.errors import UserNotFound
from tastegraph.ingest.errors import BatchTooLarge, InvalidPlay, MalformedBody, NoValidPlays
from tastegraph.ingest.models import Sentiment
from tastegraph.ingest.schemas import (
    BatchResult,
    FeedbackOut,
    FeedbackPage,
    NowPlayingIn,
    NowPlayingOut,
    PlayHistory,
    PlayOut,
    PlayResult,
    PlayStatus,
)
from tastegraph.ingest.validation import validate_plays
from tastegraph.runtime import Runtime
from tastegraph.web.body import read_json
from tastegraph.web.deps import RuntimeDep, require_user, unit_of_work, view_profile
from tastegraph.web.viewer import viewer_of

router = APIRouter(prefix="/api/v1", tags=["plays"])

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_SCHEMA = "#/components/schemas/"


def _json_body(schema: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _SCHEMA + schema}}},
        }
    }


@router.post(
    "/plays",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_json_body("PlayIn"),
    responses={200: {"description": "A duplicate of a play already stored", "model": PlayResult}},
)
async def submit_play(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Submit one play. A resubmission of a stored play answers 200 with status duplicate."""
    body = await read_json(request, runtime.settings.max_body_bytes)
    result = (await run_in_threadpool(_record, runtime, request, [body]))[0]
    if result.status is PlayStatus.REJECTED:
        raise InvalidPlay(
            "The play cannot be stored.",
            errors=[e.model_dump() for e in result.errors],
        )
    code = 201 if result.status is PlayStatus.ACCEPTED else 200
    return JSONResponse(result.model_dump(mode="json"), status_code=code)


@router.post("/plays/batch", openapi_extra=_json_body("PlayBatchIn"))
async def submit_batch(request: Request, runtime: RuntimeDep) -> BatchResult:
    """Submit up to 1,000 plays as ``{"plays": [...]}``.

    The good plays are stored and each bad one is reported with its index; the answer is 200
    unless no play at all could be stored (then 422, with the same report).
    """
    body = await read_json(request, runtime.settings.max_body_bytes)
    if not isinstance(body, dict) or set(body) != {"plays"} or not isinstance(body["plays"], list):
        unknown = sorted(set(body) - {"plays"}) if isinstance(body, dict) else []
        raise MalformedBody(
            'The body must be an object with one field, "plays", holding a list of plays.'
            + (f" Unknown fields: {', '.join(unknown)}." if unknown else ""),
        )
    plays = body["plays"]
    limit = runtime.settings.max_batch_plays
    if len(plays) > limit:
        raise BatchTooLarge(f"A batch may hold at most {limit} plays; this one has {len(plays)}.")
    if not plays:
        raise MalformedBody("The batch holds no plays.")
    results = await run_in_threadpool(_record, runtime, request, plays)
    report = BatchResult(
        accepted=sum(r.status is PlayStatus.ACCEPTED for r in results),
        duplicates=sum(r.status is PlayStatus.DUPLICATE for r in results),
        rejected=sum(r.status is PlayStatus.REJECTED for r in results),
        results=results,
    )
    if report.accepted + report.duplicates == 0:
        raise NoValidPlays(
            "Every play in the batch was rejected.",
            **report.model_dump(mode="json"),
        )
    return report


def _record(runtime: Runtime, request: Request, raw: list[Any]) -> list[PlayResult]:
    valid, rejected = validate_plays(raw)
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        stored = svc.ingest.record(user, valid, source="api") if valid else []
    if not rejected:
        return stored  # one result per play, in order
    return sorted([*stored, *rejected], key=lambda r: r.index)


@router.delete("/plays/{play_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_play(
    play_id: int, request: Request, runtime: RuntimeDep, incognito: bool = False
) -> Response:
    """Delete one of your plays (incognito=true for one kept out of the taste profile)."""
    with unit_of_work(runtime, write=True) as svc:
        svc.ingest.delete_play(require_user(svc, request), play_id, incognito=incognito)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _cursor(at: datetime, flag: int, row_id: int) -> str:
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{flag}.{row_id}"


def _parse_cursor(cursor: str) -> tuple[datetime, int, int]:
    try:
        micros, flag, row_id = cursor.split(".")
        return _EPOCH + timedelta(microseconds=int(micros)), int(flag), int(row_id)
    except (ValueError, OverflowError):
        raise MalformedBody(f"{cursor!r} is not a cursor this API gave out.") from None


@router.get("/users/{name}/plays")
def play_history(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(description="From the 'next' link of a page.")] = None,
    since: Annotated[
        datetime | None, Query(description="Only plays at or after this time.")
    ] = None,
    until: Annotated[datetime | None, Query(description="Only plays before this time.")] = None,
) -> PlayHistory:
    """A user's plays, newest first, paged by time. Owners also see their incognito plays."""
    with unit_of_work(runtime) as svc:
        profile = view_profile(svc, request, name)
        owner, own = profile.owner, profile.own
        if not svc.social.can_see_recent(profile.viewer, owner):
            return PlayHistory(plays=[], next=None)
        rows = svc.ingest.history(
            owner,
            limit=limit,
            cursor=_parse_cursor(cursor) if cursor else None,
            since=_aware(since),
            until=_aware(until),
            include_incognito=own,
        )
        # Plays of items unavailable where the viewer is stay listed, marked available=false.
        viewer = viewer_of(runtime, request, profile.viewer)
        briefs = svc.catalog.briefs([item for _, item, _ in rows], viewer)
        plays = [
            PlayOut(
                id=play.id,
                played_at=play.played_at,
                local_time=play.played_at.astimezone(
                    timezone(timedelta(minutes=play.tz_offset_minutes))
                ),
                item=briefs[item.id],
                duration_played=play.duration_played,
                progress=play.progress,
                source=play.source,
                incognito=incognito,
            )
            for play, item, incognito in rows
        ]
    next_link = None
    if len(rows) == limit:
        last, _, last_incognito = rows[-1]
        params: dict[str, Any] = {
            "limit": limit,
            "cursor": _cursor(last.played_at, int(last_incognito), last.id),
        }
        if since:
            params["since"] = since.isoformat()
        if until:
            params["until"] = until.isoformat()
        next_link = f"/api/v1/users/{owner.name}/plays?{urlencode(params)}"
    return PlayHistory(plays=plays, next=next_link)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.put("/now-playing")
def set_now_playing(data: NowPlayingIn, request: Request, runtime: RuntimeDep) -> NowPlayingOut:
    """Say what you are playing now. It shows until the item's duration runs out."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        entry, item = svc.ingest.set_now_playing(user, data, source="api")
        return NowPlayingOut(
            item=svc.catalog.briefs([item])[item.id],
            started_at=entry.started_at,
            expires_at=entry.expires_at,
            progress=entry.progress,
            source=entry.source,
        )


@router.delete("/now-playing", status_code=status.HTTP_204_NO_CONTENT)
def clear_now_playing(request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        svc.ingest.clear_now_playing(require_user(svc, request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/{name}/now-playing", responses={204: {"description": "Nothing playing"}})
def get_now_playing(name: str, request: Request, runtime: RuntimeDep) -> Any:
    with unit_of_work(runtime) as svc:
        profile = view_profile(svc, request, name)
        owner, own = profile.owner, profile.own
        found = svc.ingest.now_playing(owner, include_incognito=own)
        if found is None or not svc.social.can_see_recent(profile.viewer, owner):
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        entry, item = found
        return NowPlayingOut(
            item=svc.catalog.briefs([item])[item.id],
            started_at=entry.started_at,
            expires_at=entry.expires_at,
            progress=entry.progress,
            source=entry.source,
        )


@router.get("/users/{name}/feedback")
def user_feedback(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    sentiment: Sentiment = Sentiment.LOVE,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
) -> FeedbackPage:
    """Loved items (or, for yourself, hated and not-interested ones), newest first."""
    with unit_of_work(runtime) as svc:
        profile = view_profile(svc, request, name)
        owner, own = profile.owner, profile.own
        if sentiment != Sentiment.LOVE and not own:
            raise UserNotFound(f"There is no user called {name!r}.")
        before = None
        if cursor:
            at, _, item_id = _parse_cursor(cursor)
            before = (at, item_id)
        rows = svc.ingest.feedback(owner, sentiment, limit=limit, before=before)
        briefs = svc.catalog.briefs([item for _, item in rows])
        out = [
            FeedbackOut(item=briefs[item.id], sentiment=fb.sentiment, created_at=fb.created_at)
            for fb, item in rows
        ]
    next_link = None
    if len(rows) == limit:
        last, _ = rows[-1]
        next_link = f"/api/v1/users/{owner.name}/feedback?" + urlencode(
            {
                "sentiment": sentiment.value,
                "limit": limit,
                "cursor": _cursor(last.created_at, 0, last.item_id),
            }
        )
    return FeedbackPage(feedback=out, next=next_link)
