"""Group pages: the directory, creating a group, a group's page (about, members, charts,
recommendations, events, topics and the shoutbox), its members, a topic, and the managing
page of owners and moderators. Every read and every change goes through ``GroupService`` and
``ShoutService`` as the API does; what the viewer may not see answers 404."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import Response
from pydantic import ValidationError

from tastegraph.accounts.errors import UserNotFound
from tastegraph.accounts.models import User
from tastegraph.catalog.errors import ItemNotFound
from tastegraph.catalog.kinds import DOMAIN_OF, Domain, Kind
from tastegraph.catalog.models import Item
from tastegraph.runtime import Services
from tastegraph.social.errors import AlreadyMember, GroupNameTaken, InvalidSocialAction
from tastegraph.social.groups import slugify
from tastegraph.social.models import (
    Group,
    GroupMember,
    GroupPrivacy,
    GroupRole,
    MembershipStatus,
    ShoutTarget,
)
from tastegraph.social.schemas import GroupIn, GroupUpdate, TopicIn
from tastegraph.stats.groups import GroupStats
from tastegraph.stats.periods import Period, resolve
from tastegraph.web.ui.community_views import (
    PRIVACIES,
    REACTIONS,
    REPORT_REASONS,
    ROLES,
    parent_of,
    post_shout,
    shout_cards,
)
from tastegraph.web.ui.discovery import catalog_viewer
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router

router = page_router()

Text = Annotated[str, Form(max_length=10_000)]
Name = Annotated[str, Form(max_length=200)]
Parent = Annotated[str, Form(max_length=20)]

PAGE_SIZE = 24
MEMBERS_SHOWN = 12
MEMBERS_PAGE = 100
SHOUTS_SHOWN = 20
TOPICS_SHOWN = 10
CHART_SIZE = 10

ABOUT: tuple[tuple[str, str], ...] = (
    ("", N_("All groups")),
    (Domain.MUSIC.value, N_("Music")),
    (Domain.TV.value, N_("TV")),
    (Domain.FILM.value, N_("Film")),
    (Domain.SPORTS.value, N_("Sports")),
    (Domain.NEWS.value, N_("News")),
    ("theme", N_("Free themes")),
)
PERIODS: tuple[tuple[Period, str], ...] = (
    (Period.DAYS_7, N_("Last 7 days")),
    (Period.MONTH_1, N_("Last 30 days")),
    (Period.MONTH_3, N_("Last 90 days")),
    (Period.MONTH_12, N_("Last 12 months")),
    (Period.OVERALL, N_("All time")),
)
LEVELS: dict[Kind, str] = {
    Kind.ARTIST: N_("Artists"),
    Kind.ALBUM: N_("Albums"),
    Kind.TRACK: N_("Tracks"),
    Kind.SHOW: N_("Shows"),
    Kind.EPISODE: N_("Episodes"),
    Kind.FILM: N_("Films"),
    Kind.COMPETITION: N_("Competitions"),
    Kind.TEAM: N_("Teams"),
    Kind.MATCH: N_("Matches"),
    Kind.OUTLET: N_("Outlets"),
    Kind.PROGRAMME: N_("Programmes"),
    Kind.STORY: N_("Stories"),
}
LEVELS_BY_DOMAIN: dict[Domain | None, tuple[Kind, ...]] = {
    Domain.MUSIC: (Kind.ARTIST, Kind.ALBUM, Kind.TRACK),
    Domain.TV: (Kind.SHOW, Kind.EPISODE),
    Domain.FILM: (Kind.FILM,),
    Domain.SPORTS: (Kind.TEAM, Kind.COMPETITION, Kind.MATCH),
    Domain.NEWS: (Kind.OUTLET, Kind.PROGRAMME, Kind.STORY),
    None: (Kind.ARTIST, Kind.TRACK, Kind.SHOW, Kind.FILM, Kind.TEAM, Kind.OUTLET),
}
"""The chart levels a group's page offers, by the domain of the item it is about."""


def _group_url(group: Group) -> str:
    return f"/groups/{group.slug}"


def _find(page: Page, svc: Services, slug: str) -> tuple[User | None, Group, GroupMember | None]:
    viewer = page.user(svc)
    group, membership = svc.groups.find(viewer, slug)  # invite-only and not in it: 404
    return viewer, group, membership


def _member_of(svc: Services, page: Page, slug: str) -> tuple[User, Group]:
    user = page.require_user(svc)
    group, _ = svc.groups.find(user, slug)
    return user, group


def _other(page: Page, svc: Services, user: User, name: str) -> User:
    try:
        return svc.social.reachable_user_by_name(user, name)
    except UserNotFound:
        raise PageError(404, page.gettext("There is no one called %(name)s.", name=name)) from None


# -- the directory and creating ---------------------------------------------------------------


@router.get("/groups")
def directory(page: PageDep, q: str = "", about: str = "", offset: int = 0) -> Response:
    if about not in {value for value, _ in ABOUT} or not 0 <= offset <= 100_000:
        raise PageError(404, page.gettext("There is no such list of groups."))
    query = q.strip()[:100]
    with page.unit_of_work() as svc:
        viewer = page.user(svc)
        found = svc.groups.search(
            viewer,
            query=query or None,
            domain=Domain(about) if about and about != "theme" else None,
            themes=about == "theme",
            offset=offset,
            limit=PAGE_SIZE,
        )
        views = svc.groups.views(found, viewer)
        briefs = svc.catalog.briefs([v.item for v in views if v.item is not None])
        return page.render(
            "ui/groups/directory.html",
            {
                "views": views,
                "briefs": briefs,
                "q": query,
                "about": about,
                "abouts": ABOUT,
                "offset": offset,
                "more": len(found) == PAGE_SIZE,
                "page_size": PAGE_SIZE,
                "privacies": PRIVACIES,
            },
        )


def _new_form(
    page: Page,
    svc: Services,
    *,
    q: str = "",
    item: Item | None = None,
    error: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    results = svc.catalog.search(q, limit=10) if q and item is None else []
    shown = [*([item] if item is not None else []), *results]
    return page.render(
        "ui/groups/new.html",
        {
            "q": q,
            "item": item,
            "results": results,
            "briefs": svc.catalog.briefs(shown),
            "error": error,
            "values": {"name": "", "description": "", "privacy": "public", **(values or {})},
            "privacies": PRIVACIES,
        },
        status=status,
    )


@router.get("/groups/-/new")
def new_group(page: PageDep, q: str = "", item: int | None = None) -> Response:
    with page.unit_of_work() as svc:
        page.require_user(svc)
        about = svc.catalog.get(item) if item is not None else None
        return _new_form(page, svc, q=q.strip()[:100], item=about)


@router.post("/groups")
def create_group(
    page: PageDep,
    name: Name,
    description: Text = "",
    privacy: Annotated[str, Form(max_length=20)] = "public",
    item_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    values = {"name": name, "description": description, "privacy": privacy}
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        item: Item | None = None
        if item_id.strip().isdigit():
            try:
                item = svc.catalog.get(int(item_id))
            except ItemNotFound:
                item = None
        try:
            data = GroupIn.model_validate(
                {"name": name, "description": description.strip() or None, "privacy": privacy}
            )
        except ValidationError:
            error = page.gettext(
                "A group needs a name of 2 to 100 characters and one of the three privacies; "
                "a description may have up to 4,000 characters."
            )
            return _new_form(page, svc, item=item, error=error, values=values, status=422)
        try:
            group = svc.groups.create(
                user,
                name=data.name,
                description=data.description,
                privacy=data.privacy,
                item=item,
            )
        except GroupNameTaken:
            error = page.gettext("There is a group with that name already. Choose another.")
            return _new_form(page, svc, item=item, error=error, values=values, status=409)
        except InvalidSocialAction:
            error = page.gettext("A group's name needs at least two letters or digits.")
            return _new_form(page, svc, item=item, error=error, values=values, status=422)
        url = _group_url(group)
    return page.redirect(url)


# -- a group's page ---------------------------------------------------------------------------


def _levels(item: Item | None) -> tuple[Kind, ...]:
    return LEVELS_BY_DOMAIN[DOMAIN_OF[item.kind] if item is not None else None]


@router.get("/groups/{slug}")
def group_page(
    slug: str,
    page: PageDep,
    period: str = Period.MONTH_1.value,
    level: str = "",
    before: int | None = None,
) -> Response:
    chosen = next((p for p, _ in PERIODS if p.value == period), None)
    if chosen is None:
        raise PageError(404, page.gettext("There is no such period."))
    with page.unit_of_work() as svc:
        viewer, group, membership = _find(page, svc, slug)
        view = svc.groups.view(group, membership)
        levels = _levels(view.item)
        shown_level = next((k for k in levels if k.value == level), levels[0])
        if level and shown_level.value != level:
            raise PageError(404, page.gettext("There is no such chart."))
        inside = svc.groups.can_read(viewer, group, membership)
        context: dict[str, Any] = {
            "group": group,
            "view": view,
            "membership": membership,
            "inside": inside,
            "is_member": membership is not None and membership.status is MembershipStatus.MEMBER,
            "moderator": svc.groups.can_moderate(viewer, group.id),
            "privacies": PRIVACIES,
            "roles": ROLES,
            "periods": PERIODS,
            "period": chosen,
            "levels": [(k, LEVELS[k]) for k in levels],
            "level": shown_level,
            "level_label": LEVELS[shown_level],
            "reactions": REACTIONS,
            "reasons": REPORT_REASONS,
            "members": [],
            "chart": None,
            "picks": [],
            "topics": [],
            "live": [],
            "upcoming": [],
            "shouts": [],
            "older": None,
        }
        items: list[Item] = [view.item] if view.item is not None else []
        if inside:
            context["members"] = svc.groups.members(viewer, group, limit=MEMBERS_SHOWN)
            window = resolve(chosen, page.timezone, datetime.now(UTC))
            chart = GroupStats(svc.session).chart(
                shown_level, svc.groups.chart_members(group), window=window, limit=CHART_SIZE
            )
            context["chart"] = chart
            items += [e.item for e in chart.entries]
            if viewer is not None:
                where = catalog_viewer(page, viewer)
                picks = svc.groups.recommendations(viewer, group, limit=8, where=where)
                context["picks"] = picks
                items += [p.item for p in picks]
            context["topics"] = svc.groups.topics(viewer, group, before=None, limit=TOPICS_SHOWN)
            if view.item is not None:
                live, upcoming = svc.events.around(view.item, limit=5)
                context["live"], context["upcoming"] = live, upcoming
                items += [e.item for e in [*live, *upcoming]]
            place = svc.shouts.open(viewer, ShoutTarget.GROUP, group.id)
            threads = svc.shouts.thread_list(viewer, place, before=before, limit=SHOUTS_SHOWN)
            context["shouts"] = shout_cards(svc, viewer, place, threads)
            if len(threads) == SHOUTS_SHOWN:
                context["older"] = threads[-1].shout.id
        context["briefs"] = svc.catalog.briefs(items)
        return page.render("ui/groups/group.html", context)


# -- membership -------------------------------------------------------------------------------


@router.post("/groups/{slug}/join")
def join(slug: str, page: PageDep) -> Response:
    with page.unit_of_work(write=True) as svc:
        user, group = _member_of(svc, page, slug)
        with contextlib.suppress(AlreadyMember):  # a second click
            svc.groups.join(user, group)
        url = _group_url(group)
    return page.redirect(url)


@router.post("/groups/{slug}/leave")
def leave(slug: str, page: PageDep) -> Response:
    """Leave, withdraw a request or decline an invitation."""
    with page.unit_of_work(write=True) as svc:
        user, group = _member_of(svc, page, slug)
        svc.groups.leave(user, group)
        hidden = group.privacy is GroupPrivacy.INVITE_ONLY and not user.is_admin
        url = "/groups" if hidden else _group_url(group)
    return page.redirect(url)


@router.post("/groups/{slug}/invitations")
def invite(slug: str, page: PageDep, name: Name) -> Response:
    with page.unit_of_work(write=True) as svc:
        user, group = _member_of(svc, page, slug)
        invitee = _other(page, svc, user, name.strip())
        try:
            svc.groups.invite(user, group, invitee)
        except AlreadyMember:
            raise PageError(
                409, page.gettext("%(name)s is a member already.", name=invitee.name)
            ) from None
        url = _group_url(group) + "/manage"
    return page.redirect(url)


@router.post("/groups/{slug}/requests/{name}/{answer}")
def answer_request(slug: str, name: str, answer: str, page: PageDep) -> Response:
    if answer not in ("approve", "reject"):
        raise PageError(404)
    with page.unit_of_work(write=True) as svc:
        user, group = _member_of(svc, page, slug)
        other = _other(page, svc, user, name)
        svc.groups.answer_request(user, group, other, approve=answer == "approve")
        url = _group_url(group) + "/manage"
    return page.redirect(url)


@router.post("/groups/{slug}/members/{name}/role")
def set_role(
    slug: str, name: str, page: PageDep, role: Annotated[str, Form(max_length=20)]
) -> Response:
    if role not in set(GroupRole):
        raise PageError(400, page.gettext("There is no such role."))
    with page.unit_of_work(write=True) as svc:
        user, group = _member_of(svc, page, slug)
        other = _other(page, svc, user, name)
        svc.groups.set_role(user, group, other, GroupRole(role))
        url = _group_url(group) + "/members"
    return page.redirect(url)


@router.post("/groups/{slug}/members/{name}/remove")
def remove_member(slug: str, name: str, page: PageDep) -> Response:
    with page.unit_of_work(write=True) as svc:
        user, group = _member_of(svc, page, slug)
        other = _other(page, svc, user, name)
        svc.groups.remove_member(user, group, other)
        url = _group_url(group) + "/members"
    return page.redirect(url)


@router.get("/groups/{slug}/members")
def members_page(slug: str, page: PageDep, offset: int = 0) -> Response:
    if not 0 <= offset <= 100_000:
        raise PageError(404)
    with page.unit_of_work() as svc:
        viewer, group, membership = _find(page, svc, slug)
        svc.groups.require_read(viewer, group, membership)  # members only: 404
        rows = svc.groups.members(viewer, group, offset=offset, limit=MEMBERS_PAGE)
        is_owner = viewer is not None and (
            viewer.is_admin
            or (
                membership is not None
                and membership.status is MembershipStatus.MEMBER
                and membership.role is GroupRole.OWNER
            )
        )
        return page.render(
            "ui/groups/members.html",
            {
                "group": group,
                "view": svc.groups.view(group, membership),
                "rows": rows,
                "roles": ROLES,
                "moderator": svc.groups.can_moderate(viewer, group.id),
                "owner": is_owner,
                "offset": offset,
                "more": len(rows) == MEMBERS_PAGE,
                "page_size": MEMBERS_PAGE,
            },
        )


# -- managing ---------------------------------------------------------------------------------


@router.get("/groups/{slug}/manage")
def manage_page(slug: str, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        user = page.require_user(svc)
        group, membership = svc.groups.find(user, slug)
        requests = svc.groups.requests(user, group)  # owners and moderators only: 403
        owner = user.is_admin or (
            membership is not None
            and membership.status is MembershipStatus.MEMBER
            and membership.role is GroupRole.OWNER
        )
        return page.render(
            "ui/groups/manage.html",
            {
                "group": group,
                "requests": requests,
                "owner": owner,
                "privacies": PRIVACIES,
                "error": "",
            },
        )


@router.post("/groups/{slug}/edit")
def edit_group(
    slug: str,
    page: PageDep,
    name: Name,
    description: Text = "",
    privacy: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    with page.unit_of_work(write=True) as svc:
        user, group = _member_of(svc, page, slug)
        try:
            data = GroupUpdate.model_validate(
                {"name": name, "description": description.strip(), "privacy": privacy or None}
            )
        except ValidationError:
            raise PageError(
                422,
                page.gettext(
                    "A group needs a name of 2 to 100 characters; a description may have up "
                    "to 4,000 characters."
                ),
            ) from None
        try:
            svc.groups.update(
                user,
                group,
                name=data.name,
                description=data.description,
                privacy=data.privacy if data.privacy is not group.privacy else None,
            )
        except GroupNameTaken:
            raise PageError(
                409, page.gettext("There is a group with that name already. Choose another.")
            ) from None
        except InvalidSocialAction:
            raise PageError(
                422, page.gettext("A group's name needs at least two letters or digits.")
            ) from None
        url = _group_url(group)
    return page.redirect(url)


@router.post("/groups/{slug}/delete")
def delete_group(slug: str, page: PageDep, confirm: Annotated[bool, Form()] = False) -> Response:
    if not confirm:
        raise PageError(
            422, page.gettext("Tick the box to confirm that the group is to be deleted.")
        )
    with page.unit_of_work(write=True) as svc:
        user, group = _member_of(svc, page, slug)
        svc.groups.delete(user, group)
    return page.redirect("/groups")


# -- talk -------------------------------------------------------------------------------------


@router.post("/groups/{slug}/shouts")
def shout_in_group(slug: str, page: PageDep, body: Text, parent_id: Parent = "") -> Response:
    with page.unit_of_work(write=True) as svc:
        user, group = _member_of(svc, page, slug)
        shout = post_shout(page, svc, user, ShoutTarget.GROUP, group.id, body, parent_of(parent_id))
        url = f"{_group_url(group)}#shout-{shout.parent_id or shout.id}"
    return page.redirect(url)


@router.post("/groups/{slug}/topics")
def create_topic(slug: str, page: PageDep, title: Name, body: Text) -> Response:
    with page.unit_of_work(write=True) as svc:
        user, group = _member_of(svc, page, slug)
        try:
            data = TopicIn(title=title, body=body)
        except ValidationError:
            raise PageError(
                422, page.gettext("A topic needs a title of at most 200 characters.")
            ) from None
        topic = svc.groups.create_topic(user, group, data.title)
        post_shout(page, svc, user, ShoutTarget.TOPIC, topic.id, data.body, None)
        url = f"{_group_url(group)}/topics/{topic.id}"
    return page.redirect(url)


def _topic(page: Page, svc: Services, slug: str, topic_id: int) -> tuple[Any, Group]:
    topic, group = svc.groups.topic(page.user(svc), topic_id)  # 404 unless readable
    if group.slug != slugify(slug):
        raise PageError(404)
    return topic, group


@router.get("/groups/{slug}/topics/{topic_id}")
def topic_page(slug: str, topic_id: int, page: PageDep, before: int | None = None) -> Response:
    with page.unit_of_work() as svc:
        viewer = page.user(svc)
        topic, group = _topic(page, svc, slug, topic_id)
        place = svc.shouts.open(viewer, ShoutTarget.TOPIC, topic.id)
        threads = svc.shouts.thread_list(viewer, place, before=before, limit=SHOUTS_SHOWN)
        membership = svc.groups.membership(group.id, viewer.id) if viewer is not None else None
        author = svc.session.get(User, topic.author_id) if topic.author_id else None
        if author is not None and author.id in svc.social.hidden_ids(viewer):
            author = None
        return page.render(
            "ui/groups/topic.html",
            {
                "group": group,
                "topic": topic,
                "author": author,
                "shouts": shout_cards(svc, viewer, place, threads),
                "older": threads[-1].shout.id if len(threads) == SHOUTS_SHOWN else None,
                "is_member": membership is not None
                and membership.status is MembershipStatus.MEMBER,
                "can_delete": viewer is not None
                and (topic.author_id == viewer.id or svc.groups.can_moderate(viewer, group.id)),
                "reactions": REACTIONS,
                "reasons": REPORT_REASONS,
            },
        )


@router.post("/groups/{slug}/topics/{topic_id}/posts")
def post_in_topic(
    slug: str, topic_id: int, page: PageDep, body: Text, parent_id: Parent = ""
) -> Response:
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        topic, group = _topic(page, svc, slug, topic_id)
        shout = post_shout(page, svc, user, ShoutTarget.TOPIC, topic.id, body, parent_of(parent_id))
        url = f"{_group_url(group)}/topics/{topic.id}#shout-{shout.parent_id or shout.id}"
    return page.redirect(url)


@router.post("/groups/{slug}/topics/{topic_id}/delete")
def delete_topic(slug: str, topic_id: int, page: PageDep) -> Response:
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        topic, group = _topic(page, svc, slug, topic_id)
        svc.groups.delete_topic(user, topic)
        url = _group_url(group)
    return page.redirect(url)
