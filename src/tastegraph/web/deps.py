"""Dependencies shared by the API routers: the runtime, units of work and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from tastegraph.accounts.errors import NotAuthenticated, PermissionDenied
from tastegraph.accounts.models import User
from tastegraph.runtime import Runtime, Services


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@contextmanager
def unit_of_work(runtime: Runtime, *, write: bool = False) -> Iterator[Services]:
    """The request's transaction: committed when the block ends, rolled back on error."""
    with runtime.db.unit_of_work(write=write) as session:
        yield runtime.services(session)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in {"bearer", "token"} and value.strip():
        return value.strip()
    return None


def caller(services: Services, request: Request, *, required: bool = True) -> User | None:
    """The authenticated user of this request, looked up inside the request's unit of work."""
    token = bearer_token(request)
    if token is None:
        if required:
            raise NotAuthenticated(
                "Send your API token as 'Authorization: Bearer <token>'. "
                "Create one with POST /api/v1/auth/login or `tastegraph users create`."
            )
        return None
    return services.accounts.authenticate_token(token)


def require_user(services: Services, request: Request) -> User:
    user = caller(services, request)
    assert user is not None
    return user


def require_admin(services: Services, request: Request) -> User:
    user = require_user(services, request)
    if not user.is_admin:
        raise PermissionDenied("Only administrators may do this.")
    return user


@dataclass(frozen=True)
class ProfileView:
    """Whose profile a request looks at, and whether it is the caller's own."""

    owner: User
    viewer: User | None

    @property
    def own(self) -> bool:
        return self.viewer is not None and self.viewer.id == self.owner.id


def view_profile(services: Services, request: Request, name: str) -> ProfileView:
    """The profile called ``name`` as the caller may see it (404 when hidden or missing)."""
    viewer = caller(services, request, required=False)
    return ProfileView(owner=services.social.access_user_by_name(viewer, name), viewer=viewer)
