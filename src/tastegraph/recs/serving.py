"""The trained version a server answers from, swapped in without a restart.

``RecsHolder`` lives in the ``Runtime`` (one per process). The first request that needs a model
loads the published version; after that, at most every ``check_seconds``, one request looks at
the ``current`` pointer (a ``stat``), and when a new version was published a background thread
loads it completely and replaces the reference in one assignment. Requests already running keep
the ``Snapshot`` they started with; the next ones get the new one; nobody waits for the load
(with ``check_seconds`` = 0, as in tests, the request that notices the version loads it). A
version that fails to load is logged and skipped until the pointer changes again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from tastegraph.recs.artifacts import ArtifactStore, KindArtifact, Manifest
from tastegraph.recs.components import FloatArray, IntArray, Recommender, SocialRecommender
from tastegraph.recs.data import KIND_CODES, Int8Array
from tastegraph.recs.errors import ArtifactError

_log = logging.getLogger(__name__)

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def _normalise_rows(matrix: FloatArray) -> FloatArray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: FloatArray = (matrix / norms).astype(np.float32)
    return out


@dataclass(frozen=True)
class LevelMap:
    """A mixed model's columns grouped by the item of one level they count for (the artists
    of tracks, the teams of matches...): scores a level from its members' scores."""

    ids: IntArray
    """The level's item ids, sorted, each once."""
    columns: IntArray
    """Member columns, grouped by id in the order of ``ids``."""
    starts: IntArray
    """Where each id's members start in ``columns``."""
    segment: IntArray
    """For each entry of ``columns``, the index of its id in ``ids``."""

    @classmethod
    def build(cls, columns: IntArray, ids: IntArray) -> LevelMap | None:
        if not len(columns):
            return None
        order = np.lexsort((columns, ids))
        columns, ids = columns[order].astype(np.int64), ids[order].astype(np.int64)
        unique, starts, segment = np.unique(ids, return_index=True, return_inverse=True)
        return cls(
            ids=unique.astype(np.int64),
            columns=columns,
            starts=starts.astype(np.int64),
            segment=segment.astype(np.int64).ravel(),
        )

    def best(self, scores: FloatArray) -> tuple[FloatArray, IntArray]:
        """Per level item: its best member's score and that member's column."""
        values = np.nan_to_num(scores[self.columns], nan=-np.inf, posinf=np.inf)
        best = np.maximum.reduceat(values, self.starts).astype(np.float32)
        hits = np.flatnonzero(values >= best[self.segment])
        first = hits[np.searchsorted(self.segment[hits], np.arange(len(self.ids)))]
        return best, self.columns[first]

    def members(self, item_id: int) -> IntArray:
        """The columns that count for one level item (none when it has no plays)."""
        at = int(np.searchsorted(self.ids, item_id))
        if at >= len(self.ids) or self.ids[at] != item_id:
            return np.zeros(0, dtype=np.int64)
        end = self.starts[at + 1] if at + 1 < len(self.starts) else len(self.columns)
        return self.columns[self.starts[at] : end]


ROOT_KINDS: frozenset[str] = frozenset({"artist", "show", "competition", "outlet"})
"""Levels a version without level links reaches through the columns' roots."""


class LoadedKind:
    """One kind of a loaded version, with the lookups answers need."""

    def __init__(self, artifact: KindArtifact) -> None:
        self.kind = artifact.kind
        self.model: Recommender = artifact.model
        self.social: SocialRecommender | None = (
            artifact.model
            if isinstance(artifact.model, SocialRecommender) and artifact.model.uses_friends()
            else None
        )
        """The model when it uses friends' taste (the hybrid), else None."""
        self._links = artifact.links
        self._levels: dict[str, LevelMap | None] = {}
        self.user_ids: IntArray = artifact.user_ids
        self.item_ids: IntArray = artifact.item_ids
        self.item_kinds: Int8Array = artifact.item_kinds
        self.groups: IntArray = artifact.groups
        self.group_kinds: Int8Array = artifact.group_kinds
        self.user_countries = artifact.user_countries
        self.interactions: sparse.csr_matrix = artifact.interactions
        self.item_index: dict[int, int] = {int(i): c for c, i in enumerate(self.item_ids)}
        self.all_columns: IntArray = np.arange(len(self.item_ids), dtype=np.int64)
        self.user_index: dict[int, int] = {int(u): r for r, u in enumerate(self.user_ids)}
        vectors = self.model.item_vectors()
        self.vectors: FloatArray | None = (
            None if vectors is None else _normalise_rows(np.asarray(vectors, dtype=np.float32))
        )
        binary = sparse.csr_matrix(self.interactions, dtype=np.float32, copy=True)
        binary.data = np.ones_like(binary.data)
        self.binary: sparse.csr_matrix = binary
        """Who has what (1 per user and item): friends' taste, popularity."""
        self.listeners: FloatArray = np.asarray(binary.sum(axis=0), dtype=np.float32).ravel()
        self._popular: dict[str, IntArray] = {}
        self._taste: FloatArray | sparse.csr_matrix | None = None
        self._by_item: sparse.csc_matrix | None = None
        self._item_norms: FloatArray | None = None
        self._lock = threading.Lock()

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    # -- scoring ----------------------------------------------------------------------------

    def friends_row(self, friend_ids: Iterable[int]) -> sparse.csr_matrix | None:
        """1 x n_items: how many of these users (a user's friends) have each item in the
        trained matrix; None when the model has no use for it or none of them is known."""
        if self.social is None:
            return None
        rows = sorted({self.user_index[u] for u in friend_ids if u in self.user_index})
        if not rows:
            return None
        indptr, indices = self.binary.indptr, self.binary.indices
        items = np.concatenate([indices[indptr[r] : indptr[r + 1]] for r in rows])
        counts = np.bincount(items, minlength=self.n_items).astype(np.float32)
        return sparse.csr_matrix(counts[None, :])

    def score(self, row: sparse.csr_matrix, friends: sparse.csr_matrix | None = None) -> FloatArray:
        """The model's scores of one row, with the friends' term when given and used."""
        if friends is not None and self.social is not None:
            scores = self.social.score_social(row, friends)
        else:
            scores = self.model.score(row)
        first: FloatArray = np.asarray(scores, dtype=np.float32)[0]
        return first

    def level_map(self, level: str) -> LevelMap | None:
        """How this (mixed) model's columns count for ``level``'s items, or None."""
        if level in self._levels:
            return self._levels[level]
        with self._lock:
            if level not in self._levels:
                found: LevelMap | None = None
                if level in self._links:
                    found = LevelMap.build(*self._links[level])
                elif not self._links and level in ROOT_KINDS:  # an older version: roots only
                    columns = np.flatnonzero(self.group_mask(level)).astype(np.int64)
                    found = LevelMap.build(columns, self.groups[columns])
                self._levels[level] = found
        return self._levels[level]

    def co_similarity(self, rows: IntArray, cols: IntArray) -> FloatArray:
        """Cosine of item columns of the training matrix (who played one also played the
        other): ``len(rows) x len(cols)``, for explanations when a model has no embeddings."""
        if self._by_item is None:
            with self._lock:
                if self._by_item is None:
                    binary = sparse.csc_matrix(self.interactions, dtype=np.float32, copy=True)
                    binary.data = np.ones_like(binary.data)
                    norms = np.sqrt(np.asarray(binary.sum(axis=0), dtype=np.float32).ravel())
                    norms[norms == 0] = 1.0
                    self._item_norms = norms
                    self._by_item = binary
        assert self._item_norms is not None
        product = (self._by_item[:, rows].T @ self._by_item[:, cols]).toarray()
        scale = self._item_norms[rows][:, None] * self._item_norms[cols][None, :]
        return np.asarray(product / scale, dtype=np.float32)

    def kind_mask(self, kind: str) -> BoolArray:
        """Columns whose item is of ``kind``."""
        return np.asarray(self.item_kinds == KIND_CODES.index(kind), dtype=np.bool_)

    def group_mask(self, kind: str) -> BoolArray:
        """Columns whose root (artist, show, competition, outlet...) is of ``kind``."""
        return np.asarray(self.group_kinds == KIND_CODES.index(kind), dtype=np.bool_)

    def popular_columns(self, country: str | None) -> IntArray:
        """Columns by listeners, most first (in ``country`` when given and known)."""
        key = country or ""
        cached = self._popular.get(key)
        if cached is not None:
            return cached
        if country:
            rows = np.asarray([c == country for c in self.user_countries], dtype=np.bool_)
            if not rows.any():
                return np.zeros(0, dtype=np.int64)
            local = self.interactions[np.flatnonzero(rows)]
            local.data = np.ones_like(local.data)
            counts = np.asarray(local.sum(axis=0), dtype=np.float32).ravel()
        else:
            counts = self.listeners
        order = np.argsort(-counts, kind="stable")
        order = order[counts[order] > 0][:2000].astype(np.int64)
        self._popular[key] = order
        return order

    # -- users as vectors (neighbours, compatibility) ------------------------------------------

    def taste_of(self, rows: sparse.csr_matrix) -> FloatArray | sparse.csr_matrix:
        """Unit-length taste vectors of users given by rows: the weighted mean of their item
        embeddings where the model has embeddings, else their normalised rows."""
        weights = sparse.csr_matrix(rows, dtype=np.float32)
        norms = np.asarray(np.sqrt(weights.multiply(weights).sum(axis=1)), dtype=np.float32)
        norms[norms == 0] = 1.0
        normalised = sparse.csr_matrix(weights.multiply(1.0 / norms))
        if self.vectors is None:
            return normalised
        return _normalise_rows(np.asarray(normalised @ self.vectors, dtype=np.float32))

    def user_tastes(self) -> FloatArray | sparse.csr_matrix:
        """Every trained user's taste vector (computed once, on first use)."""
        if self._taste is None:
            with self._lock:
                if self._taste is None:
                    self._taste = self.taste_of(self.interactions)
        return self._taste

    def similarities(self, taste: FloatArray | sparse.csr_matrix) -> FloatArray:
        """Cosine similarity of one taste vector (1 x d) with every trained user."""
        everyone = self.user_tastes()
        product = everyone @ taste.T
        if sparse.issparse(product):
            return np.asarray(product.toarray(), dtype=np.float32).ravel()
        return np.asarray(product, dtype=np.float32).ravel()


@dataclass
class Snapshot:
    """One loaded version: what a request answers from, from start to end."""

    manifest: Manifest
    kinds: dict[str, LoadedKind]
    loaded_at: float = field(default_factory=time.time)

    @property
    def version(self) -> str:
        return self.manifest.version

    def get(self, kind: str) -> LoadedKind | None:
        return self.kinds.get(kind)


def load_snapshot(store: ArtifactStore, version: str) -> Snapshot:
    manifest = store.read_manifest(version)
    kinds = {kind: LoadedKind(store.load_kind(version, kind)) for kind in manifest.kinds}
    return Snapshot(manifest=manifest, kinds=kinds)


class RecsHolder:
    """The process-wide holder of the current snapshot."""

    def __init__(
        self,
        store: ArtifactStore,
        *,
        check_seconds: float = 5.0,
        blas_threads: int = 0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.check_seconds = check_seconds
        self.blas_threads = blas_threads
        self._blas_limited = False
        self._monotonic = monotonic
        self._snapshot: Snapshot | None = None
        self._signature: tuple[int, int] | None = None
        self._checked_at = float("-inf")
        self._failed: str | None = None
        self._loader: threading.Thread | None = None
        self._lock = threading.Lock()
        self.cache: dict[Any, tuple[float, Any]] = {}
        """Small answers worth keeping a minute (popularity from the database)."""

    def snapshot(self) -> Snapshot | None:
        """The current snapshot, looking for a newly published version when due."""
        if self._monotonic() - self._checked_at < self.check_seconds:
            return self._snapshot
        # The first load makes everyone wait; later ones let other requests use the old one.
        if not self._lock.acquire(blocking=self._snapshot is None):
            return self._snapshot
        try:
            if self._monotonic() - self._checked_at >= self.check_seconds:
                self._checked_at = self._monotonic()
                found = self._detect()
                if found is not None:
                    if self._snapshot is None or self.check_seconds <= 0:
                        self._load(*found)
                    elif self._loader is None or not self._loader.is_alive():
                        self._loader = threading.Thread(
                            target=self._load, args=found, name="recs-loader", daemon=True
                        )
                        self._loader.start()
        finally:
            self._lock.release()
        return self._snapshot

    def warm_up(self) -> None:
        """Load the published version in the background now (a server starting), so the
        first request does not wait for it."""
        if self.store.pointer_signature() is None:
            return
        threading.Thread(target=self.snapshot, name="recs-warm-up", daemon=True).start()

    def wait_loaded(self, timeout: float | None = None) -> None:
        """Wait for a version being loaded in the background (tests, warm-up)."""
        loader = self._loader
        if loader is not None:
            loader.join(timeout)

    def _detect(self) -> tuple[str, tuple[int, int]] | None:
        """(version, pointer signature) when a version other than the loaded one is published."""
        signature = self.store.pointer_signature()
        if signature is None or signature == self._signature:
            return None
        version = self.store.current_version()
        current = self._snapshot.version if self._snapshot else None
        if version is None or version in (current, self._failed):
            self._signature = signature
            return None
        return version, signature

    def _load(self, version: str, signature: tuple[int, int]) -> None:
        """Load a version completely, then swap it in. With ``check_seconds`` > 0 a swap (not
        the first load) runs in a background thread: no request waits for it."""
        started = time.perf_counter()
        self._limit_blas()
        try:
            snapshot = load_snapshot(self.store, version)
        except ArtifactError as exc:
            _log.error("recommendations: cannot load version %s: %s", version, exc.detail)
            self._failed = version
            self._signature = signature
            return
        self._snapshot = snapshot  # one assignment: requests see the old or the new one
        self._signature = signature
        _log.info(
            "recommendations: version %s loaded in %.2f s (%s)",
            version,
            time.perf_counter() - started,
            ", ".join(sorted(snapshot.kinds)),
        )

    def _limit_blas(self) -> None:
        """Score requests with ``blas_threads`` BLAS threads: requests already run in parallel,
        and a multi-threaded product per request only makes them wait for each other (on a
        busy 2-core machine one user's scores took 6x longer)."""
        if self.blas_threads <= 0 or self._blas_limited:
            return
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=self.blas_threads, user_api="blas")
        self._blas_limited = True

    def cached(self, key: Any, compute: Callable[[], Any], ttl: float = 60.0) -> Any:
        now = self._monotonic()
        hit = self.cache.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        value = compute()
        if len(self.cache) > 1000:
            self.cache.clear()
        self.cache[key] = (now, value)
        return value


def batch_top_n(
    scores: FloatArray, n: int, exclude: sparse.csr_matrix | None = None, *, seed: int = 0
) -> IntArray:
    """``components.top_n`` for large batches (rows x 100,000 items), about 20x faster.

    Selecting with ``argpartition`` over every score of every row is what makes batch
    recommendations slow, so a threshold is estimated first from a sample of the columns (a
    value that about ``4n`` scores of the row exceed); only the scores above it are sorted.
    Rows where fewer than ``n`` scores pass fall back to the exact selection, so the answer is
    always exactly ``top_n``'s (ties aside). ``scores`` is modified in place (excluded cells
    set to -inf).
    """
    rows, m = scores.shape
    if exclude is not None and exclude.nnz:
        r, c = exclude.nonzero()
        keep = c < m
        scores[r[keep], c[keep]] = -np.inf
    n = min(n, m)
    out = np.full((rows, n), -1, dtype=np.int64)
    if n <= 0 or rows == 0:
        return out
    size = min(m, max(40 * n, m // 50))
    if size >= m // 2:
        from tastegraph.recs.components import top_n

        return top_n(scores, n)
    columns = np.random.default_rng(seed).choice(m, size=size, replace=False)
    rank = min(size - 1, max(1, (4 * n * size) // m))
    sample = scores[:, columns]
    threshold = -np.partition(-sample, rank, axis=1)[:, rank]
    above = scores >= threshold[:, None]
    row_of, col_of = np.nonzero(above)
    counts = np.bincount(row_of, minlength=rows)
    starts = np.concatenate([[0], np.cumsum(counts)])
    for i in range(rows):
        if counts[i] < n or not np.isfinite(threshold[i]):
            row = scores[i]
            part = np.argpartition(-row, n - 1)[:n]
            best = part[np.argsort(-row[part], kind="stable")]
        else:
            cols = col_of[starts[i] : starts[i + 1]]
            best = cols[np.argsort(-scores[i, cols], kind="stable")[:n]]
        finite = np.isfinite(scores[i, best])
        out[i, : int(finite.sum())] = best[finite]
    return out
