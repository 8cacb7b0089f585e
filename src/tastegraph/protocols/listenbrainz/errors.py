"""ListenBrainz's error shape, ``{"code": <status>, "error": "<message>"}``, for every error
under ``/1/``: raised ones, the platform's own, and FastAPI's routing and validation errors.

liblistenbrainz raises ``ListenBrainzAPIException(status, message=body["error"])`` for any 4xx or
5xx, so the message is what its users see.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tastegraph.accounts.errors import NotAuthenticated
from tastegraph.errors import TastegraphError
from tastegraph.web.errors import status_for

_log = logging.getLogger(__name__)


class ListenBrainzError(Exception):
    """An answer in ListenBrainz's error shape; ``extra`` fields join ``code`` and ``error``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def bad_request(message: str, **extra: Any) -> ListenBrainzError:
    return ListenBrainzError(400, message, **extra)


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"code": status, "error": message, **extra}, status_code=status)


def response_for(exc: Exception, method: str, path: str) -> JSONResponse:
    """Render any exception an endpoint raised; unexpected ones are logged as bugs."""
    if isinstance(exc, ListenBrainzError):
        return error_response(exc.status, exc.message, **exc.extra)
    if isinstance(exc, NotAuthenticated):
        return error_response(401, "Invalid authorization token.")
    if isinstance(exc, TastegraphError):
        return error_response(status_for(exc), exc.detail)
    if isinstance(exc, RequestValidationError):
        return error_response(400, _validation_message(exc))
    if isinstance(exc, StarletteHTTPException):
        return error_response(exc.status_code, str(exc.detail))
    _log.exception("unhandled error on %s %s", method, path, exc_info=exc)
    return error_response(500, "An unknown error occurred on the server.")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "Invalid request: " + "; ".join(parts) if parts else "Invalid request."
