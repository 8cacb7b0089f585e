"""The demo's people: where they live, what they like, how much and when they play.

Countries are dealt by quota (largest remainder), not drawn, so that every country with a
share shows up as soon as the community is a couple of hundred people big. Archetypes are
drawn with country biases, activity from a heavy-tailed log-normal distribution.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from tastegraph.accounts.models import Visibility
from tastegraph.accounts.schemas import RESERVED_NAMES
from tastegraph.demo.config import DemoConfig, Window
from tastegraph.demo.countries import BY_CODE, COUNTRIES, CountryProfile
from tastegraph.demo.flavours import FLAVOURS
from tastegraph.demo.items import COUNTRY_INDEX, LANGUAGE_INDEX
from tastegraph.demo.names import Namer, ascii_handle
from tastegraph.demo.taste import ARCHETYPE_INDEX, ARCHETYPES
from tastegraph.locales import default_timezone

DEMO_COUNTRY = "DE"
DEMO_MIXTURE = {"indie": 0.55, "football": 0.3, "jazz": 0.15}
DEMO_ACTIVITY = 8.8
"""The demo person plays this many times the average: a rich history to look at."""


@dataclass
class People:
    names: list[str] = field(default_factory=list)
    display_names: list[str | None] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    locales: list[str] = field(default_factory=list)
    timezones: list[str] = field(default_factory=list)
    birth_years: list[int] = field(default_factory=list)
    visibility: list[Visibility] = field(default_factory=list)
    consent: list[bool] = field(default_factory=list)
    created_at: list[datetime] = field(default_factory=list)
    mixture: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, len(ARCHETYPES))))
    """Archetype weights per person (rows sum to 1)."""
    plays: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Plays to generate per person over the year."""
    join_day: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    leave_day: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Exclusive: the first day without activity."""
    shift: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Hours the person's day runs late (night owls) or early."""

    def __len__(self) -> int:
        return len(self.names)

    @property
    def country_index(self) -> NDArray[np.int64]:
        return np.asarray([COUNTRY_INDEX[c] for c in self.countries], dtype=np.int64)

    @property
    def language_index(self) -> NDArray[np.int64]:
        return np.asarray(
            [LANGUAGE_INDEX.get(loc.split("-")[0], -1) for loc in self.locales], dtype=np.int64
        )


def country_quota(users: int) -> list[CountryProfile]:
    """Countries for ``users`` people in proportion to their shares (largest remainder)."""
    total = sum(c.share for c in COUNTRIES)
    exact = [users * c.share / total for c in COUNTRIES]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(COUNTRIES)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: users - sum(counts)]:
        counts[i] += 1
    return [c for c, n in zip(COUNTRIES, counts, strict=True) for _ in range(n)]


def build_people(config: DemoConfig, window: Window, demo_name: str) -> People:
    rng = random.Random(f"{config.seed}:people")
    gen = np.random.default_rng([config.seed, 1])
    namer = Namer(rng)
    people = People()
    n = config.users
    # The demo person takes one of Germany's places in the quota.
    others = country_quota(n)
    others.remove(next((c for c in others if c.code == DEMO_COUNTRY), others[-1]))
    rng.shuffle(others)
    used = {demo_name, *RESERVED_NAMES}
    priors = np.asarray([a.prior for a in ARCHETYPES])
    mixtures = np.zeros((n, len(ARCHETYPES)))
    display: str | None
    for i, country in enumerate([BY_CODE[DEMO_COUNTRY], *others]):
        locale = _weighted(rng, country.locales)
        zone = _weighted(rng, country.zones) if country.zones else default_timezone(country.code)
        if i == 0:
            name, display = demo_name, "Demo"
            for key, weight in DEMO_MIXTURE.items():
                mixtures[0, ARCHETYPE_INDEX[key]] = weight
        else:
            name, display = _handle(namer, country, locale, used)
            mixtures[i] = _mixture(gen, priors, country)
        people.names.append(name)
        people.display_names.append(display)
        people.countries.append(country.code)
        people.locales.append(locale)
        people.timezones.append(zone)
    people.mixture = mixtures
    born = mixtures @ np.asarray([a.birth_year for a in ARCHETYPES], dtype=np.float64)
    years = np.clip(np.round(born + gen.normal(0, 8, n)), 1940, window.start.year - 14)
    people.birth_years = [int(y) for y in years]
    people.birth_years[0] = 1990
    _activity(people, config, window, gen)
    for i in range(n):
        people.visibility.append(
            rng.choices(list(Visibility), weights=(0.86, 0.1, 0.04))[0] if i else Visibility.PUBLIC
        )
        people.consent.append(rng.random() < 0.35 if i else True)
    return people


def _weighted(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _handle(
    namer: Namer, country: CountryProfile, locale: str, used: set[str]
) -> tuple[str, str | None]:
    flavour = FLAVOURS[country.flavour]
    if locale.startswith("es") and country.flavour == "en":
        flavour = FLAVOURS["es"]  # Spanish-speaking Americans
    native, given, surname = namer.person(flavour)
    rng = namer.rng
    g, s = ascii_handle(given), ascii_handle(surname)
    patterns = (
        f"{g}{s}", f"{g}.{s}", f"{g}_{s[:1]}", f"{g}{rng.randrange(70, 100)}",
        f"{s}.{g[:1]}", f"{g}{s[:3]}{rng.randrange(1, 30)}", f"{namer.invented(flavour).lower()}",
    )  # fmt: skip
    handle = rng.choice(patterns)[:28]
    while handle in used or len(handle) < 2:
        handle = f"{g[:20]}{rng.randrange(1, 10000)}"
    used.add(handle)
    roll = rng.random()
    display: str | None
    if roll < 0.45:
        display = native
    elif roll < 0.65:
        display = native.split(" ")[0] if flavour.spaced and not flavour.family_first else native
    else:
        display = None
    return handle, display


def _mixture(
    gen: np.random.Generator, priors: NDArray[np.float64], country: CountryProfile
) -> NDArray[np.float64]:
    bias = np.asarray([country.bias.get(a.key, 1.0) for a in ARCHETYPES])
    weights = priors * bias
    k = int(gen.choice((1, 2, 3), p=(0.35, 0.45, 0.2)))
    chosen = gen.choice(len(ARCHETYPES), size=k, replace=False, p=weights / weights.sum())
    shares = np.sort(gen.dirichlet(np.full(k, 2.0)))[::-1]
    row = np.zeros(len(ARCHETYPES))
    row[chosen] = shares
    return row


def _activity(people: People, config: DemoConfig, window: Window, gen: np.random.Generator) -> None:
    n = len(people)
    days = window.days
    # Two thirds were members before the year began; the others joined during it.
    joined_before = gen.random(n) < 0.66
    join = np.where(joined_before, 0, gen.integers(0, days - 35, n))
    leaves = gen.random(n) < 0.08
    leave_at = join + 30 + (gen.random(n) * (days - join - 30)).astype(np.int64)
    leave = np.where(leaves, np.minimum(leave_at, days), days)
    join[0], leave[0] = 0, days
    active_share = (leave - join) / days
    raw = gen.lognormal(0.0, 1.1, n) * active_share
    demo_plays = round(config.plays_per_user * DEMO_ACTIVITY)
    target = max(config.plays_per_user * n - demo_plays, 8.0 * n)
    plays = np.maximum(8, np.round(raw * target / max(raw[1:].sum(), 1e-9)))
    plays = plays.astype(np.int64)
    plays = np.minimum(plays, int(config.plays_per_user * 30))
    plays[0] = demo_plays
    people.plays = plays
    people.join_day = join.astype(np.int64)
    people.leave_day = leave.astype(np.int64)
    people.shift = gen.choice((-1, 0, 1, 2), size=n, p=(0.15, 0.55, 0.2, 0.1)).astype(np.int64)
    people.shift[0] = 0
    for i in range(n):
        if join[i] == 0:
            # Members before the window: some for years, back to the early days of scrobbling.
            years_before = min(15.0, float(gen.exponential(2.5)))
            created = window.start - timedelta(days=int(years_before * 365) + 1)
        else:
            created = window.start + timedelta(days=int(join[i]), hours=int(gen.integers(7, 23)))
        people.created_at.append(created)
