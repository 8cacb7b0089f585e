"""Reading JSON bodies by hand, for endpoints that report on each item of a batch.

FastAPI's own validation rejects a whole body for one bad item; batch endpoints instead read
the JSON here and validate each item on its own.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

import orjson
from fastapi import Request

from tastegraph.ingest.errors import MalformedBody, PayloadTooLarge

BodyTooLarge = PayloadTooLarge


async def read_json(request: Request, max_bytes: int) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(f"The body may be at most {max_bytes} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"The body may be at most {max_bytes} bytes.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise MalformedBody("The body is empty; send a JSON document.")
    if raw.translate(_DIGITS).find(_LONG_NUMBER) < 0:
        # orjson reads well-formed UTF-8 JSON the way json does, only faster; everything
        # else (broken bytes, escaped lone surrogates, NaN, deep nesting) is left to json.
        with suppress(orjson.JSONDecodeError):
            return orjson.loads(raw)
    # Undecodable bytes become lone surrogates, which per-item validation then reports,
    # so one play with broken bytes does not cost the rest of the batch.
    text = raw.decode("utf-8", errors="surrogateescape")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}.") from None


_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
"""Every digit as "0", everything else as a space: runs of digits stand out."""
_LONG_NUMBER = b"0" * 19
"""Digits enough for an integer beyond 64 bits, which orjson reads as a float and json exactly."""
