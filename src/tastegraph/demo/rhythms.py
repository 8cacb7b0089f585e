"""Daily and weekly rhythms in people's local time, and the conversion of local time to UTC.

Profiles are relative weights per local hour (0-23), one for weekdays and one for weekends,
plus a weight per weekday (Monday first). They encode commonplace habits: music on the commute
and in the evening, television in prime time, films on Friday and Saturday nights, news in the
morning. Matches are not drawn from a rhythm: they are watched when they are played.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from tastegraph.demo.config import Window
from tastegraph.demo.sampling import draw

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

DAY = 86_400
WEEK = 7 * DAY


def _norm(values: tuple[float, ...]) -> Floats:
    array = np.asarray(values, dtype=np.float64)
    normalised: Floats = array / array.sum()
    return normalised


@dataclass(frozen=True)
class Rhythm:
    weekday_hours: Floats
    weekend_hours: Floats
    weekdays: Floats
    """Relative activity per weekday, Monday first (not normalised: 1.0 is an ordinary day)."""


# Hours 0-23 of a weekday, then of a weekend day, then Monday to Sunday.
# fmt: off
RHYTHMS: dict[str, Rhythm] = {
    "music": Rhythm(
        _norm((0.6, 0.3, 0.15, 0.08, 0.06, 0.12, 0.6, 2.2, 3.2, 2.4, 1.8, 1.7,
               2.0, 1.8, 1.7, 1.8, 2.2, 3.0, 3.2, 3.4, 3.6, 3.4, 2.6, 1.4)),
        _norm((1.2, 0.8, 0.4, 0.2, 0.1, 0.08, 0.15, 0.4, 0.9, 1.6, 2.2, 2.6,
               2.8, 2.9, 3.0, 3.0, 3.0, 3.0, 3.2, 3.4, 3.5, 3.3, 2.8, 1.9)),
        np.array([1.0, 1.0, 1.0, 1.0, 1.05, 0.95, 0.85]),
    ),
    "tv": Rhythm(
        _norm((0.8, 0.4, 0.2, 0.1, 0.05, 0.05, 0.15, 0.4, 0.5, 0.5, 0.6, 0.7,
               1.0, 1.0, 0.8, 0.8, 1.0, 1.4, 2.2, 3.5, 5.0, 5.5, 4.2, 2.2)),
        _norm((1.2, 0.7, 0.3, 0.15, 0.08, 0.05, 0.1, 0.3, 0.6, 1.0, 1.4, 1.6,
               1.8, 2.0, 2.2, 2.4, 2.5, 2.6, 3.0, 4.0, 5.0, 5.2, 4.0, 2.4)),
        np.array([1.0, 1.0, 1.0, 1.0, 0.9, 0.95, 1.2]),
    ),
    "film": Rhythm(
        _norm((0.8, 0.3, 0.1, 0.05, 0.02, 0.02, 0.05, 0.1, 0.1, 0.2, 0.3, 0.4,
               0.5, 0.6, 0.6, 0.7, 0.9, 1.2, 2.0, 3.5, 5.0, 4.5, 3.0, 1.6)),
        _norm((1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.05, 0.1, 0.3, 0.6, 1.0, 1.4,
               1.8, 2.2, 2.6, 2.6, 2.6, 2.6, 3.0, 4.0, 5.0, 4.4, 3.0, 1.8)),
        np.array([0.6, 0.6, 0.7, 0.8, 1.4, 1.6, 1.2]),
    ),
    "news": Rhythm(
        _norm((0.2, 0.1, 0.05, 0.05, 0.1, 0.6, 3.0, 5.5, 5.0, 3.0, 1.8, 1.5,
               2.2, 2.0, 1.2, 1.0, 1.0, 1.6, 2.2, 1.8, 1.2, 1.0, 0.8, 0.4)),
        _norm((0.3, 0.15, 0.05, 0.05, 0.05, 0.2, 0.8, 2.0, 3.2, 3.5, 3.0, 2.4,
               2.0, 1.6, 1.2, 1.0, 1.0, 1.2, 1.6, 1.6, 1.2, 1.0, 0.8, 0.5)),
        np.array([1.1, 1.05, 1.05, 1.0, 1.0, 0.6, 0.55]),
    ),
    # The morning briefing: on the way to work, caught up with at lunch.
    "briefing": Rhythm(
        _norm((0.1, 0.05, 0.02, 0.02, 0.05, 0.8, 3.5, 6.0, 6.0, 3.0, 1.5, 1.0,
               1.2, 1.0, 0.5, 0.4, 0.4, 0.6, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1)),
        _norm((0.1, 0.05, 0.02, 0.02, 0.02, 0.1, 0.6, 2.0, 3.5, 4.0, 3.5, 2.5,
               1.5, 1.0, 0.6, 0.5, 0.4, 0.4, 0.4, 0.3, 0.3, 0.2, 0.2, 0.1)),
        np.array([1.1, 1.05, 1.05, 1.0, 1.0, 0.5, 0.45]),
    ),
    # Sports talk: the evening after work, and the weekend around the matches.
    "talk": Rhythm(
        _norm((0.3, 0.1, 0.05, 0.05, 0.05, 0.2, 1.0, 2.0, 1.8, 1.0, 0.8, 0.8,
               1.2, 1.0, 0.8, 0.8, 1.2, 2.2, 3.0, 3.2, 2.8, 2.2, 1.4, 0.6)),
        _norm((0.6, 0.2, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 1.4, 2.0, 2.4, 2.4,
               2.2, 2.0, 1.8, 1.8, 2.0, 2.6, 3.0, 3.0, 2.6, 2.0, 1.4, 0.8)),
        np.array([1.5, 1.0, 1.0, 1.0, 1.1, 0.9, 1.0]),
    ),
}
# fmt: on


def sample_local(
    gen: np.random.Generator,
    n: int,
    rhythm: Rhythm,
    day_weights: Floats,
    weekdays: Ints,
    shift_hours: int,
) -> tuple[Ints, Ints]:
    """``n`` local moments: day indices drawn from the person's active days (weighted by
    weekday), seconds into the day drawn from the hour profile. ``shift_hours`` moves the
    profile for night owls (+) and early birds (-)."""
    days = draw(gen, day_weights * rhythm.weekdays[weekdays], n)
    hours = np.where(
        weekdays[days] >= 5,
        draw(gen, rhythm.weekend_hours, n),
        draw(gen, rhythm.weekday_hours, n),
    )
    hours = (hours + shift_hours) % 24
    seconds = hours * 3600 + gen.integers(0, 3600, size=n)
    return days, seconds.astype(np.int64)


class LocalClock:
    """Converts local (day index, seconds into the day) of one time zone to UTC timestamps.

    The UTC offset is taken per day; on the two days a year when it changes, each moment is
    converted exactly with zoneinfo (a wall time in a spring-forward gap gets the earlier
    offset, a repeated one the first occurrence, as zoneinfo's fold=0 defines).
    """

    def __init__(self, window: Window, zone_name: str) -> None:
        self.zone = ZoneInfo(zone_name)
        self.first_day = window.first_day
        self.day_zero = window.day_zero_ts()
        # One day of margin on each side: some plays are placed on the day before or after.
        self._pad = 8
        total = window.days + 2 * self._pad
        starts = np.empty(total, dtype=np.int64)
        ends = np.empty(total, dtype=np.int64)
        for i in range(total):
            day = self.first_day + timedelta(days=i - self._pad)
            starts[i] = self._offset(day, time(0, 0))
            ends[i] = self._offset(day, time(23, 59, 59))
        self._starts = starts
        self._changes = starts != ends

    def _offset(self, day: date, at: time) -> int:
        moment = datetime.combine(day, at, tzinfo=self.zone)
        offset = moment.utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def to_utc(self, days: Ints, seconds: Ints) -> Ints:
        slots = days + self._pad
        utc = self.day_zero + days * DAY + seconds - self._starts[slots]
        for i in np.flatnonzero(self._changes[slots]):
            day = self.first_day + timedelta(days=int(days[i]))
            # Arithmetic on an aware datetime moves its wall clock; the offset is then the
            # one in force at the new wall time.
            wall = datetime.combine(day, time(0, 0), tzinfo=self.zone) + timedelta(
                seconds=int(seconds[i])
            )
            utc[i] = int(wall.timestamp())
        return utc


@cache
def clock_for(window: Window, zone_name: str) -> LocalClock:
    return LocalClock(window, zone_name)


def keep_inside(utc: Ints, window: Window) -> Ints:
    """Move moments that spill out of the window by whole weeks, keeping weekday and hour.

    People in zones west of UTC live the last local evening after the window's UTC end, and
    people east of it live the first local morning before its start.
    """
    utc = utc.copy()
    late = utc >= window.end_ts
    utc[late] -= WEEK * ((utc[late] - window.end_ts) // WEEK + 1)
    early = utc < window.start_ts
    utc[early] += WEEK * ((window.start_ts - utc[early] - 1) // WEEK + 1)
    return utc
