"""Cutting a chart window into rollup buckets and raw plays, so a chart sums few rows.

A window ``[start, end)`` in UTC is written as a signed sum of pieces: whole UTC years, months
and days from the rollups (``stats/models.py``), ``all`` for everything, and raw plays for
what is left at the edges (a period in Tokyo starts at 15:00 UTC; a rolling period at the
current second). A piece may be subtracted: the last 20 days of a month are the month minus
its first 10 days. Every plan covers exactly the window, whatever the data; what the data
looks like (``Extent``: the first and last play) only steers which exact plan is cheapest,
by weights that stand for how many rows each piece holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tastegraph.stats.models import Grain

EPOCH_DAY = date(1970, 1, 1)
FIRST_YEAR = 1970
LAST_YEAR = 9999

WEIGHT = {Grain.DAY: 1.0, Grain.MONTH: 8.0, Grain.YEAR: 30.0, Grain.ALL: 36.0}
"""Rough rows per bucket, relative to a day's: a month holds fewer than 30 days' worth of
distinct items, since the same items come back."""
RAW_HOUR = 0.3
"""An hour of raw plays, relative to a day bucket: more rows than the day's distinct items
per hour, and each one joined to the catalogue."""


@dataclass(frozen=True)
class Piece:
    sign: int
    grain: Grain | None
    """None: raw plays in [start, end)."""
    first: int = 0
    last: int = 0
    """Bucket numbers, inclusive."""
    start: datetime | None = None
    end: datetime | None = None
    """Raw plays: None is open (since the first play / after the last)."""


@dataclass(frozen=True)
class Extent:
    """The first and last play in the log when the chart is planned."""

    first: datetime
    last: datetime


def day_number(moment: datetime) -> int:
    return (moment.astimezone(UTC).date() - EPOCH_DAY).days


def to_micros(moment: datetime) -> int:
    """A UTC instant as microseconds since 1970, as the rollups store first and last plays."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def day_start(day: int) -> datetime:
    return datetime.combine(EPOCH_DAY + timedelta(days=day), time(0), tzinfo=UTC)


def month_number(day: int) -> int:
    d = EPOCH_DAY + timedelta(days=day)
    return (d.year - FIRST_YEAR) * 12 + d.month - 1


def month_first_day(month: int) -> int:
    return (date(FIRST_YEAR + month // 12, month % 12 + 1, 1) - EPOCH_DAY).days


def year_of(day: int) -> int:
    return (EPOCH_DAY + timedelta(days=day)).year


def year_first_day(year: int) -> int:
    return (date(year, 1, 1) - EPOCH_DAY).days


def bucket_of(grain: Grain, day: int) -> int:
    """The bucket of a grain holding a day (see ``Grain``)."""
    if grain is Grain.DAY:
        return day
    if grain is Grain.ALL:
        return 0
    if grain is Grain.YEAR:
        return year_of(day)
    return month_number(day) // _MONTHS[grain]


def bucket_days(grain: Grain, bucket: int) -> tuple[int, int] | None:
    """The days [first, stop) of a bucket; None for ``all``, which has no bounds."""
    if grain is Grain.DAY:
        return bucket, bucket + 1
    if grain is Grain.ALL:
        return None
    if grain is Grain.YEAR:
        return year_first_day(bucket), year_first_day(bucket + 1)
    months = _MONTHS[grain]
    return month_first_day(bucket * months), month_first_day((bucket + 1) * months)


_MONTHS = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.HALF: 6}


class _Planner:
    def __init__(self, extent: Extent) -> None:
        self.first = extent.first
        self.last = extent.last
        first_day, last_day = day_number(extent.first), day_number(extent.last)
        self.ranges = {
            Grain.DAY: (first_day, last_day),
            Grain.MONTH: (month_number(first_day), month_number(last_day)),
            Grain.YEAR: (year_of(first_day), year_of(last_day)),
            Grain.ALL: (0, 0),
        }

    # -- costs -------------------------------------------------------------------------------

    def bucket_cost(self, grain: Grain, first: int, last: int) -> float:
        low, high = self.ranges[grain]
        return max(0, min(last, high) - max(first, low) + 1) * WEIGHT[grain]

    def raw_cost(self, start: datetime | None, end: datetime | None) -> float:
        low = self.first if start is None else max(start, self.first)
        high = self.last if end is None else min(end, self.last)
        return max(0.0, (high - low).total_seconds() / 3600) * RAW_HOUR

    # -- plans: (cost, pieces) for +1; callers flip signs ------------------------------------

    def buckets(self, grain: Grain, first: int, last: int) -> tuple[float, list[Piece]]:
        if first > last:
            return 0.0, []
        return self.bucket_cost(grain, first, last), [Piece(1, grain, first, last)]

    def raw(self, start: datetime | None, end: datetime | None) -> tuple[float, list[Piece]]:
        if start is not None and end is not None and start >= end:
            return 0.0, []
        return self.raw_cost(start, end), [Piece(1, None, start=start, end=end)]

    def window(self, start: datetime | None, end: datetime | None) -> tuple[float, list[Piece]]:
        """[start, end), None meaning open."""
        if start is None and end is None:
            return self.buckets(Grain.ALL, 0, 0)
        first_day = None if start is None else day_number(start)
        if start is not None and end is not None and day_number(end) == first_day:
            return self._within_day(start, end)
        plans: list[tuple[float, list[Piece]]] = []
        # Left edge: the part of start's day from start on.
        if start is None:
            whole_from: int | None = None
        elif start == day_start(day_number(start)):
            whole_from = day_number(start)
        else:
            day = day_number(start)
            whole_from = day + 1
            plans.append(
                self._cheapest(
                    self.raw(start, day_start(day + 1)), self._day_minus(day, None, start)
                )
            )
        # Right edge: the part of end's day before end.
        if end is None:
            whole_to: int | None = None
        else:
            whole_to = day_number(end)
            if end != day_start(whole_to):
                plans.append(
                    self._cheapest(
                        self.raw(day_start(whole_to), end), self._day_minus(whole_to, end, None)
                    )
                )
        plans.append(self.days(whole_from, whole_to))
        return _join(plans)

    def _within_day(self, start: datetime, end: datetime) -> tuple[float, list[Piece]]:
        day = day_number(start)
        cost, pieces = self._day_minus(day, end, None)
        before = self.raw(day_start(day), start)
        minus = _negated(before)
        return self._cheapest(self.raw(start, end), (cost + minus[0], pieces + minus[1]))

    def _day_minus(
        self, day: int, cut_from: datetime | None, cut_to: datetime | None
    ) -> tuple[float, list[Piece]]:
        """The day bucket minus raw plays of [cut_from, day end) or [day start, cut_to)."""
        plan = self.buckets(Grain.DAY, day, day)
        if cut_from is not None:
            removed = _negated(self.raw(cut_from, day_start(day + 1)))
        else:
            removed = _negated(self.raw(day_start(day), cut_to))
        return _join([plan, removed])

    def days(self, first: int | None, stop: int | None) -> tuple[float, list[Piece]]:
        """Whole UTC days [first, stop), None meaning open."""
        if first is None and stop is None:
            return self.buckets(Grain.ALL, 0, 0)
        if first is not None and stop is not None and first >= stop:
            return 0.0, []
        direct = self._years(first, stop)
        if first is not None and stop is not None:
            return direct
        # One side open: everything minus the other side.
        rest = self._years(None, first) if stop is None else self._years(stop, None)
        via_all = _join([self.buckets(Grain.ALL, 0, 0), _negated(rest)])
        return self._cheapest(direct, via_all)

    def _years(self, first: int | None, stop: int | None) -> tuple[float, list[Piece]]:
        """Whole days [first, stop) as whole years, with partial years at the ends."""
        plans = []
        if first is None:
            full_from = FIRST_YEAR
        else:
            year = year_of(first)
            if first == year_first_day(year):
                full_from = year
            else:
                full_from = year + 1
                end = (
                    year_first_day(year + 1)
                    if stop is None
                    else min(stop, year_first_day(year + 1))
                )
                plans.append(self._part_of_year(year, first, end))
                if stop is not None and stop <= year_first_day(year + 1):
                    return _join(plans)
        if stop is None:
            full_to = LAST_YEAR
        else:
            year = year_of(stop)
            full_to = year - 1
            if stop != year_first_day(year):
                plans.append(self._part_of_year(year, year_first_day(year), stop))
        plans.append(self.buckets(Grain.YEAR, full_from, full_to))
        return _join(plans)

    def _part_of_year(self, year: int, first: int, stop: int) -> tuple[float, list[Piece]]:
        """Days [first, stop) inside one year: its months, or the year minus the others."""
        start_day, end_day = year_first_day(year), year_first_day(year + 1)
        direct = self._months(first, stop)
        whole = _join(
            [
                self.buckets(Grain.YEAR, year, year),
                _negated(self._months(start_day, first)),
                _negated(self._months(stop, end_day)),
            ]
        )
        return self._cheapest(direct, whole)

    def _months(self, first: int, stop: int) -> tuple[float, list[Piece]]:
        """Days [first, stop) inside one year as whole months, with partial months at the ends."""
        if first >= stop:
            return 0.0, []
        first_month, last_month = month_number(first), month_number(stop - 1)
        if first_month == last_month:
            return self._part_of_month(first_month, first, stop)
        plans = []
        full_from, full_to = first_month, last_month
        if first != month_first_day(first_month):
            plans.append(self._part_of_month(first_month, first, month_first_day(first_month + 1)))
            full_from += 1
        if stop != month_first_day(last_month + 1):
            plans.append(self._part_of_month(last_month, month_first_day(last_month), stop))
            full_to -= 1
        plans.append(self.buckets(Grain.MONTH, full_from, full_to))
        return _join(plans)

    def _part_of_month(self, month: int, first: int, stop: int) -> tuple[float, list[Piece]]:
        start_day, end_day = month_first_day(month), month_first_day(month + 1)
        if (first, stop) == (start_day, end_day):
            return self.buckets(Grain.MONTH, month, month)
        direct = self.buckets(Grain.DAY, first, stop - 1)
        whole = _join(
            [
                self.buckets(Grain.MONTH, month, month),
                _negated(self.buckets(Grain.DAY, start_day, first - 1)),
                _negated(self.buckets(Grain.DAY, stop, end_day - 1)),
            ]
        )
        return self._cheapest(direct, whole)

    @staticmethod
    def _cheapest(*plans: tuple[float, list[Piece]]) -> tuple[float, list[Piece]]:
        # Ties go to the plan with fewer pieces.
        return min(plans, key=lambda plan: (plan[0], len(plan[1])))


def _join(plans: list[tuple[float, list[Piece]]]) -> tuple[float, list[Piece]]:
    return sum(cost for cost, _ in plans), [piece for _, pieces in plans for piece in pieces]


def _negated(plan: tuple[float, list[Piece]]) -> tuple[float, list[Piece]]:
    cost, pieces = plan
    return cost, [Piece(-p.sign, p.grain, p.first, p.last, p.start, p.end) for p in pieces]


def plan(start: datetime | None, end: datetime | None, extent: Extent | None) -> list[Piece]:
    """Pieces whose signed sum is exactly the plays in [start, end) (None: open).

    ``extent`` (the log's first and last play, or None for an empty log) only steers the
    choice: a window reaching past the last play is cut as "to the end" minus the plays at or
    after ``end``, which normally are none.
    """
    if extent is None:
        return []
    planner = _Planner(extent)
    pieces: list[Piece] = []
    if start is not None and start <= extent.first:
        # Nothing before start: count from the beginning, minus whatever is before start.
        pieces += _negated(planner.raw(None, start))[1]
        start = None
    if end is not None and end > extent.last:
        pieces += _negated(planner.raw(end, None))[1]
        end = None
    return _simplified(planner.window(start, end)[1] + pieces)


def _simplified(pieces: list[Piece]) -> list[Piece]:
    """Drop bucket pieces that cancel out (a day added and taken away again) and join
    neighbouring ranges of one grain and sign."""
    buckets: dict[tuple[Grain, int], int] = {}
    kept: list[Piece] = []
    for piece in pieces:
        if piece.grain is None or piece.last - piece.first > 400:  # raw, or open-ended years
            kept.append(piece)
            continue
        for number in range(piece.first, piece.last + 1):
            key = (piece.grain, number)
            buckets[key] = buckets.get(key, 0) + piece.sign
    joined: list[Piece] = []
    for (grain, number), sign in sorted(buckets.items()):
        if sign == 0:
            continue
        if joined and (joined[-1].grain, joined[-1].last + 1, joined[-1].sign) == (
            grain,
            number,
            sign,
        ):
            last = joined.pop()
            joined.append(Piece(sign, grain, last.first, number))
        else:
            joined.append(Piece(sign, grain, number, number))
    return joined + kept
