"""A year in review: the numbers (plays, active days, the longest streak, new artists), plays
per month, the share of each domain, the top items of each level, the listening clock, and
the poster the stats area draws (``stats/review.py``), shown as far as the profile is."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from babel.dates import get_month_names
from fastapi.responses import Response

from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.models import Item
from tastegraph.stats.review import build_review, render_svg
from tastegraph.web.ui.discovery import (
    DOMAIN_NAMES,
    KIND_PLURALS,
    catalog_viewer,
    item_path,
    labels,
)
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router

router = page_router()

FIRST_YEAR = 2002


def _check_year(page: Page, year: int) -> None:
    if not FIRST_YEAR <= year <= datetime.now(UTC).year:
        raise PageError(404, page.gettext("There is no review of that year."))


@router.get("/user/{name}/year/{year}.svg")
def poster(name: str, year: int, page: PageDep) -> Response:
    """The poster as an image (the page shows it with <img>; people save and share it)."""
    _check_year(page, year)
    with page.unit_of_work() as svc:
        owner = svc.social.access_user_by_name(page.user(svc), name)
        svg = render_svg(build_review(svc.session, owner, year, owner.timezone))
    return page.finish(Response(svg, media_type="image/svg+xml"))


@router.get("/user/{name}/year/{year}")
def review(name: str, year: int, page: PageDep) -> Response:
    _check_year(page, year)
    with page.unit_of_work() as svc:
        viewer = page.user(svc)
        owner = svc.social.access_user_by_name(viewer, name)  # 404 when hidden or missing
        found = build_review(svc.session, owner, year, owner.timezone)
        # The review's charts loaded these items into the session: no further queries.
        items = [
            item
            for entries in found.top.values()
            for item_id, _, _ in entries
            if (item := svc.session.get(Item, item_id)) is not None
        ]
        briefs = svc.catalog.briefs(items, catalog_viewer(page, viewer))
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
