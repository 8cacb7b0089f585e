"""Which reader an import file needs, by name or by a look at the file, and reading it.

``csv`` and ``jsonl`` are tastegraph's own shapes (and anything with a time column, and
ListenBrainz listens line by line); the others are the exports of the services people leave.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

from tastegraph.portability import imports
from tastegraph.portability.formats import lastfm_csv, listenbrainz, maloja, rockbox, trakt
from tastegraph.portability.formats.base import Reading, Record, open_text

FORMATS = ("csv", "jsonl", "lastfm-csv", "listenbrainz", "rockbox", "trakt", "maloja")
"""The values of ``tastegraph import --format`` besides ``auto``."""

HEAD_BYTES = 4096
_ZIP_MAGIC = b"PK\x03\x04"
_MALOJA = re.compile(r'"maloja"\s*:\s*\{')
_TRAKT_KIND = re.compile(r'"(?:episode|movie)"\s*:\s*\{')


def detect(path: Path, head: bytes) -> str:
    """The format of a file from its name and its first bytes (``--format auto``).

    Content wins where it is unmistakable (a zip, a Rockbox header, a Maloja or Trakt
    document); otherwise the extension decides as it always has: .csv is CSV, .json/.jsonl
    are JSON lines or arrays.
    """
    name = path.name.lower()
    start = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith(_ZIP_MAGIC):
        fmt = "listenbrainz"
    elif start.upper().startswith("#AUDIOSCROBBLER/") or name.endswith(".scrobbler.log"):
        fmt = "rockbox"
    elif not name.endswith(".csv") and (
        start.startswith(("{", "[")) or name.endswith((".json", ".jsonl", ".ndjson"))
    ):
        fmt = _json_format(start)
    else:
        fmt = "lastfm-csv" if lastfm_csv.looks_like(start) else "csv"
    return fmt


def _json_format(start: str) -> str:
    """A JSON document or JSON lines: a Maloja export, a Trakt history, or listens and plays."""
    if _MALOJA.search(start) or (start.startswith("{") and '"scrobbles"' in start):
        return "maloja"
    if start.startswith("[") and '"watched_at"' in start and _TRAKT_KIND.search(start):
        return "trakt"
    return "jsonl"


_READERS: dict[str, Callable[[Path, Reading], Iterator[Record]]] = {
    "lastfm-csv": lastfm_csv.read,
    "listenbrainz": listenbrainz.read,
    "rockbox": rockbox.read,
    "trakt": trakt.read,
    "maloja": maloja.read,
}


def read(path: Path, fmt: str, reading: Reading) -> Generator[Record, None, None]:
    """The records of ``path`` in ``fmt``, in file order (feedback after the plays).

    Raises ``UnreadableFile`` (on the first ``next``) when the file cannot be imported at all.
    """
    reader = _READERS.get(fmt)
    if reader is not None:
        yield from reader(path, reading)
        return
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown format {fmt!r}")
    with open_text(path) as stream:
        reading.follow_file(stream)
        yield from imports.read_records(stream, fmt, reading.timezone)
