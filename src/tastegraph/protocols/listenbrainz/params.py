"""Query parameters read as ListenBrainz reads them, with its 400 messages.

They are read by hand rather than declared to FastAPI so that a bad value gets ListenBrainz's
wording ("Invalid count argument: x") instead of a generic validation error.
"""

from __future__ import annotations

from fastapi import Request

from tastegraph.protocols.listenbrainz.errors import bad_request

DEFAULT_ITEMS_PER_GET = 25
MAX_ITEMS_PER_GET = 1000


def optional_int(request: Request, name: str, *, what: str = "") -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        label = f"{name} {what}".strip()
        raise bad_request(f"Invalid {label} argument: {value}") from None


def count(request: Request, *, default: int = DEFAULT_ITEMS_PER_GET) -> int:
    """``count``: positive, and above the maximum it is capped, not refused."""
    value = optional_int(request, "count")
    if value is None:
        return default
    if value <= 0:
        raise bad_request("Number of items requested should be positive.")
    return min(value, MAX_ITEMS_PER_GET)


def offset(request: Request) -> int:
    value = optional_int(request, "offset") or 0
    if value < 0:
        raise bad_request("Offset should be a non-negative integer.")
    return value


def flag(request: Request, name: str) -> bool:
    """A boolean as liblistenbrainz sends it (Python's ``True``/``False``), in any case."""
    return (request.query_params.get(name) or "").strip().lower() in {"true", "1", "yes"}
