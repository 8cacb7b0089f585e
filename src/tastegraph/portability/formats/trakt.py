"""Trakt watched history: the JSON of ``GET /sync/history`` (and of backup tools that save it).

Each entry is one watch::

    {"id": 1982346, "watched_at": "2024-05-01T20:15:00.000Z", "action": "scrobble",
     "type": "episode",
     "episode": {"season": 1, "number": 1, "title": "Pilot",
                 "ids": {"trakt": 73482, "tvdb": 349232, "imdb": "tt0959621", "tmdb": 62085}},
     "show": {"title": "Breaking Bad", "year": 2008, "ids": {...}}}

or ``"type": "movie"`` with ``"movie": {"title", "year", "ids"}``. Every action (scrobble,
checkin, watch) is a watch. Episodes keep their IMDb, TMDb and TVDB ids, films their IMDb and
TMDb ids; Trakt's own ids and slugs are left out (they mean nothing elsewhere), but the watch's
history id becomes the play's submission id, so a re-import is recognised even if Trakt renamed
the show in between.
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
    load_document,
    open_text,
    positive_seconds,
    text,
    valid_ids,
    whole_number,
)


def read(path: Path, reading: Reading) -> Iterator[Record]:
    with open_text(path) as stream:
        document = load_document(stream, "A Trakt history")
    entries = _entries(document)
    reading.count_records(len(entries))
    for number, entry in enumerate(entries, start=1):
        reading.done = number
        try:
            yield Row(number, _play(entry), unit="record")
        except ValueError as exc:
            yield Row(number, None, str(exc), unit="record")


def _entries(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in ("history", "items"):
            if isinstance(document.get(key), list):
                return list(document[key])
    raise UnreadableFile("a Trakt history is a JSON array of watches (GET /sync/history)")


def _play(entry: Any) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ValueError("each watch must be a JSON object")
    kind = entry.get("type")
    if kind == "episode":
        item = _episode(entry)
    elif kind == "movie":
        item = _film(entry)
    else:
        raise ValueError(f"type must be episode or movie, not {kind!r}")
    if entry.get("watched_at") is None:
        raise ValueError("no watched_at: a watch without a time cannot be imported")
    play: dict[str, Any] = {"played_at": entry["watched_at"], "item": item}
    history_id = entry.get("id")
    if isinstance(history_id, int) and not isinstance(history_id, bool):
        play["submission_id"] = f"trakt:{history_id}"
    return play


def _part(entry: dict[str, Any], key: str) -> dict[str, Any]:
    value = entry.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"this {entry.get('type')} watch needs {key}, an object")
    return value


def _episode(entry: dict[str, Any]) -> dict[str, Any]:
    episode, show = _part(entry, "episode"), _part(entry, "show")
    item: dict[str, Any] = {"kind": "episode"}
    title = text(show.get("title"))
    if title is not None:
        item["show"] = title  # without it validation names the missing show
    for field, value in (("season", episode.get("season")), ("episode", episode.get("number"))):
        number = whole_number(value)
        if number is not None and number >= 0:
            item[field] = number
    name = text(episode.get("title"))
    if name is not None:
        item["title"] = name
    _add_common(item, episode, ("imdb", "tmdb", "tvdb"))
    return item


def _film(entry: dict[str, Any]) -> dict[str, Any]:
    movie = _part(entry, "movie")
    item: dict[str, Any] = {"kind": "film"}
    title = text(movie.get("title"))
    if title is not None:
        item["title"] = title
    year = whole_number(movie.get("year"))
    if year is not None:
        item["year"] = year
    _add_common(item, movie, ("imdb", "tmdb"))
    return item


def _add_common(item: dict[str, Any], source: dict[str, Any], schemes: tuple[str, ...]) -> None:
    ids = source.get("ids")
    if isinstance(ids, dict):
        found = valid_ids({scheme: ids.get(scheme) for scheme in schemes})
        if found:
            item["ids"] = found
    runtime = whole_number(source.get("runtime"))  # minutes, with ?extended=full
    duration = positive_seconds(runtime * 60) if runtime else None
    if duration:
        item["duration"] = duration
