"""Television and film plays.

Shows are watched in order, a few episodes an evening (binges are geometric), from the first
episode or, for a show on the air, from its latest season; an episode not aired yet waits for
the evening after it airs. A person who finishes a show (or catches up with it) moves on to
the next show they like. Films are single evenings, new releases only after release.
"""

from __future__ import annotations

import numpy as np

from tastegraph.catalog.kinds import Domain
from tastegraph.demo.person import Ints, Made, Person
from tastegraph.demo.sampling import draw_distinct
from tastegraph.demo.shelf import Shelf

DAY = 86_400
EPISODES_PER_SHOW = 14
BINGE_STOP = 0.55
"""The chance of stopping after each episode of an evening."""


def tv_plays(shelf: Shelf, me: Person, n: int) -> Made:
    genre = shelf.preference(me, Domain.TV)
    weights = (
        genre[shelf.show_genre]
        * shelf.show_popularity
        * me.local_factor(shelf.show_country, shelf.show_language)
    )
    candidates = min(len(weights), 40)
    order = draw_distinct(me.gen, weights, candidates)
    shows = min(candidates, n // EPISODES_PER_SHOW + 1)
    shares = 1.0 / np.arange(1, shows + 1) ** 0.9
    planned = me.gen.multinomial(n, shares / shares.sum())
    evenings = me.moments("tv", n)
    used_evenings = 0
    items: list[int] = []
    times: list[int] = []
    carry = 0
    for position, show in enumerate(order.tolist()):
        wanted = (int(planned[position]) if position < shows else 0) + carry
        if wanted == 0:
            if position >= shows:
                break
            continue
        run = _episodes_to_watch(shelf, me, show, wanted)
        starts = evenings[used_evenings : used_evenings + len(run)]
        used_evenings += len(run)
        if len(starts) < len(run):  # evenings used up by shows that ended early
            starts = me.moments("tv", len(run))
        starts = np.sort(starts)
        watched = _watch(shelf, me, run, starts, items, times)
        carry = wanted - watched
    item = np.asarray(items, dtype=np.int64)
    finished = me.gen.random(len(item)) < 0.9
    progress = np.where(finished, 1.0, me.gen.uniform(0.4, 0.95, len(item)))
    return item, np.asarray(times, dtype=np.int64), progress


def _episodes_to_watch(shelf: Shelf, me: Person, show: int, wanted: int) -> list[int]:
    tv = shelf.catalogue.tv
    episodes = tv.show_episodes[show]
    latest = tv.show_latest_season[show]
    on_air = shelf.items.released[episodes[latest]] > me.window.start_ts - 30 * DAY
    if on_air and me.rng.random() < 0.6:
        first = latest
    elif me.rng.random() < 0.75:
        first = 0
    else:
        first = me.rng.randrange(len(episodes))
    run: list[int] = episodes[first : first + wanted].tolist()
    return run


def _watch(
    shelf: Shelf, me: Person, run: list[int], starts: Ints, items: list[int], times: list[int]
) -> int:
    """Append the episodes of ``run`` watched in evenings from ``starts``; return how many."""
    released = shelf.items.released
    duration = shelf.items.duration
    end = me.window.end_ts
    binges = me.gen.geometric(BINGE_STOP, size=len(run))
    t = 0
    evening = 0
    left_tonight = 0
    watched = 0
    for episode in run:
        if left_tonight == 0:
            t = max(int(starts[evening]), t + 1800)
            left_tonight = int(binges[evening])
            evening += 1
        available = int(released[episode]) + 3600
        if t < available:
            t += DAY * ((available - t) // DAY + 1)  # the evening after it airs
        if t >= end:
            break
        items.append(episode)
        times.append(t)
        t += int(duration[episode]) + me.rng.randrange(60, 600)
        left_tonight -= 1
        watched += 1
    return watched


def film_plays(shelf: Shelf, me: Person, n: int) -> Made:
    genre = shelf.preference(me, Domain.FILM)
    films = shelf.films
    weights = (
        genre[shelf.film_genre]
        * shelf.items.popularity[films]
        * me.local_factor(shelf.items.country[films], shelf.items.language[films])
    )
    size = min(n, len(films))
    picked = films[draw_distinct(me.gen, weights, size)]
    rewatched = picked[me.gen.random(len(picked)) < 0.05]  # a few favourites, once more
    item: Ints = np.concatenate([picked, rewatched])
    at = shelf.after_release(item, me.moments("film", len(item)))
    finished = me.gen.random(len(item)) < 0.92
    return item, at, np.where(finished, 1.0, me.gen.uniform(0.2, 0.7, len(item)))
