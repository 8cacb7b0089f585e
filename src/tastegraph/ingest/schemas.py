"""Plays as clients submit them, and what the server answers about each."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from tastegraph.catalog.schemas import ItemBrief, ItemRef
from tastegraph.ingest.models import Sentiment
from tastegraph.text import ShortText

_strict = ConfigDict(extra="forbid")

Timestamp = Annotated[
    AwareDatetime,
    Field(
        description="ISO 8601 with a UTC offset (2024-05-01T20:15:00+02:00) "
        "or UNIX seconds (1714587300)."
    ),
]


class PlayIn(BaseModel):
    """One play: what was consumed, when, how much of it, and from which client."""

    model_config = _strict

    played_at: Timestamp
    item: ItemRef | None = Field(
        default=None, description="Describe the item; it is matched or created."
    )
    item_id: int | None = Field(default=None, ge=1, description="Or point at a catalogue item.")
    duration_played: int | None = Field(default=None, ge=0, le=2_073_600, description="Seconds.")
    progress: float | None = Field(default=None, ge=0, le=1, description="Share consumed, 0..1.")
    client: ShortText | None = None
    submission_id: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        default=None,
        description="An idempotency key of the client's choice: a play with a known "
        "submission id is reported as a duplicate.",
    )
    incognito: bool | None = Field(
        default=None,
        description="Keep this play out of the taste profile. Defaults to the user's setting.",
    )

    @model_validator(mode="after")
    def _one_item(self) -> PlayIn:
        if (self.item is None) == (self.item_id is None):
            raise ValueError("give exactly one of item and item_id")
        return self


class PlayStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class PlayProblem(BaseModel):
    code: str
    field: str | None = None
    message: str


class PlayResult(BaseModel):
    index: int
    status: PlayStatus
    play_id: int | None = None
    item_id: int | None = None
    incognito: bool = False
    errors: list[PlayProblem] = Field(default_factory=list)


class BatchResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[PlayResult]


class PlayOut(BaseModel):
    id: int
    played_at: datetime
    local_time: datetime = Field(description="played_at in the user's time zone at that moment.")
    item: ItemBrief
    duration_played: int | None
    progress: float | None
    source: str
    incognito: bool


class PlayHistory(BaseModel):
    plays: list[PlayOut]
    next: str | None = Field(description="The URL of the next (older) page, if any.")


class NowPlayingIn(BaseModel):
    model_config = _strict

    item: ItemRef | None = None
    item_id: int | None = Field(default=None, ge=1)
    progress: float | None = Field(default=None, ge=0, le=1)
    client: ShortText | None = None
    incognito: bool | None = None

    @model_validator(mode="after")
    def _one_item(self) -> NowPlayingIn:
        if (self.item is None) == (self.item_id is None):
            raise ValueError("give exactly one of item and item_id")
        return self


class NowPlayingOut(BaseModel):
    item: ItemBrief
    started_at: datetime
    expires_at: datetime
    progress: float | None
    source: str


class FeedbackIn(BaseModel):
    model_config = _strict

    sentiment: Sentiment


class FeedbackOut(BaseModel):
    item: ItemBrief
    sentiment: Sentiment
    created_at: datetime


class FeedbackPage(BaseModel):
    feedback: list[FeedbackOut]
    next: str | None
