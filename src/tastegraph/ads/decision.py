"""The decision engine: which creative to show for one ad request, in memory.

For a request (a placement and its context) the engine

1. takes the line items eligible for the placement and the context from the index (targeting
   by segment, country, content kind and IAB category, language, daypart in the viewer's local
   time, client, live; ads/index.py);
2. drops those out of flight, below the floor (the placement's, or a higher one the request
   brings), whose campaign is known to be out of budget today, or capped for a viewer it
   cannot recognise;
3. ranks the rest by the priority ladder (sponsorship, standard, remnant), then by price,
   randomly among equals: a first-price auction inside each tier, the winner paying its bid;
4. walks down the ranking: a line item ahead of its pacing schedule sits the auction out with
   the throttle probability (ads/pacing.py); the best two others go to the counters in one
   call, which reserves the viewer's caps and the campaign's budget of the first that passes,
   atomically (ads/counters.py): one Redis round trip, and a second with up to six more
   candidates only when both are refused;
5. falls back to house ads (their caps still apply) when no paid line item wins, and answers
   no fill when there are none.

Audience segments reach the engine only for viewers who may be profiled; anything else gets
contextual decisions only. The item being consumed gives context (kind, categories, live) only
where it is available to the viewer (territorial rights, ``item_available``): an ad is not
targeted at a title the viewer cannot be watching there. The winner gets a signed token for
its impression and click URLs.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.ads import pacing
from tastegraph.ads.capping import cap_rules
from tastegraph.ads.counters import (
    AdCounters,
    Budget,
    FirstReserved,
    Outcome,
    RedisAdCounters,
    Reservation,
    Seed,
)
from tastegraph.ads.index import (
    AdIndex,
    CompiledCreative,
    CompiledLineItem,
    CompiledPlacement,
    build_index,
    fingerprint,
)
from tastegraph.ads.models import AdDelivery, CreativeFormat, Pacing, Pricing, Priority
from tastegraph.ads.reach import ReachStore, RedisReach, SqlReach
from tastegraph.ads.schemas import WEEKDAYS, Client
from tastegraph.ads.taxonomy import categories_for
from tastegraph.ads.tokens import AdToken, TokenSigner
from tastegraph.catalog.availability import Availability
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item, ItemTag, Tag
from tastegraph.storage.database import Database

_log = logging.getLogger(__name__)

MAX_RESERVATIONS = 8
"""Reservations tried per request before giving up (each may find a cap or a budget spent)."""
FIRST_BATCH = 2
"""Candidates sent with the first reservation call. The best candidate nearly always passes;
preparing all eight for every request would double the CPU time of a decision, so the others
are prepared (and sent, in a second round trip) only when the first two are refused."""
LIVE_WINDOW = timedelta(hours=3)
"""A match counts as live from its start for this long when its duration is unknown."""
ITEM_CACHE_SECONDS = 60.0
FULL_REBUILD = 3600.0
"""Seconds after which the index is rebuilt even if nothing changed (ended campaigns leave)."""


AudienceLookup = Callable[[Session, User], frozenset[int]]
"""The targetable segments of a user: empty unless they may be profiled."""


def no_segments(_session: Session, _user: User) -> frozenset[int]:
    return frozenset()


@dataclass(frozen=True, slots=True)
class ItemContext:
    item_id: int
    """The canonical item (merges followed): what availability is checked for."""
    kind: Kind
    categories: frozenset[str]
    starts_at: datetime | None
    duration_seconds: int | None

    def live(self, now: datetime) -> bool | None:
        if self.kind is not Kind.MATCH or self.starts_at is None:
            return None
        length = timedelta(seconds=self.duration_seconds) if self.duration_seconds else LIVE_WINDOW
        return self.starts_at <= now < self.starts_at + length


@dataclass(frozen=True, slots=True)
class AdContext:
    """One ad request, whatever protocol it came through."""

    placement: str
    viewer: str | None = None
    """``u:<user id>`` or ``a:<anonymous id>``; hashed before use. None: no frequency caps
    can be kept, so capped line items are skipped (as Revive does without a cookie)."""
    segments: frozenset[int] = frozenset()
    country: str | None = None
    kind: Kind | None = None
    categories: frozenset[str] = frozenset()
    language: str | None = None
    timezone: str | None = None
    utc_offset_minutes: int | None = None
    client: Client | None = None
    live: bool | None = None
    floor_micros: int = 0
    formats: frozenset[CreativeFormat] | None = None
    sizes: frozenset[tuple[int, int]] | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    durations: frozenset[int] | None = None
    house: bool = True
    """False: no house fallback (OpenRTB bids)."""
    cpc: bool = True
    """False: CPC line items do not take part (OpenRTB auctions are priced per impression)."""


@dataclass(frozen=True, slots=True)
class Decision:
    token: str
    ad: AdToken
    line_item: CompiledLineItem
    creative: CompiledCreative
    placement: CompiledPlacement
    why: tuple[tuple[str, str], ...]


@dataclass(slots=True)
class _Plan:
    """A decision up to the reservation: the ranked candidates and what each would reserve."""

    index: AdIndex
    placement: CompiledPlacement
    ctx: AdContext
    viewer: str | None
    now: datetime
    day: str
    source: Iterator[tuple[CompiledLineItem, CompiledCreative]]
    """The remaining candidates, best first, prepared as they are needed."""
    candidates: list[tuple[CompiledLineItem, CompiledCreative]] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)


@dataclass
class _Spend:
    day: str = ""
    spent: int = 0


@dataclass
class AdEngine:
    """What a process holds for advertising: the index, the counters, the token signer."""

    db: Database
    counters: AdCounters
    signer: TokenSigner
    clock: Callable[[], datetime]
    refresh_seconds: float = 5.0
    audience_lookup: AudienceLookup = no_segments
    rng: random.Random = field(default_factory=random.Random)
    frequency_sample: int = 1
    """Per-viewer delivery rows (frequency) for one viewer in N (``ads_frequency_sample``)."""
    availability: Availability | None = None
    """Territorial rights (``Runtime.availability``); None: every item gives its context."""
    reach: ReachStore = field(init=False)
    """Where impressions' viewers go for unique reach: Redis sketches next to the Redis
    counters, else the database's."""
    _index: AdIndex | None = field(default=None, init=False)
    _dirty: bool = field(default=True, init=False)
    _rebuild_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _refresher: threading.Thread | None = field(default=None, init=False)
    _closed: bool = field(default=False, init=False)
    _spend: dict[int, _Spend] = field(default_factory=dict, init=False)
    """This process's view of each paced campaign's spend today (for the throttle)."""
    _exhausted: dict[int, str] = field(default_factory=dict, init=False)
    """Campaigns known to be out of budget on a day, skipped until the next refresh."""
    _items: dict[int, tuple[float, ItemContext]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        counters = self.counters
        if isinstance(counters, RedisAdCounters):
            self.reach = RedisReach(counters.redis, counters.prefix)
        else:
            self.reach = SqlReach()

    # -- the index --------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Something changed through this process: rebuild before the next decision."""
        self._dirty = True
        self._exhausted.clear()

    def index(self) -> AdIndex:
        index = self._index
        if index is None or self._dirty:
            return self.rebuild()
        if time.monotonic() - index.checked_at > self.refresh_seconds:
            self._refresh_in_background()
        return index

    def rebuild(self, *, force: bool = False) -> AdIndex:
        with self._rebuild_lock:
            if not force and self._index is not None and not self._dirty:
                return self._index
            self._dirty = False
            now = self.clock()
            with self.db.unit_of_work() as session:
                index = build_index(session, now)
            self._refresh_spend(index, now)
            self._index = index
            return index

    def refresh(self) -> None:
        """The periodic check: rebuild when the database changed (another process edited a
        campaign, a segment became targetable) or the index is an hour old; otherwise only
        refresh the pacing view of today's spend."""
        index = self._index
        if index is None:
            self.rebuild(force=True)
            return
        with self.db.unit_of_work() as session:
            current = fingerprint(session)
        if current != index.fingerprint or time.monotonic() - index.built_at > FULL_REBUILD:
            self.rebuild(force=True)
            return
        self._refresh_spend(index, self.clock())
        index.checked_at = time.monotonic()

    def _refresh_in_background(self) -> None:
        if self._closed or (self._refresher is not None and self._refresher.is_alive()):
            return

        def run() -> None:
            try:
                self.refresh()
            except Exception:  # a failed refresh keeps the old index; the next one retries
                _log.exception("refreshing the ad index failed")
                if self._index is not None:
                    self._index.checked_at = time.monotonic()

        self._refresher = threading.Thread(target=run, name="ad-index-refresh", daemon=True)
        self._refresher.start()

    def _refresh_spend(self, index: AdIndex, now: datetime) -> None:
        """Today's spend of every paced campaign, as the shared counters know it."""
        day = pacing.day_key(now)
        paced = sorted({li.campaign_id for li in index.line_items if li.daily_budget is not None})
        known = self.counters.day_spend(paced, day)
        for campaign_id in paced:
            if campaign_id in known:
                self._spend[campaign_id] = _Spend(day, known[campaign_id])
        self._exhausted = {}  # the shared counters say again, once, who is out of budget

    async def aclose(self) -> None:
        """Close the counters' connections that belong to the running event loop."""
        await self.counters.aclose()

    def close(self) -> None:
        self._closed = True
        refresher = self._refresher
        if refresher is not None:
            refresher.join(timeout=10)
        self.counters.close()

    # -- item context -------------------------------------------------------------------------

    def cached_item(self, item_id: int) -> ItemContext | None:
        entry = self._items.get(item_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def load_item(self, session: Session, item_id: int) -> ItemContext | None:
        """The kind, categories and start of an item (and what it hangs under), cached."""
        context = load_item_context(session, item_id)
        if context is not None:
            if len(self._items) > 50_000:
                self._items.clear()
            self._items[item_id] = (time.monotonic() + ITEM_CACHE_SECONDS, context)
        return context

    def item_available(self, item: ItemContext, country: str | None) -> bool:
        """Whether the item being consumed is available in the viewer's country now (a few
        dictionary lookups in memory). Where it is not, the request gets no item context."""
        if self.availability is None:
            return True
        return self.availability.mask((item.item_id,), country)[0]

    # -- deciding -----------------------------------------------------------------------------

    def placement(self, key: str) -> CompiledPlacement | None:
        return self.index().placements.get(key)

    def decide(self, ctx: AdContext) -> Decision | None:
        """The ad for one request, or None for no fill."""
        plan = self._plan(ctx)
        if plan is None:
            return None
        seeds: dict[int, Seed] = {}
        start = 0
        while True:
            result = self.counters.reserve_first(plan.reservations[start:], seeds)
            outcome = self._settle(plan, start, result)
            if isinstance(outcome, int):
                seeds[outcome] = self.seed(outcome, plan.day)
                start += len(result.tried) - 1
                continue
            if outcome is not None:
                return outcome
            start = len(plan.reservations)
            if not self._extend(plan, MAX_RESERVATIONS):
                return None

    async def decide_async(self, ctx: AdContext) -> Decision | None:
        """``decide`` for the event loop: the reservation waits for Redis without blocking
        it (and without a worker thread). Seeding a campaign the counters do not know yet
        (once per campaign) reads the database on a thread."""
        plan = self._plan(ctx)
        if plan is None:
            return None
        seeds: dict[int, Seed] = {}
        start = 0
        while True:
            result = await self.counters.reserve_first_async(plan.reservations[start:], seeds)
            outcome = self._settle(plan, start, result)
            if isinstance(outcome, int):
                seeds[outcome] = await asyncio.to_thread(self.seed, outcome, plan.day)
                start += len(result.tried) - 1
                continue
            if outcome is not None:
                return outcome
            start = len(plan.reservations)
            if not self._extend(plan, MAX_RESERVATIONS):
                return None

    def _plan(self, ctx: AdContext) -> _Plan | None:
        """Eligible, filtered, ranked and paced: the candidates to reserve, best first."""
        index = self.index()
        placement = index.placements.get(ctx.placement)
        if placement is None:
            return None
        now = self.clock()
        day = pacing.day_key(now)
        viewer = self.signer.viewer_key(ctx.viewer) if ctx.viewer else None
        values: dict[str, Iterable[Hashable]] = {
            "segments": ctx.segments,
            "countries": (ctx.country,) if ctx.country else (),
            "kinds": (ctx.kind,) if ctx.kind else (),
            "categories": ctx.categories,
            "languages": (ctx.language,) if ctx.language else (),
            "dayparts": (self._slot(ctx, now),),
            "clients": (ctx.client,) if ctx.client else (),
            "live": (ctx.live,) if ctx.live is not None else (),
        }
        bits = index.eligible(placement.id, values)
        if not ctx.house:
            bits &= ~index.house_bits
        if not ctx.cpc:
            bits &= ~index.cpc_bits
        if viewer is None:
            bits &= ~index.capped_bits  # caps cannot be kept for a viewer we cannot tell apart
        floor = max(placement.floor_micros, ctx.floor_micros)
        source = self._walk(index, bits, placement, ctx, floor, now, day)
        plan = _Plan(index, placement, ctx, viewer, now, day, source)
        return plan if self._extend(plan, FIRST_BATCH) else None

    def _walk(
        self,
        index: AdIndex,
        bits: int,
        placement: CompiledPlacement,
        ctx: AdContext,
        floor: int,
        now: datetime,
        day: str,
    ) -> Iterator[tuple[CompiledLineItem, CompiledCreative]]:
        """The candidates that may take part, best first."""
        items = index.line_items
        while bits:
            # The best remaining candidates: the group of the lowest set bit (bits are in
            # auction order), tried in random order.
            best = items[(bits & -bits).bit_length() - 1]
            group = index.group_masks[best.group]
            candidates = list(index.iter_bits(bits & group))
            bits &= ~group
            if len(candidates) > 1:
                self.rng.shuffle(candidates)
            for li in candidates:
                creative = self._candidate(li, placement, ctx, floor, now, day)
                if creative is not None:
                    yield li, creative

    def _extend(self, plan: _Plan, upto: int) -> int:
        """Prepare candidates until the plan holds ``upto`` (at most MAX_RESERVATIONS);
        how many were added."""
        added = 0
        while len(plan.candidates) < min(upto, MAX_RESERVATIONS):
            found = next(plan.source, None)
            if found is None:
                break
            li, _creative = found
            plan.candidates.append(found)
            plan.reservations.append(self.reservation(li, plan.viewer, plan.now, plan.day))
            added += 1
        return added

    def _settle(self, plan: _Plan, start: int, result: FirstReserved) -> Decision | int | None:
        """Learn from what the counters said (spend today, campaigns out of budget); the
        decision, None for no fill, or the id of a campaign to seed before trying again."""
        for offset, reserved in enumerate(result.tried):
            li = plan.candidates[start + offset][0]
            budget = plan.reservations[start + offset].budget
            if budget is not None and reserved.outcome not in (Outcome.CAPPED, Outcome.NEED_SEED):
                self._spend[li.campaign_id] = _Spend(plan.day, reserved.day_spent)
            if reserved.outcome is Outcome.BUDGET:
                self._exhausted[li.campaign_id] = plan.day
        if result.winner >= 0:
            li, creative = plan.candidates[start + result.winner]
            return self._decision(
                plan.index, li, creative, plan.placement, plan.ctx, plan.viewer, plan.now, plan.day
            )
        if result.tried and result.tried[-1].outcome is Outcome.NEED_SEED:
            return plan.candidates[start + len(result.tried) - 1][0].campaign_id
        return None

    def _candidate(
        self,
        li: CompiledLineItem,
        placement: CompiledPlacement,
        ctx: AdContext,
        floor: int,
        now: datetime,
        day: str,
    ) -> CompiledCreative | None:
        """The creative ``li`` would show, if it may take part in this auction at all."""
        if not li.in_flight(now):
            return None
        if li.priority is not Priority.HOUSE and (
            li.ecpm_micros < floor or self._exhausted.get(li.campaign_id) == day
        ):
            return None
        creative = self._creative(li, placement, ctx)
        if creative is None or not self._passes_pacing(li, now, day):
            return None
        return creative

    @staticmethod
    def _slot(ctx: AdContext, now: datetime) -> int:
        if ctx.timezone:
            local = now.astimezone(ZoneInfo(ctx.timezone))
        elif ctx.utc_offset_minutes is not None:
            local = now.astimezone(UTC) + timedelta(minutes=ctx.utc_offset_minutes)
        else:
            local = now.astimezone(UTC)
        return local.weekday() * 24 + local.hour

    def _creative(
        self, li: CompiledLineItem, placement: CompiledPlacement, ctx: AdContext
    ) -> CompiledCreative | None:
        fitting = [c for c in li.creatives if placement.fits(c) and _fits_request(c, ctx)]
        if not fitting:
            return None
        return fitting[0] if len(fitting) == 1 else self.rng.choice(fitting)

    def _passes_pacing(self, li: CompiledLineItem, now: datetime, day: str) -> bool:
        if li.pacing is not Pacing.EVEN or li.daily_budget is None:
            return True
        view = self._spend.get(li.campaign_id)
        spent = view.spent if view is not None and view.day == day else 0
        fraction = pacing.elapsed_fraction(now, li.starts_at, li.ends_at)
        probability = pacing.throttle_probability(spent, li.daily_budget, fraction)
        return probability >= 1.0 or self.rng.random() < probability

    def reservation(
        self, li: CompiledLineItem, viewer: str | None, now: datetime, day: str
    ) -> Reservation:
        rules = cap_rules(li.id, li.caps, int(now.timestamp())) if viewer else ()
        budget = None
        if li.priority is not Priority.HOUSE:
            allowance = None
            if li.pacing is Pacing.EVEN and li.daily_budget is not None:
                fraction = pacing.elapsed_fraction(now, li.starts_at, li.ends_at)
                allowance = pacing.allowance(li.daily_budget, fraction)
            budget = Budget(
                campaign_id=li.campaign_id,
                day=day,
                amount=li.bid_micros // 1000 if li.pricing is Pricing.CPM else 0,
                total_limit=li.total_budget,
                day_limit=li.daily_budget,
                allowance=allowance,
            )
        return Reservation(viewer=viewer, caps=rules, budget=budget)

    def release(self, decision: Decision) -> None:
        """Give back what a decision reserved (a bid that will not be delivered)."""
        ad = decision.ad
        when = datetime.fromtimestamp(ad.issued_at, UTC)
        self.give_back(self.reservation(decision.line_item, ad.viewer or None, when, ad.day))

    def give_back(self, reservation: Reservation) -> None:
        self.counters.release(reservation)
        if reservation.budget is not None:
            self._exhausted.pop(reservation.budget.campaign_id, None)

    def seed(self, campaign_id: int, day: str) -> Seed:
        """What the reports say a campaign spent (in all, and on ``day``)."""
        when = datetime.strptime(day, "%Y%m%d").date()
        with self.db.unit_of_work() as session:
            total, today = session.execute(
                select(
                    func.coalesce(func.sum(AdDelivery.spend_micros), 0),
                    func.coalesce(
                        func.sum(case((AdDelivery.day == when, AdDelivery.spend_micros), else_=0)),
                        0,
                    ),
                ).where(AdDelivery.campaign_id == campaign_id)
            ).one()
        return Seed(total=int(total), day=int(today))

    def _decision(
        self,
        index: AdIndex,
        li: CompiledLineItem,
        creative: CompiledCreative,
        placement: CompiledPlacement,
        ctx: AdContext,
        viewer: str | None,
        now: datetime,
        day: str,
    ) -> Decision:
        matched = sorted(li.segments & ctx.segments)
        segment_id = matched[0] if li.mode == "audience" and matched else 0
        ad = AdToken(
            token_id=self.signer.new_id(),
            issued_at=int(now.timestamp()),
            line_item_id=li.id,
            creative_id=creative.id,
            campaign_id=li.campaign_id,
            advertiser_id=li.advertiser_id,
            placement_id=placement.id,
            price_micros=li.bid_micros,
            cpc=li.pricing is Pricing.CPC,
            viewer=viewer or "",
            segment_id=segment_id,
            country=ctx.country or "",
            mode=li.mode,
            day=day,
        )
        return Decision(
            token=self.signer.sign(ad),
            ad=ad,
            line_item=li,
            creative=creative,
            placement=placement,
            why=_why(index, li, ctx, segment_id, now),
        )


def _fits_request(creative: CompiledCreative, ctx: AdContext) -> bool:
    if ctx.formats is not None and creative.format not in ctx.formats:
        return False
    if (
        ctx.sizes is not None
        and creative.format is CreativeFormat.IMAGE
        and (creative.width, creative.height) not in ctx.sizes
    ):
        return False
    if creative.format is CreativeFormat.VIDEO:
        duration = creative.duration_seconds or 0
        if ctx.durations is not None and duration not in ctx.durations:
            return False
        if ctx.min_duration is not None and duration < ctx.min_duration:
            return False
        if ctx.max_duration is not None and duration > ctx.max_duration:
            return False
    return True


def _why(
    index: AdIndex, li: CompiledLineItem, ctx: AdContext, segment_id: int, now: datetime
) -> tuple[tuple[str, str], ...]:
    """The main parameters that made this ad show (DSA Art. 26(1)(d))."""
    t = li.targeting
    reasons: list[tuple[str, str]] = [("placement", ctx.placement)]
    if segment_id:
        reasons.append(("audience segment", index.segment_names.get(segment_id, str(segment_id))))
    if t.countries and ctx.country:
        reasons.append(("country", ctx.country))
    if t.kinds and ctx.kind:
        reasons.append(("content kind", ctx.kind.value))
    if t.categories:
        hits = sorted(set(t.categories) & ctx.categories)
        reasons.append(("content category", ", ".join(hits)))
    if t.languages and ctx.language:
        reasons.append(("language", ctx.language))
    if t.dayparts:
        slot = AdEngine._slot(ctx, now)
        reasons.append(
            ("time of day", f"{WEEKDAYS[slot // 24]} {slot % 24:02d}:00-{slot % 24:02d}:59")
        )
    if t.clients and ctx.client:
        reasons.append(("device", ctx.client.value))
    if t.live is not None:
        reasons.append(("live", "yes" if t.live else "no"))
    return tuple(reasons)


def load_item_context(session: Session, item_id: int) -> ItemContext | None:
    item = session.get(Item, item_id)
    hops = 0
    while item is not None and item.merged_into_id is not None and hops < 5:
        item = session.get(Item, item.merged_into_id)
        hops += 1
    if item is None:
        return None
    ids = [item.id]
    parent_id = item.parent_id
    while parent_id is not None and len(ids) < 4:
        ids.append(parent_id)
        parent_id = session.scalar(select(Item.parent_id).where(Item.id == parent_id))
    tags = list(
        session.scalars(
            select(Tag.name)
            .join(ItemTag, ItemTag.tag_id == Tag.id)
            .where(ItemTag.item_id.in_(ids))
            .group_by(Tag.name)
            .order_by(func.count().desc(), Tag.name)
            .limit(20)
        )
    )
    return ItemContext(
        item_id=item.id,
        kind=item.kind,
        categories=categories_for(item.kind, tags),
        starts_at=item.released_at,
        duration_seconds=item.duration_seconds,
    )
