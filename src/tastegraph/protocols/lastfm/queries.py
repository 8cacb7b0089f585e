"""Catalogue and feedback look-ups the Last.fm read methods need and the services do not offer.

Last.fm names things by text ("artist=Cher&album=Believe") where the services take ids, and
its responses carry details (MusicBrainz ids, credited artists, tag counts, loved flags) the
services' briefs leave out. Everything here only reads, in a few batched queries per response.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import ColumnElement, distinct, func, select

from tastegraph.catalog.errors import ItemNotFound
from tastegraph.catalog.kinds import CreditRole, IdScheme, Kind
from tastegraph.catalog.matching import identity, split_artist
from tastegraph.catalog.models import ExternalId, Item, ItemCredit, ItemTag, Tag
from tastegraph.catalog.resolver import Resolver
from tastegraph.catalog.schemas import ItemBrief, TrackRef
from tastegraph.catalog.specs import Spec, named
from tastegraph.ingest.models import Feedback, Sentiment
from tastegraph.runtime import Services

# -- finding items by name --------------------------------------------------------------------


def _resolved(svc: Services, spec: Spec) -> Item | None:
    Resolver(svc.session, svc.catalog.cache).resolve([spec], create=False)
    if spec.resolved_id is None:
        return None
    try:
        return svc.catalog.get(spec.resolved_id)
    except ItemNotFound:
        return None


def by_mbid(svc: Services, mbid: str, kind: Kind) -> Item | None:
    try:
        value = str(uuid.UUID(mbid.strip()))
        item = svc.catalog.by_external_id(IdScheme.MUSICBRAINZ, value)
    except (ValueError, ItemNotFound):
        return None
    return item if item.kind == kind else None


def find_artist(svc: Services, name: str) -> Item | None:
    found = _resolved(svc, named(Kind.ARTIST, name))
    if found is None:
        # "Beyoncé feat. JAY-Z" names a track's credits; its main artist is what is meant.
        main = split_artist(name).main
        if main and identity(main[0]) != identity(name):
            found = _resolved(svc, named(Kind.ARTIST, main[0]))
    return found


def find_album(svc: Services, artist: str, title: str) -> Item | None:
    """The album ``title`` by ``artist``, keyed as the catalogue keys albums on the way in
    (its title and its artists); failing that, an album of that title credited to them."""
    names = list(split_artist(artist).main) or [artist]
    artists = tuple(named(Kind.ARTIST, n) for n in names)
    spec = Spec(
        kind=Kind.ALBUM,
        title=title,
        key_parts=(identity(title), artists),
        parent=artists[0],
        credits=tuple((a, CreditRole.MAIN) for a in artists),
    )
    found = _resolved(svc, spec)
    if found is not None:
        return found
    wanted = identity(title)
    candidates = [
        item
        for item in svc.catalog.search(title, kind=Kind.ALBUM, limit=50)
        if identity(item.title) == wanted
    ]
    artist_key = identity(artist)
    credited = main_artists(svc, [c.id for c in candidates])
    for item in candidates:
        if any(identity(a.title) == artist_key for a in credited.get(item.id, [])):
            return item
    return None


def find_track(svc: Services, artist: str, title: str) -> Item | None:
    try:
        ref = TrackRef.model_validate({"kind": Kind.TRACK, "title": title, "artist": artist})
    except ValidationError:
        return None
    try:
        return svc.catalog.lookup(ref)
    except ItemNotFound:
        return None


# -- details for rendering --------------------------------------------------------------------


def main_artists(svc: Services, item_ids: Sequence[int]) -> dict[int, list[Item]]:
    out: dict[int, list[Item]] = defaultdict(list)
    if not item_ids:
        return out
    rows = svc.session.execute(
        select(ItemCredit.item_id, Item)
        .join(Item, Item.id == ItemCredit.credited_id)
        .where(ItemCredit.item_id.in_(set(item_ids)), ItemCredit.role == CreditRole.MAIN)
        .order_by(ItemCredit.item_id, ItemCredit.position)
    )
    for item_id, artist in rows:
        out[item_id].append(artist)
    return out


def mbids(svc: Services, item_ids: Iterable[int]) -> dict[int, str]:
    ids = set(item_ids)
    if not ids:
        return {}
    rows = svc.session.execute(
        select(ExternalId.item_id, ExternalId.value)
        .where(ExternalId.scheme == IdScheme.MUSICBRAINZ, ExternalId.item_id.in_(ids))
        .order_by(ExternalId.item_id, ExternalId.value)
    )
    out: dict[int, str] = {}
    for item_id, value in rows:
        out.setdefault(item_id, value)
    return out


@dataclass
class Facts:
    """What the XML of a list of items needs beyond the items themselves."""

    briefs: dict[int, ItemBrief] = field(default_factory=dict)
    artists: dict[int, list[Item]] = field(default_factory=dict)
    parents: dict[int, Item] = field(default_factory=dict)
    mbids: dict[int, str] = field(default_factory=dict)

    def artist_name(self, item: Item) -> str:
        """Who a track or album is by, as the player sent it ("Beyoncé feat. JAY-Z")."""
        brief = self.briefs.get(item.id)
        if brief is not None and brief.context:
            return brief.context
        parent = self.parents.get(item.id)
        return parent.title if parent is not None else ""

    def artist_mbid(self, item: Item) -> str:
        credited = self.artists.get(item.id, [])
        return self.mbids.get(credited[0].id, "") if len(credited) == 1 else ""

    def album(self, item: Item) -> Item | None:
        parent = self.parents.get(item.id)
        return parent if parent is not None and parent.kind == Kind.ALBUM else None

    def mbid(self, item: Item | None) -> str:
        return self.mbids.get(item.id, "") if item is not None else ""


def facts(svc: Services, items: Sequence[Item]) -> Facts:
    if not items:
        return Facts()
    artists = main_artists(svc, [i.id for i in items])
    parent_ids = {i.parent_id for i in items if i.parent_id}
    parents_by_id = (
        {p.id: p for p in svc.session.scalars(select(Item).where(Item.id.in_(parent_ids)))}
        if parent_ids
        else {}
    )
    parents = {
        i.id: parents_by_id[i.parent_id]
        for i in items
        if i.parent_id and i.parent_id in parents_by_id
    }
    related = {i.id for i in items} | set(parents_by_id)
    related |= {a.id for credited in artists.values() for a in credited}
    return Facts(
        briefs=svc.catalog.briefs(items),
        artists=dict(artists),
        parents=parents,
        mbids=mbids(svc, related),
    )


# -- relations --------------------------------------------------------------------------------


def credited_items(svc: Services, artist_id: int, kind: Kind) -> list[int]:
    """Items of ``kind`` (tracks, albums) with the artist among their main credits."""
    return list(
        svc.session.scalars(
            select(ItemCredit.item_id)
            .join(Item, Item.id == ItemCredit.item_id)
            .where(
                ItemCredit.credited_id == artist_id,
                ItemCredit.role == CreditRole.MAIN,
                Item.kind == kind,
                Item.merged_into_id.is_(None),
            )
        )
    )


def album_tracks(svc: Services, album_id: int) -> list[Item]:
    return list(
        svc.session.scalars(
            select(Item)
            .where(
                Item.parent_id == album_id,
                Item.kind == Kind.TRACK,
                Item.merged_into_id.is_(None),
            )
            .order_by(Item.number.is_(None), Item.number, Item.title, Item.id)
        )
    )


def loved_ids(svc: Services, user_id: int, item_ids: Iterable[int]) -> set[int]:
    ids = set(item_ids)
    if not ids:
        return set()
    return set(
        svc.session.scalars(
            select(Feedback.item_id).where(
                Feedback.user_id == user_id,
                Feedback.sentiment == Sentiment.LOVE,
                Feedback.item_id.in_(ids),
            )
        )
    )


# -- tags -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagCount:
    name: str
    count: int
    """How many times the tag was applied."""
    reach: int
    """How many people applied it."""


def tag_counts(
    svc: Services,
    *,
    item_ids: Sequence[int] | None = None,
    user_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[TagCount], int]:
    """Tags by how often they were applied (to some items, or by one user), and how many
    distinct tags there are in all."""
    filters: list[ColumnElement[bool]] = []
    if item_ids is not None:
        if not item_ids:
            return [], 0
        filters.append(ItemTag.item_id.in_(item_ids))
    if user_id is not None:
        filters.append(ItemTag.user_id == user_id)
    count = func.count().label("n")
    rows = svc.session.execute(
        select(Tag.name, count, func.count(distinct(ItemTag.user_id)))
        .join(ItemTag, ItemTag.tag_id == Tag.id)
        .where(*filters)
        .group_by(Tag.id, Tag.name)
        .order_by(count.desc(), Tag.name)
        .limit(limit)
        .offset(offset)
    ).all()
    total = svc.session.scalar(select(func.count(distinct(ItemTag.tag_id))).where(*filters)) or 0
    return [TagCount(name, n, reach) for name, n, reach in rows], total


def tag_info(svc: Services, name: str) -> tuple[str, TagCount] | None:
    """The tag as stored (its display name) with its totals; None for an unknown tag."""
    tag = svc.session.scalar(select(Tag).where(Tag.key == identity(name)[:64]))
    if tag is None:
        return None
    n, reach = svc.session.execute(
        select(func.count(), func.count(distinct(ItemTag.user_id))).where(ItemTag.tag_id == tag.id)
    ).one()
    return tag.name, TagCount(tag.name, n, reach)


def items_by_id(svc: Services, ids: Sequence[int]) -> list[Item]:
    """The items of ``ids``, in that order."""
    if not ids:
        return []
    found = {i.id: i for i in svc.session.scalars(select(Item).where(Item.id.in_(set(ids))))}
    return [found[i] for i in ids if i in found]


def user_tag_counts(svc: Services, user_id: int, item_ids: Sequence[int]) -> dict[int, int]:
    """How many tags one user put on each item."""
    if not item_ids:
        return {}
    rows = svc.session.execute(
        select(ItemTag.item_id, func.count())
        .where(ItemTag.user_id == user_id, ItemTag.item_id.in_(set(item_ids)))
        .group_by(ItemTag.item_id)
    )
    return {item_id: int(n) for item_id, n in rows}
