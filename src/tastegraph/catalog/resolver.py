"""Batch resolution of item specs to item ids, creating what is missing.

One batch of plays touches each level of the catalogue a handful of times, whatever its size:
external ids, then identity keys, then aliases, then one insert for what is new.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from threading import Lock

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session, aliased

from tastegraph.catalog.kinds import DOMAIN_OF, Kind
from tastegraph.catalog.matching import identity
from tastegraph.catalog.models import ExternalId, Item, ItemAlias, ItemCredit
from tastegraph.catalog.specs import Spec
from tastegraph.storage.dialect import insert_or_ignore

_ENRICHABLE = ("duration_seconds", "released_at", "original_language", "country")
_CHUNK = 500


class ResolutionCache:
    """Identity key -> item id, shared by the requests of one process.

    Only final (unmerged) ids are cached, and merges clear it.
    """

    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = Lock()

    def get(self, kind: str, key: str) -> int | None:
        with self._lock:
            item_id = self._entries.get((kind, key))
            if item_id is not None:
                self._entries.move_to_end((kind, key))
            return item_id

    def put(self, kind: str, key: str, item_id: int) -> None:
        with self._lock:
            self._entries[(kind, key)] = item_id
            if len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Resolver:
    def __init__(self, session: Session, cache: ResolutionCache) -> None:
        self.session = session
        self.cache = cache

    def resolve(self, specs: Iterable[Spec], *, create: bool = True) -> None:
        """Set ``resolved_id`` on every spec and on everything it depends on.

        With ``create=False`` nothing is written: specs that name unknown items, and specs
        that depend on them, keep ``resolved_id = None``.
        """
        by_depth: dict[int, list[Spec]] = defaultdict(list)
        seen: set[int] = set()
        queue = list(specs)
        # Breadth-first in submission order, so the first spelling seen names a new item.
        for spec in queue:
            if id(spec) in seen:
                continue
            seen.add(id(spec))
            by_depth[spec.depth].append(spec)
            queue.extend(spec.dependencies())
        for depth in sorted(by_depth):
            level = by_depth[depth]
            if not create:
                level = [s for s in level if all(d.resolved_id for d in s.dependencies())]
            self._resolve_level(level, create=create)

    def _resolve_level(self, specs: list[Spec], *, create: bool) -> None:
        groups: dict[tuple[str, str], list[Spec]] = defaultdict(list)
        for spec in specs:
            groups[(spec.kind.value, spec.key())].append(spec)
        found: dict[tuple[str, str], int] = {}
        for group_key in groups:
            hit = self.cache.get(*group_key)
            if hit is not None:
                found[group_key] = hit
        # Items found in the cache were enriched when they were first resolved.
        cached = set(found)
        missing = [k for k in groups if k not in found]
        if missing:
            found.update(self._by_external_id({k: groups[k] for k in missing}))
            missing = [k for k in missing if k not in found]
        if missing:
            found.update(self._by_key(missing))
            missing = [k for k in missing if k not in found]
        if missing:
            found.update(self._by_alias(missing))
            missing = [k for k in missing if k not in found]
        if missing and create:
            self._create({k: groups[k][0] for k in missing})
            found.update(self._by_key(missing))
        skip_enrich = set(missing) | cached
        to_enrich: list[tuple[int, Spec]] = []
        for group_key, group in groups.items():
            if group_key not in found:
                continue
            item_id = found[group_key]
            for spec in group:
                spec.resolved_id = item_id
            self.cache.put(*group_key, item_id)
            if create and group_key not in skip_enrich:
                to_enrich.append((item_id, group[0]))
        self._enrich_many(to_enrich)

    def _by_external_id(
        self, groups: dict[tuple[str, str], list[Spec]]
    ) -> dict[tuple[str, str], int]:
        wanted: dict[tuple[str, str], tuple[str, str]] = {}
        for group_key, group in groups.items():
            for spec in group:
                for scheme, value in spec.ids.items():
                    wanted[(scheme, value)] = group_key
        if not wanted:
            return {}
        rows = self._chunked(
            lambda chunk: (
                select(ExternalId.scheme, ExternalId.value, Item.id, Item.merged_into_id, Item.kind)
                .join(Item, Item.id == ExternalId.item_id)
                .where(tuple_(ExternalId.scheme, ExternalId.value).in_(chunk))
            ),
            list(wanted),
        )
        out: dict[tuple[str, str], int] = {}
        for scheme, value, item_id, merged_into, kind in rows:
            group_key = wanted[(scheme, value)]
            if kind == group_key[0]:
                out.setdefault(group_key, merged_into or item_id)
        return out

    def _by_key(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        rows = self._chunked(
            lambda chunk: select(Item.kind, Item.match_key, Item.id, Item.merged_into_id).where(
                tuple_(Item.kind, Item.match_key).in_(chunk)
            ),
            keys,
        )
        return {(kind, key): merged_into or item_id for kind, key, item_id, merged_into in rows}

    def _by_alias(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        rows = self._chunked(
            lambda chunk: select(ItemAlias.kind, ItemAlias.match_key, ItemAlias.item_id).where(
                tuple_(ItemAlias.kind, ItemAlias.match_key).in_(chunk)
            ),
            keys,
        )
        return {(kind, key): item_id for kind, key, item_id in rows}

    def _create(self, specs: dict[tuple[str, str], Spec]) -> None:
        rows = []
        for (kind, key), spec in specs.items():
            rows.append(
                {
                    "kind": kind,
                    "domain": DOMAIN_OF[Kind(kind)].value,
                    "title": spec.title,
                    "match_key": key,
                    "search_key": identity(spec.title)[:1024],
                    "parent_id": spec.parent.resolved_id if spec.parent else None,
                    "number": spec.number,
                    **{name: spec.attrs.get(name) for name in _ENRICHABLE},
                }
            )
        for start in range(0, len(rows), _CHUNK):
            self.session.execute(insert_or_ignore(self.session, Item), rows[start : start + _CHUNK])
        ids = self._by_key(list(specs))
        credits = []
        external = []
        for group_key, spec in specs.items():
            item_id = ids[group_key]
            for position, (credited, role) in enumerate(spec.credits):
                credits.append(
                    {
                        "item_id": item_id,
                        "credited_id": credited.resolved_id,
                        "role": role.value,
                        "position": position,
                    }
                )
            for scheme, value in spec.ids.items():
                external.append({"scheme": scheme, "value": value, "item_id": item_id})
        if credits:
            self.session.execute(insert_or_ignore(self.session, ItemCredit), credits)
        if external:
            self.session.execute(insert_or_ignore(self.session, ExternalId), external)

    def _enrich_many(self, pairs: list[tuple[int, Spec]]) -> None:
        """Fill in what existing items lack: a track learns its album, a film its runtime."""
        pairs = [
            (item_id, spec)
            for item_id, spec in pairs
            if spec.attrs or spec.ids or spec.number is not None or _has_container(spec)
        ]
        if not pairs:
            return
        parent = aliased(Item)
        rows = self._chunked(
            lambda chunk: (
                select(Item, parent.kind)
                .outerjoin(parent, parent.id == Item.parent_id)
                .where(Item.id.in_(chunk))
            ),
            sorted({item_id for item_id, _ in pairs}),
        )
        current = {item.id: (item, parent_kind) for item, parent_kind in rows}
        external = []
        for item_id, spec in pairs:
            if item_id not in current:
                continue
            item, parent_kind = current[item_id]
            values = {
                name: spec.attrs[name]
                for name in _ENRICHABLE
                if name in spec.attrs and getattr(item, name) is None
            }
            if (
                _has_container(spec)
                and spec.parent is not None
                and item.parent_id != spec.parent.resolved_id
                and parent_kind in (None, Kind.ARTIST, Kind.SHOW, Kind.OUTLET)
            ):
                values["parent_id"] = spec.parent.resolved_id
            if spec.number is not None and item.number is None:
                values["number"] = spec.number
            if values:
                self.session.execute(update(Item).where(Item.id == item_id).values(**values))
            external.extend(
                {"scheme": scheme, "value": value, "item_id": item_id}
                for scheme, value in spec.ids.items()
            )
        if external:
            self.session.execute(insert_or_ignore(self.session, ExternalId), external)

    def _chunked(self, make_query, keys):  # type: ignore[no-untyped-def]
        rows = []
        for start in range(0, len(keys), _CHUNK):
            rows.extend(self.session.execute(make_query(keys[start : start + _CHUNK])).all())
        return rows


def _has_container(spec: Spec) -> bool:
    """Whether the spec hangs under an album, season or programme rather than a creator."""
    return spec.parent is not None and spec.parent.kind in (Kind.ALBUM, Kind.SEASON, Kind.PROGRAMME)
