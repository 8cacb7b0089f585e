"""Console: delivery reports with plots — impressions and reach per day, the frequency
distribution, CTR by segment and by country, targeted against run-of-network delivery — a
breakdown table, and the same reports as CSV.

Every figure comes from ``AdService.report`` (``ads/reporting.py``) with the viewer's scope, as
``GET /api/v1/ads/reports`` gets it: only the advertiser's own aggregates, never a viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import Response

from tastegraph.ads.reporting import report_csv
from tastegraph.ads.schemas import FREQUENCY_BUCKETS, ReportDimension, ReportOut, ReportRow
from tastegraph.runtime import Services
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router
from tastegraph.web.ui.routes.console import (
    MAX_REPORT_DAYS,
    Console,
    console_context,
    open_console,
    parse_id,
    today,
)

router = page_router()

DEFAULT_DAYS = 30
TOP_ROWS = 15
BREAKDOWNS: dict[ReportDimension, str] = {
    ReportDimension.CAMPAIGN: N_("Campaign"),
    ReportDimension.LINE_ITEM: N_("Line item"),
    ReportDimension.CREATIVE: N_("Creative"),
    ReportDimension.SEGMENT: N_("Segment"),
    ReportDimension.COUNTRY: N_("Country"),
    ReportDimension.PLACEMENT: N_("Placement"),
    ReportDimension.TARGETING: N_("Targeting"),
    ReportDimension.DAY: N_("Day"),
}
TARGETING_LABELS: dict[str, str] = {
    "audience": N_("Audience segments"),
    "contextual": N_("Contextual"),
    "network": N_("Run of network"),
    "house": N_("House"),
}


@dataclass(frozen=True)
class Filters:
    since: date
    until: date
    advertiser_id: int | None
    campaign_id: int | None
    line_item_id: int | None
    creative_id: int | None
    by: ReportDimension

    def query(self, **changes: Any) -> str:
        values: dict[str, Any] = {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "advertiser_id": self.advertiser_id or "",
            "campaign_id": self.campaign_id or "",
            "line_item_id": self.line_item_id or "",
            "creative_id": self.creative_id or "",
            "by": self.by.value,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _date(page: Page, text: str, default: date) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PageError(404, page.gettext("Check the dates of the report.")) from None


def _filters(
    page: Page,
    since: str,
    until: str,
    advertiser_id: str,
    campaign_id: str,
    line_item_id: str,
    creative_id: str,
    by: str,
) -> Filters:
    last = _date(page, until, today(page))
    first = _date(page, since, last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last or (last - first).days >= MAX_REPORT_DAYS:
        raise PageError(
            422,
            page.gettext(
                "A report starts on or before its last day and covers at most %(days)s days.",
                days=MAX_REPORT_DAYS,
            ),
        )
    campaign = parse_id(campaign_id)
    line_item = parse_id(line_item_id)
    creative = parse_id(creative_id)
    try:
        dimension = ReportDimension(by) if by else None
    except ValueError:
        raise PageError(404) from None
    if dimension is None or dimension not in BREAKDOWNS:
        dimension = (
            ReportDimension.CREATIVE
            if line_item
            else ReportDimension.LINE_ITEM
            if campaign
            else ReportDimension.CAMPAIGN
        )
    return Filters(first, last, parse_id(advertiser_id), campaign, line_item, creative, dimension)


def _report(
    page: Page, svc: Services, console: Console, filters: Filters, *dims: ReportDimension
) -> ReportOut:
    return svc.ads.report(
        console.scope,
        since=filters.since,
        until=filters.until,
        group_by=list(dims),
        advertiser_id=filters.advertiser_id,
        campaign_id=filters.campaign_id,
        line_item_id=filters.line_item_id,
        creative_id=filters.creative_id,
        reach=page.runtime.ads.reach,
        frequency_sample=page.runtime.ads.frequency_sample,
    )


def row_label(page: Page, console_names: dict[str, Any], row: ReportRow) -> str:
    """The name of a report row's group, in the page's language where it is a word."""
    dims = row.dimensions
    if "day" in dims:
        return str(dims["day"])
    if "country" in dims:
        code = dims["country"]
        return console_names["country_name"](code) if code else page.gettext("Unknown country")
    if "targeting" in dims:
        return page.gettext(TARGETING_LABELS.get(dims["targeting"], dims["targeting"]))
    if "segment" in dims:
        return dims.get("segment_name") or page.gettext("No segment")
    for key in ("creative", "line_item", "campaign", "placement", "advertiser"):
        if key in dims:
            return str(dims.get(f"{key}_name") or f"#{dims[key]}")
    return ""


def _top(rows: list[ReportRow]) -> list[ReportRow]:
    return sorted((r for r in rows if r.impressions), key=lambda r: -r.impressions)[:TOP_ROWS]


@router.get("/console/reports")
def reports(
    page: PageDep,
    since: str = "",
    until: str = "",
    advertiser_id: str = "",
    campaign_id: str = "",
    line_item_id: str = "",
    creative_id: str = "",
    by: str = "",
) -> Response:
    filters = _filters(
        page, since, until, advertiser_id, campaign_id, line_item_id, creative_id, by
    )
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        context = console_context(page, console)
        daily = _report(page, svc, console, filters, ReportDimension.DAY)
        by_segment = _report(page, svc, console, filters, ReportDimension.SEGMENT)
        by_country = _report(page, svc, console, filters, ReportDimension.COUNTRY)
        by_targeting = _report(page, svc, console, filters, ReportDimension.TARGETING)
        breakdown = (
            daily
            if filters.by is ReportDimension.DAY
            else _report(page, svc, console, filters, filters.by)
        )
        campaigns = svc.ads.list_campaigns(console.scope, filters.advertiser_id)
        line_items = (
            svc.ads.list_line_items(console.scope, filters.campaign_id)
            if filters.campaign_id
            else []
        )
        creatives = (
            svc.ads.list_creatives(console.scope, filters.line_item_id)
            if filters.line_item_id
            else []
        )

        days = [
            filters.since + timedelta(days=n)
            for n in range((filters.until - filters.since).days + 1)
        ]
        per_day = {row.dimensions["day"]: row for row in daily.rows}

        def label(row: ReportRow) -> str:
            return row_label(page, context, row)

        total = daily.total
        return page.render(
            "ui/console/reports.html",
            {
                **context,
                "filters": filters,
                "breakdowns": BREAKDOWNS,
                "campaigns": campaigns,
                "line_items": line_items,
                "creatives": creatives,
                "total": total,
                "report": daily,
                "impressions_by_day": [
                    (
                        d,
                        float(
                            per_day[d.isoformat()].impressions if d.isoformat() in per_day else 0
                        ),
                    )
                    for d in days
                ],
                "reach_by_day": [
                    (d, float(per_day[d.isoformat()].reach if d.isoformat() in per_day else 0))
                    for d in days
                ],
                "frequency": [
                    (bucket, float(total.frequency.get(bucket, 0))) for bucket in FREQUENCY_BUCKETS
                ],
                "ctr_by_segment": [(label(r), r.ctr) for r in _top(by_segment.rows)],
                "ctr_by_country": [(label(r), r.ctr) for r in _top(by_country.rows)],
                "by_targeting": [(label(r), float(r.impressions)) for r in _top(by_targeting.rows)],
                "targeted_share": sum(
                    r.impressions
                    for r in by_targeting.rows
                    if r.dimensions.get("targeting") in {"audience", "contextual"}
                )
                / total.impressions
                if total.impressions
                else 0.0,
                "breakdown_rows": [(label(r), r) for r in breakdown.rows],
                "breakdown_label": page.gettext(BREAKDOWNS[filters.by]),
                "fmt_percent": lambda v: _percent(page, v),
                "fmt_money": context["money"],
            },
        )


def _percent(page: Page, value: float) -> str:
    from babel.numbers import format_percent

    return format_percent(value, format="#,##0.##%", locale=page.locale)


@router.get("/console/reports.csv")
def reports_csv(
    page: PageDep,
    since: str = "",
    until: str = "",
    advertiser_id: str = "",
    campaign_id: str = "",
    line_item_id: str = "",
    creative_id: str = "",
    by: str = "",
) -> Response:
    """The same report as ``GET /api/v1/ads/reports?format=csv``: one line per day and group,
    then a total line."""
    filters = _filters(
        page, since, until, advertiser_id, campaign_id, line_item_id, creative_id, by
    )
    dims = (
        [ReportDimension.DAY]
        if filters.by is ReportDimension.DAY
        else [ReportDimension.DAY, filters.by]
    )
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        out = _report(page, svc, console, filters, *dims)
    name = f"ads-{filters.since}-{filters.until}-{filters.by.value}.csv"
    return page.finish(
        Response(
            report_csv(out),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    )
