"""Statistics errors.

StatsError
├── InvalidPeriod
└── UnsupportedLevel
"""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class StatsError(TastegraphError):
    code = "stats_error"


class InvalidPeriod(StatsError):
    code = "invalid_period"
    title = "Unknown or invalid period"


class UnsupportedLevel(StatsError):
    code = "unsupported_level"
    title = "Charts are not kept at that level"
