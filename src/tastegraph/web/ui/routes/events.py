"""Live events: the list of what is on now and soon, and an event's live room — how many watch
(overall and per country, incognito viewers never counted), which friends watch (as their
privacy allows), and its shouts, which ``static/js/community.js`` polls for while the page is
open (without JavaScript, a link reloads the room)."""

from __future__ import annotations

from typing import Annotated, Any

from babel import Locale
from fastapi import Form
from fastapi.responses import JSONResponse, Response

from tastegraph.accounts.models import User
from tastegraph.catalog.models import Item
from tastegraph.runtime import Services
from tastegraph.social.models import ShoutTarget
from tastegraph.social.shouts import Place
from tastegraph.web.ui.community_views import (
    REACTIONS,
    REPORT_REASONS,
    parent_of,
    post_shout,
    shout_cards,
)
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router

router = page_router()

EVENTS_SHOWN = 30
BACKLOG = 50
"""Shouts a room shows when it opens."""
POLL_BATCH = 100
POLL_SECONDS = 5
"""How often the room's script asks for what is new."""


@router.get("/live")
def events_list(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        live, upcoming = svc.events.everywhere(limit=EVENTS_SHOWN)
        briefs = svc.catalog.briefs([e.item for e in [*live, *upcoming]])
        return page.render(
            "ui/events/list.html", {"live": live, "upcoming": upcoming, "briefs": briefs}
        )


def _country_names(page: Page) -> dict[str, str]:
    return dict(Locale.parse(page.locale).territories)


def _room(page: Page, svc: Services, item_id: int) -> tuple[User | None, Place, Item]:
    viewer = page.user(svc)
    place = svc.shouts.open(viewer, ShoutTarget.ITEM, item_id)  # a missing item: 404
    assert place.item is not None
    return viewer, place, place.item


def _audience(page: Page, svc: Services, viewer: User | None, item: Item) -> dict[str, Any]:
    counted = svc.presence.audience(item.id)
    names = _country_names(page)
    friends: list[tuple[User, Any]] = []
    if viewer is not None:
        hidden = svc.social.hidden_ids(viewer)
        candidates = [f for f in svc.social.friends_of(viewer.id) if f.id not in hidden]
        friends = [
            (friend, entry)
            for friend, entry in svc.presence.watching_among(item.id, [f.id for f in candidates])
            if svc.social.can_see_recent(viewer, friend)
        ]
    return {
        "watching": counted.watching,
        "countries": [
            (names.get(code, code) if code else page.gettext("Country not given"), count)
            for code, count in counted.countries
        ],
        "friends": friends,
    }


@router.get("/live/{item_id}")
def room(item_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        viewer, place, item = _room(page, svc, item_id)
        if place.id != item_id:  # merged into another item: its room
            return page.redirect(f"/live/{place.id}")
        recent = svc.shouts.recent(viewer, place, limit=BACKLOG)
        latest = max([svc.shouts.latest(place), *(v.shout.id for v in recent)])
        return page.render(
            "ui/events/room.html",
            {
                "item": item,
                "brief": svc.catalog.briefs([item])[item.id],
                "event": svc.events.describe(item),
                "messages": shout_cards(svc, viewer, place, recent),
                "latest": latest,
                "poll_seconds": POLL_SECONDS,
                "reactions": REACTIONS,
                "reasons": REPORT_REASONS,
                **_audience(page, svc, viewer, item),
            },
        )


@router.get("/live/{item_id}/updates")
def updates(item_id: int, page: PageDep, since: int = 0) -> Response:
    """What the room's script polls for: the messages after ``since`` (as HTML, rendered and
    escaped like the page) and the audience, in the viewer's language."""
    if since < 0:
        raise PageError(404)
    with page.unit_of_work() as svc:
        viewer, place, item = _room(page, svc, item_id)
        fresh = svc.shouts.since(viewer, place, after=since, limit=POLL_BATCH)
        latest = max([since, *(v.shout.id for v in fresh)])
        env = page.ui.environment(page.locale)
        context = page.context(
            {
                "messages": shout_cards(svc, viewer, place, fresh),
                "reactions": REACTIONS,
                "reasons": REPORT_REASONS,
                "item": item,
                **_audience(page, svc, viewer, item),
            }
        )
        messages = env.get_template("ui/events/_messages.html").render(context)
        audience = env.get_template("ui/events/_audience.html").render(context)
    return page.finish(
        JSONResponse(
            {
                "latest": latest,
                "count": len(fresh),
                "more": len(fresh) == POLL_BATCH,
                "messages": messages,
                "audience": audience,
            }
        )
    )


@router.post("/live/{item_id}/shouts")
def shout_in_room(
    item_id: int,
    page: PageDep,
    body: Annotated[str, Form(max_length=10_000)],
    parent_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        shout = post_shout(page, svc, user, ShoutTarget.ITEM, item_id, body, parent_of(parent_id))
        room_id, shout_id = shout.target_id, shout.id
    if page.request.headers.get("x-requested-with") == "fetch":
        # The room's script posts and then polls: no page to send back.
        return page.finish(JSONResponse({"id": shout_id}, status_code=201))
    return page.redirect(f"/live/{room_id}#shout-{shout_id}")
