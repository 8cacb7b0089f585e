"""Turning social results into what the API answers (shared by the social routers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from tastegraph.accounts.models import User
from tastegraph.catalog.models import Item
from tastegraph.catalog.schemas import ItemBrief
from tastegraph.runtime import Services
from tastegraph.social.events import EventView
from tastegraph.social.models import Group, Shout, ShoutTarget, Topic
from tastegraph.social.rendering import mentioned_names, render_html
from tastegraph.social.schemas import (
    EventOut,
    GroupBrief,
    ShoutOut,
    ShoutPage,
    TargetOut,
    UserRef,
)
from tastegraph.social.shouts import ShoutView

Targets = dict[tuple[ShoutTarget, int], TargetOut]


def user_ref(user: User) -> UserRef:
    return UserRef(name=user.name, display_name=user.display_name, url=f"/api/v1/users/{user.name}")


def group_brief(group: Group) -> GroupBrief:
    return GroupBrief(
        slug=group.slug, name=group.name, privacy=group.privacy, url=f"/api/v1/groups/{group.slug}"
    )


def briefs(svc: Services, items: Iterable[Item | None]) -> dict[int, ItemBrief]:
    return svc.catalog.briefs([i for i in items if i is not None])


def event_out(view: EventView, brief: ItemBrief) -> EventOut:
    return EventOut(
        item=brief,
        starts_at=view.starts_at,
        ends_at=view.ends_at,
        live=view.live,
        watching=view.watching,
    )


def targets(svc: Services, shouts: Iterable[Shout]) -> Targets:
    """Where each shout is, with a link to read it there (one query per kind at most)."""
    wanted: dict[ShoutTarget, set[int]] = {}
    for shout in shouts:
        wanted.setdefault(shout.target_kind, set()).add(shout.target_id)
    out: Targets = {}
    session = svc.session
    for kind, ids in wanted.items():
        if kind is ShoutTarget.USER:
            for user_id, name in session.execute(
                select(User.id, User.name).where(User.id.in_(ids))
            ):
                out[(kind, user_id)] = TargetOut(
                    kind=kind, id=user_id, url=f"/api/v1/users/{name}/shouts"
                )
        elif kind is ShoutTarget.GROUP:
            for group_id, slug in session.execute(
                select(Group.id, Group.slug).where(Group.id.in_(ids))
            ):
                out[(kind, group_id)] = TargetOut(
                    kind=kind, id=group_id, url=f"/api/v1/groups/{slug}/shouts"
                )
        elif kind is ShoutTarget.TOPIC:
            for topic_id in session.scalars(select(Topic.id).where(Topic.id.in_(ids))):
                out[(kind, topic_id)] = TargetOut(
                    kind=kind, id=topic_id, url=f"/api/v1/topics/{topic_id}"
                )
        else:
            for item_id in ids:
                out[(kind, item_id)] = TargetOut(
                    kind=kind, id=item_id, url=f"/api/v1/items/{item_id}/shouts"
                )
    return out


def target_of(found: Targets, shout: Shout) -> TargetOut:
    key = (shout.target_kind, shout.target_id)
    return found.get(key) or TargetOut(kind=shout.target_kind, id=shout.target_id, url="")


def shout_out(view: ShoutView, found: Targets) -> ShoutOut:
    shout = view.shout
    return ShoutOut(
        id=shout.id,
        author=user_ref(view.author),
        body=shout.body,
        html=render_html(shout.body),
        mentions=mentioned_names(shout.body),
        created_at=shout.created_at,
        parent_id=shout.parent_id,
        target=target_of(found, shout),
        reactions=dict(sorted(view.reactions.items())),
        mine=view.mine,
        reply_count=view.reply_count,
        replies=[shout_out(reply, found) for reply in view.replies],
        url=f"/api/v1/shouts/{shout.id}",
    )


def shouts_out(svc: Services, views: Sequence[ShoutView]) -> list[ShoutOut]:
    every = [v.shout for v in views] + [r.shout for v in views for r in v.replies]
    found = targets(svc, every)
    return [shout_out(v, found) for v in views]


def shout_page(
    svc: Services, views: Sequence[ShoutView], url: str, limit: int, latest: int
) -> ShoutPage:
    """A page of threads, newest first, with the link to older ones."""
    next_link = None
    if len(views) == limit:
        next_link = f"{url}?{urlencode({'before': views[-1].shout.id, 'limit': limit})}"
    newest = max(
        [latest, *(v.shout.id for v in views), *(r.shout.id for v in views for r in v.replies)]
    )
    return ShoutPage(shouts=shouts_out(svc, views), next=next_link, latest=newest)


def page_link(url: str, **params: Any) -> str:
    return f"{url}?{urlencode({k: v for k, v in params.items() if v is not None})}"
