"""The operator's audience insights (administrators only; everyone else gets a 404 page, as
for the other administration pages): the most watched titles and a title search, one title's
audience, trend, countries, segments, groups, revenue and break-even with its costs, the
audience overlap between titles, and the local-content report — each also as CSV.

Every number comes from ``InsightsService`` as ``/api/v1/insights`` gets it (the API's bearer
tokens do not open pages, so the CSV files are page routes over the same ``insights/export.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Form, Query
from fastapi.responses import Response
from pydantic import ValidationError

from tastegraph.catalog.kinds import CONSUMABLE, Kind
from tastegraph.insights.errors import InvalidInsightsRequest
from tastegraph.insights.export import local_content_csv, overlap_csv, title_csv
from tastegraph.insights.models import CostKind
from tastegraph.insights.overlap import MAX_TITLES
from tastegraph.insights.schemas import CostIn, LocalContentOut, OverlapOut, TitleInsightsOut
from tastegraph.locales import normalize_country
from tastegraph.runtime import Services
from tastegraph.stats.periods import Window
from tastegraph.web.ui.console_forms import FormErrors
from tastegraph.web.ui.discovery import pick_kind
from tastegraph.web.ui.insights_views import (
    COST_NAMES,
    DEFAULT_WEEKS,
    TARGETING_NAMES,
    TITLE_KINDS,
    Formats,
    Span,
    assumptions,
    heat,
    labels,
    open_window,
    pick_span,
)
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router
from tastegraph.web.ui.routes.admin import require_admin
from tastegraph.web.ui.routes.console import parse_money

router = page_router()

TOP_TITLES = 20
SEARCH_RESULTS = 20
DEFAULT_OVERLAP_TOP = 5
TOP_COUNTRIES_CHARTED = 10
MAX_COUNTRIES = 30

Text = Annotated[str, Form(max_length=300)]
Ids = Annotated[list[str] | None, Query(max_length=MAX_TITLES * 2)]


def _formats(page: Page) -> Formats:
    return Formats(locale=page.locale, currency=page.runtime.settings.ads_currency)


def _csv(page: Page, text: str, name: str) -> Response:
    return page.finish(
        Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    )


# -- the index: most watched titles and a search -----------------------------------------------


@router.get("/admin/insights")
def index(
    page: PageDep, q: str = "", kind: str = "", weeks: int = DEFAULT_WEEKS, tz: str = ""
) -> Response:
    query = q.strip()[:100]
    chosen = pick_kind(page, kind, TITLE_KINDS)
    span = pick_span(page, weeks, tz)
    formats = _formats(page)
    with page.unit_of_work() as svc:
        require_admin(page, svc)
        window = open_window(page, svc, span)
        found = svc.catalog.search(query, kind=chosen, limit=SEARCH_RESULTS) if query else []
        top_kind = chosen or Kind.SHOW
        chart = svc.stats.chart(
            top_kind,
            window=Window(window.since, window.until, window.timezone),
            limit=TOP_TITLES,
            listeners=True,
        )
        briefs = svc.catalog.briefs([*found, *(e.item for e in chart.entries)])
        return page.render(
            "ui/insights/index.html",
            {
                **labels(page, formats),
                "query": query,
                "kind": chosen,
                "top_kind": top_kind,
                "kinds": TITLE_KINDS,
                "span": span,
                "window": window,
                "timezone": window.timezone,
                "found": [briefs[i.id] for i in found],
                "chart": [(briefs[e.item.id], e) for e in chart.entries],
            },
        )


# -- one title ---------------------------------------------------------------------------------


def _title(page: Page, svc: Services, item_id: int, span: Span) -> TitleInsightsOut:
    out: TitleInsightsOut = svc.insights.title(item_id, open_window(page, svc, span))
    return out


def _title_page(
    page: Page,
    svc: Services,
    item_id: int,
    span: Span,
    *,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    data = _title(page, svc, item_id, span)
    formats = _formats(page)
    names = labels(page, formats)
    zone = data.window.timezone
    weeks = [(formats.week(w.start, zone), w) for w in data.weeks]
    days = (data.window.until - data.window.since).total_seconds() / 86_400
    return page.render(
        "ui/insights/title.html",
        {
            **names,
            "data": data,
            "span": span,
            "timezone": zone,
            "weeks": weeks,
            "viewers_by_week": [(label, float(w.viewers)) for label, w in weeks],
            "plays_by_week": [(label, float(w.plays)) for label, w in weeks],
            "revenue_by_week": [(label, w.revenue) for label, w in weeks],
            "countries_chart": [
                (names["country_label"](c.country), float(c.viewers))
                for c in data.countries[:TOP_COUNTRIES_CHARTED]
            ],
            "targeting_chart": [
                (page.gettext(TARGETING_NAMES[t.targeting]), t.revenue)
                for t in data.revenue.by_targeting
                if t.targeting in TARGETING_NAMES
            ],
            "floor_display": page.gettext("< %(floor)s", floor=formats.number(data.segments.floor)),
            "assumptions": assumptions(page, data.break_even, days) if data.break_even else [],
            "cost_kinds": [(k.value, page.gettext(COST_NAMES[k])) for k in CostKind],
            "errors": errors or FormErrors(),
            "values": values
            or {"kind": CostKind.PRODUCTION.value, "amount": "", "currency": "", "notes": ""},
            "money_axis": lambda v: formats.money(v, data.revenue.currency),
        },
        status=status,
    )


@router.get("/admin/insights/titles/{item_id}")
def title(item_id: int, page: PageDep, weeks: int = DEFAULT_WEEKS, tz: str = "") -> Response:
    span = pick_span(page, weeks, tz)
    with page.unit_of_work() as svc:
        require_admin(page, svc)
        return _title_page(page, svc, item_id, span)


@router.get("/admin/insights/titles/{item_id}/export.csv")
def title_export(item_id: int, page: PageDep, weeks: int = DEFAULT_WEEKS, tz: str = "") -> Response:
    """The same file as ``GET /api/v1/insights/titles/{id}?format=csv``."""
    span = pick_span(page, weeks, tz)
    with page.unit_of_work() as svc:
        require_admin(page, svc)
        data = _title(page, svc, item_id, span)
    return _csv(page, title_csv(data), f"title-{item_id}")


@router.post("/admin/insights/titles/{item_id}/costs")
def set_cost(
    item_id: int,
    page: PageDep,
    kind: Text,
    amount: Text,
    currency: Annotated[str, Form(max_length=8)] = "",
    notes: Annotated[str, Form(max_length=2000)] = "",
    weeks: Annotated[int, Form()] = DEFAULT_WEEKS,
    tz: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Enter or replace the title's production or licence cost (``InsightsService.set_cost``,
    as ``PUT /api/v1/insights/titles/{id}/costs/{kind}``); the break-even follows."""
    span = pick_span(page, weeks, tz)
    values = {
        "kind": kind,
        "amount": amount.strip(),
        "currency": currency.strip().upper(),
        "notes": notes.strip(),
    }
    errors = FormErrors()
    cost_kind = next((k for k in CostKind if k.value == kind), None)
    if cost_kind is None:
        errors.add("kind", page.gettext("Choose a production or a licence cost."))
    data: CostIn | None = None
    try:
        parsed: Decimal | None = parse_money(values["amount"])
        data = CostIn(
            amount=parsed if parsed is not None else Decimal(0),
            currency=values["currency"] or page.runtime.settings.ads_currency,
            notes=values["notes"] or None,
        )
    except ValueError as exc:  # ValidationError is a ValueError
        fields = (
            {str(e["loc"][0]) for e in exc.errors()} if isinstance(exc, ValidationError) else set()
        )
        if "currency" in fields:
            errors.add("currency", page.gettext("Give a currency code such as EUR."))
        if not fields or fields - {"currency", "notes"}:
            errors.add(
                "amount",
                page.gettext("Give an amount above zero, with at most six decimals."),
            )
        if "notes" in fields:
            errors.add("notes", page.gettext("Check what you entered and try again."))
    with page.unit_of_work(write=True) as svc:
        require_admin(page, svc)
        if cost_kind is not None and data is not None and not errors:
            try:
                svc.insights.set_cost(item_id, cost_kind, data)
            except InvalidInsightsRequest:
                svc.session.rollback()
                errors.add(
                    "amount",
                    page.gettext("Give an amount above zero, with at most six decimals."),
                )
        if errors:
            svc.session.rollback()
            return _title_page(page, svc, item_id, span, errors=errors, values=values, status=422)
    return page.redirect(f"/admin/insights/titles/{item_id}?{span.query()}#break-even")


@router.post("/admin/insights/titles/{item_id}/costs/{kind}/delete")
def remove_cost(
    item_id: int,
    kind: str,
    page: PageDep,
    weeks: Annotated[int, Form()] = DEFAULT_WEEKS,
    tz: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    span = pick_span(page, weeks, tz)
    cost_kind = next((k for k in CostKind if k.value == kind), None)
    with page.unit_of_work(write=True) as svc:
        require_admin(page, svc)
        if cost_kind is None:
            raise PageError(404)
        svc.insights.remove_cost(item_id, cost_kind)
    return page.redirect(f"/admin/insights/titles/{item_id}?{span.query()}#break-even")


# -- audience overlap ---------------------------------------------------------------------------


def _ids(values: list[str] | None) -> list[int]:
    found = []
    for value in values or []:
        for part in value.replace(" ", ",").split(","):
            if not part:
                continue
            if not part.isdigit() or len(part) > 18:
                raise PageError(404)
            found.append(int(part))
    return list(dict.fromkeys(found))


def _overlap(
    page: Page, svc: Services, span: Span, kind: Kind | None, ids: list[int], top: int
) -> OverlapOut:
    window = open_window(page, svc, span)
    try:
        out: OverlapOut = svc.insights.overlap(
            window, kind=None if ids else kind or Kind.SHOW, item_ids=ids or None, top=top
        )
    except InvalidInsightsRequest:
        raise PageError(
            422,
            page.gettext("Compare from 2 to %(most)s titles.", most=MAX_TITLES),
        ) from None
    return out


def _overlap_args(
    page: Page, kind: str, ids: list[str] | None, top: int, weeks: int, tz: str
) -> tuple[Kind | None, list[int], int, Span]:
    if not 2 <= top <= MAX_TITLES:
        raise PageError(404)
    return pick_kind(page, kind, TITLE_KINDS), _ids(ids), top, pick_span(page, weeks, tz)


@router.get("/admin/insights/overlap")
def overlap(
    page: PageDep,
    kind: str = "",
    ids: Ids = None,
    top: int = DEFAULT_OVERLAP_TOP,
    metric: str = "share",
    weeks: int = DEFAULT_WEEKS,
    tz: str = "",
) -> Response:
    chosen, item_ids, top, span = _overlap_args(page, kind, ids, top, weeks, tz)
    if metric not in {"share", "jaccard"}:
        raise PageError(404)
    formats = _formats(page)
    with page.unit_of_work() as svc:
        require_admin(page, svc)
        data = _overlap(page, svc, span, chosen, item_ids, top)
        cells = {(c.a, c.b): c for c in data.cells}
        matrix = [
            (
                row,
                [
                    cells.get((row.title.id, column.title.id))
                    if row.title.id != column.title.id
                    else None
                    for column in data.titles
                ],
            )
            for row in data.titles
        ]
        return page.render(
            "ui/insights/overlap.html",
            {
                **labels(page, formats),
                "data": data,
                "matrix": matrix,
                "metric": metric,
                "kind": chosen or (None if item_ids else Kind.SHOW),
                "ids": item_ids,
                "top": top,
                "span": span,
                "kinds": TITLE_KINDS,
                "timezone": data.window.timezone,
                "heat": heat,
                "export_query": span.query(
                    ids=",".join(str(t.title.id) for t in data.titles) if item_ids else "",
                    kind="" if item_ids else (chosen or Kind.SHOW).value,
                    top="" if item_ids else top,
                ),
            },
        )


@router.get("/admin/insights/overlap.csv")
def overlap_export(
    page: PageDep,
    kind: str = "",
    ids: Ids = None,
    top: int = DEFAULT_OVERLAP_TOP,
    weeks: int = DEFAULT_WEEKS,
    tz: str = "",
) -> Response:
    """The same file as ``GET /api/v1/insights/overlap?format=csv``."""
    chosen, item_ids, top, span = _overlap_args(page, kind, ids, top, weeks, tz)
    with page.unit_of_work() as svc:
        require_admin(page, svc)
        data = _overlap(page, svc, span, chosen, item_ids, top)
    return _csv(page, overlap_csv(data), "overlap")


# -- the local-content report -------------------------------------------------------------------


def _local_args(
    page: Page, country: str, kind: list[str] | None, sample: int
) -> tuple[list[str], list[Kind]]:
    if not 1 <= sample <= 500:
        raise PageError(404)
    codes = []
    for part in country.replace(",", " ").split()[:MAX_COUNTRIES]:
        try:
            codes.append(normalize_country(part))
        except ValueError:
            raise PageError(404, page.gettext("There is no such country.")) from None
    kinds = []
    for value in kind or []:
        chosen = pick_kind(page, value, tuple(sorted(CONSUMABLE)))
        if chosen is not None:
            kinds.append(chosen)
    return list(dict.fromkeys(codes)), list(dict.fromkeys(kinds))


def _local(
    page: Page, svc: Services, span: Span, codes: list[str], kinds: list[Kind], sample: int
) -> LocalContentOut:
    window = open_window(page, svc, span)
    try:
        out: LocalContentOut = svc.insights.local_content(
            window, countries=codes or None, kinds=kinds or None, sample=sample
        )
    except InvalidInsightsRequest:
        raise PageError(
            422, page.gettext("The local-content report cannot be made on this server.")
        ) from None
    return out


Kinds = Annotated[list[str] | None, Query(max_length=len(CONSUMABLE))]


@router.get("/admin/insights/local-content")
def local_content(
    page: PageDep,
    country: str = "",
    kind: Kinds = None,
    sample: int = 20,
    weeks: int = DEFAULT_WEEKS,
    tz: str = "",
) -> Response:
    codes, kinds = _local_args(page, country, kind, sample)
    span = pick_span(page, weeks, tz)
    formats = _formats(page)
    with page.unit_of_work() as svc:
        require_admin(page, svc)
        data = _local(page, svc, span, codes, kinds, sample)
        context: dict[str, Any] = {
            **labels(page, formats),
            "data": data,
            "span": span,
            "country_text": " ".join(codes),
            "chosen_kinds": kinds or list(dict.fromkeys(c.kind for c in data.cells)),
            "consumable": sorted(CONSUMABLE),
            "sample": sample,
            "timezone": data.window.timezone,
            "export_query": span.query(
                country=",".join(codes), kind=[k.value for k in kinds], sample=sample
            ),
        }
        return page.render("ui/insights/local_content.html", context)


@router.get("/admin/insights/local-content.csv")
def local_content_export(
    page: PageDep,
    country: str = "",
    kind: Kinds = None,
    sample: int = 20,
    weeks: int = DEFAULT_WEEKS,
    tz: str = "",
) -> Response:
    """The same file as ``GET /api/v1/insights/local-content?format=csv``."""
    codes, kinds = _local_args(page, country, kind, sample)
    span = pick_span(page, weeks, tz)
    with page.unit_of_work() as svc:
        require_admin(page, svc)
        data = _local(page, svc, span, codes, kinds, sample)
    return _csv(page, local_content_csv(data), "local-content")
