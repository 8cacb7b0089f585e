"""The advertiser console's home (campaigns with budget, spend and pacing) and what every
console page shares: who may enter, the advertisers they work for, money in the page's
locale, and the posted form.

Everything goes through ``AdService`` and ``AudienceService`` exactly as ``web/api/ads.py`` and
``web/api/audiences.py`` use them: the service's ``Scope`` limits a member to their own
advertiser, and anything outside it is "not found" (a 404 page).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_currency
from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from tastegraph.accounts.models import User
from tastegraph.ads.errors import NotAnAdvertiser
from tastegraph.ads.models import Advertiser, Campaign, Pacing, Priority, Status
from tastegraph.ads.schemas import ReportDimension, ReportOut, money
from tastegraph.ads.services import OPERATOR_PRIORITIES, Scope
from tastegraph.runtime import Services
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router

router = page_router()

MoneyFormat = Callable[[float | Decimal | None], str]

PRIORITY_LABELS: dict[Priority, str] = {
    Priority.SPONSORSHIP: N_("Sponsorship"),
    Priority.STANDARD: N_("Standard"),
    Priority.REMNANT: N_("Remnant"),
    Priority.HOUSE: N_("House"),
}
STATUS_LABELS: dict[Status, str] = {
    Status.ACTIVE: N_("Active"),
    Status.PAUSED: N_("Paused"),
    Status.ARCHIVED: N_("Archived"),
}
PACING_LABELS: dict[Pacing, str] = {
    Pacing.EVEN: N_("Even"),
    Pacing.ASAP: N_("As fast as possible"),
}
MAX_REPORT_DAYS = 367


async def posted_form(request: Request) -> FormData:
    """The posted form (already read, and cached, by the CSRF check)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(posted_form)]


def form_lists(form: FormData) -> dict[str, list[str]]:
    """Every field of the form as a list of strings (repeated names keep their order)."""
    return {key: [str(v) for v in form.getlist(key)] for key in form}


def form_text(form: FormData, name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return str(value).strip()[:limit] if value is not None else ""


@dataclass
class Console:
    """Who is at the console: the user, what the ads area lets them see, their advertisers."""

    user: User
    scope: Scope
    advertisers: list[Advertiser]
    currency: str

    @property
    def admin(self) -> bool:
        return self.scope.admin

    def priorities(self) -> list[Priority]:
        """What this user may give a campaign (sponsorship and house are the operator's)."""
        return [p for p in Priority if self.admin or p not in OPERATOR_PRIORITIES]


def open_console(page: Page, svc: Services) -> Console:
    """The console of the signed-in viewer; a 403 page for someone who works for no
    advertiser (and is no administrator)."""
    user = page.require_user(svc)
    try:
        scope = svc.ads.scope(user)
    except NotAnAdvertiser:
        raise PageError(
            403,
            page.gettext(
                "Your account does not work for an advertiser. An administrator can add it to one."
            ),
        ) from None
    return Console(
        user=user,
        scope=scope,
        advertisers=svc.ads.list_advertisers(scope),
        currency=page.runtime.settings.ads_currency,
    )


def money_format(page: Page, currency: str) -> MoneyFormat:
    """Amounts as the page's locale writes money: ``1.234,50 €``, ``€1,234.50``, ``€1,234.50``."""

    def fmt(value: float | Decimal | None) -> str:
        if value is None:
            return "—"
        return format_currency(value, currency, locale=page.locale)

    return fmt


def country_name(locale: str, code: str | None) -> str:
    """A country's name in the page's language (its code when Babel does not know it)."""
    if not code:
        return ""
    names: Mapping[str, str] = Locale.parse(locale).territories
    return names.get(code.upper(), code.upper())


def language_name(locale: str, code: str) -> str:
    names: Mapping[str, str] = Locale.parse(locale).languages
    return names.get(code, code)


def console_context(page: Page, console: Console, **extra: Any) -> dict[str, Any]:
    """What every console template needs besides the page's own context."""
    return {
        "console": console,
        "money": money_format(page, console.currency),
        "currency": console.currency,
        "priority_labels": PRIORITY_LABELS,
        "status_labels": STATUS_LABELS,
        "pacing_labels": PACING_LABELS,
        "country_name": lambda code: country_name(page.locale, code),
        "language_name": lambda code: language_name(page.locale, code),
        "fmt_day": lambda day: format_skeleton("MMMd", day, locale=page.locale),
        **extra,
    }


def today(page: Page) -> date:
    return page.runtime.ads.clock().astimezone(UTC).date()


def parse_money(text: str) -> Decimal | None:
    """A decimal amount as ``<input type=number>`` sends it ("1234.5"); None when blank.
    Raises ValueError for anything else."""
    text = text.strip().replace(" ", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def local_input(moment: datetime | None, timezone: str) -> str:
    """A moment as ``<input type=datetime-local>`` shows it, in the viewer's time zone."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def parse_local(text: str, timezone: str) -> datetime | None:
    """``2026-11-01T08:00`` in the viewer's time zone -> an aware moment; None when blank.
    Raises ValueError for anything else."""
    text = text.strip()
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


def parse_id(text: str | None) -> int | None:
    """An id from a query string or a select ("" for none); anything else is a 404."""
    if text is None or text == "":
        return None
    if not text.isdigit() or len(text) > 18:
        raise PageError(404)
    return int(text)


# -- pacing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignPacing:
    """How a campaign's spend compares with its budgets and flight."""

    spent: float
    spent_today: float
    budget_share: float | None
    """Spend / total budget."""
    today_share: float | None
    """Today's spend / daily budget."""
    flight_share: float | None
    """How much of the flight has passed (None without an end)."""
    state: str
    """"scheduled", "ended", "ahead", "behind", "on_track" or "" (nothing to compare)."""


PACING_STATES: dict[str, str] = {
    "scheduled": N_("Not started"),
    "ended": N_("Ended"),
    "ahead": N_("Ahead of schedule"),
    "behind": N_("Behind schedule"),
    "on_track": N_("On schedule"),
    "": N_("No schedule to compare"),
}
PACING_TOLERANCE = 0.1
"""Spend within ten points of the flight's elapsed share counts as on schedule."""


def pacing_of(
    campaign: Campaign, spent: float, spent_today: float, now: datetime
) -> CampaignPacing:
    total = money(campaign.total_budget_micros)
    daily = money(campaign.daily_budget_micros)
    starts = (
        campaign.starts_at if campaign.starts_at.tzinfo else campaign.starts_at.replace(tzinfo=UTC)
    )
    ends = campaign.ends_at
    if ends is not None and ends.tzinfo is None:
        ends = ends.replace(tzinfo=UTC)
    flight: float | None = None
    if ends is not None and ends > starts:
        flight = min(1.0, max(0.0, (now - starts) / (ends - starts)))
    budget_share = spent / total if total else None
    state = ""
    if now < starts:
        state = "scheduled"
    elif ends is not None and now >= ends:
        state = "ended"
    elif flight is not None and budget_share is not None:
        if budget_share > flight + PACING_TOLERANCE:
            state = "ahead"
        elif budget_share < flight - PACING_TOLERANCE:
            state = "behind"
        else:
            state = "on_track"
    return CampaignPacing(
        spent=spent,
        spent_today=spent_today,
        budget_share=budget_share,
        today_share=spent_today / daily if daily else None,
        flight_share=flight,
        state=state,
    )


def spend_by_campaign(
    page: Page, svc: Services, console: Console, campaigns: Sequence[Campaign]
) -> tuple[dict[int, float], dict[int, float]]:
    """(spend in all, spend today) per campaign id, from the ads area's reports."""
    if not campaigns:
        return {}, {}
    last = today(page)
    first = min(c.starts_at.date() for c in campaigns)
    first = max(first, last - timedelta(days=MAX_REPORT_DAYS - 1))
    if first > last:
        return {}, {}

    def spend(since: date) -> dict[int, float]:
        out: ReportOut = svc.ads.report(
            console.scope,
            since=since,
            until=last,
            group_by=[ReportDimension.CAMPAIGN],
            reach=page.runtime.ads.reach,
            frequency_sample=page.runtime.ads.frequency_sample,
        )
        return {int(row.dimensions["campaign"]): row.spend for row in out.rows}

    return spend(first), spend(last)


# -- the console's home -------------------------------------------------------------------------


@router.get("/console")
def console_home(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        campaigns = svc.ads.list_campaigns(console.scope)
        spent, spent_today = spend_by_campaign(page, svc, console, campaigns)
        now = page.runtime.ads.clock()
        rows = [
            (c, pacing_of(c, spent.get(c.id, 0.0), spent_today.get(c.id, 0.0), now))
            for c in campaigns
        ]
        by_advertiser = {
            a.id: [(c, p) for c, p in rows if c.advertiser_id == a.id] for a in console.advertisers
        }
        return page.render(
            "ui/console/home.html",
            console_context(
                page,
                console,
                by_advertiser=by_advertiser,
                pacing_states=PACING_STATES,
                counts={
                    "campaigns": len(campaigns),
                    "active": sum(1 for c in campaigns if c.status is Status.ACTIVE),
                    "spent": sum(spent.values()),
                    "spent_today": sum(spent_today.values()),
                },
            ),
        )


def describer(page: Page) -> Callable[[str], str]:
    """Messages for form errors: about a named field, or in general."""

    def describe(label: str) -> str:
        if label:
            return page.gettext("Check the field “%(field)s”.", field=label)
        return page.gettext("Check what you entered and try again.")

    return describe
