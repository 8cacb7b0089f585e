"""Reading a CSV rights sheet: one grant (or one per territory named) per row.

The format is in docs/catalog.md. Reading checks each row on its own and reports every problem
with its line; matching items and territory groups against the catalogue is the service's job
(``rights.RightsService.import_sheet``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from tastegraph.catalog.errors import RightsSheetRejected
from tastegraph.catalog.models import Offer
from tastegraph.catalog.schemas import check_external_id
from tastegraph.catalog.territories import split_codes
from tastegraph.locales import normalize_locale

_Report = Callable[[str | None, str, str], None]

REQUIRED = ("item", "territory", "offer")
OPTIONAL = ("start", "end", "audio", "subtitles")

_COLUMN_NAMES: dict[str, str] = {
    "item": "item",
    "item_id": "item",
    "id": "item",
    "territory": "territory",
    "territories": "territory",
    "country": "territory",
    "countries": "territory",
    "offer": "offer",
    "offer_kind": "offer",
    "offer_type": "offer",
    "model": "offer",
    "start": "start",
    "starts_at": "start",
    "from": "start",
    "window_start": "start",
    "end": "end",
    "ends_at": "end",
    "until": "end",
    "to": "end",
    "window_end": "end",
    "audio": "audio",
    "audio_languages": "audio",
    "subtitles": "subtitles",
    "subtitle_languages": "subtitles",
    "subs": "subtitles",
}

OFFER_NAMES: dict[str, Offer] = {
    "ad_supported": Offer.AD_SUPPORTED,
    "ad-supported": Offer.AD_SUPPORTED,
    "ads": Offer.AD_SUPPORTED,
    "avod": Offer.AD_SUPPORTED,
    "fast": Offer.AD_SUPPORTED,
    "subscription": Offer.SUBSCRIPTION,
    "svod": Offer.SUBSCRIPTION,
    "rental": Offer.RENTAL,
    "rent": Offer.RENTAL,
    "tvod": Offer.RENTAL,
}


@dataclass(frozen=True)
class ItemKey:
    """How a row names its item: a catalogue id, or an external id."""

    item_id: int | None = None
    scheme: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        return str(self.item_id) if self.item_id is not None else f"{self.scheme}:{self.value}"


@dataclass
class SheetRow:
    line: int
    item: ItemKey
    territories: list[str]
    offer: Offer
    starts_at: datetime | None
    ends_at: datetime | None
    audio: list[str]
    subtitles: list[str]


@dataclass(frozen=True)
class Problem:
    line: int
    field: str | None
    code: str
    message: str


@dataclass
class Sheet:
    rows: list[SheetRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    read: int = 0


def read_sheet(text: str) -> Sheet:
    """Parse a sheet; a header without the required columns rejects the whole sheet."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    sheet = Sheet()
    header: list[str | None] | None = None
    last_line = 0
    try:
        for record in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = _header(record, sheet)
                continue
            sheet.read += 1
            row = _row(line, header, record, sheet)
            if row is not None:
                sheet.rows.append(row)
    except csv.Error as exc:
        sheet.problems.append(Problem(last_line + 1, None, "malformed_csv", str(exc)))
    if header is None:
        raise RightsSheetRejected(
            "The sheet is empty: it needs a header row naming at least "
            + ", ".join(REQUIRED)
            + ".",
            rejected=[],
        )
    return sheet


def _header(record: list[str], sheet: Sheet) -> list[str | None]:
    header: list[str | None] = []
    for cell in record:
        name = cell.strip().lower().replace(" ", "_")
        column = _COLUMN_NAMES.get(name)
        if column is None or column in header:
            sheet.ignored_columns.append(cell.strip())
            header.append(None)
        else:
            header.append(column)
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise RightsSheetRejected(
            f"The header row lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (it has: {', '.join(c.strip() for c in record)}).",
            rejected=[],
        )
    return header


def _row(line: int, header: list[str | None], record: list[str], sheet: Sheet) -> SheetRow | None:
    problems: list[Problem] = []

    def problem(column: str | None, code: str, message: str) -> None:
        problems.append(Problem(line, column, code, message))

    if len(record) > len(header):
        problem(None, "too_many_fields", f"{len(record)} fields, the header has {len(header)}")
    cells = {name: record[i].strip() for i, name in enumerate(header) if name and i < len(record)}
    for name in REQUIRED:
        if not cells.get(name):
            problem(name, "missing_field", f"{name} is empty")
    item = _item(cells.get("item", ""), problem)
    territories = split_codes(cells.get("territory", ""))
    offer = None
    if cells.get("offer"):
        offer = OFFER_NAMES.get(cells["offer"].strip().lower())
        if offer is None:
            problem(
                "offer",
                "invalid_offer",
                f"{cells['offer']!r} is not an offer: ad_supported (avod), subscription (svod) "
                "or rental (tvod)",
            )
    starts_at = _moment(cells.get("start", ""), "start", problem, end=False)
    ends_at = _moment(cells.get("end", ""), "end", problem, end=True)
    if starts_at and ends_at and ends_at <= starts_at:
        problem("end", "invalid_window", "the window ends before it starts")
    audio = _languages(cells.get("audio", ""), "audio", problem)
    subtitles = _languages(cells.get("subtitles", ""), "subtitles", problem)
    if problems or item is None or offer is None:
        sheet.problems.extend(problems)
        return None
    return SheetRow(line, item, territories, offer, starts_at, ends_at, audio, subtitles)


def _item(text: str, problem: _Report) -> ItemKey | None:
    if not text:
        return None
    if text.isdigit():
        return ItemKey(item_id=int(text))
    scheme, sep, value = text.partition(":")
    if not sep or not scheme.strip() or not value.strip():
        problem(
            "item", "invalid_item", f"{text!r} is neither an item id nor scheme:value (imdb:tt…)"
        )
        return None
    scheme = scheme.strip().lower()
    try:
        return ItemKey(scheme=scheme, value=check_external_id(scheme, value))
    except ValueError as exc:
        problem("item", "invalid_item", str(exc))
        return None


def parse_moment(text: str, *, end: bool = False) -> datetime:
    """A date (the start of that day in UTC; as an ``end``, the whole day is included) or an
    ISO 8601 time (UTC when it has no offset). ValueError otherwise."""
    text = text.strip()
    if len(text) == 10:
        moment = datetime.combine(date.fromisoformat(text), time(), UTC)
        return moment + timedelta(days=1) if end else moment
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _moment(text: str, column: str, problem: _Report, *, end: bool) -> datetime | None:
    if not text:
        return None
    try:
        return parse_moment(text, end=end)
    except ValueError:
        problem(column, "invalid_date", f"{text!r} is not a date (2025-03-31) or an ISO 8601 time")
        return None


def _languages(text: str, column: str, problem: _Report) -> list[str]:
    out: list[str] = []
    for tag in re.split(r"[\s,;|]+", text.strip()):
        if not tag:
            continue
        try:
            language = normalize_locale(tag)
        except ValueError as exc:
            problem(column, "invalid_language", str(exc))
            continue
        if language not in out:
            out.append(language)
    return out
