from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from tastegraph.accounts.models import ApiToken, User, Visibility
from tastegraph.locales import normalize_country, normalize_locale, normalize_timezone
from tastegraph.text import ShortText, check_text

_NAME = re.compile(r"^[^\W_][\w.-]{1,31}$", re.UNICODE)
RESERVED_NAMES = frozenset({"me", "admin", "api", "static", "settings", "login", "logout"})


def _check_user_name(value: str) -> str:
    check_text(value)
    if not _NAME.match(value):
        raise ValueError(
            "user names are 2-32 letters, digits, '.', '-' or '_', starting with a letter or digit"
        )
    if value.casefold() in RESERVED_NAMES:
        raise ValueError(f"{value!r} is reserved")
    return value


UserName = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(_check_user_name)
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]
Country = Annotated[str, AfterValidator(normalize_country)]
LocaleTag = Annotated[str, AfterValidator(normalize_locale)]
TimeZone = Annotated[str, AfterValidator(normalize_timezone)]

_strict = ConfigDict(extra="forbid")


class UserCreate(BaseModel):
    model_config = _strict

    name: UserName
    password: Password
    email: EmailStr | None = None
    country: Country | None = None
    locale: LocaleTag | None = None
    timezone: TimeZone | None = None
    display_name: ShortText | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)


class LoginIn(BaseModel):
    model_config = _strict

    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class UserUpdate(BaseModel):
    """Fields a user may change in their settings. Absent fields stay as they are."""

    model_config = _strict

    email: EmailStr | None = None
    display_name: ShortText | None = None
    country: Country | None = None
    locale: LocaleTag | None = None
    timezone: TimeZone | None = None
    visibility: Visibility | None = None
    hide_recent_activity: bool | None = None
    incognito: bool | None = None
    consent_ad_profiling: bool | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    password: Password | None = None


class UserPublic(BaseModel):
    name: str
    display_name: str | None
    country: str | None
    locale: str
    timezone: str
    visibility: Visibility
    created_at: datetime
    url: str


class UserPrivate(UserPublic):
    email: str | None
    hide_recent_activity: bool
    incognito: bool
    consent_ad_profiling: bool
    consent_updated_at: datetime | None
    birth_year: int | None
    is_admin: bool


class TokenCreate(BaseModel):
    model_config = _strict

    name: ShortText = "personal token"


class TokenPublic(BaseModel):
    id: int
    name: str
    kind: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The secret. Shown only once: store it now.")


class Registered(BaseModel):
    user: UserPrivate
    token: str


def user_public(user: User) -> UserPublic:
    return UserPublic(
        name=user.name,
        display_name=user.display_name,
        country=user.country,
        locale=user.locale,
        timezone=user.timezone,
        visibility=user.visibility,
        created_at=user.created_at,
        url=f"/api/v1/users/{user.name}",
    )


def user_private(user: User) -> UserPrivate:
    return UserPrivate(
        **user_public(user).model_dump(),
        email=user.email,
        hide_recent_activity=user.hide_recent_activity,
        incognito=user.incognito,
        consent_ad_profiling=user.consent_ad_profiling,
        consent_updated_at=user.consent_updated_at,
        birth_year=user.birth_year,
        is_admin=user.is_admin,
    )


def token_public(token: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=token.id,
        name=token.name,
        kind=token.kind,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
    )
