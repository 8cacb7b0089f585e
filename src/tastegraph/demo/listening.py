"""Music plays: listening sessions of favourite artists, albums in order or their hits.

A person has a handful to a hundred favourite artists, drawn by genre taste, popularity and
origin; the first drawn are the strongest, so listening concentrates on a few of them. A
session is one artist (now and then a discovery outside the favourites): an album from the
start, or a run of the artist's popular tracks, played back to back.
"""

from __future__ import annotations

import numpy as np

from tastegraph.catalog.kinds import Domain
from tastegraph.demo.person import Ints, Made, Person
from tastegraph.demo.sampling import draw, draw_distinct
from tastegraph.demo.shelf import Shelf

SESSION_TRACKS = 6.0
"""The mean number of tracks in a listening session."""
DISCOVERY = 0.12
ALBUM_SESSIONS = 0.35
COMPLETED = 0.86
"""The share of tracks played to the end; the others are skipped after half or more."""


def music_plays(shelf: Shelf, me: Person, n: int) -> Made:
    music = shelf.catalogue.music
    genre = shelf.preference(me, Domain.MUSIC)
    weights = (
        genre[shelf.artist_genre]
        * shelf.artist_popularity
        * me.local_factor(shelf.artist_country, shelf.artist_language)
    )
    p = weights / weights.sum()
    artists = len(p)
    k = min(artists, max(4, 4 + n // 25), 120)
    favourites = draw_distinct(me.gen, p, k)
    fav_weights = p[favourites] ** 0.5 / np.arange(1, k + 1) ** 0.6
    sessions = int(n / SESSION_TRACKS * 1.6) + 8
    chosen = np.where(
        me.gen.random(sessions) < DISCOVERY,
        draw(me.gen, p, sessions),
        favourites[draw(me.gen, fav_weights, sessions)],
    )
    lengths = me.gen.geometric(1 / SESSION_TRACKS, size=sessions)
    album_mode = me.gen.random(sessions) < ALBUM_SESSIONS
    starts = me.moments("music", sessions)
    items: list[int] = []
    session_of: list[int] = []
    rng = me.rng
    s = 0
    while len(items) < n:
        s %= sessions
        wanted = min(int(lengths[s]), n - len(items))
        artist = int(chosen[s])
        if album_mode[s]:
            albums = music.artist_albums[artist]
            pops = [music.album_popularity[a] for a in albums]
            tracks = music.album_tracks[rng.choices(albums, weights=pops)[0]]
            first = 0 if rng.random() < 0.7 else rng.randrange(len(tracks))
            run = tracks[first : first + wanted]
        else:
            pool = music.artist_tracks[artist]
            drawn = rng.choices(
                pool.tolist(), weights=shelf.track_weight[pool].tolist(), k=2 * wanted
            )
            run = list(dict.fromkeys(drawn))[:wanted]  # each track once per session
        items.extend(run)
        session_of.extend([s] * len(run))
        s += 1
    item = np.asarray(items, dtype=np.int64)
    session = np.asarray(session_of, dtype=np.int64)
    progress = np.where(me.gen.random(n) < COMPLETED, 1.0, me.gen.uniform(0.5, 0.95, n))
    step = np.round(shelf.items.duration[item] * progress).astype(np.int64)
    step += me.gen.integers(0, 12, n)  # a moment between tracks
    at = starts[session] + _offsets_within(session, step)
    return item, shelf.after_release(item, at), progress


def _offsets_within(session: Ints, step: Ints) -> Ints:
    """For plays grouped in consecutive sessions: seconds since the session's first play."""
    elapsed = np.cumsum(step) - step
    first = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    session_start = np.repeat(elapsed[first], np.diff(np.r_[first, len(session)]))
    offsets: Ints = elapsed - session_start
    return offsets
