"""Insights errors.

InsightsError
├── InvalidInsightsRequest   a window, zone, kind, list of titles or cost that cannot be used
└── CostNotFound             no such cost of a title
"""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class InsightsError(TastegraphError):
    code = "insights_error"


class InvalidInsightsRequest(InsightsError):
    code = "invalid_insights_request"
    title = "The insights request cannot be answered"


class CostNotFound(InsightsError):
    code = "cost_not_found"
    title = "No such cost"
