"""The window an insight covers and its weeks, in UTC or the operator's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, case, literal

from tastegraph.insights.errors import InvalidInsightsRequest
from tastegraph.stats.periods import week_starts

MAX_DAYS = 400
"""The longest window: a year of weeks and some."""
MAX_WEEKS = 57


@dataclass(frozen=True)
class InsightWindow:
    since: datetime
    until: datetime
    """Exclusive."""
    timezone: str
    weeks: tuple[tuple[datetime, datetime], ...]
    """Monday-to-Monday weeks in ``timezone`` as UTC [start, end), cut to the window."""

    def week_of(self, column: Any) -> ColumnElement[int]:
        """The index into ``weeks`` of a UTC datetime column (an SQL expression).

        A binary tree of comparisons: a year of weeks costs six per row, not fifty."""
        bounds = [start for start, _end in self.weeks[1:]]

        def tree(low: int, high: int) -> ColumnElement[int]:
            if low == high:
                return literal(low)
            middle = (low + high) // 2
            return case((column < bounds[middle], tree(low, middle)), else_=tree(middle + 1, high))

        return tree(0, len(bounds))

    def week_index(self, moment: datetime) -> int | None:
        for index, (start, end) in enumerate(self.weeks):
            if start <= moment < end:
                return index
        return None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInsightsRequest(f"Unknown time zone {name!r}: use an IANA name.") from None


def make_window(
    now: datetime,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    weeks: int = 12,
    timezone: str = "UTC",
) -> InsightWindow:
    """``since``/``until`` as given (UTC), else the last ``weeks`` weeks of ``timezone``
    ending at ``until`` (default: now), the current week included."""
    tz = zone(timezone)
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInsightsRequest(f"{name} needs a time zone offset (or Z).")
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInsightsRequest(f"weeks must be between 1 and {MAX_WEEKS}.")
    end = until or now
    if since is None:
        local = (end - timedelta(microseconds=1)).astimezone(tz).date()
        monday = local - timedelta(days=local.weekday() + 7 * (weeks - 1))
        start = week_starts(
            datetime(monday.year, monday.month, monday.day, 12, tzinfo=tz), end, timezone
        )[0][0]
    else:
        start = since
    if start >= end:
        raise InvalidInsightsRequest("since must be before until.")
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInsightsRequest(f"A window can cover at most {MAX_DAYS} days.")
    cut = tuple(
        (max(a, start), min(b, end))
        for a, b in week_starts(start, end - timedelta(microseconds=1), timezone)
    )
    return InsightWindow(since=start, until=end, timezone=timezone, weeks=cut)
