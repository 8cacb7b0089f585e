"""The activity feed, a person's wall, what one does to a shout (react, delete, report) and the
moderation queue. Reads go through ``FeedService``, ``ShoutService`` and the social access
checks, as the API's do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Form
from fastapi.responses import Response

from tastegraph.social.errors import InvalidSocialAction
from tastegraph.social.models import ReportReason, ReportStatus, ShoutTarget
from tastegraph.social.shouts import ModerationAction, Reaction
from tastegraph.web.ui.community_views import (
    REACTIONS,
    REPORT_REASONS,
    parent_of,
    post_shout,
    shout_cards,
    shout_urls,
)
from tastegraph.web.ui.discovery import catalog_viewer, feed_items, title_reader
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import PageDep, PageError, page_router, safe_next

router = page_router()

FEED_PAGE = 30
WALL_PAGE = 20
QUEUE_PAGE = 50
Next = Annotated[str, Form(max_length=2048)]

QUEUES: tuple[tuple[ReportStatus, str], ...] = (
    (ReportStatus.OPEN, N_("Open")),
    (ReportStatus.REMOVED, N_("Removed")),
    (ReportStatus.DISMISSED, N_("Dismissed")),
)


# -- the feed ---------------------------------------------------------------------------------


@router.get("/feed")
def feed(page: PageDep, before: str = "") -> Response:
    moment: datetime | None = None
    if before:
        try:
            moment = datetime.fromisoformat(before)
        except ValueError:
            raise PageError(404, page.gettext("That page of the feed does not exist.")) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    with page.unit_of_work() as svc:
        user = page.require_user(svc)
        result = svc.feed.feed(user, before=moment, limit=FEED_PAGE)
        shouts = [e.shout for e in result.events if e.shout is not None]
        briefs = svc.catalog.briefs(feed_items(result.events), catalog_viewer(page, user))
        return page.render(
            "ui/feed/feed.html",
            {
                "events": result.events,
                "older": result.next_before.isoformat() if result.next_before else None,
                "shout_urls": shout_urls(svc, shouts),
                "first_page": moment is None,
                "title_of": title_reader(briefs),
            },
        )


# -- walls ------------------------------------------------------------------------------------


@router.get("/user/{name}/shouts")
def wall(name: str, page: PageDep, before: int | None = None) -> Response:
    with page.unit_of_work() as svc:
        viewer = page.user(svc)
        owner = svc.social.access_user_by_name(viewer, name)  # hidden or missing: 404
        place = svc.shouts.open(viewer, ShoutTarget.USER, owner.id)
        threads = svc.shouts.thread_list(viewer, place, before=before, limit=WALL_PAGE)
        return page.render(
            "ui/feed/wall.html",
            {
                "owner": owner,
                "shouts": shout_cards(svc, viewer, place, threads),
                "older": threads[-1].shout.id if len(threads) == WALL_PAGE else None,
                "reactions": REACTIONS,
                "reasons": REPORT_REASONS,
            },
        )


@router.post("/user/{name}/shouts")
def shout_on_wall(
    name: str,
    page: PageDep,
    body: Annotated[str, Form(max_length=10_000)],
    parent_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        owner = svc.social.access_user_by_name(user, name)
        shout = post_shout(page, svc, user, ShoutTarget.USER, owner.id, body, parent_of(parent_id))
        url = f"/user/{owner.name}/shouts#shout-{shout.parent_id or shout.id}"
    return page.redirect(url)


# -- one shout --------------------------------------------------------------------------------


@router.post("/shouts/{shout_id}/react")
def react(
    shout_id: int,
    page: PageDep,
    code: Annotated[str, Form(max_length=20)],
    next: Next = "/",
) -> Response:
    """``+like`` adds a reaction, ``-like`` takes it back (the buttons say which)."""
    sign, value = code[:1], code[1:]
    if sign not in "+-" or value not in set(Reaction):
        raise PageError(400, page.gettext("There is no such reaction."))
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        if sign == "+":
            svc.shouts.react(user, shout_id, Reaction(value))
        else:
            svc.shouts.unreact(user, shout_id, Reaction(value))
    return page.redirect(safe_next(next) + f"#shout-{shout_id}")


@router.post("/shouts/{shout_id}/delete")
def delete_shout(shout_id: int, page: PageDep, next: Next = "/") -> Response:
    with page.unit_of_work(write=True) as svc:
        svc.shouts.delete(page.require_user(svc), shout_id)
    return page.redirect(safe_next(next))


@router.post("/shouts/{shout_id}/report")
def report_shout(
    shout_id: int,
    page: PageDep,
    reason: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=500)] = "",
    next: Next = "/",
) -> Response:
    if reason not in set(ReportReason):
        raise PageError(400, page.gettext("Choose why you report this shout."))
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        try:
            svc.shouts.report(user, shout_id, ReportReason(reason), note.strip() or None)
        except InvalidSocialAction:
            raise PageError(
                422, page.gettext("You cannot report your own shout; delete it instead.")
            ) from None
    return page.render("ui/feed/reported.html", {"back": safe_next(next) + f"#shout-{shout_id}"})


# -- moderation -------------------------------------------------------------------------------


@router.get("/moderation")
def moderation_queue(page: PageDep, status: str = "open", before: int | None = None) -> Response:
    chosen = next((s for s, _ in QUEUES if s.value == status), None)
    if chosen is None:
        raise PageError(404)
    with page.unit_of_work() as svc:
        user = page.require_user(svc)
        rows = svc.shouts.reports(user, status=chosen, before=before, limit=QUEUE_PAGE)  # 403
        return page.render(
            "ui/feed/moderation.html",
            {
                "rows": rows,
                "queues": QUEUES,
                "status": chosen,
                "reasons": dict(REPORT_REASONS),
                "urls": shout_urls(svc, [r.shout for r in rows]),
                "older": rows[-1].report.id if len(rows) == QUEUE_PAGE else None,
            },
        )


@router.post("/moderation/reports/{report_id}")
def resolve_report(
    report_id: int, page: PageDep, action: Annotated[str, Form(max_length=20)]
) -> Response:
    if action not in set(ModerationAction):
        raise PageError(400)
    with page.unit_of_work(write=True) as svc:
        svc.shouts.resolve(page.require_user(svc), report_id, ModerationAction(action))
    return page.redirect("/moderation")
