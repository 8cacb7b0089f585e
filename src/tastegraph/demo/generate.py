"""The whole community in memory: catalogue, people, plays, friendships and opinions.

Nothing here touches a database, so tests can check the shape of a community directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tastegraph.demo.catalogue import Catalogue, build_catalogue
from tastegraph.demo.config import DemoConfig, Window
from tastegraph.demo.friends import befriend
from tastegraph.demo.opinions import Opinions, form_opinions
from tastegraph.demo.people import People, build_people
from tastegraph.demo.plays import PlayLog, generate_plays


@dataclass
class Community:
    config: DemoConfig
    window: Window
    catalogue: Catalogue
    people: People
    plays: PlayLog
    friendships: list[tuple[int, int]]
    """Pairs of person indices."""
    opinions: Opinions


def generate(
    config: DemoConfig, demo_name: str, log: Callable[..., Any] = lambda *_: None
) -> Community:
    window = Window.of(config)
    catalogue = build_catalogue(config, window)
    log(f"  catalogue: {len(catalogue.table)} playable items")
    people = build_people(config, window, demo_name)
    plays = generate_plays(catalogue, people, window, config.seed)
    log(f"  {len(plays)} plays generated for {len(people)} people")
    return Community(
        config=config,
        window=window,
        catalogue=catalogue,
        people=people,
        plays=plays,
        friendships=befriend(people, config.seed),
        opinions=form_opinions(catalogue, plays, len(people), config.seed),
    )
