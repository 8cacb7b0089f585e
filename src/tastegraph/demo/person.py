"""One person's context while their year of plays is made: random streams, clock, habits."""

from __future__ import annotations

import random

import numpy as np
from numpy.typing import NDArray

from tastegraph.demo.config import Window
from tastegraph.demo.countries import COUNTRIES
from tastegraph.demo.items import COUNTRY_INDEX, LANGUAGE_INDEX
from tastegraph.demo.people import People
from tastegraph.demo.rhythms import RHYTHMS, LocalClock, clock_for, keep_inside, sample_local

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

Made = tuple[Ints, Ints, Floats]
"""Items, UTC times and progress of some plays."""
NOTHING: Made = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))

LOCAL_COUNTRY = 4.0
"""How much likelier an item from one's own country is: the local content share."""
SAME_LANGUAGE = 1.6
FOREIGN_LANGUAGE = 0.6
"""For content in a language one does not speak (English and instrumentals excepted)."""
ENGLISH = LANGUAGE_INDEX["en"]


class Person:
    def __init__(self, people: People, index: int, window: Window, seed: int) -> None:
        self.index = index
        self.window = window
        # A stream per person: their history does not depend on anyone else's.
        self.gen = np.random.default_rng([seed, 3, index])
        self.rng = random.Random(int(self.gen.integers(1 << 62)))
        self.country = COUNTRY_INDEX[people.countries[index]]
        self.homegrown = LOCAL_COUNTRY * COUNTRIES[self.country].homegrown
        self.language = LANGUAGE_INDEX.get(people.locales[index].split("-")[0], -1)
        self.clock: LocalClock = clock_for(window, people.timezones[index])
        self.shift = int(people.shift[index])
        self.join = int(people.join_day[index])
        self.leave = int(people.leave_day[index])
        self.mixture = people.mixture[index]
        self.budget = int(people.plays[index])
        active = np.zeros(window.days)
        active[self.join : self.leave] = 1.0
        # Light users are bursty (a few active days), heavy users play almost every day.
        shape = 0.3 + 1.5 * min(1.0, self.budget / 600)
        self.day_weights = active * self.gen.gamma(shape, 1 / shape, window.days)
        if self.day_weights.sum() <= 0:
            self.day_weights = active
        self.weekdays = (window.first_weekday() + np.arange(window.days, dtype=np.int64)) % 7

    @property
    def first_ts(self) -> int:
        return self.window.start_ts + self.join * 86_400

    @property
    def last_ts(self) -> int:
        return self.window.start_ts + self.leave * 86_400

    def local_factor(self, country: Ints, language: Ints) -> Floats:
        """Weights for items by origin: own country first, then own language."""
        local = np.where(country == self.country, self.homegrown, 1.0)
        own = language == self.language
        understood = own | (language == ENGLISH) | (language < 0)
        factor: Floats = (
            local * np.where(own, SAME_LANGUAGE, 1.0) * np.where(understood, 1.0, FOREIGN_LANGUAGE)
        )
        return factor

    def moments(self, rhythm: str, n: int) -> Ints:
        """``n`` UTC times in this person's local rhythm for ``rhythm``, inside the window."""
        days, seconds = sample_local(
            self.gen, n, RHYTHMS[rhythm], self.day_weights, self.weekdays, self.shift
        )
        return keep_inside(self.clock.to_utc(days, seconds), self.window)
