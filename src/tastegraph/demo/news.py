"""News outlets, their daily programmes, and a year of stories published at local hours."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import numpy as np
from numpy.typing import NDArray

from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.schemas import ProgrammeRef, StoryRef
from tastegraph.demo.config import DemoConfig, Window
from tastegraph.demo.countries import BY_CODE, COUNTRIES, CountryProfile
from tastegraph.demo.flavours import FLAVOURS, Flavour
from tastegraph.demo.headlines import NewsLanguage, news_language
from tastegraph.demo.items import COUNTRY_INDEX, LANGUAGE_INDEX, LANGUAGES, ItemTable, moment
from tastegraph.demo.names import Namer, ascii_handle
from tastegraph.demo.sports import Sports
from tastegraph.demo.taste import GENRES
from tastegraph.locales import default_timezone, zone

STORY_MIX = {
    "general": 0.3, "business": 0.14, "sport": 0.2, "technology": 0.12, "culture": 0.14,
    "science": 0.1,
}  # fmt: skip
PROGRAMME_MINUTES = {"general": 25, "sport": 55, "business": 20, "technology": 35}
INTERNATIONAL = (("Meridian World News", "GB"), ("Global Wire", "US"), ("The Atlas Report", "US"))


@dataclass
class News:
    genre_names: tuple[str, ...] = GENRES[Domain.NEWS]
    outlet_names: list[str] = field(default_factory=list)
    outlet_country: list[int] = field(default_factory=list)
    """-1 for international outlets."""
    outlet_language: list[int] = field(default_factory=list)
    outlet_size: list[float] = field(default_factory=list)
    outlet_programmes: list[list[int]] = field(default_factory=list)
    outlet_stories: list[NDArray[np.int64]] = field(default_factory=list)
    """Item indices by publication time."""
    outlet_published: list[NDArray[np.int64]] = field(default_factory=list)
    programme_genre: dict[int, int] = field(default_factory=dict)


def build_news(
    config: DemoConfig, window: Window, table: ItemTable, sports: Sports, rng: random.Random
) -> News:
    namer = Namer(rng)
    news = News()
    used: set[str] = set()
    outlets: list[tuple[str, CountryProfile, str, float]] = []
    for name, code in INTERNATIONAL:
        used.add(name.casefold())
        outlets.append((name, BY_CODE[code], "en", 3.0))
    for country in COUNTRIES:
        language, words = news_language(country.language)
        for number in range(country.outlets):
            if number == 1:
                place = namer.place(FLAVOURS[country.flavour])[0]
                name = words.paper.format(c=place)
                size = 1.0
            else:
                initials = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
                name = (
                    f"{initials} {words.news_word}" if words.spaced else initials + words.news_word
                )
                size = 2.0
            if name.casefold() in used:
                continue
            used.add(name.casefold())
            outlets.append((name, country, language, size))
    for name, country, language, size in outlets:
        international = len(news.outlet_names) < len(INTERNATIONAL)
        _outlet(news, name, country, language, size, international, table, rng)
    total = config.scaled(9000, 300)
    sizes = np.asarray(news.outlet_size)
    counts = np.maximum(3, np.round(total * sizes / sizes.sum())).astype(int)
    for outlet, count in enumerate(counts):
        _stories(news, outlet, int(count), window, table, sports, namer)
    return news


def _outlet(
    news: News,
    name: str,
    country: CountryProfile,
    language: str,
    size: float,
    international: bool,
    table: ItemTable,
    rng: random.Random,
) -> None:
    words = news_language(language)[1]
    news.outlet_names.append(name)
    news.outlet_country.append(-1 if international else COUNTRY_INDEX[country.code])
    news.outlet_language.append(LANGUAGE_INDEX[language])
    news.outlet_size.append(size)
    programmes: list[int] = []
    for genre, title in words.programmes.items():
        if genre not in ("general", "sport") and not international and rng.random() < 0.5:
            continue
        duration = PROGRAMME_MINUTES.get(genre, 30) * 60
        ref = ProgrammeRef(
            kind=Kind.PROGRAMME,
            outlet=name,
            title=title,
            duration=duration,
            language=language,
            country=country.code,
        )
        item = table.add(
            ref,
            title=title,
            domain=Domain.NEWS,
            genre=genre,
            country=None if international else country.code,
            language=language,
            duration=duration,
            released=0,
            popularity=size,
        )
        news.programme_genre[item] = news.genre_names.index(genre)
        programmes.append(item)
    news.outlet_programmes.append(programmes)


def _stories(
    news: News,
    outlet: int,
    count: int,
    window: Window,
    table: ItemTable,
    sports: Sports,
    namer: Namer,
) -> None:
    rng = namer.rng
    name = news.outlet_names[outlet]
    country_index = news.outlet_country[outlet]
    country = COUNTRIES[country_index] if country_index >= 0 else None
    language = LANGUAGES[news.outlet_language[outlet]]
    words = news_language(language)[1]
    flavour = FLAVOURS[country.flavour if country else "en"]
    tz = zone(default_timezone(country.code if country else "GB"))
    slug = ascii_handle(name) or f"outlet{outlet}"
    programmes = {
        news.genre_names[news.programme_genre[p]]: p for p in news.outlet_programmes[outlet]
    }
    genres = tuple(STORY_MIX)
    teams = _local_teams(sports, country_index)
    rows: list[tuple[int, int]] = []
    for number in range(count):
        genre = rng.choices(genres, weights=tuple(STORY_MIX.values()))[0]
        day = window.first_day + timedelta(days=rng.randrange(window.days))
        # Newsrooms publish from early morning to the evening, most before noon.
        hour = min(21, 5 + int(rng.expovariate(1 / 5)))
        local = datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=tz)
        published = int(local.timestamp())
        if not window.start_ts <= published < window.end_ts:
            continue
        title = _headline(words, genre, flavour, teams, namer)
        programme = programmes.get(genre) if rng.random() < 0.25 else None
        duration = rng.randint(90, 600)
        ref = StoryRef(
            kind=Kind.STORY,
            outlet=name,
            title=title,
            programme=table.titles[programme] if programme is not None else None,
            url=f"https://{slug}.example/{day.isoformat().replace('-', '/')}/{number}",
            duration=duration,
            released_at=moment(published),
            language=language,
            country=country.code if country else None,
        )
        item = table.add(
            ref,
            title=title,
            domain=Domain.NEWS,
            genre=genre,
            country=country.code if country else None,
            language=language,
            duration=duration,
            released=published,
            popularity=rng.paretovariate(1.6),
        )
        rows.append((published, item))
    rows.sort()
    news.outlet_published.append(np.asarray([r[0] for r in rows], dtype=np.int64))
    news.outlet_stories.append(np.asarray([r[1] for r in rows], dtype=np.int64))


def _local_teams(sports: Sports, country_index: int) -> list[str]:
    """The teams a sports desk writes about: its country's, else the English league's."""
    for wanted in (country_index, COUNTRY_INDEX["GB"]):
        teams = [
            sports.team_names[team]
            for league, teams_of in enumerate(sports.league_teams)
            if sports.league_country[league] == wanted
            for team in teams_of
        ]
        if len(teams) >= 2:
            return teams
    return []


def _headline(
    words: NewsLanguage, genre: str, flavour: Flavour, teams: list[str], namer: Namer
) -> str:
    rng = namer.rng
    if genre == "sport" and words.sport_templates and teams:
        home, away = rng.sample(teams, 2)
        return rng.choice(words.sport_templates).format(h=home, a=away)
    place = namer.place(flavour)[0]
    person = namer.person(flavour)[0]
    text = rng.choice(words.templates).format(c=place, p=person, t=rng.choice(words.topics))
    return text[0].upper() + text[1:]
