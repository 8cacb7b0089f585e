"""``/1/stats/...``: a user's (or everyone's) top artists, recordings, releases and release
groups, counted live from the play log by ``StatsService.chart``.

Ranges are ListenBrainz's calendar periods, in the user's time zone (sitewide: UTC). Releases
and release groups are both tastegraph albums. A user with no plays in the range gets 204,
which is how ListenBrainz says "no statistics" (liblistenbrainz turns it into None).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import Response

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import IdScheme, Kind
from tastegraph.catalog.models import Item
from tastegraph.catalog.schemas import ItemBrief
from tastegraph.protocols.listenbrainz import params, render
from tastegraph.protocols.listenbrainz.errors import bad_request
from tastegraph.protocols.listenbrainz.listens import visible_user
from tastegraph.runtime import Runtime, Services
from tastegraph.stats.periods import Period, Window, resolve
from tastegraph.stats.services import ChartEntry
from tastegraph.web.deps import unit_of_work

RANGES = (
    Period.THIS_WEEK,
    Period.THIS_MONTH,
    Period.THIS_YEAR,
    Period.WEEK,
    Period.MONTH,
    Period.QUARTER,
    Period.HALF_YEARLY,
    Period.YEAR,
    Period.ALL_TIME,
)

_Row = Callable[[Item, ItemBrief, dict[str, Any]], dict[str, Any]]


def _artist(item: Item, _brief: ItemBrief, ref: dict[str, Any]) -> dict[str, Any]:
    return {"artist_name": item.title, "artist_mbid": _mbid(ref), "artist_mbids": _mbids(ref)}


def _recording(item: Item, brief: ItemBrief, ref: dict[str, Any]) -> dict[str, Any]:
    artist = ref.get("artist")
    return {
        "track_name": ref.get("title") or item.title,
        "artist_name": ", ".join(artist) if isinstance(artist, list) else artist or brief.context,
        "release_name": ref.get("album"),
        "recording_mbid": _mbid(ref),
        "release_mbid": None,
        "artist_mbids": [],
    }


def _release(item: Item, brief: ItemBrief, ref: dict[str, Any]) -> dict[str, Any]:
    return {
        "release_name": item.title,
        "release_mbid": _mbid(ref),
        "artist_name": brief.context,
        "artist_mbids": [],
    }


def _release_group(item: Item, brief: ItemBrief, ref: dict[str, Any]) -> dict[str, Any]:
    return {
        "release_group_name": item.title,
        "release_group_mbid": _mbid(ref),
        "artist_name": brief.context,
        "artist_mbids": [],
        "caa_id": None,
        "caa_release_mbid": None,
    }


@dataclass(frozen=True)
class Entity:
    kind: Kind
    total_key: str
    row: _Row


ENTITIES = {
    "artists": Entity(Kind.ARTIST, "total_artist_count", _artist),
    "recordings": Entity(Kind.TRACK, "total_recording_count", _recording),
    "releases": Entity(Kind.ALBUM, "total_release_count", _release),
    "release-groups": Entity(Kind.ALBUM, "total_release_group_count", _release_group),
}


def _mbid(ref: dict[str, Any]) -> str | None:
    ids = ref.get("ids") or {}
    value = ids.get(IdScheme.MUSICBRAINZ)
    return value if isinstance(value, str) else None


def _mbids(ref: dict[str, Any]) -> list[str]:
    mbid = _mbid(ref)
    return [mbid] if mbid else []


def _range(request: Request) -> Period:
    text = request.query_params.get("range") or Period.ALL_TIME.value
    if text not in {p.value for p in RANGES}:
        raise bad_request(f"Invalid range: {text}")
    return Period(text)


def user_entity(runtime: Runtime, request: Request, name: str, entity: str) -> Any:
    spec = ENTITIES.get(entity)
    if spec is None:
        raise bad_request(f"Unknown statistics entity: {entity}")
    period = _range(request)
    count = params.count(request)
    offset = params.offset(request)
    with unit_of_work(runtime) as services:
        owner, _viewer = visible_user(services, request, name)
        window = resolve(period, owner.timezone, runtime.clock())
        chart = services.stats.chart(
            spec.kind, user=owner, window=window, limit=count, offset=offset
        )
        if chart.total == 0:
            return Response(status_code=204)
        rows = _rows(services, spec, chart.entries)
        start = _start(window) or _first_play(services, owner)
    return {
        "payload": {
            "user_id": owner.name,
            entity.replace("-", "_"): rows,
            "count": len(rows),
            spec.total_key: chart.total,
            "offset": offset,
            "range": period.value,
            "from_ts": start,
            "to_ts": render.timestamp(window.end),
            "last_updated": render.timestamp(runtime.clock()),
        }
    }


def sitewide_artists(runtime: Runtime, request: Request) -> Any:
    period = _range(request)
    count = params.count(request)
    offset = params.offset(request)
    spec = ENTITIES["artists"]
    with unit_of_work(runtime) as services:
        window = resolve(period, "UTC", runtime.clock())
        chart = services.stats.chart(spec.kind, window=window, limit=count, offset=offset)
        if chart.total == 0:
            return Response(status_code=204)
        rows = _rows(services, spec, chart.entries)
    return {
        "payload": {
            "artists": rows,
            "count": len(rows),
            spec.total_key: chart.total,
            "offset": offset,
            "range": period.value,
            "from_ts": _start(window) or 0,
            "to_ts": render.timestamp(window.end),
            "last_updated": render.timestamp(runtime.clock()),
        }
    }


def _rows(services: Services, spec: Entity, entries: list[ChartEntry]) -> list[dict[str, Any]]:
    items = [entry.item for entry in entries]
    briefs = services.catalog.briefs(items)
    references = services.catalog.references(items)
    return [
        {**spec.row(e.item, briefs[e.item.id], references[e.item.id]), "listen_count": e.plays}
        for e in entries
    ]


def _start(window: Window) -> int | None:
    return render.timestamp(window.start) if window.start is not None else None


def _first_play(services: Services, owner: User) -> int:
    span = services.stats.first_and_last(owner)
    return render.timestamp(span[0]) if span else 0
