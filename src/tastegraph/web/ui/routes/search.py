"""Search: catalogue items (titles in the viewer's language count; items the viewer cannot
watch or listen to where they are are left out, as the API does by default) and people (only
those whose profile the viewer may see)."""

from __future__ import annotations

from fastapi.responses import Response

from tastegraph.accounts.search import search_users
from tastegraph.catalog.kinds import Kind
from tastegraph.web.ui.discovery import KIND_PLURALS, catalog_viewer, labels, pick_kind
from tastegraph.web.ui.page import PageDep, page_router

router = page_router()

ITEMS_SHOWN = 30
PEOPLE_SHOWN = 20
OVERFETCH = 4
"""Search asks for this many times the page so that leaving out unavailable items still fills
it (as the API does)."""
MAX_QUERY = 200


@router.get("/search")
def search(page: PageDep, q: str = "", kind: str = "") -> Response:
    query = q.strip()[:MAX_QUERY]
    chosen = pick_kind(page, kind)
    with page.unit_of_work() as svc:
        viewer = page.user(svc)
        items, people = [], []
        briefs = {}
        if query:
            who = catalog_viewer(page, viewer)
            found = svc.catalog.search(query, kind=chosen, limit=ITEMS_SHOWN * OVERFETCH)
            items = svc.catalog.visible(found, who)[:ITEMS_SHOWN]
            briefs = svc.catalog.briefs(items, who)
            if chosen is None:
                found_people = search_users(svc.session, query, limit=PEOPLE_SHOWN * OVERFETCH)
                people = svc.social.visible_among(viewer, found_people)[:PEOPLE_SHOWN]
        return page.render(
            "ui/search/search.html",
            {
                **labels(),
                "q": query,
                "kind": chosen,
                "kinds": [("", page.gettext("Everything"))]
                + [(k.value, page.gettext(KIND_PLURALS[k])) for k in Kind],
                "items": items,
                "briefs": briefs,
                "people": people,
                "params": {"q": query},
            },
        )
