"""Site charts: everyone's plays (incognito ones never count) of a level and period, optionally
of the listeners of one country or of items with a tag; the same ``StatsService.chart`` as
``/api/v1/charts/{level}``."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from babel import Locale
from fastapi.responses import Response

from tastegraph.catalog.kinds import Kind
from tastegraph.locales import countries, normalize_country
from tastegraph.stats.periods import Period, resolve
from tastegraph.stats.services import Chart
from tastegraph.web.ui.discovery import (
    KIND_PLURALS,
    PERIODS,
    catalog_viewer,
    country_name,
    item_path,
    labels,
    pick_kind,
    pick_period,
)
from tastegraph.web.ui.page import PageDep, PageError, page_router

router = page_router()

DEFAULT_PERIOD = Period.DAYS_7
CHART_SIZE = 50
BARS = 10
TAGS_SHOWN = 20
MAX_TAG = 64


@cache
def country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """Every country as (code, name in ``locale``), sorted by name."""
    names = Locale.parse(locale).territories
    return tuple(sorted(((c, str(names.get(c, c))) for c in countries()), key=lambda p: p[1]))


def _chart_tags(tags: dict[int, list[str]], chart: Chart) -> list[str]:
    """The tags of the chart's items, weighted by their plays (everyone's tags over a long
    period would be a scan of every play: these come from the page's items)."""
    weights: dict[str, int] = {}
    for entry in chart.entries:
        for name in tags.get(entry.item.id, []):
            weights[name] = weights.get(name, 0) + entry.plays
    return sorted(weights, key=lambda name: (-weights[name], name))[:TAGS_SHOWN]


@router.get("/charts")
def charts(
    page: PageDep, level: str = "", period: str = "", country: str = "", tag: str = ""
) -> Response:
    shown_level = pick_kind(page, level) or Kind.ARTIST
    chosen = pick_period(page, period, DEFAULT_PERIOD)
    place = None
    if country:
        try:
            place = normalize_country(country)
        except ValueError:
            raise PageError(404, page.gettext("There is no such country.")) from None
    tag = tag.strip()
    if len(tag) > MAX_TAG:
        raise PageError(404, page.gettext("There is no such tag."))
    window = resolve(chosen, "UTC", datetime.now(UTC))
    with page.unit_of_work() as svc:
        viewer = page.user(svc)
        chart = svc.stats.chart(
            shown_level, window=window, country=place, tag=tag or None, limit=CHART_SIZE
        )
        briefs = svc.catalog.briefs([e.item for e in chart.entries], catalog_viewer(page, viewer))
        tags = _chart_tags(svc.catalog.top_tags([e.item.id for e in chart.entries]), chart)
        params = {
            "level": shown_level.value,
            "period": chosen.value,
            "country": place,
            "tag": tag or None,
        }
        return page.render(
            "ui/charts/charts.html",
            {
                **labels(),
                "chart": chart,
                "bars": chart.entries[:BARS],
                "bar_rows": [
                    (briefs[e.item.id].title, float(e.plays)) for e in chart.entries[:BARS]
                ],
                "bar_links": [item_path(e.item.id) for e in chart.entries[:BARS]],
                "briefs": briefs,
                "level": shown_level,
                "levels": [(k.value, page.gettext(KIND_PLURALS[k])) for k in Kind],
                "periods": [(p.value, page.gettext(label)) for p, label in PERIODS],
                "period": chosen,
                "period_label": page.gettext(dict(PERIODS)[chosen]),
                "country": place,
                "country_label": country_name(place, page.locale) if place else "",
                "countries": country_choices(page.locale),
                "tag": tag,
                "tags": tags,
                "params": params,
            },
        )
