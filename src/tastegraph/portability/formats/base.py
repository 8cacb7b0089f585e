"""What every reader shares: the records it yields, how far it got, and small value helpers."""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from tastegraph.catalog.schemas import check_external_id


class UnreadableFile(ValueError):
    """The file as a whole cannot be imported (not one row of it could be read)."""


@dataclass
class Row:
    """One play read from a file, or why it could not be read."""

    line: int
    """The line number in the file (in a JSON document: the record's position), for the report."""
    data: Any
    """A dict in the shape of PlayIn, or None when the line could not be read."""
    error: str | None = None
    """Why the line could not be read."""
    file: str | None = None
    """The member of an archive the row comes from (a ListenBrainz zip)."""
    unit: str = "line"
    """What ``line`` counts: "line" in a text file, "record" in a JSON document."""


@dataclass
class FeedbackRow:
    """A love (or hate) read from a file, stored once the plays before it are in."""

    line: int
    sentiment: str
    """A ``Sentiment`` value: love, hate, not_interested or bad_recommendation."""
    item: dict[str, Any] | None = None
    """The item, in the shape of ItemRef."""
    mbid: str | None = None
    """Or a MusicBrainz recording id, looked up in the catalogue."""
    error: str | None = None
    file: str | None = None
    unit: str = "line"


Record = Row | FeedbackRow


def position(record: Record) -> str:
    """Where a record sits, as the report prints it: ``listens/2024/5.jsonl line 3``."""
    where = f"{record.unit} {record.line}"
    return f"{record.file} {where}" if record.file else where


class Reading:
    """One import as its reader sees it: the user's zone, the progress, what was left out.

    Readers report progress either by following a stream (bytes) or by counting the records
    of a document they have parsed whole (records).
    """

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self.unit = "bytes"
        self.total = 0
        self.done = 0
        self.skipped: Counter[str] = Counter()
        """Records left out on purpose (a skipped Rockbox track), by reason. Not "read"."""
        self.notes: list[str] = []
        """Anything else the operator should know (files of an archive that were ignored)."""
        self._probe: Callable[[], int] | None = None

    def follow(self, total: int, probe: Callable[[], int]) -> None:
        self.unit, self.total, self._probe = "bytes", total, probe

    def follow_file(self, stream: TextIO) -> None:
        try:
            size = os.fstat(stream.fileno()).st_size
        except (AttributeError, OSError, ValueError):
            size = 0
        self.follow(size, stream.buffer.tell)

    def count_records(self, total: int) -> None:
        self.unit, self.total, self.done, self._probe = "records", total, 0, None

    def position(self) -> int:
        if self._probe is None:
            return self.done
        try:
            return min(self.total, int(self._probe()))
        except (OSError, ValueError):
            return 0  # a closed or unseekable stream: progress is cosmetic


def open_text(path: Path) -> TextIO:
    """A text file as every reader opens it: UTF-8 with or without a byte order mark.

    Undecodable bytes survive as surrogates, so the row holding them is rejected on its own
    (``invalid_unicode``) instead of the whole file failing.
    """
    return path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")


def json_lines(stream: TextIO) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, value, error) for each non-blank line of a JSONL stream."""
    for number, line in enumerate(stream, start=1):
        text = line.strip().lstrip("\ufeff")
        if not text:
            continue
        try:
            yield number, json.loads(text), None
        except (json.JSONDecodeError, RecursionError) as exc:
            yield number, None, f"not valid JSON: {exc}"


def load_document(stream: TextIO, what: str) -> Any:
    """A whole JSON document; one that does not parse cannot be imported at all."""
    try:
        return json.loads(stream.read().lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise UnreadableFile(
            f"{what} must be one JSON document, and this one breaks at line {exc.lineno}, "
            f"column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise UnreadableFile(f"{what} is nested too deeply to read") from None


# -- values -----------------------------------------------------------------------------------


def text(value: Any) -> str | None:
    """A non-empty, trimmed string, or None: exports write "" and null for "unknown"."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def whole_number(value: Any) -> int | None:
    """An optional count (a duration, a track number) as an int, or None when unreadable.

    A bad optional value is left out rather than costing the play.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(number) if math.isfinite(number) else None


_LEADING_DIGITS = re.compile(r"^\s*(\d{1,6})")
MAX_TRACK_NUMBER = 10_000
MAX_SECONDS = 2_073_600
"""The longest duration a play or an item may have (24 days, as ListenBrainz allows)."""


def track_number(value: Any) -> int | None:
    """Track numbers come as 3, "3", "03" or "3/12"; anything else is left out."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        match = _LEADING_DIGITS.match(value)
        number = int(match.group(1)) if match else None
    return number if number is not None and 0 <= number <= MAX_TRACK_NUMBER else None


def positive_seconds(value: Any, per_second: int = 1) -> int | None:
    """An optional duration in seconds (given in ``1/per_second`` units), or None when it is
    missing, not positive or beyond what a play may last."""
    number = whole_number(value)
    if number is None:
        return None
    seconds = number // per_second
    return seconds if 0 < seconds <= MAX_SECONDS else None


def epoch(value: Any) -> Any:
    """UNIX seconds as an int where they are one (``1714587300.0``, ``"1714587300"``).

    Anything else is passed on unchanged, for validation to accept or to reject with a reason.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def wall_clock(seconds: int, zone: ZoneInfo) -> str:
    """UNIX-style seconds that count a device's local clock, not UTC, read in ``zone``.

    Devices without a time zone (a Rockbox player with ``#TZ/UNKNOWN``) count seconds since
    1970-01-01 00:00 *local time*; the wall-clock time they mean is the same in any zone.
    """
    naive = datetime(1970, 1, 1) + timedelta(seconds=seconds)
    return naive.replace(tzinfo=zone).isoformat()


def valid_ids(candidates: dict[str, Any]) -> dict[str, str]:
    """The external ids among ``candidates`` that the catalogue accepts, canonicalised.

    Other services store ids they never checked (an ISRC of "N/A", an IMDb id of "");
    a bad optional id is left out rather than costing the play it came with.
    """
    ids: dict[str, str] = {}
    for scheme, value in candidates.items():
        if value is None or isinstance(value, bool):
            continue
        raw = str(value).strip()
        if not raw:
            continue
        try:
            ids[scheme] = check_external_id(scheme, raw)
        except ValueError:
            continue
    return ids
