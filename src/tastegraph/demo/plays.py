"""A year of plays for everyone, shaped by tastes, countries and local days.

The kinds of consumption live in their own modules (listening, viewing, following); this one
splits each person's activity over the domains and puts the pieces together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tastegraph.catalog.kinds import Domain
from tastegraph.demo.catalogue import Catalogue
from tastegraph.demo.config import Window
from tastegraph.demo.following import news_plays, sports_plays
from tastegraph.demo.items import DOMAINS
from tastegraph.demo.listening import music_plays
from tastegraph.demo.people import People
from tastegraph.demo.person import NOTHING, Floats, Ints, Made, Person
from tastegraph.demo.shelf import Shelf
from tastegraph.demo.viewing import film_plays, tv_plays

CLIENTS: tuple[str, ...] = (
    "Lark Player", "Finch for Android", "tastegraph web", "Quaver Desktop",
    "Reelbox", "Couchview", "Stadium Live", "Morning Reader", "Podlark",
)  # fmt: skip
"""Invented players, by index; each person sticks to one per domain most of the time."""
_DOMAIN_CLIENTS = {
    Domain.MUSIC: (0, 1, 2, 3),
    Domain.TV: (4, 5),
    Domain.FILM: (4, 5),
    Domain.SPORTS: (6, 4),
    Domain.NEWS: (7, 8),
}
_MAKERS = {
    Domain.MUSIC: music_plays,
    Domain.TV: tv_plays,
    Domain.FILM: film_plays,
    Domain.SPORTS: sports_plays,
    Domain.NEWS: news_plays,
}


@dataclass
class PlayLog:
    """Generated plays, by person and then time."""

    user: Ints
    """Person index."""
    item: Ints
    """Item index in the catalogue table."""
    at: Ints
    """UNIX seconds, UTC."""
    progress: Floats
    client: Ints
    """Index into CLIENTS."""

    def __len__(self) -> int:
        return len(self.user)


def generate_plays(catalogue: Catalogue, people: People, window: Window, seed: int) -> PlayLog:
    shelf = Shelf(catalogue)
    parts = [person_plays(shelf, people, index, window, seed) for index in range(len(people))]
    return PlayLog(
        user=np.concatenate([p.user for p in parts]),
        item=np.concatenate([p.item for p in parts]),
        at=np.concatenate([p.at for p in parts]),
        progress=np.concatenate([p.progress for p in parts]),
        client=np.concatenate([p.client for p in parts]),
    )


def person_plays(shelf: Shelf, people: People, index: int, window: Window, seed: int) -> PlayLog:
    """One person's plays, sorted by time, inside the window, and never the same item twice
    in the same second (the database would take the second for a duplicate)."""
    me = Person(people, index, window, seed)
    share = (me.mixture @ shelf.domain_matrix) * me.gen.gamma(8.0, 1 / 8.0, len(DOMAINS))
    counts = me.gen.multinomial(me.budget, share / share.sum())
    parts: list[Made] = []
    clients: list[Ints] = []
    for domain, count in zip(DOMAINS, counts.tolist(), strict=True):
        made = _MAKERS[domain](shelf, me, count) if count > 0 else NOTHING
        parts.append(made)
        clients.append(np.full(len(made[0]), _client(me, domain), dtype=np.int64))
    item = np.concatenate([p[0] for p in parts])
    at = np.concatenate([p[1] for p in parts])
    progress = np.concatenate([p[2] for p in parts])
    client = np.concatenate(clients)
    order = np.lexsort((item, at))
    item, at, progress, client = item[order], at[order], progress[order], client[order]
    keep = (at >= window.start_ts) & (at < window.end_ts)
    keep[1:] &= (item[1:] != item[:-1]) | (at[1:] != at[:-1])
    return PlayLog(
        user=np.full(int(keep.sum()), index, dtype=np.int64),
        item=item[keep],
        at=at[keep],
        progress=np.round(progress[keep], 3),
        client=client[keep],
    )


def _client(me: Person, domain: Domain) -> int:
    options = _DOMAIN_CLIENTS[domain]
    return options[me.index % len(options)] if me.rng.random() < 0.9 else options[0]
