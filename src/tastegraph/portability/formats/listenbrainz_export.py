"""A user's music plays as ListenBrainz listens, one JSON object per line.

The shape is the one ListenBrainz accepts in ``POST /1/submit-listens`` and writes in its own
export::

    {"listened_at": 1714587300,
     "track_metadata": {"artist_name": "Beyoncé", "track_name": "Halo",
                        "release_name": "I Am... Sasha Fierce",
                        "additional_info": {"duration_ms": 261000, "tracknumber": 3,
                                            "recording_mbid": "...", "isrc": "...",
                                            "duration_played": 250,
                                            "submission_client": "Pano Scrobbler"}}}

Tracks by several main artists also carry ``additional_info.artist_names`` (the list, as
ListenBrainz's Spotify listens do), and albums by someone else ``release_artist_name``, so the
file imports back into the same charts. What ListenBrainz has no place for is left out: the
time zone a play was lived in, progress, submission ids. Plays of anything but music have no
listen shape and are skipped, as are incognito plays, which stay private: both are counted
for the operator.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

INCOGNITO = "incognito plays (kept private)"


def listen_from(play: dict[str, Any]) -> dict[str, Any] | None:
    """A play record of a tastegraph export as a listen; None for anything but a track."""
    item = play.get("item") or {}
    if item.get("kind") != "track":
        return None
    meta: dict[str, Any] = {"track_name": item["title"]}
    info: dict[str, Any] = {}
    artist = item["artist"]
    if isinstance(artist, list):
        meta["artist_name"] = ", ".join(artist)
        info["artist_names"] = list(artist)
    else:
        meta["artist_name"] = artist
    if item.get("album"):
        meta["release_name"] = item["album"]
        if item.get("album_artist"):
            info["release_artist_name"] = item["album_artist"]
    if item.get("track_number") is not None:
        info["tracknumber"] = item["track_number"]
    if item.get("duration"):
        info["duration_ms"] = int(item["duration"]) * 1000
    ids = item.get("ids") or {}
    if ids.get("musicbrainz"):
        info["recording_mbid"] = ids["musicbrainz"]
    if ids.get("isrc"):
        info["isrc"] = ids["isrc"]
    if play.get("duration_played"):
        info["duration_played"] = play["duration_played"]
    if play.get("client"):
        info["submission_client"] = play["client"]
    if info:
        meta["additional_info"] = info
    listened_at = int(datetime.fromisoformat(play["played_at"]).timestamp())
    return {"listened_at": listened_at, "track_metadata": meta}


def write_listenbrainz(
    out: TextIO, rows: Iterator[dict[str, Any]], skipped: Counter[str] | None = None
) -> int:
    """Write the music plays among ``rows`` as listens; count what was left out in ``skipped``."""
    skipped = skipped if skipped is not None else Counter()
    count = 0
    for row in rows:
        if row.get("type") != "play":
            continue  # profile, tokens, feedback, tags, friends: no listen shape
        if row.get("incognito"):
            skipped[INCOGNITO] += 1
            continue
        listen = listen_from(row)
        if listen is None:
            kind = (row.get("item") or {}).get("kind", "unknown")
            skipped[f"{kind} plays (no ListenBrainz equivalent)"] += 1
            continue
        out.write(json.dumps(listen, ensure_ascii=False) + "\n")
        count += 1
    return count
