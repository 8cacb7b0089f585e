"""What shapes a demo community: its seed, its size and the year it lives in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from tastegraph.storage.base import utcnow

FULL_SIZE_USERS = 2400
"""The size the catalogue proportions were tuned for; smaller communities get smaller ones."""

HISTORY_DAYS = 365


@dataclass(frozen=True)
class DemoConfig:
    """How big a community to make, from which seed, and when its year of history ends.

    Catalogue sizes scale with ``users`` (tuned for 2,400), so a test can load a small one.
    """

    seed: int = 2011
    users: int = FULL_SIZE_USERS
    anchor: datetime | None = None
    """Where the year of history ends (UTC). Every play lies in the 365 days before it.

    None means the start of the current UTC day, so a fresh demo always has recent plays and
    none in the future. This is the only input from the clock: the same seed and anchor give
    the same people, titles, plays, friendships, tags and loves. Tests pass a fixed anchor.
    """
    plays_per_user: float = 250.0
    """The average number of plays per person over the year."""

    @property
    def scale(self) -> float:
        return self.users / FULL_SIZE_USERS

    def scaled(self, full_size: int, minimum: int) -> int:
        """A catalogue size tuned for the full community, scaled to this one."""
        return max(minimum, round(full_size * self.scale))


@dataclass(frozen=True)
class Window:
    """The year of history, as UTC instants and as the local calendar days it spans."""

    end: datetime
    """Exclusive: no play is at or after it."""

    @classmethod
    def of(cls, config: DemoConfig) -> Window:
        anchor = config.anchor
        if anchor is None:
            anchor = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        elif anchor.tzinfo is None:
            raise ValueError("DemoConfig.anchor must be timezone-aware")
        elif anchor > utcnow():
            raise ValueError("DemoConfig.anchor must not be in the future: plays would be")
        return cls(end=anchor.astimezone(UTC).replace(microsecond=0))

    @cached_property
    def start(self) -> datetime:
        return self.end - timedelta(days=HISTORY_DAYS)

    @cached_property
    def first_day(self) -> date:
        """The first local calendar day of the history (day index 0)."""
        return self.start.date()

    @property
    def days(self) -> int:
        return HISTORY_DAYS

    @cached_property
    def start_ts(self) -> int:
        return int(self.start.timestamp())

    @cached_property
    def end_ts(self) -> int:
        return int(self.end.timestamp())

    def day_zero_ts(self) -> int:
        """Midnight UTC of day index 0, as a UNIX timestamp."""
        first = self.first_day
        return int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())

    def first_weekday(self) -> int:
        """Monday is 0."""
        return self.first_day.weekday()
