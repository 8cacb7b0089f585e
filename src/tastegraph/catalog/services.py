"""Catalogue reads and writes: resolution, lookup, search, aliases, ids, tags and merges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from tastegraph.catalog.availability import Availability, availability_out, bump_rights_version
from tastegraph.catalog.errors import ItemNotFound, MergeRefused
from tastegraph.catalog.kinds import CreditRole, Domain, Kind
from tastegraph.catalog.localization import Localised, Translations
from tastegraph.catalog.matching import identity
from tastegraph.catalog.models import (
    ExternalId,
    Item,
    ItemAlias,
    ItemBlackout,
    ItemCredit,
    ItemRight,
    ItemTag,
    ItemTranslation,
    Tag,
)
from tastegraph.catalog.resolver import Learned, ResolutionCache, Resolver, RestructureHook
from tastegraph.catalog.rights import RightsService
from tastegraph.catalog.schemas import (
    AvailabilityOut,
    CreditOut,
    ItemBrief,
    ItemOut,
    ItemRef,
)
from tastegraph.catalog.specs import spec_for
from tastegraph.catalog.territories import TerritoryGroups
from tastegraph.catalog.viewer import Viewer
from tastegraph.storage.dialect import insert_or_ignore

MAX_MERGE_HOPS = 16

MergeHook = Callable[[Session, int, int], None]
"""Called with (session, source id, target id) when items merge, so areas above the catalogue
(plays, feedback, groups...) can move their references. Wired by the composition root."""


def item_url(item_id: int) -> str:
    return f"/api/v1/items/{item_id}"


class CatalogService:
    """Works inside the caller's unit of work and never commits."""

    def __init__(
        self,
        session: Session,
        cache: ResolutionCache,
        *,
        merge_hooks: Sequence[MergeHook] = (),
        restructure_hooks: Sequence[RestructureHook] = (),
        availability: Availability | None = None,
    ) -> None:
        self.session = session
        self.cache = cache
        self.merge_hooks = merge_hooks
        self.restructure_hooks = restructure_hooks
        self.availability = availability
        """The process's availability index; without it nothing is marked or filtered."""
        self.territories = TerritoryGroups(session, self._rights_changed)
        self.rights = RightsService(
            session, self.territories, self.canonical_ids, self._rights_changed
        )
        self.translations = Translations(session)

    def _rights_changed(self, session: Session) -> None:
        if self.availability is not None:
            self.availability.changed(session)
        else:
            bump_rights_version(session)

    # -- resolution -------------------------------------------------------------------------

    def resolve(self, refs: Sequence[ItemRef]) -> list[int]:
        """Find or create the item each reference names; ids in the order of ``refs``."""
        return Resolver(self.session, self.cache, self.restructure_hooks).resolve_refs(refs)

    def lookup(self, ref: ItemRef) -> Item:
        """Find the item a reference names, without creating anything."""
        spec = spec_for(ref)
        Resolver(self.session, self.cache).resolve([spec], create=False)
        if spec.resolved_id is None:
            raise ItemNotFound("No catalogue item matches that description.")
        return self.get(spec.resolved_id)

    def by_external_id(self, scheme: str, value: str) -> Item:
        row = self.session.get(ExternalId, (scheme, value))
        if row is None:
            raise ItemNotFound(f"No item has the id {scheme}:{value}.")
        return self.get(row.item_id)

    def canonical_ids(self, item_ids: Sequence[int]) -> dict[int, int]:
        """Map ids to the items they were merged into; unknown ids are left out."""
        asked = set(item_ids)
        cached = self.cache.get_canonical(asked)
        if len(cached) == len(asked):
            return cached
        found = self._canonical_from_db(asked - set(cached))
        Learned.of(self.session, self.cache).canonical.extend(found.items())
        return cached | found

    def _canonical_from_db(self, asked: set[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        pending = set(asked)
        for _ in range(MAX_MERGE_HOPS):
            if not pending:
                break
            rows = self.session.execute(
                select(Item.id, Item.merged_into_id).where(Item.id.in_(pending))
            ).all()
            pending = set()
            for item_id, merged_into in rows:
                if merged_into is None:
                    out[item_id] = item_id
                else:
                    out[item_id] = merged_into
                    pending.add(merged_into)
        # Follow chains: a -> b -> c becomes a -> c.
        for source, first in list(out.items()):
            final, hops = first, 0
            while out.get(final, final) != final and hops < MAX_MERGE_HOPS:
                final = out[final]
                hops += 1
            out[source] = final
        return {k: v for k, v in out.items() if k in asked}

    # -- reads ------------------------------------------------------------------------------

    def get(self, item_id: int) -> Item:
        canonical = self.canonical_ids([item_id]).get(item_id)
        item = self.session.get(Item, canonical) if canonical is not None else None
        if item is None:
            raise ItemNotFound(f"There is no item with id {item_id}.")
        return item

    def search(
        self, query: str, *, kind: Kind | None = None, domain: Domain | None = None, limit: int = 20
    ) -> list[Item]:
        """Exact titles first, then prefixes, then anywhere in the title; translated titles
        count as titles."""
        key = identity(query)
        if not key:
            return []
        stmt = select(Item).where(Item.merged_into_id.is_(None))
        if kind is not None:
            stmt = stmt.where(Item.kind == kind)
        if domain is not None:
            stmt = stmt.where(Item.domain == domain)
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        translated = select(ItemTranslation.item_id)
        found: list[Item] = []
        seen: set[int] = set()
        stages = (
            or_(
                Item.search_key == key,
                Item.id.in_(translated.where(ItemTranslation.search_key == key)),
            ),
            or_(
                Item.search_key.like(f"{escaped}%", escape="\\"),
                Item.id.in_(
                    translated.where(ItemTranslation.search_key.like(f"{escaped}%", escape="\\"))
                ),
            ),
            or_(
                Item.search_key.like(f"%{escaped}%", escape="\\"),
                Item.id.in_(
                    translated.where(ItemTranslation.search_key.like(f"%{escaped}%", escape="\\"))
                ),
            ),
        )
        for condition in stages:
            if len(found) >= limit:
                break
            rows = self.session.scalars(
                stmt.where(condition)
                .order_by(func.length(Item.search_key), Item.id)
                .limit(limit + len(seen))
            )
            for item in rows:
                if item.id not in seen and len(found) < limit:
                    seen.add(item.id)
                    found.append(item)
        return found

    def visible(self, items: Sequence[Item], viewer: Viewer) -> list[Item]:
        """``items`` without those the viewer cannot watch or listen to where they are now."""
        if self.availability is None or not items:
            return list(items)
        keep = self.availability.available([i.id for i in items], viewer.country, viewer.at)
        return [item for item in items if item.id in keep]

    def availability_of(self, items: Sequence[Item], viewer: Viewer) -> dict[int, AvailabilityOut]:
        """Each item's availability, offers and languages for the viewer (item pages)."""
        if self.availability is None:
            return {}
        return {
            item.id: availability_out(
                self.availability.explain(item.id, viewer.country, viewer.at), viewer.country
            )
            for item in items
        }

    def _localised(self, items: Sequence[Item], viewer: Viewer | None) -> dict[int, Localised]:
        if viewer is None or not viewer.languages:
            return {}
        return self.translations.localise(items, viewer.languages)

    def describe(self, items: Sequence[Item], viewer: Viewer | None = None) -> list[ItemOut]:
        """Full descriptions with parents, credits, ids, aliases and top tags, in few queries.

        With a ``viewer``: titles and descriptions in their language where the catalogue has
        one, and the item's availability to them (offers, languages, windows)."""
        ids = [item.id for item in items]
        if not ids:
            return []
        parent_ids = {item.parent_id for item in items if item.parent_id}
        parents = {
            p.id: p for p in self.session.scalars(select(Item).where(Item.id.in_(parent_ids)))
        }
        localised = self._localised([*items, *parents.values()], viewer)
        availability = self.availability_of(items, viewer) if viewer is not None else {}
        credits: dict[int, list[CreditOut]] = defaultdict(list)
        for credit, person in self.session.execute(
            select(ItemCredit, Item)
            .join(Item, Item.id == ItemCredit.credited_id)
            .where(ItemCredit.item_id.in_(ids))
            .order_by(ItemCredit.item_id, ItemCredit.position)
        ):
            credits[credit.item_id].append(
                CreditOut(
                    id=person.id,
                    kind=person.kind,
                    title=person.title,
                    url=item_url(person.id),
                    role=credit.role,
                )
            )
        external: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for ext in self.session.scalars(select(ExternalId).where(ExternalId.item_id.in_(ids))):
            external[ext.item_id][ext.scheme].append(ext.value)
        aliases: dict[int, list[str]] = defaultdict(list)
        for alias in self.session.scalars(select(ItemAlias).where(ItemAlias.item_id.in_(ids))):
            aliases[alias.item_id].append(alias.title)
        tags = self.top_tags(ids)
        out = []
        for item in items:
            parent = parents.get(item.parent_id) if item.parent_id else None
            shown = localised.get(item.id) or Localised(item.title, item.description, None)
            known = availability.get(item.id)
            out.append(
                ItemOut(
                    id=item.id,
                    kind=item.kind,
                    domain=item.domain,
                    title=shown.title,
                    original_title=item.title,
                    title_language=shown.language,
                    description=shown.description,
                    original_description=item.description,
                    available=known.available if known else None,
                    availability=known,
                    url=item_url(item.id),
                    parent=ItemBrief(
                        id=parent.id,
                        kind=parent.kind,
                        title=localised[parent.id].title
                        if parent.id in localised
                        else parent.title,
                        url=item_url(parent.id),
                    )
                    if parent
                    else None,
                    credits=credits[item.id],
                    number=item.number,
                    duration_seconds=item.duration_seconds,
                    released_at=item.released_at,
                    original_language=item.original_language,
                    country=item.country,
                    external_ids={k: sorted(v) for k, v in external[item.id].items()},
                    tags=tags.get(item.id, []),
                    aliases=sorted(aliases[item.id]),
                )
            )
        return out

    def briefs(self, items: Sequence[Item], viewer: Viewer | None = None) -> dict[int, ItemBrief]:
        """Short descriptions with context ("Beyoncé feat. JAY-Z", "Doctor Who"), in two queries.

        With a ``viewer``: titles in their language, and ``available`` for where they are now
        (for lists that show unavailable items because history requires it: plays, charts)."""
        ids = [item.id for item in items]
        localised = self._localised(items, viewer)
        marks: dict[int, bool] = {}
        if viewer is not None and self.availability is not None and ids:
            mask = self.availability.mask(ids, viewer.country, viewer.at)
            marks = dict(zip(ids, mask, strict=True))
        main: dict[int, list[str]] = defaultdict(list)
        featured: dict[int, list[str]] = defaultdict(list)
        if ids:
            # Columns, not entities: a page of briefs names hundreds of credited people.
            for item_id, role, title in self.session.execute(
                select(ItemCredit.item_id, ItemCredit.role, Item.title)
                .join(Item, Item.id == ItemCredit.credited_id)
                .where(ItemCredit.item_id.in_(ids))
                .order_by(ItemCredit.item_id, ItemCredit.position)
            ):
                target = featured if role == CreditRole.FEATURED else main
                target[item_id].append(title)
        parents = self._root_titles({item.parent_id for item in items if item.parent_id})
        out = {}
        for item in items:
            context: str | None = None
            if main[item.id]:
                sep = " – " if item.kind == Kind.MATCH else ", "
                context = sep.join(main[item.id])
                if featured[item.id]:
                    context += " feat. " + ", ".join(featured[item.id])
                if item.kind == Kind.MATCH and item.parent_id:
                    context = parents.get(item.parent_id, context)
            elif item.parent_id:
                context = parents.get(item.parent_id)
            out[item.id] = ItemBrief(
                id=item.id,
                kind=item.kind,
                title=localised[item.id].title if item.id in localised else item.title,
                url=item_url(item.id),
                context=context,
                available=marks.get(item.id),
            )
        return out

    def references(self, items: Sequence[Item]) -> dict[int, dict[str, Any]]:
        """Each item as the reference a client would send (the shape of ``ItemRef``).

        Exports use it so that an exported history imports again on any tastegraph.
        """
        ids = [item.id for item in items]
        credits: dict[int, list[tuple[CreditRole, str]]] = defaultdict(list)
        external: dict[int, dict[str, str]] = defaultdict(dict)
        ancestors = self._ancestors({item.parent_id for item in items if item.parent_id})
        # Albums' own artists too: an album by someone else ("Various Artists") is part of
        # what names a track's album.
        albums = {a.id for chain in ancestors.values() for a in chain if a.kind == Kind.ALBUM}
        if ids:
            for credit, person in self.session.execute(
                select(ItemCredit, Item)
                .join(Item, Item.id == ItemCredit.credited_id)
                .where(ItemCredit.item_id.in_([*ids, *albums]))
                .order_by(ItemCredit.item_id, ItemCredit.position)
            ):
                credits[credit.item_id].append((credit.role, person.title))
            for ext in self.session.scalars(select(ExternalId).where(ExternalId.item_id.in_(ids))):
                external[ext.item_id].setdefault(ext.scheme, ext.value)
        out: dict[int, dict[str, Any]] = {}
        for item in items:
            chain = ancestors.get(item.parent_id, []) if item.parent_id else []
            parents = {a.kind: a for a in chain}
            names = {role: [n for r, n in credits[item.id] if r == role] for role in CreditRole}
            ref: dict[str, Any] = {"kind": item.kind.value}
            ref |= _REFERENCE_FIELDS.get(item.kind, _title_only)(item, parents, names)
            if item.kind == Kind.TRACK and Kind.ALBUM in parents:
                album = [n for r, n in credits[parents[Kind.ALBUM].id] if r == CreditRole.MAIN]
                # One album artist can be named; several stay with the track's (lossy but rare).
                if len(album) == 1 and album != names[CreditRole.MAIN]:
                    ref["album_artist"] = album[0]
            if item.duration_seconds:
                ref["duration"] = item.duration_seconds
            if external[item.id]:
                ref["ids"] = dict(external[item.id])
            out[item.id] = ref
        return out

    def _ancestors(self, parent_ids: set[int]) -> dict[int, list[Item]]:
        """Each parent id with its chain upwards (at most three levels)."""
        known: dict[int, Item] = {}
        pending = set(parent_ids)
        for _ in range(3):
            pending -= set(known)
            if not pending:
                break
            rows = list(self.session.scalars(select(Item).where(Item.id.in_(pending))))
            known.update({row.id: row for row in rows})
            pending = {row.parent_id for row in rows if row.parent_id}
        out: dict[int, list[Item]] = {}
        for pid in parent_ids:
            chain: list[Item] = []
            node = known.get(pid)
            while node is not None and len(chain) < 4:
                chain.append(node)
                node = known.get(node.parent_id) if node.parent_id else None
            out[pid] = chain
        return out

    def _root_titles(self, parent_ids: set[int]) -> dict[int, str]:
        """The title at the top of each parent's chain: the show of a season, the outlet..."""
        titles: dict[int, str] = {}
        up: dict[int, int] = {}
        pending = set(parent_ids)
        for _ in range(3):
            if not pending:
                break
            rows = self.session.execute(
                select(Item.id, Item.title, Item.parent_id, Item.kind).where(Item.id.in_(pending))
            ).all()
            pending = set()
            for item_id, title, parent_id, kind in rows:
                titles[item_id] = title
                if parent_id and kind in (Kind.SEASON, Kind.PROGRAMME, Kind.ALBUM):
                    up[item_id] = parent_id
                    pending.add(parent_id)
        out = {}
        for pid in parent_ids:
            node = pid
            while node in up and up[node] in titles:
                node = up[node]
            if node in titles:
                out[pid] = titles[node]
        return out

    def top_tags(self, item_ids: Sequence[int], per_item: int = 10) -> dict[int, list[str]]:
        rows = self.session.execute(
            select(ItemTag.item_id, Tag.name, func.count().label("n"))
            .join(Tag, Tag.id == ItemTag.tag_id)
            .where(ItemTag.item_id.in_(item_ids))
            .group_by(ItemTag.item_id, Tag.name)
            .order_by(ItemTag.item_id, func.count().desc(), Tag.name)
        ).all()
        out: dict[int, list[str]] = defaultdict(list)
        for item_id, name, _count in rows:
            if len(out[item_id]) < per_item:
                out[item_id].append(name)
        return out

    # -- writes -----------------------------------------------------------------------------

    def add_alias(self, item_id: int, title: str) -> None:
        item = self.get(item_id)
        key = self._alias_key(item, title)
        existing = self.session.get(ItemAlias, (item.kind, key))
        if existing is None:
            self.session.add(ItemAlias(kind=item.kind, match_key=key, item_id=item.id, title=title))
        else:
            existing.item_id = item.id
        self.cache.clear()

    def _alias_key(self, item: Item, title: str) -> str:
        """An alias replaces the title part of the identity key and keeps the rest."""
        parts = item.match_key.split("|")
        title_key = identity(title)
        if item.kind in (Kind.ARTIST, Kind.SHOW, Kind.TEAM, Kind.COMPETITION, Kind.OUTLET):
            return title_key
        if item.kind in (Kind.TRACK, Kind.ALBUM, Kind.FILM) and parts:
            return "|".join([title_key, *parts[1:]])
        if item.kind in (Kind.PROGRAMME, Kind.STORY) and len(parts) == 2:
            return "|".join([parts[0], title_key])
        return "|".join([*parts, "alias", title_key])

    def add_external_id(self, item_id: int, scheme: str, value: str) -> None:
        item = self.get(item_id)
        owner = self.session.get(ExternalId, (scheme, value))
        if owner is not None and owner.item_id != item.id:
            raise MergeRefused(
                f"{scheme}:{value} already belongs to item {owner.item_id}; "
                "merge the items instead."
            )
        if owner is None:
            self.session.add(ExternalId(scheme=scheme, value=value, item_id=item.id))

    def tag(self, user_id: int, item_id: int, names: Sequence[str]) -> list[str]:
        item = self.get(item_id)
        tag_ids = self.ensure_tags(names)
        rows = [{"user_id": user_id, "item_id": item.id, "tag_id": t} for t in tag_ids.values()]
        if rows:
            self.session.execute(insert_or_ignore(self.session, ItemTag), rows)
        return list(tag_ids)

    def ensure_tags(self, names: Sequence[str]) -> dict[str, int]:
        """Tag name -> id, creating tags as needed. Tags are compared in their normal form."""
        wanted: dict[str, str] = {}
        for name in names:
            clean = " ".join(name.split())[:64]
            key = identity(clean)[:64]
            if key:
                wanted.setdefault(key, clean.lower())
        if not wanted:
            return {}
        self.session.execute(
            insert_or_ignore(self.session, Tag),
            [{"key": key, "name": name} for key, name in wanted.items()],
        )
        rows = self.session.execute(select(Tag.key, Tag.name, Tag.id).where(Tag.key.in_(wanted)))
        return {name: tag_id for _key, name, tag_id in rows}

    def merge(self, source_id: int, target_id: int) -> Item:
        """Fold ``source`` into ``target``: its plays, credits, children, ids and tags move over.

        The source stays as a redirect and its identity becomes an alias of the target, so
        future plays spelled the old way land on the target.
        """
        source, target = self.get(source_id), self.get(target_id)
        if source.id == target.id:
            raise MergeRefused("An item cannot be merged into itself.")
        if source.kind != target.kind:
            raise MergeRefused(f"A {source.kind} cannot be merged into a {target.kind}.")
        with ExitStack() as stack:
            for hook in self.restructure_hooks:
                stack.enter_context(hook(self.session, [source.id, target.id]))
            self._move_references(source.id, target.id)
            self.session.flush()
        self.session.execute(
            update(Item).where(Item.merged_into_id == source.id).values(merged_into_id=target.id)
        )
        source.merged_into_id = target.id
        alias = self.session.get(ItemAlias, (source.kind, source.match_key))
        if alias is None:
            self.session.add(
                ItemAlias(
                    kind=source.kind,
                    match_key=source.match_key,
                    item_id=target.id,
                    title=source.title,
                )
            )
        self.session.execute(
            update(ItemAlias).where(ItemAlias.item_id == source.id).values(item_id=target.id)
        )
        self.cache.clear()
        return target

    def _move_references(self, source: int, target: int) -> None:
        for hook in self.merge_hooks:
            hook(self.session, source, target)
        self.session.execute(update(Item).where(Item.parent_id == source).values(parent_id=target))
        # Credits: keep the target's own, take over the rest, both as item and as credited.
        self._move_pk_rows(ItemCredit, ItemCredit.item_id, source, target)
        self._move_pk_rows(ItemCredit, ItemCredit.credited_id, source, target)
        self._move_pk_rows(ItemTag, ItemTag.item_id, source, target)
        self._move_pk_rows(ItemTranslation, ItemTranslation.item_id, source, target)
        self.session.execute(
            update(ExternalId).where(ExternalId.item_id == source).values(item_id=target)
        )
        moved = 0
        for model in (ItemRight, ItemBlackout):
            result = self.session.execute(
                update(model).where(model.item_id == source).values(item_id=target)
            )
            moved += getattr(result, "rowcount", 0) or 0
        if moved:
            self._rights_changed(self.session)

    def _move_pk_rows(
        self,
        model: type[ItemCredit] | type[ItemTag] | type[ItemTranslation],
        column: InstrumentedAttribute[int],
        source: int,
        target: int,
    ) -> None:
        """Repoint rows whose key includes the item id, dropping those the target already has."""
        table = model.__table__
        rows = [
            dict(r._mapping) for r in self.session.execute(select(table).where(column == source))
        ]
        if not rows:
            return
        self.session.execute(delete(model).where(column == source))
        moved = [{**row, column.key: target} for row in rows]
        moved = [row for row in moved if row.get("item_id") != row.get("credited_id")]
        if moved:
            self.session.execute(insert_or_ignore(self.session, table), moved)


_Parents = dict[Kind, Item]
_Names = dict[CreditRole, list[str]]


def _title_only(item: Item, _parents: _Parents, _names: _Names) -> dict[str, Any]:
    return {"title": item.title}


def _track_fields(item: Item, parents: _Parents, names: _Names) -> dict[str, Any]:
    artists = names[CreditRole.MAIN]
    if not artists and Kind.ARTIST in parents:
        artists = [parents[Kind.ARTIST].title]
    featured = names[CreditRole.FEATURED]
    title = item.title
    artist: str | list[str]
    if len(artists) == 1:
        artist = artists[0] + (" feat. " + ", ".join(featured) if featured else "")
    else:
        # A list of main artists has no room for featured ones: the title carries them.
        artist = artists
        if featured:
            title += " (feat. " + ", ".join(featured) + ")"
    fields: dict[str, Any] = {"title": title, "artist": artist}
    if Kind.ALBUM in parents:
        fields["album"] = parents[Kind.ALBUM].title
    if item.number is not None:
        fields["track_number"] = item.number
    return fields


def _episode_fields(item: Item, parents: _Parents, _names: _Names) -> dict[str, Any]:
    show = parents.get(Kind.SHOW)
    fields: dict[str, Any] = {"show": show.title if show else item.title, "title": item.title}
    season = parents.get(Kind.SEASON)
    if season is not None and season.number is not None:
        fields["season"] = season.number
    if item.number is not None:
        fields["episode"] = item.number
    return fields


def _film_fields(item: Item, _parents: _Parents, names: _Names) -> dict[str, Any]:
    fields: dict[str, Any] = {"title": item.title}
    year = item.match_key.rpartition("|")[2]
    if item.released_at:
        fields["year"] = item.released_at.year
    elif len(year) == 4 and year.isdigit():
        fields["year"] = int(year)  # a film's year names it (its identity key) even undated
    if names[CreditRole.DIRECTOR]:
        fields["director"] = names[CreditRole.DIRECTOR][0]
    return fields


def _match_fields(item: Item, parents: _Parents, names: _Names) -> dict[str, Any]:
    fields: dict[str, Any] = {"title": item.title}
    if Kind.COMPETITION in parents:
        fields["competition"] = parents[Kind.COMPETITION].title
    if names[CreditRole.HOME] and names[CreditRole.AWAY]:
        fields["home"], fields["away"] = names[CreditRole.HOME][0], names[CreditRole.AWAY][0]
    if item.released_at:
        fields["starts_at"] = item.released_at.isoformat()
    return fields


def _news_fields(item: Item, parents: _Parents, _names: _Names) -> dict[str, Any]:
    outlet = parents.get(Kind.OUTLET)
    fields: dict[str, Any] = {"outlet": outlet.title if outlet else "", "title": item.title}
    if item.kind == Kind.STORY and Kind.PROGRAMME in parents:
        fields["programme"] = parents[Kind.PROGRAMME].title
    return fields


_REFERENCE_FIELDS: dict[Kind, Callable[[Item, _Parents, _Names], dict[str, Any]]] = {
    Kind.TRACK: _track_fields,
    Kind.EPISODE: _episode_fields,
    Kind.FILM: _film_fields,
    Kind.MATCH: _match_fields,
    Kind.PROGRAMME: _news_fields,
    Kind.STORY: _news_fields,
}
