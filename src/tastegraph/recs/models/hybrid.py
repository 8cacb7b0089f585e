"""The hybrid: EASE over interactions *and* item features, plus feature and friend terms.

Three signals, each scaled per user to a largest value of 1 and added with tuned weights:

1. **Collaborative, feature-regularised EASE.** The Gram matrix that EASE inverts is
   ``X^T X + tag_gram * F F^T``, ``F`` being the items' feature rows (tags, creators, kind,
   origin ... TF-IDF weighted, unit length): two items described alike are treated as if some
   users had both, which mostly helps items with few listeners ("collective" EASE, in the spirit
   of Ning & Karypis' SSLIM).
2. **Feature similarity.** ``x_u @ S``, ``S`` the cosine similarity of the feature rows (each
   item's ``feature_neighbours`` nearest). It reaches items with no or one listener, which no
   collaborative term can.
3. **Friends' taste** (``score_social`` only): how many of the user's friends have each item.

Without side information the model is plain EASE (``tag_gram`` and the feature term have nothing
to work on). ``score`` uses 1 and 2; ``score_social`` adds 3 for callers that know the users'
friends (``friend_rows`` builds its input from a users x users link matrix).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from tastegraph.recs.components import FloatArray, IntArray, SideInfo
from tastegraph.recs.models.base import (
    WEIGHTINGS,
    BaseModel,
    Param,
    empty_csr,
    fit_columns,
    item_counts,
    normalise_rows,
    topk_sparse_product,
    weigh,
)
from tastegraph.recs.models.ease import MAX_ITEMS, ease_weights


def feature_rows(item_features: sparse.csr_matrix | None, n_items: int) -> sparse.csr_matrix:
    """Items x features, TF-IDF weighted (log counts x smoothed idf) and scaled to unit length.

    Rows beyond the feature matrix (items without features) are empty.
    """
    if item_features is None:
        return empty_csr(n_items, 0)
    features = sparse.csr_matrix(item_features, dtype=np.float32)
    if features.shape[0] > n_items:
        features = features[:n_items]
    elif features.shape[0] < n_items:
        features = sparse.vstack(
            [features, empty_csr(n_items - features.shape[0], features.shape[1])],
            format="csr",
        )
    features = sparse.csr_matrix(features, dtype=np.float32)
    features.sum_duplicates()
    features.eliminate_zeros()
    n_features = features.shape[1]
    document_frequency = np.bincount(features.indices, minlength=n_features)
    idf = np.log((n_items + 1.0) / (document_frequency + 1.0)).astype(np.float32)
    features.data = np.log1p(np.maximum(features.data, 0.0)) * idf[features.indices]
    features.eliminate_zeros()  # a feature every item has (idf 0) says nothing
    norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ features, dtype=np.float32)


def friend_rows(
    user_links: sparse.csr_matrix, interactions: sparse.csr_matrix
) -> sparse.csr_matrix:
    """For each user (row of ``user_links``), how many of their friends have each item."""
    links = sparse.csr_matrix(user_links, dtype=np.float32)
    links.data[:] = 1.0
    has = sparse.csr_matrix(interactions, dtype=np.float32)
    has.data[:] = 1.0
    return sparse.csr_matrix(links @ has, dtype=np.float32)


class Hybrid(BaseModel):
    name: str = "hybrid"
    defaults: ClassVar[dict[str, Param]] = {
        "lam": 100.0,
        "tag_gram": 5.0,
        "tag_weight": 0.15,
        "friend_weight": 0.03,
        "feature_neighbours": 200,
        "weighting": "binary",
        "min_users": 2,
        "max_items": MAX_ITEMS,
    }
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"weighting": WEIGHTINGS}
    score_params: ClassVar[frozenset[str]] = frozenset({"tag_weight", "friend_weight"})
    """Parameters that only change how terms are added: tuning varies them without a refit."""

    def __init__(self, **params: Param) -> None:
        super().__init__(**params)
        self.kept: IntArray = np.zeros(0, dtype=np.int64)
        self.weights: FloatArray = np.zeros((0, 0), dtype=np.float32)
        self.feature_similarity = empty_csr(0, 0)

    def _fit(self, interactions: sparse.csr_matrix, side: SideInfo | None, seed: int) -> None:
        n_items = interactions.shape[1]
        features = feature_rows(side.item_features if side else None, n_items)
        counts = item_counts(interactions)
        eligible = np.flatnonzero(counts >= max(1, self._param_int("min_users")))
        limit = self._param_int("max_items")
        if len(eligible) > limit:
            order = np.lexsort((eligible, -counts[eligible]))
            eligible = np.sort(eligible[order[:limit]])
        self.kept = eligible.astype(np.int64)
        x = weigh(interactions, self._param_str("weighting"))[:, self.kept]
        gram = np.asarray((x.T @ x).toarray(), dtype=np.float32)
        tag_gram = self._param_float("tag_gram")
        if features.shape[1] and tag_gram > 0 and len(self.kept):
            kept_features = features[self.kept]
            gram += tag_gram * np.asarray((kept_features @ kept_features.T).toarray(), np.float32)
        self.weights = ease_weights(gram, self._param_float("lam")) if len(self.kept) else gram
        if features.shape[1]:
            self.feature_similarity = topk_sparse_product(
                features, sparse.csr_matrix(features.T), self._param_int("feature_neighbours")
            )
        else:
            self.feature_similarity = empty_csr(n_items, n_items)

    def _collaborative(self, weighted: sparse.csr_matrix) -> FloatArray:
        # Items outside the EASE matrix score 0: neutral, so the feature term can lift them.
        scores = np.zeros((weighted.shape[0], self._n_items), dtype=np.float32)
        scores[:, self.kept] = np.asarray(weighted[:, self.kept] @ self.weights, np.float32)
        return scores

    def score_terms(
        self, user_rows: sparse.csr_matrix, friends_items: sparse.csr_matrix | None = None
    ) -> dict[str, FloatArray]:
        """Each term on its own, every row scaled to a largest value of 1 (``blend`` adds them).

        Tuning keeps these and re-blends them for each pair of weights instead of rescoring.
        """
        self._require_trained()
        rows = fit_columns(user_rows, self._n_items)
        weighted = weigh(rows, self._param_str("weighting"))
        terms = {
            "collaborative": normalise_rows(self._collaborative(weighted)),
            "empty": (np.diff(rows.indptr) == 0).astype(np.float32),
        }
        if self.feature_similarity.nnz:
            by_features = np.asarray((weighted @ self.feature_similarity).toarray(), np.float32)
            terms["features"] = normalise_rows(by_features)
        if friends_items is not None:
            friends = fit_columns(friends_items, self._n_items)
            terms["friends"] = normalise_rows(np.asarray(friends.toarray(), dtype=np.float32))
        return terms

    def blend(self, terms: dict[str, FloatArray]) -> FloatArray:
        """The weighted sum of ``score_terms``; users with no history start from popularity."""
        scores = terms["collaborative"].copy()
        tag_weight = self._param_float("tag_weight")
        if tag_weight and "features" in terms:
            scores += tag_weight * terms["features"]
        empty = terms["empty"] > 0
        if empty.any():
            scores[empty] = self.popularity
        friend_weight = self._param_float("friend_weight")
        if friend_weight and "friends" in terms:
            scores += friend_weight * terms["friends"]
        return scores

    def _score(self, rows: sparse.csr_matrix) -> FloatArray:
        return self.blend(self.score_terms(rows))

    def score_social(
        self, user_rows: sparse.csr_matrix, friends_items: sparse.csr_matrix
    ) -> FloatArray:
        """``score`` plus the friends' term; ``friends_items`` as built by ``friend_rows``.

        A user with no history of their own gets popularity plus their friends' taste.
        """
        return self.blend(self.score_terms(user_rows, friends_items))

    def uses_friends(self) -> bool:
        return self._param_float("friend_weight") != 0

    def _item_similarity(self, items: IntArray) -> FloatArray:
        rows = sparse.csr_matrix(
            (np.ones(len(items), dtype=np.float32), (np.arange(len(items)), items)),
            shape=(len(items), self._n_items),
        )
        return self._score(rows)

    def _dense_arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        return {"kept": self.kept, "weights": self.weights}

    def _sparse_arrays(self) -> dict[str, sparse.csr_matrix]:
        return {"feature_similarity": self.feature_similarity}

    def _restore(
        self,
        dense: dict[str, np.ndarray[Any, Any]],
        matrices: dict[str, sparse.csr_matrix],
        manifest: Any,
    ) -> None:
        self.kept = dense["kept"].astype(np.int64)
        self.weights = dense["weights"].astype(np.float32)
        self.feature_similarity = sparse.csr_matrix(
            matrices["feature_similarity"], dtype=np.float32
        )
