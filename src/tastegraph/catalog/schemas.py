"""What clients send to name an item, and what they get back."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from tastegraph.catalog.kinds import CreditRole, Domain, IdScheme, Kind
from tastegraph.catalog.models import Offer
from tastegraph.locales import normalize_country, normalize_locale
from tastegraph.text import Name, check_text

_strict = ConfigDict(extra="forbid")

_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")
_IMDB = re.compile(r"^(tt|nm|co)\d{5,10}$")
_SCHEME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")


def check_external_id(scheme: str, value: str) -> str:
    """Validate and canonicalise an external id; unknown schemes are free-form."""
    check_text(value)
    value = value.strip()
    if scheme == IdScheme.MUSICBRAINZ:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a MusicBrainz id (a UUID)") from None
    if scheme == IdScheme.ISRC:
        value = value.replace("-", "").upper()
        if not _ISRC.match(value):
            raise ValueError(f"{value!r} is not an ISRC (CC-XXX-YY-NNNNN)")
    elif scheme == IdScheme.IMDB:
        if not _IMDB.match(value):
            raise ValueError(f"{value!r} is not an IMDb id (tt1234567)")
    elif scheme in (IdScheme.TMDB, IdScheme.TVDB):
        if not value.isdigit():
            raise ValueError(f"{value!r} is not a numeric {scheme} id")
    elif not _SCHEME.match(scheme):
        raise ValueError(f"{scheme!r} is not a valid id scheme (lower-case, 2-32 characters)")
    if not value or len(value) > 255:
        raise ValueError("external ids are 1 to 255 characters")
    return value


def _check_ids(ids: dict[str, str]) -> dict[str, str]:
    if len(ids) > 20:
        raise ValueError("at most 20 external ids per item")
    return {scheme: check_external_id(scheme, value) for scheme, value in ids.items()}


ExternalIds = Annotated[dict[str, str], AfterValidator(_check_ids)]
Country = Annotated[str, AfterValidator(normalize_country)]
Language = Annotated[str, AfterValidator(normalize_locale)]
Artists = Annotated[list[Name], Field(min_length=1, max_length=20)]


class _Common(BaseModel):
    model_config = _strict

    ids: ExternalIds = Field(
        default_factory=dict,
        description="External ids by scheme: musicbrainz, isrc, imdb, tmdb, tvdb, url, "
        "or a scheme of your own.",
    )
    duration: int | None = Field(default=None, gt=0, le=2_073_600, description="Seconds.")
    released_at: AwareDatetime | None = None
    language: Language | None = None
    country: Country | None = None


class TrackRef(_Common):
    kind: Literal[Kind.TRACK]
    title: Name
    artist: Name | Artists = Field(
        description='One artist string ("Beyoncé feat. JAY-Z") or a list of main artists.'
    )
    album: Name | None = None
    album_artist: Name | None = None
    track_number: int | None = Field(default=None, ge=0, le=10_000)


class EpisodeRef(_Common):
    kind: Literal[Kind.EPISODE]
    show: Name
    season: int | None = Field(default=None, ge=0, le=10_000)
    episode: int | None = Field(default=None, ge=0, le=100_000)
    title: Name | None = None

    @model_validator(mode="after")
    def _named(self) -> EpisodeRef:
        if self.episode is None and self.title is None:
            raise ValueError("an episode needs a number or a title")
        return self


class FilmRef(_Common):
    kind: Literal[Kind.FILM]
    title: Name
    year: int | None = Field(default=None, ge=1870, le=2100)
    director: Name | None = None


class MatchRef(_Common):
    kind: Literal[Kind.MATCH]
    competition: Name | None = None
    home: Name | None = None
    away: Name | None = None
    title: Name | None = None
    starts_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _named(self) -> MatchRef:
        if not ((self.home and self.away) or self.title):
            raise ValueError("a match needs home and away teams, or a title")
        if self.home and self.away and self.starts_at is None and self.title is None:
            # Teams meet many times: without a date the match would be ambiguous.
            raise ValueError("a match between two teams needs starts_at")
        return self


class ProgrammeRef(_Common):
    kind: Literal[Kind.PROGRAMME]
    outlet: Name
    title: Name


class StoryRef(_Common):
    kind: Literal[Kind.STORY]
    outlet: Name
    title: Name
    programme: Name | None = None
    url: Annotated[str, Field(max_length=2048)] | None = None


ItemRef = Annotated[
    TrackRef | EpisodeRef | FilmRef | MatchRef | ProgrammeRef | StoryRef,
    Field(discriminator="kind"),
]
"""A description of something played. The catalogue finds it, or creates it."""


class ItemBrief(BaseModel):
    id: int
    kind: Kind
    title: str
    url: str
    context: str | None = Field(
        default=None,
        description="Who or what the item belongs to: the artists of a track, the show of an "
        "episode, the competition of a match, the outlet of a story.",
    )
    available: bool | None = Field(
        default=None,
        description="Whether the viewer can watch or listen to it in their country now, where "
        "the list shows what history requires (plays, charts); null where not evaluated.",
    )


class OfferOut(BaseModel):
    kind: Offer
    until: datetime | None = Field(description="When this offer ends; null: open-ended.")
    audio_languages: list[str]
    subtitle_languages: list[str]


class AvailabilityOut(BaseModel):
    """The item in the viewer's country at this moment."""

    country: str | None = Field(description="The viewer's country; null when unknown.")
    available: bool
    offers: list[OfferOut]
    audio_languages: list[str]
    subtitle_languages: list[str]
    available_from: datetime | None = Field(
        default=None, description="When a grant opens next, while the item is unavailable."
    )
    blackout_until: datetime | None = Field(
        default=None, description="When a live blackout in force ends."
    )


class CreditOut(ItemBrief):
    role: CreditRole


class ItemOut(ItemBrief):
    domain: Domain
    original_title: str = Field(description="The title in the item's own language.")
    title_language: str | None = Field(
        default=None, description="The language of `title` when it is a translation."
    )
    description: str | None = None
    original_description: str | None = None
    availability: AvailabilityOut | None = None
    parent: ItemBrief | None
    credits: list[CreditOut]
    number: int | None
    duration_seconds: int | None
    released_at: datetime | None
    original_language: str | None
    country: str | None
    external_ids: dict[str, list[str]]
    tags: list[str]
    aliases: list[str]


class ItemPage(BaseModel):
    items: list[ItemOut]


class MergeIn(BaseModel):
    model_config = _strict

    into: int = Field(description="The id of the item that survives.")


class AliasIn(BaseModel):
    model_config = _strict

    title: Name


class ExternalIdIn(BaseModel):
    model_config = _strict

    scheme: Annotated[str, Field(min_length=2, max_length=32)]
    value: Annotated[str, Field(min_length=1, max_length=255)]

    @model_validator(mode="after")
    def _valid(self) -> ExternalIdIn:
        self.value = check_external_id(self.scheme, self.value)
        return self


class TagsIn(BaseModel):
    model_config = _strict

    tags: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=50)]
