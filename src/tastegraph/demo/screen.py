"""Television shows (seasons of episodes, some airing during the year) and films."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import partial

import numpy as np
from numpy.typing import NDArray

from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.schemas import EpisodeRef, FilmRef
from tastegraph.demo.config import DemoConfig, Window
from tastegraph.demo.flavours import FLAVOURS, Flavour
from tastegraph.demo.items import COUNTRY_INDEX, LANGUAGE_INDEX, ItemTable, moment
from tastegraph.demo.names import Namer, title_flavour
from tastegraph.demo.origins import Origins
from tastegraph.demo.rhythms import DAY
from tastegraph.demo.taste import GENRES
from tastegraph.locales import default_timezone, zone

SHOW_SHARE = {
    "drama": 20, "comedy": 18, "crime": 15, "sci-fi & fantasy": 10, "reality": 10,
    "documentary": 8, "k-drama": 8, "anime": 7, "telenovela": 4,
}  # fmt: skip
EPISODES_PER_SEASON = {
    "drama": (8, 10), "comedy": (10, 13), "crime": (6, 10), "sci-fi & fantasy": (8, 10),
    "reality": (10, 12), "documentary": (5, 8), "k-drama": (16, 16), "anime": (12, 13),
    "telenovela": (30, 40),
}  # fmt: skip
EPISODE_MINUTES = {
    "drama": 52, "comedy": 24, "crime": 58, "sci-fi & fantasy": 55, "reality": 44,
    "documentary": 50, "k-drama": 65, "anime": 24, "telenovela": 42,
}  # fmt: skip
AIR_EVERY_DAYS = {"k-drama": 3.5, "telenovela": 1.0}

FILM_SHARE = {
    "action": 15, "comedy": 15, "drama": 17, "arthouse": 8, "horror": 8, "science fiction": 8,
    "animation": 8, "documentary": 6, "romance": 8, "bollywood": 7,
}  # fmt: skip
FILM_MINUTES = {"bollywood": (150, 20), "documentary": (92, 12), "animation": (95, 10)}


@dataclass
class Television:
    genre_names: tuple[str, ...] = GENRES[Domain.TV]
    show_names: list[str] = field(default_factory=list)
    show_genre: list[int] = field(default_factory=list)
    show_country: list[int] = field(default_factory=list)
    show_language: list[int] = field(default_factory=list)
    show_popularity: list[float] = field(default_factory=list)
    show_episodes: list[NDArray[np.int64]] = field(default_factory=list)
    """Item indices of every episode, in watching order."""
    show_latest_season: list[int] = field(default_factory=list)
    """Where in ``show_episodes`` the latest season starts."""


@dataclass
class Films:
    genre_names: tuple[str, ...] = GENRES[Domain.FILM]
    items: list[int] = field(default_factory=list)
    genre: list[int] = field(default_factory=list)


def build_television(
    config: DemoConfig, window: Window, table: ItemTable, rng: random.Random
) -> Television:
    namer = Namer(rng)
    origins = Origins(rng)
    tv = Television()
    used: set[str] = set()
    total = config.scaled(300, 27)
    shares = sum(SHOW_SHARE.values())
    for genre_index, genre in enumerate(tv.genre_names):
        count = max(3, round(total * SHOW_SHARE[genre] / shares))
        ranks = list(range(count))
        rng.shuffle(ranks)
        for rank in ranks:
            country = origins.country(genre)
            language = origins.screen_language(genre, country)
            words = title_flavour(language, FLAVOURS[country.flavour])
            name = namer.unique(used, partial(namer.title, words))
            popularity = 1.0 / (rank + 1) ** 1.0
            tv.show_names.append(name)
            tv.show_genre.append(genre_index)
            tv.show_country.append(COUNTRY_INDEX[country.code])
            tv.show_language.append(LANGUAGE_INDEX.get(language, -1))
            tv.show_popularity.append(popularity)
            episodes, latest = _episodes(
                name, genre, country.code, language, popularity, window, table, namer, words
            )
            tv.show_episodes.append(np.asarray(episodes, dtype=np.int64))
            tv.show_latest_season.append(latest)
    return tv


def _episodes(
    show: str,
    genre: str,
    country: str,
    language: str,
    popularity: float,
    window: Window,
    table: ItemTable,
    namer: Namer,
    words: Flavour,
) -> tuple[list[int], int]:
    rng = namer.rng
    seasons = 1 + min(7, int(rng.expovariate(1.0 / (0.8 + 3 * popularity))))
    if genre == "telenovela":
        seasons = min(seasons, 2)
    low, high = EPISODES_PER_SEASON[genre]
    minutes = EPISODE_MINUTES[genre]
    titled = rng.random() < 0.4
    # A third of the shows are on the air: their latest season premieres during the year.
    airing = rng.random() < 0.35
    tz = zone(default_timezone(country))
    last_year = window.start.year - 1
    first_year = last_year - 2 * (seasons - 1) - rng.randrange(0, 8)
    items: list[int] = []
    latest = 0
    for season in range(1, seasons + 1):
        if season == seasons:
            latest = len(items)
        if airing and season == seasons:
            premiere = window.first_day + timedelta(days=rng.randrange(-40, window.days - 30))
        else:
            year = min(last_year, first_year + 2 * (season - 1))
            premiere = datetime(year, rng.randint(1, 10), rng.randint(1, 28)).date()
        step = AIR_EVERY_DAYS.get(genre, 7.0)
        for episode in range(1, rng.randint(low, high) + 1):
            day = premiere + timedelta(days=int((episode - 1) * step))
            aired = int(datetime.combine(day, time(21, 0), tzinfo=tz).timestamp())
            if aired >= window.end_ts:
                break  # the rest of the season has not aired yet
            duration = int(minutes * 60 * rng.uniform(0.92, 1.08))
            title = namer.title(words) if titled else None
            ref = EpisodeRef(
                kind=Kind.EPISODE,
                show=show,
                season=season,
                episode=episode,
                title=title,
                duration=duration,
                released_at=moment(aired),
                language=language,
                country=country,
            )
            items.append(
                table.add(
                    ref,
                    title=title or f"{show} S{season:02d}E{episode:02d}",
                    domain=Domain.TV,
                    genre=genre,
                    country=country,
                    language=language,
                    duration=duration,
                    released=aired,
                    popularity=popularity,
                )
            )
    return items, latest


def build_films(config: DemoConfig, window: Window, table: ItemTable, rng: random.Random) -> Films:
    namer = Namer(rng)
    origins = Origins(rng)
    films = Films()
    used: dict[int, set[str]] = {}
    total = config.scaled(1500, 60)
    shares = sum(FILM_SHARE.values())
    last_year = window.start.year
    for genre_index, genre in enumerate(films.genre_names):
        count = max(4, round(total * FILM_SHARE[genre] / shares))
        ranks = list(range(count))
        rng.shuffle(ranks)
        for rank in ranks:
            country = origins.country(genre)
            flavour = FLAVOURS[country.flavour]
            language = origins.screen_language(genre, country)
            words = title_flavour(language, flavour)
            new = rng.random() < 0.12
            if new:
                day = rng.randrange(0, window.days - 14)
                released = window.start_ts + day * DAY
                year = moment(released).year
            else:
                # Recent years are better represented than old ones, as in any catalogue.
                year = max(1950, last_year - int(rng.expovariate(1 / 12)))
                released = int(
                    datetime(year, rng.randint(1, 12), rng.randint(1, 28), tzinfo=UTC).timestamp()
                )
                released = min(released, window.start_ts - DAY)
            # Films are told apart by title and year: a title may come back in another year.
            title = namer.unique(used.setdefault(year, set()), partial(namer.title, words))
            mean, spread = FILM_MINUTES.get(genre, (108, 16))
            duration = max(70, int(rng.gauss(mean, spread))) * 60
            ref = FilmRef(
                kind=Kind.FILM,
                title=title,
                year=year,
                director=namer.person(flavour)[0],
                duration=duration,
                released_at=moment(released),
                language=language,
                country=country.code,
            )
            # New releases are what people watch; popularity also decays with age.
            age_factor = 3.0 if new else 1.0 / (1 + (last_year - year) / 8)
            films.items.append(
                table.add(
                    ref,
                    title=title,
                    domain=Domain.FILM,
                    genre=genre,
                    country=country.code,
                    language=language,
                    duration=duration,
                    released=released,
                    popularity=age_factor / (rank + 1) ** 0.9,
                )
            )
            films.genre.append(genre_index)
    return films
