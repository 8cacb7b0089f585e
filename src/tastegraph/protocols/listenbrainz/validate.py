"""``POST /1/submit-listens`` validation: the limits and rules of ListenBrainz (reference §4.3),
so that clients get the answers they get from ListenBrainz, plus the tolerance real clients
need (``additional_info: []``, ``release_name: null``).

``parse_envelope`` checks the request as a whole (any failure is a 400 for all of it);
``clean_listen`` checks one listen and returns it normalised: names stripped, durations as
integers, empty MBIDs dropped, MBIDs in canonical form, unknown ``additional_info`` keys kept.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from tastegraph.protocols.listenbrainz.errors import ListenBrainzError, bad_request

MAX_LISTEN_PAYLOAD_SIZE = 10_240_000
MAX_LISTENS_PER_REQUEST = 1000
MAX_LISTEN_SIZE = 10_240
"""Bytes per listen, checked on average over the request (as ListenBrainz does)."""
MAX_TAGS_PER_LISTEN = 50
MAX_TAG_SIZE = 64
LISTEN_MINIMUM_TS = 1_033_430_400
"""2002-10-01 00:00 UTC: nothing was scrobbled before Audioscrobbler existed."""
MAX_DURATION_SECONDS = 2_073_600
"""24 days."""
MBID_KEYS = ("release_mbid", "recording_mbid", "release_group_mbid", "track_mbid")
MBID_LIST_KEYS = ("artist_mbids", "work_mbids")
MAX_DEPTH = 32
"""How deeply a listen may nest. Real ones go four levels deep (the listen, its track_metadata,
additional_info, a list of tags); a limit keeps hostile nesting away from the JSON encoder."""


class ListenType(StrEnum):
    SINGLE = "single"
    PLAYING_NOW = "playing_now"
    IMPORT = "import"


@dataclass(frozen=True)
class Envelope:
    listen_type: ListenType
    listens: list[Any]
    """The raw listens, each still to be checked by ``clean_listen``."""


class InvalidListen(ValueError):
    """One listen breaks a rule; the message is what the client is told."""


def too_large(limit: int) -> ListenBrainzError:
    return bad_request(f"Payload too large. The body may be at most {limit} bytes.")


def parse_envelope(raw: bytes) -> Envelope:
    """The listen type and raw listens of a request body, whatever its Content-Type."""
    if len(raw) > MAX_LISTEN_PAYLOAD_SIZE:
        raise too_large(MAX_LISTEN_PAYLOAD_SIZE)
    try:
        # orjson is strict where ListenBrainz is (no trailing commas, no NaN, valid UTF-8).
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"Cannot parse JSON document: {exc}") from None
    if not isinstance(data, dict) or "payload" not in data or "listen_type" not in data:
        raise bad_request("Invalid JSON document submitted.")
    try:
        listen_type = ListenType(data["listen_type"])
    except (ValueError, TypeError):
        raise bad_request(
            "JSON document has an invalid listen_type; use single, playing_now or import."
        ) from None
    payload = data["payload"]
    if not isinstance(payload, list):
        raise bad_request("The payload in the JSON document should be a list of listens.")
    if not payload:
        raise bad_request("JSON document does not contain any listens.")
    if len(payload) > MAX_LISTENS_PER_REQUEST:
        raise bad_request(
            f"Too many listens. You may not submit more than {MAX_LISTENS_PER_REQUEST} "
            "listens at once."
        )
    if len(raw) > len(payload) * MAX_LISTEN_SIZE:
        raise bad_request(
            "JSON document is too large. Each listen may not be larger than "
            f"{MAX_LISTEN_SIZE} bytes."
        )
    if listen_type is not ListenType.IMPORT and len(payload) != 1:
        raise bad_request(f"JSON document should contain only one listen for {listen_type}.")
    return Envelope(listen_type=listen_type, listens=payload)


def clean_listen(
    listen: Any, listen_type: ListenType, *, now: float, future_skew: int = 3600
) -> dict[str, Any]:
    """One listen checked and normalised, or ``InvalidListen``."""
    if not isinstance(listen, dict):
        raise InvalidListen("Each listen must be a JSON object.")
    has_nul, depth = _scan(listen)
    if has_nul:
        raise InvalidListen("The listen contains a NUL (\\u0000) character.")
    if depth > MAX_DEPTH:
        raise InvalidListen(f"The listen nests more than {MAX_DEPTH} levels deep.")
    out: dict[str, Any] = {}
    if listen_type is ListenType.PLAYING_NOW:
        # A null listened_at says nothing; some players send one with playing_now.
        if listen.get("listened_at") is not None:
            raise InvalidListen("JSON document should not contain listened_at for playing_now.")
        extra = set(listen) - {"track_metadata", "listened_at"}
        if extra:
            raise InvalidListen("A playing_now listen may only contain the key track_metadata.")
    else:
        out["listened_at"] = _listened_at(listen, now=now, future_skew=future_skew)
        if set(listen) - {"listened_at", "track_metadata"}:
            raise InvalidListen(
                "JSON document may only contain listened_at and track_metadata top level keys."
            )
    out["track_metadata"] = clean_track_metadata(listen.get("track_metadata"))
    return out


def _listened_at(listen: dict[str, Any], *, now: float, future_skew: int) -> int:
    if "listened_at" not in listen:
        raise InvalidListen("JSON document must contain the key listened_at at the top level.")
    value = listen["listened_at"]
    try:
        # int() as ListenBrainz does: numeric strings and floats are accepted.
        if isinstance(value, bool):
            raise TypeError
        timestamp = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidListen(
            f"JSON document must contain an integer value for listened_at, not {value!r}."
        ) from None
    if timestamp < LISTEN_MINIMUM_TS:
        raise InvalidListen(
            "Value for key listened_at is too low. listened_at timestamp should be greater "
            f"than {LISTEN_MINIMUM_TS} (2002-10-01 00:00:00 UTC)."
        )
    if timestamp >= now + future_skew:
        raise InvalidListen(
            "Value for key listened_at is too high. It may be at most "
            f"{future_skew} seconds in the future."
        )
    return timestamp


def clean_track_metadata(metadata: Any) -> dict[str, Any]:
    if metadata is None:
        raise InvalidListen("JSON document does not contain track_metadata.")
    if not isinstance(metadata, dict):
        raise InvalidListen("track_metadata must be a JSON object.")
    out: dict[str, Any] = {}
    for key in ("artist_name", "track_name"):
        value = metadata.get(key)
        if not isinstance(value, str):
            raise InvalidListen(f"track_metadata.{key} must be a single string.")
        if not value.strip():
            raise InvalidListen(f"track_metadata.{key} must not be empty.")
        out[key] = value.strip()
    release = metadata.get("release_name")
    # null is treated as absent (ListenBrainz rejects it, but ytmdesktop sends it).
    if release is not None:
        if not isinstance(release, str):
            raise InvalidListen("track_metadata.release_name must be a single string.")
        if release.strip():
            out["release_name"] = release.strip()
    info = metadata.get("additional_info")
    if info is None or info == []:
        # Ampache sends PHP's empty array, [], for an empty object.
        info = {}
    if not isinstance(info, dict):
        raise InvalidListen("track_metadata.additional_info must be a JSON object.")
    # Other keys ListenBrainz leaves alone (mbid_mapping, say) are kept too.
    out |= {k: v for k, v in metadata.items() if k not in out and k != "release_name"}
    out["additional_info"] = clean_additional_info(info)
    return out


def clean_additional_info(info: dict[str, Any]) -> dict[str, Any]:
    out = dict(info)  # unknown keys are kept as they came
    if out.get("tags") is None:
        out.pop("tags", None)
    else:
        out["tags"] = _tags(out["tags"])
    _clean_durations(out)
    _clean_mbids(out)
    return out


def _clean_durations(info: dict[str, Any]) -> None:
    if info.get("duration") is not None and info.get("duration_ms") is not None:
        raise InvalidListen("JSON document should not contain both duration and duration_ms.")
    for key, limit in (
        ("duration", MAX_DURATION_SECONDS),
        ("duration_ms", MAX_DURATION_SECONDS * 1000),
    ):
        if key in info:
            if info[key] is None:
                del info[key]
            else:
                info[key] = _duration(key, info[key], limit)


def _clean_mbids(info: dict[str, Any]) -> None:
    """Null and "" MBIDs are dropped (players send them for "unknown"); the rest must parse."""
    for key in MBID_KEYS:
        value = info.get(key)
        if value is None or value == "":
            info.pop(key, None)
        else:
            info[key] = _mbid(key, value)
    for key in MBID_LIST_KEYS:
        values = info.get(key)
        if values is None or values == []:
            info.pop(key, None)
            continue
        if not isinstance(values, list):
            raise InvalidListen(f"additional_info.{key} must be a list of MBIDs.")
        mbids = [_mbid(key, v) for v in values if v is not None and v != ""]
        if mbids:
            info[key] = mbids
        else:
            del info[key]


def _tags(tags: Any) -> list[str]:
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidListen("additional_info.tags must be a list of strings.")
    if len(tags) > MAX_TAGS_PER_LISTEN:
        raise InvalidListen(
            f"JSON document may not contain more than {MAX_TAGS_PER_LISTEN} tags per listen."
        )
    for tag in tags:
        if len(tag) > MAX_TAG_SIZE:
            raise InvalidListen(
                f"JSON document may not contain tags longer than {MAX_TAG_SIZE} characters."
            )
    return tags


def _duration(key: str, value: Any, limit: int) -> int:
    number = as_number(value)
    if number is None or int(number) <= 0:
        raise InvalidListen(f"Value for {key} is invalid, it should be a positive integer.")
    if int(number) > limit:
        raise InvalidListen(f"Value for {key} is too large, the most permitted is {limit}.")
    return int(number)


def as_number(value: Any) -> float | None:
    """``float(value)`` for numbers and numeric strings; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _mbid(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidListen(f"additional_info.{key} must contain MBIDs as strings.")
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise InvalidListen(f"additional_info.{key} contains an invalid MBID: {value!r}.") from None


def contains_nul(value: Any) -> bool:
    """Whether a NUL character hides anywhere in a JSON value: strings, keys, list items."""
    return _scan(value)[0]


def _scan(value: Any) -> tuple[bool, int]:
    """(whether a NUL hides in the value, how deeply it nests), walked without recursion so
    that a hostile nesting cannot exhaust the stack."""
    depth = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, level = pending.pop()
        depth = max(depth, level)
        if isinstance(node, str):
            if "\x00" in node:
                return True, depth
        elif isinstance(node, dict):
            for key, item in node.items():
                if "\x00" in key:
                    return True, depth
                pending.append((item, level + 1))
        elif isinstance(node, list):
            pending.extend((item, level + 1) for item in node)
    return False, depth
