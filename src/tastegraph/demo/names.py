"""Invented names: people, places, artists, titles, each in a language flavour.

Everything is drawn from one ``random.Random`` so that a seed gives the same names. Identity
uniqueness (two artists must not fold to the same catalogue key) is the caller's business:
``Namer.unique`` retries a maker until it produces a name not used before.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tastegraph.catalog.matching import identity, normalize
from tastegraph.demo.flavours import FLAVOURS, Flavour

_BY_LANGUAGE: dict[str, Flavour] = {}
for _flavour in FLAVOURS.values():
    _BY_LANGUAGE.setdefault(_flavour.language, _flavour)

_TRACK_VARIANTS = (" (Acoustic)", " (Live)", " (Remix)", " Pt. 2", " (Interlude)", " (Reprise)")
_ENSEMBLES = ("Trio", "Quartet", "Quintet", "Ensemble", "Collective")
_ORCHESTRA = {
    "de": "Philharmonie {place}",
    "fr": "Orchestre de {place}",
    "it": "Orchestra di {place}",
    "es": "Orquesta de {place}",
    "ru": "Оркестр «{place}»",
    "pl": "Filharmonia {place}",
}
_STAGE_PREFIXES = ("Lil ", "Young ", "MC ", "Big ", "Kid ")


def title_flavour(language: str, home: Flavour) -> Flavour:
    """The flavour whose words make titles in ``language``: the home flavour when it speaks
    it (Nigerian English has its own words), else any that does, else English."""
    if home.language == language:
        return home
    return _BY_LANGUAGE.get(language, FLAVOURS["en"])


def ascii_handle(text: str) -> str:
    """Fold a Latin name to lowercase ASCII for a user handle ("Müller" -> "muller")."""
    folded = normalize(text).replace(" ", "")
    return folded.encode("ascii", "ignore").decode()


class Namer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, options: tuple[str, ...]) -> str:
        return options[self.rng.randrange(len(options))]

    # -- people and places ------------------------------------------------------------------

    def person(self, flavour: Flavour) -> tuple[str, str, str]:
        """A full name in the flavour's script, plus the Latin given name and surname."""
        g = self.rng.randrange(len(flavour.given))
        s = self.rng.randrange(len(flavour.surnames))
        if flavour.family_first:
            native = flavour.surnames[s] + flavour.given[g]
        else:
            native = f"{flavour.given[g]} {flavour.surnames[s]}"
        return native, flavour.latin_given(g), flavour.latin_surname(s)

    def given(self, flavour: Flavour) -> str:
        return flavour.given[self.rng.randrange(len(flavour.given))]

    def place(self, flavour: Flavour) -> tuple[str, str]:
        """An invented place name, native and romanised."""
        h = self.rng.randrange(len(flavour.place_heads))
        t = self.rng.randrange(len(flavour.place_tails))
        native = flavour.place_heads[h] + flavour.place_tails[t]
        heads = flavour.place_heads_latin or flavour.place_heads
        tails = flavour.place_tails_latin or flavour.place_tails
        return native, heads[h] + tails[t]

    def invented(self, flavour: Flavour, syllables: int | None = None) -> str:
        count = syllables or self.rng.choice((2, 2, 3))
        word = "".join(self.pick(flavour.syllables) for _ in range(count))
        return word.capitalize()

    # -- titles -----------------------------------------------------------------------------

    def title(self, flavour: Flavour, *, variants: bool = False) -> str:
        roll = self.rng.random()
        first = self.pick(flavour.words)
        if roll < 0.6:
            text = first
        else:
            second = self.pick(flavour.words)
            if second == first:
                text = first
            else:
                text = first + flavour.joiner + _lower_first(second, flavour)
        if variants and self.rng.random() < 0.08:
            text += self.pick(_TRACK_VARIANTS)
        return text

    def unique(self, used: set[str], make: Callable[[], str]) -> str:
        """A name from ``make`` whose identity is not in ``used`` yet (then it is)."""
        name = make()
        for attempt in range(40):
            if identity(name) not in used:
                break
            name = make() if attempt < 30 else f"{make()} {_ROMAN[attempt % len(_ROMAN)]}"
        else:
            name = f"{name} {len(used)}"
        used.add(identity(name))
        return name

    # -- artists ----------------------------------------------------------------------------

    def artist(self, genre: str, flavour: Flavour) -> str:
        """An act of ``genre``: by default a person, with each genre's usual alternatives."""
        special = _ARTIST_STYLES.get(genre)
        name = special(self, flavour, self.rng.random()) if special else None
        return name or self.person(flavour)[0]

    def ensemble(self, flavour: Flavour, roll: float) -> str | None:
        if roll < 0.4:
            return f"{self.person(flavour)[0]} {self.pick(_ENSEMBLES)}"
        return None

    def orchestra(self, flavour: Flavour, roll: float) -> str | None:
        if roll < 0.35:
            pattern = _ORCHESTRA.get(flavour.language, "{place} Philharmonic")
            return pattern.format(place=self.place(flavour)[0])
        return None

    def idol_group(self, flavour: Flavour, roll: float) -> str | None:
        if roll < 0.65:
            word = self.invented(flavour).upper()
            return word + (str(self.rng.randrange(2, 10)) if self.rng.random() < 0.2 else "")
        return flavour.latin_given(self.rng.randrange(len(flavour.given))).upper()

    def english_band(self, _flavour: Flavour, roll: float) -> str | None:
        return self.pick(FLAVOURS["en"].words) if roll < 0.5 else None

    def producer(self, flavour: Flavour, roll: float) -> str | None:
        if roll < 0.35:
            return f"DJ {self.invented(flavour)}"
        return self.invented(flavour, 3) if roll < 0.7 else None

    def dark_band(self, flavour: Flavour, roll: float) -> str | None:
        if roll >= 0.7:
            return None
        dark = self.invented(flavour, 3)
        return dark if self.rng.random() < 0.6 else f"{dark} of {self.pick(FLAVOURS['en'].words)}"

    def band(self, flavour: Flavour, roll: float) -> str | None:
        if roll < 0.25:
            return f"The {self.pick(FLAVOURS['en'].words)}"
        if roll < 0.5:
            return self.pick(title_flavour(flavour.language, flavour).words)
        return None

    def rapper(self, flavour: Flavour, roll: float) -> str | None:
        if roll < 0.2:
            return self.pick(_STAGE_PREFIXES) + self.invented(flavour)
        return self.invented(flavour).upper() if roll < 0.45 else None

    def afro_star(self, flavour: Flavour, roll: float) -> str | None:
        if roll < 0.5:
            return f"{self.given(flavour)} {self.pick(('Gold', 'Blaze', 'Wave', 'Vibes', 'Jay'))}"
        return None

    def family_band(self, flavour: Flavour, roll: float) -> str | None:
        if roll < 0.2:
            surname = self.person(flavour)[2]
            return f"The {surname} {self.pick(('Brothers', 'Sisters', 'Band'))}"
        return None

    def duo(self, flavour: Flavour, roll: float) -> str | None:
        return f"{self.given(flavour)} & {self.given(flavour)}" if roll < 0.2 else None

    def mononym(self, flavour: Flavour, roll: float) -> str | None:
        return self.given(flavour) if roll < 0.2 else None


_ARTIST_STYLES: dict[str, Callable[[Namer, Flavour, float], str | None]] = {
    "jazz": Namer.ensemble,
    "classical": Namer.orchestra,
    "k-pop": Namer.idol_group,
    "j-pop": Namer.english_band,
    "electronic": Namer.producer,
    "metal": Namer.dark_band,
    "rock": Namer.band,
    "indie": Namer.band,
    "hip-hop": Namer.rapper,
    "afrobeats": Namer.afro_star,
    "country": Namer.family_band,
    "schlager": Namer.duo,
    "pop": Namer.mononym,
}

_ROMAN = ("II", "III", "IV", "V", "VI", "VII")


def _lower_first(word: str, flavour: Flavour) -> str:
    # "Midnight of Wildfire" reads better as "Midnight of wildfire" in languages that do not
    # capitalise nouns; German does, and scripts without case are left alone.
    if flavour.language in ("de", "en") or not word[:1].isupper():
        return word
    return word[0].lower() + word[1:]
