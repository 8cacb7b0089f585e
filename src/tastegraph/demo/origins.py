"""Where a piece of content comes from and which language it is in."""

from __future__ import annotations

import random

from tastegraph.demo.countries import COUNTRIES, CountryProfile
from tastegraph.demo.taste import ORIGINS

FIXED_LANGUAGE = {
    "k-pop": "ko",
    "j-pop": "ja",
    "filmi": "hi",
    "k-drama": "ko",
    "anime": "ja",
    "bollywood": "hi",
}
INSTRUMENTAL_SHARE = {"classical": 0.7, "jazz": 0.5, "electronic": 0.45}

_PRODUCERS = tuple(COUNTRIES)
_PRODUCTION = tuple(c.production for c in COUNTRIES)
_BY_CODE = {c.code: c for c in COUNTRIES}


class Origins:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def country(self, genre: str) -> CountryProfile:
        """Specialities come from their homes, everything else from wherever content is made."""
        home = ORIGINS.get(genre)
        if home is None:
            return self.rng.choices(_PRODUCERS, weights=_PRODUCTION)[0]
        codes = tuple(home)
        return _BY_CODE[self.rng.choices(codes, weights=tuple(home.values()))[0]]

    def music_language(self, genre: str, country: CountryProfile) -> str | None:
        if self.rng.random() < INSTRUMENTAL_SHARE.get(genre, 0.0):
            return None
        if genre in FIXED_LANGUAGE:
            return FIXED_LANGUAGE[genre]
        if genre == "latin" and country.language not in ("es", "pt"):
            return "es"
        if self.rng.random() < country.english_share:
            return "en"
        return country.language

    def screen_language(self, genre: str, country: CountryProfile) -> str:
        return FIXED_LANGUAGE.get(genre, country.language)
