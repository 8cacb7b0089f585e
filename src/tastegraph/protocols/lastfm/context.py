"""One Last.fm call as the method handlers see it, and how methods are declared."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tastegraph.accounts.errors import UserNotFound
from tastegraph.accounts.models import User
from tastegraph.config import Settings
from tastegraph.protocols.lastfm.errors import Code, LastfmError, missing
from tastegraph.protocols.lastfm.params import Params
from tastegraph.protocols.lastfm.render import El
from tastegraph.protocols.models import LastfmApiKey
from tastegraph.runtime import Services


def user_not_found() -> LastfmError:
    # Last.fm answers an unknown user with 6 "User not found"; a hidden one looks the same.
    return LastfmError(Code.INVALID_PARAMETERS, "User not found")


@dataclass
class Call:
    params: Params
    svc: Services
    settings: Settings
    base_url: str
    now: datetime
    api_key: str | None = None
    key: LastfmApiKey | None = None
    """The registered key the call was made with; None for keys this server does not know."""
    user: User | None = None
    """The owner of the session key (``sk``), when one was sent."""

    @property
    def client(self) -> str:
        """How plays from this call are labelled: the registered key's name, else the key."""
        if self.key is not None:
            return f"lastfm:{self.key.name}"[:64]
        return f"lastfm:{self.api_key}"[:64] if self.api_key else "lastfm"

    def session_user(self) -> User:
        if self.user is None:
            raise missing("sk")
        return self.user

    def target_user(self, name: str = "user") -> User:
        """The user a read is about: the ``user`` parameter, or the session's own user.

        Users the caller may not see are reported as missing, as the native API does.
        """
        value = self.params.text(name)
        if value is None:
            if self.user is not None:
                return self.user
            raise missing(name)
        return self.visible_user(value)

    def visible_user(self, name: str) -> User:
        try:
            return self.svc.social.access_user_by_name(self.user, name)
        except UserNotFound:
            raise user_not_found() from None

    def optional_user(self, name: str = "username") -> User | None:
        """A user named for personal figures (userplaycount); absent or hidden means none."""
        value = self.params.text(name)
        if value is None:
            return None
        try:
            return self.svc.social.access_user_by_name(self.user, value)
        except UserNotFound:
            return None

    def url(self, path: str) -> str:
        return self.base_url + path

    def utcnow(self) -> datetime:
        return self.now.astimezone(UTC)


@dataclass(frozen=True)
class Paging:
    page: int
    limit: int
    total: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.limit) if self.total else 0

    def attrs(self, **extra: str) -> dict[str, str | int]:
        """The paging attributes every paged container carries (pylast needs totalPages)."""
        return {
            **extra,
            "page": str(self.page),
            "perPage": str(self.limit),
            "totalPages": str(self.pages),
            "total": str(self.total),
        }


Handler = Callable[[Call], list[El]]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    writes: bool = False
    """Runs in a write unit of work."""
    post_only: bool = False
    """Changes the user's data: only POST is accepted (a GET would put the sk in logs)."""
    session: bool = False
    """Needs a session key (``sk``)."""
    signed: bool = False
    """Needs ``api_sig`` when the key is registered here."""
    auth: bool = False
    """An auth.* method: a stale ``sk`` sent along (pylast sends it everywhere) is ignored."""
