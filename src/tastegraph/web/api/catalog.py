"""/api/v1/items: lookup, search, tags, feedback, and the operator's aliases, ids and merges."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from tastegraph.catalog.errors import InvalidItemReference
from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.models import Item
from tastegraph.catalog.schemas import (
    AliasIn,
    ExternalIdIn,
    ItemOut,
    ItemPage,
    ItemRef,
    MergeIn,
    TagsIn,
    check_external_id,
)
from tastegraph.ingest.models import Sentiment
from tastegraph.ingest.schemas import FeedbackIn, FeedbackOut
from tastegraph.runtime import Runtime, Services
from tastegraph.web.api.briefs import brief
from tastegraph.web.deps import RuntimeDep, caller, require_admin, require_user, unit_of_work
from tastegraph.web.viewer import viewer_of

router = APIRouter(prefix="/api/v1/items", tags=["catalogue"])


_SEARCH_OVERFETCH = 4
"""Search asks the catalogue for this many times ``limit`` so that leaving out what the
viewer cannot watch still fills the page."""


def _page(runtime: Runtime, svc: Services, request: Request, item: Item) -> ItemOut:
    """An item page: in the viewer's language, with its availability where they are now."""
    viewer = viewer_of(runtime, request, caller(svc, request, required=False))
    return svc.catalog.describe([item], viewer)[0]


@router.get("")
def search_items(
    request: Request,
    runtime: RuntimeDep,
    q: Annotated[str, Query(min_length=1, max_length=512, description="Words of the title.")],
    kind: Kind | None = None,
    domain: Domain | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    unavailable: Annotated[
        Literal["hide", "mark"],
        Query(
            description="Items the viewer cannot watch or listen to in their country now: "
            "left out (hide), or listed with available=false (mark)."
        ),
    ] = "hide",
) -> ItemPage:
    """Search titles (translated ones too): exact matches first, then prefixes, then anywhere
    in the title. Titles come in the viewer's language where the catalogue has one."""
    with unit_of_work(runtime) as svc:
        viewer = viewer_of(runtime, request, caller(svc, request, required=False))
        if unavailable == "mark":
            items = svc.catalog.search(q, kind=kind, domain=domain, limit=limit)
        else:
            found = svc.catalog.search(q, kind=kind, domain=domain, limit=limit * _SEARCH_OVERFETCH)
            items = svc.catalog.visible(found, viewer)[:limit]
        return ItemPage(items=svc.catalog.describe(items, viewer))


@router.get("/by-external-id/{scheme}/{value:path}")
def item_by_external_id(scheme: str, value: str, request: Request, runtime: RuntimeDep) -> ItemOut:
    """Find an item by MusicBrainz, ISRC, IMDb, TMDb, TVDB or another scheme's id."""
    try:
        value = check_external_id(scheme, value)
    except ValueError as exc:
        raise InvalidItemReference(str(exc)) from None
    with unit_of_work(runtime) as svc:
        return _page(runtime, svc, request, svc.catalog.by_external_id(scheme, value))


@router.post("/lookup")
def lookup_item(ref: ItemRef, request: Request, runtime: RuntimeDep) -> ItemOut:
    """Find the item a description names, the way plays are matched, without creating it."""
    with unit_of_work(runtime) as svc:
        return _page(runtime, svc, request, svc.catalog.lookup(ref))


@router.get("/{item_id}")
def get_item(item_id: int, request: Request, runtime: RuntimeDep) -> ItemOut:
    """An item; ids of merged items answer with the item they were merged into. With
    ``availability`` for the viewer's country now (the account's country, or the trusted
    proxy's country header) and the title in the viewer's language (the account's locale,
    then ``Accept-Language``) where the catalogue has one."""
    with unit_of_work(runtime) as svc:
        return _page(runtime, svc, request, svc.catalog.get(item_id))


@router.post("/{item_id}/tags")
def tag_item(item_id: int, data: TagsIn, request: Request, runtime: RuntimeDep) -> ItemOut:
    """Add the caller's tags to an item."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        svc.catalog.tag(user.id, item_id, data.tags)
        return svc.catalog.describe([svc.catalog.get(item_id)])[0]


@router.put("/{item_id}/feedback")
def set_feedback(
    item_id: int, data: FeedbackIn, request: Request, runtime: RuntimeDep
) -> FeedbackOut:
    """Love, hate, mark an item not interesting or a bad recommendation. One sentiment per item
    replaces the last; recommendations take it into account from the next answer on."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        entry, item = svc.ingest.set_feedback(user, item_id, data.sentiment)
        return FeedbackOut(item=brief(item), sentiment=entry.sentiment, created_at=entry.created_at)


@router.delete("/{item_id}/feedback", status_code=status.HTTP_204_NO_CONTENT)
def clear_feedback(item_id: int, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        svc.ingest.clear_feedback(require_user(svc, request), item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{item_id}/love")
def love(item_id: int, request: Request, runtime: RuntimeDep) -> FeedbackOut:
    """Love an item (the same as feedback with sentiment 'love')."""
    with unit_of_work(runtime, write=True) as svc:
        user = require_user(svc, request)
        entry, item = svc.ingest.set_feedback(user, item_id, Sentiment.LOVE)
        return FeedbackOut(item=brief(item), sentiment=entry.sentiment, created_at=entry.created_at)


@router.delete("/{item_id}/love", status_code=status.HTTP_204_NO_CONTENT)
def unlove(item_id: int, request: Request, runtime: RuntimeDep) -> Response:
    """Take back a love; other feedback on the item is left alone."""
    with unit_of_work(runtime, write=True) as svc:
        svc.ingest.clear_feedback(require_user(svc, request), item_id, Sentiment.LOVE)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{item_id}/aliases", tags=["operators"])
def add_alias(item_id: int, data: AliasIn, request: Request, runtime: RuntimeDep) -> ItemOut:
    """Operators: make another spelling resolve to this item."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        svc.catalog.add_alias(item_id, data.title)
        return svc.catalog.describe([svc.catalog.get(item_id)])[0]


@router.post("/{item_id}/external-ids", tags=["operators"])
def add_external_id(
    item_id: int, data: ExternalIdIn, request: Request, runtime: RuntimeDep
) -> ItemOut:
    """Operators: attach an external id (MusicBrainz, ISRC, IMDb, ...) to an item."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        svc.catalog.add_external_id(item_id, data.scheme, data.value)
        return svc.catalog.describe([svc.catalog.get(item_id)])[0]


@router.post("/{item_id}/merge", tags=["operators"])
def merge_item(item_id: int, data: MergeIn, request: Request, runtime: RuntimeDep) -> ItemOut:
    """Operators: merge this item into another. Plays, credits, tags and ids move over."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        target = svc.catalog.merge(item_id, data.into)
        return svc.catalog.describe([target])[0]
