"""Reading play histories from CSV and JSONL into the native play shape.

Rows become plain dicts in the shape of ``PlayIn``; the ingest path validates them, so an
import reports exactly what the API would.
"""

from __future__ import annotations

import csv

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

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


@dataclass
class Row:
    line: int
    """The line number in the file, for the report."""
    data: Any
    """A dict in the shape of PlayIn, or an error message when the line could not be read."""
    error: str | None = None


def detect_format(path: str, head: str) -> str:
    if path.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if path.endswith(".csv"):
        return "csv"
    return "jsonl" if head.lstrip().startswith("{") else "csv"


def read_rows(stream: TextIO, fmt: str, timezone: str) -> Iterator[Row]:
    tz = ZoneInfo(timezone)
    if fmt == "jsonl":
        yield from _jsonl_rows(stream, tz)
    else:
        yield from _csv_rows(stream, tz)


def _jsonl_rows(stream: TextIO, tz: ZoneInfo) -> Iterator[Row]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Row(number, None, f"not valid JSON: {exc}")
            continue
        if not isinstance(obj, dict):
            yield Row(number, None, "each line must be a JSON object")
            continue
        if obj.get("type") not in (None, "play"):
            continue  # other records of a tastegraph export (profile, feedback...)
        obj.pop("type", None)
        if "track_metadata" in obj:
            obj = _from_listenbrainz(obj)
        if "played_at" in obj:
            obj["played_at"] = _time(obj["played_at"], tz)
        for key in ("id", "item_title", "local_time", "timezone_offset"):
            obj.pop(key, None)
        yield Row(number, obj)


def _from_listenbrainz(listen: dict[str, Any]) -> dict[str, Any]:
    meta = listen.get("track_metadata") or {}
    info = meta.get("additional_info") or {}
    item: dict[str, Any] = {
        "kind": "track",
        "title": meta.get("track_name"),
        "artist": meta.get("artist_name"),
    }
    if meta.get("release_name"):
        item["album"] = meta["release_name"]
    if isinstance(info, dict):
        if info.get("recording_mbid"):
            item["ids"] = {"musicbrainz": info["recording_mbid"]}
        if info.get("duration_ms"):
            item["duration"] = int(info["duration_ms"]) // 1000
        elif info.get("duration"):
            item["duration"] = int(info["duration"])
    return {"played_at": listen.get("listened_at"), "item": item, "client": "listenbrainz-import"}


def _csv_rows(stream: TextIO, tz: ZoneInfo) -> Iterator[Row]:
    reader = csv.DictReader(stream)
    if reader.fieldnames is None:
        return
    columns = {name.strip().lower(): name for name in reader.fieldnames if name}
    for record in reader:
        number = reader.line_num
        row = {key: (record.get(original) or "").strip() for key, original in columns.items()}
        if row.get("record") not in (None, "", "play"):
            continue  # feedback, tags and friends of a tastegraph CSV export
        try:
            yield Row(number, _csv_play(row, tz))
        except ValueError as exc:
            yield Row(number, None, str(exc))


def _first(row: dict[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        if row.get(name):
            return row[name]
    return ""


def _csv_play(row: dict[str, str], tz: ZoneInfo) -> dict[str, Any]:
    when = _first(row, TIME_COLUMNS)
    if not when:
        raise ValueError(f"no time: give one of the columns {', '.join(TIME_COLUMNS)}")
    kind = row.get("kind") or "track"
    allowed = _FIELDS_BY_KIND.get(kind)
    if allowed is None:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(_FIELDS_BY_KIND)}")
    item: dict[str, Any] = {"kind": kind}
    for field, names in _ITEM_COLUMNS.items():
        value = _first(row, names)
        if not value or field not in allowed | _COMMON:
            continue
        if field == "duration" and "duration_ms" not in row:
            item[field] = _int(value, field)
        elif field == "starts_at":
            item[field] = _time(value, tz)
        else:
            item[field] = _int(value, field) if field in _INT_FIELDS else value
    if row.get("duration_ms") and "duration" in allowed | _COMMON:
        item["duration"] = _int(row["duration_ms"], "duration_ms") // 1000
    ids = {scheme: _first(row, names) for scheme, names in _ID_COLUMNS.items()}
    ids = {k: v for k, v in ids.items() if v}
    if ids:
        item["ids"] = ids
    play: dict[str, Any] = {"played_at": _time(when, tz), "item": item}
    for field in _PLAY_COLUMNS:
        value = row.get(field, "")
        if not value:
            continue
        if field == "incognito":
            play[field] = value.lower() in {"1", "true", "yes"}
        elif field == "progress":
            play[field] = _float(value, field)
        elif field in _INT_FIELDS:
            play[field] = _int(value, field)
        else:
            play[field] = value
    return play


def _time(value: Any, tz: ZoneInfo) -> Any:
    """UNIX seconds stay numbers; ISO times without an offset are read in the user's zone."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "T", 1) if "T" not in value else value.strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return value  # left for validation to report
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        return moment.isoformat()
    return value


def _int(value: str, field: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        raise ValueError(f"{field} must be a number, not {value!r}") from None


def _float(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{field} must be a number, not {value!r}") from None
