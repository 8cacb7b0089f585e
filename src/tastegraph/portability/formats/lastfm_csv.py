"""Last.fm scrobble histories as the common export tools write them.

Last.fm has no export of its own, so people use API scrapers. Two CSV shapes are common:

* lastfm.ghan.nl ("lastfm-to-csv" style): a header
  ``uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid``;
* benjaminbenben's lastfm-export (lastfm-to-csv by benfoxall): no header, ``artist,album,
  track,date`` with dates like ``31 Jan 2021 14:03``.

Both carry UTC: ``uts`` is UNIX seconds, and the dates of the headerless export are the
``date`` Last.fm's API returns, which is UTC (benfoxall/lastfm-to-csv#17). They are read as UTC
whatever the user's zone.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tastegraph.portability.formats.base import (
    Reading,
    Record,
    Row,
    UnreadableFile,
    open_text,
    text,
    valid_ids,
)

HEADER = ("uts", "utc_time", "artist", "artist_mbid", "album", "album_mbid", "track", "track_mbid")
_REQUIRED = frozenset({"uts", "artist", "track"})
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
# "31 Jan 2021 14:03", and ghan's utc_time "31 Jan 2021, 14:03". Month names are English
# whatever the locale, so they are matched by hand rather than with strptime's %b.
_DATE = re.compile(
    r"^\s*(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]{3})[a-z]*\s+(?P<year>\d{4}),?\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*$"
)


def looks_like(head: str) -> bool:
    """Whether the first record of a CSV is a Last.fm export's: its header, or four columns
    ending in a Last.fm date."""
    first = next((line for line in head.splitlines() if line.strip()), "")
    try:
        fields = next(csv.reader([first.lstrip("\ufeff")]))
    except (csv.Error, StopIteration):
        return False
    names = {field.strip().lower() for field in fields}
    if names >= _REQUIRED:
        return True
    return len(fields) == 4 and parse_date(fields[3]) is not None


def parse_date(value: str) -> datetime | None:
    """A Last.fm date ("31 Jan 2021 14:03"), in UTC; None if it is not one."""
    match = _DATE.match(value)
    if match is None:
        return None
    month = _MONTHS.get(match["month"].lower())
    if month is None:
        return None
    try:
        return datetime(
            int(match["year"]),
            month,
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None  # 31 Feb, 25:00


def read(path: Path, reading: Reading) -> Iterator[Record]:
    with open_text(path) as stream:
        reading.follow_file(stream)
        yield from rows(stream)


def rows(stream: TextIO) -> Iterator[Row]:
    header: list[str] | None = None
    decided = False
    for start, fields, error in _records(stream):
        if error is not None:
            yield Row(start, None, error)
            continue
        if not decided:
            decided = True
            names = [field.strip().lstrip("\ufeff").lower() for field in fields]
            if set(names) >= _REQUIRED:
                header = names
                continue
            if len(fields) != 4:
                raise UnreadableFile(
                    "a Last.fm CSV starts with the header "
                    f"{','.join(HEADER)}, or has four columns (artist, album, track, date); "
                    f"line {start} has {len(fields)} columns"
                )
        try:
            if header is not None:
                play = _with_header(dict(zip(header, fields, strict=False)))
            else:
                play = _without_header(fields)
        except ValueError as exc:
            yield Row(start, None, str(exc))
            continue
        yield Row(start, play)


def _records(stream: TextIO) -> Iterator[tuple[int, list[str], str | None]]:
    """(first line, fields, error) for each non-blank CSV record; quoted fields may span lines."""
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        for line in stream:
            consumed += 1
            yield line

    reader = csv.reader(lines())
    while True:
        start = consumed + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, [], f"not valid CSV: {exc}"
            continue
        if any(field.strip() for field in fields):
            yield start, fields, None


def _with_header(row: dict[str, str]) -> dict[str, Any]:
    uts = (row.get("uts") or "").strip()
    when: Any
    if uts:
        if not uts.isdigit():
            raise ValueError(f"uts must be UNIX seconds, not {uts!r}")
        when = int(uts)
    else:
        # Some tools leave uts empty and fill utc_time only.
        moment = parse_date(row.get("utc_time") or "")
        if moment is None:
            raise ValueError(
                "no time: uts is empty and utc_time is not a date like 31 Jan 2021, 14:03"
            )
        when = moment.isoformat()
    return {"played_at": when, "item": _track(row)}


def _without_header(fields: list[str]) -> dict[str, Any]:
    if len(fields) != 4:
        raise ValueError(f"expected 4 columns (artist, album, track, date), found {len(fields)}")
    artist, album, track, date = fields
    if not date.strip():
        # The track playing while the export ran has no date yet.
        raise ValueError("no date: a scrobble without a date cannot be imported")
    moment = parse_date(date)
    if moment is None:
        raise ValueError(f"date must look like 31 Jan 2021 14:03, not {date.strip()!r}")
    return {
        "played_at": moment.isoformat(),
        "item": _track({"artist": artist, "album": album, "track": track}),
    }


def _track(row: dict[str, str]) -> dict[str, Any]:
    """The track of a scrobble. A missing artist or title is left for validation to name."""
    item: dict[str, Any] = {"kind": "track"}
    for field, column in (("title", "track"), ("artist", "artist"), ("album", "album")):
        value = text(row.get(column))
        if value is not None:
            item[field] = value
    ids = valid_ids({"musicbrainz": row.get("track_mbid")})
    if ids:
        item["ids"] = ids
    return item
