"""A year in review: the numbers (plays, active days, the longest streak, new artists), plays
per month, the share of each domain, the top items of each level, the listening clock, and
the poster the stats area draws (``stats/review.py``), shown as far as the profile is. The
charts and the poster speak the page's language: month and weekday names and hours from Babel,
headings and the summary from the catalogues, titles in the viewer's language."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from babel.dates import get_month_names
from fastapi.responses import Response

from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.models import Item
from tastegraph.runtime import Services
from tastegraph.stats.review import PosterText, YearReview, build_review, render_svg
from tastegraph.web.ui.discovery import (
    DOMAIN_NAMES,
    KIND_PLURALS,
    catalog_viewer,
    item_path,
    labels,
)
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router

router = page_router()

FIRST_YEAR = 2002
POSTER_HEADINGS: dict[str, str] = {
    "artist": N_("Top artists"),
    "show": N_("Top shows"),
    "film": N_("Top films"),
    "team": N_("Top teams"),
    "outlet": N_("Top outlets"),
}
"""The poster's heading over its top items, per ``stats.review.POSTER_LEVELS``."""


def _check_year(page: Page, year: int) -> None:
    if not FIRST_YEAR <= year <= datetime.now(UTC).year:
        raise PageError(404, page.gettext("There is no review of that year."))


@router.get("/user/{name}/year/{year}.svg")
def poster(name: str, year: int, page: PageDep) -> Response:
    """The poster as an image (the page shows it with <img>; people save and share it)."""
    _check_year(page, year)
    with page.unit_of_work() as svc:
        viewer = page.user(svc)
        owner = svc.social.access_user_by_name(viewer, name)
        found = build_review(svc.session, owner, year, owner.timezone)
        briefs = svc.catalog.briefs(_top_items(svc, found), catalog_viewer(page, viewer))
        titles = {item_id: brief.title for item_id, brief in briefs.items()}
        svg = render_svg(found, poster_text(page, found, titles))
    return page.finish(Response(svg, media_type="image/svg+xml"))


def poster_text(page: Page, found: YearReview, titles: dict[int, str]) -> PosterText:
    """The poster's words in the page's language."""
    months = get_month_names("abbreviated", locale=page.locale)

    # Not page.ngettext: the number goes in written the locale's way (1 234, 1.234).
    n, ngettext = page.format_number, page.translations.ngettext
    facts = [
        ngettext("%(num)s play", "%(num)s plays", found.plays) % {"num": n(found.plays)},
        ngettext("%(num)s active day", "%(num)s active days", found.active_days)
        % {"num": n(found.active_days)},
        ngettext(
            "longest streak: %(num)s day", "longest streak: %(num)s days", found.longest_streak
        )
        % {"num": n(found.longest_streak)},
        ngettext("%(num)s new artist", "%(num)s new artists", found.new_artists)
        % {"num": n(found.new_artists)},
        found.timezone,
    ]
    return PosterText(
        lang=page.locale,
        months=[months[m] for m in range(1, 13)],
        summary=" · ".join(facts),
        top_heading={level: page.gettext(label) for level, label in POSTER_HEADINGS.items()},
        titles=titles,
        number=page.format_number,
    )


def _top_items(svc: Services, found: YearReview) -> list[Item]:
    """The review's top items (its charts loaded them into the session: no further queries)."""
    return [
        item
        for entries in found.top.values()
        for item_id, _, _ in entries
        if (item := svc.session.get(Item, item_id)) is not None
    ]


@router.get("/user/{name}/year/{year}")
def review(name: str, year: int, page: PageDep) -> Response:
    _check_year(page, year)
    with page.unit_of_work() as svc:
        viewer = page.user(svc)
        owner = svc.social.access_user_by_name(viewer, name)  # 404 when hidden or missing
        found = build_review(svc.session, owner, year, owner.timezone)
        briefs = svc.catalog.briefs(_top_items(svc, found), catalog_viewer(page, viewer))
        span = svc.stats.first_and_last(owner)
        months = get_month_names("abbreviated", locale=page.locale)
        top = [
            (
                page.gettext(KIND_PLURALS[Kind(level)]),
                [
                    (briefs[i].title if i in briefs else title, float(plays))
                    for i, title, plays in entries
                ],
                [item_path(i) for i, _, _ in entries],
            )
            for level, entries in found.top.items()
        ]
        total = sum(found.domains.values())
        return page.render(
            "ui/review/review.html",
            {
                **labels(),
                "owner": owner,
                "review": found,
                "year": year,
                "months": [(months[m + 1], float(n)) for m, n in enumerate(found.months)],
                "domains": [
                    (page.gettext(DOMAIN_NAMES[Domain(d)]), n / total if total else 0)
                    for d, n in sorted(found.domains.items(), key=lambda kv: -kv[1])
                ],
                "top": top,
                "poster_url": f"/user/{quote(owner.name)}/year/{year}.svg",
                "years": list(range(span[1].year, span[0].year - 1, -1)) if span else [year],
            },
        )
