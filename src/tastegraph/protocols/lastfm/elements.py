"""Element shapes shared by the read methods: images, links, dates and artist references.

Two shapes of artist exist (pylast depends on which one a response uses):

* text, ``<artist mbid="…">Name</artist>``, in recent tracks, weekly album and track charts
  and search results (pylast reads the element's text);
* nested, ``<artist><name>Name</name><mbid/><url/></artist>``, in top, loved and similar lists
  and in getInfo (pylast reads "the second <name>" of the item).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from tastegraph.catalog.models import Item
from tastegraph.protocols.lastfm.context import Call
from tastegraph.protocols.lastfm.queries import Facts
from tastegraph.protocols.lastfm.render import El, leaf, node

IMAGE_SIZES = ("small", "medium", "large", "extralarge")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def images() -> list[El]:
    """Four empty images: the catalogue has no artwork yet, and pylast indexes the list by
    size (``get_image()`` takes the fourth)."""
    return [leaf("image", "", {"size": size}) for size in IMAGE_SIZES]


def item_url(call: Call, item: Item | None) -> str:
    return call.url(f"/api/v1/items/{item.id}") if item is not None else ""


def user_url(call: Call, name: str) -> str:
    return call.url(f"/api/v1/users/{quote(name, safe='')}")


def tag_url(call: Call, name: str) -> str:
    return call.url(f"/api/v1/charts/artist?tag={quote(name, safe='')}")


def uts(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def date_text(moment: datetime) -> str:
    """Last.fm's date text, in UTC and in English whatever the server's locale:
    ``21 Jul 2011, 15:12``."""
    at = moment.astimezone(UTC)
    return f"{at.day:02d} {_MONTHS[at.month - 1]} {at.year}, {at.hour:02d}:{at.minute:02d}"


def date(moment: datetime) -> El:
    return leaf("date", date_text(moment), {"uts": uts(moment)})


def artist_text(facts: Facts, item: Item) -> El:
    return leaf("artist", facts.artist_name(item), {"mbid": facts.artist_mbid(item)})


def artist_nested(call: Call, facts: Facts, item: Item, *, with_images: bool = False) -> El:
    """The artist of a track or album; its link only when a single artist is credited."""
    credited = facts.artists.get(item.id, [])
    children = [
        leaf("name", facts.artist_name(item)),
        leaf("mbid", facts.artist_mbid(item)),
        leaf("url", item_url(call, credited[0]) if len(credited) == 1 else ""),
    ]
    if with_images:
        children += images()
    return node("artist", children)


def streamable() -> El:
    return leaf("streamable", "0", {"fulltrack": "0"})


def duration_seconds(item: Item) -> str:
    return str(item.duration_seconds or 0)


def duration_ms(item: Item) -> str:
    """track.getInfo gives milliseconds where every list gives seconds."""
    return str((item.duration_seconds or 0) * 1000)
