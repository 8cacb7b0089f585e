"""What the insights API answers and takes. Money is in the currency's units (floats of whole
micros); shares are 0..1; ``null`` where a number cannot be given (no viewers, a suppressed
cell, no cost)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.schemas import ItemBrief
from tastegraph.insights.models import CostKind

COMPLETION_THRESHOLD = 0.9
"""A playback is complete from 90 % of the item on."""


class WindowOut(BaseModel):
    since: datetime
    until: datetime
    timezone: str
    weeks: int


class CompletionOut(BaseModel):
    threshold: float = COMPLETION_THRESHOLD
    rate: float | None = Field(description="completed / playbacks; null without playbacks.")
    completed: int
    playbacks: int = Field(description="Plays with a known progress plus unfinished playbacks.")
    unfinished_playbacks: int = Field(
        description="Progress-scrobbled playbacks paused or stopped below 80 %, never recorded "
        "as plays."
    )
    plays_without_progress: int


class AudienceOut(BaseModel):
    viewers: int
    plays: int
    plays_per_viewer: float | None
    completion: CompletionOut


class WeekOut(BaseModel):
    start: datetime
    end: datetime
    viewers: int
    plays: int
    completed: int
    playbacks: int
    completion_rate: float | None
    impressions: int
    revenue: float


class CountryOut(BaseModel):
    country: str | None = Field(description="ISO 3166-1; null: viewers without a country.")
    viewers: int
    plays: int
    share_of_viewers: float
    completion_rate: float | None


class SegmentCellOut(BaseModel):
    segment_id: int
    name: str
    members: int
    viewers: int | None = Field(description="null when under the floor (see viewers_display).")
    viewers_display: str = Field(description='The count, or "< 100" under the floor.')
    share_of_viewers: float | None
    reach_in_segment: float | None = Field(description="viewers / members.")


class SegmentsOut(BaseModel):
    floor: int
    cells: list[SegmentCellOut]
    segments_below_floor: int = Field(
        description="Segments left out because they have fewer consenting members than the floor."
    )


class GroupOut(BaseModel):
    group_id: int
    name: str
    slug: str
    viewers: int
    share_of_viewers: float


class TargetingOut(BaseModel):
    targeting: str
    impressions: int
    clicks: int
    revenue: float
    ecpm: float | None


class RevenueOut(BaseModel):
    currency: str
    impressions: int
    clicks: int
    revenue: float
    ecpm: float | None
    revenue_per_viewer: float | None
    impressions_per_viewer: float | None
    by_targeting: list[TargetingOut]
    targeted: TargetingOut = Field(description="audience and contextual impressions together.")
    run_of_network: TargetingOut = Field(description="This title's run-of-network impressions.")
    network_ecpm: float | None = Field(
        description="The run-of-network eCPM of the whole site in the window (every title)."
    )
    at_network_prices: float | None = Field(
        description="What this title's paid impressions would have earned at network_ecpm."
    )
    targeting_premium: float | None = Field(description="revenue - at_network_prices.")


class CostOut(BaseModel):
    item_id: int
    kind: CostKind
    amount: float
    currency: str
    notes: str | None
    updated_at: datetime


class CostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Annotated[Decimal, Field(gt=0, le=10**12, decimal_places=6)]
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "EUR"
    notes: Annotated[str, Field(max_length=2000)] | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not value.isascii() or not value.isalpha():
            raise ValueError("currency must be an ISO 4217 code such as EUR")
        return value.upper()


class BreakEvenOut(BaseModel):
    currency: str
    cost: float
    excluded_costs: list[CostOut] = Field(
        description="Costs in another currency than the ads': not converted, left out."
    )
    viewers: int
    revenue: float
    revenue_per_viewer: float | None
    viewers_needed: int | None = Field(
        description="cost / revenue_per_viewer, rounded up; null without revenue."
    )
    revenue_per_viewer_at_network_prices: float | None
    viewers_needed_at_network_prices: int | None
    coverage: float | None = Field(description="viewers / viewers_needed.")
    windows_needed: float | None = Field(
        description="How many windows of this length recoup the cost at the current revenue."
    )
    assumptions: list[str]


class TitleInsightsOut(BaseModel):
    title: ItemBrief
    covered_items: int
    window: WindowOut
    audience: AudienceOut
    weeks: list[WeekOut]
    countries: list[CountryOut]
    segments: SegmentsOut
    groups: list[GroupOut]
    revenue: RevenueOut
    costs: list[CostOut]
    break_even: BreakEvenOut | None


class OverlapTitleOut(BaseModel):
    title: ItemBrief
    viewers: int


class OverlapCellOut(BaseModel):
    a: int
    b: int
    both: int
    jaccard: float | None
    share_of_a: float | None = Field(description="|A ∩ B| / |A|: of A's viewers, who watch B.")


class OverlapOut(BaseModel):
    window: WindowOut
    kind: Kind | None
    titles: list[OverlapTitleOut]
    cells: list[OverlapCellOut] = Field(description="Every ordered pair a != b.")


class LocalMeasureOut(BaseModel):
    total: int
    local: int
    share: float | None
    passes: bool | None = Field(description="share >= threshold; null without a policy or data.")


class LocalCellOut(BaseModel):
    country: str
    kind: Kind
    threshold: float | None = Field(
        description="The local-content share the recommendation policy asks for; null: none."
    )
    policy_scope: str | None
    languages: list[str]
    offered: LocalMeasureOut
    recommended: LocalMeasureOut
    consumed: LocalMeasureOut
    passes: bool | None = Field(
        description="recommended.passes: the policy is a quota on recommendations."
    )


class LocalContentOut(BaseModel):
    window: WindowOut
    recommended_from: str = Field(
        description="How recommendations were measured: the recommender run for a sample."
    )
    sample_per_country: int
    cells: list[LocalCellOut]
