"""RP3beta: a three-step random walk user -> item -> user -> item, popularity-discounted.

Paudel et al. (2017); one of the simple graph baselines that beat most neural recommenders in
Ferrari Dacrema et al. (RecSys 2019). ``W[i, j] = sum_u P(i -> u)^alpha * P(u -> j)^alpha /
pop(j)^beta``, each row cut to its ``neighbours`` strongest entries. Scores are
``weight(rows) @ W``; fold-in is that product. It scales to catalogues where EASE's dense
inverse does not fit.
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
    item_counts,
    topk_sparse_product,
    weigh,
)


def row_stochastic(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Each row divided by its sum (empty rows stay empty)."""
    matrix = sparse.csr_matrix(matrix, dtype=np.float32)
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    sums[sums == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / sums) @ matrix, dtype=np.float32)


def rp3_matrix(
    interactions: sparse.csr_matrix, alpha: float, beta: float, neighbours: int
) -> sparse.csr_matrix:
    """The pruned item x item transition matrix of RP3beta."""
    user_to_item = row_stochastic(interactions)
    item_to_user = row_stochastic(sparse.csr_matrix(interactions.T))
    if alpha != 1.0:
        user_to_item.data **= alpha
        item_to_user.data **= alpha
    counts = item_counts(interactions).astype(np.float64)
    counts[counts == 0] = 1.0
    discount = sparse.diags((counts**-beta).astype(np.float32))
    return topk_sparse_product(item_to_user, sparse.csr_matrix(user_to_item @ discount), neighbours)


class RP3Beta(BaseModel):
    name: str = "rp3beta"
    defaults: ClassVar[dict[str, Param]] = {
        "alpha": 1.0,
        "beta": 0.5,
        "neighbours": 200,
        "weighting": "binary",
    }
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"weighting": WEIGHTINGS}

    def __init__(self, **params: Param) -> None:
        super().__init__(**params)
        self.similarity = empty_csr(0, 0)

    def _fit(self, interactions: sparse.csr_matrix, side: SideInfo | None, seed: int) -> None:
        weighted = weigh(interactions, self._param_str("weighting"))
        self.similarity = rp3_matrix(
            weighted,
            self._param_float("alpha"),
            self._param_float("beta"),
            self._param_int("neighbours"),
        )

    def _score(self, rows: sparse.csr_matrix) -> FloatArray:
        product = weigh(rows, self._param_str("weighting")) @ self.similarity
        return np.asarray(product.toarray(), dtype=np.float32)

    def _item_similarity(self, items: IntArray) -> FloatArray:
        return np.asarray(self.similarity[items].toarray(), dtype=np.float32)

    def _sparse_arrays(self) -> dict[str, sparse.csr_matrix]:
        return {"similarity": self.similarity}

    def _restore(
        self,
        dense: dict[str, np.ndarray[Any, Any]],
        matrices: dict[str, sparse.csr_matrix],
        manifest: Any,
    ) -> None:
        self.similarity = sparse.csr_matrix(matrices["similarity"], dtype=np.float32)
