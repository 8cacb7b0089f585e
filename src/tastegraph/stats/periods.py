"""Chart periods, resolved to UTC instants in a time zone.

Rolling periods (Last.fm's 7day ... 12month) end now; calendar periods (ListenBrainz's
this_week, month, year ...) follow the local calendar of the zone, so a Tokyo user's week
starts at Monday 00:00 in Tokyo. Weeks start on Monday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from tastegraph.stats.errors import InvalidPeriod

EPOCH = datetime(2002, 10, 1, tzinfo=UTC)


class Period(StrEnum):
    DAYS_7 = "7day"
    MONTH_1 = "1month"
    MONTH_3 = "3month"
    MONTH_6 = "6month"
    MONTH_12 = "12month"
    OVERALL = "overall"
    THIS_WEEK = "this_week"
    THIS_MONTH = "this_month"
    THIS_YEAR = "this_year"
    WEEK = "week"
    """The last complete week."""
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEARLY = "half_yearly"
    YEAR = "year"
    ALL_TIME = "all_time"


_ROLLING_DAYS = {
    Period.DAYS_7: 7,
    Period.MONTH_1: 30,
    Period.MONTH_3: 90,
    Period.MONTH_6: 180,
    Period.MONTH_12: 365,
}


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC; ``start`` None means since the beginning."""

    start: datetime | None
    end: datetime
    timezone: str


def parse_period(text: str) -> Period:
    try:
        return Period(text.strip().lower())
    except ValueError:
        options = ", ".join(p.value for p in Period)
        raise InvalidPeriod(f"Unknown period {text!r}; one of {options}.") from None


def resolve(period: Period, timezone: str, now: datetime) -> Window:
    tz = ZoneInfo(timezone)
    if period in (Period.OVERALL, Period.ALL_TIME):
        return Window(None, now, timezone)
    if period in _ROLLING_DAYS:
        return Window(now - timedelta(days=_ROLLING_DAYS[period]), now, timezone)
    today = now.astimezone(tz).date()
    start_day, end_day = _calendar(period, today)
    start = _local_midnight(start_day, tz)
    end = (
        min(_local_midnight(end_day, tz), now) if end_day > today else _local_midnight(end_day, tz)
    )
    return Window(start, end, timezone)


def _calendar(period: Period, today: date) -> tuple[date, date]:
    """The local days [first, end) of a calendar period around ``today``."""
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    half = date(today.year, 1 if today.month <= 6 else 7, 1)
    spans = {
        Period.THIS_WEEK: (monday, monday + timedelta(days=7)),
        Period.THIS_MONTH: (first, _add_months(first, 1)),
        Period.THIS_YEAR: (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        Period.WEEK: (monday - timedelta(days=7), monday),
        Period.MONTH: (_add_months(first, -1), first),
        Period.QUARTER: (_add_months(quarter, -3), quarter),
        Period.HALF_YEARLY: (_add_months(half, -6), half),
        Period.YEAR: (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
    }
    if period not in spans:
        raise InvalidPeriod(f"{period} is not a calendar period")
    return spans[period]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a local day starts (midnight, or the first moment after a DST gap)."""
    local = datetime.combine(day, time(0), tzinfo=tz)
    return local.astimezone(UTC)


def week_starts(first: datetime, last: datetime, timezone: str) -> list[tuple[datetime, datetime]]:
    """Every Monday-to-Monday local week from the one holding ``first`` to the one holding
    ``last``, as UTC [start, end) pairs (Last.fm's weekly chart list, in the user's zone)."""
    tz = ZoneInfo(timezone)
    day = first.astimezone(tz).date()
    monday = day - timedelta(days=day.weekday())
    last_day = last.astimezone(tz).date()
    weeks = []
    while monday <= last_day:
        nxt = monday + timedelta(days=7)
        weeks.append((_local_midnight(monday, tz), _local_midnight(nxt, tz)))
        monday = nxt
    return weeks
