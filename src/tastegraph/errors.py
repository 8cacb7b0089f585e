"""The root of every area's error tree.

Each area defines its own subtree in ``<area>/errors.py``; ``web/errors.py`` maps them to HTTP
problem responses in one place, and the protocol adapters map them to their own formats.

    TastegraphError
    ├── accounts.errors.AccountError
    ├── catalog.errors.CatalogError
    ├── ingest.errors.IngestError
    ├── social.errors.SocialError
    └── storage.errors.StorageError
"""

from __future__ import annotations

from typing import Any, ClassVar


class TastegraphError(Exception):
    """A domain error with a stable, machine-readable ``code``."""

    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Something went wrong"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
