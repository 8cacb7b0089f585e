"""/api/v1/catalog: operators' territorial rights, live blackouts, territory groups, rights
sheets and translations; and the availability check behind item pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from tastegraph.catalog.errors import RightsSheetRejected
from tastegraph.catalog.models import Item, ItemBlackout, ItemRight
from tastegraph.catalog.rights_schemas import (
    AvailabilityCheckOut,
    BlackoutIn,
    BlackoutOut,
    RightIn,
    RightOut,
    RightsPage,
    SheetReport,
    TerritoryGroupIn,
    TerritoryGroupOut,
    TranslationIn,
    TranslationOut,
)
from tastegraph.catalog.schemas import ItemBrief
from tastegraph.catalog.territories import GroupView, normalize_country_code
from tastegraph.catalog.viewer import Viewer
from tastegraph.ingest.errors import MalformedBody, PayloadTooLarge
from tastegraph.runtime import Services
from tastegraph.web.deps import RuntimeDep, require_admin, unit_of_work

router = APIRouter(prefix="/api/v1/catalog", tags=["operators"])

_CSV_EXAMPLE = (
    "item,territory,offer,start,end,audio,subtitles\n"
    "imdb:tt2397459,DACH,subscription,2025-01-01,2025-12-31,da de,de\n"
)


def _briefs(svc: Services, item_ids: Sequence[int]) -> dict[int, ItemBrief]:
    items = list(svc.session.scalars(select(Item).where(Item.id.in_(set(item_ids)))))
    return svc.catalog.briefs(items)


def _right_out(row: ItemRight, item: ItemBrief) -> RightOut:
    return RightOut(
        id=row.id,
        item=item,
        territory=row.territory,
        offer=row.offer,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        audio_languages=list(row.audio_languages),
        subtitle_languages=list(row.subtitle_languages),
        created_at=row.created_at,
    )


def _blackout_out(row: ItemBlackout, item: ItemBrief) -> BlackoutOut:
    return BlackoutOut(
        id=row.id,
        item=item,
        territories=list(row.territories),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        note=row.note,
        created_at=row.created_at,
    )


def _group_out(group: GroupView) -> TerritoryGroupOut:
    return TerritoryGroupOut(key=group.key, name=group.name, countries=list(group.countries))


# -- grants -----------------------------------------------------------------------------------


@router.get("/rights")
def list_rights(
    request: Request,
    runtime: RuntimeDep,
    item_id: int | None = None,
    territory: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RightsPage:
    """Grants, by item and territory; an item's own grants only (not those it inherits)."""
    with unit_of_work(runtime) as svc:
        require_admin(svc, request)
        rows, total = svc.catalog.rights.find(
            item_id=item_id, territory=territory, limit=limit, offset=offset
        )
        briefs = _briefs(svc, [row.item_id for row in rows])
        next_link = None
        if offset + len(rows) < total:
            params: dict[str, str | int] = {"limit": limit, "offset": offset + len(rows)}
            if item_id is not None:
                params["item_id"] = item_id
            if territory is not None:
                params["territory"] = territory
            next_link = f"/api/v1/catalog/rights?{urlencode(params)}"
        return RightsPage(
            rights=[_right_out(row, briefs[row.item_id]) for row in rows],
            total=total,
            next=next_link,
        )


@router.post("/rights", status_code=status.HTTP_201_CREATED)
def add_right(data: RightIn, request: Request, runtime: RuntimeDep) -> RightOut:
    """Grant an item (and what hangs under it) to a territory for a window. A grant of the same
    item, territory, offer and start replaces that one's end and languages."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        row = svc.catalog.rights.grant(data)
        return _right_out(row, _briefs(svc, [row.item_id])[row.item_id])


@router.post(
    "/rights/import",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
async def import_rights(request: Request, runtime: RuntimeDep) -> SheetReport:
    """Import a CSV rights sheet (see docs/catalog.md): the good rows are stored, every bad one
    is reported with its line and why. 422 ``rights_sheet_rejected`` when no row could be."""
    text = await _sheet_text(request, runtime.settings.max_body_bytes)

    def run() -> SheetReport:
        with unit_of_work(runtime, write=True) as svc:
            require_admin(svc, request)
            return svc.catalog.rights.import_sheet(text)

    return await run_in_threadpool(run)


async def _sheet_text(request: Request, max_bytes: int) -> str:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"The body may be at most {max_bytes} bytes.")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_part_size=max_bytes) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise MalformedBody("Send the sheet as the form field 'file'.")
            raw = await upload.read()
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"The body may be at most {max_bytes} bytes.")
            chunks.append(chunk)
        raw = b"".join(chunks)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RightsSheetRejected(
            f"The sheet is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8.",
            rejected=[],
        ) from None


@router.get("/rights/{right_id}")
def get_right(right_id: int, request: Request, runtime: RuntimeDep) -> RightOut:
    with unit_of_work(runtime) as svc:
        require_admin(svc, request)
        row = svc.catalog.rights.get(right_id)
        return _right_out(row, _briefs(svc, [row.item_id])[row.item_id])


@router.delete("/rights/{right_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_right(right_id: int, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        svc.catalog.rights.remove([right_id])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/items/{item_id}/rights")
def remove_item_rights(item_id: int, request: Request, runtime: RuntimeDep) -> dict[str, int]:
    """Remove every grant of an item (it then inherits again, or falls back to the default)."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        return {"removed": svc.catalog.rights.remove_for_item(item_id)}


@router.get("/items/{item_id}/availability")
def check_availability(
    item_id: int,
    request: Request,
    runtime: RuntimeDep,
    country: Annotated[str | None, Query(description="ISO 3166-1; leave out: unknown.")] = None,
    at: Annotated[datetime | None, Query(description="Default: now.")] = None,
) -> AvailabilityCheckOut:
    """Operators: what a viewer in ``country`` gets at ``at``, and which item's grants decide."""
    code = normalize_country_code(country) if country else None
    moment = (at if at.tzinfo else at.replace(tzinfo=UTC)) if at else runtime.clock()
    with unit_of_work(runtime) as svc:
        require_admin(svc, request)
        item = svc.catalog.get(item_id)
        answer = svc.catalog.availability_of([item], Viewer(country=code, at=moment))[item.id]
        verdict = runtime.availability.explain(item.id, code, moment)
        decided = _briefs(svc, [verdict.decided_by]) if verdict.decided_by else {}
        return AvailabilityCheckOut(
            **answer.model_dump(),
            item=svc.catalog.briefs([item])[item.id],
            at=moment,
            decided_by=decided.get(verdict.decided_by) if verdict.decided_by else None,
        )


# -- blackouts --------------------------------------------------------------------------------


@router.get("/blackouts")
def list_blackouts(
    request: Request, runtime: RuntimeDep, item_id: int | None = None
) -> list[BlackoutOut]:
    with unit_of_work(runtime) as svc:
        require_admin(svc, request)
        rows = svc.catalog.rights.blackouts(item_id=item_id)
        briefs = _briefs(svc, [row.item_id for row in rows])
        return [_blackout_out(row, briefs[row.item_id]) for row in rows]


@router.post("/blackouts", status_code=status.HTTP_201_CREATED)
def add_blackout(data: BlackoutIn, request: Request, runtime: RuntimeDep) -> BlackoutOut:
    """Keep an event (or every event under an item) off the screens of some territories during
    a window, whatever the grants say."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        row = svc.catalog.rights.add_blackout(data)
        return _blackout_out(row, _briefs(svc, [row.item_id])[row.item_id])


@router.delete("/blackouts/{blackout_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_blackout(blackout_id: int, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        svc.catalog.rights.remove_blackout(blackout_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- territory groups -------------------------------------------------------------------------


@router.get("/territory-groups", tags=["catalogue"])
def list_groups(runtime: RuntimeDep) -> list[TerritoryGroupOut]:
    """The named territories grants and blackouts may use besides countries and WORLD."""
    with unit_of_work(runtime) as svc:
        return [_group_out(group) for group in svc.catalog.territories.all()]


@router.post("/territory-groups/defaults")
def restore_default_groups(request: Request, runtime: RuntimeDep) -> list[TerritoryGroupOut]:
    """Put back the default groups that are missing (EU, EEA, DACH, LATAM...); groups that
    exist are left as they are."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        return [_group_out(group) for group in svc.catalog.territories.restore_defaults()]


@router.get("/territory-groups/{key}", tags=["catalogue"])
def get_group(key: str, runtime: RuntimeDep) -> TerritoryGroupOut:
    with unit_of_work(runtime) as svc:
        return _group_out(svc.catalog.territories.get(key))


@router.put("/territory-groups/{key}")
def put_group(
    key: str, data: TerritoryGroupIn, request: Request, runtime: RuntimeDep
) -> TerritoryGroupOut:
    """Create a group or replace its name and countries; availability follows at once."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        return _group_out(svc.catalog.territories.put(key, data.name, data.countries))


@router.delete("/territory-groups/{key}", status_code=status.HTTP_204_NO_CONTENT)
def delete_group(key: str, request: Request, runtime: RuntimeDep) -> Response:
    """409 ``territory_group_in_use`` while grants or blackouts name it."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        svc.catalog.territories.delete(key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/territory-groups/{key}/countries/{country}")
def add_group_country(
    key: str, country: str, request: Request, runtime: RuntimeDep
) -> TerritoryGroupOut:
    """A country joins a group: grants to the group cover it from now on."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        return _group_out(svc.catalog.territories.add_country(key, country))


@router.delete("/territory-groups/{key}/countries/{country}")
def remove_group_country(
    key: str, country: str, request: Request, runtime: RuntimeDep
) -> TerritoryGroupOut:
    """A country leaves a group: grants to the group no longer cover it."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        return _group_out(svc.catalog.territories.remove_country(key, country))


# -- translations -----------------------------------------------------------------------------


@router.get("/items/{item_id}/translations", tags=["catalogue"])
def list_translations(item_id: int, runtime: RuntimeDep) -> list[TranslationOut]:
    with unit_of_work(runtime) as svc:
        item = svc.catalog.get(item_id)
        return [
            TranslationOut(language=row.language, title=row.title, description=row.description)
            for row in svc.catalog.translations.of(item)
        ]


@router.put("/items/{item_id}/translations/{language}")
def put_translation(
    item_id: int, language: str, data: TranslationIn, request: Request, runtime: RuntimeDep
) -> TranslationOut:
    """The item's title (and description) in a language (BCP 47: de, pt-BR)."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        item = svc.catalog.get(item_id)
        row = svc.catalog.translations.put(item, language, data.title, data.description)
        return TranslationOut(language=row.language, title=row.title, description=row.description)


@router.delete("/items/{item_id}/translations/{language}", status_code=204)
def remove_translation(
    item_id: int, language: str, request: Request, runtime: RuntimeDep
) -> Response:
    """Remove a translation (204 whether or not there was one)."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        svc.catalog.translations.remove(svc.catalog.get(item_id), language)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
