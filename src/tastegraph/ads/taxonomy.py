"""What the content being consumed is, in IAB terms, and other small vocabularies.

Item kinds and tags map to a few IAB Content Taxonomy 3.0/3.1 ids (adtech.md §2.4): the ones a
TV, sport, music and news network needs. ``1020`` (News) is the id the IAB's CTV Genre Mapping
uses for news. The ids are the contextual signal: they need no data about the viewer.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from babel.core import get_global

from tastegraph.ads.schemas import Client
from tastegraph.catalog.kinds import Kind

ENTERTAINMENT = "JLBCU7"
MOVIES = "324"
MUSIC = "338"
TELEVISION = "640"
SPORTS = "483"
SOCCER = "533"
AMERICAN_FOOTBALL = "484"
NEWS = "1020"

KIND_CATEGORIES: dict[Kind, tuple[str, ...]] = {
    Kind.ARTIST: (ENTERTAINMENT, MUSIC),
    Kind.ALBUM: (ENTERTAINMENT, MUSIC),
    Kind.TRACK: (ENTERTAINMENT, MUSIC),
    Kind.SHOW: (ENTERTAINMENT, TELEVISION),
    Kind.SEASON: (ENTERTAINMENT, TELEVISION),
    Kind.EPISODE: (ENTERTAINMENT, TELEVISION),
    Kind.FILM: (ENTERTAINMENT, MOVIES),
    Kind.COMPETITION: (SPORTS,),
    Kind.TEAM: (SPORTS,),
    Kind.MATCH: (SPORTS,),
    Kind.OUTLET: (NEWS,),
    Kind.PROGRAMME: (NEWS,),
    Kind.STORY: (NEWS,),
}

TAG_CATEGORIES: dict[str, tuple[str, ...]] = {
    "football": (SPORTS, SOCCER),
    "soccer": (SPORTS, SOCCER),
    "american football": (SPORTS, AMERICAN_FOOTBALL),
    "nfl": (SPORTS, AMERICAN_FOOTBALL),
    "comedy": ("646",),
    "drama": ("647",),
    "documentary": ("648",),
    "factual": ("648",),
    "reality": ("651",),
    "reality tv": ("651",),
    "soap": ("642",),
    "soap opera": ("642",),
    "talk show": ("A0AH3G",),
    "true crime": ("KHPC5A",),
    "thriller": ("700",),
    "politics": ("386",),
    "elections": ("387",),
    "crime": ("380",),
    "disasters": ("381",),
    "celebrity": ("432",),
    "pop culture": ("432",),
}


def categories_for(kind: Kind | None, tags: list[str]) -> frozenset[str]:
    """Content Taxonomy ids for an item of ``kind`` with these tags."""
    ids: set[str] = set(KIND_CATEGORIES.get(kind, ())) if kind is not None else set()
    for tag in tags:
        ids.update(TAG_CATEGORIES.get(tag.strip().casefold(), ()))
    return frozenset(ids)


@cache
def _alpha3() -> dict[str, str]:
    aliases: Mapping[str, Any] = get_global("territory_aliases")
    return {
        code: targets[0]
        for code, targets in aliases.items()
        if len(code) == 3 and code.isalpha() and targets and len(targets[0]) == 2
    }


def country_from_alpha3(code: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for OpenRTB's alpha-3 ``device.geo.country`` (``FRA`` → ``FR``)."""
    if not code:
        return None
    code = code.strip().upper()
    if len(code) == 2 and code.isalpha():
        return code
    return _alpha3().get(code)


DEVICE_TYPES: dict[int, Client] = {
    1: Client.MOBILE,  # mobile/tablet (version 2.0)
    2: Client.DESKTOP,  # personal computer
    3: Client.CTV,  # connected TV
    4: Client.MOBILE,  # phone
    5: Client.TABLET,
    6: Client.CTV,  # connected device
    7: Client.CTV,  # set-top box
}
"""AdCOM device types → the client targeting vocabulary."""
