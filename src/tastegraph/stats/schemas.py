"""What the stats endpoints answer."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.schemas import ItemBrief


class ChartEntryOut(BaseModel):
    rank: int
    plays: int
    listeners: int | None = Field(default=None, description="Site-wide charts only.")
    item: ItemBrief


class ChartOut(BaseModel):
    level: Kind
    period: str = Field(description="A named period, or 'custom' for from/to.")
    timezone: str = Field(description="The zone the period's boundaries were computed in.")
    from_: datetime | None = Field(serialization_alias="from")
    to: datetime
    total: int = Field(description="Distinct items in the whole chart, beyond this page.")
    entries: list[ChartEntryOut]


class WeekOut(BaseModel):
    from_: datetime = Field(serialization_alias="from")
    to: datetime


class WeeksOut(BaseModel):
    timezone: str
    weeks: list[WeekOut]


class ShareOut(BaseModel):
    domain: Domain
    plays: int
    share: float


class StreaksOut(BaseModel):
    current: int
    longest: int
    longest_start: date | None
    longest_end: date | None
    active_days: int


class SummaryOut(BaseModel):
    user: str
    timezone: str
    plays: int
    first_play: datetime | None
    last_play: datetime | None
    shares: list[ShareOut]
    streaks: StreaksOut


class ClockOut(BaseModel):
    timezone: str | None = Field(
        description="The zone of the grid; null means each play's own local time."
    )
    grid: list[list[int]] = Field(description="7 rows (Monday first) of 24 hourly counts.")


class DiscoveryOut(BaseModel):
    week_start: date
    new_items: int
    plays: int


class DiscoveriesOut(BaseModel):
    level: Kind
    timezone: str
    weeks: list[DiscoveryOut]


class TagOut(BaseModel):
    name: str
    weight: int


class TrendOut(BaseModel):
    item: ItemBrief
    plays: int
    previous: int
    rise: float


class ListenerOut(BaseModel):
    user: str
    url: str
    plays: int


class ItemStatsOut(BaseModel):
    item: ItemBrief
    plays: int
    listeners: int
    your_plays: int | None = None


class TopEntryOut(BaseModel):
    id: int
    title: str
    plays: int


class YearReviewOut(BaseModel):
    user: str
    year: int
    timezone: str
    plays: int
    active_days: int
    longest_streak: int
    new_artists: int
    months: list[int]
    domains: dict[str, int]
    top: dict[str, list[TopEntryOut]]
    clock: list[list[int]]
    poster: str = Field(description="The same year drawn as SVG.")
