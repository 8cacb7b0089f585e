"""/api/v1 recommendations: personal lists, similar items, neighbours, compatibility,
stations and the trained version's status. Feedback (love, hate, not interested, bad
recommendation) is ``PUT /api/v1/items/{id}/feedback``; it counts from the next answer on."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Request

from tastegraph.accounts.errors import PermissionDenied
from tastegraph.accounts.models import User
from tastegraph.accounts.services import name_key
from tastegraph.catalog.models import Item
from tastegraph.catalog.schemas import ItemBrief
from tastegraph.recs.schemas import (
    CompatibilityOut,
    KindStatusOut,
    LocalShareOut,
    NeighbourOut,
    NeighboursOut,
    RecommendationOut,
    RecommendationsOut,
    RecsStatusOut,
    SimilarItemOut,
    SimilarOut,
    StationEntryOut,
    StationIn,
    StationOut,
)
from tastegraph.recs.services import Recommended, Station
from tastegraph.runtime import Services
from tastegraph.web.deps import RuntimeDep, caller, require_user, unit_of_work, view_profile
from tastegraph.web.viewer import viewer_of

router = APIRouter(prefix="/api/v1", tags=["recommendations"])

KindQuery = Annotated[
    str | None,
    Query(
        description="mixed (default: every kind), or a kind: track, artist, album, episode, show, "
        "season, film, match, team, competition, story, programme, outlet."
    ),
]


def _own(svc: Services, request: Request, name: str) -> User:
    """The caller, who must be the user named: recommendations are private."""
    user = require_user(svc, request)
    if name_key(name) != user.name_key:
        raise PermissionDenied("Recommendations and stations are only shown to their owner.")
    return user


def _briefs(svc: Services, items: Sequence[Item | None]) -> dict[int, ItemBrief]:
    return svc.catalog.briefs([i for i in items if i is not None])


@router.get("/users/{name}/recommendations")
def recommendations(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    kind: KindQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    based_on: Annotated[
        str | None,
        Query(
            description="Score from the plays of one domain (music, tv, film, sports, news) or "
            "kind only: shows for your music taste is kind=show&based_on=music."
        ),
    ] = None,
) -> RecommendationsOut:
    """The caller's own recommendations, best first, never anything already played, loved,
    hated, not interesting or called a bad recommendation, nor anything unavailable in the
    caller's country. Plays and feedback count at once."""
    with unit_of_work(runtime) as svc:
        user = _own(svc, request, name)
        where = viewer_of(runtime, request, user)
        answer = svc.recs.recommend(user, kind, limit, based_on=based_on, where=where)
        briefs = _briefs(
            svc, [e.item for e in answer.entries] + [e.because for e in answer.entries]
        )
        local = None
        if answer.local_rule is not None:
            shown = [e for e in answer.entries if e.local is not None]
            local = LocalShareOut(
                country=answer.local_rule.country,
                scope=answer.local_rule.scope,
                share=answer.local_rule.share,
                achieved=round(sum(bool(e.local) for e in shown) / len(shown), 4) if shown else 0,
            )
        return RecommendationsOut(
            user=user.name,
            kind=answer.kind,
            based_on=answer.based_on,
            source=answer.source,
            version=answer.version,
            model=answer.model,
            local_share=local,
            recommendations=[_entry(e, briefs) for e in answer.entries],
        )


def _entry(entry: Recommended, briefs: dict[int, ItemBrief]) -> RecommendationOut:
    return RecommendationOut(
        item=briefs[entry.item.id],
        score=round(entry.score, 6),
        reason=entry.reason,
        because=briefs.get(entry.because.id) if entry.because is not None else None,
        local=entry.local,
    )


@router.get("/items/{item_id}/similar")
def similar_items(
    item_id: int,
    request: Request,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> SimilarOut:
    """Items of the same kind most like this one (people who play one play the other); for a
    viewer whose country is known, only items available there."""
    with unit_of_work(runtime) as svc:
        item = svc.catalog.get(item_id)
        where = viewer_of(runtime, request, caller(svc, request, required=False))
        answer = svc.recs.similar(item, limit, where=where)
        briefs = _briefs(svc, [item, *(i for i, _ in answer.entries)])
        return SimilarOut(
            item=briefs[item.id],
            source=answer.source,
            version=answer.version,
            similar=[
                SimilarItemOut(item=briefs[i.id], match=round(m, 6)) for i, m in answer.entries
            ],
        )


@router.get("/users/{name}/neighbours")
def neighbours(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    kind: KindQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> NeighboursOut:
    """The users with the most similar taste, among those the caller may see, with what they
    share. 503 ``model_not_trained`` until ``tastegraph recs train`` has run."""
    with unit_of_work(runtime) as svc:
        view = view_profile(svc, request, name)
        answer = svc.recs.neighbours(view.viewer, view.owner, kind, limit)
        briefs = _briefs(svc, [i for n in answer.entries for i in n.shared])
        return NeighboursOut(
            user=view.owner.name,
            kind=answer.kind,
            version=answer.version,
            neighbours=[
                NeighbourOut(
                    name=n.user.name,
                    url=f"/api/v1/users/{n.user.name}",
                    score=n.score,
                    shared=[briefs[i.id] for i in n.shared],
                )
                for n in answer.entries
            ],
        )


@router.get("/users/{name}/compatibility/{other}")
def compatibility(
    name: str, other: str, request: Request, runtime: RuntimeDep, kind: KindQuery = None
) -> CompatibilityOut:
    """How compatible two tastes are (0..1: very low, low, medium, high, very high, super) and
    what they share. Both profiles must be visible to the caller."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        a = svc.social.access_user_by_name(viewer, name)
        b = svc.social.access_user_by_name(viewer, other)
        answer = svc.recs.compatibility(a, b, kind)
        briefs = _briefs(svc, answer.shared)
        return CompatibilityOut(
            user=a.name,
            other=b.name,
            kind=answer.kind,
            score=answer.score,
            level=answer.level,
            source=answer.source,
            shared_count=answer.shared_count,
            shared=[briefs[i.id] for i in answer.shared],
        )


@router.get("/users/{name}/station")
def get_station(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    kind: Annotated[str, Query(description="track (default), episode, film, ... or mixed.")] = (
        "track"
    ),
    size: Annotated[int, Query(ge=1, le=200)] = 25,
    recent_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
) -> StationOut:
    """The caller's station: a queue in score order, at most two items per artist, show,
    competition or outlet, nothing played in the last days, nothing hated."""
    with unit_of_work(runtime) as svc:
        user = _own(svc, request, name)
        where = viewer_of(runtime, request, user)
        station = svc.recs.station(user, kind, size, recent_days=recent_days, where=where)
        return _station(svc, user, station)


@router.post("/users/{name}/station")
def new_station(name: str, data: StationIn, request: Request, runtime: RuntimeDep) -> StationOut:
    """Start a station kept for paging (the same rules; shuffled unless ``shuffle`` is false,
    repeatable with its seed) and get its first page. Follow ``next`` for the next page: a
    station never plays an item twice, and the diversity rule holds across pages."""
    seed = None
    if data.shuffle:
        seed = data.seed if data.seed is not None else secrets.randbelow(2**31)
    with unit_of_work(runtime, write=True) as svc:
        user = _own(svc, request, name)
        station = svc.recs.start_station(
            user,
            data.kind,
            data.size,
            recent_days=data.recent_days,
            seed=seed,
            where=viewer_of(runtime, request, user),
        )
        return _station(svc, user, station)


@router.get("/users/{name}/station/{station_id}")
def station_page(
    name: str,
    station_id: int,
    request: Request,
    runtime: RuntimeDep,
    cursor: Annotated[
        int,
        Query(
            ge=0,
            description="The queue position to start from: the last page's next_cursor for a "
            "new page (computed from your plays and feedback of this moment), an earlier one "
            "to read a page again as it was served.",
        ),
    ] = 0,
) -> StationOut:
    """A page of one of the caller's kept stations."""
    with unit_of_work(runtime, write=True) as svc:
        user = _own(svc, request, name)
        station = svc.recs.station_page(
            user, station_id, cursor, where=viewer_of(runtime, request, user)
        )
        return _station(svc, user, station)


def _station(svc: Services, user: User, station: Station) -> StationOut:
    briefs = _briefs(svc, [e.item for e in station.entries])
    following = None
    if station.id is not None and station.next_cursor is not None:
        following = f"/api/v1/users/{user.name}/station/{station.id}?cursor={station.next_cursor}"
    return StationOut(
        user=user.name,
        kind=station.kind,
        size=station.size,
        recent_days=station.recent_days,
        seed=station.seed,
        source=station.source,
        version=station.version,
        id=station.id,
        cursor=station.cursor,
        next_cursor=station.next_cursor,
        next=following,
        queue=[
            StationEntryOut(
                item=briefs[e.item.id], score=round(e.score, 6), known=e.known, reason=e.reason
            )
            for e in station.entries
        ],
    )


@router.get("/recs/status")
def status(runtime: RuntimeDep) -> RecsStatusOut:
    """The trained version this server answers from."""
    with unit_of_work(runtime) as svc:
        manifest = svc.recs.status()
    if manifest is None:
        return RecsStatusOut(trained=False)
    return RecsStatusOut(
        trained=True,
        version=manifest.version,
        trained_at=manifest.trained_at,
        kinds=[
            KindStatusOut(
                kind=k.kind,
                model=k.model,
                users=k.users,
                items=k.items,
                interactions=k.interactions,
            )
            for k in sorted(manifest.kinds.values(), key=lambda k: k.kind)
        ],
    )
