"""/api/v1 activity: your feed (friends, followed people and you) and one person's activity,
newest first, paged by time. See docs/social.md."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from tastegraph.runtime import Services
from tastegraph.social.feed import FeedPage
from tastegraph.social.schemas import FeedEventOut, FeedOut
from tastegraph.social.shouts import ShoutView
from tastegraph.web.api.social_views import (
    briefs,
    group_brief,
    page_link,
    shout_out,
    targets,
    user_ref,
)
from tastegraph.web.deps import RuntimeDep, caller, require_user, unit_of_work

router = APIRouter(prefix="/api/v1", tags=["feed"])

Before = Annotated[
    datetime | None,
    Query(description="Only events before this time: the 'next' link carries it."),
]
Limit = Annotated[int, Query(ge=1, le=100)]


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _feed_out(svc: Services, page: FeedPage, url: str, limit: int) -> FeedOut:
    events = page.events
    found = briefs(svc, [e.subject for e in events] + [i for e in events for i in e.items])
    places = targets(svc, [e.shout for e in events if e.shout is not None])
    next_link = None
    if page.next_before is not None:
        next_link = page_link(url, before=page.next_before.isoformat(), limit=limit)
    return FeedOut(
        events=[
            FeedEventOut(
                kind=e.kind,
                at=e.at,
                user=user_ref(e.user),
                summary=e.summary,
                subject=found[e.subject.id] if e.subject is not None else None,
                items=[found[i.id] for i in e.items],
                count=e.count,
                first_at=e.first_at,
                group=group_brief(e.group) if e.group is not None else None,
                shout=shout_out(ShoutView(e.shout, e.user), places)
                if e.shout is not None
                else None,
                milestone=e.milestone,
            )
            for e in events
        ],
        next=next_link,
    )


@router.get("/me/feed")
def my_feed(
    request: Request, runtime: RuntimeDep, before: Before = None, limit: Limit = 30
) -> FeedOut:
    """What your friends, the people you follow and you played (summarised: "watched 3
    episodes of Borgen"), loved, joined and shouted, and milestones reached. Private
    profiles, hidden recent activity, blocks and incognito plays are respected."""
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        page = svc.feed.feed(user, before=_aware(before), limit=limit)
        return _feed_out(svc, page, "/api/v1/me/feed", limit)


@router.get("/users/{name}/activity")
def user_activity(
    name: str, request: Request, runtime: RuntimeDep, before: Before = None, limit: Limit = 30
) -> FeedOut:
    """One person's activity as you may see it (404 if their profile is hidden from you;
    no plays or milestones when they hide recent activity)."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        owner = svc.social.access_user_by_name(viewer, name)
        page = svc.feed.page(viewer, [owner.id], before=_aware(before), limit=limit)
        return _feed_out(svc, page, f"/api/v1/users/{owner.name}/activity", limit)
