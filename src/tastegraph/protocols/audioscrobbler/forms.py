"""Reading the form fields of Audioscrobbler requests as real clients send them.

* Bodies are ``application/x-www-form-urlencoded`` (some clients omit the content type, a few
  send multipart); fields of the query string count too, the body's winning.
* Brackets arrive literal (``a[0]``, as mpdscribble writes them) or percent-encoded
  (``a%5B0%5D``); both name the same field once decoded.
* Keys repeat: mpdscribble sends ``r[0]=`` and then ``r[0]=L`` for a loved track. The last
  non-empty value wins, and an empty one only stands when nothing else was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.exceptions import HTTPException

MAX_BODY_BYTES = 1 << 20
"""50 tracks of nine fields, every one 512 characters percent-encoded, stay well below this."""
MAX_FIELDS = 2000

_INDEXED = re.compile(r"^([a-z])\[(\d{1,4})\]$")


class UnreadableForm(Exception):
    """The body is too large or not a form; the client is told FAILED."""


def merge(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Fields by name; of repeated keys the last non-empty value wins."""
    fields: dict[str, str] = {}
    for key, value in pairs:
        if value or key not in fields:
            fields[key] = value
    return fields


def parse(text: str) -> list[tuple[str, str]]:
    """Decode ``a=1&b[0]=x`` into pairs, keeping empty values.

    Escaped bytes that are not UTF-8 become lone surrogates instead of failing the request;
    the text checks of the catalogue then refuse the one field that carries them.
    """
    try:
        return parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="surrogateescape",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as exc:  # more than MAX_FIELDS fields
        raise UnreadableForm("Too many fields") from exc


def query_fields(request: Request) -> dict[str, str]:
    return merge(parse(request.url.query))


async def request_fields(request: Request) -> dict[str, str]:
    """The query string's fields overlaid with the body's."""
    pairs = parse(request.url.query)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=0, max_fields=MAX_FIELDS)
        except HTTPException as exc:  # Starlette's answer to a broken multipart body
            raise UnreadableForm("Unreadable multipart body") from exc
        pairs += [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
        return merge(pairs)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise UnreadableForm("Request body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise UnreadableForm("Request body too large")
    pairs += parse(bytes(body).decode("utf-8", errors="surrogateescape"))
    return merge(pairs)


def indexed(fields: dict[str, str]) -> dict[int, dict[str, str]]:
    """``a[0]``, ``t[0]``, ``a[1]``... grouped by index: {0: {"a": ..., "t": ...}, 1: ...}."""
    items: dict[int, dict[str, str]] = {}
    for key, value in fields.items():
        match = _INDEXED.match(key)
        if match is not None:
            items.setdefault(int(match.group(2)), {})[match.group(1)] = value
    return dict(sorted(items.items()))
