"""Account actions: registration, log-in, tokens, settings and profile visibility."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import InternalError, OperationalError
from sqlalchemy.orm import Session

from tastegraph.accounts.errors import (
    InvalidAccountData,
    InvalidCredentials,
    NameTaken,
    NotAuthenticated,
    TokenNotFound,
    UserNotFound,
)
from tastegraph.accounts.models import ApiToken, TokenKind, User, Visibility
from tastegraph.accounts.schemas import UserCreate, UserUpdate
from tastegraph.accounts.secrets import (
    DEFAULT_PASSWORDS,
    Passwords,
    hash_token,
    md5_hex,
    new_token,
)
from tastegraph.locales import default_timezone
from tastegraph.storage.base import utcnow

_log = logging.getLogger(__name__)

CountryHook = Callable[[Session, int, str | None, str | None], None]
"""Called with (session, user id, old country, new country) when a user's country changes, so
figures kept per country (the geo chart rollups) follow. Wired by the composition root."""


def name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


class AccountService:
    """Reads and writes accounts inside the caller's unit of work. Never commits."""

    def __init__(
        self,
        session: Session,
        *,
        country_hooks: Sequence[CountryHook] = (),
        passwords: Passwords = DEFAULT_PASSWORDS,
    ) -> None:
        self.session = session
        self.country_hooks = country_hooks
        self.passwords = passwords

    def register(self, data: UserCreate, *, is_admin: bool = False) -> User:
        if self.find_by_name(data.name) is not None:
            raise NameTaken(f"The user name {data.name!r} is taken.")
        country = data.country
        user = User(
            name=data.name,
            name_key=name_key(data.name),
            email=str(data.email) if data.email else None,
            password_hash=self.passwords.hash(data.password),
            display_name=data.display_name,
            country=country,
            locale=data.locale or "en",
            timezone=data.timezone or default_timezone(country),
            visibility=Visibility.PUBLIC,
            birth_year=data.birth_year,
            hide_recent_activity=False,
            incognito=False,
            consent_ad_profiling=False,
            is_admin=is_admin,
        )
        self.session.add(user)
        self.session.flush()  # the new id is needed for the first token
        return user

    def find_by_name(self, name: str) -> User | None:
        return self.session.scalar(select(User).where(User.name_key == name_key(name)))

    def get_by_name(self, name: str) -> User:
        user = self.find_by_name(name)
        if user is None:
            raise UserNotFound(f"There is no user called {name!r}.")
        return user

    def authenticate_password(self, name: str, password: str) -> User:
        user = self.find_by_name(name)
        if user is None or not self.passwords.verify(user.password_hash, password):
            raise InvalidCredentials("Wrong user name or password.")
        return user

    def create_token(
        self,
        user: User,
        name: str,
        *,
        kind: TokenKind = TokenKind.PERSONAL,
        lifetime: timedelta | None = None,
        secret: str | None = None,
    ) -> tuple[ApiToken, str]:
        """Create a token and return it with its secret, which is never stored.

        ``secret`` lets a protocol choose the format (Last.fm session keys are 32 hex digits).
        """
        secret = secret or new_token()
        token = ApiToken(
            user_id=user.id,
            kind=kind,
            name=name,
            token_hash=hash_token(secret),
            prefix=secret[:10],
            expires_at=utcnow() + lifetime if lifetime else None,
            legacy_md5=md5_hex(secret) if kind is TokenKind.PERSONAL else None,
        )
        self.session.add(token)
        self.session.flush()
        return token, secret

    def authenticate_token(
        self,
        secret: str,
        *,
        now: datetime | None = None,
        kinds: tuple[TokenKind, ...] = (TokenKind.PERSONAL, TokenKind.SESSION),
    ) -> User:
        """The user a token belongs to. Only tokens of ``kinds`` count: a Last.fm session key
        does not open the native API, and a log-in session does not open Last.fm."""
        now = now or utcnow()
        row = self.session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == hash_token(secret),
                ApiToken.revoked_at.is_(None),
                ApiToken.kind.in_(kinds),
            )
        ).first()
        if row is None:
            raise NotAuthenticated("The token is unknown or revoked.")
        token, user = row
        if token.expires_at is not None and token.expires_at <= now:
            raise NotAuthenticated("The token has expired. Log in again.")
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
            # Throttled so that a busy scrobbler does not turn every read into a write.
            self._touch(token.id, now)
        return user

    def _touch(self, token_id: int, now: datetime) -> None:
        """Note when a token was last used; advisory, so it never fails the request.

        On SQLite a read unit of work is a deferred transaction: if another connection (a
        background job, another request) committed since it began, it cannot become a writer
        (SQLITE_BUSY_SNAPSHOT). The savepoint lets the request go on with its reads. On a read
        replica (PostgreSQL's read-only transaction: InternalError) the next write request
        notes it instead.
        """
        try:
            with self.session.begin_nested():
                self.session.execute(
                    update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
                )
        except (OperationalError, InternalError):
            _log.debug("token %s: last_used_at not updated (busy or read-only)", token_id)

    def authenticate_legacy(self, name: str, proves: Callable[[str], bool]) -> User | None:
        """The user called ``name`` if ``proves(md5 of one of their personal tokens)`` holds.

        Audioscrobbler 1.2 sends md5(md5(password) + timestamp) and Last.fm's mobile log-in
        md5(name + md5(password)); with the token as the password, each check needs only the
        stored md5.
        """
        user = self.find_by_name(name)
        if user is None:
            return None
        digests = self.session.scalars(
            select(ApiToken.legacy_md5).where(
                ApiToken.user_id == user.id,
                ApiToken.kind == TokenKind.PERSONAL,
                ApiToken.revoked_at.is_(None),
                ApiToken.legacy_md5.is_not(None),
            )
        )
        return user if any(proves(d) for d in digests if d) else None

    def verify_password_or_token(self, user: User, password: str) -> bool:
        """A plain-text password from a legacy client: the account password or a personal token."""
        if self.passwords.verify(user.password_hash, password):
            return True
        owner = self.session.scalar(
            select(ApiToken.user_id).where(
                ApiToken.token_hash == hash_token(password),
                ApiToken.kind == TokenKind.PERSONAL,
                ApiToken.revoked_at.is_(None),
            )
        )
        return owner == user.id

    def list_tokens(
        self,
        user: User,
        kinds: tuple[TokenKind, ...] = (TokenKind.PERSONAL, TokenKind.SESSION),
    ) -> list[ApiToken]:
        """The user's live tokens of ``kinds``: personal and log-in tokens unless asked for
        others (the settings page lists the apps connected by Last.fm sessions apart)."""
        return list(
            self.session.scalars(
                select(ApiToken)
                .where(
                    ApiToken.user_id == user.id,
                    ApiToken.revoked_at.is_(None),
                    ApiToken.kind.in_(kinds),
                )
                .order_by(ApiToken.id)
            )
        )

    def revoke_token(self, user: User, token_id: int) -> None:
        token = self.session.get(ApiToken, token_id)
        if token is None or token.user_id != user.id or token.revoked_at is not None:
            raise TokenNotFound(f"You have no token with id {token_id}.")
        token.revoked_at = utcnow()

    def end_sessions(self, user: User, *, keep: int | None = None) -> int:
        """Revoke the user's log-in sessions (web and API, not personal tokens: players keep
        scrobbling) except the token ``keep``; after a password change. Returns how many."""
        stmt = (
            update(ApiToken)
            .where(
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
                ApiToken.kind.in_((TokenKind.SESSION, TokenKind.WEB_SESSION)),
            )
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if keep is not None:
            stmt = stmt.where(ApiToken.id != keep)
        return int(self.session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    def update(self, user: User, data: UserUpdate) -> User:
        changes = data.model_dump(exclude_unset=True)
        if "password" in changes:
            password = changes.pop("password")
            if password is None:
                raise InvalidAccountData("The password cannot be removed.")
            user.password_hash = self.passwords.hash(password)
        for field in (
            "locale",
            "timezone",
            "visibility",
            "hide_recent_activity",
            "incognito",
            "consent_ad_profiling",
        ):
            if field in changes and changes[field] is None:
                raise InvalidAccountData(f"{field} cannot be null.")
        if "consent_ad_profiling" in changes and (
            changes["consent_ad_profiling"] != user.consent_ad_profiling
        ):
            user.consent_updated_at = utcnow()
        if "email" in changes and changes["email"] is not None:
            changes["email"] = str(changes["email"])
        if "country" in changes and changes["country"] != user.country:
            for hook in self.country_hooks:
                hook(self.session, user.id, user.country, changes["country"])
        for field, value in changes.items():
            setattr(user, field, value)
        return user
