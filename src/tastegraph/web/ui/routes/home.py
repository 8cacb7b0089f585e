"""The front page (site counts, what is trending, what is live now, what the viewer's friends
are playing and their activity) and /healthz. ``/`` also answers the Audioscrobbler 1.2
handshake (``/?hs=true``) of players that only let one set a host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func, select

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.config import Mode
from tastegraph.ingest.models import Play
from tastegraph.protocols.audioscrobbler import api as audioscrobbler
from tastegraph.stats.now import SiteNow
from tastegraph.stats.site import SiteStats
from tastegraph.web.deps import RuntimeDep, unit_of_work
from tastegraph.web.ui.discovery import (
    KIND_PLURALS,
    catalog_viewer,
    feed_items,
    labels,
    pick_kind,
    title_reader,
)
from tastegraph.web.ui.page import PageDep, page_router

router = page_router()

TRENDING_DAYS = 7
TRENDING_SHOWN = 10
TRENDING_KINDS = (Kind.ARTIST, Kind.TRACK, Kind.SHOW, Kind.FILM, Kind.TEAM, Kind.OUTLET)
LIVE_SHOWN = 8
FRIENDS_SHOWN = 12
ACTIVITY_SHOWN = 10


@router.get("/")
def home(request: Request, page: PageDep, trending: str = "") -> Response:
    if request.query_params.get("hs") == "true":
        return audioscrobbler.handshake(request)
    trend_kind = pick_kind(page, trending, TRENDING_KINDS) or Kind.ARTIST
    now = datetime.now(UTC)
    with page.unit_of_work() as svc:
        counts = {
            "users": svc.session.scalar(select(func.count()).select_from(User)) or 0,
            "items": svc.session.scalar(select(func.count()).select_from(Item)) or 0,
            "plays": svc.session.scalar(select(func.count()).select_from(Play)) or 0,
        }
        trends = SiteStats(svc.session).trending(
            trend_kind, now - timedelta(days=TRENDING_DAYS), now, limit=TRENDING_SHOWN
        )
        site_now = SiteNow(svc.session, clock=page.runtime.clock)
        live = site_now.live_events(limit=LIVE_SHOWN)
        user = page.user(svc)
        friends_playing = []
        activity = []
        if user is not None:
            sources = svc.social.feed_sources(user)
            friends_playing = [
                (friend, entry, item)
                for friend, entry, item in site_now.playing_among(sources)
                if svc.social.can_see_recent(user, friend)
            ][:FRIENDS_SHOWN]
            activity = svc.feed.feed(user, limit=ACTIVITY_SHOWN).events
        briefs = svc.catalog.briefs(
            [t.item for t in trends]
            + [e.item for e in live]
            + [item for _, _, item in friends_playing]
            + feed_items(activity),
            catalog_viewer(page, user),
        )
        return page.render(
            "ui/home/home.html",
            {
                **labels(),
                "counts": counts,
                "trends": trends,
                "trend_kind": trend_kind,
                "trend_kinds": [(k.value, page.gettext(KIND_PLURALS[k])) for k in TRENDING_KINDS],
                "live": live,
                "friends_playing": friends_playing,
                "activity": activity,
                "briefs": briefs,
                "title_of": title_reader(briefs),
                "demo": page.runtime.settings.mode is Mode.DEMO,
            },
        )


@router.get("/healthz")
def healthz(runtime: RuntimeDep) -> dict[str, str]:
    with unit_of_work(runtime) as svc:
        svc.session.execute(select(1))
    return {"status": "ok"}
