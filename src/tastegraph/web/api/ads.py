"""/api/v1/ads: ad decisions, beacons, and managing advertisers, campaigns, line items,
creatives, placements and reports; /openrtb2/auction: OpenRTB 2.6. See docs/ads.md.

Management needs a token of an administrator or of a member of an advertiser; a member only
ever sees its own advertiser's objects and aggregates. Decisions and beacons are public.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.routing import Route

from tastegraph.ads.beacons import record_click, record_impression, record_loss
from tastegraph.ads.decision import AdContext, Decision, ItemContext
from tastegraph.ads.errors import (
    AdTokenExpired,
    InvalidBidRequest,
    InvalidReport,
    PlacementNotFound,
)
from tastegraph.ads.models import Creative
from tastegraph.ads.openrtb import BidRequest, bid_response, imp_contexts
from tastegraph.ads.reporting import report_csv
from tastegraph.ads.schemas import (
    AdvertiserIn,
    AdvertiserOut,
    AdvertiserUpdate,
    CampaignIn,
    CampaignOut,
    CampaignUpdate,
    CreativeIn,
    CreativeOut,
    CreativeUpdate,
    DecideIn,
    DecisionOut,
    LineItemIn,
    LineItemOut,
    LineItemUpdate,
    MemberIn,
    MemberOut,
    PlacementIn,
    PlacementOut,
    PlacementUpdate,
    ReportDimension,
    ReportOut,
)
from tastegraph.ads.services import Scope
from tastegraph.ads.tokens import AdToken
from tastegraph.catalog.errors import ItemNotFound
from tastegraph.ingest.errors import PayloadTooLarge
from tastegraph.runtime import Runtime, Services
from tastegraph.web.deps import RuntimeDep, bearer_token, caller, require_user, unit_of_work

router = APIRouter(prefix="/api/v1/ads", tags=["ads"])
serving_router = APIRouter(prefix="/api/v1/ads", tags=["ads"])
"""Decisions and beacons: the hot paths, included ahead of every other router (routes are
matched in order)."""
openrtb_router = APIRouter(tags=["ads"])

PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b"
)
"""A transparent 1x1 GIF."""
NO_STORE = {"Cache-Control": "no-store, max-age=0"}
MAX_DECIDE_BYTES = 65_536


def _scope(svc: Services, request: Request) -> Scope:
    return svc.ads.scope(require_user(svc, request))


# -- decisions ------------------------------------------------------------------------------


def _base_url(runtime: Runtime, request: Request) -> str:
    return (runtime.settings.public_url or str(request.base_url)).rstrip("/")


def _beacon_urls(base: str, decision: Decision) -> tuple[str, str, str]:
    return (
        f"{base}/api/v1/ads/imp/{decision.token}",
        f"{base}/api/v1/ads/click/{decision.token}",
        f"{base}/api/v1/ads/loss/{decision.token}",
    )


def _primary_language(locale: str | None) -> str | None:
    return locale.split("-")[0].lower() if locale else None


def _context(runtime: Runtime, data: DecideIn, request: Request, token: str | None) -> AdContext:
    """The request as the engine sees it; reads the database only for a bearer token (the
    viewer and their segments) or an item not in the engine's cache."""
    engine = runtime.ads
    if engine.placement(data.placement) is None:
        raise PlacementNotFound(f"There is no placement {data.placement!r}.")
    user = None
    segments: frozenset[int] = frozenset()
    item: ItemContext | None = engine.cached_item(data.item_id) if data.item_id else None
    if token is not None or (data.item_id and item is None):
        with unit_of_work(runtime) as svc:
            if token is not None:
                user = caller(svc, request)
            if user is not None and user.consent_ad_profiling:
                segments = engine.audience_lookup(svc.session, user)
            if data.item_id and item is None:
                item = engine.load_item(svc.session, data.item_id)
                if item is None:
                    raise ItemNotFound(f"There is no item with id {data.item_id}.")
    if user is not None:
        viewer: str | None = f"u:{user.id}"
    else:
        viewer = f"a:{data.anonymous_id}" if data.anonymous_id else None
    country = data.country or (user.country if user else None)
    if item is not None and not engine.item_available(item, country):
        item = None  # not watchable here: no targeting at what the viewer cannot be seeing
    live = data.live
    if live is None and item is not None:
        live = item.live(engine.clock())
    categories = frozenset(data.categories)
    if item is not None:
        categories |= item.categories
    return AdContext(
        placement=data.placement,
        viewer=viewer,
        segments=segments,
        country=country,
        kind=item.kind if item is not None else None,
        categories=categories,
        language=data.language or (_primary_language(user.locale) if user else None),
        timezone=data.timezone or (user.timezone if user else None),
        client=data.client,
        live=live,
    )


def _respond(runtime: Runtime, request: Request, decision: Decision | None) -> Response:
    if decision is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT, headers=NO_STORE)
    impression_url, click_url, _loss = _beacon_urls(_base_url(runtime, request), decision)
    creative = decision.creative
    line_item = decision.line_item
    # Built as a plain dict (this is the hot path); the shape is DecisionOut's.
    out = {
        "id": decision.ad.token_id,
        "placement": decision.placement.key,
        "advertiser": line_item.advertiser_name,
        "campaign_id": line_item.campaign_id,
        "line_item_id": line_item.id,
        "creative": {
            "id": creative.id,
            "format": creative.format.value,
            "width": creative.width,
            "height": creative.height,
            "duration_seconds": creative.duration_seconds,
            "asset_url": creative.asset_url,
            "mime": creative.mime,
            "headline": creative.headline,
            "body": creative.body,
        },
        "impression_url": impression_url,
        "click_url": click_url,
        "targeting": line_item.mode,
        "why": [{"parameter": p, "value": v} for p, v in decision.why],
    }
    return Response(orjson.dumps(out), media_type="application/json")


@serving_router.post(
    "/decide",
    response_model=DecisionOut,
    responses={204: {"description": "No fill: no ad for this request."}},
)
async def decide(data: DecideIn, request: Request, runtime: RuntimeDep) -> Response:
    """Choose an ad for a placement. The viewer is the caller (bearer token) or
    ``anonymous_id``; ``item_id`` is what they are watching, hearing or reading. Answers the
    creative with its impression and click URLs, or 204 No Content when nothing fills."""
    return await _answer(runtime, data, request)


async def _decide_fast(request: Request) -> Response:
    """``decide`` without FastAPI's per-request machinery (see ``install``)."""
    runtime: Runtime = request.app.state.runtime
    body = await request.body()
    if len(body) > MAX_DECIDE_BYTES:
        raise PayloadTooLarge(f"An ad request may be at most {MAX_DECIDE_BYTES} bytes.")
    try:
        data = DecideIn.model_validate_json(body)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from None
    return await _answer(runtime, data, request)


async def _answer(runtime: Runtime, data: DecideIn, request: Request) -> Response:
    token = bearer_token(request)
    engine = runtime.ads
    in_memory = token is None and (not data.item_id or engine.cached_item(data.item_id))
    if in_memory:
        context = _context(runtime, data, request, None)
    else:  # the database answers on a worker thread while the loop serves other requests
        context = await run_in_threadpool(_context, runtime, data, request, token)
    # Redis (one round trip) is awaited on the event loop: no worker thread, no contention
    # for the interpreter lock between threads (see docs/ads.md, "Performance").
    if engine.counters.remote:
        decision = await engine.decide_async(context)
    else:
        decision = engine.decide(context)
    return _respond(runtime, request, decision)


def _verified(runtime: Runtime, token: str) -> tuple[AdToken, bool]:
    """The token and whether it is still fresh (young enough to count)."""
    ad = runtime.ads.signer.verify(token)
    age = int(runtime.ads.clock().timestamp()) - ad.issued_at
    return ad, age <= runtime.settings.ads_token_ttl_seconds


@serving_router.get(
    "/imp/{token}", response_class=Response, responses={200: {"content": {"image/gif": {}}}}
)
def impression(token: str, runtime: RuntimeDep) -> Response:
    """The impression beacon: counts once however often it is fetched; answers a 1x1 GIF."""
    ad, fresh = _verified(runtime, token)
    if not fresh:
        raise AdTokenExpired("This ad was served too long ago to count.")
    with unit_of_work(runtime, write=True) as svc:
        record_impression(svc.session, runtime.ads, ad, runtime.ads.clock())
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@serving_router.get("/click/{token}", status_code=302, response_class=RedirectResponse)
def click(token: str, runtime: RuntimeDep) -> Response:
    """The click beacon: counts once, then redirects (302) to the creative's click URL."""
    ad, fresh = _verified(runtime, token)
    with unit_of_work(runtime, write=True) as svc:
        if fresh:
            record_click(svc.session, runtime.ads, ad, runtime.ads.clock())
        served = runtime.ads.index().creatives.get(ad.creative_id)
        target = served.click_url if served is not None else None
        if target is None:
            target = svc.session.scalar(
                select(Creative.click_url).where(Creative.id == ad.creative_id)
            )
    if target is None:
        raise PlacementNotFound("The ad of this click no longer exists.")
    return RedirectResponse(target, status_code=302, headers=NO_STORE)


@serving_router.get("/loss/{token}", status_code=204)
def loss(token: str, runtime: RuntimeDep) -> Response:
    """OpenRTB loss notice (``lurl``): the bid lost, so its budget and cap are given back."""
    ad, _fresh = _verified(runtime, token)
    with unit_of_work(runtime, write=True) as svc:
        record_loss(svc.session, runtime.ads, ad, runtime.ads.clock())
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=NO_STORE)


# -- OpenRTB 2.6 ------------------------------------------------------------------------------


def _bid_request(raw: bytes) -> BidRequest:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidBidRequest(f"The body is not valid JSON: {exc}.") from None
    if not isinstance(document, dict):
        raise InvalidBidRequest("A BidRequest is a JSON object.")
    try:
        return BidRequest.model_validate(document)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in err["loc"]) or None,
                "code": err["type"],
                "message": err["msg"],
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        first = errors[0]
        where = f"{first['field']}: " if first["field"] else ""
        raise InvalidBidRequest(f"{where}{first['message']}", errors=errors) from None


@openrtb_router.post(
    "/openrtb2/auction",
    responses={
        200: {"description": "An OpenRTB 2.6 BidResponse."},
        204: {"description": "No bid."},
        400: {"description": "Not JSON, or not a valid BidRequest (the reason is given)."},
    },
)
async def auction(request: Request, runtime: RuntimeDep) -> Response:
    """OpenRTB 2.6: take a BidRequest, answer a first-price BidResponse (one bid per imp
    whose ``tagid`` names a placement and that a line item wins) or 204 No Content, within
    ``tmax``."""
    return await _auction(request, runtime)


async def _auction_fast(request: Request) -> Response:
    return await _auction(request, request.app.state.runtime)


async def _auction(request: Request, runtime: Runtime) -> Response:
    started = time.monotonic()
    raw = await request.body()
    if len(raw) > runtime.settings.max_body_bytes:
        raise InvalidBidRequest("The BidRequest is too large.")
    bid_request = _bid_request(raw)
    engine = runtime.ads
    currency = runtime.settings.ads_currency

    bids: list[tuple[Any, Decision]] = []
    for imp, context in imp_contexts(bid_request, engine.index(), currency):
        if engine.counters.remote:
            decision = await engine.decide_async(context)
        else:
            decision = engine.decide(context)
        if decision is not None:
            bids.append((imp, decision))
    elapsed_ms = (time.monotonic() - started) * 1000
    if bid_request.tmax and elapsed_ms > bid_request.tmax:
        for _imp, decision in bids:  # too late to be heard: give the reservations back
            engine.release(decision)
        bids = []
    if not bids:
        return Response(
            status_code=status.HTTP_204_NO_CONTENT, headers={"x-openrtb-version": "2.6"}
        )
    base = _base_url(runtime, request)
    body = bid_response(bid_request, bids, currency, lambda d: _beacon_urls(base, d))
    return Response(
        orjson.dumps(body),
        media_type="application/json",
        headers={"x-openrtb-version": "2.6"},
    )


def install(app: FastAPI) -> None:
    """Mount decisions, beacons and OpenRTB ahead of every other route (routes are matched in
    order, and these are the busiest).

    ``decide`` and ``auction`` are also mounted as plain Starlette routes in front of their
    FastAPI twins, which stay for the OpenAPI documentation: FastAPI's per-request
    dependency and validation machinery costs twice what the decision itself does. The plain
    routes validate the same models and raise the same errors.
    """
    app.include_router(serving_router)
    app.include_router(openrtb_router)
    app.router.routes[0:0] = [
        Route("/api/v1/ads/decide", _decide_fast, methods=["POST"], include_in_schema=False),
        Route("/openrtb2/auction", _auction_fast, methods=["POST"], include_in_schema=False),
    ]


# -- advertisers ------------------------------------------------------------------------------


@router.post("/advertisers", status_code=status.HTTP_201_CREATED)
def create_advertiser(data: AdvertiserIn, request: Request, runtime: RuntimeDep) -> AdvertiserOut:
    """Create an advertiser (administrators)."""
    with unit_of_work(runtime, write=True) as svc:
        advertiser = svc.ads.create_advertiser(_scope(svc, request), data)
        out = svc.ads.advertiser_out(advertiser)
    runtime.ads.invalidate()
    return out


@router.get("/advertisers")
def list_advertisers(request: Request, runtime: RuntimeDep) -> list[AdvertiserOut]:
    """The advertisers the caller may see: all (administrators) or their own."""
    with unit_of_work(runtime) as svc:
        return [svc.ads.advertiser_out(a) for a in svc.ads.list_advertisers(_scope(svc, request))]


@router.get("/advertisers/{advertiser_id}")
def get_advertiser(advertiser_id: int, request: Request, runtime: RuntimeDep) -> AdvertiserOut:
    with unit_of_work(runtime) as svc:
        return svc.ads.advertiser_out(svc.ads.advertiser(_scope(svc, request), advertiser_id))


@router.patch("/advertisers/{advertiser_id}")
def update_advertiser(
    advertiser_id: int, data: AdvertiserUpdate, request: Request, runtime: RuntimeDep
) -> AdvertiserOut:
    with unit_of_work(runtime, write=True) as svc:
        scope = _scope(svc, request)
        out = svc.ads.advertiser_out(svc.ads.update_advertiser(scope, advertiser_id, data))
    runtime.ads.invalidate()
    return out


@router.delete("/advertisers/{advertiser_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_advertiser(advertiser_id: int, request: Request, runtime: RuntimeDep) -> Response:
    """Archive an advertiser: its ads stop, its reports stay."""
    with unit_of_work(runtime, write=True) as svc:
        svc.ads.archive_advertiser(_scope(svc, request), advertiser_id)
    runtime.ads.invalidate()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/advertisers/{advertiser_id}/members")
def list_members(advertiser_id: int, request: Request, runtime: RuntimeDep) -> list[MemberOut]:
    """The users who work for an advertiser (administrators)."""
    with unit_of_work(runtime) as svc:
        return svc.ads.members(_scope(svc, request), advertiser_id)


@router.post("/advertisers/{advertiser_id}/members", status_code=status.HTTP_201_CREATED)
def add_member(
    advertiser_id: int, data: MemberIn, request: Request, runtime: RuntimeDep
) -> MemberOut:
    """Let a user manage an advertiser's campaigns and read its reports (administrators)."""
    with unit_of_work(runtime, write=True) as svc:
        return svc.ads.add_member(_scope(svc, request), advertiser_id, data.user)


@router.delete(
    "/advertisers/{advertiser_id}/members/{name}", status_code=status.HTTP_204_NO_CONTENT
)
def remove_member(advertiser_id: int, name: str, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        svc.ads.remove_member(_scope(svc, request), advertiser_id, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- campaigns ----------------------------------------------------------------------------------


@router.post("/campaigns", status_code=status.HTTP_201_CREATED)
def create_campaign(data: CampaignIn, request: Request, runtime: RuntimeDep) -> CampaignOut:
    with unit_of_work(runtime, write=True) as svc:
        out = svc.ads.campaign_out(svc.ads.create_campaign(_scope(svc, request), data))
    runtime.ads.invalidate()
    return out


@router.get("/campaigns")
def list_campaigns(
    request: Request, runtime: RuntimeDep, advertiser_id: int | None = None
) -> list[CampaignOut]:
    with unit_of_work(runtime) as svc:
        found = svc.ads.list_campaigns(_scope(svc, request), advertiser_id)
        return [svc.ads.campaign_out(c) for c in found]


@router.get("/campaigns/{campaign_id}")
def get_campaign(campaign_id: int, request: Request, runtime: RuntimeDep) -> CampaignOut:
    with unit_of_work(runtime) as svc:
        return svc.ads.campaign_out(svc.ads.campaign(_scope(svc, request), campaign_id))


@router.patch("/campaigns/{campaign_id}")
def update_campaign(
    campaign_id: int, data: CampaignUpdate, request: Request, runtime: RuntimeDep
) -> CampaignOut:
    with unit_of_work(runtime, write=True) as svc:
        scope = _scope(svc, request)
        out = svc.ads.campaign_out(svc.ads.update_campaign(scope, campaign_id, data))
    runtime.ads.invalidate()
    return out


@router.delete("/campaigns/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_campaign(campaign_id: int, request: Request, runtime: RuntimeDep) -> Response:
    """Archive a campaign: it stops serving; its reports stay."""
    with unit_of_work(runtime, write=True) as svc:
        svc.ads.archive_campaign(_scope(svc, request), campaign_id)
    runtime.ads.invalidate()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- line items ---------------------------------------------------------------------------------


@router.post("/line-items", status_code=status.HTTP_201_CREATED)
def create_line_item(data: LineItemIn, request: Request, runtime: RuntimeDep) -> LineItemOut:
    with unit_of_work(runtime, write=True) as svc:
        out = svc.ads.line_item_out(svc.ads.create_line_item(_scope(svc, request), data))
    runtime.ads.invalidate()
    return out


@router.get("/line-items")
def list_line_items(
    request: Request, runtime: RuntimeDep, campaign_id: int | None = None
) -> list[LineItemOut]:
    with unit_of_work(runtime) as svc:
        found = svc.ads.list_line_items(_scope(svc, request), campaign_id)
        return [svc.ads.line_item_out(li) for li in found]


@router.get("/line-items/{line_item_id}")
def get_line_item(line_item_id: int, request: Request, runtime: RuntimeDep) -> LineItemOut:
    with unit_of_work(runtime) as svc:
        return svc.ads.line_item_out(svc.ads.line_item(_scope(svc, request), line_item_id))


@router.patch("/line-items/{line_item_id}")
def update_line_item(
    line_item_id: int, data: LineItemUpdate, request: Request, runtime: RuntimeDep
) -> LineItemOut:
    with unit_of_work(runtime, write=True) as svc:
        scope = _scope(svc, request)
        out = svc.ads.line_item_out(svc.ads.update_line_item(scope, line_item_id, data))
    runtime.ads.invalidate()
    return out


@router.delete("/line-items/{line_item_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_line_item(line_item_id: int, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        svc.ads.archive_line_item(_scope(svc, request), line_item_id)
    runtime.ads.invalidate()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- creatives ----------------------------------------------------------------------------------


@router.post("/creatives", status_code=status.HTTP_201_CREATED)
def create_creative(data: CreativeIn, request: Request, runtime: RuntimeDep) -> CreativeOut:
    with unit_of_work(runtime, write=True) as svc:
        out = svc.ads.creative_out(svc.ads.create_creative(_scope(svc, request), data))
    runtime.ads.invalidate()
    return out


@router.get("/creatives")
def list_creatives(
    request: Request, runtime: RuntimeDep, line_item_id: int | None = None
) -> list[CreativeOut]:
    with unit_of_work(runtime) as svc:
        found = svc.ads.list_creatives(_scope(svc, request), line_item_id)
        return [svc.ads.creative_out(c) for c in found]


@router.get("/creatives/{creative_id}")
def get_creative(creative_id: int, request: Request, runtime: RuntimeDep) -> CreativeOut:
    with unit_of_work(runtime) as svc:
        return svc.ads.creative_out(svc.ads.creative(_scope(svc, request), creative_id))


@router.patch("/creatives/{creative_id}")
def update_creative(
    creative_id: int, data: CreativeUpdate, request: Request, runtime: RuntimeDep
) -> CreativeOut:
    with unit_of_work(runtime, write=True) as svc:
        scope = _scope(svc, request)
        out = svc.ads.creative_out(svc.ads.update_creative(scope, creative_id, data))
    runtime.ads.invalidate()
    return out


@router.delete("/creatives/{creative_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_creative(creative_id: int, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        svc.ads.archive_creative(_scope(svc, request), creative_id)
    runtime.ads.invalidate()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- placements ---------------------------------------------------------------------------------


@router.post("/placements", status_code=status.HTTP_201_CREATED)
def create_placement(data: PlacementIn, request: Request, runtime: RuntimeDep) -> PlacementOut:
    """Create a placement (administrators): a slot on a page or a break in a stream."""
    with unit_of_work(runtime, write=True) as svc:
        out = svc.ads.placement_out(svc.ads.create_placement(_scope(svc, request), data))
    runtime.ads.invalidate()
    return out


@router.get("/placements")
def list_placements(request: Request, runtime: RuntimeDep) -> list[PlacementOut]:
    """Every placement, with its formats and floor (advertisers and administrators)."""
    with unit_of_work(runtime) as svc:
        _scope(svc, request)
        return [svc.ads.placement_out(p) for p in svc.ads.list_placements()]


@router.get("/placements/{key}")
def get_placement(key: str, request: Request, runtime: RuntimeDep) -> PlacementOut:
    with unit_of_work(runtime) as svc:
        _scope(svc, request)
        return svc.ads.placement_out(svc.ads.placement(key))


@router.patch("/placements/{key}")
def update_placement(
    key: str, data: PlacementUpdate, request: Request, runtime: RuntimeDep
) -> PlacementOut:
    with unit_of_work(runtime, write=True) as svc:
        scope = _scope(svc, request)
        out = svc.ads.placement_out(svc.ads.update_placement(scope, key, data))
    runtime.ads.invalidate()
    return out


@router.delete("/placements/{key}", status_code=status.HTTP_204_NO_CONTENT)
def delete_placement(key: str, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        svc.ads.archive_placement(_scope(svc, request), key)
    runtime.ads.invalidate()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- reports ------------------------------------------------------------------------------------


def _group_by(text: str) -> list[ReportDimension]:
    dims = []
    for position, part in enumerate(p.strip() for p in text.split(",") if p.strip()):
        try:
            dims.append(ReportDimension(part))
        except ValueError:
            choices = ", ".join(d.value for d in ReportDimension)
            message = f"{part!r} is not a report dimension ({choices})."
            raise InvalidReport(
                message,
                errors=[
                    {"field": f"group_by.{position}", "code": "invalid_value", "message": message}
                ],
            ) from None
    return dims


@router.get(
    "/reports",
    response_model=ReportOut,
    responses={200: {"content": {"text/csv": {}}}},
)
def report(
    request: Request,
    runtime: RuntimeDep,
    since: Annotated[
        date | None, Query(description="First day (default: 29 days before until).")
    ] = None,
    until: Annotated[
        date | None, Query(description="Last day, included (default: today, UTC).")
    ] = None,
    group_by: Annotated[
        str,
        Query(
            description="Comma-separated: day, advertiser, campaign, line_item, "
            "creative, placement, segment, country, targeting."
        ),
    ] = "day",
    advertiser_id: int | None = None,
    campaign_id: int | None = None,
    line_item_id: int | None = None,
    creative_id: int | None = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """Delivery: impressions, unique reach (HyperLogLog), average frequency and its
    distribution, clicks, CTR, spend and eCPM, grouped as asked; ``format=csv`` for a CSV
    file."""
    today = runtime.ads.clock().date()
    last = until or today
    first = since or last - timedelta(days=29)
    if first > last:
        raise InvalidReport("'since' must not be after 'until'.")
    if (last - first).days > 366:
        raise InvalidReport("A report covers at most 367 days.")
    with unit_of_work(runtime) as svc:
        out = svc.ads.report(
            _scope(svc, request),
            since=first,
            until=last,
            group_by=_group_by(group_by),
            advertiser_id=advertiser_id,
            campaign_id=campaign_id,
            line_item_id=line_item_id,
            creative_id=creative_id,
            reach=runtime.ads.reach,
            frequency_sample=runtime.ads.frequency_sample,
        )
    if format == "csv":
        return Response(
            report_csv(out),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="ads-{first}-{last}.csv"'},
        )
    return JSONResponse(out.model_dump(mode="json"))
