"""Audioscrobbler track fields translated into the native model.

a → artist, t → title, b → album, l → duration, n → track number, m → MusicBrainz id,
i → when playback started, r=L → love. An optional field that does not validate is dropped
on its own, so a bad album name or a malformed MBID never costs the listen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from tastegraph.catalog.kinds import IdScheme
from tastegraph.catalog.schemas import TrackRef, check_external_id
from tastegraph.ingest.schemas import NowPlayingIn, PlayIn
from tastegraph.ingest.services import Submission
from tastegraph.text import Name

MAX_TRACKS = 50
"""Tracks one submission may carry (the protocol's limit)."""

_NAME: TypeAdapter[str] = TypeAdapter(Name)
_TRACK: TypeAdapter[TrackRef] = TypeAdapter(TrackRef)
_LEADING_NUMBER = re.compile(r"\s*(\d{1,6})")
_OLD_DATE = "%Y-%m-%d %H:%M:%S"
"""Protocol 1.1's time format, which some 1.2 clients still send (GNU FM accepts it too)."""


def client_label(client_id: str) -> str:
    """The play's source: the protocol and the client's three-letter id (``mdc``)."""
    return f"audioscrobbler:{client_id or 'unknown'}"[:64]


def track_ref(fields: Mapping[str, str]) -> TrackRef | None:
    """The track that ``a``, ``t`` and the optional fields describe; None when unusable."""
    data: dict[str, Any] = {
        "kind": "track",
        "artist": fields.get("a", ""),
        "title": fields.get("t", ""),
    }
    album = _name(fields.get("b", ""))
    if album is not None:
        data["album"] = album
    length = _number(fields.get("l", ""))
    if length is not None and 0 < length <= 2_073_600:
        data["duration"] = length
    number = _number(fields.get("n", ""))
    if number is not None and number <= 10_000:
        data["track_number"] = number
    mbid = _mbid(fields.get("m", ""))
    if mbid is not None:
        data["ids"] = {IdScheme.MUSICBRAINZ.value: mbid}
    try:
        return _TRACK.validate_python(data)
    except ValidationError:
        return None


def started_at(value: str) -> datetime | None:
    """``i``: UNIX seconds, or a 1.1-style ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    value = value.strip()
    if value.isdigit():
        try:
            return datetime.fromtimestamp(int(value), UTC)
        except (OverflowError, OSError, ValueError):  # beyond the year 9999
            return None
    try:
        return datetime.strptime(value, _OLD_DATE).replace(tzinfo=UTC)
    except ValueError:
        return None


def now_playing(fields: Mapping[str, str], client_id: str) -> NowPlayingIn | None:
    ref = track_ref(fields)
    if ref is None:
        return None
    return NowPlayingIn(item=ref, client=client_label(client_id))


@dataclass
class Translated:
    """A submission's tracks: the listens to record, and what else they asked for."""

    listens: list[Submission] = field(default_factory=list)
    loved: set[int] = field(default_factory=set)
    """Indexes of listens rated ``L``."""
    banned: list[TrackRef] = field(default_factory=list)
    """Tracks rated ``B``: no listen, but a hate."""
    skipped: int = 0
    """Tracks rated ``S``: neither a listen nor an opinion."""
    dropped: int = 0
    """Tracks too broken to use."""

    @property
    def usable(self) -> bool:
        return bool(self.listens or self.banned or self.skipped)


def submission(items: Mapping[int, Mapping[str, str]], client_id: str) -> Translated:
    out = Translated()
    label = client_label(client_id)
    for index, fields in items.items():
        ref = track_ref(fields)
        when = started_at(fields.get("i", ""))
        rating = fields.get("r", "").strip().upper()
        if ref is None or when is None:
            out.dropped += 1
        elif rating == "B":
            out.banned.append(ref)
        elif rating == "S":
            out.skipped += 1
        else:
            play = PlayIn(played_at=when, item=ref, client=label)
            out.listens.append(Submission(index=index, play=play, raw=_raw(fields)))
            if rating == "L":
                out.loved.add(index)
    return out


def _name(value: str) -> str | None:
    if not value.strip():
        return None
    try:
        return _NAME.validate_python(value)
    except ValidationError:
        return None


def _number(value: str) -> int | None:
    # MPD tags often hold "3/12" for a track number and players send "241.0" for lengths.
    match = _LEADING_NUMBER.match(value)
    return int(match.group(1)) if match else None


def _mbid(value: str) -> str | None:
    if not value.strip():
        return None
    try:
        return check_external_id(IdScheme.MUSICBRAINZ.value, value)
    except ValueError:
        return None


def _raw(fields: Mapping[str, str]) -> str:
    """The fields as received, as JSON, kept with the play for re-parsing later."""
    clean = {
        key: value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        for key, value in sorted(fields.items())
    }
    return orjson.dumps({"protocol": "audioscrobbler/1.2", **clean}).decode()
