"""What the audience API takes and returns. Segments are only ever shown as aggregates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tastegraph.audiences.models import SegmentKind
from tastegraph.text import ShortText

_strict = ConfigDict(extra="forbid")


class ConsentIn(BaseModel):
    """A user's advertising choices. Both purposes are needed for personalised ads."""

    model_config = _strict

    profiling: bool = Field(
        description="TCF purpose 3: create a profile for personalised advertising."
    )
    personalised_ads: bool = Field(
        description="TCF purpose 4: use the profile to select personalised advertising."
    )
    declared_adult: bool | None = Field(
        default=None,
        description="I am 18 or older. Counts only where the birth year does not settle it. "
        "Absent: unchanged.",
    )


class ConsentOut(BaseModel):
    profiling: bool
    personalised_ads: bool
    declared_adult: bool
    updated_at: datetime | None
    source: str | None
    targetable: bool
    reasons: list[str] = Field(
        description="Why the user is not targeted with personalised ads (empty when they are)."
    )


class ConsentEventOut(BaseModel):
    at: datetime
    actor: str
    source: str
    old: dict[str, Any]
    new: dict[str, Any]


class RuleIn(BaseModel):
    model_config = _strict

    rule: JsonValue = Field(description="A segment rule (see docs/audiences.md).")


class SizeOut(BaseModel):
    size: int | str = Field(description="The number of consenting users, or '< 100'.")
    targetable: bool = Field(description="At or above the k-anonymity floor.")
    floor: int


class SegmentIn(BaseModel):
    model_config = _strict

    name: ShortText
    description: str | None = Field(default=None, max_length=2000)
    rule: JsonValue
    iab_ids: list[int] | None = Field(
        default=None,
        description="IAB Audience Taxonomy 1.1 ids; absent: derived from the rule.",
        max_length=50,
    )
    active: bool = True


class SegmentUpdate(BaseModel):
    model_config = _strict

    name: ShortText | None = None
    description: str | None = Field(default=None, max_length=2000)
    rule: JsonValue | None = None
    iab_ids: list[int] | None = Field(default=None, max_length=50)
    active: bool | None = None


class LookalikeIn(BaseModel):
    model_config = _strict

    target_size: int = Field(ge=1, le=10_000_000)
    name: ShortText | None = None
    include_seed: bool = True


class ClustersIn(BaseModel):
    model_config = _strict

    k: int = Field(default=12, ge=2, le=100)
    within_days: int = Field(default=180, ge=1, le=3650)


class IabOut(BaseModel):
    id: int
    name: str


class CellOut(BaseModel):
    key: str
    size: int | str


class SegmentOut(BaseModel):
    id: int
    name: str
    description: str | None
    kind: SegmentKind
    rule: dict[str, Any] | None
    iab: list[IabOut]
    segtax: int = 4
    size: int | str
    targetable: bool
    active: bool
    shared: bool
    version: int
    seed_segment_id: int | None
    target_size: int | None
    meta: dict[str, Any] | None
    refreshed_at: datetime | None
    stale_seconds: float | None
    created_at: datetime
    updated_at: datetime
    url: str


class SegmentDetailOut(SegmentOut):
    by_country: list[CellOut]
    by_age_band: list[CellOut]


class SegmentList(BaseModel):
    segments: list[SegmentOut]
    floor: int


class RefreshOut(BaseModel):
    segments: int
    added: int
    removed: int
    seconds: float
