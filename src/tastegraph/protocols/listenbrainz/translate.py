"""Listens to plays and back.

Into tastegraph: a checked listen (``validate.clean_listen``) becomes a ``PlayIn`` whose item is
a track reference: ``track_name`` → title, ``artist_name`` → artist, ``release_name`` → album,
``recording_mbid`` → ``ids.musicbrainz``, ``duration``/``duration_ms`` (or gonic's
``track_length``) → duration, ``tracknumber`` (or Jellyfin's ``track_number``) → track number,
``duration_played`` → seconds played, ``submission_client`` (or ``media_player``) → the client.

Out of tastegraph: a play becomes ``track_metadata``. Plays that came through ``/1/`` keep
their listen as ``raw_payload``, and are shown as they were sent, so that a client reading its
own listens back recognises them; every other play (native API, Last.fm, imports, films and
episodes too) is described from the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from pydantic import TypeAdapter, ValidationError

from tastegraph.catalog.kinds import IdScheme, Kind
from tastegraph.catalog.models import Item
from tastegraph.catalog.schemas import ItemBrief, TrackRef
from tastegraph.ingest.schemas import NowPlayingIn, PlayIn
from tastegraph.protocols.listenbrainz.validate import (
    MAX_DURATION_SECONDS,
    InvalidListen,
    as_number,
    clean_track_metadata,
)

SOURCE = "listenbrainz"
"""The play's source when the listen names no client."""

_NAME_LENGTH = 512  # the catalogue's longest name (tastegraph.text.Name)
_CLIENT_LENGTH = 128
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRACK = TypeAdapter(TrackRef)
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,6})")
_T = TypeVar("_T")


def play_in(listen: dict[str, Any]) -> PlayIn:
    """A checked single or import listen as a play (``InvalidListen`` if it cannot be one)."""
    metadata = listen["track_metadata"]
    info = metadata["additional_info"]
    fields: dict[str, Any] = {
        "played_at": datetime.fromtimestamp(listen["listened_at"], UTC),
        "item": track_ref(metadata),
        "client": client_of(info),
    }
    played = as_number(info.get("duration_played"))
    if played is not None and 0 <= played <= MAX_DURATION_SECONDS:
        fields["duration_played"] = int(played)
    return _validated(PlayIn.model_validate, fields)


def now_playing_in(listen: dict[str, Any]) -> NowPlayingIn:
    metadata = listen["track_metadata"]
    fields = {"item": track_ref(metadata), "client": client_of(metadata["additional_info"])}
    return _validated(NowPlayingIn.model_validate, fields)


def track_ref(metadata: dict[str, Any]) -> TrackRef:
    info: dict[str, Any] = metadata["additional_info"]
    ref: dict[str, Any] = {
        "kind": "track",
        "title": _name(metadata["track_name"]),
        "artist": _name(metadata["artist_name"]),
    }
    if metadata.get("release_name"):
        ref["album"] = _name(metadata["release_name"])
    album_artist = info.get("release_artist_name")
    if isinstance(album_artist, str) and album_artist.strip() and "album" in ref:
        ref["album_artist"] = _name(album_artist)
    if info.get("recording_mbid"):
        ref["ids"] = {"musicbrainz": info["recording_mbid"]}
    duration = duration_of(info)
    if duration is not None:
        ref["duration"] = duration
    number = track_number_of(info)
    if number is not None:
        ref["track_number"] = number
    return _validated(_TRACK.validate_python, ref)


def duration_of(info: dict[str, Any]) -> int | None:
    """Seconds, from the checked ``duration``/``duration_ms`` or else gonic's ``track_length``
    (seconds; ignored when it is not a usable number, since ListenBrainz does not check it)."""
    if info.get("duration") is not None:
        seconds = int(info["duration"])
    elif info.get("duration_ms") is not None:
        seconds = round(int(info["duration_ms"]) / 1000)
    else:
        length = as_number(info.get("track_length"))
        seconds = int(length) if length is not None else 0
    return seconds if 0 < seconds <= MAX_DURATION_SECONDS else None


def track_number_of(info: dict[str, Any]) -> int | None:
    """``tracknumber``, or Jellyfin's ``track_number``: a number, "3" or "3/12"."""
    for key in ("tracknumber", "track_number"):
        value = info.get(key)
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and (match := _LEADING_NUMBER.match(value)):
            number = int(match.group(1))
        if number is not None and 0 <= number <= 10_000:
            return number
    return None


def client_of(info: dict[str, Any]) -> str | None:
    for key in ("submission_client", "media_player"):
        value = info.get(key)
        if isinstance(value, str):
            clean = _CONTROL.sub("", value).strip()[:_CLIENT_LENGTH].strip()
            if clean:
                return clean
    return None


def _name(text: str) -> str:
    """A name the catalogue can store. ListenBrainz takes any length and control characters;
    refusing such a listen would make its client retry it forever, so they are trimmed (the
    listen itself is kept whole as the play's raw payload)."""
    return _CONTROL.sub("", text).strip()[:_NAME_LENGTH].strip()


def _validated(validate: Callable[[dict[str, Any]], _T], fields: dict[str, Any]) -> _T:
    try:
        return validate(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidListen(f"The listen cannot be stored: {where}: {first['msg']}.") from None


# -- plays to track_metadata -------------------------------------------------------------------


def submitted_metadata(raw_payload: str | None) -> dict[str, Any] | None:
    """The ``track_metadata`` of a play that came in as a listen, normalised as on the way in;
    None for plays that came another way (or whose payload no longer passes)."""
    if not raw_payload or '"track_metadata"' not in raw_payload:
        return None
    try:
        listen = orjson.loads(raw_payload)
        if not isinstance(listen, dict):
            return None
        return clean_track_metadata(listen.get("track_metadata"))
    except (orjson.JSONDecodeError, InvalidListen):
        return None


def catalogue_metadata(item: Item, brief: ItemBrief, reference: dict[str, Any]) -> dict[str, Any]:
    """``track_metadata`` for an item, from what the catalogue knows. Items that are not tracks
    (episodes, films, matches, stories) are named by their title and their context: the show,
    director, competition or outlet, which is where a music client expects the artist."""
    artist = reference.get("artist") if item.kind == Kind.TRACK else None
    if isinstance(artist, list):
        artist = ", ".join(artist)
    info: dict[str, Any] = {}
    ids = reference.get("ids") or {}
    if item.kind == Kind.TRACK and ids.get(IdScheme.MUSICBRAINZ):
        info["recording_mbid"] = ids[IdScheme.MUSICBRAINZ]
    if item.duration_seconds:
        info["duration_ms"] = item.duration_seconds * 1000
    if reference.get("track_number") is not None:
        info["tracknumber"] = reference["track_number"]
    metadata: dict[str, Any] = {
        "artist_name": artist or brief.context or item.title,
        "track_name": reference.get("title") or item.title,
    }
    if reference.get("album"):
        metadata["release_name"] = reference["album"]
    metadata["additional_info"] = info
    return metadata
