"""How many viewers a title needs to pay for itself from ad revenue.

    revenue per viewer            r     = revenue in the window / unique viewers in the window
    viewers needed                      = ceil(cost / r)
    at run-of-network prices      r_ron = paid impressions per viewer x site network eCPM / 1000
    viewers needed at RON prices        = ceil(cost / r_ron)
    windows needed                      = cost / revenue in the window

The difference between the two viewer counts is what selling the title's audience on taste
(targeting) is worth against selling its ad slots blind.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tastegraph.insights.models import TitleCost


@dataclass(frozen=True)
class BreakEven:
    currency: str
    cost_micros: int
    excluded: list[TitleCost]
    viewers: int
    revenue_micros: int
    revenue_per_viewer: float | None
    viewers_needed: int | None
    revenue_per_viewer_ron: float | None
    viewers_needed_ron: int | None
    coverage: float | None
    windows_needed: float | None
    assumptions: list[str]


def _needed(cost: int, per_viewer: float | None) -> int | None:
    if per_viewer is None or per_viewer <= 0:
        return None
    return math.ceil(cost / per_viewer - 1e-9)


def break_even(
    costs: Sequence[TitleCost],
    *,
    currency: str,
    viewers: int,
    revenue_micros: int,
    paid_impressions: int,
    network_ecpm_micros: float | None,
    window_days: float,
) -> BreakEven | None:
    """None when the title has no cost entered."""
    if not costs:
        return None
    counted = [c for c in costs if c.currency == currency]
    excluded = [c for c in costs if c.currency != currency]
    cost = sum(c.amount_micros for c in counted)
    per_viewer = revenue_micros / viewers if viewers and revenue_micros else None
    per_viewer_ron = (
        paid_impressions / viewers * network_ecpm_micros / 1000
        if viewers and paid_impressions and network_ecpm_micros
        else None
    )
    needed = _needed(cost, per_viewer) if cost else 0
    days = f"{window_days:g}"
    return BreakEven(
        currency=currency,
        cost_micros=cost,
        excluded=excluded,
        viewers=viewers,
        revenue_micros=revenue_micros,
        revenue_per_viewer=per_viewer,
        viewers_needed=needed,
        revenue_per_viewer_ron=per_viewer_ron,
        viewers_needed_ron=_needed(cost, per_viewer_ron) if cost else 0,
        coverage=round(viewers / needed, 4) if needed else None,
        windows_needed=round(cost / revenue_micros, 2) if revenue_micros else None,
        assumptions=[
            f"Revenue per viewer is this window's ({days} days): the ad revenue of the "
            "impressions served in or around the title, at the prices paid, divided by its "
            "unique viewers in the window.",
            "Every further viewer brings the same revenue: the same ad load, prices and mix "
            "of targeting as this window's average viewer.",
            "Ad revenue alone pays for the title: subscriptions, rentals and other costs "
            "(delivery, marketing) are not counted.",
            "At run-of-network prices: the same paid impressions per viewer, each sold at the "
            "site's run-of-network eCPM in the window.",
            f"Viewers needed are unique viewers of a {days}-day window; windows_needed is how "
            "many such windows at the current audience recoup the cost.",
            f"Costs in another currency than {currency} are not converted: they are left out.",
        ],
    )
