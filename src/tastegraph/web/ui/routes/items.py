"""Item pages, one for every kind: what the item is (in the viewer's language, with its
availability where they are), what it hangs under and what hangs under it or credits it, its
plays and listeners, its top listeners (only people the viewer may see), similar items, tags,
the groups about it, its shouts, and for an event its live audience. Also the forms that act on
an item: feedback (love, hate, not interested, bad recommendation), shouts and tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from babel.dates import format_date
from fastapi import Form
from fastapi.responses import Response

from tastegraph.accounts.models import User
from tastegraph.catalog.browse import CatalogBrowser, Related
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.catalog.viewer import Viewer as CatalogViewer
from tastegraph.ingest.models import Sentiment
from tastegraph.ingest.presence import Audience
from tastegraph.ingest.sentiments import sentiments_of
from tastegraph.recs.errors import RecsError
from tastegraph.runtime import Services
from tastegraph.social.errors import InvalidShout, TooManyLinks
from tastegraph.social.events import EventView, is_event
from tastegraph.social.models import ShoutTarget
from tastegraph.social.shouts import MAX_LENGTH as MAX_SHOUT_LENGTH
from tastegraph.stats.site import SiteStats
from tastegraph.web.ui.discovery import (
    KIND_NAMES,
    OFFER_NAMES,
    ROLE_NAMES,
    catalog_viewer,
    country_name,
    duration_text,
    item_path,
    labels,
    language_name,
)
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router, safe_next

router = page_router()

RELATED_SHOWN = 10
"""Items listed per kind under "what hangs under it" and "what credits it"."""
CREDITED_READ = 300
"""Credited items read to pick the most played (an artist's tracks)."""
LISTENERS_SHOWN = 10
SIMILAR_SHOWN = 10
GROUPS_SHOWN = 10
SHOUTS_SHOWN = 20
TIMELY = frozenset({Kind.MATCH, Kind.EPISODE, Kind.PROGRAMME, Kind.STORY})
"""Kinds listed newest first rather than most played."""
MAX_TAGS = 20


@router.get("/items/{item_id}")
def item_page(item_id: int, page: PageDep, before: int | None = None) -> Response:
    with page.unit_of_work() as svc:
        viewer = page.user(svc)
        item = svc.catalog.get(item_id)
        if item.id != item_id:  # merged into another: its page is the survivor's
            return page.redirect(item_path(item.id))
        who = catalog_viewer(page, viewer)
        info = svc.catalog.describe([item], who)[0]
        browser = CatalogBrowser(svc.session)
        ancestors = browser.ancestors(item)
        related = _ranked(
            svc,
            _merged(
                browser.children(item, limit=CREDITED_READ),
                browser.credited(item, limit=CREDITED_READ),
            ),
        )
        totals = svc.stats.item_totals(item.kind, [item.id])[item.id]
        mine = svc.stats.item_totals(item.kind, [item.id], user=viewer)[item.id] if viewer else None
        hidden = svc.social.hidden_ids(viewer)  # blocks hide people from each other
        listeners = [
            lst
            for lst in SiteStats(svc.session).top_listeners(
                item.kind, item.id, viewer=viewer, limit=LISTENERS_SHOWN + len(hidden)
            )
            if lst.user.id not in hidden
        ][:LISTENERS_SHOWN]
        similar = _similar(svc, item, who)
        groups = svc.groups.search(viewer, item_id=item.id, limit=GROUPS_SHOWN)
        place = svc.shouts.open(viewer, ShoutTarget.ITEM, item.id)
        shouts = svc.shouts.thread_list(viewer, place, before=before, limit=SHOUTS_SHOWN)
        live = _live(svc, viewer, item) if is_event(item) else None
        sentiment = (
            sentiments_of(svc.session, viewer.id, [item.id]).get(item.id) if viewer else None
        )
        shown: list[Item] = [i for _, rows in related for i, _ in rows]
        shown += [i for i, _ in similar] + ancestors
        # Credited people and teams in the viewer's language too; ``describe`` loaded them
        # into the session, so this reads nothing more.
        shown += [c for credit in info.credits if (c := svc.session.get(Item, credit.id))]
        briefs = svc.catalog.briefs(shown, who)
        availability = info.availability
        return page.render(
            "ui/items/item.html",
            {
                **labels(),
                "item": item,
                "info": info,
                "kind_label": page.gettext(KIND_NAMES[item.kind]),
                "ancestors": ancestors,
                "related": related,
                "credits": [
                    (page.gettext(ROLE_NAMES[role]), [c for c in info.credits if c.role == role])
                    for role in ROLE_NAMES
                    if any(c.role == role for c in info.credits)
                ],
                "totals": totals,
                "mine": mine,
                "listeners": listeners,
                "similar": similar,
                "groups": groups,
                "shouts": shouts,
                "older": shouts[-1].shout.id if len(shouts) == SHOUTS_SHOWN else None,
                "live": live,
                "sentiment": sentiment,
                "briefs": briefs,
                "facts": _facts(page, info.number, item),
                "availability": availability,
                "offers": [page.gettext(OFFER_NAMES[o.kind]) for o in availability.offers]
                if availability
                else [],
                "country_names": {
                    code: country_name(code, page.locale)
                    for code, _ in (live.audience.countries if live else [])
                    if code
                },
                "country_here": country_name(availability.country, page.locale)
                if availability
                else "",
            },
        )


def _merged(*lists: Sequence[Related]) -> list[Related]:
    """One group per kind: a track hangs under its artist when it has no album, and is
    credited to the artist too."""
    out: dict[Kind, Related] = {}
    for groups in lists:
        for group in groups:
            known = out.get(group.kind)
            if known is None:
                out[group.kind] = group
                continue
            ids = {i.id for i in known.items}
            items = known.items + [i for i in group.items if i.id not in ids]
            out[group.kind] = Related(group.kind, items, max(known.total, group.total))
    return sorted(out.values(), key=lambda g: list(Kind).index(g.kind))


def _ranked(
    svc: Services, groups: Sequence[Related]
) -> list[tuple[Related, list[tuple[Item, int]]]]:
    """Each group's items with their plays: the most played first, except for kinds that
    happen at a time (matches, episodes, stories), which stay newest first."""
    out = []
    for group in groups:
        ids = [i.id for i in group.items]
        plays = (
            {i: t.plays for i, t in svc.stats.item_totals(group.kind, ids).items()} if ids else {}
        )
        rows = [(i, plays.get(i.id, 0)) for i in group.items]
        if group.kind not in TIMELY:
            rows.sort(key=lambda row: -row[1])
        out.append((group, rows[:RELATED_SHOWN]))
    return out


def _similar(svc: Services, item: Item, who: CatalogViewer) -> list[tuple[Item, float]]:
    try:
        return svc.recs.similar(item, SIMILAR_SHOWN, where=who).entries
    except RecsError:
        return []


@dataclass(frozen=True)
class LiveView:
    event: EventView
    audience: Audience
    friends: list[User]


def _live(svc: Services, viewer: User | None, item: Item) -> LiveView:
    """An event's schedule and who watches it now: counts per country, and the viewer's
    friends among them as far as each lets the viewer see recent activity."""
    event = svc.events.describe(item)
    audience = svc.presence.audience(item.id)
    friends: list[User] = []
    if viewer is not None:
        hidden = svc.social.hidden_ids(viewer)
        candidates = [f for f in svc.social.friends_of(viewer.id) if f.id not in hidden]
        friends = [
            friend
            for friend, _ in svc.presence.watching_among(item.id, [f.id for f in candidates])
            if svc.social.can_see_recent(viewer, friend)
        ]
    return LiveView(event=event, audience=audience, friends=friends)


def _facts(page: Page, number: int | None, item: Item) -> list[tuple[str, str]]:
    """The item's facts as (label, text), in the page's language."""
    facts: list[tuple[str, str]] = []
    if number is not None:
        facts.append((page.gettext("Number"), page.format_number(number)))
    if item.released_at is not None:
        facts.append((page.gettext("Released"), format_date(item.released_at, locale=page.locale)))
    if item.duration_seconds:
        facts.append(
            (page.gettext("Running time"), duration_text(item.duration_seconds, page.locale))
        )
    if item.original_language:
        facts.append(
            (page.gettext("Original language"), language_name(item.original_language, page.locale))
        )
    if item.country:
        facts.append((page.gettext("Origin"), country_name(item.country, page.locale)))
    return facts


# -- forms ----------------------------------------------------------------------------------


FEEDBACK_CHOICES = {s.value: s for s in Sentiment}


@router.post("/items/{item_id}/feedback")
def set_feedback(
    item_id: int,
    page: PageDep,
    sentiment: Annotated[str, Form(max_length=32)],
    next: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    """Love, hate, not interested or bad recommendation (``clear`` takes it back); counted by
    recommendations from the next page on."""
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        if sentiment == "clear":
            svc.ingest.clear_feedback(user, item_id)
        elif sentiment in FEEDBACK_CHOICES:
            svc.ingest.set_feedback(user, item_id, FEEDBACK_CHOICES[sentiment])
        else:
            raise PageError(400, page.gettext("That is not a kind of feedback."))
    return page.redirect(safe_next(next, item_path(item_id)))


@router.post("/items/{item_id}/shouts")
def shout(
    item_id: int, page: PageDep, body: Annotated[str, Form(max_length=4000)] = ""
) -> Response:
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        place = svc.shouts.open_for_posting(user, ShoutTarget.ITEM, item_id)
        try:
            posted = svc.shouts.post(user, place, body)
        except TooManyLinks as exc:
            limit = exc.extra.get("max_links", 0)
            raise PageError(
                422, page.gettext("A shout may carry at most %(max)s links.", max=limit)
            ) from None
        except InvalidShout:
            raise PageError(
                422,
                page.gettext(
                    "A shout needs some text and may be at most %(max)s characters long.",
                    max=page.format_number(MAX_SHOUT_LENGTH),
                ),
            ) from None
        target = f"{item_path(place.id)}#shout-{posted.id}"
    return page.redirect(target)


@router.post("/items/{item_id}/tags")
def add_tags(
    item_id: int, page: PageDep, tags: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    """Add the viewer's tags, separated by commas."""
    names = [t.strip() for t in tags.split(",") if t.strip()]
    if not names or len(names) > MAX_TAGS or any(len(t) > 64 for t in names):
        raise PageError(
            422,
            page.gettext("Give one to 20 tags, separated by commas, each at most 64 characters."),
        )
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        item = svc.catalog.get(item_id)
        svc.catalog.tag(user.id, item.id, names)
    return page.redirect(f"{item_path(item.id)}#tags-heading")
