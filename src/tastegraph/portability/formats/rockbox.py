"""Rockbox (and other portable players') ``.scrobbler.log``, Audioscrobbler log format 1.1.

Header lines start with ``#``::

    #AUDIOSCROBBLER/1.1
    #TZ/UTC            (or #TZ/UNKNOWN)
    #CLIENT/Rockbox ipodvideo $Revision$

then one tab-separated line per track: ARTIST, ALBUM, TITLE, TRACKNUM, LENGTH (seconds),
RATING (L listened, S skipped), TIMESTAMP, and optionally MUSICBRAINZ_TRACKID.

``#TZ/UNKNOWN`` means the player has no idea of time zones: its timestamps count seconds on
its own clock, which shows local time, so they are read as wall-clock time in the user's zone.
A log without a ``#TZ`` line is read the same way, the cautious choice for a device that did
not say. Skipped tracks (``S``) are not plays: they are counted apart, not imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from tastegraph.portability.formats.base import (
    Reading,
    Record,
    Row,
    open_text,
    positive_seconds,
    text,
    track_number,
    valid_ids,
    wall_clock,
)

SKIPPED = "Rockbox tracks marked S (skipped)"
_FIELDS = ("artist", "album", "title", "track_number", "length", "rating", "timestamp", "mbid")
_LATEST = 253_402_300_799  # 9999-12-31T23:59:59: anything later is not a time


def read(path: Path, reading: Reading) -> Iterator[Record]:
    with open_text(path) as stream:
        reading.follow_file(stream)
        yield from rows(stream, reading)


def rows(stream: TextIO, reading: Reading) -> Iterator[Row]:
    utc = False
    client: str | None = None
    for number, raw in enumerate(stream, start=1):
        line = raw.rstrip("\r\n").lstrip("\ufeff")
        if not line.strip():
            continue
        if line.startswith("#"):
            header = line[1:].strip()
            if header.upper().startswith("TZ/"):
                utc = header[3:].strip().upper() == "UTC"
            elif header.upper().startswith("CLIENT/"):
                client = text(header[7:])
            continue
        fields = line.split("\t")
        if len(fields) == len(_FIELDS) - 1:
            fields.append("")  # the MusicBrainz id is optional, and older logs end early
        if len(fields) != len(_FIELDS):
            yield Row(
                number,
                None,
                f"expected {len(_FIELDS)} tab-separated fields (artist, album, title, "
                f"track number, length, rating, timestamp, MusicBrainz id), found {len(fields)}",
            )
            continue
        row = dict(zip(_FIELDS, fields, strict=True))
        rating = row["rating"].strip().upper()
        if rating == "S":
            reading.skipped[SKIPPED] += 1
            continue
        if rating != "L":
            yield Row(number, None, f"rating must be L (listened) or S (skipped), not {rating!r}")
            continue
        try:
            yield Row(number, _play(row, utc, client, reading))
        except ValueError as exc:
            yield Row(number, None, str(exc))


def _play(row: dict[str, str], utc: bool, client: str | None, reading: Reading) -> dict[str, Any]:
    stamp = row["timestamp"].strip()
    if not stamp.isdigit() or int(stamp) > _LATEST:
        raise ValueError(f"timestamp must be seconds since 1970, not {stamp!r}")
    seconds = int(stamp)
    item: dict[str, Any] = {"kind": "track"}
    for field in ("title", "artist", "album"):
        value = text(row[field])
        if value is not None:
            item[field] = value
    number = track_number(row["track_number"])
    if number:
        item["track_number"] = number
    length = positive_seconds(row["length"])
    if length:
        item["duration"] = length
    ids = valid_ids({"musicbrainz": row["mbid"]})
    if ids:
        item["ids"] = ids
    play: dict[str, Any] = {
        "played_at": seconds if utc else wall_clock(seconds, reading.zone),
        "item": item,
    }
    if client:
        play["client"] = client[:128]
    return play
