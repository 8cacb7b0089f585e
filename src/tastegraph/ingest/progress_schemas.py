"""What progress-scrobbling clients send (start / pause / stop, check-ins) and get back.

Progress is a percentage, 0 to 100, as Trakt and Simkl take it, so that their plugins need
no conversion; plays and now-playing store it as a share, 0 to 1.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tastegraph.catalog.schemas import ItemBrief, ItemRef
from tastegraph.ingest.models import PlaybackStatus
from tastegraph.text import ShortText

_strict = ConfigDict(extra="forbid")

Percent = Field(ge=0, le=100, description="How far into the item, in percent (0 to 100).")


class _ItemChoice(BaseModel):
    model_config = _strict

    item: ItemRef | None = Field(
        default=None, description="Describe the item; it is matched or created."
    )
    item_id: int | None = Field(default=None, ge=1, description="Or point at a catalogue item.")
    client: ShortText | None = Field(default=None, description="Your app's name.")
    incognito: bool | None = Field(
        default=None,
        description="Keep this out of the taste profile and of live audiences. "
        "Defaults to the user's setting.",
    )

    @model_validator(mode="after")
    def _one_item(self) -> _ItemChoice:
        if (self.item is None) == (self.item_id is None):
            raise ValueError("give exactly one of item and item_id")
        return self


class ScrobbleIn(_ItemChoice):
    """Where playback stands: sent on start (and resume), pause and stop."""

    progress: float = Percent


class CheckinIn(_ItemChoice):
    """Say you are watching an item now: it shows as watching for its runtime and counts as
    watched at once."""


class ScrobbleAction(StrEnum):
    START = "start"
    PAUSE = "pause"
    SCROBBLE = "scrobble"


class ScrobbleOut(BaseModel):
    action: ScrobbleAction = Field(
        description="start: watching now; pause: progress kept to resume; "
        "scrobble: recorded as a play (stop at 80 % or more)."
    )
    progress: float = Field(description="Percent.")
    item: ItemBrief
    play_id: int | None = Field(default=None, description="The play a scrobble recorded.")
    played_at: datetime | None = Field(
        default=None, description="When the recorded play started (estimated from progress)."
    )
    watching_until: datetime | None = Field(
        default=None, description="On start: when the item shows as no longer watched."
    )
    incognito: bool


class PlaybackOut(BaseModel):
    item: ItemBrief
    status: PlaybackStatus = Field(
        description="playing while a started item is watched now; paused otherwise."
    )
    progress: float = Field(description="Percent.")
    resume_at_seconds: int | None = Field(
        description="The resume point in seconds, when the item's runtime is known."
    )
    started_at: datetime
    updated_at: datetime = Field(description="When progress was last reported (paused at).")
    source: str
    incognito: bool


class PlaybackList(BaseModel):
    playbacks: list[PlaybackOut]


class CheckinOut(BaseModel):
    item: ItemBrief
    play_id: int
    watched_at: datetime
    expires_at: datetime = Field(description="When the check-in runs out.")
    incognito: bool


class CountryAudience(BaseModel):
    country: str | None = Field(description="ISO 3166 code; null for people who gave none.")
    watching: int


class FriendWatching(BaseModel):
    name: str
    display_name: str | None
    since: datetime
    progress: float | None = Field(description="Percent, when the player reports it.")


class AudienceOut(BaseModel):
    item: ItemBrief
    as_of: datetime
    watching: int = Field(description="People watching now (incognito viewers are not counted).")
    countries: list[CountryAudience] = Field(description="The same people by country, most first.")
    friends: list[FriendWatching] | None = Field(
        description="Your friends among them whose activity you may see; null when anonymous."
    )
