"""Sports and news plays: following competitions, teams, outlets and programmes.

Fans follow one or two competitions of their sports (their own country's first) and a
favourite team, whose matches they watch live around kick-off or as a replay soon after.
News readers pick one to three outlets (local ones first, international ones more for English
speakers), listen to a daily programme or two, and read stories soon after publication.
"""

from __future__ import annotations

import numpy as np

from tastegraph.catalog.kinds import Domain
from tastegraph.demo.person import ENGLISH, NOTHING, Floats, Ints, Made, Person
from tastegraph.demo.sampling import draw, draw_distinct
from tastegraph.demo.shelf import Shelf

HOME_LEAGUE = 6.0
"""How much more a fan follows their own country's competition."""
FAVOURITE_TEAM = 25.0
"""The weight of the favourite team's matches against a match's general appeal."""
LIVE = 0.8
PROGRAMME_SHARE = 0.45
"""The share of news plays that are programmes (the rest are stories)."""
PROGRAMME_RHYTHMS = {"general": "briefing", "sport": "talk"}
STORY_SHELF_LIFE = 72 * 3600
"""How long after publication a story is still read."""


def sports_plays(shelf: Shelf, me: Person, n: int) -> Made:
    # Only sports the person's archetypes care about: curiosity does not make a fan.
    cared = me.mixture @ shelf.genre_matrix[Domain.SPORTS]
    genre = np.where(cared > 0, shelf.preference(me, Domain.SPORTS), 0.0)
    if genre.sum() <= 0:
        genre = cared + 1.0
    items: list[Ints] = []
    times: list[Ints] = []
    for sport, count in enumerate(me.gen.multinomial(n, genre / genre.sum()).tolist()):
        if count == 0:
            continue
        pool, weights = _followed_matches(shelf, me, sport)
        if len(pool) == 0:
            continue
        size = min(count, len(pool))
        picked = pool[draw_distinct(me.gen, weights, size)]
        live = me.gen.random(size) < LIVE
        delay = np.where(
            live,
            me.gen.integers(-600, 1200, size),  # tuning in around kick-off
            me.gen.integers(2 * 3600, 30 * 3600, size),  # the replay, later or the next day
        )
        items.append(picked)
        times.append(shelf.items.released[picked] + delay)
    if not items:
        return NOTHING
    item = np.concatenate(items)
    return item, np.concatenate(times), me.gen.uniform(0.5, 1.0, len(item))


def _followed_matches(shelf: Shelf, me: Person, sport: int) -> tuple[Ints, Floats]:
    sports = shelf.catalogue.sports
    leagues = [i for i, s in enumerate(sports.league_sport) if s == sport]
    appeal = np.asarray(
        [
            sports.league_appeal[i] * (HOME_LEAGUE if sports.league_country[i] == me.country else 1)
            for i in leagues
        ]
    )
    follow = draw_distinct(me.gen, appeal, 2)
    pools: list[Ints] = []
    weights: list[Floats] = []
    for rank, position in enumerate(follow.tolist()):
        league = leagues[position]
        matches = sports.league_matches[league]
        starts = shelf.items.released[matches]
        inside = (starts >= me.first_ts) & (starts < me.last_ts)
        weight = shelf.items.popularity[matches[inside]] * (1.0 if rank == 0 else 0.4)
        teams = sports.league_teams[league]
        if teams and rank == 0:
            pops = np.asarray([sports.team_popularity[t] for t in teams]) ** 0.7
            favourite = teams[int(draw(me.gen, pops, 1)[0])]
            involved = (sports.league_home[league][inside] == favourite) | (
                sports.league_away[league][inside] == favourite
            )
            weight = np.where(involved, FAVOURITE_TEAM, weight)
        pools.append(matches[inside])
        weights.append(weight)
    return np.concatenate(pools), np.concatenate(weights)


def news_plays(shelf: Shelf, me: Person, n: int) -> Made:
    news = shelf.catalogue.news
    genre = shelf.preference(me, Domain.NEWS)
    sizes = np.asarray(news.outlet_size)
    country = np.asarray(news.outlet_country)
    language = np.asarray(news.outlet_language)
    weights = sizes * np.where(country == me.country, 8.0, 0.05)
    weights *= np.where(language == me.language, 2.0, 1.0)
    weights += np.where(country < 0, sizes * (1.5 if me.language == ENGLISH else 0.4), 0.0)
    count = min(len(sizes), 1 + int(n > 30) + int(n > 120))
    outlets = draw_distinct(me.gen, weights, count)
    items: list[Ints] = []
    times: list[Ints] = []
    programmes = [p for o in outlets.tolist() for p in news.outlet_programmes[o]]
    if programmes:
        listens = round(n * PROGRAMME_SHARE)
        liked = np.asarray([genre[news.programme_genre[p]] for p in programmes])
        favourites = draw_distinct(me.gen, liked, 1 + int(n > 60))
        split = [listens] if len(favourites) == 1 else [listens - listens // 3, listens // 3]
        for favourite, plays in zip(favourites.tolist(), split, strict=True):
            programme = programmes[favourite]
            genre_name = news.genre_names[news.programme_genre[programme]]
            rhythm = PROGRAMME_RHYTHMS.get(genre_name, "news")
            editions = _one_a_day(me.moments(rhythm, 2 * plays + 4))
            times.append(editions[:plays])
            items.append(np.full(len(times[-1]), programme, dtype=np.int64))
    reads = n - sum(len(i) for i in items)
    story_items, story_times = _stories(shelf, me, outlets, weights[outlets], genre, reads)
    item = np.concatenate([*items, story_items])
    at = np.concatenate([*times, story_times])
    return item, at, me.gen.uniform(0.3, 1.0, len(item))


def _stories(
    shelf: Shelf, me: Person, outlets: Ints, weights: Floats, genre: Floats, reads: int
) -> tuple[Ints, Ints]:
    """Stories read at news-rhythm moments, each among those its outlet published in the
    hours before (another of the person's outlets when the first has nothing new)."""
    news = shelf.catalogue.news
    # The biggest international outlet is the last resort when one's own have nothing new.
    outlets = np.r_[outlets, int(np.argmax(news.outlet_size))]
    weights = np.r_[weights, 0.0]
    wanted = reads
    reads = 2 * wanted + 4  # more than needed: a story read twice counts once
    moments = me.moments("news", reads)
    first = draw(me.gen, weights, reads)
    uniform = me.gen.random(reads)
    found = np.zeros((len(outlets), reads), dtype=bool)
    picked = np.zeros((len(outlets), reads), dtype=np.int64)
    for row, outlet in enumerate(outlets.tolist()):
        published = news.outlet_published[outlet]
        stories = news.outlet_stories[outlet]
        # Inverse-CDF over the stories in [low, high): weighted by popularity and taste.
        liked = shelf.items.popularity[stories] * genre[shelf.news_genre[stories]]
        cumulative = np.r_[0.0, np.cumsum(liked)]
        low = np.searchsorted(published, moments - STORY_SHELF_LIFE)
        high = np.searchsorted(published, moments)
        target = cumulative[low] + uniform * (cumulative[high] - cumulative[low])
        index = np.clip(np.searchsorted(cumulative, target, side="right") - 1, low, high - 1)
        found[row] = high > low
        picked[row] = stories[np.clip(index, 0, len(stories) - 1)] if len(stories) else -1
    story = np.full(reads, -1, dtype=np.int64)
    columns = np.arange(reads)
    for attempt in range(len(outlets)):
        rows = (first + attempt) % len(outlets)
        take = (story < 0) & found[rows, columns]
        story[take] = picked[rows, columns][take]
    read = np.flatnonzero(story >= 0)
    _, once = np.unique(story[read], return_index=True)
    read = read[np.sort(once)][:wanted]
    return story[read], moments[read]


def _one_a_day(moments: Ints) -> Ints:
    """The first of the moments on each (UTC) day: a daily programme has one edition a day."""
    _, first = np.unique(moments // 86_400, return_index=True)
    kept: Ints = moments[np.sort(first)]
    return kept
