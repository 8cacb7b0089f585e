"""Per-play validation of raw submissions: the good ones go on, each bad one is reported."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from tastegraph.ingest.schemas import PlayIn, PlayProblem, PlayResult, PlayStatus
from tastegraph.ingest.services import Submission

_PLAY = TypeAdapter(PlayIn)
MAX_RAW_PLAY_BYTES = 10_240

_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "string_too_short": "empty",
    "too_short": "empty",
    "timezone_aware": "timestamp_without_offset",
    "datetime_parsing": "invalid_timestamp",
    "datetime_from_date_parsing": "invalid_timestamp",
    "datetime_type": "invalid_timestamp",
    "union_tag_invalid": "unknown_kind",
    "union_tag_not_found": "missing_kind",
}


def problems_from(error: ValidationError) -> list[PlayProblem]:
    out = []
    for detail in error.errors(include_url=False, include_input=False):
        loc = ".".join(str(part) for part in detail["loc"]) or None
        kind = detail["type"]
        code = _CODES.get(kind)
        if code is None:
            code = "invalid_unicode" if "Unicode" in detail["msg"] else "invalid_value"
        out.append(PlayProblem(code=code, field=loc, message=detail["msg"]))
    return out


def validate_plays(raw_items: list[Any]) -> tuple[list[Submission], list[PlayResult]]:
    """Split raw JSON items into valid submissions and rejections, keeping their indexes."""
    valid: list[Submission] = []
    rejected: list[PlayResult] = []
    for index, raw in enumerate(raw_items):
        try:
            encoded = orjson.dumps(raw).decode()
        except (TypeError, orjson.JSONEncodeError):
            # Lone surrogates cannot be encoded, so nothing of this play can be stored.
            encoded = None
        problem = _raw_problem(encoded)
        if problem is not None:
            rejected.append(PlayResult(index=index, status=PlayStatus.REJECTED, errors=[problem]))
            continue
        try:
            play = _PLAY.validate_python(raw)
        except ValidationError as exc:
            rejected.append(
                PlayResult(index=index, status=PlayStatus.REJECTED, errors=problems_from(exc))
            )
            continue
        valid.append(Submission(index=index, play=play, raw=encoded))
    return valid, rejected


def _raw_problem(encoded: str | None) -> PlayProblem | None:
    if encoded is None:
        return PlayProblem(
            code="invalid_unicode",
            message="The play contains invalid Unicode (a lone surrogate or undecodable bytes).",
        )
    if "\\u0000" in encoded:
        return PlayProblem(code="invalid_value", message="The play contains a NUL character.")
    if len(encoded) > MAX_RAW_PLAY_BYTES:
        return PlayProblem(
            code="play_too_large",
            message=f"A play may take at most {MAX_RAW_PLAY_BYTES} bytes of JSON.",
        )
    return None
