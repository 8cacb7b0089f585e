"""A user's profile page: now playing and recent plays, top items of a level for a period,
the share of each domain, the listening clock, loved items, groups, taste neighbours and the
viewer's compatibility with the owner — all read through the same services as the API and
shown only as far as ``SocialService`` lets the viewer see (a hidden profile answers 404,
like a missing one)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from fastapi.responses import Response

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Sentiment
from tastegraph.recs.errors import RecsError
from tastegraph.recs.services import Compatibility, Neighbours
from tastegraph.runtime import Services
from tastegraph.stats.periods import Period, resolve
from tastegraph.stats.profile import ProfileStats
from tastegraph.web.ui.discovery import (
    COMPATIBILITY,
    DOMAIN_LEVELS,
    KIND_PLURALS,
    PERIODS,
    catalog_viewer,
    item_path,
    labels,
    pick_kind,
    pick_period,
)
from tastegraph.web.ui.page import PageDep, page_router

router = page_router()

DEFAULT_PERIOD = Period.MONTH_1
RECENT_PLAYS = 15
TOP_ITEMS = 10
LOVED_ITEMS = 10
GROUPS_SHOWN = 12
NEIGHBOURS_SHOWN = 6


@router.get("/user/{name}")
def profile(name: str, page: PageDep, period: str = "", level: str = "") -> Response:
    chosen = pick_period(page, period, DEFAULT_PERIOD)
    asked_level = pick_kind(page, level)
    with page.unit_of_work() as svc:
        viewer = page.user(svc)
        owner = svc.social.access_user_by_name(viewer, name)  # 404 when hidden or missing
        own = viewer is not None and viewer.id == owner.id
        now = datetime.now(UTC)
        window = resolve(chosen, owner.timezone, now)
        stats = ProfileStats(svc.session)
        shares = sorted((s for s in stats.shares(owner, window) if s.plays), key=lambda s: -s.plays)
        levels = [lv for s in shares for lv in DOMAIN_LEVELS[s.domain]]
        shown_level = asked_level or (levels[0] if levels else Kind.ARTIST)
        if shown_level not in levels:
            levels.append(shown_level)
        chart = svc.stats.chart(shown_level, user=owner, window=window, limit=TOP_ITEMS)

        recent_visible = svc.social.can_see_recent(viewer, owner)
        plays = (
            svc.ingest.history(owner, limit=RECENT_PLAYS, include_incognito=own)
            if recent_visible
            else []
        )
        now_playing = (
            svc.ingest.now_playing(owner, include_incognito=own) if recent_visible else None
        )
        loved = svc.ingest.feedback(owner, Sentiment.LOVE, limit=LOVED_ITEMS)
        groups = svc.groups.visible_groups_of(viewer, owner)[:GROUPS_SHOWN]
        # Taste is compared at the headline level of what the owner plays most (artists for
        # a music listener, shows for a TV watcher), as Last.fm's tasteometer compared
        # artists: far cheaper for heavy listeners than every kind at once.
        overall = max(stats.shares(owner), key=lambda s: s.plays)
        taste = DOMAIN_LEVELS[overall.domain][0] if overall.plays else Kind.ARTIST
        neighbours = _neighbours(svc, viewer, owner, taste)
        compatibility = _compatibility(svc, viewer, owner, taste) if viewer and not own else None
        span = svc.stats.first_and_last(owner)

        items: list[Item] = [item for _, item, _ in plays]
        items += [now_playing[1]] if now_playing else []
        items += [e.item for e in chart.entries] + [item for _, item in loved]
        items += [i for n in (neighbours.entries if neighbours else []) for i in n.shared]
        items += compatibility.shared if compatibility else []
        briefs = svc.catalog.briefs(items, catalog_viewer(page, viewer))
        total = sum(s.plays for s in shares)
        return page.render(
            "ui/profile/profile.html",
            {
                **labels(),
                "owner": owner,
                "own": own,
                "recent_visible": recent_visible,
                "plays": plays,
                "now_playing": now_playing,
                "chart": chart,
                "chart_links": [item_path(e.item.id) for e in chart.entries],
                "level": shown_level,
                "levels": [(lv.value, page.gettext(KIND_PLURALS[lv])) for lv in levels],
                "shares": shares,
                "briefs": briefs,
                "clock": stats.clock(owner, window),
                "periods": [(p.value, page.gettext(label)) for p, label in PERIODS],
                "period": chosen,
                "profile_path": f"/user/{quote(owner.name)}",
                "params": {"period": chosen.value, "level": shown_level.value},
                "total_plays": total,
                "loved": loved,
                "groups": groups,
                "neighbours": neighbours,
                "compatibility": compatibility,
                "taste_kind": page.gettext(KIND_PLURALS[taste]),
                "compatibility_word": page.gettext(COMPATIBILITY[compatibility.level])
                if compatibility
                else "",
                "years": list(range(span[1].year, span[0].year - 1, -1))[:10] if span else [],
            },
        )


def _neighbours(svc: Services, viewer: User | None, owner: User, kind: Kind) -> Neighbours | None:
    """Taste neighbours once a model is trained (None before: the section says so)."""
    try:
        return svc.recs.neighbours(viewer, owner, kind.value, limit=NEIGHBOURS_SHOWN)
    except RecsError:
        return None


def _compatibility(svc: Services, viewer: User, owner: User, kind: Kind) -> Compatibility | None:
    try:
        return svc.recs.compatibility(viewer, owner, kind.value)
    except RecsError:
        return None
