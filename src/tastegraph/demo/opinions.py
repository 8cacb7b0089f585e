"""Loves, hates and tags, drawn from what each person actually played.

People love things they came back to, hate a few things they tried once, and a minority tag
their favourite artists, shows and films with genres, moods and origins (the folksonomy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from tastegraph.catalog.kinds import Domain
from tastegraph.demo.catalogue import Catalogue
from tastegraph.demo.countries import COUNTRIES
from tastegraph.demo.items import DOMAIN_INDEX
from tastegraph.demo.plays import PlayLog
from tastegraph.demo.sampling import draw_distinct

Ints = NDArray[np.int64]

DESCRIPTORS: dict[Domain, tuple[str, ...]] = {
    Domain.MUSIC: (
        "chill", "melancholic", "upbeat", "seen live", "favourites", "driving", "workout",
        "rainy day", "summer", "late night", "love songs", "female vocalists", "guitar",
    ),
    Domain.TV: ("binge-worthy", "slow burn", "comfort watch", "dark", "funny", "must watch"),
    Domain.FILM: ("classic", "overrated", "must see", "feel good", "mind-bending", "stunning"),
}  # fmt: skip
ADJECTIVES = {
    "US": "american", "GB": "british", "DE": "german", "BR": "brazilian", "JP": "japanese",
    "FR": "french", "MX": "mexican", "KR": "korean", "IN": "indian", "ES": "spanish",
    "IT": "italian", "CA": "canadian", "AU": "australian", "NL": "dutch", "PL": "polish",
    "SE": "swedish", "AR": "argentinian", "TR": "turkish", "ID": "indonesian", "RU": "russian",
    "NO": "norwegian", "FI": "finnish", "AT": "austrian", "NG": "nigerian", "CO": "colombian",
    "IE": "irish", "DK": "danish",
}  # fmt: skip


class Target(StrEnum):
    ITEM = "item"
    ARTIST = "artist"
    SHOW = "show"


@dataclass
class Opinions:
    loves: list[tuple[int, int, int]] = field(default_factory=list)
    """(person, item index, when): loved right after the last play of it."""
    hates: list[tuple[int, int, int]] = field(default_factory=list)
    tags: list[tuple[int, Target, int, tuple[str, ...]]] = field(default_factory=list)
    """(person, what is tagged, its index, tag names)."""


def form_opinions(catalogue: Catalogue, log: PlayLog, people: int, seed: int) -> Opinions:
    gen = np.random.default_rng([seed, 4])
    opinions = Opinions()
    domain = catalogue.items.domain
    lovable = np.isin(
        domain, [DOMAIN_INDEX[d] for d in (Domain.MUSIC, Domain.TV, Domain.FILM, Domain.SPORTS)]
    )
    owners = _owners(catalogue)
    bounds = np.searchsorted(log.user, np.arange(people + 1))
    for person in range(people):
        items = log.item[bounds[person] : bounds[person + 1]]
        if len(items) == 0:
            continue
        # Reversed, so that the index unique() reports is that of the last play.
        played, last, counts = np.unique(items[::-1], return_index=True, return_counts=True)
        last_at = log.at[bounds[person] : bounds[person + 1]][::-1][last]
        _love_and_hate(gen, opinions, person, played, counts, last_at, lovable)
        if gen.random() < min(0.7, 0.08 + len(items) / 2000):
            _tag(gen, opinions, catalogue, owners, person, played, counts)
    return opinions


def _love_and_hate(
    gen: np.random.Generator,
    opinions: Opinions,
    person: int,
    played: Ints,
    counts: Ints,
    last_at: Ints,
    lovable: NDArray[np.bool_],
) -> None:
    again = lovable[played] & (counts >= 2)
    loves = min(int(gen.poisson(0.4 + counts.sum() / 120)), 25, int(again.sum()))
    if loves:
        weights = np.where(again, counts.astype(np.float64), 0.0)
        for i in draw_distinct(gen, weights, loves).tolist():
            opinions.loves.append((person, int(played[i]), int(last_at[i]) + 60))
    once = lovable[played] & (counts == 1)
    if gen.random() < 0.12 and once.any():
        hates = min(int(gen.integers(1, 4)), int(once.sum()))
        weights = once.astype(np.float64)
        for i in draw_distinct(gen, weights, hates).tolist():
            opinions.hates.append((person, int(played[i]), int(last_at[i]) + 60))


def _owners(catalogue: Catalogue) -> tuple[Ints, Ints]:
    """The artist of each track and the show of each episode (-1 elsewhere)."""
    size = len(catalogue.table)
    artist = np.full(size, -1, dtype=np.int64)
    for album, tracks in enumerate(catalogue.music.album_tracks):
        artist[tracks] = catalogue.music.album_artist[album]
    show = np.full(size, -1, dtype=np.int64)
    for index, episodes in enumerate(catalogue.tv.show_episodes):
        show[episodes] = index
    return artist, show


def _tag(
    gen: np.random.Generator,
    opinions: Opinions,
    catalogue: Catalogue,
    owners: tuple[Ints, Ints],
    person: int,
    played: Ints,
    counts: Ints,
) -> None:
    artist_of, show_of = owners
    targets: dict[tuple[Target, int], float] = {}
    for item, count in zip(played.tolist(), counts.tolist(), strict=True):
        if artist_of[item] >= 0:
            key = (Target.ARTIST, int(artist_of[item]))
        elif show_of[item] >= 0:
            key = (Target.SHOW, int(show_of[item]))
        elif catalogue.items.domain[item] == DOMAIN_INDEX[Domain.FILM]:
            key = (Target.ITEM, item)
        else:
            continue
        targets[key] = targets.get(key, 0.0) + count
    if not targets:
        return
    keys = list(targets)
    wanted = min(len(keys), 1 + int(gen.geometric(0.25)), 12)
    picks = draw_distinct(gen, np.asarray([targets[k] for k in keys]), wanted)
    for pick in picks.tolist():
        target, index = keys[pick]
        tags = _tags_for(gen, catalogue, target, index)
        opinions.tags.append((person, target, index, tags))


def _tags_for(
    gen: np.random.Generator, catalogue: Catalogue, target: Target, index: int
) -> tuple[str, ...]:
    if target is Target.ARTIST:
        music = catalogue.music
        domain = Domain.MUSIC
        genre = music.genre_names[music.artist_genre[index]]
        country = COUNTRIES[music.artist_country[index]].code
    elif target is Target.SHOW:
        tv = catalogue.tv
        domain = Domain.TV
        genre = tv.genre_names[tv.show_genre[index]]
        country = COUNTRIES[tv.show_country[index]].code
    else:
        domain = Domain.FILM
        genre = catalogue.table.genres[index]
        country = COUNTRIES[int(catalogue.items.country[index])].code
    tags = [genre] if gen.random() < 0.85 else []
    descriptors = DESCRIPTORS[domain]
    for _ in range(int(gen.integers(0, 3))):
        tags.append(descriptors[int(gen.integers(len(descriptors)))])
    if country in ADJECTIVES and gen.random() < 0.25:
        tags.append(ADJECTIVES[country])
    return tuple(dict.fromkeys(tags)) or (genre,)
