"""The Jinja2 environments of the pages: one per UI locale, each with its translations
installed (new-style gettext), autoescaping, the formatting filters and the SVG helpers.

One environment per locale keeps rendering thread-safe: nothing is swapped per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import tastegraph
from tastegraph.catalog.schemas import ItemBrief
from tastegraph.stats.services import Chart
from tastegraph.web.ui import svg
from tastegraph.web.ui.formatting import FILTERS
from tastegraph.web.ui.i18n import LOCALES, Catalogues
from tastegraph.web.ui.navigation import NAVIGATION

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


def static_url(path: str) -> str:
    """``/static/<path>``, with the version so a new release is not served from caches."""
    return f"/static/{path}?v={tastegraph.__version__}"


def language_names() -> list[tuple[str, str]]:
    """(code, name in its own language) of each shipped locale, for the language switcher."""
    return [
        (code, (Locale.parse(code).get_display_name(code) or code).capitalize()) for code in LOCALES
    ]


def chart_rows(chart: Chart, briefs: Mapping[int, ItemBrief]) -> list[tuple[str, float]]:
    """(title, plays) of a chart's entries, for ``svg_bar_chart``."""
    return [(briefs[e.item.id].title, float(e.plays)) for e in chart.entries if e.item.id in briefs]


def build_environment(locale: str, catalogues: Catalogues) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "svg"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        catalogues.translations[locale], newstyle=True
    )
    env.filters.update(FILTERS)
    env.globals.update(
        static_url=static_url,
        languages=language_names(),
        navigation=NAVIGATION,
        svg_bar_chart=svg.bar_chart,
        svg_heatmap=svg.heatmap,
        svg_line_chart=svg.line_chart,
        svg_histogram=svg.histogram,
        chart_rows=chart_rows,
        weekday_names=svg.weekday_names(locale),
        hour_names=svg.hour_names(locale),
    )
    return env


@dataclass
class UiState:
    """What the pages hold for the app's lifetime (``app.state.ui``)."""

    catalogues: Catalogues
    environments: dict[str, Environment] = field(default_factory=dict)

    @classmethod
    def build(cls) -> UiState:
        catalogues = Catalogues.load()
        return cls(
            catalogues=catalogues,
            environments={loc: build_environment(loc, catalogues) for loc in LOCALES},
        )

    def environment(self, locale: str) -> Environment:
        return self.environments[locale]

    def globals(self, locale: str) -> dict[str, Any]:
        return dict(self.environments[locale].globals)
