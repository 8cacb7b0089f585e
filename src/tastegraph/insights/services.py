"""Content economics for the operator: one title's audience, revenue and break-even; audience
overlap between titles; costs; the local-content report. Reads the areas below it (catalog,
ingest, social, stats, recs, audiences, ads) and writes only title costs. Works inside the
caller's unit of work and never commits."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tastegraph.audiences.services import K_ANONYMITY_FLOOR
from tastegraph.catalog.availability import Availability
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.services import CatalogService
from tastegraph.insights.audience import Audience, Tally, count_audience
from tastegraph.insights.breakeven import BreakEven, break_even
from tastegraph.insights.errors import CostNotFound, InvalidInsightsRequest
from tastegraph.insights.local_content import Cell, LocalContentReport, Measure
from tastegraph.insights.models import CostKind, TitleCost
from tastegraph.insights.overlap import MAX_TITLES, overlap
from tastegraph.insights.revenue import MODES, Money, Revenue, count_revenue
from tastegraph.insights.schemas import (
    AudienceOut,
    BreakEvenOut,
    CompletionOut,
    CostIn,
    CostOut,
    CountryOut,
    GroupOut,
    LocalCellOut,
    LocalContentOut,
    LocalMeasureOut,
    OverlapCellOut,
    OverlapOut,
    OverlapTitleOut,
    RevenueOut,
    SegmentCellOut,
    SegmentsOut,
    TargetingOut,
    TitleInsightsOut,
    WeekOut,
    WindowOut,
)
from tastegraph.insights.titles import covered_items
from tastegraph.insights.windows import InsightWindow, make_window
from tastegraph.recs.local_share import LocalSharePolicy
from tastegraph.recs.services import RecsService
from tastegraph.stats.periods import Window
from tastegraph.stats.services import StatsService
from tastegraph.storage.base import utcnow

MICROS = 1_000_000


def _money(micros: float | int | None) -> float | None:
    return None if micros is None else round(micros / MICROS, 6)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class InsightsService:
    def __init__(
        self,
        session: Session,
        *,
        catalog: CatalogService,
        stats: StatsService,
        recs: RecsService,
        availability: Availability | None,
        policy: LocalSharePolicy,
        local_languages: Mapping[str, Sequence[str]],
        currency: str,
        clock: Callable[[], datetime] = utcnow,
        floor: int = K_ANONYMITY_FLOOR,
    ) -> None:
        self.session = session
        self.catalog = catalog
        self.stats = stats
        self.recs = recs
        self.availability = availability
        self.policy = policy
        self.local_languages = local_languages
        self.currency = currency
        self.clock = clock
        self.floor = floor

    def window(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        weeks: int = 12,
        timezone: str = "UTC",
    ) -> InsightWindow:
        return make_window(self.clock(), since=since, until=until, weeks=weeks, timezone=timezone)

    # -- one title --------------------------------------------------------------------------

    def title(self, item_id: int, window: InsightWindow) -> TitleInsightsOut:
        item = self.catalog.get(item_id)
        covered = covered_items(self.session, item)
        audience = count_audience(self.session, covered, window, floor=self.floor)
        revenue = count_revenue(self.session, covered, window)
        costs = self.costs(item.id)
        days = (window.until - window.since).total_seconds() / 86_400
        even = break_even(
            costs,
            currency=self.currency,
            viewers=audience.total.viewers,
            revenue_micros=revenue.total.spend_micros,
            paid_impressions=revenue.paid_impressions,
            network_ecpm_micros=revenue.network_ecpm_micros,
            window_days=round(days, 2),
        )
        return TitleInsightsOut(
            title=self.catalog.briefs([item])[item.id],
            covered_items=len(covered),
            window=_window_out(window),
            audience=_audience_out(audience.total),
            weeks=[
                _week_out(start, end, tally, money)
                for (start, end), tally, money in zip(
                    window.weeks, audience.weeks, revenue.weeks, strict=True
                )
            ],
            countries=_countries_out(audience),
            segments=self._segments_out(audience),
            groups=[
                GroupOut(
                    group_id=group.id,
                    name=group.name,
                    slug=group.slug,
                    viewers=n,
                    share_of_viewers=_share(n, audience.total.viewers) or 0.0,
                )
                for group, n in audience.groups
            ],
            revenue=self._revenue_out(revenue, audience.total.viewers),
            costs=[cost_out(c) for c in costs],
            break_even=_break_even_out(even) if even else None,
        )

    def _segments_out(self, audience: Audience) -> SegmentsOut:
        cells = []
        viewers = audience.total.viewers
        for segment, n in audience.segments:
            shown = n >= self.floor
            cells.append(
                SegmentCellOut(
                    segment_id=segment.id,
                    name=segment.name,
                    members=segment.member_count,
                    viewers=n if shown else None,
                    viewers_display=str(n) if shown else f"< {self.floor}",
                    share_of_viewers=_share(n, viewers) if shown else None,
                    reach_in_segment=_share(n, segment.member_count) if shown else None,
                )
            )
        cells.sort(key=lambda c: (-(c.viewers or -1), c.name.lower(), c.segment_id))
        return SegmentsOut(
            floor=self.floor, cells=cells, segments_below_floor=audience.segments_below_floor
        )

    def _revenue_out(self, revenue: Revenue, viewers: int) -> RevenueOut:
        total = revenue.total
        network = revenue.by_mode.get("network", Money())
        ecpm = revenue.network_ecpm_micros
        at_network = revenue.paid_impressions * ecpm / 1000 if ecpm is not None else None
        return RevenueOut(
            currency=self.currency,
            impressions=total.impressions,
            clicks=total.clicks,
            revenue=_money(total.spend_micros) or 0.0,
            ecpm=_money(total.ecpm_micros),
            revenue_per_viewer=_money(total.spend_micros / viewers) if viewers else None,
            impressions_per_viewer=round(total.impressions / viewers, 4) if viewers else None,
            by_targeting=[
                _targeting_out(mode, revenue.by_mode.get(mode, Money())) for mode in MODES
            ],
            targeted=_targeting_out("targeted", revenue.targeted),
            run_of_network=_targeting_out("network", network),
            network_ecpm=_money(ecpm),
            at_network_prices=_money(at_network),
            targeting_premium=_money(total.spend_micros - at_network)
            if at_network is not None
            else None,
        )

    # -- overlap ----------------------------------------------------------------------------

    def overlap(
        self,
        window: InsightWindow,
        *,
        kind: Kind | None = None,
        item_ids: Sequence[int] | None = None,
        top: int = 10,
    ) -> OverlapOut:
        if item_ids:
            ids = list(dict.fromkeys(item_ids))
            if not 2 <= len(ids) <= MAX_TITLES:
                raise InvalidInsightsRequest(f"Name 2 to {MAX_TITLES} titles.")
            titles = [self.catalog.get(i) for i in ids]
        elif kind is not None:
            if not 2 <= top <= MAX_TITLES:
                raise InvalidInsightsRequest(f"top must be between 2 and {MAX_TITLES}.")
            chart = self.stats.chart(
                Kind(kind),
                window=Window(window.since, window.until, window.timezone),
                limit=top,
                listeners=False,
            )
            titles = [entry.item for entry in chart.entries]
        else:
            raise InvalidInsightsRequest("Name a kind (the top titles of it) or the titles.")
        found = overlap(self.session, titles, window)
        briefs = self.catalog.briefs(titles)
        return OverlapOut(
            window=_window_out(window),
            kind=kind,
            titles=[
                OverlapTitleOut(title=briefs[t.id], viewers=found.viewers[t.id]) for t in titles
            ],
            cells=[
                OverlapCellOut(
                    a=c.a, b=c.b, both=c.both, jaccard=c.jaccard, share_of_a=c.share_of_a
                )
                for c in found.cells
            ],
        )

    # -- costs ------------------------------------------------------------------------------

    def costs(self, item_id: int | None = None) -> list[TitleCost]:
        stmt = select(TitleCost).order_by(TitleCost.item_id, TitleCost.kind)
        if item_id is not None:
            stmt = stmt.where(TitleCost.item_id == item_id)
        return list(self.session.scalars(stmt))

    def set_cost(self, item_id: int, kind: CostKind, data: CostIn) -> TitleCost:
        """Enter (or replace) the title's cost of this kind."""
        item = self.catalog.get(item_id)
        micros = int(data.amount * MICROS)
        if Decimal(micros) != data.amount * MICROS:
            raise InvalidInsightsRequest("amount has at most six decimals.")
        row = self.session.scalar(
            select(TitleCost).where(TitleCost.item_id == item.id, TitleCost.kind == kind)
        )
        now = self.clock()
        if row is None:
            row = TitleCost(item_id=item.id, kind=kind, created_at=now)
            self.session.add(row)
        row.amount_micros = micros
        row.currency = data.currency
        row.notes = data.notes
        row.updated_at = now
        self.session.flush()
        return row

    def remove_cost(self, item_id: int, kind: CostKind) -> None:
        item = self.catalog.get(item_id)
        removed = self.session.execute(
            delete(TitleCost).where(TitleCost.item_id == item.id, TitleCost.kind == kind)
        )
        if not getattr(removed, "rowcount", 0):
            raise CostNotFound(f"Item {item.id} has no {kind.value} cost.")

    # -- local content ----------------------------------------------------------------------

    def local_content(
        self,
        window: InsightWindow,
        *,
        countries: Sequence[str] | None = None,
        kinds: Sequence[Kind] | None = None,
        sample: int = 20,
    ) -> LocalContentOut:
        if self.availability is None:
            raise InvalidInsightsRequest("The local-content report needs the availability index.")
        if not 1 <= sample <= 500:
            raise InvalidInsightsRequest("sample must be between 1 and 500 users per country.")
        report = LocalContentReport(
            self.session,
            availability=self.availability,
            recs=self.recs,
            policy=self.policy,
            languages=self.local_languages,
        )
        cells = report.build(
            window,
            countries=countries,
            kinds=kinds,
            sample=sample,
            at=min(window.until, self.clock()),
        )
        return LocalContentOut(
            window=_window_out(window),
            recommended_from=f"the recommender, run now for up to {sample} users per country "
            "who played something in the window (lists of 20; tastegraph keeps no log of the "
            "lists it served)",
            sample_per_country=sample,
            cells=[_local_cell_out(cell) for cell in cells],
        )


# -- building the answers ------------------------------------------------------------------


def _window_out(window: InsightWindow) -> WindowOut:
    return WindowOut(
        since=window.since, until=window.until, timezone=window.timezone, weeks=len(window.weeks)
    )


def _audience_out(total: Tally) -> AudienceOut:
    return AudienceOut(
        viewers=total.viewers,
        plays=total.plays,
        plays_per_viewer=round(total.plays / total.viewers, 4) if total.viewers else None,
        completion=CompletionOut(
            rate=total.completion_rate,
            completed=total.completed,
            playbacks=total.playbacks,
            unfinished_playbacks=total.unfinished,
            plays_without_progress=total.plays - total.known,
        ),
    )


def _week_out(start: datetime, end: datetime, tally: Tally, money: Money) -> WeekOut:
    return WeekOut(
        start=start,
        end=end,
        viewers=tally.viewers,
        plays=tally.plays,
        completed=tally.completed,
        playbacks=tally.playbacks,
        completion_rate=tally.completion_rate,
        impressions=money.impressions,
        revenue=_money(money.spend_micros) or 0.0,
    )


def _countries_out(audience: Audience) -> list[CountryOut]:
    viewers = audience.total.viewers
    rows = [
        CountryOut(
            country=country,
            viewers=tally.viewers,
            plays=tally.plays,
            share_of_viewers=_share(tally.viewers, viewers) or 0.0,
            completion_rate=tally.completion_rate,
        )
        for country, tally in audience.countries.items()
        if tally.viewers or tally.unfinished
    ]
    rows.sort(key=lambda r: (-r.viewers, -r.plays, r.country is None, r.country or ""))
    return rows


def _targeting_out(name: str, money: Money) -> TargetingOut:
    return TargetingOut(
        targeting=name,
        impressions=money.impressions,
        clicks=money.clicks,
        revenue=_money(money.spend_micros) or 0.0,
        ecpm=_money(money.ecpm_micros),
    )


def cost_out(cost: TitleCost) -> CostOut:
    return CostOut(
        item_id=cost.item_id,
        kind=cost.kind,
        amount=_money(cost.amount_micros) or 0.0,
        currency=cost.currency,
        notes=cost.notes,
        updated_at=cost.updated_at,
    )


def _break_even_out(even: BreakEven) -> BreakEvenOut:
    return BreakEvenOut(
        currency=even.currency,
        cost=_money(even.cost_micros) or 0.0,
        excluded_costs=[cost_out(c) for c in even.excluded],
        viewers=even.viewers,
        revenue=_money(even.revenue_micros) or 0.0,
        revenue_per_viewer=_money(even.revenue_per_viewer),
        viewers_needed=even.viewers_needed,
        revenue_per_viewer_at_network_prices=_money(even.revenue_per_viewer_ron),
        viewers_needed_at_network_prices=even.viewers_needed_ron,
        coverage=even.coverage,
        windows_needed=even.windows_needed,
        assumptions=even.assumptions,
    )


def _measure_out(measure: Measure, threshold: float | None) -> LocalMeasureOut:
    return LocalMeasureOut(
        total=measure.total,
        local=measure.local,
        share=measure.share,
        passes=measure.passes(threshold),
    )


def _local_cell_out(cell: Cell) -> LocalCellOut:
    threshold = cell.threshold
    recommended = _measure_out(cell.recommended, threshold)
    return LocalCellOut(
        country=cell.country,
        kind=cell.kind,
        threshold=threshold,
        policy_scope=cell.rule.scope if cell.rule else None,
        languages=sorted(cell.languages),
        offered=_measure_out(cell.offered, threshold),
        recommended=recommended,
        consumed=_measure_out(cell.consumed, threshold),
        passes=recommended.passes,
    )
