"""Artists, albums, tracks and tags as list entries (top lists, charts, search results).

The item's own ``<name>`` always comes first and a nested ``<artist>`` after it: pylast takes
an entry's title from its first ``<name>`` and its artist from the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tastegraph.catalog.models import Item
from tastegraph.protocols.lastfm.context import Call
from tastegraph.protocols.lastfm.elements import (
    artist_nested,
    artist_text,
    duration_seconds,
    images,
    item_url,
    streamable,
    tag_url,
)
from tastegraph.protocols.lastfm.queries import Facts, TagCount
from tastegraph.protocols.lastfm.render import El, leaf, node
from tastegraph.stats.services import ChartEntry


@dataclass(frozen=True)
class Figures:
    """The numbers an entry shows; None leaves the element out."""

    rank: int | None = None
    playcount: int | None = None
    listeners: int | None = None

    @classmethod
    def of(cls, entry: ChartEntry, *, listeners: bool = False, rank: bool = True) -> Figures:
        return cls(
            rank=entry.rank if rank else None,
            playcount=entry.plays,
            listeners=entry.listeners if listeners else None,
        )

    def attrs(self) -> dict[str, str | int]:
        return {"rank": str(self.rank)} if self.rank is not None else {}

    def elements(self) -> list[El]:
        out = []
        if self.playcount is not None:
            out.append(leaf("playcount", str(self.playcount)))
        if self.listeners is not None:
            out.append(leaf("listeners", str(self.listeners)))
        return out


def artist_entry(call: Call, facts: Facts, item: Item, figures: Figures) -> El:
    children = [
        leaf("name", item.title),
        *figures.elements(),
        leaf("mbid", facts.mbid(item)),
        leaf("url", item_url(call, item)),
        leaf("streamable", "0"),
        *images(),
    ]
    return node("artist", children, figures.attrs())


def album_entry(call: Call, facts: Facts, item: Item, figures: Figures) -> El:
    children = [
        leaf("name", item.title),
        *figures.elements(),
        leaf("mbid", facts.mbid(item)),
        leaf("url", item_url(call, item)),
        artist_nested(call, facts, item),
        *images(),
    ]
    return node("album", children, figures.attrs())


def track_entry(call: Call, facts: Facts, item: Item, figures: Figures) -> El:
    children = [
        leaf("name", item.title),
        leaf("duration", duration_seconds(item)),
        *figures.elements(),
        leaf("mbid", facts.mbid(item)),
        leaf("url", item_url(call, item)),
        streamable(),
        artist_nested(call, facts, item),
        *images(),
    ]
    return node("track", children, figures.attrs())


def chart_entries(
    call: Call, facts: Facts, entries: Sequence[ChartEntry], tag: str, *, listeners: bool = False
) -> list[El]:
    build = {"artist": artist_entry, "album": album_entry, "track": track_entry}[tag]
    return [build(call, facts, e.item, Figures.of(e, listeners=listeners)) for e in entries]


def weekly_entry(call: Call, facts: Facts, entry: ChartEntry, tag: str) -> El:
    """Weekly album and track charts carry the artist as text (pylast reads its text)."""
    item = entry.item
    children = [] if tag == "artist" else [artist_text(facts, item)]
    children += [
        leaf("name", item.title),
        leaf("mbid", facts.mbid(item)),
        leaf("playcount", str(entry.plays)),
    ]
    if tag == "track":
        children += images()
    children.append(leaf("url", item_url(call, item)))
    return node(tag, children, {"rank": str(entry.rank)})


def tag_entry(call: Call, tag: TagCount, *, count: bool = True, reach: bool = False) -> El:
    children = [leaf("name", tag.name)]
    if count:
        children.append(leaf("count", str(tag.count)))
    if reach:
        children.append(leaf("reach", str(tag.reach)))
    children.append(leaf("url", tag_url(call, tag.name)))
    return node("tag", children)


def tag_names(call: Call, names: Sequence[str]) -> list[El]:
    return [node("tag", [leaf("name", n), leaf("url", tag_url(call, n))]) for n in names]
