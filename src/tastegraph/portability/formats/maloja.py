"""Maloja's export (``maloja export``, or Settings → Backup & export → export scrobbles).

The file is one JSON document, ``maloja_export_<date>.json``::

    {"maloja": {"export_time": 1714600000},
     "scrobbles": [{"time": 1714587300,
                    "track": {"artists": ["Daft Punk", "Pharrell Williams"],
                              "title": "Get Lucky",
                              "album": {"albumtitle": "Random Access Memories",
                                        "artists": ["Daft Punk"]},
                              "length": 369},
                    "duration": 360, "origin": "client:phone"}]}

``time`` is UNIX seconds (Maloja's primary key), ``length`` the track's length and
``duration`` how long it was played, both in seconds. Maloja stores artists already split,
so several artists stay several (main) artists. Older exports name the album ``{"name": ...}``
or give artists as one string; both are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tastegraph.portability.formats.base import (
    Reading,
    Record,
    Row,
    UnreadableFile,
    epoch,
    load_document,
    open_text,
    positive_seconds,
    text,
)

_MAX_ARTISTS = 20


def read(path: Path, reading: Reading) -> Iterator[Record]:
    with open_text(path) as stream:
        document = load_document(stream, "A Maloja export")
    scrobbles = document.get("scrobbles") if isinstance(document, dict) else None
    if not isinstance(scrobbles, list):
        raise UnreadableFile(
            'a Maloja export is a JSON object with a "scrobbles" list (maloja_export_*.json)'
        )
    reading.count_records(len(scrobbles))
    for number, scrobble in enumerate(scrobbles, start=1):
        reading.done = number
        try:
            yield Row(number, _play(scrobble), unit="record")
        except ValueError as exc:
            yield Row(number, None, str(exc), unit="record")


def _play(scrobble: Any) -> dict[str, Any]:
    if not isinstance(scrobble, dict):
        raise ValueError("each scrobble must be a JSON object")
    track = scrobble.get("track")
    if not isinstance(track, dict):
        raise ValueError("a scrobble needs track, an object")
    if scrobble.get("time") is None:
        raise ValueError("no time: a scrobble without a time cannot be imported")
    item: dict[str, Any] = {"kind": "track"}
    title = text(track.get("title"))
    if title is not None:
        item["title"] = title
    artists = _artists(track.get("artists"))
    if artists:
        item["artist"] = artists[0] if len(artists) == 1 else artists
    album, album_artists = _album(track.get("album"))
    if album is not None:
        item["album"] = album
        # One album artist other than the track's ("Various Artists") can be named; several
        # cannot without inventing an artist called "A, B", so the album stays with the
        # track's artists.
        if len(album_artists) == 1 and album_artists != artists:
            item["album_artist"] = album_artists[0]
    length = positive_seconds(track.get("length"))
    if length:
        item["duration"] = length
    play: dict[str, Any] = {"played_at": epoch(scrobble["time"]), "item": item}
    played = positive_seconds(scrobble.get("duration"))
    if played:
        play["duration_played"] = played
    origin = text(scrobble.get("origin"))
    if origin:
        play["client"] = origin[:128]
    return play


def _artists(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    names = [name for name in (text(v) for v in value) if name is not None]
    unique = list(dict.fromkeys(names))
    return unique[:_MAX_ARTISTS]


def _album(value: Any) -> tuple[str | None, list[str]]:
    if isinstance(value, str):
        return text(value), []
    if not isinstance(value, dict):
        return None, []
    title = text(value.get("albumtitle")) or text(value.get("name")) or text(value.get("title"))
    return title, _artists(value.get("artists"))
