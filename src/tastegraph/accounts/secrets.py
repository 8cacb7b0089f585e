"""Password hashing (argon2) and API tokens (random, shown once, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "tg_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True, slots=True)
class Passwords:
    """argon2id at a chosen cost (``TASTEGRAPH_PASSWORD_HASH_*``; the defaults are
    argon2-cffi's, RFC 9106's low-memory profile). A hash records its own parameters, so
    changing the cost never locks anybody out: old hashes still verify."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4
    _hasher: PasswordHasher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        hasher = PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=self.parallelism
        )
        object.__setattr__(self, "_hasher", hasher)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        if not password_hash:
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


DEFAULT_PASSWORDS = Passwords()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def md5_hex(text: str) -> str:
    """md5 as the legacy scrobbling protocols use it (never for a real password)."""
    return hashlib.md5(text.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()
