"""Stations: start one (a kind that can be played, shuffled or in score order) and page
through its queue. The same ``RecsService.start_station`` / ``station_page`` as
``/api/v1/users/{name}/station``: at most two items per artist, show, competition or outlet,
nothing played lately, nothing hated, never an item twice in one station."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Form
from fastapi.responses import Response

from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.ingest.sentiments import sentiments_of
from tastegraph.recs.data import MIXED
from tastegraph.web.ui.discovery import KIND_PLURALS, catalog_viewer, explanation, labels
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import PageDep, PageError, page_router

router = page_router()

STATION_SIZE = 20
STATION_KINDS: tuple[tuple[str, str], ...] = (
    (Kind.TRACK.value, KIND_PLURALS[Kind.TRACK]),
    (Kind.EPISODE.value, KIND_PLURALS[Kind.EPISODE]),
    (Kind.FILM.value, KIND_PLURALS[Kind.FILM]),
    (Kind.MATCH.value, KIND_PLURALS[Kind.MATCH]),
    (Kind.PROGRAMME.value, KIND_PLURALS[Kind.PROGRAMME]),
    (Kind.STORY.value, KIND_PLURALS[Kind.STORY]),
    (MIXED, N_("A bit of everything")),
)


@router.get("/stations")
def stations(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        page.require_user(svc)
        return page.render(
            "ui/stations/start.html",
            {**labels(), "kinds": [(v, page.gettext(label)) for v, label in STATION_KINDS]},
        )


@router.post("/stations")
def start_station(
    page: PageDep,
    kind: Annotated[str, Form(max_length=16)] = Kind.TRACK.value,
    shuffle: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    if kind not in dict(STATION_KINDS):
        raise PageError(400, page.gettext("There is no such kind of item."))
    seed = secrets.randbelow(2**31) if shuffle else None
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        station = svc.recs.start_station(
            user, kind, STATION_SIZE, seed=seed, where=catalog_viewer(page, user)
        )
        station_id = station.id
    return page.redirect(f"/stations/{station_id}")


@router.get("/stations/{station_id}")
def station(station_id: int, page: PageDep, cursor: int = 0) -> Response:
    if cursor < 0:
        raise PageError(404)
    # Reading the page after the last one served computes and keeps it: a write.
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        found = svc.recs.station_page(user, station_id, cursor, where=catalog_viewer(page, user))
        items: list[Item] = [e.item for e in found.entries]
        briefs = svc.catalog.briefs(items, catalog_viewer(page, user))
        sentiments = sentiments_of(svc.session, user.id, [i.id for i in items])
        entries = [
            (e, explanation(page, e.because, e.reason, briefs), sentiments.get(e.item.id))
            for e in found.entries
        ]
        kind_label = dict(STATION_KINDS).get(found.kind, found.kind)
        return page.render(
            "ui/stations/station.html",
            {
                **labels(),
                "station": found,
                "station_id": station_id,
                "kind_label": page.gettext(kind_label),
                "entries": entries,
                "briefs": briefs,
                "previous": max(0, found.cursor - found.size) if found.cursor > 0 else None,
            },
        )
