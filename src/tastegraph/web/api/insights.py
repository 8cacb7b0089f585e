"""/api/v1/insights: content economics for operators (administrators) — a title's audience,
trend, segments, groups, revenue and break-even; audience overlap; title costs; the
local-content report. JSON by default, ``format=csv`` for a CSV file."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from tastegraph.catalog.kinds import Kind
from tastegraph.insights.errors import InvalidInsightsRequest
from tastegraph.insights.export import local_content_csv, overlap_csv, title_csv
from tastegraph.insights.models import CostKind
from tastegraph.insights.schemas import (
    CostIn,
    CostOut,
    LocalContentOut,
    OverlapOut,
    TitleInsightsOut,
)
from tastegraph.insights.services import InsightsService, cost_out
from tastegraph.insights.windows import InsightWindow
from tastegraph.runtime import Services
from tastegraph.web.deps import RuntimeDep, require_admin, unit_of_work

router = APIRouter(prefix="/api/v1/insights", tags=["insights"])

Since = Annotated[
    datetime | None,
    Query(
        description="Start of the window (ISO 8601 with an offset); default: the start of "
        "the first of `weeks` weeks."
    ),
]
Until = Annotated[datetime | None, Query(description="End of the window, exclusive; default: now.")]
Weeks = Annotated[int, Query(ge=1, le=57, description="Weeks shown when since is not given.")]
Zone = Annotated[
    str, Query(max_length=64, description="IANA time zone of the weeks (default UTC).")
]
Format = Annotated[str, Query(pattern="^(json|csv)$")]
_CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


def _window(
    svc: Services, since: datetime | None, until: datetime | None, weeks: int, tz: str
) -> InsightWindow:
    insights: InsightsService = svc.insights
    return insights.window(since=since, until=until, weeks=weeks, timezone=tz)


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _list(values: list[str] | None) -> list[str]:
    return [part for value in values or [] for part in value.replace(" ", ",").split(",") if part]


def _kinds(values: list[str] | None) -> list[Kind]:
    kinds = []
    for value in _list(values):
        try:
            kinds.append(Kind(value.lower()))
        except ValueError:
            raise InvalidInsightsRequest(f"Unknown kind {value!r}.") from None
    return kinds


@router.get("/titles/{item_id}", responses=_CSV, response_model=TitleInsightsOut)
def title_insights(
    item_id: int,
    request: Request,
    runtime: RuntimeDep,
    since: Since = None,
    until: Until = None,
    weeks: Weeks = 12,
    tz: Zone = "UTC",
    format: Format = "json",
) -> Any:
    """A title (show, episode, film, match, artist, programme...) and everything under it:
    viewers, plays, completion, weekly trend, countries, audience segments (cells under the
    k-anonymity floor suppressed), groups, ad revenue by targeting, costs and break-even."""
    with unit_of_work(runtime) as svc:
        require_admin(svc, request)
        out = svc.insights.title(item_id, _window(svc, since, until, weeks, tz))
    if format == "csv":
        return _csv(title_csv(out), f"title-{item_id}")
    return out


@router.get("/overlap", responses=_CSV, response_model=OverlapOut)
def audience_overlap(
    request: Request,
    runtime: RuntimeDep,
    kind: Kind | None = None,
    ids: Annotated[
        list[str] | None, Query(description="Title ids (repeat or separate with commas).")
    ] = None,
    top: Annotated[int, Query(ge=2, le=30)] = 10,
    since: Since = None,
    until: Until = None,
    weeks: Weeks = 12,
    tz: Zone = "UTC",
    format: Format = "json",
) -> Any:
    """Audience overlap among the `top` titles of a `kind` (most played in the window) or
    among the titles named in `ids`: Jaccard and the share of A's viewers who watch B."""
    item_ids: list[int] = []
    for value in _list(ids):
        if not value.isdigit():
            raise InvalidInsightsRequest(f"{value!r} is not an item id.")
        item_ids.append(int(value))
    with unit_of_work(runtime) as svc:
        require_admin(svc, request)
        out = svc.insights.overlap(
            _window(svc, since, until, weeks, tz), kind=kind, item_ids=item_ids, top=top
        )
    if format == "csv":
        return _csv(overlap_csv(out), "overlap")
    return out


@router.get("/costs")
def list_costs(request: Request, runtime: RuntimeDep, item_id: int | None = None) -> list[CostOut]:
    """Every title cost entered (or one title's)."""
    with unit_of_work(runtime) as svc:
        require_admin(svc, request)
        return [cost_out(c) for c in svc.insights.costs(item_id)]


@router.put("/titles/{item_id}/costs/{kind}")
def set_cost(
    item_id: int, kind: CostKind, data: CostIn, request: Request, runtime: RuntimeDep
) -> CostOut:
    """Enter or replace the title's production or licence cost."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        return cost_out(svc.insights.set_cost(item_id, kind, data))


@router.delete("/titles/{item_id}/costs/{kind}", status_code=status.HTTP_204_NO_CONTENT)
def remove_cost(item_id: int, kind: CostKind, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        svc.insights.remove_cost(item_id, kind)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/local-content", responses=_CSV, response_model=LocalContentOut)
def local_content(
    request: Request,
    runtime: RuntimeDep,
    country: Annotated[
        list[str] | None,
        Query(
            description="Countries (repeat or separate with commas); default: those with a "
            "local-content policy, else the ten with most users."
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        Query(description="Consumable kinds; default: the policy's, else track, episode, film."),
    ] = None,
    sample: Annotated[int, Query(ge=1, le=500)] = 20,
    since: Since = None,
    until: Until = None,
    weeks: Weeks = 12,
    tz: Zone = "UTC",
    format: Format = "json",
) -> Any:
    """Per country and kind: the share of local works offered, recommended and consumed,
    against the country's local-content policy, with a pass/fail per cell."""
    with unit_of_work(runtime) as svc:
        require_admin(svc, request)
        out = svc.insights.local_content(
            _window(svc, since, until, weeks, tz),
            countries=_list(country) or None,
            kinds=_kinds(kind) or None,
            sample=sample,
        )
    if format == "csv":
        return _csv(local_content_csv(out), "local-content")
    return out
