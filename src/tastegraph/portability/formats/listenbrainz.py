"""ListenBrainz: listens as JSON, JSONL or an API payload, and the user export zip.

The export zip (Settings → Export) holds ``user.json``, the listens as JSONL files in
``listens/<year>/<month>.jsonl``, ``feedback.jsonl`` (loves and hates, keyed by MessyBrainz
and MusicBrainz recording ids) and ``pinned_recording.jsonl``. Listens are read in the order of
their files; feedback comes last, once the items it points at have been played.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, TextIO

from tastegraph.portability.formats.base import (
    FeedbackRow,
    Reading,
    Record,
    Row,
    UnreadableFile,
    epoch,
    json_lines,
    open_text,
    positive_seconds,
    text,
    track_number,
    valid_ids,
)

SENTIMENT_OF_SCORE = {1: "love", -1: "hate"}
"""ListenBrainz feedback scores: 1 is a love, -1 a hate (0 means the feedback was removed)."""

_NOT_LISTENS = frozenset({"feedback.jsonl", "pinned_recording.jsonl", "user.json"})
_MAX_ARTISTS = 20
_CLIENT_LENGTH = 128


# -- one listen -------------------------------------------------------------------------------


def listen_to_play(listen: dict[str, Any]) -> dict[str, Any]:
    """A ListenBrainz listen (``listened_at`` and ``track_metadata``) as a play.

    Required fields are passed on as they are, so validation reports what is wrong with them
    as it would for the API; optional ones that cannot be read are left out.
    """
    meta = listen.get("track_metadata")
    if not isinstance(meta, dict):
        raise ValueError("a ListenBrainz listen needs track_metadata, an object")
    info = meta.get("additional_info")
    info = info if isinstance(info, dict) else {}  # Ampache sends [] for an empty object
    play: dict[str, Any] = {"item": _track(meta, info)}
    if listen.get("listened_at") is not None:
        # The export writes seconds as 1714587300.0 (PostgreSQL's extract(epoch ...)).
        play["played_at"] = epoch(listen["listened_at"])
    played = positive_seconds(info.get("duration_played"))
    if played:
        play["duration_played"] = played
    client = text(info.get("submission_client")) or text(info.get("media_player"))
    if client:
        play["client"] = client[:_CLIENT_LENGTH]
    return play


def _track(meta: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": "track"}
    if meta.get("track_name") is not None:
        item["title"] = meta["track_name"]
    names = _artist_names(info)
    if names:
        item["artist"] = names
    elif meta.get("artist_name") is not None:
        item["artist"] = meta["artist_name"]
    album = meta.get("release_name")
    if isinstance(album, str):
        album = album.strip() or None  # LB drops an empty release_name
    if album is not None:
        item["album"] = album
        album_artist = _album_artist(meta, info, names)
        if album_artist:
            item["album_artist"] = album_artist
    number = track_number(info.get("tracknumber", info.get("track_number")))
    if number is not None:
        item["track_number"] = number
    ids = valid_ids({"musicbrainz": info.get("recording_mbid"), "isrc": info.get("isrc")})
    if ids:
        item["ids"] = ids
    duration = positive_seconds(info.get("duration_ms"), 1000) or positive_seconds(
        info.get("duration")
    )
    if duration:
        item["duration"] = duration
    return item


def _artist_names(info: dict[str, Any]) -> list[str] | None:
    """The separate artists, where the listen lists them (Spotify listens, our own export).

    ``artist_name`` is a display string ("Daft Punk, Pharrell Williams") that the catalogue
    keeps as one act; the list says they are two.
    """
    names = info.get("artist_names")
    if not isinstance(names, list) or not 2 <= len(names) <= _MAX_ARTISTS:
        return None
    clean = [text(name) for name in names]
    if any(name is None for name in clean):
        return None
    return [name for name in clean if name is not None]


def _album_artist(
    meta: dict[str, Any], info: dict[str, Any], names: list[str] | None
) -> str | None:
    """The album's artist when it differs from the track's ("Various Artists").

    An album by several artists cannot be named in one string without creating an artist
    called "A, B", so it is left to default to the track's artists.
    """
    several = info.get("release_artist_names")
    if isinstance(several, list) and len(several) > 1:
        return None
    candidate = text(info.get("release_artist_name"))
    if candidate is None:
        return None
    same = {str(meta.get("artist_name", "")).strip().casefold()}
    if names:
        same.add(", ".join(names).casefold())
    return None if candidate.casefold() in same else candidate


# -- files ------------------------------------------------------------------------------------


@dataclass
class _Index:
    """What each recording id of the listens names, so feedback can find its track."""

    by_msid: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_mbid: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, listen: dict[str, Any], item: dict[str, Any]) -> None:
        meta = listen.get("track_metadata")
        meta = meta if isinstance(meta, dict) else {}
        info = meta.get("additional_info")
        info = info if isinstance(info, dict) else {}
        mapping = meta.get("mbid_mapping")
        mapping = mapping if isinstance(mapping, dict) else {}
        for msid in (
            meta.get("recording_msid"),
            listen.get("recording_msid"),
            info.get("recording_msid"),
        ):
            if text(msid):
                self.by_msid.setdefault(str(msid).strip().lower(), item)
        for mbid in (info.get("recording_mbid"), mapping.get("recording_mbid")):
            canonical = valid_ids({"musicbrainz": mbid}).get("musicbrainz")
            if canonical:
                self.by_mbid.setdefault(canonical, item)


def read(path: Path, reading: Reading) -> Iterator[Record]:
    """The listens (and, in an export zip, the feedback) of a ListenBrainz file."""
    with path.open("rb") as probe:
        magic = probe.read(4)
    if magic == b"PK\x03\x04" or path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        yield from _read_zip(path, reading)
        return
    with open_text(path) as stream:
        reading.follow_file(stream)
        yield from _listen_rows(stream, reading, None, None, whole_file=True)


def _listen_rows(
    stream: TextIO, reading: Reading, file: str | None, index: _Index | None, *, whole_file: bool
) -> Iterator[Row]:
    for number, value, error, unit in _values(stream, reading if whole_file else None):
        if error is not None:
            yield Row(number, None, error, file=file, unit=unit)
            continue
        if not isinstance(value, dict):
            yield Row(number, None, "each listen must be a JSON object", file=file, unit=unit)
            continue
        try:
            play = listen_to_play(value)
        except ValueError as exc:
            yield Row(number, None, str(exc), file=file, unit=unit)
            continue
        if index is not None:
            index.add(value, play["item"])
        yield Row(number, play, file=file, unit=unit)


def _values(stream: TextIO, reading: Reading | None) -> Iterator[tuple[int, Any, str | None, str]]:
    """(position, value, error, unit) for each listen of JSONL, a JSON array or an API payload.

    The first line decides: an object on its own line starts JSONL; anything else is read as
    one document. ``reading`` (for a whole file) switches progress to records for a document.
    """
    line = 0  # the number of the first non-blank line
    first = ""
    for first in stream:
        line += 1
        if first.strip():
            break
    else:
        return
    head = first.strip().lstrip("\ufeff")
    try:
        value: Any = json.loads(head)
        one_line = isinstance(value, dict) and "payload" not in value
    except (json.JSONDecodeError, RecursionError):
        one_line = False
    if one_line:
        yield line, value, None, "line"
        for number, parsed, error in json_lines(stream):
            yield line + number, parsed, error, "line"
        return
    whole = first + stream.read()
    try:
        document = json.loads(whole.lstrip("\ufeff"))
    except (json.JSONDecodeError, RecursionError):
        # Not one document: JSONL whose first line is broken. Report it and read on.
        offset = line - 1
        for number, parsed, error in json_lines(io.StringIO(whole)):
            yield offset + number, parsed, error, "line"
        return
    listens = _listens_of(document)
    if reading is not None:
        reading.count_records(len(listens))
    for number, listen in enumerate(listens, start=1):
        if reading is not None:
            reading.done = number
        yield number, listen, None, "record"


def _listens_of(document: Any) -> list[Any]:
    """The listens of a parsed document: an array, ``{"payload": {"listens": [...]}}``
    (what GET /1/user/<name>/listens answers), or a single listen."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        payload = document.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("listens"), list):
            return list(payload["listens"])
        if isinstance(payload, list):
            return payload  # a submit-listens body
        if "track_metadata" in document:
            return [document]
    raise UnreadableFile(
        "a ListenBrainz file holds listens: JSONL, a JSON array, or an API response with "
        "payload.listens"
    )


# -- the export zip ---------------------------------------------------------------------------


class _Progress:
    """Bytes read across the members of an archive: those done, plus the current one's."""

    def __init__(self) -> None:
        self.done = 0
        self.current: IO[bytes] | None = None

    def __call__(self) -> int:
        return self.done + (self.current.tell() if self.current is not None else 0)


def _read_zip(path: Path, reading: Reading) -> Iterator[Record]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile(f"not a readable zip archive ({exc})") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        listens = sorted((m for m in members if _holds_listens(m.filename)), key=_natural)
        feedback = [
            m for m in members if _name(m.filename) == "feedback.jsonl" and not _hidden(m.filename)
        ]
        if not listens and not feedback:
            raise UnreadableFile(
                "the archive holds no listens: a ListenBrainz export has listens/<year>/"
                "<month>.jsonl files"
            )
        read = {id(m) for m in [*listens, *feedback]}
        ignored = [m.filename for m in members if id(m) not in read]
        if ignored:
            shown = ", ".join(ignored[:5]) + (", ..." if len(ignored) > 5 else "")
            reading.notes.append(f"ignored {len(ignored)} other files in the archive: {shown}")
        progress = _Progress()
        reading.follow(sum(m.file_size for m in [*listens, *feedback]), progress)
        # Feedback names recordings by id; only the listens say which tracks those are.
        index = _Index() if feedback else None
        for member in listens:
            yield from _member(
                archive,
                member,
                progress,
                lambda stream, name: _listen_rows(stream, reading, name, index, whole_file=False),
            )
        for member in feedback:
            yield from _member(
                archive,
                member,
                progress,
                lambda stream, name: _feedback_rows(stream, name, index, reading),
            )


def _member(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    progress: _Progress,
    rows: Callable[[TextIO, str], Iterator[Record]],
) -> Iterator[Record]:
    """The rows of one member; a damaged member is reported where it breaks, not fatal."""
    last = 0
    try:
        with archive.open(member) as raw:
            progress.current = raw
            stream = io.TextIOWrapper(
                raw, encoding="utf-8-sig", errors="surrogateescape", newline=""
            )
            with stream:
                for row in rows(stream, member.filename):
                    last = row.line
                    yield row
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, UnreadableFile) as exc:
        # RuntimeError: an encrypted member; UnreadableFile: a member that holds no listens.
        yield Row(
            last + 1,
            None,
            f"this archive member cannot be read from here on: {exc}",
            file=member.filename,
        )
    finally:
        progress.current = None
        progress.done += member.file_size


def _feedback_rows(
    stream: TextIO, file: str, index: _Index | None, reading: Reading
) -> Iterator[FeedbackRow]:
    index = index or _Index()
    for number, value, error in json_lines(stream):
        if error is not None:
            yield FeedbackRow(number, "love", error=error, file=file)
            continue
        if not isinstance(value, dict):
            yield FeedbackRow(
                number, "love", error="each feedback line must be a JSON object", file=file
            )
            continue
        score = value.get("score")
        if score == 0 and not isinstance(score, bool):
            reading.skipped["ListenBrainz feedback with score 0 (removed)"] += 1
            continue
        sentiment = (
            SENTIMENT_OF_SCORE.get(score)
            if isinstance(score, int) and not isinstance(score, bool)
            else None
        )
        if sentiment is None:
            yield FeedbackRow(
                number,
                "love",
                error=f"score must be 1 (love) or -1 (hate), not {score!r}",
                file=file,
            )
            continue
        msid = text(value.get("recording_msid"))
        mbid = valid_ids({"musicbrainz": value.get("recording_mbid")}).get("musicbrainz")
        item = (index.by_msid.get(msid.lower()) if msid else None) or (
            index.by_mbid.get(mbid) if mbid else None
        )
        if item is not None:
            yield FeedbackRow(number, sentiment, item=item, file=file)
        elif mbid is not None:
            yield FeedbackRow(number, sentiment, mbid=mbid, file=file)
        else:
            yield FeedbackRow(
                number,
                sentiment,
                error=f"no listen in this export is recording {msid or '(no id)'}, and the "
                "feedback has no MusicBrainz id to look up",
                file=file,
            )


def _name(member: str) -> str:
    return PurePosixPath(member).name.lower()


def _hidden(member: str) -> bool:
    """macOS adds __MACOSX/ and ._ files when it zips; they are not listens."""
    parts = PurePosixPath(member).parts
    return any(part == "__MACOSX" or part.startswith(".") for part in parts)


def _holds_listens(member: str) -> bool:
    name = _name(member)
    return name.endswith((".jsonl", ".json")) and name not in _NOT_LISTENS and not _hidden(member)


def _natural(member: zipfile.ZipInfo) -> list[Any]:
    """listens/2024/2.jsonl before listens/2024/10.jsonl."""
    parts = re.split(r"(\d+)", member.filename)
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts]
