"""Batch resolution of item specs to item ids, creating what is missing.

One batch of plays touches each level of the catalogue a handful of times, whatever its size:
external ids, then identity keys, then aliases, then one insert for what is new.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from contextlib import AbstractContextManager, ExitStack
from threading import Lock
from typing import Any, TypeVarTuple

from sqlalchemy import Row, Select, event, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from tastegraph.catalog.kinds import DOMAIN_OF, Kind
from tastegraph.catalog.matching import identity
from tastegraph.catalog.models import ExternalId, Item, ItemAlias, ItemCredit
from tastegraph.catalog.specs import AnyRef, RefKey, Spec, ref_key, spec_for
from tastegraph.storage.dialect import insert_or_ignore

_ENRICHABLE = ("duration_seconds", "released_at", "original_language", "country")

RestructureHook = Callable[[Session, Sequence[int]], AbstractContextManager[object]]
"""Wraps a change to where items sit in the catalogue (a merge; a track learning its album):
entered before the change with the ids of the items that change, left after it, so figures
derived from the catalogue's shape (chart rollups) can follow. Wired by the composition root."""
_CHUNK = 500
_Ts = TypeVarTuple("_Ts")


class ResolutionCache:
    """Identity key -> item id, shared by the requests of one process.

    Alongside, reference key (``specs.ref_key``) -> item id: a reference spelled exactly like
    one resolved before is answered without building its specs. Only final (unmerged) ids are
    cached, and merges clear both. What a transaction learns is cached once it commits (see
    ``Learned``): the ids of items it created mean nothing if it rolls back.
    """

    def __init__(self, capacity: int = 200_000, ref_capacity: int = 50_000) -> None:
        self._capacity = capacity
        self._ref_capacity = ref_capacity  # a reference holds its strings: ~500 bytes each
        self._entries: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._refs: OrderedDict[RefKey, int] = OrderedDict()
        self._canonical: OrderedDict[int, int] = OrderedDict()
        self._lock = Lock()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Counts the clears, so that what was learned before one is not cached after it."""
        return self._generation

    def get(self, kind: str, key: str) -> int | None:
        with self._lock:
            item_id = self._entries.get((kind, key))
            if item_id is not None:
                self._entries.move_to_end((kind, key))
            return item_id

    def get_refs(self, keys: Sequence[RefKey]) -> list[int | None]:
        """The item id of each reference key, None where it is not cached."""
        found: list[int | None] = []
        with self._lock:
            for key in keys:
                item_id = self._refs.get(key)
                if item_id is not None:
                    self._refs.move_to_end(key)
                found.append(item_id)
        return found

    def get_canonical(self, item_ids: Iterable[int]) -> dict[int, int]:
        """Item id -> the id it stands for now (itself unless merged), for the cached ids."""
        with self._lock:
            return {i: self._canonical[i] for i in item_ids if i in self._canonical}

    def put_many(
        self,
        entries: Iterable[tuple[str, str, int]],
        refs: Iterable[tuple[RefKey, int]] = (),
        *,
        canonical: Iterable[tuple[int, int]] = (),
        generation: int | None = None,
    ) -> None:
        """Cache (kind, key, id) entries and (reference key, id) pairs, unless the cache was
        cleared since ``generation``."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            for kind, key, item_id in entries:
                self._entries[(kind, key)] = item_id
                self._entries.move_to_end((kind, key))
            for ref, item_id in refs:
                self._refs[ref] = item_id
                self._refs.move_to_end(ref)
            for item_id, target in canonical:
                self._canonical[item_id] = target
            while len(self._canonical) > self._capacity:
                self._canonical.popitem(last=False)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
            while len(self._refs) > self._ref_capacity:
                self._refs.popitem(last=False)

    def put(self, kind: str, key: str, item_id: int) -> None:
        self.put_many([(kind, key, item_id)])

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._refs.clear()
            self._canonical.clear()


_LEARNED = "tastegraph.resolution_cache.learned"


class Learned:
    """What resolution found out in one transaction, cached when the transaction commits.

    Kept in the session's ``info``; a clear of the cache meanwhile (a merge) drops it.
    """

    def __init__(self, cache: ResolutionCache) -> None:
        self.cache = cache
        self.generation = cache.generation
        self.entries: list[tuple[str, str, int]] = []
        self.refs: list[tuple[RefKey, int]] = []
        self.canonical: list[tuple[int, int]] = []

    @classmethod
    def of(cls, session: Session, cache: ResolutionCache) -> Learned:
        learned: Learned | None = session.info.get(_LEARNED)
        if learned is None or learned.cache is not cache:
            learned = session.info[_LEARNED] = cls(cache)
            event.listen(session, "after_commit", learned.commit)
            event.listen(session, "after_rollback", learned.forget)
        return learned

    def commit(self, _session: Session) -> None:
        self.cache.put_many(
            self.entries, self.refs, canonical=self.canonical, generation=self.generation
        )
        self.forget(_session)

    def forget(self, _session: Session) -> None:
        self.entries.clear()
        self.refs.clear()
        self.canonical.clear()
        self.generation = self.cache.generation


class Resolver:
    def __init__(
        self,
        session: Session,
        cache: ResolutionCache,
        restructure_hooks: Sequence[RestructureHook] = (),
    ) -> None:
        self.session = session
        self.cache = cache
        self.restructure_hooks = restructure_hooks
        self.learned = Learned.of(session, cache)

    def resolve_refs(self, refs: Sequence[AnyRef]) -> list[int]:
        """Find or create the item each reference names; ids in the order of ``refs``.

        What ``resolve`` does for the references' specs, except that a reference the cache
        knows (spelled, and saying, exactly what one resolved before said) is answered before
        any spec is built: resolving it again would find the same item and teach it nothing.
        """
        keys = [ref_key(ref) for ref in refs]
        ids = self.cache.get_refs(keys)
        missing = [i for i, item_id in enumerate(ids) if item_id is None]
        if missing:
            specs = [spec_for(refs[i]) for i in missing]
            self.resolve(specs)
            learned: list[tuple[RefKey, int]] = []
            for i, spec in zip(missing, specs, strict=True):
                if spec.resolved_id is None:
                    raise RuntimeError(f"{spec.kind}:{spec.title} was not resolved")
                ids[i] = spec.resolved_id
                learned.append((keys[i], spec.resolved_id))
            self.learned.refs.extend(learned)
        return [item_id for item_id in ids if item_id is not None]  # every one is known now

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
        created = set(missing)
        to_enrich: list[tuple[int, Spec]] = []
        for group_key, group in groups.items():
            if group_key not in found:
                continue
            item_id = found[group_key]
            for spec in group:
                spec.resolved_id = item_id
            self.learned.entries.append((*group_key, item_id))
            if create:
                # A new item holds what its first spec said; any other spec may add to it.
                to_enrich.extend((item_id, spec) for spec in group[group_key in created :])
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
        # In key order: two transactions creating the same new items (two server processes
        # resolving overlapping batches) then wait for each other instead of deadlocking.
        for (kind, key), spec in sorted(specs.items(), key=lambda entry: entry[0]):
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
            # The table, not the entity: an ORM bulk insert sends new items one by one.
            self.session.execute(
                insert_or_ignore(self.session, Item.__table__), rows[start : start + _CHUNK]
            )
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
            self.session.execute(insert_or_ignore(self.session, ItemCredit.__table__), credits)
        if external:
            self.session.execute(insert_or_ignore(self.session, ExternalId.__table__), external)

    def _enrich_many(self, pairs: list[tuple[int, Spec]]) -> None:
        """Fill in what existing items lack: a track learns its album, a film its runtime.

        Specs are applied in order, so where two disagree the first one wins.
        """
        # One spelling sent many times in a batch is applied once.
        unique: dict[tuple[int, Hashable], Spec] = {}
        for item_id, spec in pairs:
            if spec.attrs or spec.ids or spec.number is not None or _has_container(spec):
                unique.setdefault((item_id, _teaching(spec)), spec)
        if not unique:
            return
        parent = aliased(Item)
        rows = self._chunked(
            lambda chunk: (
                select(
                    Item.id,
                    Item.parent_id,
                    Item.number,
                    *(getattr(Item, name) for name in _ENRICHABLE),
                    parent.kind,
                )
                .outerjoin(parent, parent.id == Item.parent_id)
                .where(Item.id.in_(chunk))
            ),
            sorted({item_id for item_id, _ in unique}),
        )
        current: dict[int, dict[str, Any]] = {}
        for row in rows:
            item_id, parent_id, number, *attrs, parent_kind = row
            current[item_id] = {
                "parent_id": parent_id,
                "number": number,
                "parent_kind": parent_kind,
                **dict(zip(_ENRICHABLE, attrs, strict=True)),
            }
        external: dict[tuple[str, str], int] = {}
        updates: list[tuple[int, dict[str, Any]]] = []
        for (item_id, _), spec in unique.items():
            state = current.get(item_id)
            if state is None:
                continue
            values = {
                name: spec.attrs[name]
                for name in _ENRICHABLE
                if name in spec.attrs and state[name] is None
            }
            if (
                _has_container(spec)
                and spec.parent is not None
                and state["parent_id"] != spec.parent.resolved_id
                and state["parent_kind"] in (None, Kind.ARTIST, Kind.SHOW, Kind.OUTLET)
            ):
                values["parent_id"] = spec.parent.resolved_id
                state["parent_kind"] = spec.parent.kind
            if spec.number is not None and state["number"] is None:
                values["number"] = spec.number
            if values:
                updates.append((item_id, values))
                state.update(values)
            for scheme_value in spec.ids.items():
                external.setdefault(scheme_value, item_id)
        self._update(updates)
        if external:
            self.session.execute(
                insert_or_ignore(self.session, ExternalId.__table__),
                [
                    {"scheme": scheme, "value": value, "item_id": item_id}
                    for (scheme, value), item_id in external.items()
                ],
            )

    def _update(self, updates: list[tuple[int, dict[str, Any]]]) -> None:
        """Apply what items learned; new parents go through the restructure hooks."""
        moved = sorted({item_id for item_id, values in updates if "parent_id" in values})
        with ExitStack() as stack:
            if moved:
                for hook in self.restructure_hooks:
                    stack.enter_context(hook(self.session, moved))
            for item_id, values in updates:
                self.session.execute(update(Item).where(Item.id == item_id).values(**values))

    def _chunked(
        self, make_query: Callable[[list[Any]], Select[*_Ts]], keys: list[Any]
    ) -> list[Row[*_Ts]]:
        rows: list[Row[*_Ts]] = []
        for start in range(0, len(keys), _CHUNK):
            rows.extend(self.session.execute(make_query(keys[start : start + _CHUNK])).all())
        return rows


def _teaching(spec: Spec) -> Hashable:
    """What a spec can teach an existing item, to apply each lesson once."""
    parent = spec.parent.resolved_id if spec.parent is not None and _has_container(spec) else None
    return (
        tuple(sorted(spec.attrs.items())),
        tuple(sorted(spec.ids.items())),
        spec.number,
        parent,
    )


def _has_container(spec: Spec) -> bool:
    """Whether the spec hangs under an album, season or programme rather than a creator."""
    return spec.parent is not None and spec.parent.kind in (Kind.ALBUM, Kind.SEASON, Kind.PROGRAMME)
