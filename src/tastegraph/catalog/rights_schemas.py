"""What operators send and get back for rights, blackouts, territory groups and translations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from tastegraph.catalog.models import Offer
from tastegraph.catalog.schemas import AvailabilityOut, ItemBrief, Language

_strict = ConfigDict(extra="forbid")

Territory = Annotated[
    str,
    Field(
        min_length=2,
        max_length=32,
        description="An ISO 3166-1 country code (DE), a territory group (EU, DACH), or WORLD.",
    ),
]
Languages = Annotated[list[Language], Field(max_length=50)]


class RightIn(BaseModel):
    model_config = _strict

    item_id: int = Field(description="The item; what hangs under it inherits the grant.")
    territory: Territory
    offer: Offer
    starts_at: AwareDatetime | None = Field(default=None, description="null: since always.")
    ends_at: AwareDatetime | None = Field(default=None, description="Exclusive; null: open-ended.")
    audio_languages: Languages = Field(default_factory=list)
    subtitle_languages: Languages = Field(default_factory=list)

    @model_validator(mode="after")
    def _window(self) -> RightIn:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class RightOut(BaseModel):
    id: int
    item: ItemBrief
    territory: str
    offer: Offer
    starts_at: datetime | None
    ends_at: datetime | None
    audio_languages: list[str]
    subtitle_languages: list[str]
    created_at: datetime


class RightsPage(BaseModel):
    rights: list[RightOut]
    total: int
    next: str | None


class BlackoutIn(BaseModel):
    model_config = _strict

    item_id: int = Field(description="The event, or a competition: its matches inherit it.")
    territories: Annotated[list[Territory], Field(min_length=1, max_length=300)]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    note: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _window(self) -> BlackoutIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class BlackoutOut(BaseModel):
    id: int
    item: ItemBrief
    territories: list[str]
    starts_at: datetime
    ends_at: datetime
    note: str | None
    created_at: datetime


class TerritoryGroupIn(BaseModel):
    model_config = _strict

    name: Annotated[str, Field(min_length=1, max_length=200)]
    countries: Annotated[list[str], Field(max_length=300)]


class TerritoryGroupOut(BaseModel):
    key: str
    name: str
    countries: list[str]


class SheetProblem(BaseModel):
    line: int = Field(description="The line of the sheet (the header is line 1).")
    field: str | None
    code: str
    message: str


class SheetReport(BaseModel):
    rows: int = Field(description="Data rows read (a row naming several territories is one).")
    stored: int = Field(description="New grants.")
    updated: int = Field(
        description="Grants of the same item, territory, offer and start whose "
        "end or languages changed."
    )
    unchanged: int
    rejected: list[SheetProblem]
    ignored_columns: list[str]


class TranslationIn(BaseModel):
    model_config = _strict

    title: Annotated[str, Field(min_length=1, max_length=1024)]
    description: Annotated[str, Field(max_length=20_000)] | None = None


class TranslationOut(BaseModel):
    language: str
    title: str
    description: str | None


class AvailabilityCheckOut(AvailabilityOut):
    """An operator's view: the same answer a viewer gets, and why."""

    item: ItemBrief
    at: datetime
    decided_by: ItemBrief | None = Field(
        description="The item whose grants decide (the item itself or one above it); null "
        "when no item above has grants and the default applies."
    )
