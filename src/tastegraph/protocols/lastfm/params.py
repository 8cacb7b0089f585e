"""Request parameters: query string and form body merged, looked up without regard to case.

pylast puts ``username`` in the query string of a POST and everything else in the body, and
signs them together; Strawberry sends ``format=json`` in the body. So both are merged (the
body wins a clash) and every lookup ignores case: the Last.fm doc calls its parameter names
case-sensitive, but clients disagree on ``streamId``/``streamID`` and GNU FM lower-cases all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from fastapi import Request

from tastegraph.protocols.lastfm.errors import invalid, missing

_SECRET = frozenset({"sk", "api_sig", "password", "authtoken", "token"})

MAX_FIELDS = 2000
"""A full scrobble batch is 50 items of at most 11 fields, plus a few request fields."""


@dataclass
class Params:
    raw: dict[str, str] = field(default_factory=dict)
    """Names as sent: the signature is computed over these."""
    folded: dict[str, str] = field(default_factory=dict)
    """Lower-cased names, for lookups."""

    @classmethod
    def of(cls, pairs: Iterator[tuple[str, str]] | list[tuple[str, str]]) -> Params:
        params = cls()
        for name, value in pairs:
            params.raw[name] = value
            params.folded[name.lower()] = value
        return params

    def merged(self, other: Params) -> Params:
        """These parameters with ``other``'s on top."""
        return Params.of([*self.raw.items(), *other.raw.items()])

    def get(self, name: str) -> str | None:
        return self.folded.get(name.lower())

    def text(self, name: str) -> str | None:
        """The value without surrounding spaces; None when absent or blank."""
        value = self.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def require(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise missing(name)
        return value

    def flag(self, name: str) -> bool:
        return (self.text(name) or "").lower() in {"1", "true", "yes"}

    def number(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        """A lenient integer: pylast sends ``limit=None`` when it has no limit, so anything
        that is not a number means the default; numbers are clamped into range."""
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            return default
        return max(minimum, min(maximum, number))

    def limit(self, default: int = 50, maximum: int = 1000) -> int:
        return self.number("limit", default, minimum=1, maximum=maximum)

    def page(self) -> int:
        return self.number("page", 1, minimum=1, maximum=1_000_000)

    def timestamp(self, name: str) -> int | None:
        """UNIX seconds, or None when absent; a value that is not a number is an error."""
        value = self.text(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise invalid(f"Invalid parameters - {name} must be UNIX seconds") from None

    def public(self) -> dict[str, str]:
        """The parameters without secrets, as kept with a stored play."""
        return {k: v for k, v in self.raw.items() if k.lower() not in _SECRET}


def parse_form(data: bytes | str) -> Params:
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="replace",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:
        raise invalid(
            f"Invalid parameters - a request may carry at most {MAX_FIELDS} parameters"
        ) from None
    return Params.of(pairs)


async def read_params(request: Request, max_bytes: int) -> Params:
    """The query string, with the body of a POST merged on top."""
    # The raw query: starlette decodes it already, but as latin-1 for odd bytes.
    query = parse_form(request.scope.get("query_string", b""))
    if request.method != "POST":
        return query
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise invalid(f"Invalid parameters - the body may be at most {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise invalid(f"Invalid parameters - the body may be at most {max_bytes} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        # Rare, but some HTTP libraries default to it for form posts.
        request._body = body  # starlette parses the form from its cached body
        form = await request.form(max_fields=MAX_FIELDS)
        values = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        return query.merged(Params.of(values))
    return query.merged(parse_form(body))
