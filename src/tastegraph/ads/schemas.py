"""What the advertising API takes and returns. Money goes in and out as decimal numbers of the
currency (``ads_currency``) and is stored in micros."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from tastegraph.ads.models import (
    CreativeFormat,
    Pacing,
    PlacementType,
    Pricing,
    Priority,
    Status,
)
from tastegraph.catalog.kinds import Kind
from tastegraph.locales import normalize_country, normalize_timezone
from tastegraph.text import ShortText, check_text

_strict = ConfigDict(extra="forbid")

MICROS = 1_000_000


def to_micros(amount: Decimal) -> int:
    return int(amount * MICROS)


def money(micros: int | None) -> float | None:
    return None if micros is None else micros / MICROS


Money = Annotated[Decimal, Field(ge=0, le=1_000_000_000, decimal_places=6)]
"""An amount of the currency, at most six decimals (micros)."""
CpmPrice = Annotated[Decimal, Field(ge=0, le=100_000, decimal_places=3)]
"""A price per thousand impressions, to a thousandth: one impression costs whole micros."""


def _check_url(value: str) -> str:
    check_text(value)
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.hostname is None:
        raise ValueError("must be an absolute http:// or https:// URL")
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain spaces")
    return value


HttpUrlText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2048), AfterValidator(_check_url)
]
Country = Annotated[str, AfterValidator(normalize_country)]
TimeZone = Annotated[str, AfterValidator(normalize_timezone)]
CategoryId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,8}$")]
"""An IAB Content Taxonomy 3.0/3.1 id: legacy numeric ("483") or alphanumeric ("JLBCU7")."""
LanguageCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2,3}$")
]
"""An ISO 639 language code: the primary subtag of a locale (``pt`` of ``pt-BR``)."""
PlacementKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class Client(StrEnum):
    """The kind of device or player, as AdCOM device types group them."""

    DESKTOP = "desktop"
    MOBILE = "mobile"
    TABLET = "tablet"
    CTV = "ctv"


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Daypart(BaseModel):
    """Hours [start_hour, end_hour) on some days, in the viewer's local time."""

    model_config = _strict

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    start_hour: int = Field(default=0, ge=0, le=23)
    end_hour: int = Field(default=24, ge=1, le=24)

    @model_validator(mode="after")
    def _ordered(self) -> Daypart:
        if self.start_hour >= self.end_hour:
            raise ValueError("start_hour must be before end_hour")
        return self


class Targeting(BaseModel):
    """Who and where a line item may serve. Every list is "any of"; an empty list means any.

    ``segments`` (audience targeting) only ever match viewers who may be profiled: consenting
    adults, through the audiences area, or OpenRTB requests whose consent allows it.
    """

    model_config = _strict

    segments: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, max_length=500)
    countries: list[Country] = Field(default_factory=list, max_length=300)
    kinds: list[Kind] = Field(default_factory=list, max_length=20)
    categories: list[CategoryId] = Field(default_factory=list, max_length=100)
    languages: list[LanguageCode] = Field(default_factory=list, max_length=100)
    dayparts: list[Daypart] = Field(default_factory=list, max_length=50)
    clients: list[Client] = Field(default_factory=list, max_length=4)
    placements: list[PlacementKey] = Field(default_factory=list, max_length=200)
    live: bool | None = None
    """True: only live streams; False: only on-demand content; None: either."""


class FrequencyCap(BaseModel):
    """At most ``impressions`` per viewer in each window of ``window_seconds`` (tumbling
    windows aligned to UNIX time: an hour cap resets on the hour, a day cap at 00:00 UTC)."""

    model_config = _strict

    impressions: int = Field(ge=1, le=100_000)
    window_seconds: int = Field(ge=60, le=366 * 86_400)


# -- management ---------------------------------------------------------------------------


class AdvertiserIn(BaseModel):
    model_config = _strict

    name: ShortText
    domain: Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]{1,253}$")] | None = None
    status: Literal[Status.ACTIVE, Status.PAUSED] = Status.ACTIVE


class AdvertiserUpdate(BaseModel):
    model_config = _strict

    name: ShortText | None = None
    domain: Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]{1,253}$")] | None = None
    status: Literal[Status.ACTIVE, Status.PAUSED] | None = None


class AdvertiserOut(BaseModel):
    id: int
    name: str
    domain: str | None
    status: Status
    created_at: datetime


class MemberIn(BaseModel):
    model_config = _strict

    user: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class MemberOut(BaseModel):
    user: str
    added_at: datetime


class CampaignIn(BaseModel):
    model_config = _strict

    advertiser_id: int
    name: ShortText
    priority: Priority = Priority.STANDARD
    pricing: Pricing = Pricing.CPM
    pacing: Pacing = Pacing.EVEN
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    total_budget: Money | None = None
    daily_budget: Money | None = None
    status: Literal[Status.ACTIVE, Status.PAUSED] = Status.ACTIVE


class CampaignUpdate(BaseModel):
    model_config = _strict

    name: ShortText | None = None
    priority: Priority | None = None
    pricing: Pricing | None = None
    pacing: Pacing | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    total_budget: Money | None = None
    daily_budget: Money | None = None
    status: Literal[Status.ACTIVE, Status.PAUSED] | None = None


class CampaignOut(BaseModel):
    id: int
    advertiser_id: int
    name: str
    priority: Priority
    pricing: Pricing
    pacing: Pacing
    starts_at: datetime
    ends_at: datetime | None
    total_budget: float | None
    daily_budget: float | None
    currency: str
    status: Status
    created_at: datetime


class LineItemIn(BaseModel):
    model_config = _strict

    campaign_id: int
    name: ShortText
    bid: Money = Field(
        description="Per thousand impressions (CPM campaigns, at most 3 decimals) or per "
        "click (CPC campaigns)."
    )
    targeting: Targeting = Field(default_factory=Targeting)
    frequency_caps: list[FrequencyCap] = Field(default_factory=list, max_length=5)
    status: Literal[Status.ACTIVE, Status.PAUSED] = Status.ACTIVE


class LineItemUpdate(BaseModel):
    model_config = _strict

    name: ShortText | None = None
    bid: Money | None = None
    targeting: Targeting | None = None
    frequency_caps: list[FrequencyCap] | None = Field(default=None, max_length=5)
    status: Literal[Status.ACTIVE, Status.PAUSED] | None = None


class LineItemOut(BaseModel):
    id: int
    campaign_id: int
    name: str
    bid: float
    targeting: Targeting
    frequency_caps: list[FrequencyCap]
    status: Status
    created_at: datetime


Dimension = Annotated[int, Field(ge=1, le=8192)]


class CreativeFields(BaseModel):
    model_config = _strict

    name: ShortText
    format: CreativeFormat
    width: Dimension | None = None
    height: Dimension | None = None
    duration_seconds: Annotated[int, Field(ge=1, le=600)] | None = None
    asset_url: HttpUrlText | None = None
    mime: Annotated[str, StringConstraints(pattern=r"^[a-z]+/[a-z0-9.+-]+$")] | None = None
    headline: (
        Annotated[str, StringConstraints(max_length=200), AfterValidator(check_text)] | None
    ) = None
    body: Annotated[str, StringConstraints(max_length=2000), AfterValidator(check_text)] | None = (
        None
    )
    click_url: HttpUrlText
    status: Literal[Status.ACTIVE, Status.PAUSED] = Status.ACTIVE

    @model_validator(mode="after")
    def _complete(self) -> CreativeFields:
        check_creative(
            self.format, self.asset_url, self.width, self.height, self.duration_seconds,
            self.headline,
        )  # fmt: skip
        return self


def check_creative(
    fmt: CreativeFormat,
    asset_url: str | None,
    width: int | None,
    height: int | None,
    duration: int | None,
    headline: str | None,
) -> None:
    if fmt is CreativeFormat.IMAGE and (asset_url is None or width is None or height is None):
        raise ValueError("an image creative needs asset_url, width and height")
    if fmt is CreativeFormat.VIDEO and (asset_url is None or duration is None):
        raise ValueError("a video creative needs asset_url and duration_seconds")
    if fmt is CreativeFormat.TEXT and not headline:
        raise ValueError("a text creative needs a headline")


class CreativeIn(CreativeFields):
    line_item_id: int


class CreativeUpdate(BaseModel):
    model_config = _strict

    name: ShortText | None = None
    width: Dimension | None = None
    height: Dimension | None = None
    duration_seconds: Annotated[int, Field(ge=1, le=600)] | None = None
    asset_url: HttpUrlText | None = None
    mime: Annotated[str, StringConstraints(pattern=r"^[a-z]+/[a-z0-9.+-]+$")] | None = None
    headline: (
        Annotated[str, StringConstraints(max_length=200), AfterValidator(check_text)] | None
    ) = None
    body: Annotated[str, StringConstraints(max_length=2000), AfterValidator(check_text)] | None = (
        None
    )
    click_url: HttpUrlText | None = None
    status: Literal[Status.ACTIVE, Status.PAUSED] | None = None


class CreativeOut(BaseModel):
    id: int
    line_item_id: int
    name: str
    format: CreativeFormat
    width: int | None
    height: int | None
    duration_seconds: int | None
    asset_url: str | None
    mime: str | None
    headline: str | None
    body: str | None
    click_url: str
    status: Status
    created_at: datetime


StreamPosition = Literal["preroll", "midroll", "postroll"]


class PlacementIn(BaseModel):
    model_config = _strict

    key: PlacementKey
    name: ShortText
    type: PlacementType
    formats: list[CreativeFormat] = Field(min_length=1, max_length=3)
    width: Dimension | None = None
    height: Dimension | None = None
    position: StreamPosition | None = None
    max_duration_seconds: Annotated[int, Field(ge=1, le=600)] | None = None
    floor: CpmPrice = Decimal(0)
    status: Literal[Status.ACTIVE, Status.PAUSED] = Status.ACTIVE

    @model_validator(mode="after")
    def _position_for_streams(self) -> PlacementIn:
        if self.position is not None and self.type is not PlacementType.INSTREAM:
            raise ValueError("only in-stream placements have a position")
        return self


class PlacementUpdate(BaseModel):
    model_config = _strict

    name: ShortText | None = None
    formats: list[CreativeFormat] | None = Field(default=None, min_length=1, max_length=3)
    width: Dimension | None = None
    height: Dimension | None = None
    position: StreamPosition | None = None
    max_duration_seconds: Annotated[int, Field(ge=1, le=600)] | None = None
    floor: CpmPrice | None = None
    status: Literal[Status.ACTIVE, Status.PAUSED] | None = None


class PlacementOut(BaseModel):
    id: int
    key: str
    name: str
    type: PlacementType
    formats: list[CreativeFormat]
    width: int | None
    height: int | None
    position: str | None
    max_duration_seconds: int | None
    floor: float
    currency: str
    status: Status


# -- decisions ----------------------------------------------------------------------------


class DecideIn(BaseModel):
    """An ad request from a page or a player. The viewer is the caller (a bearer token) or,
    logged out, ``anonymous_id`` (a first-party id the client keeps)."""

    model_config = _strict

    placement: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    anonymous_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    item_id: int | None = Field(default=None, ge=1, description="The item being consumed.")
    categories: list[CategoryId] = Field(default_factory=list, max_length=20)
    country: Country | None = None
    language: LanguageCode | None = None
    timezone: TimeZone | None = None
    client: Client | None = None
    live: bool | None = None


class CreativeServed(BaseModel):
    id: int
    format: CreativeFormat
    width: int | None
    height: int | None
    duration_seconds: int | None
    asset_url: str | None
    mime: str | None
    headline: str | None
    body: str | None


class Reason(BaseModel):
    """One main parameter of the choice (DSA Art. 26(1)(d))."""

    parameter: str
    value: str


class DecisionOut(BaseModel):
    id: str
    placement: str
    advertiser: str
    campaign_id: int
    line_item_id: int
    creative: CreativeServed
    impression_url: str
    click_url: str
    targeting: Literal["audience", "contextual", "network", "house"]
    why: list[Reason]


# -- reports ------------------------------------------------------------------------------


class ReportDimension(StrEnum):
    DAY = "day"
    ADVERTISER = "advertiser"
    CAMPAIGN = "campaign"
    LINE_ITEM = "line_item"
    CREATIVE = "creative"
    PLACEMENT = "placement"
    SEGMENT = "segment"
    COUNTRY = "country"
    TARGETING = "targeting"


FREQUENCY_BUCKETS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10+")


class ReportRow(BaseModel):
    dimensions: dict[str, Any]
    impressions: int
    reach: int = Field(
        description="Unique viewers: a HyperLogLog estimate (see reach_standard_error)."
    )
    average_frequency: float = Field(description="impressions / reach")
    frequency: dict[str, int] = Field(
        description="How many viewers saw the ads 1, 2, ... 9 and 10 or more times (counted "
        "exactly among the frequency sample's viewers, times frequency_sample)."
    )
    clicks: int
    ctr: float
    spend: float
    ecpm: float


class ReportOut(BaseModel):
    since: date
    until: date
    currency: str
    group_by: list[ReportDimension]
    rows: list[ReportRow]
    total: ReportRow
    reach_standard_error: float = Field(
        description="Relative standard error of every reach (HyperLogLog, 16,384 registers)."
    )
    frequency_sample: int = Field(
        description="Frequency counts one viewer in this many (by hash); 1: every viewer."
    )
