"""/api/v1: advertising consent and its audit log, erasure, and audience segments.

Users manage their own consent. Segments are for administrators and advertisers (the runtime's
``audience_managers`` hook), who only ever see aggregates; only administrators may list members.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from tastegraph.accounts.errors import PermissionDenied
from tastegraph.accounts.models import User
from tastegraph.audiences import taxonomy
from tastegraph.audiences.models import Segment, SegmentKind
from tastegraph.audiences.schemas import (
    CellOut,
    ClustersIn,
    ConsentEventOut,
    ConsentIn,
    ConsentOut,
    IabOut,
    LookalikeIn,
    RefreshOut,
    RuleIn,
    SegmentDetailOut,
    SegmentIn,
    SegmentList,
    SegmentOut,
    SegmentUpdate,
    SizeOut,
)
from tastegraph.audiences.services import AudienceService, ConsentState
from tastegraph.runtime import Services
from tastegraph.web.deps import RuntimeDep, require_admin, require_user, unit_of_work

router = APIRouter(prefix="/api/v1", tags=["audiences"])


# -- consent and erasure (the user's own) ---------------------------------------------------


def _owner(svc: Services, request: Request, name: str, *, admin_may: bool) -> tuple[User, User]:
    """(caller, subject): the caller must be the subject, or an administrator if allowed."""
    caller = require_user(svc, request)
    subject = svc.accounts.get_by_name(name)
    if caller.id != subject.id and not (admin_may and caller.is_admin):
        raise PermissionDenied("Only the account's owner may do this.")
    return caller, subject


def _consent_out(state: ConsentState) -> ConsentOut:
    return ConsentOut(
        profiling=state.profiling,
        personalised_ads=state.personalised_ads,
        declared_adult=state.declared_adult,
        updated_at=state.updated_at,
        source=state.source,
        targetable=state.targetable,
        reasons=list(state.reasons),
    )


@router.get("/users/{name}/consent")
def get_consent(name: str, request: Request, runtime: RuntimeDep) -> ConsentOut:
    """The user's advertising choices (TCF purposes 3 and 4) and whether they are targeted."""
    with unit_of_work(runtime) as svc:
        _caller, subject = _owner(svc, request, name, admin_may=True)
        return _consent_out(svc.audiences.consent(subject))


@router.put("/users/{name}/consent")
def put_consent(name: str, data: ConsentIn, request: Request, runtime: RuntimeDep) -> ConsentOut:
    """Give or withdraw consent. Withdrawing takes the user out of every segment at once."""
    with unit_of_work(runtime, write=True) as svc:
        _caller, subject = _owner(svc, request, name, admin_may=False)
        state = svc.audiences.set_consent(
            subject,
            profiling=data.profiling,
            personalised_ads=data.personalised_ads,
            declared_adult=data.declared_adult,
            actor="self",
            source="api",
        )
        return _consent_out(state)


@router.get("/users/{name}/consent/audit")
def consent_audit(name: str, request: Request, runtime: RuntimeDep) -> list[ConsentEventOut]:
    """Every change of the user's advertising consent: when, by whom, from what to what."""
    with unit_of_work(runtime) as svc:
        _caller, subject = _owner(svc, request, name, admin_may=True)
        return [
            ConsentEventOut(at=e.at, actor=e.actor, source=e.source, old=e.old, new=e.new)
            for e in svc.audiences.consent_log(subject)
        ]


@router.delete("/users/{name}", status_code=status.HTTP_204_NO_CONTENT)
def erase_user(name: str, request: Request, runtime: RuntimeDep) -> Response:
    """Delete the account and all its data (GDPR Art. 17): plays, incognito plays, feedback,
    tags, tokens, friendships, consent records and segment memberships. Only an anonymous
    audit entry that an erasure happened remains."""
    with unit_of_work(runtime, write=True) as svc:
        caller, subject = _owner(svc, request, name, admin_may=True)
        actor = "self" if caller.id == subject.id else "admin"
        svc.audiences.erase_user(subject, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- segments (administrators and advertisers; aggregates only) --------------------------------


def _manager(svc: Services, request: Request) -> User:
    user = require_user(svc, request)
    svc.audiences.require_manager(user)
    return user


def _segment_out(audiences: AudienceService, segment: Segment, now: datetime) -> dict[str, Any]:
    size = audiences.size(segment)
    return {
        "id": segment.id,
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind,
        "rule": segment.rule,
        "iab": [IabOut(id=i, name=taxonomy.name_of(i)) for i in segment.iab_ids or []],
        "size": size.display,
        "targetable": size.targetable and segment.active,
        "active": segment.active,
        "shared": segment.shared,
        "version": segment.version,
        "seed_segment_id": segment.seed_segment_id,
        "target_size": segment.target_size,
        "meta": segment.meta,
        "refreshed_at": segment.refreshed_at,
        "stale_seconds": (now - segment.refreshed_at).total_seconds()
        if segment.refreshed_at
        else None,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
        "url": f"/api/v1/audiences/segments/{segment.id}",
    }


def _detail(audiences: AudienceService, segment: Segment, now: datetime) -> SegmentDetailOut:
    breakdown = audiences.breakdown(segment)
    return SegmentDetailOut(
        **_segment_out(audiences, segment, now),
        by_country=[CellOut(key=k, size=v) for k, v in breakdown.by_country],
        by_age_band=[CellOut(key=k, size=v) for k, v in breakdown.by_age_band],
    )


@router.post("/audiences/estimate")
def estimate(data: RuleIn, request: Request, runtime: RuntimeDep) -> SizeOut:
    """How many consenting adults a rule selects now; "< 100" below the k-anonymity floor."""
    with unit_of_work(runtime) as svc:
        _manager(svc, request)
        size = svc.audiences.estimate(data.rule, at="$.rule")
        return SizeOut(size=size.display, targetable=size.targetable, floor=size.floor)


@router.post("/audiences/segments", status_code=status.HTTP_201_CREATED)
def create_segment(data: SegmentIn, request: Request, runtime: RuntimeDep) -> SegmentDetailOut:
    """A rule segment, materialised at once and then kept at most a minute stale."""
    with unit_of_work(runtime, write=True) as svc:
        user = _manager(svc, request)
        segment = svc.audiences.create_segment(
            user,
            name=data.name,
            rule=data.rule,
            description=data.description,
            iab_ids=data.iab_ids,
            active=data.active,
        )
        return _detail(svc.audiences, segment, runtime.clock())


@router.get("/audiences/segments")
def list_segments(
    request: Request,
    runtime: RuntimeDep,
    kind: Annotated[SegmentKind | None, Query()] = None,
) -> SegmentList:
    with unit_of_work(runtime) as svc:
        user = _manager(svc, request)
        now = runtime.clock()
        return SegmentList(
            segments=[
                SegmentOut(**_segment_out(svc.audiences, s, now))
                for s in svc.audiences.visible_segments(user, kind=kind)
            ],
            floor=svc.audiences.k_floor,
        )


@router.get("/audiences/segments/{segment_id}")
def get_segment(segment_id: int, request: Request, runtime: RuntimeDep) -> SegmentDetailOut:
    """Size, breakdowns by country and age band, IAB ids and staleness. Never members."""
    with unit_of_work(runtime) as svc:
        user = _manager(svc, request)
        segment = svc.audiences.readable_segment(user, segment_id)
        return _detail(svc.audiences, segment, runtime.clock())


@router.put("/audiences/segments/{segment_id}")
def update_segment(
    segment_id: int, data: SegmentUpdate, request: Request, runtime: RuntimeDep
) -> SegmentDetailOut:
    """Change a segment; fields left out stay. A new rule is re-materialised at once."""
    with unit_of_work(runtime, write=True) as svc:
        user = _manager(svc, request)
        segment = svc.audiences.writable_segment(user, segment_id)
        svc.audiences.update_segment(
            segment,
            name=data.name,
            description=data.description,
            rule=data.rule,
            iab_ids=data.iab_ids,
            active=data.active,
        )
        return _detail(svc.audiences, segment, runtime.clock())


@router.delete("/audiences/segments/{segment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_segment(segment_id: int, request: Request, runtime: RuntimeDep) -> Response:
    with unit_of_work(runtime, write=True) as svc:
        user = _manager(svc, request)
        svc.audiences.delete_segment(svc.audiences.writable_segment(user, segment_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/audiences/segments/{segment_id}/lookalike", status_code=status.HTTP_201_CREATED)
def lookalike(
    segment_id: int, data: LookalikeIn, request: Request, runtime: RuntimeDep
) -> SegmentDetailOut:
    """A new segment: the seed plus the consenting users most like it, up to ``target_size``."""
    with unit_of_work(runtime, write=True) as svc:
        user = _manager(svc, request)
        seed = svc.audiences.readable_segment(user, segment_id)
        segment = svc.audiences.lookalike(
            seed,
            target_size=data.target_size,
            owner=user,
            name=data.name,
            include_seed=data.include_seed,
        )
        return _detail(svc.audiences, segment, runtime.clock())


@router.get("/audiences/segments/{segment_id}/members")
def segment_members(
    segment_id: int,
    request: Request,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    """Administrators only, for debugging: the members' ids and names."""
    with unit_of_work(runtime) as svc:
        require_admin(svc, request)
        segment = svc.audiences.segment(segment_id)
        return [{"id": i, "name": n} for i, n in svc.audiences.members(segment, limit=limit)]


@router.post("/audiences/refresh")
def refresh(request: Request, runtime: RuntimeDep) -> RefreshOut:
    """Administrators: refresh every segment now (the server also does it every ~30 s)."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        report = svc.audiences.refresh()
        return RefreshOut(
            segments=report.segments,
            added=report.added,
            removed=report.removed,
            seconds=round(report.seconds, 4),
        )


@router.get("/audiences/clusters")
def clusters(request: Request, runtime: RuntimeDep) -> SegmentList:
    """The automatic interest clusters, labelled from their top tags."""
    with unit_of_work(runtime) as svc:
        user = _manager(svc, request)
        now = runtime.clock()
        return SegmentList(
            segments=[
                SegmentOut(**_segment_out(svc.audiences, s, now))
                for s in svc.audiences.visible_segments(user, kind=SegmentKind.CLUSTER)
            ],
            floor=svc.audiences.k_floor,
        )


@router.post("/audiences/clusters")
def build_clusters(data: ClustersIn, request: Request, runtime: RuntimeDep) -> SegmentList:
    """Administrators: recompute the interest clusters (replacing the previous ones)."""
    with unit_of_work(runtime, write=True) as svc:
        require_admin(svc, request)
        made = svc.audiences.build_clusters(k=data.k, within_days=data.within_days)
        now = runtime.clock()
        return SegmentList(
            segments=[SegmentOut(**_segment_out(svc.audiences, s, now)) for s in made],
            floor=svc.audiences.k_floor,
        )


@router.get("/audiences/export")
def export(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """The caller's segments with IAB Audience Taxonomy 1.1 ids (segtax 4), OpenRTB-ready."""
    with unit_of_work(runtime) as svc:
        user = _manager(svc, request)
        return svc.audiences.export(user)


@router.get("/audiences/taxonomy")
def iab_taxonomy() -> dict[str, Any]:
    """The IAB Audience Taxonomy 1.1 ids tastegraph uses (segtax 4)."""
    return {
        "segtax": taxonomy.SEGTAX_AUDIENCE_1_1,
        "nodes": [{"id": i, "name": n} for i, n in taxonomy.AUDIENCE_TAXONOMY.items()],
    }
