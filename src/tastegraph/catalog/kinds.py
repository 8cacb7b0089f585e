"""The content kinds, their levels and how they hang together."""

from __future__ import annotations

from enum import StrEnum


class Domain(StrEnum):
    MUSIC = "music"
    TV = "tv"
    FILM = "film"
    SPORTS = "sports"
    NEWS = "news"


class Kind(StrEnum):
    ARTIST = "artist"
    ALBUM = "album"
    TRACK = "track"
    SHOW = "show"
    SEASON = "season"
    EPISODE = "episode"
    FILM = "film"
    COMPETITION = "competition"
    TEAM = "team"
    MATCH = "match"
    OUTLET = "outlet"
    PROGRAMME = "programme"
    STORY = "story"


DOMAIN_OF: dict[Kind, Domain] = {
    Kind.ARTIST: Domain.MUSIC,
    Kind.ALBUM: Domain.MUSIC,
    Kind.TRACK: Domain.MUSIC,
    Kind.SHOW: Domain.TV,
    Kind.SEASON: Domain.TV,
    Kind.EPISODE: Domain.TV,
    Kind.FILM: Domain.FILM,
    Kind.COMPETITION: Domain.SPORTS,
    Kind.TEAM: Domain.SPORTS,
    Kind.MATCH: Domain.SPORTS,
    Kind.OUTLET: Domain.NEWS,
    Kind.PROGRAMME: Domain.NEWS,
    Kind.STORY: Domain.NEWS,
}

PARENT_KINDS: dict[Kind, frozenset[Kind]] = {
    Kind.ALBUM: frozenset({Kind.ARTIST}),
    Kind.TRACK: frozenset({Kind.ALBUM, Kind.ARTIST}),
    Kind.SEASON: frozenset({Kind.SHOW}),
    Kind.EPISODE: frozenset({Kind.SEASON, Kind.SHOW}),
    Kind.MATCH: frozenset({Kind.COMPETITION}),
    Kind.PROGRAMME: frozenset({Kind.OUTLET}),
    Kind.STORY: frozenset({Kind.PROGRAMME, Kind.OUTLET}),
}
"""Which kinds an item of a kind may hang under. Kinds missing here stand alone."""

CONSUMABLE: frozenset[Kind] = frozenset(
    {Kind.TRACK, Kind.EPISODE, Kind.FILM, Kind.MATCH, Kind.PROGRAMME, Kind.STORY}
)
"""Kinds a play can point at. Artists, shows, teams and outlets are reached through them."""


class CreditRole(StrEnum):
    MAIN = "main"
    FEATURED = "featured"
    HOME = "home"
    AWAY = "away"
    PARTICIPANT = "participant"
    DIRECTOR = "director"
    CAST = "cast"
    AUTHOR = "author"
    HOST = "host"


class IdScheme(StrEnum):
    MUSICBRAINZ = "musicbrainz"
    ISRC = "isrc"
    IMDB = "imdb"
    TMDB = "tmdb"
    TVDB = "tvdb"
    URL = "url"
