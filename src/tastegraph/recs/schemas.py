"""What the recommendation endpoints return."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tastegraph.catalog.schemas import ItemBrief


class RecommendationOut(BaseModel):
    item: ItemBrief
    score: float = Field(description="The model's score (popularity share for 'popular').")
    reason: str | None = Field(
        default=None, description="Why: 'Because you listened to …', 'Popular in your country'."
    )
    because: ItemBrief | None = Field(
        default=None, description="The user's item that contributes most to this one."
    )
    local: bool | None = Field(
        default=None,
        description="Under a local-content share: whether the item counts as local.",
    )


class LocalShareOut(BaseModel):
    country: str
    scope: str
    share: float = Field(description="The minimum share of local items in the list.")
    achieved: float = Field(description="The share of local items in this list.")


class RecommendationsOut(BaseModel):
    user: str
    kind: str
    based_on: str | None = None
    source: str = Field(description="'model', or 'popular' without a model or plays to go on.")
    version: str | None = Field(default=None, description="The trained version that answered.")
    model: str | None = None
    local_share: LocalShareOut | None = None
    recommendations: list[RecommendationOut]


class SimilarItemOut(BaseModel):
    item: ItemBrief
    match: float = Field(description="0..1; the most similar item is 1.")


class SimilarOut(BaseModel):
    item: ItemBrief
    source: str = Field(description="'model', or 'none' when no trained model knows the item.")
    version: str | None = None
    similar: list[SimilarItemOut]


class NeighbourOut(BaseModel):
    name: str
    url: str
    score: float = Field(description="Cosine similarity of the two tastes, 0..1.")
    shared: list[ItemBrief] = Field(description="Items both like most (artists, shows, ...).")


class NeighboursOut(BaseModel):
    user: str
    kind: str
    version: str | None = None
    neighbours: list[NeighbourOut]


class CompatibilityOut(BaseModel):
    user: str
    other: str
    kind: str
    score: float = Field(description="0..1.")
    level: str = Field(description="very low, low, medium, high, very high or super.")
    source: str = Field(description="'model' (taste vectors) or 'plays' (overlap of plays).")
    shared_count: int
    shared: list[ItemBrief]


class StationEntryOut(BaseModel):
    item: ItemBrief
    score: float
    known: bool = Field(description="The user played it before (not recently).")
    reason: str | None = None


class StationOut(BaseModel):
    user: str
    kind: str
    size: int
    recent_days: int
    seed: int | None = None
    source: str = Field(
        description="'model', 'popular', or 'replay' for a page of a kept station read again."
    )
    version: str | None = None
    id: int | None = Field(
        default=None, description="A kept station's id (POST /station); none for a one-off queue."
    )
    cursor: int = Field(default=0, description="The queue position of the first item.")
    next_cursor: int | None = Field(
        default=None, description="Where the next page starts; none when nothing is left."
    )
    next: str | None = Field(default=None, description="The next page's address.")
    queue: list[StationEntryOut]


class StationIn(BaseModel):
    kind: str = "track"
    size: int = Field(
        default=25,
        ge=1,
        le=200,
        description="Items per page; the diversity rule counts over any run this long.",
    )
    recent_days: int | None = Field(default=None, ge=0, le=3650)
    shuffle: bool = Field(default=True, description="A weighted shuffle; false: best first.")
    seed: int | None = Field(
        default=None,
        ge=0,
        lt=2**63,
        description="Repeat a shuffle; a new one is drawn when absent.",
    )


class KindStatusOut(BaseModel):
    kind: str
    model: str
    users: int
    items: int
    interactions: int


class RecsStatusOut(BaseModel):
    trained: bool
    version: str | None = None
    trained_at: datetime | None = None
    kinds: list[KindStatusOut] = Field(default_factory=list)
