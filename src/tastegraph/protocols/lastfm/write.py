"""track.scrobble, track.updateNowPlaying, track.love and track.unlove.

Every write goes through the ingest service, the one write path: scrobbles become ``PlayIn``
submissions for ``IngestService.record`` (which resolves the items, stores them idempotently
and ends the now-playing state), now playing goes to ``set_now_playing`` and loves to
``set_feedback``.

A scrobble Last.fm would ignore does not fail the request: it is answered with ``status="ok"``
and an ``ignoredMessage`` code, and the rest of the batch is stored.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from tastegraph.catalog.kinds import IdScheme, Kind
from tastegraph.catalog.schemas import TrackRef
from tastegraph.ingest.models import Sentiment
from tastegraph.ingest.schemas import NowPlayingIn, PlayIn, PlayStatus
from tastegraph.ingest.services import Submission
from tastegraph.protocols.lastfm.context import Call, Handler, Method
from tastegraph.protocols.lastfm.errors import invalid, missing
from tastegraph.protocols.lastfm.params import Params
from tastegraph.protocols.lastfm.queries import find_track
from tastegraph.protocols.lastfm.render import El, leaf, node

MAX_BATCH = 50
MAX_AGE = timedelta(days=14)
"""Last.fm ignores scrobbles older than this (and says so with code 3); imports of older
history go through the native API or the importers."""
MAX_NAME = 512

_PLAY = TypeAdapter(PlayIn)
_INDEXED = re.compile(r"^(\w+)\[(\d{1,9})\]$")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_TIMESTAMP = re.compile(r"^\s*(\d{1,15})(?:\.\d*)?\s*$", re.ASCII)
_NUMBER = re.compile(r"^\s*(\d{1,9})\s*$", re.ASCII)
_FIELDS = frozenset(
    {
        "artist",
        "track",
        "timestamp",
        "album",
        "albumartist",
        "duration",
        "tracknumber",
        "mbid",
        "chosenbyuser",
        "context",
        "streamid",
    }
)


class Ignored(IntEnum):
    NONE = 0
    ARTIST = 1
    TRACK = 2
    TOO_OLD = 3
    TOO_NEW = 4
    DAILY_LIMIT = 5


IGNORED_MESSAGES = {
    Ignored.NONE: "",
    Ignored.ARTIST: "Artist was ignored",
    Ignored.TRACK: "Track was ignored",
    Ignored.TOO_OLD: "Timestamp was too old",
    Ignored.TOO_NEW: "Timestamp was too new",
    Ignored.DAILY_LIMIT: "Daily scrobble limit exceeded",
}


@dataclass
class Name:
    """A name as sent and as it will be stored; ``corrected`` when they differ."""

    sent: str = ""
    value: str = ""

    @classmethod
    def of(cls, sent: str | None) -> Name:
        sent = sent or ""
        value = _CONTROL.sub("", sent).strip()
        if len(value) > MAX_NAME:
            value = value[:MAX_NAME].rstrip()
        return cls(sent=sent, value=value)

    @property
    def corrected(self) -> str:
        return "1" if self.value != self.sent else "0"

    def element(self, tag: str) -> El:
        return leaf(tag, self.value, {"corrected": self.corrected})


@dataclass
class Scrobble:
    index: int
    sent: dict[str, str] = field(default_factory=dict)
    """The item's parameters under the names they were sent with."""
    fields: dict[str, str] = field(default_factory=dict)
    """The same, by lower-cased field name without the index."""
    ignored: Ignored = Ignored.NONE
    message: str = ""

    @property
    def artist(self) -> Name:
        return Name.of(self.fields.get("artist"))

    @property
    def track(self) -> Name:
        return Name.of(self.fields.get("track"))

    @property
    def album(self) -> Name:
        return Name.of(self.fields.get("album"))

    @property
    def album_artist(self) -> Name:
        return Name.of(self.fields.get("albumartist"))

    def ignore(self, code: Ignored, message: str | None = None) -> None:
        self.ignored = code
        self.message = message or IGNORED_MESSAGES[code]


def group_scrobbles(params: Params) -> list[Scrobble]:
    """Items by index: ``artist[3]`` is field artist of item 3; ``artist`` (no index) is item
    0, the same item as ``artist[0]``. Indices need not be contiguous."""
    items: dict[int, Scrobble] = {}
    for name, value in params.raw.items():
        match = _INDEXED.match(name)
        key, index = (match.group(1).lower(), int(match.group(2))) if match else (name.lower(), 0)
        if key not in _FIELDS:
            continue
        item = items.setdefault(index, Scrobble(index=index))
        item.sent[name] = value
        item.fields[key] = value
    return [items[i] for i in sorted(items)]


# -- optional fields: a bad one is dropped, never the scrobble --------------------------------


def _optional_int(value: str | None, low: int, high: int) -> int | None:
    match = _NUMBER.match(value or "")
    if match is None:
        return None
    number = int(match.group(1))
    return number if low <= number <= high else None


def _mbid(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(value.strip())) if value else None
    except ValueError:
        return None


def track_ref(fields: dict[str, str], artist: str, title: str) -> dict[str, Any]:
    """The catalogue reference (``TrackRef``) of a Last.fm track description."""
    ref: dict[str, Any] = {"kind": Kind.TRACK.value, "title": title, "artist": artist}
    album = Name.of(fields.get("album")).value
    if album:
        ref["album"] = album
        album_artist = Name.of(fields.get("albumartist")).value
        if album_artist:
            ref["album_artist"] = album_artist
    number = _optional_int(fields.get("tracknumber"), 0, 10_000)
    if number is not None:
        ref["track_number"] = number
    duration = _optional_int(fields.get("duration"), 1, 2_073_600)
    if duration is not None:
        ref["duration"] = duration
    mbid = _mbid(fields.get("mbid"))
    if mbid is not None:
        ref["ids"] = {IdScheme.MUSICBRAINZ.value: mbid}
    return ref


# -- track.scrobble ---------------------------------------------------------------------------


def scrobble(call: Call) -> list[El]:
    user = call.session_user()
    items = group_scrobbles(call.params)
    if not items:
        raise missing("artist")
    if len(items) > MAX_BATCH:
        raise invalid(
            f"Invalid parameters - at most {MAX_BATCH} scrobbles per request, "
            f"this one has {len(items)}"
        )
    submissions: list[Submission] = []
    for position, item in enumerate(items):
        submission = _submission(call, item, position)
        if submission is not None:
            submissions.append(submission)
    if submissions:
        results = call.svc.ingest.record(user, submissions, source=call.client)
        for result in results:
            if result.status is PlayStatus.REJECTED:
                codes = {e.code for e in result.errors}
                items[result.index].ignore(
                    Ignored.TOO_NEW if "timestamp_in_future" in codes else Ignored.TOO_OLD
                )
    ignored = sum(1 for item in items if item.ignored is not Ignored.NONE)
    # Last.fm's JSON gives these two counts as numbers, unlike everything else.
    attrs: dict[str, str | int] = {"accepted": len(items) - ignored, "ignored": ignored}
    return [node("scrobbles", [_scrobble_element(i) for i in items], attrs, items="scrobble")]


def _timely(call: Call, item: Scrobble) -> int | None:
    """The item's start in UNIX seconds if Last.fm would take it; otherwise it is ignored."""
    if not item.artist.value:
        item.ignore(Ignored.ARTIST)
        return None
    if not item.track.value:
        item.ignore(Ignored.TRACK)
        return None
    sent_at = _TIMESTAMP.match(item.fields.get("timestamp", ""))
    if sent_at is None:
        item.ignore(Ignored.TOO_OLD, "Timestamp is missing or not UNIX seconds")
        return None
    stamp = int(sent_at.group(1))
    now = call.utcnow()
    if stamp < (now - MAX_AGE).timestamp():
        item.ignore(Ignored.TOO_OLD)
        return None
    if stamp > (now + timedelta(seconds=call.settings.future_skew_seconds)).timestamp():
        item.ignore(Ignored.TOO_NEW)
        return None
    return stamp


def _submission(call: Call, item: Scrobble, position: int) -> Submission | None:
    stamp = _timely(call, item)
    if stamp is None:
        return None
    raw = {"method": "track.scrobble", "api_key": call.api_key, "params": item.sent}
    try:
        play = _PLAY.validate_python(
            {
                "played_at": datetime.fromtimestamp(stamp, UTC),
                "item": track_ref(item.fields, item.artist.value, item.track.value),
                "client": call.client,
            }
        )
    except ValidationError as exc:
        where = {str(part) for error in exc.errors() for part in error["loc"]}
        item.ignore(Ignored.ARTIST if "artist" in where else Ignored.TRACK)
        return None
    return Submission(index=position, play=play, raw=orjson.dumps(raw).decode())


def _scrobble_element(item: Scrobble) -> El:
    return node(
        "scrobble",
        [
            item.track.element("track"),
            item.artist.element("artist"),
            item.album.element("album"),
            item.album_artist.element("albumArtist"),
            leaf("timestamp", item.fields.get("timestamp", "").strip()),
            leaf("ignoredMessage", item.message, {"code": str(int(item.ignored))}),
        ],
    )


# -- track.updateNowPlaying -------------------------------------------------------------------


def update_now_playing(call: Call) -> list[El]:
    user = call.session_user()
    fields = {name: call.params.get(name) or "" for name in _FIELDS}
    call.params.require("artist")
    call.params.require("track")
    artist, track = Name.of(fields["artist"]), Name.of(fields["track"])
    ignored = Ignored.NONE
    try:
        ref = TrackRef.model_validate(track_ref(fields, artist.value, track.value))
    except ValidationError as exc:
        where = {str(part) for error in exc.errors() for part in error["loc"]}
        ignored = Ignored.ARTIST if "artist" in where else Ignored.TRACK
    else:
        item_id = call.svc.catalog.resolve([ref])[0]
        current = call.svc.ingest.now_playing(user, include_incognito=True)
        # Players repeat now playing (on pause, seek, reconnect); the same track again
        # changes nothing, so its start and expiry stay those of the first report.
        if current is None or current[1].id != item_id:
            call.svc.ingest.set_now_playing(
                user, NowPlayingIn(item_id=item_id, client=call.client), source=call.client
            )
    return [
        node(
            "nowplaying",
            [
                track.element("track"),
                artist.element("artist"),
                Name.of(fields["album"]).element("album"),
                Name.of(fields["albumartist"]).element("albumArtist"),
                leaf("ignoredMessage", IGNORED_MESSAGES[ignored], {"code": str(int(ignored))}),
            ],
        )
    ]


# -- track.love / track.unlove ----------------------------------------------------------------


def _loved(call: Call) -> tuple[str, str, TrackRef]:
    artist = Name.of(call.params.require("artist")).value
    title = Name.of(call.params.require("track")).value
    try:
        ref = TrackRef.model_validate({"kind": Kind.TRACK, "title": title, "artist": artist})
    except ValidationError:
        raise invalid("Invalid parameters - artist and track must be names") from None
    return artist, title, ref


def love(call: Call) -> list[El]:
    user = call.session_user()
    _, _, ref = _loved(call)
    # Last.fm lets anyone love any track, known or not: the catalogue learns it.
    item_id = call.svc.catalog.resolve([ref])[0]
    call.svc.ingest.set_feedback(user, item_id, Sentiment.LOVE)
    return []


def unlove(call: Call) -> list[El]:
    user = call.session_user()
    artist, title, _ = _loved(call)
    item = find_track(call.svc, artist, title)
    if item is not None:
        # Only a love is taken back: a "hate" set elsewhere is not Last.fm's to undo.
        call.svc.ingest.clear_feedback(user, item.id, Sentiment.LOVE)
    return []


def _write(name: str, handler: Handler) -> Method:
    return Method(name, handler, writes=True, post_only=True, session=True, signed=True)


METHODS = [
    _write("track.scrobble", scrobble),
    _write("track.updatenowplaying", update_now_playing),
    _write("track.love", love),
    _write("track.unlove", unlove),
]
