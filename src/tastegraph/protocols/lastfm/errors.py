"""Last.fm error codes, their canonical messages and the HTTP status each is sent with.

Clients look at the body first (pylast parses it for every status but 500/502/503/504), so the
status mostly matters to generic HTTP tooling and to clients such as Strawberry that treat any
non-200 as a failure and 401/403 as "log out".
"""

from __future__ import annotations

from enum import IntEnum


class Code(IntEnum):
    INVALID_SERVICE = 2
    INVALID_METHOD = 3
    AUTHENTICATION_FAILED = 4
    INVALID_FORMAT = 5
    INVALID_PARAMETERS = 6
    INVALID_RESOURCE = 7
    OPERATION_FAILED = 8
    INVALID_SESSION = 9
    INVALID_API_KEY = 10
    SERVICE_OFFLINE = 11
    INVALID_SIGNATURE = 13
    TOKEN_NOT_AUTHORIZED = 14
    TOKEN_EXPIRED = 15
    TEMPORARILY_UNAVAILABLE = 16
    LOGIN_REQUIRED = 17
    API_KEY_SUSPENDED = 26
    DEPRECATED = 27
    RATE_LIMITED = 29


MESSAGES: dict[Code, str] = {
    Code.INVALID_SERVICE: "Invalid service - This service does not exist",
    Code.INVALID_METHOD: "Invalid Method - No method with that name in this package",
    Code.AUTHENTICATION_FAILED: "Authentication Failed - You do not have permissions to access "
    "the service",
    Code.INVALID_FORMAT: "Invalid format - This service doesn't exist in that format",
    Code.INVALID_PARAMETERS: "Invalid parameters - Your request is missing a required parameter",
    Code.INVALID_RESOURCE: "Invalid resource specified",
    Code.OPERATION_FAILED: "Operation failed - Most likely the backend service failed. "
    "Please try again.",
    Code.INVALID_SESSION: "Invalid session key - Please re-authenticate",
    Code.INVALID_API_KEY: "Invalid API key - You must be granted a valid key by last.fm",
    Code.SERVICE_OFFLINE: "Service Offline - This service is temporarily offline. Try again later.",
    Code.INVALID_SIGNATURE: "Invalid method signature supplied",
    Code.TOKEN_NOT_AUTHORIZED: "Unauthorized Token - This token has not been authorized",
    Code.TOKEN_EXPIRED: "This token has expired",
    Code.TEMPORARILY_UNAVAILABLE: "The service is temporarily unavailable, please try again.",
    Code.LOGIN_REQUIRED: "Login: User requires to be logged in",
    Code.API_KEY_SUSPENDED: "API Key Suspended - This application is not allowed to make "
    "requests to the web services",
    Code.DEPRECATED: "Deprecated - This type of request is no longer supported",
    Code.RATE_LIMITED: "Rate Limit Exceeded - Your IP has made too many requests in a short period",
}

_FORBIDDEN = frozenset(
    {
        Code.AUTHENTICATION_FAILED,
        Code.INVALID_SESSION,
        Code.INVALID_API_KEY,
        Code.INVALID_SIGNATURE,
        Code.TOKEN_NOT_AUTHORIZED,
        Code.TOKEN_EXPIRED,
        Code.LOGIN_REQUIRED,
        Code.API_KEY_SUSPENDED,
    }
)
_UNAVAILABLE = frozenset({Code.SERVICE_OFFLINE, Code.TEMPORARILY_UNAVAILABLE})


def http_status(code: Code) -> int:
    """The HTTP status Last.fm sends with an error code (recorded: 403 for 4, 400 for 6)."""
    if code in _FORBIDDEN:
        return 403
    if code in _UNAVAILABLE:
        return 503
    if code is Code.RATE_LIMITED:
        return 429
    if code is Code.OPERATION_FAILED:
        return 500
    return 400


class LastfmError(Exception):
    """Raised anywhere in the adapter; the router renders it as ``<error code="N">``.

    The message is never empty: pylast reads the error element's text and crashes on an
    empty one instead of raising its own ``WSError``.
    """

    def __init__(
        self, code: Code, message: str | None = None, *, retry_after: int | None = None
    ) -> None:
        self.code = code
        self.message = message or MESSAGES[code]
        self.retry_after = retry_after
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return http_status(self.code)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


def missing(name: str) -> LastfmError:
    return LastfmError(
        Code.INVALID_PARAMETERS,
        f"Invalid parameters - Your request is missing the required parameter {name!r}",
    )


def invalid(message: str) -> LastfmError:
    return LastfmError(Code.INVALID_PARAMETERS, message)
