"""The viewer's recommendations: every kind together or one kind, optionally scored from one
domain's plays only (shows for a music taste), each with why it is there and the feedback
buttons (love, hate, not interested, bad recommendation) that change the very next list. The
same ``RecsService.recommend`` as ``/api/v1/users/{name}/recommendations``."""

from __future__ import annotations

from fastapi.responses import Response

from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.models import Item
from tastegraph.ingest.sentiments import sentiments_of
from tastegraph.recs.data import MIXED
from tastegraph.web.ui.discovery import (
    DOMAIN_NAMES,
    KIND_PLURALS,
    catalog_viewer,
    explanation,
    labels,
    pick_kind,
)
from tastegraph.web.ui.page import PageDep, PageError, page_router

router = page_router()

LIST_SIZE = 20
KINDS = (
    Kind.TRACK,
    Kind.ARTIST,
    Kind.ALBUM,
    Kind.SHOW,
    Kind.EPISODE,
    Kind.FILM,
    Kind.TEAM,
    Kind.MATCH,
    Kind.OUTLET,
    Kind.STORY,
)
"""The kinds offered in the switcher (any kind works in the address)."""


@router.get("/recommendations")
def recommendations(page: PageDep, kind: str = "", based_on: str = "") -> Response:
    chosen = pick_kind(page, kind) if kind and kind != MIXED else None
    source: Domain | None = None
    if based_on:
        try:
            source = Domain(based_on)
        except ValueError:
            raise PageError(404, page.gettext("There is no such kind of item.")) from None
    with page.unit_of_work() as svc:
        user = page.require_user(svc)
        answer = svc.recs.recommend(
            user,
            chosen.value if chosen else MIXED,
            LIST_SIZE,
            based_on=source.value if source else None,
            where=catalog_viewer(page, user),
        )
        items: list[Item] = [e.item for e in answer.entries]
        items += [e.because for e in answer.entries if e.because is not None]
        briefs = svc.catalog.briefs(items, catalog_viewer(page, user))
        sentiments = sentiments_of(svc.session, user.id, [e.item.id for e in answer.entries])
        entries = [
            (e, explanation(page, e.because, e.reason, briefs), sentiments.get(e.item.id))
            for e in answer.entries
        ]
        params = {"kind": chosen.value if chosen else None, "based_on": based_on or None}
        return page.render(
            "ui/recs/recommendations.html",
            {
                **labels(),
                "answer": answer,
                "entries": entries,
                "briefs": briefs,
                "kind": chosen,
                "kinds": [("", page.gettext("Everything"))]
                + [(k.value, page.gettext(KIND_PLURALS[k])) for k in KINDS],
                "based_on": source,
                "sources": [("", page.gettext("All my plays"))]
                + [(d.value, page.gettext(DOMAIN_NAMES[d])) for d in Domain],
                "params": params,
            },
        )
