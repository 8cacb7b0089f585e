"""The catalogue as play generation weighs it: arrays per artist, show and film."""

from __future__ import annotations

import numpy as np

from tastegraph.catalog.kinds import Domain
from tastegraph.demo.catalogue import Catalogue
from tastegraph.demo.items import DOMAINS
from tastegraph.demo.person import Floats, Ints, Person
from tastegraph.demo.taste import ARCHETYPES, GENRES

CURIOSITY = 0.03
"""The share of genre weight spread over every genre: anyone may stumble on anything."""


class Shelf:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.items = catalogue.items
        self.genre_matrix = {domain: _genre_matrix(domain) for domain in DOMAINS}
        shares = np.asarray([[a.domains.get(d, 0.0) for d in DOMAINS] for a in ARCHETYPES])
        self.domain_matrix: Floats = shares / shares.sum(axis=1, keepdims=True)
        music = catalogue.music
        self.artist_genre, self.artist_country, self.artist_language, self.artist_popularity = (
            music.arrays()
        )
        album_weight = np.ones(len(self.items.popularity))
        for album, tracks in enumerate(music.album_tracks):
            album_weight[tracks] = music.album_popularity[album]
        self.track_weight: Floats = self.items.popularity * album_weight
        tv = catalogue.tv
        self.show_genre = np.asarray(tv.show_genre, dtype=np.int64)
        self.show_country = np.asarray(tv.show_country, dtype=np.int64)
        self.show_language = np.asarray(tv.show_language, dtype=np.int64)
        self.show_popularity = np.asarray(tv.show_popularity, dtype=np.float64)
        self.films: Ints = np.asarray(catalogue.films.items, dtype=np.int64)
        self.film_genre = np.asarray(catalogue.films.genre, dtype=np.int64)
        news_genres = {name: i for i, name in enumerate(catalogue.news.genre_names)}
        self.news_genre: Ints = np.asarray(
            [news_genres.get(g, 0) for g in catalogue.table.genres], dtype=np.int64
        )

    def preference(self, me: Person, domain: Domain) -> Floats:
        """Genre weights: the person's archetypes, a little curiosity, and personal noise."""
        base = me.mixture @ self.genre_matrix[domain]
        base = base + CURIOSITY * base.sum() / len(base) + 1e-9
        result: Floats = base * me.gen.gamma(3.0, 1 / 3.0, len(base))
        return result

    def after_release(self, item: Ints, at: Ints) -> Ints:
        """Plays of things not out yet move to the same local hour a week or more later
        (those that then leave the window are dropped with the rest)."""
        released = self.items.released[item]
        early = released > at
        moved = at.copy()
        moved[early] += 7 * 86_400 * ((released[early] - at[early]) // (7 * 86_400) + 1)
        return moved


def _genre_matrix(domain: Domain) -> Floats:
    names = GENRES[domain]
    matrix = np.zeros((len(ARCHETYPES), len(names)))
    for row, archetype in enumerate(ARCHETYPES):
        for genre, weight in archetype.genres.get(domain, {}).items():
            matrix[row, names.index(genre)] = weight
        total = matrix[row].sum()
        if total > 0:
            matrix[row] /= total
    return matrix
