"""Responses as Last.fm writes them: one element tree, serialised as XML or converted to JSON.

Handlers build ``El`` trees in the XML layout of the real service (element order matters to
pylast, which reads "the n-th <name> in the document"). JSON is derived from the same tree by
Last.fm's mechanical rules, so the two formats cannot drift apart:

* an element with children becomes an object; repeated children become an array, a single
  child an object (the famous quirk); its attributes go under ``"@attr"``;
* a leaf with attributes becomes ``{attr: value, ..., "#text": text}``;
* a leaf without attributes becomes its text;
* values are strings, except where Last.fm itself sends numbers: those are built as ``int``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson
from fastapi.responses import Response

Scalar = str | int


class Format(StrEnum):
    XML = "xml"
    JSON = "json"


@dataclass(slots=True)
class El:
    tag: str
    text: Scalar | None = None
    attrs: dict[str, Scalar] = field(default_factory=dict)
    children: list[El] = field(default_factory=list)
    items: str | None = None
    """For containers: the tag of their items, so JSON keeps ``"track": []`` when empty."""


def leaf(tag: str, text: Scalar | None = "", attrs: Mapping[str, Scalar] | None = None) -> El:
    return El(tag=tag, text="" if text is None else text, attrs=dict(attrs or {}))


def node(
    tag: str,
    children: Iterable[El] = (),
    attrs: Mapping[str, Scalar] | None = None,
    *,
    items: str | None = None,
) -> El:
    return El(tag=tag, attrs=dict(attrs or {}), children=list(children), items=items)


# -- XML --------------------------------------------------------------------------------------

_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(value: Scalar) -> str:
    return _INVALID_XML.sub("", str(value))


def _escape_text(value: Scalar) -> str:
    return _clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(value: Scalar) -> str:
    return _escape_text(value).replace('"', "&quot;").replace("'", "&apos;")


def _write(element: El, out: list[str]) -> None:
    out.append("<" + element.tag)
    for name, value in element.attrs.items():
        out.append(f' {name}="{_escape_attr(value)}"')
    out.append(">")
    if element.children:
        for child in element.children:
            _write(child, out)
    elif element.text is not None:
        out.append(_escape_text(element.text))
    # Always an explicit end tag, as Last.fm writes: some clients' parsers dislike <x/>.
    out.append(f"</{element.tag}>")


def to_xml(payload: Iterable[El]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<lfm status="ok">']
    for element in payload:
        _write(element, out)
    out.append("</lfm>\n")
    return "".join(out)


def error_xml(code: int, message: str) -> str:
    # The text must not be empty: pylast reads it and crashes on <error code="9"/>.
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<lfm status="failed">'
        f'<error code="{code}">{_escape_text(message) or "Error"}</error></lfm>\n'
    )


# -- JSON -------------------------------------------------------------------------------------


def _json_value(element: El) -> Any:
    if element.children or element.items is not None:
        groups: dict[str, list[Any]] = {}
        for child in element.children:
            groups.setdefault(child.tag, []).append(_json_value(child))
        obj: dict[str, Any] = {
            tag: vals[0] if len(vals) == 1 else vals for tag, vals in groups.items()
        }
        if element.items is not None and element.items not in obj:
            obj[element.items] = []
        attrs = {k: v for k, v in element.attrs.items() if not k.startswith("xmlns")}
        if attrs:
            obj["@attr"] = attrs
        return obj
    if element.attrs:
        # "#text" is always there, even empty: Strawberry requires it on scrobble fields.
        return {**element.attrs, "#text": "" if element.text is None else element.text}
    return "" if element.text is None else element.text


def to_json(payload: Iterable[El]) -> dict[str, Any]:
    return {element.tag: _json_value(element) for element in payload}


def dumps(document: Any) -> bytes:
    try:
        return orjson.dumps(document)
    except (TypeError, orjson.JSONEncodeError):
        # Text that orjson refuses (a lone surrogate) still goes out, escaped.
        return json.dumps(document, ensure_ascii=True).encode()


# -- responses --------------------------------------------------------------------------------

XML_TYPE = "text/xml; charset=UTF-8"
JSON_TYPE = "application/json; charset=UTF-8"
JSONP_TYPE = "application/javascript; charset=UTF-8"

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, Accept",
    "Access-Control-Max-Age": "86400",
}


def respond(
    payload: list[El],
    fmt: Format,
    *,
    callback: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if fmt is Format.JSON:
        return _json_response(to_json(payload), callback, status, headers)
    return _response(to_xml(payload).encode(), XML_TYPE, status, headers)


def respond_error(
    code: int,
    message: str,
    fmt: Format,
    *,
    callback: str | None = None,
    status: int = 400,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if fmt is Format.JSON:
        return _json_response({"error": code, "message": message}, callback, status, headers)
    return _response(error_xml(code, message).encode(), XML_TYPE, status, headers)


def _json_response(
    document: Any, callback: str | None, status: int, headers: Mapping[str, str] | None
) -> Response:
    body = dumps(document)
    if callback:
        # The name was checked to be a plain identifier path, so it cannot inject script.
        return _response(callback.encode() + b"(" + body + b");", JSONP_TYPE, status, headers)
    return _response(body, JSON_TYPE, status, headers)


def _response(
    body: bytes, media_type: str, status: int, headers: Mapping[str, str] | None
) -> Response:
    all_headers = {**CORS_HEADERS, "X-Content-Type-Options": "nosniff", **(headers or {})}
    return Response(body, status_code=status, media_type=media_type, headers=all_headers)
