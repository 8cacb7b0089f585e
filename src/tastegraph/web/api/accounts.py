"""/api/v1: registration, log-in, settings, tokens and profiles."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from tastegraph.accounts.models import TokenKind
from tastegraph.accounts.schemas import (
    LoginIn,
    Registered,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserCreate,
    UserPrivate,
    UserPublic,
    UserUpdate,
    token_public,
    user_private,
    user_public,
)
from tastegraph.web.deps import RuntimeDep, require_user, unit_of_work, view_profile

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/register", status_code=status.HTTP_201_CREATED)
def register(data: UserCreate, runtime: RuntimeDep) -> Registered:
    """Create an account and return it with a first personal API token."""
    with unit_of_work(runtime, write=True) as svc:
        user = svc.accounts.register(data)
        _token, secret = svc.accounts.create_token(user, "first token")
        return Registered(user=user_private(user), token=secret)


@router.post("/auth/login")
def login(data: LoginIn, runtime: RuntimeDep) -> TokenCreated:
    """Exchange a name and password for a session token that expires."""
    with unit_of_work(runtime, write=True) as svc:
        user = svc.accounts.authenticate_password(data.name, data.password)
        token, secret = svc.accounts.create_token(
            user,
            "log-in session",
            kind=TokenKind.SESSION,
            lifetime=timedelta(days=runtime.settings.session_token_days),
        )
        return TokenCreated(**token_public(token).model_dump(), token=secret)


@router.get("/me")
def me(request: Request, runtime: RuntimeDep) -> UserPrivate:
    with unit_of_work(runtime) as svc:
        return user_private(require_user(svc, request))


@router.patch("/me")
def update_me(data: UserUpdate, request: Request, runtime: RuntimeDep) -> UserPrivate:
    """Change settings: profile, locale, time zone, privacy, incognito, consent, password."""
    with unit_of_work(runtime, write=True) as svc:
        user = svc.accounts.update(require_user(svc, request), data)
        # Consent and age go through the audiences service: audit log, segments left at once.
        if data.consent_ad_profiling is not None:
            consent = data.consent_ad_profiling
            svc.audiences.set_consent(
                user, profiling=consent, personalised_ads=consent, source="settings"
            )
        elif data.model_fields_set & {"birth_year", "country", "locale", "timezone"}:
            svc.audiences.account_changed(user)
        return user_private(user)


@router.get("/me/tokens")
def list_tokens(request: Request, runtime: RuntimeDep) -> list[TokenPublic]:
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        return [token_public(t) for t in svc.accounts.list_tokens(user)]


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED)
def create_token(data: TokenCreate, request: Request, runtime: RuntimeDep) -> TokenCreated:
    """Create a personal token for a player or script. The secret is shown only here."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        token, secret = svc.accounts.create_token(user, data.name)
        return TokenCreated(**token_public(token).model_dump(), token=secret)


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: int, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        svc.accounts.revoke_token(require_user(svc, request), token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/{name}")
def get_user(name: str, request: Request, runtime: RuntimeDep) -> UserPublic:
    """A user's public profile, if their privacy setting lets the caller see it."""
    with unit_of_work(runtime) as svc:
        return user_public(view_profile(svc, request, name).owner)
