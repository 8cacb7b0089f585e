"""A title's ad revenue: the impressions served in or around the items it covers, at the
prices advertisers paid (first price: the winning bid), from ``title_ad_delivery``; and the
site's run-of-network eCPM from the ads area's own ``ad_delivery``.

"Targeted" is everything bought on the viewer or the content: audience (a segment) and
contextual (kinds, categories, languages...) line items. "Run of network" is line items
without targeting. House ads earn nothing and count only as impressions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, null, select, union_all
from sqlalchemy.orm import Session

from tastegraph.ads.models import AdDelivery
from tastegraph.insights.models import TitleAdDelivery
from tastegraph.insights.windows import InsightWindow

MODES = ("audience", "contextual", "network", "house")
TARGETED = frozenset({"audience", "contextual"})
NETWORK = "network"
SITE_NETWORK = "site:network"


@dataclass
class Money:
    impressions: int = 0
    clicks: int = 0
    spend_micros: int = 0

    def add(self, other: Money) -> None:
        self.impressions += other.impressions
        self.clicks += other.clicks
        self.spend_micros += other.spend_micros

    @property
    def ecpm_micros(self) -> float | None:
        return self.spend_micros * 1000 / self.impressions if self.impressions else None


@dataclass
class Revenue:
    total: Money
    by_mode: dict[str, Money]
    weeks: list[Money]
    network_ecpm_micros: float | None
    """The site's run-of-network eCPM in the window, in micros."""
    targeted: Money = field(init=False)

    def __post_init__(self) -> None:
        self.targeted = Money()
        for mode in TARGETED:
            self.targeted.add(self.by_mode.get(mode, Money()))

    @property
    def paid_impressions(self) -> int:
        return self.total.impressions - self.by_mode.get("house", Money()).impressions


def days_of(window: InsightWindow) -> tuple[date, date]:
    """The UTC days the window touches (ads count per UTC day of the decision)."""
    last = (window.until - timedelta(microseconds=1)).astimezone(UTC).date()
    return window.since.astimezone(UTC).date(), last


def count_revenue(session: Session, items: Sequence[int], window: InsightWindow) -> Revenue:
    """Revenue of the UTC days the window touches; each day goes to the week holding its
    start (a UTC day across a local week boundary is not split)."""
    first, last = days_of(window)
    t = TitleAdDelivery
    d = AdDelivery
    title = (
        select(
            t.day,
            t.mode,
            func.sum(t.impressions),
            func.sum(t.clicks),
            func.sum(t.spend_micros),
        )
        .where(t.item_id.in_(list(items)), t.day >= first, t.day <= last)
        .group_by(t.day, t.mode)
    )
    # The site's run-of-network delivery in the same statement: one round trip.
    site = select(
        null(), literal(SITE_NETWORK), func.sum(d.impressions), literal(0), func.sum(d.spend_micros)
    ).where(d.day >= first, d.day <= last, d.mode == NETWORK)
    total = Money()
    by_mode: dict[str, Money] = defaultdict(Money)
    weeks = [Money() for _ in window.weeks]
    network: float | None = None
    rows: Any = session.execute(union_all(title, site))
    for day, mode, impressions, clicks, spend in rows:
        if mode == SITE_NETWORK:
            network = int(spend or 0) * 1000 / int(impressions) if impressions else None
            continue
        money = Money(int(impressions or 0), int(clicks or 0), int(spend or 0))
        total.add(money)
        by_mode[mode].add(money)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        index = window.week_index(max(start, window.since))
        if index is not None:
            weeks[index].add(money)
    return Revenue(total=total, by_mode=dict(by_mode), weeks=weeks, network_ecpm_micros=network)
