"""The whole demo catalogue: music, television, films, sports and news in one item table."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tastegraph.demo.config import DemoConfig, Window
from tastegraph.demo.items import ItemArrays, ItemTable
from tastegraph.demo.music import Music, build_music
from tastegraph.demo.news import News, build_news
from tastegraph.demo.screen import Films, Television, build_films, build_television
from tastegraph.demo.sports import Sports, build_sports


@dataclass
class Catalogue:
    table: ItemTable
    items: ItemArrays
    music: Music
    tv: Television
    films: Films
    sports: Sports
    news: News


def build_catalogue(config: DemoConfig, window: Window) -> Catalogue:
    # One stream per part, so that growing one part does not reshuffle the others.
    def stream(part: str) -> random.Random:
        return random.Random(f"{config.seed}:{part}")

    table = ItemTable()
    music = build_music(config, window, table, stream("music"))
    tv = build_television(config, window, table, stream("tv"))
    films = build_films(config, window, table, stream("films"))
    sports = build_sports(config, window, table, stream("sports"))
    news = build_news(config, window, table, sports, stream("news"))
    return Catalogue(
        table=table,
        items=table.freeze(),
        music=music,
        tv=tv,
        films=films,
        sports=sports,
        news=news,
    )
