"""In-app notifications: the list (all or unread), marking read, and answering a friend
request where it is announced. The header shows the unread count (``Viewer.unread``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from fastapi.responses import Response

from tastegraph.social.models import NotificationKind
from tastegraph.web.ui.community_views import shout_urls
from tastegraph.web.ui.page import PageDep, PageError, page_router, safe_next

router = page_router()

PAGE_SIZE = 50


@router.get("/notifications")
def notifications(page: PageDep, unread: bool = False, before: int | None = None) -> Response:
    with page.unit_of_work() as svc:
        user = page.require_user(svc)
        views = svc.notifications.page(user, unread_only=unread, before=before, limit=PAGE_SIZE)
        shouts = [v.shout for v in views if v.shout is not None]
        waiting = {r.other.id for r in svc.social.friend_requests(user, "incoming")}
        return page.render(
            "ui/notifications/list.html",
            {
                "views": views,
                "unread_only": unread,
                "unread": svc.notifications.unread_count(user),
                "urls": shout_urls(svc, shouts),
                "waiting": waiting,
                "kinds": NotificationKind,
                "older": views[-1].notification.id if len(views) == PAGE_SIZE else None,
                "newest": views[0].notification.id if views else None,
            },
        )


@router.post("/notifications/read")
def mark_all_read(
    page: PageDep,
    up_to: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/notifications",
) -> Response:
    """Everything up to the newest notification the page showed (so one that arrived since
    stays unread), or everything."""
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        svc.notifications.mark_read(user, up_to=int(up_to) if up_to.isdigit() else None)
    return page.redirect(safe_next(next, "/notifications"))


@router.post("/notifications/{notification_id}/read")
def mark_read(
    notification_id: int,
    page: PageDep,
    next: Annotated[str, Form(max_length=2048)] = "/notifications",
) -> Response:
    with page.unit_of_work(write=True) as svc:
        svc.notifications.mark_one_read(page.require_user(svc), notification_id)
    return page.redirect(safe_next(next, "/notifications"))


@router.post("/notifications/friends/{name}/{answer}")
def answer_friend_request(name: str, answer: str, page: PageDep) -> Response:
    if answer not in ("accept", "decline"):
        raise PageError(404)
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        other = svc.social.reachable_user_by_name(user, name)
        if answer == "accept":
            svc.social.accept_request(user, other)
        else:
            svc.social.decline_request(user, other)
    return page.redirect("/notifications")
