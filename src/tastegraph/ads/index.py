"""The in-memory index the decision engine reads instead of SQL.

Built from the database every few seconds (``ads_index_refresh_seconds``) and at once after a
change made through this process. Each active line item gets a bit; for every targeting
dimension the index keeps the bits of the line items that do not restrict it (``any``) and,
per value, the bits of those that accept it. A request's eligible line items are then an AND
over dimensions of ORs over its values: a handful of big-integer operations, however many
line items there are (boolean-expression indexing, Whang et al., VLDB 2009, adtech.md §3.1).

Bits are handed out in auction order — priority tier, then price, highest first — so the
lowest set bit of a request's eligible set is its best candidate, and line items of equal tier
and price form a *group* of neighbouring bits that the engine shuffles. Ranking costs nothing
per request: the engine only ever looks at the few candidates it tries.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from tastegraph.ads.models import (
    PRIORITY_RANK,
    AdDelivery,
    AdIndexVersion,
    Advertiser,
    Campaign,
    Creative,
    CreativeFormat,
    LineItem,
    Pacing,
    Placement,
    PlacementType,
    Pricing,
    Priority,
    Status,
)
from tastegraph.ads.schemas import WEEKDAYS, FrequencyCap, Targeting
from tastegraph.audiences.models import Segment
from tastegraph.audiences.services import K_ANONYMITY_FLOOR
from tastegraph.storage.dialect import insert_or_ignore

DEFAULT_CTR = 0.005
"""Expected click-through rate of a CPC line item before it has shown (Revive's
``defaultClickRatio``)."""
PRIOR_IMPRESSIONS = 1_000
"""How much the prior weighs in a CPC line item's predicted CTR, in impressions: the
prediction is (clicks + DEFAULT_CTR x PRIOR_IMPRESSIONS) / (impressions + PRIOR_IMPRESSIONS),
the mean of a Beta(5, 995) prior updated by what the line item observed. A new line item
ranks at 0.5 %; after 10,000 impressions its own CTR weighs ten times the prior."""

DIMENSIONS = (
    "segments",
    "countries",
    "kinds",
    "categories",
    "languages",
    "dayparts",
    "clients",
    "live",
)


@dataclass(frozen=True, slots=True)
class CompiledCreative:
    id: int
    line_item_id: int
    format: CreativeFormat
    width: int | None
    height: int | None
    duration_seconds: int | None
    asset_url: str | None
    mime: str | None
    headline: str | None
    body: str | None
    click_url: str


@dataclass(frozen=True, slots=True)
class CompiledPlacement:
    id: int
    key: str
    name: str
    type: PlacementType
    formats: frozenset[CreativeFormat]
    width: int | None
    height: int | None
    position: str | None
    max_duration_seconds: int | None
    floor_micros: int

    def fits(self, creative: CompiledCreative) -> bool:
        if creative.format not in self.formats:
            return False
        if (
            creative.format is CreativeFormat.IMAGE
            and self.width is not None
            and self.height is not None
            and (creative.width, creative.height) != (self.width, self.height)
        ):
            return False
        return not (
            creative.format is CreativeFormat.VIDEO
            and self.max_duration_seconds is not None
            and (creative.duration_seconds or 0) > self.max_duration_seconds
        )


@dataclass(frozen=True, slots=True)
class CompiledLineItem:
    bit: int
    group: int
    """Line items of the same tier and price share a group (and are tried in random order)."""
    id: int
    name: str
    campaign_id: int
    advertiser_id: int
    advertiser_name: str
    advertiser_domain: str | None
    priority: Priority
    rank: int
    pricing: Pricing
    pacing: Pacing
    bid_micros: int
    ecpm_micros: int
    """What the line item is worth per thousand impressions: its CPM bid, or for CPC its bid
    times its predicted CTR times 1,000. Compared with floors and ranked within a tier."""
    starts_at: datetime
    ends_at: datetime | None
    total_budget: int | None
    daily_budget: int | None
    caps: tuple[tuple[int, int], ...]
    creatives: tuple[CompiledCreative, ...]
    targeting: Targeting
    segments: frozenset[int]
    mode: str
    """house, audience (bought on segments), contextual (on content, place, time or device)
    or network (run of network)."""
    predicted_ctr: float = DEFAULT_CTR
    """CPC line items: the smoothed CTR they rank with (``PRIOR_IMPRESSIONS``)."""

    def in_flight(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


class Dim:
    """One targeting dimension: who accepts anything, and who accepts which value."""

    __slots__ = ("any", "by_value")

    def __init__(self) -> None:
        self.any = 0
        self.by_value: dict[Hashable, int] = {}

    def add(self, bit: int, values: Iterable[Hashable] | None) -> None:
        mask = 1 << bit
        if values is None:
            self.any |= mask
            return
        for value in values:
            self.by_value[value] = self.by_value.get(value, 0) | mask

    def match(self, values: Iterable[Hashable]) -> int:
        bits = self.any
        by_value = self.by_value
        for value in values:
            bits |= by_value.get(value, 0)
        return bits


@dataclass
class AdIndex:
    built_at: float = field(default_factory=time.monotonic)
    checked_at: float = field(default_factory=time.monotonic)
    fingerprint: tuple[Any, ...] = ()
    line_items: list[CompiledLineItem] = field(default_factory=list)
    by_id: dict[int, CompiledLineItem] = field(default_factory=dict)
    placements: dict[str, CompiledPlacement] = field(default_factory=dict)
    placements_by_id: dict[int, CompiledPlacement] = field(default_factory=dict)
    placement_bits: dict[int, int] = field(default_factory=dict)
    """Per placement: the line items with a creative that fits it, allowed there, and worth
    its floor (house ads always)."""
    group_masks: list[int] = field(default_factory=list)
    house_bits: int = 0
    cpc_bits: int = 0
    capped_bits: int = 0
    """Line items with frequency caps."""
    dims: dict[str, Dim] = field(default_factory=lambda: {name: Dim() for name in DIMENSIONS})
    creatives: dict[int, CompiledCreative] = field(default_factory=dict)
    segments_by_iab: dict[str, frozenset[int]] = field(default_factory=dict)
    segment_names: dict[int, str] = field(default_factory=dict)

    def eligible(self, placement_id: int, values: dict[str, Iterable[Hashable]]) -> int:
        bits = self.placement_bits.get(placement_id, 0)
        for name in DIMENSIONS:
            if not bits:
                return 0
            bits &= self.dims[name].match(values.get(name, ()))
        return bits

    def iter_bits(self, bits: int) -> Iterator[CompiledLineItem]:
        items = self.line_items
        while bits:
            low = bits & -bits
            yield items[low.bit_length() - 1]
            bits ^= low


def fingerprint(session: Session) -> tuple[Any, ...]:
    """What the index is built from, in one cheap query each: the ads version and the
    targetable segments. An unchanged fingerprint means an unchanged index."""
    version = session.scalar(select(AdIndexVersion.version).where(AdIndexVersion.id == 1))
    segments = session.execute(
        select(
            func.count(),
            func.max(Segment.updated_at),
            func.coalesce(
                func.sum(case((Segment.member_count >= K_ANONYMITY_FLOOR, Segment.id), else_=0)),
                0,
            ),
        ).where(Segment.active.is_(True))
    ).one()
    return (version, *segments)


def bump_version(session: Session) -> None:
    """Tell every server's index that the ads changed (inside the caller's transaction)."""
    session.execute(insert_or_ignore(session, AdIndexVersion.__table__).values(id=1, version=0))
    session.execute(
        update(AdIndexVersion)
        .where(AdIndexVersion.id == 1)
        .values(version=AdIndexVersion.version + 1)
    )


def daypart_slots(targeting: Targeting) -> frozenset[int] | None:
    """The (weekday * 24 + hour) slots a line item may serve in, or None for any time."""
    if not targeting.dayparts:
        return None
    slots: set[int] = set()
    for part in targeting.dayparts:
        for day in part.days:
            base = WEEKDAYS.index(day) * 24
            slots.update(base + hour for hour in range(part.start_hour, part.end_hour))
    return frozenset(slots)


def _mode(priority: Priority, targeting: Targeting) -> str:
    if priority is Priority.HOUSE:
        return "house"
    if targeting.segments:
        return "audience"
    contextual = (
        targeting.countries,
        targeting.kinds,
        targeting.categories,
        targeting.languages,
        targeting.dayparts,
        targeting.clients,
        targeting.placements,
    )
    if any(contextual) or targeting.live is not None:
        return "contextual"
    return "network"


def build_index(session: Session, now: datetime) -> AdIndex:
    """Every servable line item (active, in an active campaign of an active advertiser, not
    ended, with an active creative) and every active placement."""
    index = AdIndex(fingerprint=fingerprint(session))
    _add_placements(session, index)
    _add_line_items(session, index, now)
    _add_segments(session, index)
    return index


def _add_placements(session: Session, index: AdIndex) -> None:
    for placement in session.scalars(
        select(Placement).where(Placement.status == Status.ACTIVE).order_by(Placement.id)
    ):
        compiled = CompiledPlacement(
            id=placement.id,
            key=placement.key,
            name=placement.name,
            type=placement.type,
            formats=frozenset(CreativeFormat(f) for f in placement.formats),
            width=placement.width,
            height=placement.height,
            position=placement.position,
            max_duration_seconds=placement.max_duration_seconds,
            floor_micros=placement.floor_micros,
        )
        index.placements[compiled.key] = compiled
        index.placements_by_id[compiled.id] = compiled


def _add_line_items(session: Session, index: AdIndex, now: datetime) -> None:
    rows = session.execute(
        select(LineItem, Campaign, Advertiser)
        .join(Campaign, Campaign.id == LineItem.campaign_id)
        .join(Advertiser, Advertiser.id == Campaign.advertiser_id)
        .where(
            LineItem.status == Status.ACTIVE,
            Campaign.status == Status.ACTIVE,
            Advertiser.status == Status.ACTIVE,
            or_(Campaign.ends_at.is_(None), Campaign.ends_at > now - timedelta(hours=1)),
        )
        .order_by(LineItem.id)
    ).all()
    creatives: dict[int, list[CompiledCreative]] = {}
    line_item_ids = [line_item.id for line_item, _c, _a in rows]
    for start in range(0, len(line_item_ids), 500):
        chunk = line_item_ids[start : start + 500]
        for creative in session.scalars(
            select(Creative)
            .where(Creative.line_item_id.in_(chunk), Creative.status == Status.ACTIVE)
            .order_by(Creative.id)
        ):
            creatives.setdefault(creative.line_item_id, []).append(_compile_creative(creative))

    cpc_ids = [li.id for li, campaign, _a in rows if campaign.pricing is Pricing.CPC]
    ctrs = predicted_ctrs(session, cpc_ids)
    compiled = [
        _compile_line_item(
            line_item, campaign, advertiser, creatives[line_item.id], ctrs.get(line_item.id)
        )
        for line_item, campaign, advertiser in rows
        if creatives.get(line_item.id)
    ]
    compiled.sort(key=lambda li: (li.rank, -li.ecpm_micros, li.id))
    group = -1
    previous: tuple[int, int] | None = None
    for bit, li in enumerate(compiled):
        if (li.rank, li.ecpm_micros) != previous:
            group += 1
            index.group_masks.append(0)
            previous = (li.rank, li.ecpm_micros)
        _place(index, replace(li, bit=bit, group=group))

    for placement in index.placements.values():
        bits = 0
        for li in index.line_items:
            allowed = li.targeting.placements
            if allowed and placement.key not in allowed:
                continue
            if li.priority is not Priority.HOUSE and li.ecpm_micros < placement.floor_micros:
                continue
            if any(placement.fits(c) for c in li.creatives):
                bits |= 1 << li.bit
        index.placement_bits[placement.id] = bits


def predicted_ctrs(session: Session, line_item_ids: list[int]) -> dict[int, float]:
    """Each line item's CTR as observed so far, smoothed towards ``DEFAULT_CTR``."""
    observed: dict[int, float] = {}
    t = AdDelivery.__table__.c
    for start in range(0, len(line_item_ids), 500):
        chunk = line_item_ids[start : start + 500]
        for line_item_id, impressions, clicks in session.execute(
            select(t.line_item_id, func.sum(t.impressions), func.sum(t.clicks))
            .where(t.line_item_id.in_(chunk))
            .group_by(t.line_item_id)
        ):
            observed[line_item_id] = smoothed_ctr(int(impressions or 0), int(clicks or 0))
    return observed


def smoothed_ctr(impressions: int, clicks: int) -> float:
    return (min(clicks, impressions) + DEFAULT_CTR * PRIOR_IMPRESSIONS) / (
        impressions + PRIOR_IMPRESSIONS
    )


def _add_segments(session: Session, index: AdIndex) -> None:
    by_iab: dict[str, set[int]] = {}
    for segment_id, name, iab_ids, members in session.execute(
        select(Segment.id, Segment.name, Segment.iab_ids, Segment.member_count).where(
            Segment.active.is_(True)
        )
    ):
        index.segment_names[segment_id] = name
        if members < K_ANONYMITY_FLOOR:
            continue  # too small to target: its IAB ids buy nothing
        for iab in iab_ids or ():
            by_iab.setdefault(str(iab), set()).add(segment_id)
    index.segments_by_iab = {k: frozenset(v) for k, v in by_iab.items()}


def _compile_creative(creative: Creative) -> CompiledCreative:
    return CompiledCreative(
        id=creative.id,
        line_item_id=creative.line_item_id,
        format=creative.format,
        width=creative.width,
        height=creative.height,
        duration_seconds=creative.duration_seconds,
        asset_url=creative.asset_url,
        mime=creative.mime,
        headline=creative.headline,
        body=creative.body,
        click_url=creative.click_url,
    )


def _compile_line_item(
    line_item: LineItem,
    campaign: Campaign,
    advertiser: Advertiser,
    creatives: list[CompiledCreative],
    ctr: float | None = None,
) -> CompiledLineItem:
    targeting = Targeting.model_validate(line_item.targeting or {})
    caps = tuple(
        (cap.impressions, cap.window_seconds)
        for cap in (FrequencyCap.model_validate(c) for c in line_item.frequency_caps or [])
    )
    predicted = DEFAULT_CTR if ctr is None else ctr
    if campaign.pricing is Pricing.CPC:
        ecpm = int(line_item.bid_micros * predicted * 1000)
    else:
        ecpm = line_item.bid_micros
    return CompiledLineItem(
        bit=-1,
        group=-1,
        id=line_item.id,
        name=line_item.name,
        campaign_id=campaign.id,
        advertiser_id=advertiser.id,
        advertiser_name=advertiser.name,
        advertiser_domain=advertiser.domain,
        priority=campaign.priority,
        rank=PRIORITY_RANK[campaign.priority],
        pricing=campaign.pricing,
        pacing=campaign.pacing,
        bid_micros=line_item.bid_micros,
        ecpm_micros=ecpm,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        total_budget=campaign.total_budget_micros,
        daily_budget=campaign.daily_budget_micros,
        caps=caps,
        creatives=tuple(creatives),
        targeting=targeting,
        segments=frozenset(targeting.segments),
        mode=_mode(campaign.priority, targeting),
        predicted_ctr=predicted,
    )


def _place(index: AdIndex, li: CompiledLineItem) -> None:
    mask = 1 << li.bit
    index.group_masks[li.group] |= mask
    index.line_items.append(li)
    index.by_id[li.id] = li
    for creative in li.creatives:
        index.creatives[creative.id] = creative
    if li.priority is Priority.HOUSE:
        index.house_bits |= mask
    if li.pricing is Pricing.CPC:
        index.cpc_bits |= mask
    if li.caps:
        index.capped_bits |= mask
    _add_to_dims(index, li)


def _add_to_dims(index: AdIndex, li: CompiledLineItem) -> None:
    t = li.targeting
    values: dict[str, Iterable[Any] | None] = {
        "segments": t.segments or None,
        "countries": t.countries or None,
        "kinds": t.kinds or None,
        "categories": t.categories or None,
        "languages": t.languages or None,
        "dayparts": daypart_slots(t),
        "clients": t.clients or None,
        "live": None if t.live is None else (t.live,),
    }
    for name in DIMENSIONS:
        index.dims[name].add(li.bit, values[name])
