"""Routes of the Audioscrobbler 1.2 adapter (to be built).

The handshake is served at the root (``/?hs=true&...``), as post.audioscrobbler.com did: the
front page hands such requests to ``handshake``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

router = APIRouter(include_in_schema=False)


def handshake(request: Request) -> Response:
    return PlainTextResponse("FAILED not implemented yet\n")
