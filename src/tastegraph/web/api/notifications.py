"""/api/v1 notifications: friend requests and acceptances, replies, mentions, shouts on your
wall, group invitations and join requests; read and unread. See docs/social.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from tastegraph.runtime import Services
from tastegraph.social.models import NotificationKind
from tastegraph.social.notifications import NotificationView
from tastegraph.social.schemas import NotificationOut, NotificationsOut, ReadIn, UnreadOut
from tastegraph.web.api.social_views import group_brief, page_link, target_of, targets, user_ref
from tastegraph.web.deps import RuntimeDep, require_user, unit_of_work

router = APIRouter(prefix="/api/v1", tags=["notifications"])

EXCERPT = 140

_TEXT = {
    NotificationKind.FRIEND_REQUEST: "{actor} wants to be your friend",
    NotificationKind.FRIEND_ACCEPTED: "{actor} accepted your friend request",
    NotificationKind.REPLY: "{actor} replied to your shout",
    NotificationKind.MENTION: "{actor} mentioned you",
    NotificationKind.WALL_SHOUT: "{actor} shouted on your wall",
    NotificationKind.GROUP_INVITATION: "{actor} invited you to {group}",
    NotificationKind.GROUP_REQUEST: "{actor} asked to join {group}",
}


def _out(svc: Services, views: list[NotificationView]) -> list[NotificationOut]:
    found = targets(svc, [v.shout for v in views if v.shout is not None])
    out = []
    for view in views:
        entry, shout = view.notification, view.shout
        actor = view.actor.name if view.actor is not None else "Someone"
        group = view.group.name if view.group is not None else "a group"
        excerpt = None
        if shout is not None:
            excerpt = shout.body if len(shout.body) <= EXCERPT else shout.body[:EXCERPT] + "…"
        out.append(
            NotificationOut(
                id=entry.id,
                kind=entry.kind,
                created_at=entry.created_at,
                read=entry.read_at is not None,
                actor=user_ref(view.actor) if view.actor is not None else None,
                text=_TEXT[entry.kind].format(actor=actor, group=group),
                shout_id=entry.shout_id,
                excerpt=excerpt,
                target=target_of(found, shout) if shout is not None else None,
                group=group_brief(view.group) if view.group is not None else None,
            )
        )
    return out


@router.get("/me/notifications")
def notifications(
    request: Request,
    runtime: RuntimeDep,
    unread: Annotated[bool, Query(description="Only unread ones.")] = False,
    before: Annotated[int | None, Query(description="From the 'next' link.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationsOut:
    """Your notifications, newest first, with the unread count."""
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        views = svc.notifications.page(user, unread_only=unread, before=before, limit=limit)
        next_link = None
        if len(views) == limit:
            next_link = page_link(
                "/api/v1/me/notifications",
                unread=str(unread).lower() if unread else None,
                before=views[-1].notification.id,
                limit=limit,
            )
        return NotificationsOut(
            notifications=_out(svc, views),
            unread=svc.notifications.unread_count(user),
            next=next_link,
        )


@router.get("/me/notifications/unread")
def unread_count(request: Request, runtime: RuntimeDep) -> UnreadOut:
    with unit_of_work(runtime) as svc:
        return UnreadOut(unread=svc.notifications.unread_count(require_user(svc, request)))


@router.post("/me/notifications/read")
def mark_read(data: ReadIn, request: Request, runtime: RuntimeDep) -> UnreadOut:
    """Mark notifications read: ``ids``, everything ``up_to`` an id, or ``all``."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        if data.all or data.ids is not None or data.up_to is not None:
            svc.notifications.mark_read(
                user, ids=None if data.all else data.ids, up_to=None if data.all else data.up_to
            )
        return UnreadOut(unread=svc.notifications.unread_count(user))


@router.post("/me/notifications/{notification_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def mark_one_read(notification_id: int, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        svc.notifications.mark_one_read(require_user(svc, request), notification_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
