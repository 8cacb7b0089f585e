"""/api/v1 groups: create and find groups, join, leave, invitations and requests, roles and
members, discussion topics, group charts, recommendations and events. See docs/social.md."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.ingest.errors import MalformedBody
from tastegraph.locales import normalize_timezone
from tastegraph.runtime import Services
from tastegraph.social.groups import GroupView, TopicView
from tastegraph.social.models import Group, GroupMember, GroupRole, ShoutTarget, Topic
from tastegraph.social.schemas import (
    GroupEventsOut,
    GroupIn,
    GroupOut,
    GroupPage,
    GroupPickOut,
    GroupPicksOut,
    GroupUpdate,
    MemberOut,
    MembershipOut,
    MembersOut,
    NameIn,
    RoleIn,
    TopicDetail,
    TopicIn,
    TopicOut,
    TopicPage,
)
from tastegraph.stats.errors import InvalidPeriod
from tastegraph.stats.groups import GroupStats
from tastegraph.stats.periods import Window, parse_period, resolve
from tastegraph.stats.schemas import ChartEntryOut, ChartOut
from tastegraph.web.api.social_views import (
    briefs,
    event_out,
    group_brief,
    page_link,
    shout_page,
    user_ref,
)
from tastegraph.web.deps import RuntimeDep, caller, require_user, unit_of_work
from tastegraph.web.viewer import viewer_of

router = APIRouter(prefix="/api/v1", tags=["groups"])

_NO_CONTENT = status.HTTP_204_NO_CONTENT
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=100_000)]


def _membership(membership: GroupMember | None) -> MembershipOut | None:
    if membership is None:
        return None
    return MembershipOut(
        status=membership.status, role=membership.role, joined_at=membership.joined_at
    )


def _group_out(svc: Services, view: GroupView) -> GroupOut:
    group = view.group
    item = briefs(svc, [view.item]).get(view.item.id) if view.item is not None else None
    return GroupOut(
        **group_brief(group).model_dump(),
        description=group.description,
        item=item,
        members=view.members,
        created_at=group.created_at,
        membership=_membership(view.membership),
    )


def _topic_out(view: TopicView) -> TopicOut:
    topic = view.topic
    return TopicOut(
        id=topic.id,
        title=topic.title,
        author=user_ref(view.author) if view.author is not None else None,
        created_at=topic.created_at,
        last_post_at=topic.last_post_at,
        posts=view.posts,
        url=f"/api/v1/topics/{topic.id}",
    )


def _readable(svc: Services, request: Request, slug: str) -> Group:
    """The group, when the caller may see inside it (else 404)."""
    viewer = caller(svc, request, required=False)
    group, membership = svc.groups.find(viewer, slug)
    svc.groups.require_read(viewer, group, membership)
    return group


# -- groups -----------------------------------------------------------------------------------


@router.post("/groups", status_code=status.HTTP_201_CREATED)
def create_group(data: GroupIn, request: Request, runtime: RuntimeDep) -> GroupOut:
    """Create a group around an item (``item_id``: a show, a team, an artist, an outlet) or a
    free theme; you are its owner."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        item = svc.catalog.get(data.item_id) if data.item_id is not None else None
        group = svc.groups.create(
            user,
            name=data.name,
            description=data.description,
            privacy=data.privacy,
            item=item,
        )
        return _group_out(svc, svc.groups.view(group, svc.groups.membership(group.id, user.id)))


@router.get("/groups")
def list_groups(
    request: Request,
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(max_length=100, description="Words of the name.")] = None,
    item_id: Annotated[int | None, Query(description="Groups about this item.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> GroupPage:
    """Public and private groups (and invite-only ones you are in), biggest first."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        found = svc.groups.search(viewer, query=q, item_id=item_id, offset=offset, limit=limit)
        next_link = None
        if len(found) == limit:
            next_link = page_link(
                "/api/v1/groups", q=q, item_id=item_id, limit=limit, offset=offset + limit
            )
        return GroupPage(
            groups=[_group_out(svc, v) for v in svc.groups.views(found, viewer)], next=next_link
        )


@router.get("/me/groups")
def my_groups(request: Request, runtime: RuntimeDep) -> GroupPage:
    """Your groups, and your invitations and requests (see ``membership.status``)."""
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        groups = [g for g, _ in svc.groups.groups_of(user)]
        return GroupPage(
            groups=[_group_out(svc, v) for v in svc.groups.views(groups, user)], next=None
        )


@router.get("/users/{name}/groups")
def user_groups(name: str, request: Request, runtime: RuntimeDep) -> GroupPage:
    """The groups a user is a member of that you may know about."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        owner = svc.social.access_user_by_name(viewer, name)
        groups = svc.groups.visible_groups_of(viewer, owner)
        return GroupPage(
            groups=[_group_out(svc, v) for v in svc.groups.views(groups, viewer)], next=None
        )


@router.get("/groups/{slug}", responses={404: {"description": "group_not_found"}})
def get_group(slug: str, request: Request, runtime: RuntimeDep) -> GroupOut:
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        group, membership = svc.groups.find(viewer, slug)
        return _group_out(svc, svc.groups.view(group, membership))


@router.patch("/groups/{slug}")
def update_group(slug: str, data: GroupUpdate, request: Request, runtime: RuntimeDep) -> GroupOut:
    """Owners and moderators change the name and description; owners the privacy."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, membership = svc.groups.find(user, slug)
        svc.groups.update(
            user, group, name=data.name, description=data.description, privacy=data.privacy
        )
        return _group_out(svc, svc.groups.view(group, membership))


@router.delete("/groups/{slug}", status_code=_NO_CONTENT)
def delete_group(slug: str, request: Request, runtime: RuntimeDep) -> Response:
    """Owners (and administrators) delete a group with its topics and shouts."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        svc.groups.delete(user, group)
    return Response(status_code=_NO_CONTENT)


# -- membership -------------------------------------------------------------------------------


@router.post("/groups/{slug}/join")
def join_group(slug: str, request: Request, runtime: RuntimeDep) -> MembershipOut:
    """Join a public group (status ``member``), accept an invitation, or ask to join a private
    group (status ``requested``: its owners and moderators are notified)."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        membership = svc.groups.join(user, group)
        out = _membership(membership)
        assert out is not None
        return out


@router.post("/groups/{slug}/leave", status_code=_NO_CONTENT)
def leave_group(slug: str, request: Request, runtime: RuntimeDep) -> Response:
    """Leave, withdraw your request, or decline your invitation. The last owner cannot leave
    (409 ``last_owner``)."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        svc.groups.leave(user, group)
    return Response(status_code=_NO_CONTENT)


@router.post("/groups/{slug}/invitations", status_code=status.HTTP_201_CREATED)
def invite(slug: str, data: NameIn, request: Request, runtime: RuntimeDep) -> MemberOut:
    """Invite someone (any member in a public group; owners and moderators otherwise). They
    are notified; inviting someone who asked to join lets them in."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        invitee = svc.social.reachable_user_by_name(user, data.name)
        membership = svc.groups.invite(user, group, invitee)
        return MemberOut(
            user=user_ref(invitee),
            role=membership.role,
            status=membership.status,
            joined_at=membership.joined_at,
        )


@router.post("/groups/{slug}/invitation/accept")
def accept_invitation(slug: str, request: Request, runtime: RuntimeDep) -> MembershipOut:
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        out = _membership(svc.groups.accept_invitation(user, group))
        assert out is not None
        return out


@router.post("/groups/{slug}/invitation/decline", status_code=_NO_CONTENT)
def decline_invitation(slug: str, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        svc.groups.decline_invitation(user, group)
    return Response(status_code=_NO_CONTENT)


@router.get("/groups/{slug}/requests")
def join_requests(slug: str, request: Request, runtime: RuntimeDep) -> MembersOut:
    """Requests to join, for owners and moderators."""
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        return MembersOut(
            members=[
                MemberOut(user=user_ref(u), role=m.role, status=m.status, joined_at=m.joined_at)
                for m, u in svc.groups.requests(user, group)
            ],
            next=None,
        )


@router.post("/groups/{slug}/requests/{name}/approve")
def approve_request(slug: str, name: str, request: Request, runtime: RuntimeDep) -> MemberOut:
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        other = svc.social.reachable_user_by_name(user, name)
        svc.groups.answer_request(user, group, other, approve=True)
        membership = svc.groups.membership(group.id, other.id)
        assert membership is not None
        return MemberOut(
            user=user_ref(other),
            role=membership.role,
            status=membership.status,
            joined_at=membership.joined_at,
        )


@router.post("/groups/{slug}/requests/{name}/reject", status_code=_NO_CONTENT)
def reject_request(slug: str, name: str, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        other = svc.social.reachable_user_by_name(user, name)
        svc.groups.answer_request(user, group, other, approve=False)
    return Response(status_code=_NO_CONTENT)


@router.get("/groups/{slug}/members", responses={404: {"description": "members_only"}})
def members(
    slug: str,
    request: Request,
    runtime: RuntimeDep,
    role: GroupRole | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> MembersOut:
    """Owners, moderators, then members by name (members as their own privacy allows)."""
    with unit_of_work(runtime) as svc:
        group = _readable(svc, request, slug)
        viewer = caller(svc, request, required=False)
        rows = svc.groups.members(viewer, group, role=role, offset=offset, limit=limit)
        next_link = None
        if len(rows) == limit:
            next_link = page_link(
                f"/api/v1/groups/{group.slug}/members",
                role=role.value if role else None,
                limit=limit,
                offset=offset + limit,
            )
        return MembersOut(
            members=[
                MemberOut(user=user_ref(u), role=m.role, status=m.status, joined_at=m.joined_at)
                for m, u in rows
            ],
            next=next_link,
        )


@router.put("/groups/{slug}/members/{name}/role")
def set_role(
    slug: str, name: str, data: RoleIn, request: Request, runtime: RuntimeDep
) -> MemberOut:
    """Owners make members moderators or owners, and back."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        other = svc.social.reachable_user_by_name(user, name)
        membership = svc.groups.set_role(user, group, other, data.role)
        return MemberOut(
            user=user_ref(other),
            role=membership.role,
            status=membership.status,
            joined_at=membership.joined_at,
        )


@router.delete("/groups/{slug}/members/{name}", status_code=_NO_CONTENT)
def remove_member(slug: str, name: str, request: Request, runtime: RuntimeDep) -> Response:
    """Moderators remove members (and withdraw invitations); owners remove anyone."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        other = svc.social.reachable_user_by_name(user, name)
        svc.groups.remove_member(user, group, other)
    return Response(status_code=_NO_CONTENT)


# -- what the members like --------------------------------------------------------------------


def _window(period: str, tz: str | None) -> tuple[str, str, Window]:
    try:
        zone = normalize_timezone(tz) if tz else "UTC"
    except ValueError as exc:
        raise InvalidPeriod(str(exc)) from None
    named = parse_period(period)
    return named.value, zone, resolve(named, zone, datetime.now(UTC))


@router.get("/groups/{slug}/charts/{level}")
def group_chart(
    slug: str,
    level: Kind,
    request: Request,
    runtime: RuntimeDep,
    period: Annotated[str, Query(description="7day, 1month, ... overall, this_week ...")] = "7day",
    tz: Annotated[str | None, Query(description="IANA zone of calendar periods.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Offset = 0,
) -> ChartOut:
    """The members' aggregate taste: their plays of a level in a period (private profiles
    and incognito plays are never counted), with how many members played each item."""
    with unit_of_work(runtime) as svc:
        group = _readable(svc, request, slug)
        label, zone, window = _window(period, tz)
        chart = GroupStats(svc.session).chart(
            level, svc.groups.chart_members(group), window=window, limit=limit, offset=offset
        )
        found = briefs(svc, [e.item for e in chart.entries])
        return ChartOut(
            level=level,
            period=label,
            timezone=zone,
            from_=window.start,
            to=window.end,
            total=chart.total,
            entries=[
                ChartEntryOut(
                    rank=e.rank, plays=e.plays, listeners=e.listeners, item=found[e.item.id]
                )
                for e in chart.entries
            ],
        )


@router.get("/groups/{slug}/recommendations")
def group_recommendations(
    slug: str,
    request: Request,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> GroupPicksOut:
    """What the members love or played most in the last 90 days that you have never played
    nor rated and can watch or hear where you are (signed-in callers)."""
    with unit_of_work(runtime) as svc:
        user = require_user(svc, request)
        group = _readable(svc, request, slug)
        where = viewer_of(runtime, request, user)
        picks = svc.groups.recommendations(user, group, limit=limit, where=where)
        found = briefs(svc, [p.item for p in picks])
        return GroupPicksOut(
            recommendations=[
                GroupPickOut(
                    item=found[p.item.id], lovers=p.lovers, listeners=p.listeners, score=p.score
                )
                for p in picks
            ]
        )


@router.get("/groups/{slug}/events")
def group_events(slug: str, request: Request, runtime: RuntimeDep) -> GroupEventsOut:
    """The group's item's live and upcoming events (a team's or competition's matches, a
    show's episodes, an outlet's programmes, or the item itself), with live audiences."""
    with unit_of_work(runtime) as svc:
        group = _readable(svc, request, slug)
        item = svc.catalog.get(group.item_id) if group.item_id is not None else None
        if item is None:
            return GroupEventsOut(live=[], upcoming=[])
        live, upcoming = svc.events.around(item)
        found = briefs(svc, [v.item for v in [*live, *upcoming]])
        return GroupEventsOut(
            live=[event_out(v, found[v.item.id]) for v in live],
            upcoming=[event_out(v, found[v.item.id]) for v in upcoming],
        )


# -- topics -----------------------------------------------------------------------------------


@router.get("/groups/{slug}/topics")
def list_topics(
    slug: str,
    request: Request,
    runtime: RuntimeDep,
    before: Annotated[
        str | None, Query(description="From the 'next' link: the last topic seen.")
    ] = None,
    limit: Limit = 30,
) -> TopicPage:
    """Discussion topics, the most recently active first."""
    with unit_of_work(runtime) as svc:
        group = _readable(svc, request, slug)
        viewer = caller(svc, request, required=False)
        cursor = _topic_cursor(svc, before)
        rows = svc.groups.topics(viewer, group, before=cursor, limit=limit)
        next_link = None
        if len(rows) == limit:
            next_link = page_link(
                f"/api/v1/groups/{group.slug}/topics", before=rows[-1].topic.id, limit=limit
            )
        return TopicPage(topics=[_topic_out(v) for v in rows], next=next_link)


def _topic_cursor(svc: Services, before: str | None) -> tuple[datetime, int] | None:
    if before is None:
        return None
    topic = svc.session.get(Topic, int(before)) if before.isdigit() else None
    if topic is None:
        raise MalformedBody(f"{before!r} is not a cursor this API gave out.")
    return topic.last_post_at, topic.id


@router.post("/groups/{slug}/topics", status_code=status.HTTP_201_CREATED)
def create_topic(slug: str, data: TopicIn, request: Request, runtime: RuntimeDep) -> TopicDetail:
    """Start a discussion (members only): a title and the first post."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        group, _ = svc.groups.find(user, slug)
        topic = svc.groups.create_topic(user, group, data.title)
        place = svc.shouts.open_for_posting(user, ShoutTarget.TOPIC, topic.id)
        svc.shouts.post(user, place, data.body)
        return _topic_detail(svc, user, topic.id, before=None, limit=50)


@router.get("/topics/{topic_id}", responses={404: {"description": "topic_not_found"}})
def get_topic(
    topic_id: int,
    request: Request,
    runtime: RuntimeDep,
    before: Annotated[int | None, Query(description="Older posts: from 'next'.")] = None,
    limit: Limit = 50,
) -> TopicDetail:
    """A topic with its posts, newest first (each with its replies)."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        return _topic_detail(svc, viewer, topic_id, before=before, limit=limit)


def _topic_detail(
    svc: Services, viewer: User | None, topic_id: int, *, before: int | None, limit: int
) -> TopicDetail:
    place = svc.shouts.open(viewer, ShoutTarget.TOPIC, topic_id)
    assert place.topic is not None
    assert place.group is not None
    views = svc.shouts.thread_list(viewer, place, before=before, limit=limit)
    author_id = place.topic.author_id
    author = svc.session.get(User, author_id) if author_id is not None else None
    if author is not None and author.id in svc.social.hidden_ids(viewer):
        author = None
    return TopicDetail(
        topic=_topic_out(TopicView(place.topic, author, svc.shouts.count(place))),
        group=group_brief(place.group),
        posts=shout_page(svc, views, f"/api/v1/topics/{topic_id}", limit, svc.shouts.latest(place)),
    )


@router.delete("/topics/{topic_id}", status_code=_NO_CONTENT)
def delete_topic(topic_id: int, request: Request, runtime: RuntimeDep) -> Response:
    """The topic's author, or a moderator, removes a topic."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        topic, _ = svc.groups.topic(user, topic_id)
        svc.groups.delete_topic(user, topic)
    return Response(status_code=_NO_CONTENT)
