"""EASE: a closed-form linear item-item model (Steck, WWW 2019).

``B = I - P diag(1 / diag(P))`` with ``P = (X^T X + lambda I)^-1`` and a zero diagonal; scores
are ``X B``, so fold-in is one product. The inverse is dense, so the model keeps only items
with at least ``min_users`` training users and, above ``max_items`` such items, only the most
popular ``max_items`` of them (a 20,000-item inverse needs about 1.6 GB and a few minutes on two
cores). Items left out score below every kept item, in popularity order. ``neighbours`` > 0
keeps only that many strongest weights per item (a sparse, smaller artifact).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import sparse
from scipy.linalg import lapack

from tastegraph.recs.components import FloatArray, IntArray, SideInfo
from tastegraph.recs.errors import RecsError
from tastegraph.recs.models.base import WEIGHTINGS, BaseModel, Param, item_counts, weigh

MAX_ITEMS = 20_000


def ease_weights(gram: np.ndarray[Any, Any], lam: float) -> FloatArray:
    """EASE's B from the item Gram matrix (overwritten), through a Cholesky inverse."""
    gram[np.diag_indices_from(gram)] += lam
    factor, info = lapack.spotrf(gram, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise RecsError(f"EASE: the Gram matrix is not positive definite (lambda={lam})")
    inverse, info = lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise RecsError("EASE: the inverse failed")
    # spotri fills the upper triangle only.
    upper = np.triu(inverse)
    inverse = upper + np.triu(upper, 1).T
    diagonal = np.diag(inverse).copy()
    weights = inverse / -diagonal
    weights[np.diag_indices_from(weights)] = 0.0
    return np.asarray(weights, dtype=np.float32)


class EASE(BaseModel):
    name: str = "ease"
    defaults: ClassVar[dict[str, Param]] = {
        "lam": 50.0,
        "weighting": "binary",
        "min_users": 2,
        "max_items": MAX_ITEMS,
        "neighbours": 0,
    }
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"weighting": WEIGHTINGS}

    def __init__(self, **params: Param) -> None:
        super().__init__(**params)
        self.kept: IntArray = np.zeros(0, dtype=np.int64)
        self.weights: FloatArray = np.zeros((0, 0), dtype=np.float32)
        self.sparse_weights: sparse.csr_matrix | None = None

    def _fit(self, interactions: sparse.csr_matrix, side: SideInfo | None, seed: int) -> None:
        counts = item_counts(interactions)
        eligible = np.flatnonzero(counts >= max(1, self._param_int("min_users")))
        limit = self._param_int("max_items")
        if len(eligible) > limit:
            # The most popular items; ties by index, so the choice is deterministic.
            order = np.lexsort((eligible, -counts[eligible]))
            eligible = np.sort(eligible[order[:limit]])
        self.kept = eligible.astype(np.int64)
        x = weigh(interactions, self._param_str("weighting"))[:, self.kept]
        gram = np.asarray((x.T @ x).toarray(), dtype=np.float32)
        weights = ease_weights(gram, self._param_float("lam")) if len(self.kept) else gram
        neighbours = self._param_int("neighbours")
        if neighbours > 0 and neighbours < len(self.kept):
            self.sparse_weights = _prune(weights, neighbours)
            self.weights = np.zeros((0, 0), dtype=np.float32)
        else:
            self.sparse_weights = None
            self.weights = weights

    def _kept_scores(self, rows: sparse.csr_matrix) -> FloatArray:
        x = weigh(rows, self._param_str("weighting"))[:, self.kept]
        if self.sparse_weights is not None:
            return np.asarray((x @ self.sparse_weights).toarray(), dtype=np.float32)
        return np.asarray(x @ self.weights, dtype=np.float32)

    def _score(self, rows: sparse.csr_matrix) -> FloatArray:
        kept_scores = self._kept_scores(rows)
        floor = kept_scores.min(axis=1, keepdims=True) - 1.0 if len(self.kept) else 0.0
        scores = np.asarray(floor + 0.5 * self.popularity[None, :], dtype=np.float32)
        scores = np.broadcast_to(scores, (rows.shape[0], self._n_items)).copy()
        scores[:, self.kept] = kept_scores
        return scores

    def _item_similarity(self, items: IntArray) -> FloatArray:
        rows = sparse.csr_matrix(
            (np.ones(len(items), dtype=np.float32), (np.arange(len(items)), items)),
            shape=(len(items), self._n_items),
        )
        sims = np.zeros((len(items), self._n_items), dtype=np.float32)
        sims[:, self.kept] = self._kept_scores(rows)
        return sims

    def _dense_arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        return {"kept": self.kept, "weights": self.weights}

    def _sparse_arrays(self) -> dict[str, sparse.csr_matrix]:
        return {} if self.sparse_weights is None else {"sparse_weights": self.sparse_weights}

    def _restore(
        self,
        dense: dict[str, np.ndarray[Any, Any]],
        matrices: dict[str, sparse.csr_matrix],
        manifest: Any,
    ) -> None:
        self.kept = dense["kept"].astype(np.int64)
        self.weights = dense["weights"].astype(np.float32)
        self.sparse_weights = matrices.get("sparse_weights")


def _prune(weights: FloatArray, k: int) -> sparse.csr_matrix:
    """Keep the ``k`` largest-magnitude weights of each row."""
    part = np.argpartition(-np.abs(weights), k - 1, axis=1)[:, :k]
    part.sort(axis=1)
    values = np.take_along_axis(weights, part, axis=1)
    rows = np.repeat(np.arange(weights.shape[0]), k)
    pruned = sparse.csr_matrix(
        (values.ravel(), (rows, part.ravel())), shape=weights.shape, dtype=np.float32
    )
    pruned.eliminate_zeros()
    return pruned
