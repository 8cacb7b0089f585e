"""Recommendations, similar items, neighbours, compatibility and stations, answered online.

Every answer reads the user's plays and feedback from the database at request time and scores
them with the published model (``RecsHolder``): plays accepted a second ago count (a new user's
first plays are folded in without retraining), and a "not interested" said a second ago keeps
the item out of the very next answer. Items the user already played, loved, hated, is not
interested in or called a bad recommendation are never recommended (stations may bring back
music not played for a while). Without a trained model, or for a user without plays, answers
fall back to what is popular in the user's country, then everywhere.

Nothing unavailable where and when the answer is shown (territorial rights, through the
catalogue's availability index) is ever suggested: personal lists, stations and cross-kind
lists for the viewer's country (the user's own unless the caller says otherwise), similar items
when the viewer's country is known. The filter runs on the ranked candidates before the cut,
checking a growing prefix, so lists still fill to the size asked from the next candidates.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.catalog.availability import Availability
from tastegraph.catalog.kinds import CONSUMABLE, DOMAIN_OF, Domain, Kind
from tastegraph.catalog.models import Item
from tastegraph.catalog.viewer import Viewer
from tastegraph.recs.artifacts import Manifest
from tastegraph.recs.components import FloatArray, IntArray
from tastegraph.recs.data import (
    KIND_CODES,
    MIXED,
    UserState,
    domain_kinds,
    item_roots,
    local_items,
    parse_kind,
    popular_items,
    row_for,
    user_state,
)
from tastegraph.recs.errors import InvalidRecsRequest, ModelNotTrained, StationNotFound
from tastegraph.recs.local_share import LocalRule, LocalSharePolicy, rerank
from tastegraph.recs.serving import BoolArray, LevelMap, LoadedKind, RecsHolder, Snapshot
from tastegraph.recs.stations import StationEntry, StationSession
from tastegraph.social.services import SocialService
from tastegraph.storage.base import utcnow

VERBS: dict[Domain, str] = {
    Domain.MUSIC: "listened to",
    Domain.TV: "watched",
    Domain.FILM: "watched",
    Domain.SPORTS: "watched",
    Domain.NEWS: "read",
}
COMPATIBILITY_LEVELS: tuple[tuple[float, str], ...] = (
    (0.9, "super"),
    (0.7, "very high"),
    (0.5, "high"),
    (0.3, "medium"),
    (0.1, "low"),
    (0.0, "very low"),
)
"""Last.fm's tasteometer words for a 0..1 compatibility score: the first threshold reached."""
POPULAR_DAYS = 90
EXPLAIN_ITEMS = 50
"""How many of the user's heaviest items are considered when explaining a recommendation."""
STATIONS_KEPT = 10
"""Kept stations per user: starting another forgets the oldest."""

_Ranked = TypeVar("_Ranked", bound=tuple[Any, ...])
"""A ranked entry whose first field is an item id."""


def compatibility_level(score: float) -> str:
    for threshold, word in COMPATIBILITY_LEVELS:
        if score >= threshold:
            return word
    return COMPATIBILITY_LEVELS[-1][1]


@dataclass(frozen=True)
class Recommended:
    item: Item
    score: float
    because: Item | None = None
    reason: str | None = None
    local: bool | None = None
    """Whether the item counts as local for the user's country (only under a local share)."""
    known: bool = False
    """Stations: the user played it before (longer ago than the recent window)."""


@dataclass(frozen=True)
class Recommendations:
    kind: str
    source: str
    """``model`` or ``popular`` (no model yet, or no plays to go on)."""
    entries: list[Recommended]
    version: str | None = None
    model: str | None = None
    based_on: str | None = None
    local_rule: LocalRule | None = None


@dataclass(frozen=True)
class Similar:
    source: str
    """``model``, or ``none`` when no trained model knows the item."""
    entries: list[tuple[Item, float]]
    version: str | None = None


@dataclass(frozen=True)
class Neighbour:
    user: User
    score: float
    shared: list[Item]


@dataclass(frozen=True)
class Neighbours:
    kind: str
    entries: list[Neighbour]
    version: str | None = None


@dataclass(frozen=True)
class Compatibility:
    score: float
    level: str
    shared: list[Item]
    shared_count: int
    kind: str
    source: str
    """``model`` (taste vectors of the trained model) or ``plays`` (overlap of the plays)."""


@dataclass(frozen=True)
class Station:
    kind: str
    size: int
    source: str
    """``model``, ``popular``, or ``replay`` for a page of a kept station read again."""
    entries: list[Recommended]
    recent_days: int
    seed: int | None = None
    version: str | None = None
    id: int | None = None
    """A kept station's id (``start_station``); None for a one-off queue."""
    cursor: int = 0
    """The queue position of the first entry."""
    next_cursor: int | None = None
    """Where the next page starts; None when the station has nothing more to play."""


@dataclass(frozen=True)
class _Plan:
    loaded: LoadedKind
    target: str
    columns: BoolArray | None = None
    """Restrict candidates to these columns (a kind within the mixed model)."""
    level: LevelMap | None = None
    """Score the items the columns count for (artists, albums, teams... from their tracks,
    matches...), each by its best member, instead of the columns."""

    @property
    def aggregate(self) -> bool:
        return self.level is not None


@dataclass
class _Candidates:
    ids: IntArray
    scores: FloatArray
    columns: IntArray
    """The model column behind each candidate (its best member for a root)."""


class RecsService:
    """Works inside the caller's unit of work and never commits; it writes only the stations
    it keeps for paging."""

    def __init__(
        self,
        session: Session,
        holder: RecsHolder | None,
        social: SocialService,
        *,
        policy: LocalSharePolicy | None = None,
        recent_days: int = 30,
        per_group: int = 2,
        clock: Callable[[], datetime] = utcnow,
        availability: Availability | None = None,
    ) -> None:
        self.session = session
        self.holder = holder
        self.social = social
        self.policy = policy or LocalSharePolicy()
        self.recent_days = recent_days
        self.per_group = per_group
        self._clock = clock
        self.availability = availability
        """Territorial rights (``Runtime.availability``); None: nothing is filtered."""

    def _now(self) -> datetime:
        return self._clock()

    def _snapshot(self) -> Snapshot | None:
        return self.holder.snapshot() if self.holder is not None else None

    def status(self) -> Manifest | None:
        snapshot = self._snapshot()
        return snapshot.manifest if snapshot else None

    # -- availability -----------------------------------------------------------------------

    def _where(self, user: User, where: Viewer | None) -> Viewer | None:
        """Where and when a personal answer is shown: ``where`` when the caller knows (the
        request's country), else the user's own country, now. None: no filter."""
        if self.availability is None:
            return None
        return where if where is not None else Viewer(country=user.country)

    def _top_available(
        self,
        ids: IntArray,
        work: FloatArray,
        size: int,
        where: Viewer | None,
        need: int | None = None,
    ) -> list[int]:
        """``_top`` keeping only candidates available ``where``: the best ``size`` are
        checked, the unavailable ones set to -inf in ``work`` (so later picks from it skip
        them too) and, while fewer than ``need`` (default ``size``) are left, a bigger prefix
        is taken, until enough are found or none are left."""
        if where is None or self.availability is None:
            return _top(work, size)
        need = size if need is None else min(need, size)
        fetch = size
        while True:
            pool = _top(work, fetch)
            ok = self.availability.mask(ids[pool].tolist(), where.country, where.at)
            kept = [p for p, good in zip(pool, ok, strict=True) if good]
            if len(kept) >= need or len(pool) < fetch:
                return kept[:size]
            work[[p for p, good in zip(pool, ok, strict=True) if not good]] = -np.inf
            fetch = min(len(work), fetch * 4)

    def _keep_available(
        self, ranked: Sequence[_Ranked], size: int, where: Viewer | None
    ) -> list[_Ranked]:
        """The first ``size`` entries of ``ranked`` (best first, item id first) available
        ``where``, checking a growing prefix: a long popularity list costs what it shows."""
        if where is None or self.availability is None:
            return list(ranked[:size])
        out: list[_Ranked] = []
        start, step = 0, max(size, 1)
        while len(out) < size and start < len(ranked):
            chunk = ranked[start : start + step]
            ok = self.availability.mask([int(r[0]) for r in chunk], where.country, where.at)
            out.extend(r for r, good in zip(chunk, ok, strict=True) if good)
            start += step
            step *= 4
        return out[:size]

    # -- personal recommendations -----------------------------------------------------------

    def recommend(
        self,
        user: User,
        kind: str | None = None,
        limit: int = 20,
        based_on: str | None = None,
        *,
        where: Viewer | None = None,
    ) -> Recommendations:
        """The user's recommendations of a kind (``mixed`` by default), best first, each with
        the item of theirs that led to it. ``based_on`` (a domain or kind: ``music``) scores
        from those plays only: shows for a music taste. Only items available ``where`` (the
        viewer's country and moment; default: the user's country, now) are listed."""
        target = parse_kind(kind)
        source = _source_kinds(based_on)
        snapshot = self._snapshot()
        plan = _plan(snapshot, target, cross=source is not None)
        consumed = user_state(self.session, user.id, target)
        shown = self._where(user, where)
        if plan is None:
            return self._popular_answer(user, target, limit, consumed, snapshot, based_on, shown)
        if plan.loaded.kind == target and source is None:
            state = consumed
        else:
            state = user_state(self.session, user.id, plan.loaded.kind, only=source)
        weights = state.weights()
        row = row_for(weights, plan.loaded.item_index, plan.loaded.n_items)
        if row.nnz == 0:
            return self._popular_answer(user, target, limit, consumed, snapshot, based_on, shown)
        scores = plan.loaded.score(row, self._friends_row(user, plan.loaded))
        cands = _candidates(plan, scores)
        excluded = set(consumed.plays) | consumed.negative | consumed.loved
        work = _masked(plan, cands, excluded)
        # The pool is over-fetched for the local-share re-ranker; only ``limit`` of it must be
        # available (a second, bigger fetch only when fewer are).
        pool = self._top_available(cands.ids, work, max(limit * 5, limit + 50), shown, limit)
        rule = self.policy.rule_for(user.country, target)
        flags: list[bool] = []
        if rule is not None:
            local = np.zeros(len(work), dtype=np.bool_)
            local[_positions(plan, cands, self._local_ids(rule, target))] = True
            locals_only = np.where(local, work, -np.inf).astype(np.float32)
            extra = self._top_available(cands.ids, locals_only, limit, shown)
            pool = sorted(set(pool) | set(extra), key=lambda p: (-float(work[p]), p))
            flags = [bool(local[p]) for p in pool]
            chosen = [
                pool[c] for c in rerank([float(work[p]) for p in pool], flags, limit, rule.share)
            ]
        else:
            chosen = pool[:limit]
        because = self._explain(plan.loaded, weights, cands.columns[chosen])
        ids = [int(cands.ids[p]) for p in chosen]
        items = self._items([*ids, *(i for i in because if i is not None)])
        local_ids = {int(cands.ids[p]) for p, f in zip(pool, flags, strict=False) if f}
        entries = []
        for p, item_id, reason_id in zip(chosen, ids, because, strict=True):
            item = items.get(item_id)
            if item is None:
                continue
            reason_item = items.get(reason_id) if reason_id is not None else None
            entries.append(
                Recommended(
                    item=item,
                    score=float(cands.scores[p]),
                    because=reason_item,
                    reason=_reason(reason_item),
                    local=item_id in local_ids if rule else None,
                )
            )
        manifest = snapshot.manifest if snapshot else None
        return Recommendations(
            kind=target,
            source="model",
            entries=entries,
            version=manifest.version if manifest else None,
            model=manifest.kinds[plan.loaded.kind].model if manifest else None,
            based_on=based_on,
            local_rule=rule,
        )

    def _friends_row(self, user: User, loaded: LoadedKind) -> sparse.csr_matrix | None:
        """For a model that uses friends' taste: how many of the user's friends have each item
        (their trained rows: incognito plays never enter them), counting only friends whose
        profiles the user may see. Read live, so an unfriending or a profile made private
        counts at once; the model's side is computed once per version."""
        if loaded.social is None:
            return None
        friends = self.social.visible_among(user, self.social.friends_of(user.id))
        return loaded.friends_row(f.id for f in friends if f.id != user.id)

    def _local_ids(self, rule: LocalRule, target: str) -> frozenset[int]:
        """Items of the target's kinds that count as local under ``rule`` (kept a minute)."""
        key = ("local", rule.country, tuple(sorted(rule.languages)), target)

        def compute() -> frozenset[int]:
            return local_items(self.session, target, rule.country, rule.languages)

        if self.holder is None:
            return compute()
        found: frozenset[int] = self.holder.cached(key, compute)
        return found

    def _choose(
        self,
        ids: Sequence[int],
        scores: Sequence[float],
        limit: int,
        rule: LocalRule | None,
        target: str,
    ) -> tuple[list[int], dict[int, Item], set[int]]:
        """Positions in ``ids`` to show (re-ranked for the local share), the items, the local
        ones."""
        if rule is None:
            chosen = list(range(min(limit, len(ids))))
            return chosen, self._items([ids[c] for c in chosen]), set()
        local_ids = self._local_ids(rule, target)
        flags = [i in local_ids for i in ids]
        chosen = rerank(scores, flags, limit, rule.share)
        return chosen, self._items([ids[c] for c in chosen]), {i for i in ids if i in local_ids}

    def _popular_answer(
        self,
        user: User,
        target: str,
        limit: int,
        consumed: UserState,
        snapshot: Snapshot | None,
        based_on: str | None,
        where: Viewer | None,
    ) -> Recommendations:
        excluded = set(consumed.plays) | consumed.negative | consumed.loved
        popular = self._popular(target, user.country, snapshot)
        ranked = [(i, s) for i, s in popular if i not in excluded]
        ranked = self._keep_available(ranked, max(limit * 5, limit + 50), where)
        rule = self.policy.rule_for(user.country, target)
        if rule is not None:  # the country's local favourites may sit further down
            local_ids = self._local_ids(rule, target)
            extra = self._keep_available(
                [(i, s) for i, s in popular if i in local_ids and i not in excluded], limit, where
            )
            ranked = sorted(set(ranked) | set(extra), key=lambda r: (-r[1], r[0]))
        chosen, items, local = self._choose(
            [i for i, _ in ranked], [s for _, s in ranked], limit, rule, target
        )
        entries = [
            Recommended(
                item=items[ranked[c][0]],
                score=ranked[c][1],
                reason="Popular in your country" if user.country else "Popular",
                local=ranked[c][0] in local if rule else None,
            )
            for c in chosen
            if ranked[c][0] in items
        ]
        return Recommendations(
            kind=target,
            source="popular",
            entries=entries,
            version=snapshot.version if snapshot else None,
            based_on=based_on,
            local_rule=rule,
        )

    def _popular(
        self, target: str, country: str | None, snapshot: Snapshot | None
    ) -> list[tuple[int, float]]:
        """(item id, 0..1 popularity) of the kind: the country's favourites, then everyone's."""
        loaded = snapshot.get(target) if snapshot else None
        if loaded is None and snapshot is not None and target in CONSUMABLE_CODES:
            mixed = snapshot.get(MIXED)
            loaded = mixed  # columns of other kinds are filtered below
        out: dict[int, float] = {}
        if loaded is not None:
            wanted = None if loaded.kind == target else loaded.kind_mask(target)
            top = float(loaded.listeners.max()) if loaded.n_items else 1.0
            for scope in (country, None):
                for col in loaded.popular_columns(scope):
                    if wanted is not None and not wanted[col]:
                        continue
                    out.setdefault(int(loaded.item_ids[col]), float(loaded.listeners[col]) / top)
            if out:
                return list(out.items())
        since = self._now() - timedelta(days=POPULAR_DAYS)
        for scope in (country, None):
            key = ("popular", target, scope, since.date())

            def compute(scope: str | None = scope) -> list[tuple[int, int]]:
                return popular_items(self.session, target, since=since, country=scope, limit=500)

            rows: list[tuple[int, int]] = (
                self.holder.cached(key, compute) if self.holder is not None else compute()
            )
            top = max((n for _, n in rows), default=1)
            for item_id, n in rows:
                out.setdefault(item_id, n / top)
        return list(out.items())

    def _explain(
        self, loaded: LoadedKind, weights: dict[int, float], columns: IntArray
    ) -> list[int | None]:
        """For each recommended column, the user's item that contributes most to it: the
        largest similarity x weight among the user's heaviest items (cosine of the model's
        item embeddings, else of who played what)."""
        mine = sorted(
            ((loaded.item_index[i], w) for i, w in weights.items() if i in loaded.item_index),
            key=lambda cw: -cw[1],
        )[:EXPLAIN_ITEMS]
        if not mine or len(columns) == 0:
            return [None] * len(columns)
        cols = np.asarray([c for c, _ in mine], dtype=np.int64)
        ws = np.asarray([w for _, w in mine], dtype=np.float32)
        if loaded.vectors is not None:
            sims = loaded.vectors[columns] @ loaded.vectors[cols].T
        else:
            sims = loaded.co_similarity(columns, cols)
        contribution = sims * ws[None, :]
        best = np.argmax(contribution, axis=1)
        out: list[int | None] = []
        for k, b in enumerate(best):
            ok = contribution[k, b] > 0
            out.append(int(loaded.item_ids[cols[b]]) if ok else None)
        return out

    # -- similar items ----------------------------------------------------------------------

    def similar(self, item: Item, limit: int = 20, *, where: Viewer | None = None) -> Similar:
        """Items of the same kind most similar to ``item``, with a 0..1 match (the closest is
        1), from the kind's model, else the mixed one. With ``where`` of a known country,
        only items available there (an anonymous viewer's lists are not filtered)."""
        snapshot = self._snapshot()
        if snapshot is None:
            return Similar(source="none", entries=[])
        shown = where if where is not None and where.country is not None else None
        if self.availability is None:
            shown = None
        kind = item.kind.value
        for loaded in (snapshot.get(kind), snapshot.get(MIXED)):
            if loaded is None or item.id not in loaded.item_index:
                continue
            col = loaded.item_index[item.id]
            same_kind = loaded.kind == kind
            ask = limit + 1 if same_kind else min(loaded.n_items, limit * 10 + 20)
            while True:
                found, scores = loaded.model.similar_items(np.asarray([col], dtype=np.int64), ask)
                code = KIND_CODES.index(kind)
                picked: list[tuple[int, float]] = []
                for c, s in zip(found[0], scores[0], strict=True):
                    if c < 0 or c == col or not math.isfinite(float(s)) or s <= 0:
                        continue
                    if not same_kind and loaded.item_kinds[c] != code:
                        continue
                    picked.append((int(loaded.item_ids[c]), float(s)))
                picked = self._keep_available(picked, limit, shown)
                # Unavailable neighbours left the list short: ask the model for more.
                if shown is None or len(picked) >= limit or ask >= loaded.n_items:
                    break
                ask = min(loaded.n_items, ask * 4)
            return self._similar_answer(picked, snapshot)
        mixed = snapshot.get(MIXED)
        level = mixed.level_map(kind) if mixed is not None else None
        members = level.members(item.id) if level is not None else None
        if mixed is not None and level is not None and members is not None and len(members):
            return self._similar_answer(
                self._similar_level(mixed, level, item, members, limit, shown), snapshot
            )
        return Similar(source="none", entries=[], version=snapshot.version)

    def _similar_level(
        self,
        mixed: LoadedKind,
        level: LevelMap,
        item: Item,
        members: IntArray,
        limit: int,
        where: Viewer | None,
    ) -> list[tuple[int, float]]:
        """Items of a level without its own model (teams, albums...) like ``item``: its
        tracks, matches... scored as one listener's row by the mixed model, each level item
        by its best member."""
        row = sparse.csr_matrix(
            (
                np.ones(len(members), dtype=np.float32),
                (np.zeros(len(members), dtype=np.int64), members),
            ),
            shape=(1, mixed.n_items),
        )
        scores = mixed.score(row)
        values, _ = level.best(scores)
        plan = _Plan(loaded=mixed, target=item.kind.value, level=level)
        cands = _Candidates(ids=level.ids, scores=values, columns=level.ids)
        work = _masked(plan, cands, {item.id})
        best = self._top_available(level.ids, work, limit, where)
        return [(int(level.ids[p]), float(values[p])) for p in best if values[p] > 0]

    def _similar_answer(self, picked: list[tuple[int, float]], snapshot: Snapshot) -> Similar:
        top = picked[0][1] if picked and picked[0][1] > 0 else 1.0
        items = self._items([i for i, _ in picked])
        entries = [(items[i], max(0.0, min(1.0, s / top))) for i, s in picked if i in items]
        return Similar(source="model", entries=entries, version=snapshot.version)

    # -- people -----------------------------------------------------------------------------

    def neighbours(
        self, viewer: User | None, owner: User, kind: str | None = None, limit: int = 25
    ) -> Neighbours:
        """The users whose taste is closest to ``owner``'s, among those ``viewer`` may see,
        with the items they share (artists, shows... for the mixed model)."""
        target = parse_kind(kind)
        snapshot = self._snapshot()
        loaded = snapshot.get(target) if snapshot else None
        if loaded is None or snapshot is None:
            raise ModelNotTrained(
                f"No {target} model has been trained yet: run `tastegraph recs train`."
            )
        weights = user_state(self.session, owner.id, target).weights()
        row = row_for(weights, loaded.item_index, loaded.n_items)
        if row.nnz == 0:
            return Neighbours(kind=target, entries=[], version=snapshot.version)
        sims = loaded.similarities(loaded.taste_of(row))
        own = loaded.user_index.get(owner.id)
        if own is not None:
            sims[own] = -np.inf
        order = np.argsort(-sims, kind="stable")[: limit * 4 + 50]
        order = order[sims[order] > 0]
        users = self._users([int(loaded.user_ids[r]) for r in order])
        mine = {loaded.item_index[i]: w for i, w in weights.items() if i in loaded.item_index}
        entries: list[Neighbour] = []
        shared_ids: list[list[int]] = []
        for r in order:
            other = users.get(int(loaded.user_ids[r]))
            if other is None or other.id == owner.id or not self.social.can_view(viewer, other):
                continue
            entries.append(Neighbour(user=other, score=float(sims[r]), shared=[]))
            shared_ids.append(_shared_columns(loaded, mine, int(r)))
            if len(entries) == limit:
                break
        resolved = self._shared_items(loaded, target, shared_ids, per=5)
        return Neighbours(
            kind=target,
            entries=[
                Neighbour(user=n.user, score=round(min(1.0, n.score), 6), shared=s)
                for n, s in zip(entries, resolved, strict=True)
            ],
            version=snapshot.version,
        )

    def compatibility(self, a: User, b: User, kind: str | None = None) -> Compatibility:
        """How alike two users' tastes are, 0..1 with Last.fm's words, and what they share."""
        target = parse_kind(kind)
        wa = user_state(self.session, a.id, target).weights()
        wb = user_state(self.session, b.id, target).weights()
        snapshot = self._snapshot()
        loaded = snapshot.get(target) if snapshot else None
        score, source = 0.0, "plays"
        if wa and wb:
            if loaded is not None and loaded.vectors is not None:
                ra = row_for(wa, loaded.item_index, loaded.n_items)
                rb = row_for(wb, loaded.item_index, loaded.n_items)
                if ra.nnz and rb.nnz:
                    ta, tb = loaded.taste_of(ra), loaded.taste_of(rb)
                    assert isinstance(ta, np.ndarray)
                    assert isinstance(tb, np.ndarray)
                    score, source = float(np.dot(ta.ravel(), tb.ravel())), "model"
            if source == "plays":
                score = _cosine(wa, wb)
        score = max(0.0, min(1.0, score))
        both = sorted(set(wa) & set(wb), key=lambda i: (-min(wa[i], wb[i]), i))
        shared = self._roots(both) if target == MIXED else both
        items = self._items(shared[:10])
        return Compatibility(
            score=round(score, 4),
            level=compatibility_level(score),
            shared=[items[i] for i in shared[:10] if i in items],
            shared_count=len(shared),
            kind=target,
            source=source,
        )

    # -- stations ---------------------------------------------------------------------------

    def station(
        self,
        user: User,
        kind: str | None = None,
        size: int = 25,
        *,
        recent_days: int | None = None,
        seed: int | None = None,
        where: Viewer | None = None,
    ) -> Station:
        """A queue to play, computed now and not kept (``start_station`` keeps one to page
        through): the best-scoring items of the kind (music the user loved but has not played
        lately, and new items), at most ``per_group`` per artist, show, competition or outlet,
        nothing played in the last ``recent_days``, never anything hated, not interesting or
        called a bad recommendation, nothing unavailable ``where`` (default: the user's
        country, now). With a ``seed``, a weighted shuffle."""
        target, days = self._station_rules(kind, recent_days)
        shown = self._where(user, where)
        source, version, page = self._station_page(user, target, size, days, seed, [], shown)
        return Station(
            kind=target,
            size=size,
            source=source,
            entries=[entry for entry, _ in page],
            recent_days=days,
            seed=seed,
            version=version,
        )

    def start_station(
        self,
        user: User,
        kind: str | None = None,
        size: int = 25,
        *,
        recent_days: int | None = None,
        seed: int | None = None,
        where: Viewer | None = None,
    ) -> Station:
        """A station kept for paging (``station_page``), with its first page. The user's
        oldest stations beyond ``STATIONS_KEPT`` are forgotten. Each page holds only items
        available where and when it is asked for (``where``, default: the user's country)."""
        target, days = self._station_rules(kind, recent_days)
        keep = (
            select(StationSession.id)
            .where(StationSession.user_id == user.id)
            .order_by(StationSession.id.desc())
            .limit(STATIONS_KEPT - 1)
        )
        self.session.execute(
            delete(StationSession)
            .where(StationSession.user_id == user.id, StationSession.id.not_in(keep))
            .execution_options(synchronize_session=False)
        )
        row = StationSession(
            user_id=user.id,
            kind=target,
            size=size,
            recent_days=days,
            seed=seed,
            created_at=self._now(),
        )
        self.session.add(row)
        self.session.flush()
        return self._next_page(user, row, [], 0, self._where(user, where))

    def station_page(
        self, user: User, station_id: int, cursor: int = 0, *, where: Viewer | None = None
    ) -> Station:
        """The page of a kept station starting at position ``cursor``. A position already
        served reads back what was served there (less what is no longer available
        ``where``); the position after the last one served computes the next page from the
        live model, plays and feedback, never repeating an item of this station and keeping the
        diversity rule across the page boundary."""
        shown = self._where(user, where)
        row = self.session.scalar(
            select(StationSession)
            .where(StationSession.id == station_id, StationSession.user_id == user.id)
            .with_for_update()
        )
        if row is None:
            raise StationNotFound(f"There is no station {station_id} of yours.")
        served = list(
            self.session.scalars(
                select(StationEntry)
                .where(StationEntry.station_id == row.id)
                .order_by(StationEntry.position)
            )
        )
        end = served[-1].position + 1 if served else 0
        if cursor > end:
            raise InvalidRecsRequest(
                f"Station {row.id} has served {end} items so far: ask for cursor {end} (the "
                "next page) or an earlier position."
            )
        if cursor == end:
            return self._next_page(user, row, served, end, shown)
        again = [e for e in served if e.position >= cursor][: row.size]
        playable = self._keep_available([(e.item_id, e) for e in again], len(again), shown)
        items = self._items(e.item_id for _, e in playable)
        return Station(
            kind=row.kind,
            size=row.size,
            source="replay",
            entries=[
                _station_entry(items[e.item_id], e.score, e.known)
                for _, e in playable
                if e.item_id in items
            ],
            recent_days=row.recent_days,
            seed=row.seed,
            id=row.id,
            cursor=cursor,
            next_cursor=again[-1].position + 1,
        )

    def _next_page(
        self,
        user: User,
        row: StationSession,
        served: list[StationEntry],
        position: int,
        where: Viewer | None,
    ) -> Station:
        history = [(e.item_id, e.group_id) for e in served]
        source, version, page = self._station_page(
            user, row.kind, row.size, row.recent_days, row.seed, history, where
        )
        for offset, (entry, group) in enumerate(page):
            self.session.add(
                StationEntry(
                    station_id=row.id,
                    position=position + offset,
                    item_id=entry.item.id,
                    group_id=group,
                    score=entry.score,
                    known=entry.known,
                )
            )
        self.session.flush()
        return Station(
            kind=row.kind,
            size=row.size,
            source=source,
            entries=[entry for entry, _ in page],
            recent_days=row.recent_days,
            seed=row.seed,
            version=version,
            id=row.id,
            cursor=position,
            next_cursor=position + len(page) if page else None,
        )

    def _station_rules(self, kind: str | None, recent_days: int | None) -> tuple[str, int]:
        target = parse_kind(kind)
        if target != MIXED and Kind(target) not in CONSUMABLE:
            raise InvalidRecsRequest(
                "Stations queue things to play: use track, episode, film, match, programme, "
                "story or mixed."
            )
        return target, self.recent_days if recent_days is None else recent_days

    def _station_page(
        self,
        user: User,
        target: str,
        size: int,
        days: int,
        seed: int | None,
        served: list[tuple[int, int]],
        where: Viewer | None,
    ) -> tuple[str, str | None, list[tuple[Recommended, int]]]:
        """(source, version, [(entry, its group)]) for the next ``size`` items after
        ``served`` ((item id, group) in queue order): none of those again, and no more than
        ``per_group`` items of one group in any ``size`` consecutive items of the queue."""
        cut = self._now() - timedelta(days=days)
        snapshot = self._snapshot()
        state = user_state(self.session, user.id, target)
        recent = {i for i, when in state.last_played.items() if when >= cut}
        excluded = recent | state.negative | {i for i, _ in served}
        source, ranked = self._station_ranked(
            user, snapshot, target, state, excluded, size * 20 + 100, where
        )
        candidates = self._playable(ranked, state)
        if seed is not None:
            pool = size * 4
            candidates = _shuffled(candidates[:pool], seed) + candidates[pool:]
        window: deque[int] = deque((g for _, g in served), maxlen=max(size - 1, 0))
        page: list[tuple[Recommended, int]] = []
        for item, score, root in candidates:
            if window.maxlen and window.count(root) >= self.per_group:
                continue
            window.append(root)
            page.append((_station_entry(item, score, item.id in state.plays), root))
            if len(page) == size:
                break
        return source, snapshot.version if snapshot else None, page

    def _station_ranked(
        self,
        user: User,
        snapshot: Snapshot | None,
        target: str,
        state: UserState,
        excluded: set[int],
        size: int,
        where: Viewer | None,
    ) -> tuple[str, list[tuple[int, float, int | None]]]:
        """(source, [(item id, score, root or None)]) best first, ``excluded`` and what is
        unavailable ``where`` left out."""
        plan = _plan(snapshot, target, cross=False)
        if plan is not None:
            row = row_for(state.weights(), plan.loaded.item_index, plan.loaded.n_items)
            if row.nnz:
                scores = plan.loaded.score(row, self._friends_row(user, plan.loaded))
                cands = _candidates(plan, scores)
                groups = plan.loaded.groups
                return "model", [
                    (int(cands.ids[p]), float(cands.scores[p]), int(groups[cands.columns[p]]))
                    for p in self._top_available(
                        cands.ids, _masked(plan, cands, excluded), size, where, size // 2
                    )
                ]
        popular = self._popular(target, user.country, snapshot)
        ranked: list[tuple[int, float, int | None]] = [
            (i, s, None) for i, s in popular if i not in excluded
        ]
        return "popular", self._keep_available(ranked, size, where)

    def _playable(
        self, ranked: list[tuple[int, float, int | None]], state: UserState
    ) -> list[tuple[Item, float, int]]:
        """The ranked items with their roots, minus those under a hated root (a hated artist's
        tracks) and, outside music, anything already played."""
        items = self._items([i for i, _, _ in ranked])
        missing = [i for i, _, g in ranked if g is None]
        roots = {i: r for i, (r, _) in item_roots(self.session, missing).items()}
        negative = state.negative
        out = []
        for item_id, score, group in ranked:
            item = items.get(item_id)
            if item is None:
                continue
            root = group if group is not None else roots.get(item_id, item_id)
            if root in negative:
                continue
            if item_id in state.plays and DOMAIN_OF[item.kind] is not Domain.MUSIC:
                continue  # episodes, films, matches and news are not played twice
            out.append((item, score, root))
        return out

    # -- lookups ----------------------------------------------------------------------------

    def _items(self, ids: Iterable[int]) -> dict[int, Item]:
        wanted = list(dict.fromkeys(ids))
        out: dict[int, Item] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for item in self.session.scalars(select(Item).where(Item.id.in_(chunk))):
                out[item.id] = item
        return out

    def _users(self, ids: Sequence[int]) -> dict[int, User]:
        out: dict[int, User] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            for user in self.session.scalars(select(User).where(User.id.in_(chunk))):
                out[user.id] = user
        return out

    def _roots(self, item_ids: Sequence[int]) -> list[int]:
        """The roots (artists, shows...) of items, in order, without repeats."""
        roots = item_roots(self.session, item_ids)
        return list(dict.fromkeys(roots.get(i, (i, ""))[0] for i in item_ids))

    def _shared_items(
        self, loaded: LoadedKind, target: str, shared: list[list[int]], per: int
    ) -> list[list[Item]]:
        ids_per = []
        for columns in shared:
            ids = [int(loaded.item_ids[c]) for c in columns]
            if target == MIXED:
                ids = list(dict.fromkeys(int(loaded.groups[c]) for c in columns))
            ids_per.append(ids[:per])
        items = self._items(i for ids in ids_per for i in ids)
        return [[items[i] for i in ids if i in items] for ids in ids_per]


CONSUMABLE_CODES: frozenset[str] = frozenset(k.value for k in CONSUMABLE)


def _source_kinds(based_on: str | None) -> frozenset[Kind] | None:
    if based_on is None:
        return None
    try:
        return domain_kinds(based_on)
    except InvalidRecsRequest:
        raise InvalidRecsRequest(
            f"Unknown 'based_on' {based_on!r}: use a domain (music, tv, film, sports, news) or "
            "a kind."
        ) from None


def _plan(snapshot: Snapshot | None, target: str, *, cross: bool) -> _Plan | None:
    """Which loaded model answers a list of ``target``, and how: the kind's own model, else
    (and always across domains) the mixed one, keeping the columns of the kind or scoring the
    items they count for (artists, albums, shows, seasons, teams, competitions, outlets)."""
    own = snapshot.get(target) if snapshot else None
    mixed = snapshot.get(MIXED) if snapshot else None
    level = mixed.level_map(target) if mixed is not None and target != MIXED else None
    plan: _Plan | None = None
    if own is not None and not cross:
        plan = _Plan(loaded=own, target=target)
    elif mixed is not None and target == MIXED:
        plan = _Plan(loaded=mixed, target=target)
    elif mixed is not None and target in CONSUMABLE_CODES:
        plan = _Plan(loaded=mixed, target=target, columns=mixed.kind_mask(target))
    elif mixed is not None and level is not None:
        plan = _Plan(loaded=mixed, target=target, level=level)
    elif own is not None:
        plan = _Plan(loaded=own, target=target)
    elif mixed is not None:
        raise InvalidRecsRequest(
            f"No {target} has been played by enough people to recommend {target}s from another "
            "domain yet."
        )
    return plan


def _station_entry(item: Item, score: float, known: bool) -> Recommended:
    reason = "From your library" if known else "New to you"
    return Recommended(item=item, score=score, reason=reason, known=known)


def _shuffled(
    candidates: list[tuple[Item, float, int]], seed: int
) -> list[tuple[Item, float, int]]:
    """A weighted random order (Efraimidis-Spirakis): better scores tend to come first. Each
    item's random number comes from the seed and its id, not its place in the list, so a
    station's later pages shuffle the items left over the same way."""
    if not candidates:
        return candidates
    values = np.asarray([s for _, s, _ in candidates], dtype=np.float64)
    weights = values - values.min() + 1e-3
    ids = np.asarray([item.id for item, _, _ in candidates], dtype=np.int64)
    keys = _uniform(seed, ids) ** (1.0 / weights)
    return [candidates[int(o)] for o in np.argsort(-keys, kind="stable")]


def _uniform(seed: int, ids: IntArray) -> npt.NDArray[np.float64]:
    """A number in (0, 1) per id, fixed by ``seed`` and the id (SplitMix64's finaliser)."""
    with np.errstate(over="ignore"):
        x = ids.astype(np.uint64) + np.asarray([seed], dtype=np.uint64) * np.uint64(
            0x9E3779B97F4A7C15
        )
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    out: npt.NDArray[np.float64] = ((x >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
    return out


def _candidates(plan: _Plan, scores: FloatArray) -> _Candidates:
    loaded = plan.loaded
    if plan.level is not None:  # ids come sorted: ``_positions`` relies on it
        values, best = plan.level.best(scores)
        return _Candidates(ids=plan.level.ids, scores=values, columns=best)
    if plan.columns is None:  # every column: no copies (100,000 items is most of a request)
        return _Candidates(ids=loaded.item_ids, scores=scores, columns=loaded.all_columns)
    columns = np.flatnonzero(plan.columns).astype(np.int64)
    return _Candidates(ids=loaded.item_ids[columns], scores=scores[columns], columns=columns)


def _positions(plan: _Plan, cands: _Candidates, ids: AbstractSet[int]) -> IntArray:
    """Where items (by id) sit among the candidates."""
    if not ids:
        return np.zeros(0, dtype=np.int64)
    if plan.aggregate:
        wanted = np.fromiter(ids, dtype=np.int64)
        pos = np.searchsorted(cands.ids, wanted)  # a level's ids come sorted
    else:
        index = plan.loaded.item_index
        wanted = np.asarray([index[i] for i in ids if i in index], dtype=np.int64)
        if plan.columns is None:
            return wanted
        pos = np.searchsorted(cands.columns, wanted)
    pos = np.minimum(pos, max(len(cands.ids) - 1, 0))
    if not len(cands.ids):
        return np.zeros(0, dtype=np.int64)
    keys = cands.ids if plan.aggregate else cands.columns
    found: IntArray = pos[keys[pos] == wanted].astype(np.int64)
    return found


def _masked(plan: _Plan, cands: _Candidates, excluded: set[int]) -> FloatArray:
    """The candidates' scores with excluded items (and non-finite scores) at -inf."""
    work = np.array(cands.scores, dtype=np.float32, copy=True)
    work[_positions(plan, cands, excluded)] = -np.inf
    work[~np.isfinite(work)] = -np.inf
    return work


def _top(work: FloatArray, size: int) -> list[int]:
    """Positions of the ``size`` best finite scores, best first."""
    size = min(size, len(work))
    if size <= 0:
        return []
    part = np.argpartition(-work, size - 1)[:size]
    part = part[np.argsort(-work[part], kind="stable")]
    return [int(p) for p in part if np.isfinite(work[p])]


def _shared_columns(loaded: LoadedKind, mine: dict[int, float], row: int) -> list[int]:
    start, end = loaded.interactions.indptr[row], loaded.interactions.indptr[row + 1]
    theirs = dict(
        zip(
            loaded.interactions.indices[start:end].tolist(),
            loaded.interactions.data[start:end].tolist(),
            strict=True,
        )
    )
    both = [c for c in theirs if c in mine]
    return sorted(both, key=lambda c: (-min(mine[c], theirs[c]), c))


def _cosine(a: dict[int, float], b: dict[int, float]) -> float:
    dot = sum(w * b[i] for i, w in a.items() if i in b)
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _reason(item: Item | None) -> str | None:
    if item is None:
        return None
    return f"Because you {VERBS[DOMAIN_OF[item.kind]]} {item.title}"
