"""The plain-text replies of the Audioscrobbler 1.2 protocol.

Every reply is HTTP 200, whatever it says: mpdscribble treats any status of 400 or more as a
transport error and never reads the body, so a ``BADSESSION`` sent with 401 would never make it
shake hands again. Every line ends with ``\\n``, the last one too: mpdscribble reads a line only
up to a newline, and an unterminated submission URL counts as missing.
"""

from __future__ import annotations

from fastapi.responses import PlainTextResponse

OK = "OK"
BADAUTH = "BADAUTH"
BADTIME = "BADTIME"
BANNED = "BANNED"
BADSESSION = "BADSESSION"
FAILED = "FAILED"


def reply(*lines: str) -> PlainTextResponse:
    """A 200 text/plain reply of the given lines, each ending with a newline."""
    return PlainTextResponse("".join(f"{line}\n" for line in lines), status_code=200)


def failed(reason: str) -> PlainTextResponse:
    """``FAILED <reason>`` on one line: the client backs off and tries again later."""
    # A newline inside the reason would be read as the start of another line.
    return reply(f"{FAILED} {' '.join(reason.split())}")
