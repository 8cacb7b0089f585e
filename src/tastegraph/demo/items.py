"""The table every playable demo item is registered in, with what play generation needs.

Items are addressed by their position in the table (an "item index") until the catalogue has
resolved them to database ids. Attributes live in flat lists and become numpy arrays once the
table is complete, so that per-user choices can be weighted without Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from tastegraph.catalog.kinds import Domain
from tastegraph.catalog.schemas import (
    EpisodeRef,
    FilmRef,
    MatchRef,
    ProgrammeRef,
    StoryRef,
    TrackRef,
)
from tastegraph.demo.countries import COUNTRIES

DemoRef = TrackRef | EpisodeRef | FilmRef | MatchRef | ProgrammeRef | StoryRef

COUNTRY_INDEX: dict[str, int] = {c.code: i for i, c in enumerate(COUNTRIES)}
LANGUAGES: tuple[str, ...] = (
    "en", "de", "fr", "es", "pt", "it", "nl", "sv", "nb", "da", "fi", "pl", "tr", "ru", "ja",
    "ko", "hi", "id", "ca", "fil", "af",
)  # fmt: skip
LANGUAGE_INDEX: dict[str, int] = {code: i for i, code in enumerate(LANGUAGES)}
DOMAINS: tuple[Domain, ...] = tuple(Domain)
DOMAIN_INDEX: dict[Domain, int] = {d: i for i, d in enumerate(DOMAINS)}


def moment(ts: int) -> datetime:
    return datetime.fromtimestamp(int(ts), UTC)


@dataclass
class ItemTable:
    refs: list[DemoRef] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)
    _domain: list[int] = field(default_factory=list)
    _country: list[int] = field(default_factory=list)
    _language: list[int] = field(default_factory=list)
    _duration: list[int] = field(default_factory=list)
    _released: list[int] = field(default_factory=list)
    _popularity: list[float] = field(default_factory=list)

    def add(
        self,
        ref: DemoRef,
        *,
        title: str,
        domain: Domain,
        genre: str,
        country: str | None,
        language: str | None,
        duration: int,
        released: int,
        popularity: float = 1.0,
    ) -> int:
        self.refs.append(ref)
        self.titles.append(title)
        self.genres.append(genre)
        self._domain.append(DOMAIN_INDEX[domain])
        self._country.append(COUNTRY_INDEX.get(country or "", -1))
        self._language.append(LANGUAGE_INDEX.get(language or "", -1))
        self._duration.append(duration)
        self._released.append(released)
        self._popularity.append(popularity)
        return len(self.refs) - 1

    def __len__(self) -> int:
        return len(self.refs)

    def freeze(self) -> ItemArrays:
        return ItemArrays(
            domain=np.asarray(self._domain, dtype=np.int64),
            country=np.asarray(self._country, dtype=np.int64),
            language=np.asarray(self._language, dtype=np.int64),
            duration=np.asarray(self._duration, dtype=np.int64),
            released=np.asarray(self._released, dtype=np.int64),
            popularity=np.asarray(self._popularity, dtype=np.float64),
        )


@dataclass(frozen=True)
class ItemArrays:
    domain: NDArray[np.int64]
    country: NDArray[np.int64]
    """Index into COUNTRIES, -1 for none."""
    language: NDArray[np.int64]
    """Index into LANGUAGES, -1 for none (instrumental music)."""
    duration: NDArray[np.int64]
    released: NDArray[np.int64]
    """Release, first air, start or publication time (UNIX seconds)."""
    popularity: NDArray[np.float64]
    """Relative popularity within the item's group (its genre, artist or album)."""
