"""Even pacing of daily budgets: spend so far against the elapsed fraction of the day.

Two mechanisms from adtech.md §3.2 work together:

* **A straight-line ceiling, enforced atomically.** At a moment when a fraction ``f`` of the
  campaign's day has elapsed, the campaign may have spent at most
  ``daily_budget * min(1, f + BURST)``: the straight line plus a head start of one hour's
  worth (``BURST`` = 1/24). The reservation (ads/counters.py) checks this ceiling together
  with the budgets, so it holds across processes.
* **A throttle probability** (probabilistic throttling, Agarwal et al., KDD 2014; Lee, Jalali
  and Dasdan, ADKDD 2013): while spend is at or below the straight line ``daily_budget * f``
  the line item takes part in every auction it qualifies for; above it, it takes part with a
  probability that falls linearly from 1 at the line to 0 at the ceiling. A campaign ahead of
  schedule thus yields part of the traffic to others instead of spending up to its ceiling at
  once and then going dark. The spend it compares with is this process's latest view
  (updated by every reservation and refreshed from the shared counters with the index).

"The day" is the UTC calendar day, cut to the campaign's flight when it starts or ends that
day. ``ASAP`` campaigns skip both: the daily budget is then only a hard limit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

BURST = 1 / 24


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def day_key(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%d")


def elapsed_fraction(now: datetime, starts_at: datetime, ends_at: datetime | None) -> float:
    """How much of today's delivery window (the UTC day within the flight) has passed."""
    day_start, day_end = day_bounds(now)
    start = max(day_start, starts_at)
    end = min(day_end, ends_at) if ends_at is not None else day_end
    if end <= start:
        return 1.0
    return min(1.0, max(0.0, (now - start) / (end - start)))


def allowance(daily_budget: int, fraction: float) -> int:
    """The most a campaign may have spent today at this moment (micros)."""
    return min(daily_budget, round(daily_budget * min(1.0, fraction + BURST)))


def throttle_probability(spent: int, daily_budget: int, fraction: float) -> float:
    """The chance that a line item takes part in an auction, given what its campaign spent."""
    target = daily_budget * fraction
    if spent <= target:
        return 1.0
    ceiling = allowance(daily_budget, fraction)
    if spent >= ceiling or ceiling <= target:
        return 0.0
    return (ceiling - spent) / (ceiling - target)
