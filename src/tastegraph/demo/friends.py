"""Friendships with taste homophily: people befriend those who like what they like, nearby.

Each person asks about half of their target number of friends, choosing among everyone with a
weight that grows with shared archetypes, a shared country and a shared language, and with how
sociable the other person is. The union of the asked pairs is the friendship graph.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tastegraph.demo.people import People
from tastegraph.demo.sampling import draw_distinct

MEAN_FRIENDS = 10.0
DEMO_MIN_FRIENDS = 6


def befriend(people: People, seed: int) -> list[tuple[int, int]]:
    """Pairs of person indices (lower first), sorted."""
    gen = np.random.default_rng([seed, 2])
    n = len(people)
    if n < 2:
        return []
    mixture = people.mixture
    countries = people.country_index
    languages = people.language_index
    # Sociability: heavy-tailed too, and a little higher for active people.
    activity = np.log1p(people.plays) / np.log1p(np.median(people.plays))
    wanted = gen.lognormal(0.0, 0.6, n) * activity
    wanted = np.clip(np.round(wanted * MEAN_FRIENDS / wanted.mean()), 1, 80).astype(np.int64)
    wanted = np.minimum(wanted, n - 1)
    pairs: set[tuple[int, int]] = set()
    for person in range(n):
        asks = int((wanted[person] + 1) // 2)
        weights = _affinity(person, mixture, countries, languages) * wanted
        weights[person] = 0.0
        chosen = draw_distinct(gen, weights, min(asks, n - 1))
        for other in chosen:
            pairs.add((min(person, int(other)), max(person, int(other))))
    demo_friends = sum(1 for a, _ in pairs if a == 0)
    if demo_friends < DEMO_MIN_FRIENDS:
        closest = np.argsort(-_affinity(0, mixture, countries, languages), kind="stable")
        closest = closest[closest != 0]
        for other in closest[: DEMO_MIN_FRIENDS - demo_friends + 3].tolist():
            pairs.add((0, other))
    return sorted(pairs)


def _affinity(
    person: int,
    mixture: NDArray[np.float64],
    countries: NDArray[np.int64],
    languages: NDArray[np.int64],
) -> NDArray[np.float64]:
    shared_taste = mixture @ mixture[person]
    same_country = countries == countries[person]
    same_language = languages == languages[person]
    score = 3.5 * shared_taste + 1.8 * same_country + 0.5 * same_language
    affinity: NDArray[np.float64] = np.exp(score)
    return affinity


def shared_taste(people: People, pairs: list[tuple[int, int]]) -> float:
    """The mean archetype overlap of the pairs (for checks)."""
    if not pairs:
        return 0.0
    a = np.asarray([p[0] for p in pairs])
    b = np.asarray([p[1] for p in pairs])
    return float(np.mean(np.sum(people.mixture[a] * people.mixture[b], axis=1)))
