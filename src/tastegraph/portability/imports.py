"""Reading play histories from CSV and JSONL into the native play shape.

Rows become plain dicts in the shape of ``PlayIn``; the ingest path validates them, so an
import reports exactly what the API would. A row that cannot even be read becomes a ``Row``
with an ``error``: one bad line never stops an import. The feedback records of a tastegraph
export (loves, hates) become ``FeedbackRow`` objects, stored after the plays.

The formats of other services (Last.fm, ListenBrainz, Rockbox, Trakt, Maloja) have their own
readers in ``portability.formats``; ``portability.sources`` chooses between them.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from tastegraph.ingest.models import Sentiment
from tastegraph.portability.formats.base import FeedbackRow, Record, Row, UnreadableFile
from tastegraph.portability.formats.listenbrainz import listen_to_play

__all__ = ["FeedbackRow", "Row", "UnreadableFile", "read_records", "read_rows"]

TIME_COLUMNS = ("played_at", "timestamp", "uts", "listened_at", "watched_at", "date", "utc_time")
_ITEM_COLUMNS = {
    "title": ("title", "track", "track_name", "name", "song"),
    "artist": ("artist", "artist_name", "artists"),
    "album": ("album", "release_name", "release"),
    "album_artist": ("album_artist", "albumartist"),
    "track_number": ("track_number", "tracknumber"),
    "show": ("show", "series", "show_title"),
    "season": ("season", "season_number"),
    "episode": ("episode", "episode_number"),
    "year": ("year",),
    "director": ("director",),
    "competition": ("competition", "league"),
    "home": ("home", "home_team"),
    "away": ("away", "away_team"),
    "starts_at": ("starts_at", "kickoff"),
    "outlet": ("outlet", "publisher"),
    "programme": ("programme", "program"),
    "url": ("url",),
    "duration": ("duration", "length"),
    "language": ("language",),
    "country": ("country",),
}
_ID_COLUMNS = {
    "musicbrainz": ("mbid", "track_mbid", "recording_mbid"),
    "isrc": ("isrc",),
    "imdb": ("imdb", "imdb_id"),
    "tmdb": ("tmdb", "tmdb_id"),
    "tvdb": ("tvdb", "tvdb_id"),
}
_PLAY_COLUMNS = ("duration_played", "progress", "client", "submission_id", "incognito")
_INT_FIELDS = {"track_number", "season", "episode", "year", "duration", "duration_played"}
_FIELDS_BY_KIND = {
    "track": {"title", "artist", "album", "album_artist", "track_number"},
    "episode": {"show", "season", "episode", "title"},
    "film": {"title", "year", "director"},
    "match": {"competition", "home", "away", "title", "starts_at"},
    "programme": {"outlet", "title"},
    "story": {"outlet", "title", "programme", "url"},
}
_COMMON = {"duration", "language", "country"}
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}
_EXPORT_RECORDS = frozenset({"profile", "token", "feedback", "tag", "friend"})
"""The records of a tastegraph export that are not plays."""
_DERIVED = ("id", "item_title", "local_time", "timezone_offset")
"""Fields of a tastegraph export (or history page) that are derived, not submitted."""


def read_rows(stream: TextIO, fmt: str, timezone: str) -> Iterator[Row]:
    """The plays of a CSV or JSONL stream. Times without an offset are read in ``timezone``.

    Raises ``UnreadableFile`` before the first row when the file cannot be imported at all.
    """
    for record in read_records(stream, fmt, timezone):
        if isinstance(record, Row):
            yield record


def read_records(stream: TextIO, fmt: str, timezone: str) -> Iterator[Record]:
    """The plays and the feedback (loves, hates) of a CSV or JSONL stream, in file order."""
    tz = ZoneInfo(timezone)
    if fmt == "jsonl":
        if _starts_with(stream, "["):
            yield from _json_array_rows(stream, tz)
        else:
            yield from _jsonl_rows(stream, tz)
    else:
        yield from _csv_rows(stream, tz)


def _starts_with(stream: TextIO, char: str) -> bool:
    if not stream.seekable():
        return False
    start = stream.tell()
    head = stream.read(256)
    stream.seek(start)
    return head.lstrip("\ufeff \t\r\n").startswith(char)


# -- JSON -------------------------------------------------------------------------------------


def _jsonl_rows(stream: TextIO, tz: ZoneInfo) -> Iterator[Record]:
    for number, line in enumerate(stream, start=1):
        text = line.strip().lstrip("\ufeff")
        if not text:
            continue
        try:
            obj = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            yield Row(number, None, f"not valid JSON: {exc}")
            continue
        row = _object_row(number, obj, tz)
        if row is not None:
            yield row


def _json_array_rows(stream: TextIO, tz: ZoneInfo) -> Iterator[Record]:
    """A whole-file JSON array of plays or listens (a ListenBrainz JSON export)."""
    try:
        document = json.loads(stream.read().lstrip("\ufeff"))
    except (json.JSONDecodeError, RecursionError) as exc:
        yield Row(exc.lineno if isinstance(exc, json.JSONDecodeError) else 1, None, str(exc))
        return
    if not isinstance(document, list):
        yield Row(1, None, "a JSON document must be a list of plays")
        return
    for number, obj in enumerate(document, start=1):
        row = _object_row(number, obj, tz)
        if row is not None:
            yield row


def _object_row(number: int, obj: Any, tz: ZoneInfo) -> Record | None:
    """One JSON value as a play or a feedback; None for the other records of an export."""
    if not isinstance(obj, dict):
        return Row(number, None, "each line must be a JSON object")
    kind = obj.get("type")
    if kind == "feedback":
        return _feedback(number, obj.get("item"), obj.get("sentiment"), tz)
    if isinstance(kind, str) and kind in _EXPORT_RECORDS:
        return None  # profile, token, tag, friend: not plays
    if kind is not None and kind != "play":
        return Row(number, None, f"unknown record type {kind!r}")
    play = {key: value for key, value in obj.items() if key != "type" and key not in _DERIVED}
    if kind == "play" and isinstance(obj.get("local_time"), str):
        # The same instant as played_at, but carrying the offset the person lived it in.
        play["played_at"] = obj["local_time"]
    if "track_metadata" in play or "listened_at" in play:
        try:
            play = listen_to_play(play)
        except ValueError as exc:
            return Row(number, None, str(exc))
    if "played_at" in play:
        play["played_at"] = _time(play["played_at"], tz)
    item = play.get("item")
    if isinstance(item, dict) and "starts_at" in item:
        play["item"] = {**item, "starts_at": _time(item["starts_at"], tz)}
    return Row(number, play)


_SENTIMENTS = frozenset(s.value for s in Sentiment)


def _feedback(number: int, item: Any, sentiment: Any, tz: ZoneInfo) -> FeedbackRow:
    """A feedback record of a tastegraph export: the item, and love, hate or not_interested."""
    if sentiment not in _SENTIMENTS:
        return FeedbackRow(
            number,
            "love",
            error=f"sentiment must be one of {', '.join(sorted(_SENTIMENTS))}, not {sentiment!r}",
        )
    if not isinstance(item, dict):
        return FeedbackRow(number, str(sentiment), error="a feedback record needs item, an object")
    if "starts_at" in item:
        item = {**item, "starts_at": _time(item["starts_at"], tz)}
    return FeedbackRow(number, str(sentiment), item=item)


# -- CSV --------------------------------------------------------------------------------------


def _csv_rows(stream: TextIO, tz: ZoneInfo) -> Iterator[Record]:
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        for line in stream:
            consumed += 1
            yield line

    reader = csv.reader(lines())
    header: list[str] | None = None
    while True:
        start = consumed + 1  # a record may span lines (quoted newlines): report its first
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(start, None, f"not valid CSV: {exc}")
            continue
        if not any(field.strip() for field in fields):
            continue
        if header is None:
            header = [name.strip().lstrip("\ufeff").strip().lower() for name in fields]
            if not set(header) & set(TIME_COLUMNS):
                raise UnreadableFile(
                    f"the first line of a CSV file names its columns, and line {start} names "
                    f"no time column (one of {', '.join(TIME_COLUMNS)})"
                )
            continue
        row: dict[str, str] = {}
        for name, value in zip(header, fields, strict=False):
            if name and not row.get(name):
                row[name] = value.strip()
        if row.get("record") == "feedback":
            try:
                yield _feedback(start, _csv_item(row, tz), row.get("sentiment"), tz)
            except ValueError as exc:
                yield FeedbackRow(start, "love", error=str(exc))
            continue
        if row.get("record") not in (None, "", "play"):
            continue  # tags and friends of a tastegraph CSV export
        try:
            yield Row(start, _csv_play(row, tz))
        except ValueError as exc:
            yield Row(start, None, str(exc))


def _first(row: dict[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        if row.get(name):
            return row[name]
    return ""


def _csv_play(row: dict[str, str], tz: ZoneInfo) -> dict[str, Any]:
    when = _first(row, TIME_COLUMNS)
    if not when:
        raise ValueError(f"no time: give one of the columns {', '.join(TIME_COLUMNS)}")
    play: dict[str, Any] = {"played_at": _time(when, tz), "item": _csv_item(row, tz)}
    for field in _PLAY_COLUMNS:
        value = row.get(field, "")
        if not value:
            continue
        if field == "incognito":
            play[field] = _bool(value, field)
        elif field == "progress":
            play[field] = _float(value, field)
        elif field in _INT_FIELDS:
            play[field] = _int(value, field)
        else:
            play[field] = value
    return play


def _csv_item(row: dict[str, str], tz: ZoneInfo) -> dict[str, Any]:
    kind = (row.get("kind") or "track").lower()
    allowed = _FIELDS_BY_KIND.get(kind)
    if allowed is None:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(_FIELDS_BY_KIND)}")
    allowed = allowed | _COMMON
    item: dict[str, Any] = {"kind": kind}
    for field, names in _ITEM_COLUMNS.items():
        value = _first(row, names)
        if not value or field not in allowed:
            continue
        if field == "starts_at":
            item[field] = _time(value, tz)
        else:
            item[field] = _int(value, field) if field in _INT_FIELDS else value
    if row.get("duration_ms") and not item.get("duration"):
        item["duration"] = _int(row["duration_ms"], "duration_ms") // 1000
    ids = {scheme: _first(row, names) for scheme, names in _ID_COLUMNS.items()}
    ids = {scheme: value for scheme, value in ids.items() if value}
    if ids:
        item["ids"] = ids
    return item


# -- values -----------------------------------------------------------------------------------


def _time(value: Any, tz: ZoneInfo) -> Any:
    """UNIX seconds stay numbers; ISO times without an offset are read in the user's zone.

    Anything else is left as it is, for validation to report.
    """
    if not isinstance(value, str):
        return value  # numbers are UNIX seconds; anything else is for validation to reject
    text = value.strip()
    if text.isdigit():
        return int(text)
    if "T" not in text:
        text = text.replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.isoformat()


def _int(value: str, field: str) -> int:
    try:
        return int(float(value))
    except (ValueError, OverflowError):
        raise ValueError(f"{field} must be a number, not {value!r}") from None


def _float(value: str, field: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{field} must be a number, not {value!r}") from None
    if math.isnan(number):
        raise ValueError(f"{field} must be a number, not {value!r}")
    return number


def _bool(value: str, field: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{field} must be true or false, not {value!r}")
