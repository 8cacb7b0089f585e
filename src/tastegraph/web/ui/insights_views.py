"""What the operator's insights pages share: the window a page asks for, money, shares and
week labels in the page's locale, the names of kinds of targeting and costs, the break-even's
assumptions in the page's language, and the shading of the overlap matrix.

The numbers themselves all come from ``InsightsService`` (``insights/services.py``), exactly as
``web/api/insights.py`` gets them; these helpers only say them the way the page's locale does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

from tastegraph.catalog.kinds import Kind
from tastegraph.insights.errors import InvalidInsightsRequest
from tastegraph.insights.models import CostKind
from tastegraph.insights.schemas import BreakEvenOut
from tastegraph.insights.windows import InsightWindow
from tastegraph.runtime import Services
from tastegraph.web.ui.discovery import KIND_NAMES, KIND_PLURALS, country_name
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageError

WEEK_CHOICES: tuple[int, ...] = (4, 8, 12, 26, 52)
DEFAULT_WEEKS = 12
TITLE_KINDS: tuple[Kind, ...] = (
    Kind.SHOW,
    Kind.EPISODE,
    Kind.FILM,
    Kind.MATCH,
    Kind.ARTIST,
    Kind.PROGRAMME,
    Kind.SEASON,
    Kind.COMPETITION,
    Kind.TEAM,
    Kind.ALBUM,
    Kind.TRACK,
    Kind.OUTLET,
    Kind.STORY,
)
"""Every kind may be a title; the ones an operator asks about most come first."""

TARGETING_NAMES: dict[str, str] = {
    "audience": N_("Audience segments"),
    "contextual": N_("Contextual"),
    "network": N_("Run of network"),
    "house": N_("House"),
    "targeted": N_("Targeted (segments and context)"),
}
COST_NAMES: dict[CostKind, str] = {
    CostKind.PRODUCTION: N_("Production"),
    CostKind.LICENCE: N_("Licence"),
}
ASSUMPTIONS: tuple[str, ...] = (
    N_(
        "Revenue per viewer is this window's (%(days)s days): the ad revenue of the "
        "impressions served in or around the title, at the prices paid, divided by its unique "
        "viewers in the window."
    ),
    N_(
        "Every further viewer brings the same revenue: the same ad load, prices and mix of "
        "targeting as this window's average viewer."
    ),
    N_(
        "Ad revenue alone pays for the title: subscriptions, rentals and other costs "
        "(delivery, marketing) are not counted."
    ),
    N_(
        "At run-of-network prices: the same paid impressions per viewer, each sold at the "
        "site's run-of-network eCPM in the window."
    ),
    N_(
        "Viewers needed are unique viewers of a window of %(days)s days; the windows needed "
        "say how many such windows at the current audience recoup the cost."
    ),
    N_("Costs in another currency than %(currency)s are not converted: they are left out."),
)
"""``insights/breakeven.py``'s assumptions, as the page's language says them."""

HEAT_LEVELS = 5


@dataclass(frozen=True)
class Span:
    """The window a page asks for: the last ``weeks`` weeks of the time zone ``tz``."""

    weeks: int
    tz: str

    def query(self, **extra: Any) -> str:
        values = {"weeks": self.weeks, "tz": self.tz, **extra}
        pairs = [
            (key, item)
            for key, value in values.items()
            for item in (value if isinstance(value, list | tuple) else [value])
            if item not in ("", None)
        ]
        return urlencode(pairs)


def pick_span(page: Page, weeks: int, tz: str) -> Span:
    """The weeks and zone of a page's query (the viewer's zone by default); a 404 page for
    a number of weeks the form does not offer."""
    if weeks not in WEEK_CHOICES:
        raise PageError(404, page.gettext("There is no such period."))
    return Span(weeks=weeks, tz=tz.strip()[:64] or page.timezone)


def open_window(page: Page, svc: Services, span: Span) -> InsightWindow:
    try:
        return svc.insights.window(weeks=span.weeks, timezone=span.tz)
    except InvalidInsightsRequest:
        raise PageError(
            422, page.gettext("Use a time zone such as Europe/Berlin or America/New_York.")
        ) from None


def local_day(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


@dataclass(frozen=True)
class Formats:
    """Numbers, shares and money as the page's locale writes them."""

    locale: str
    currency: str

    def number(self, value: float | None) -> str:
        return "—" if value is None else format_decimal(value, locale=self.locale)

    def percent(self, value: float | None) -> str:
        if value is None:
            return "—"
        # The locale's own pattern (``25 %`` in French), with at most one decimal kept.
        return format_percent(round(value, 3), locale=self.locale, decimal_quantization=False)

    def money(self, value: float | None, currency: str | None = None) -> str:
        """Whole amounts as the currency writes them; small ones (revenue per viewer) with
        up to four decimals instead of rounding them to nothing."""
        if value is None:
            return "—"
        return format_currency(
            round(value, 4),
            currency or self.currency,
            locale=self.locale,
            decimal_quantization=abs(value) >= 1 or value == 0,
        )

    def week(self, start: datetime, zone: str) -> str:
        """A week by the day it starts (in the window's zone): "Jun 2", "2 juin", "6月2日"."""
        return format_skeleton("MMMd", local_day(start, zone).date(), locale=self.locale)


def heat(value: float | None) -> str:
    """The shading class of an overlap cell: ``heat-0`` (none) to ``heat-5`` (everyone)."""
    if not value:
        return "heat-0"
    return f"heat-{min(HEAT_LEVELS, max(1, math.ceil(value * HEAT_LEVELS)))}"


def assumptions(page: Page, even: BreakEvenOut, days: float) -> list[str]:
    shown = format_decimal(round(days, 1), locale=page.locale)
    return [page.gettext(text, days=shown, currency=even.currency) for text in ASSUMPTIONS]


def labels(page: Page, formats: Formats) -> dict[str, Any]:
    """What every insights template gets besides the page's own data."""

    def country(code: str | None) -> str:
        return country_name(code, page.locale) if code else page.gettext("No country given")

    return {
        "fmt": formats,
        "kind_names": KIND_NAMES,
        "kind_plurals": KIND_PLURALS,
        "targeting_names": TARGETING_NAMES,
        "cost_names": COST_NAMES,
        "country_label": country,
        "week_choices": WEEK_CHOICES,
    }
