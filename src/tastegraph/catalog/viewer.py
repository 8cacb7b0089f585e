"""Who an item is shown to: where they are, what they read, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Viewer:
    country: str | None = None
    """ISO 3166-1 code; None when unknown (only worldwide grants and unrestricted items)."""
    languages: tuple[str, ...] = ()
    """BCP 47 tags, best first; empty: original titles."""
    at: datetime | None = None
    """The moment availability is judged at; None: now (the availability index's clock)."""
