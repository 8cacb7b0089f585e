"""The latent tastes behind the community: genres per domain and the archetypes that mix them.

An archetype ties kinds together ("a football fan also listens to sports talk and reads the sport
pages"), which is what makes cross-domain recommendations and neighbours meaningful on the demo.
Every user is a mixture of one to three archetypes.
"""

from __future__ import annotations

from dataclasses import dataclass

from tastegraph.catalog.kinds import Domain

# fmt: off
GENRES: dict[Domain, tuple[str, ...]] = {
    Domain.MUSIC: (
        "pop", "rock", "indie", "hip-hop", "r&b", "electronic", "jazz", "classical", "metal",
        "k-pop", "j-pop", "latin", "country", "schlager", "afrobeats", "filmi",
    ),
    Domain.TV: (
        "drama", "comedy", "crime", "sci-fi & fantasy", "reality", "documentary", "k-drama",
        "anime", "telenovela",
    ),
    Domain.FILM: (
        "action", "comedy", "drama", "arthouse", "horror", "science fiction", "animation",
        "documentary", "romance", "bollywood",
    ),
    Domain.SPORTS: (
        "football", "american football", "basketball", "baseball", "ice hockey", "cricket",
        "motorsport",
    ),
    Domain.NEWS: ("general", "business", "sport", "technology", "culture", "science"),
}

ORIGINS: dict[str, dict[str, float]] = {
    # Genres made in particular places; genres missing here are made everywhere, in
    # proportion to each country's production weight.
    "hip-hop": {"US": 6, "GB": 1.2, "FR": 1.2, "DE": 1, "CA": 0.6, "NG": 0.4, "BR": 0.4},
    "r&b": {"US": 6, "GB": 1.5, "NG": 0.5, "CA": 0.6, "FR": 0.3},
    "electronic": {"DE": 2, "GB": 2, "NL": 1.6, "FR": 1.2, "SE": 1, "US": 1.5, "BE": 0.6},
    "jazz": {"US": 5, "FR": 1, "NO": 1, "SE": 0.6, "JP": 0.6, "BR": 0.8, "GB": 0.8},
    "classical": {"DE": 2.5, "AT": 1.5, "IT": 1.5, "FR": 1, "RU": 1.5, "GB": 1, "PL": 1},
    "metal": {"SE": 2, "FI": 2, "NO": 1, "DE": 2, "US": 2, "GB": 1, "BR": 0.5, "PL": 0.5},
    "k-pop": {"KR": 1},
    "j-pop": {"JP": 1},
    "latin": {"MX": 2.5, "CO": 2, "ES": 1.5, "AR": 1, "US": 1, "CL": 0.5, "BR": 1},
    "country": {"US": 9, "CA": 0.6, "AU": 0.5},
    "schlager": {"DE": 7, "AT": 2, "CH": 1},
    "afrobeats": {"NG": 7, "ZA": 2, "GB": 1},
    "filmi": {"IN": 1},
    "k-drama": {"KR": 1},
    "anime": {"JP": 1},
    "telenovela": {"MX": 3, "BR": 3, "CO": 2, "AR": 1, "TR": 2},
    "crime": {"GB": 3, "US": 4, "DE": 2, "SE": 1.5, "DK": 1, "NO": 1, "FR": 1.2},
    "bollywood": {"IN": 1},
    "arthouse": {"FR": 3, "IT": 1.5, "DE": 1.2, "KR": 1, "JP": 1, "US": 1.5, "ES": 0.8, "DK": 0.6},
}
# fmt: on


@dataclass(frozen=True)
class Archetype:
    key: str
    prior: float
    """How common the archetype is before country biases."""
    domains: dict[Domain, float]
    """The share of plays in each domain."""
    genres: dict[Domain, dict[str, float]]
    birth_year: int
    """The typical birth year, for realistic ages."""


def _a(
    key: str,
    prior: float,
    birth_year: int,
    domains: dict[Domain, float],
    **genres: dict[str, float],
) -> Archetype:
    return Archetype(
        key=key,
        prior=prior,
        domains=domains,
        genres={Domain(name): weights for name, weights in genres.items()},
        birth_year=birth_year,
    )


# fmt: off
M, T, F, S, N = Domain.MUSIC, Domain.TV, Domain.FILM, Domain.SPORTS, Domain.NEWS

ARCHETYPES: tuple[Archetype, ...] = (
    _a("football", 0.12, 1988, {M: 0.33, T: 0.1, F: 0.05, S: 0.3, N: 0.22},
       music={"pop": 3, "hip-hop": 3, "rock": 2, "electronic": 2, "latin": 1},
       tv={"reality": 2, "comedy": 3, "crime": 3, "documentary": 2},
       film={"action": 5, "comedy": 4, "documentary": 1},
       sports={"football": 8, "motorsport": 1.5},
       news={"sport": 7, "general": 3}),
    _a("jazz", 0.05, 1972, {M: 0.7, T: 0.06, F: 0.12, N: 0.12},
       music={"jazz": 13, "classical": 3, "r&b": 2, "indie": 2},
       tv={"documentary": 5, "drama": 5},
       film={"arthouse": 6, "drama": 3, "documentary": 2},
       news={"culture": 6, "general": 4}),
    _a("kpop", 0.06, 2003, {M: 0.6, T: 0.3, F: 0.07, N: 0.03},
       music={"k-pop": 15, "pop": 3, "j-pop": 2},
       tv={"k-drama": 8, "anime": 1, "reality": 1},
       film={"romance": 5, "animation": 3, "comedy": 2},
       news={"culture": 1}),
    _a("indie", 0.1, 1994, {M: 0.72, T: 0.1, F: 0.09, N: 0.09},
       music={"indie": 11, "rock": 4, "electronic": 3, "pop": 2},
       tv={"comedy": 4, "sci-fi & fantasy": 3, "drama": 3},
       film={"arthouse": 4, "drama": 3, "science fiction": 3},
       news={"culture": 5, "technology": 5}),
    _a("metal", 0.05, 1985, {M: 0.8, T: 0.05, F: 0.1, N: 0.05},
       music={"metal": 15, "rock": 5},
       tv={"sci-fi & fantasy": 6, "crime": 4},
       film={"horror": 6, "action": 4},
       news={"technology": 5, "general": 5}),
    _a("hiphop", 0.1, 1998, {M: 0.7, T: 0.1, F: 0.05, S: 0.1, N: 0.05},
       music={"hip-hop": 13, "r&b": 5, "afrobeats": 2},
       tv={"reality": 5, "comedy": 5},
       film={"action": 6, "comedy": 4},
       sports={"basketball": 8, "football": 2},
       news={"sport": 5, "culture": 5}),
    _a("pop", 0.18, 1996, {M: 0.65, T: 0.2, F: 0.1, N: 0.05},
       music={"pop": 12, "electronic": 3, "latin": 2, "r&b": 3},
       tv={"reality": 4, "comedy": 3, "drama": 3},
       film={"romance": 4, "comedy": 4, "animation": 2},
       news={"culture": 1}),
    _a("news", 0.08, 1965, {M: 0.2, T: 0.1, F: 0.05, S: 0.05, N: 0.6},
       music={"classical": 4, "jazz": 2, "rock": 2, "pop": 2},
       tv={"documentary": 6, "drama": 4},
       film={"documentary": 5, "drama": 5},
       sports={"football": 5, "motorsport": 1, "cricket": 1},
       news={"general": 5, "business": 3, "science": 2}),
    _a("anime", 0.05, 2001, {M: 0.45, T: 0.45, F: 0.1},
       music={"j-pop": 14, "k-pop": 2, "electronic": 4},
       tv={"anime": 9, "sci-fi & fantasy": 1},
       film={"animation": 8, "science fiction": 2}),
    _a("latin", 0.05, 1993, {M: 0.65, T: 0.2, S: 0.1, N: 0.05},
       music={"latin": 16, "pop": 4},
       tv={"telenovela": 8, "reality": 2},
       sports={"football": 1},
       news={"general": 1}),
    _a("ussports", 0.06, 1982, {M: 0.3, T: 0.1, F: 0.05, S: 0.45, N: 0.1},
       music={"country": 10, "rock": 6, "hip-hop": 4},
       tv={"reality": 4, "comedy": 6},
       film={"action": 6, "comedy": 4},
       sports={"american football": 4, "basketball": 2.5, "baseball": 2, "ice hockey": 1.5},
       news={"sport": 8, "business": 2}),
    _a("electronic", 0.06, 1992, {M: 0.8, F: 0.08, N: 0.12},
       music={"electronic": 16, "pop": 2, "hip-hop": 2},
       film={"science fiction": 6, "action": 4},
       news={"technology": 1}),
    _a("bollywood", 0.04, 1994, {M: 0.5, T: 0.1, F: 0.25, S: 0.15},
       music={"filmi": 17, "pop": 3},
       tv={"drama": 5, "comedy": 5},
       film={"bollywood": 9, "action": 1},
       sports={"cricket": 1}),
    _a("heartland", 0.04, 1968, {M: 0.45, T: 0.35, N: 0.2},
       music={"schlager": 9, "country": 6, "pop": 5},
       tv={"crime": 7, "drama": 3},
       news={"general": 7, "sport": 3}),
)
# fmt: on

ARCHETYPE_INDEX: dict[str, int] = {a.key: i for i, a in enumerate(ARCHETYPES)}
