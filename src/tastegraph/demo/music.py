"""Artists, albums and tracks: Zipf-popular within each genre, some released during the year."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

import numpy as np
from numpy.typing import NDArray

from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.schemas import TrackRef
from tastegraph.demo.config import DemoConfig, Window
from tastegraph.demo.countries import COUNTRIES
from tastegraph.demo.flavours import FLAVOURS
from tastegraph.demo.items import COUNTRY_INDEX, LANGUAGE_INDEX, LANGUAGES, ItemTable, moment
from tastegraph.demo.names import Namer, title_flavour
from tastegraph.demo.origins import Origins
from tastegraph.demo.rhythms import DAY
from tastegraph.demo.taste import GENRES

ARTIST_SHARE = {
    "pop": 16, "rock": 11, "indie": 9, "hip-hop": 10, "r&b": 6, "electronic": 8, "jazz": 5,
    "classical": 5, "metal": 5, "k-pop": 5, "j-pop": 4, "latin": 6, "country": 4,
    "schlager": 2, "afrobeats": 3, "filmi": 3,
}  # fmt: skip
# Mean and spread of track lengths in seconds.
TRACK_SECONDS = {
    "classical": (420, 180), "jazz": (330, 90), "metal": (290, 60), "electronic": (300, 80),
    "indie": (230, 40), "rock": (240, 45), "filmi": (270, 40), "k-pop": (205, 20),
}  # fmt: skip
FEATURING_GENRES = frozenset({"pop", "hip-hop", "r&b", "latin", "afrobeats", "electronic"})


@dataclass
class Music:
    genre_names: tuple[str, ...] = GENRES[Domain.MUSIC]
    artist_names: list[str] = field(default_factory=list)
    artist_genre: list[int] = field(default_factory=list)
    artist_country: list[int] = field(default_factory=list)
    artist_language: list[int] = field(default_factory=list)
    artist_popularity: list[float] = field(default_factory=list)
    artist_albums: list[list[int]] = field(default_factory=list)
    album_tracks: list[list[int]] = field(default_factory=list)
    """Item indices of each album's tracks, in order."""
    album_popularity: list[float] = field(default_factory=list)
    album_artist: list[int] = field(default_factory=list)
    artist_tracks: list[NDArray[np.int64]] = field(default_factory=list)

    def arrays(
        self,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        return (
            np.asarray(self.artist_genre, dtype=np.int64),
            np.asarray(self.artist_country, dtype=np.int64),
            np.asarray(self.artist_language, dtype=np.int64),
            np.asarray(self.artist_popularity, dtype=np.float64),
        )


def build_music(config: DemoConfig, window: Window, table: ItemTable, rng: random.Random) -> Music:
    namer = Namer(rng)
    origins = Origins(rng)
    music = Music()
    used_artists: set[str] = set()
    total = config.scaled(800, 48)
    shares = sum(ARTIST_SHARE.values())
    for genre_index, genre in enumerate(music.genre_names):
        count = max(3, round(total * ARTIST_SHARE[genre] / shares))
        first = len(music.artist_names)
        for rank in range(count):
            country = origins.country(genre)
            flavour = FLAVOURS[country.flavour]
            name = namer.unique(used_artists, partial(namer.artist, genre, flavour))
            music.artist_names.append(name)
            music.artist_genre.append(genre_index)
            music.artist_country.append(COUNTRY_INDEX[country.code])
            language = origins.music_language(genre, country)
            music.artist_language.append(LANGUAGE_INDEX.get(language or "", -1))
            # Zipf by rank within the genre: a few stars, a long tail.
            music.artist_popularity.append(1.0 / (rank + 1) ** 0.75)
            music.artist_albums.append([])
        # Ranks were assigned in creation order; shuffle so stars are not always first-made.
        order = list(range(first, len(music.artist_names)))
        pops = [music.artist_popularity[i] for i in order]
        rng.shuffle(pops)
        for i, pop in zip(order, pops, strict=True):
            music.artist_popularity[i] = pop
    for artist in range(len(music.artist_names)):
        _albums(music, artist, window, table, namer, rng)
    for artist in range(len(music.artist_names)):
        tracks = [t for album in music.artist_albums[artist] for t in music.album_tracks[album]]
        music.artist_tracks.append(np.asarray(tracks, dtype=np.int64))
    return music


def _albums(
    music: Music, artist: int, window: Window, table: ItemTable, namer: Namer, rng: random.Random
) -> None:
    genre = music.genre_names[music.artist_genre[artist]]
    country = COUNTRIES[music.artist_country[artist]]
    language_index = music.artist_language[artist]
    language = None if language_index < 0 else LANGUAGES[language_index]
    words = title_flavour(language or "en", FLAVOURS[country.flavour])
    name = music.artist_names[artist]
    star = music.artist_popularity[artist]
    count = 1 + min(6, int(rng.expovariate(1.0 / (0.6 + 4 * star))))
    # The latest album of a quarter of the artists comes out during the year of history.
    latest_in_window = rng.random() < 0.25
    end_year = window.start.year
    years = sorted(rng.sample(range(end_year - 18, end_year), k=min(count, 18)))
    used_titles: set[str] = set()
    ranks = list(range(count))
    rng.shuffle(ranks)
    for position in range(count):
        if latest_in_window and position == count - 1:
            day = rng.randrange(0, window.days - 7)
            released = window.start_ts + day * DAY
            released -= (moment(released).weekday() - 4) % 7 * DAY  # album days are Fridays
            released = max(released, window.start_ts)
        else:
            year = years[min(position, len(years) - 1)]
            released = int(
                datetime(year, rng.randint(1, 12), rng.randint(1, 28), tzinfo=UTC).timestamp()
            )
        album_title = namer.unique(used_titles, lambda: namer.title(words))
        popularity = 1.0 / (ranks[position] + 1) ** 0.8
        if position == count - 1:
            popularity *= 1.5  # the newest album is the one people are talking about
        album = len(music.album_tracks)
        music.album_artist.append(artist)
        music.album_popularity.append(popularity)
        music.artist_albums[artist].append(album)
        tracks = _track_count(genre, rng)
        singles = set(rng.sample(range(tracks), k=min(2, tracks)))
        mean, spread = TRACK_SECONDS.get(genre, (215, 35))
        items: list[int] = []
        for number in range(1, tracks + 1):
            title = namer.unique(used_titles, lambda: namer.title(words, variants=True))
            artist_credit = name
            if genre in FEATURING_GENRES and rng.random() < 0.08:
                guest = _guest(music, artist, rng)
                if guest is not None:
                    artist_credit = f"{name} feat. {guest}"
            duration = max(60, int(rng.gauss(mean, spread)))
            ref = TrackRef(
                kind=Kind.TRACK,
                title=title,
                artist=artist_credit,
                album=album_title,
                album_artist=name,
                track_number=number,
                duration=duration,
                released_at=moment(released),
                language=language,
                country=country.code,
            )
            track_pop = (3.0 if number - 1 in singles else 1.0) / number**0.3
            items.append(
                table.add(
                    ref,
                    title=title,
                    domain=Domain.MUSIC,
                    genre=genre,
                    country=country.code,
                    language=language,
                    duration=duration,
                    released=released,
                    popularity=track_pop,
                )
            )
        music.album_tracks.append(items)


def _track_count(genre: str, rng: random.Random) -> int:
    if genre == "k-pop":
        return rng.randint(4, 7)
    if genre == "classical":
        return rng.randint(3, 8)
    return rng.randint(7, 12)


def _guest(music: Music, artist: int, rng: random.Random) -> str | None:
    """Another artist of the same genre to feature, if one turns up quickly."""
    genre = music.artist_genre[artist]
    for _ in range(5):
        other = rng.randrange(len(music.artist_names))
        if other != artist and music.artist_genre[other] == genre:
            return music.artist_names[other]
    return None
