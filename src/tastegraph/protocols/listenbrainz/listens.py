"""Reading and deleting listens: ``/1/user/{name}/listens``, ``/playing-now``,
``/listen-count`` and ``/1/delete-listen``.

Privacy is the platform's: a profile the caller may not see is answered as a missing user
(404 "Cannot find user"), and a user who hides recent activity shows others no listens and
nothing playing (their count still shows, as their charts do). Owners, identified by the token
liblistenbrainz sends on every call, also see their incognito plays.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi import Request

from tastegraph.accounts.errors import UserNotFound
from tastegraph.accounts.models import User
from tastegraph.catalog.models import Item
from tastegraph.protocols.listenbrainz import params, render, translate
from tastegraph.protocols.listenbrainz.auth import optional_user, require_token, require_user
from tastegraph.protocols.listenbrainz.errors import ListenBrainzError, bad_request
from tastegraph.protocols.listenbrainz.msid import item_of_msid, recording_msid
from tastegraph.runtime import Runtime, Services
from tastegraph.web.deps import unit_of_work

_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def visible_user(services: Services, request: Request, name: str) -> tuple[User, User | None]:
    """(owner, viewer) when the viewer may see the profile called ``name``; else a 404."""
    viewer = optional_user(services, request)
    try:
        return services.social.access_user_by_name(viewer, name), viewer
    except UserNotFound:
        raise ListenBrainzError(404, f"Cannot find user: {name}") from None


def describe(services: Services, plays: Sequence[tuple[str | None, Item]]) -> list[dict[str, Any]]:
    """``track_metadata`` for (raw payload, item) pairs: as submitted for plays that came in
    as listens, from the catalogue for the rest (in two batched lookups)."""
    submitted = [translate.submitted_metadata(raw) for raw, _item in plays]
    unknown = {
        item.id: item for (_raw, item), sent in zip(plays, submitted, strict=True) if sent is None
    }
    briefs = services.catalog.briefs(list(unknown.values())) if unknown else {}
    references = services.catalog.references(list(unknown.values())) if unknown else {}
    out = []
    for (_raw, item), sent in zip(plays, submitted, strict=True):
        out.append(
            sent
            if sent is not None
            else translate.catalogue_metadata(item, briefs[item.id], references[item.id])
        )
    return out


def listens(runtime: Runtime, request: Request, name: str) -> dict[str, Any]:
    min_ts = params.optional_int(request, "min_ts", what="timestamp")
    max_ts = params.optional_int(request, "max_ts", what="timestamp")
    count = params.count(request)
    if min_ts is not None and max_ts is not None and max_ts <= min_ts:
        raise bad_request("max_ts should be greater than min_ts.")
    with unit_of_work(runtime) as services:
        owner, viewer = visible_user(services, request, name)
        if not services.social.can_see_recent(viewer, owner):
            return render.listens_payload(owner.name, [], latest=None, oldest=None)
        own = viewer is not None and viewer.id == owner.id
        # Timestamps are whole seconds, so "after min_ts" starts at min_ts + 1.
        since = _moment(min_ts + 1) if min_ts is not None else None
        until = _moment(max_ts) if max_ts is not None else None
        # With only min_ts, ListenBrainz answers the listens just after it, not the newest.
        oldest_first = min_ts is not None and max_ts is None
        rows = services.ingest.history(
            owner,
            limit=count,
            since=since,
            until=until,
            include_incognito=own,
            oldest_first=oldest_first,
        )
        if oldest_first:
            rows.reverse()
        metadata = describe(services, [(play.raw_payload, item) for play, item, _ in rows])
        out = [
            render.listen(
                user_name=owner.name,
                listened_at=play.played_at,
                inserted_at=play.created_at,
                recording_msid=recording_msid(item.id),
                track_metadata=meta,
            )
            for (play, item, _incognito), meta in zip(rows, metadata, strict=True)
        ]
        span = services.stats.first_and_last(owner)
    latest, oldest = (
        (render.timestamp(span[1]), render.timestamp(span[0])) if span else (None, None)
    )
    return render.listens_payload(owner.name, out, latest=latest, oldest=oldest)


def _moment(timestamp: int) -> datetime:
    """A query timestamp as an instant; absurd ones are clamped rather than overflowing."""
    try:
        return datetime.fromtimestamp(max(timestamp, 0), UTC)
    except (OverflowError, OSError, ValueError):
        return _LATEST


def playing_now(runtime: Runtime, request: Request, name: str) -> dict[str, Any]:
    with unit_of_work(runtime) as services:
        owner, viewer = visible_user(services, request, name)
        own = viewer is not None and viewer.id == owner.id
        found = services.ingest.now_playing(owner, include_incognito=own)
        if found is None or not services.social.can_see_recent(viewer, owner):
            return render.playing_now_payload(owner.name, None)
        _entry, item = found
        metadata = describe(services, [(None, item)])[0]
    return render.playing_now_payload(owner.name, metadata)


def listen_count(runtime: Runtime, request: Request, name: str) -> dict[str, Any]:
    with unit_of_work(runtime) as services:
        owner, _viewer = visible_user(services, request, name)
        return render.listen_count(services.stats.play_count(owner))


def delete_listen(runtime: Runtime, request: Request, raw: bytes) -> dict[str, Any]:
    """Delete the caller's play at ``listened_at`` of the item ``recording_msid`` names.

    Like ListenBrainz (which deletes later, in the background) this answers ok when nothing
    matches, so that a retried deletion is not an error.
    """
    require_token(request)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"Cannot parse JSON document: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request("Invalid JSON document submitted.")
    if body.get("listened_at") is None:
        raise bad_request("Listen timestamp missing.")
    value = body["listened_at"]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad_request("Listen timestamp invalid.")
    try:
        listened_at = int(value)
    except ValueError:
        raise bad_request("Listen timestamp invalid.") from None
    msid = body.get("recording_msid")
    if msid is None:
        raise bad_request("Recording MSID missing.")
    if not isinstance(msid, str) or not _is_uuid(msid):
        raise bad_request("Recording MSID format invalid.")
    item_id = item_of_msid(msid)
    if item_id is None:
        return render.OK
    with unit_of_work(runtime, write=True) as services:
        user = require_user(services, request)
        target = services.catalog.canonical_ids([item_id]).get(item_id)
        start = _moment(listened_at)
        rows = services.ingest.history(
            user,
            limit=100,
            since=start,
            until=start + timedelta(seconds=1),
            include_incognito=True,
        )
        for play, item, incognito in rows:
            if item.id == target:
                services.ingest.delete_play(user, play.id, incognito=incognito)
    return render.OK


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
