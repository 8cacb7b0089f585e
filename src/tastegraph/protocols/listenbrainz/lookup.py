"""``GET /1/metadata/lookup``: what the catalogue knows of an artist and recording name.

ListenBrainz answers from MusicBrainz; we answer from the catalogue, without creating
anything, and with ``{}`` when nothing matches (as ListenBrainz does). Web Scrobbler asks this
before loving a track, for the ``recording_mbid``; our ``recording_msid`` comes along, since
feedback takes either.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import ValidationError

from tastegraph.catalog.errors import ItemNotFound
from tastegraph.catalog.kinds import IdScheme, Kind
from tastegraph.catalog.schemas import TrackRef
from tastegraph.protocols.listenbrainz.errors import bad_request
from tastegraph.protocols.listenbrainz.msid import recording_msid
from tastegraph.runtime import Runtime
from tastegraph.web.deps import unit_of_work


def lookup(runtime: Runtime, request: Request) -> dict[str, Any]:
    artist = (request.query_params.get("artist_name") or "").strip()
    recording = (request.query_params.get("recording_name") or "").strip()
    if not artist or not recording:
        raise bad_request("artist_name and recording_name are required.")
    try:
        ref = TrackRef(kind=Kind.TRACK, title=recording, artist=artist)
    except ValidationError:
        return {}
    with unit_of_work(runtime) as services:
        try:
            item = services.catalog.lookup(ref)
        except ItemNotFound:
            return {}
        reference = services.catalog.references([item])[item.id]
        brief = services.catalog.briefs([item])[item.id]
    ids = reference.get("ids") or {}
    return {
        "artist_credit_name": brief.context or artist,
        "artist_mbids": [],
        "recording_name": item.title,
        "recording_mbid": ids.get(IdScheme.MUSICBRAINZ),
        "recording_msid": recording_msid(item.id),
        "release_name": reference.get("album"),
        "release_mbid": None,
    }
