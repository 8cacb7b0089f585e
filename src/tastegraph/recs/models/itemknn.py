"""Item-based k-nearest neighbours, with cosine or BM25 weighting.

The similarity of items ``i`` and ``j`` is the dot product of their user columns after
weighting: unit-length columns (``cosine``), or BM25 weights with items as documents and users
as terms (``bm25``, as implicit's ``BM25Recommender``). Each item keeps its ``neighbours`` most
similar items; a user's score for ``j`` is the sum over their items ``i`` of
``weight(u, i) * sim(i, j)``. Fold-in is that product, so new users need nothing else.
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
    topk_sparse_product,
    weigh,
)

SIMILARITIES = ("cosine", "bm25")


def bm25_items(user_items: sparse.csr_matrix, k1: float, b: float) -> sparse.csr_matrix:
    """Items x users BM25 weights: items are documents, users are terms."""
    docs = sparse.coo_matrix(user_items.T, dtype=np.float64)
    n_docs = float(docs.shape[0])
    idf = np.log(n_docs) - np.log1p(np.bincount(docs.col, minlength=docs.shape[1]))
    lengths = np.bincount(docs.row, weights=docs.data, minlength=docs.shape[0])
    average = lengths.mean() if len(lengths) and lengths.mean() > 0 else 1.0
    norm = (1.0 - b) + b * lengths / average
    data = docs.data * (k1 + 1.0) / (k1 * norm[docs.row] + docs.data) * idf[docs.col]
    return sparse.csr_matrix((data.astype(np.float32), (docs.row, docs.col)), shape=docs.shape)


def cosine_items(user_items: sparse.csr_matrix) -> sparse.csr_matrix:
    """Items x users rows scaled to unit length."""
    docs = sparse.csr_matrix(user_items.T, dtype=np.float32)
    norms = np.sqrt(np.asarray(docs.multiply(docs).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ docs, dtype=np.float32)


class ItemKNN(BaseModel):
    name: str = "itemknn"
    defaults: ClassVar[dict[str, Param]] = {
        "similarity": "bm25",
        "neighbours": 100,
        "k1": 1.2,
        "b": 0.75,
        "weighting": "binary",
    }
    choices: ClassVar[dict[str, tuple[str, ...]]] = {
        "similarity": SIMILARITIES,
        "weighting": WEIGHTINGS,
    }

    def __init__(self, **params: Param) -> None:
        super().__init__(**params)
        self.similarity = empty_csr(0, 0)

    def _fit(self, interactions: sparse.csr_matrix, side: SideInfo | None, seed: int) -> None:
        weighted = weigh(interactions, self._param_str("weighting"))
        if self._param_str("similarity") == "bm25":
            docs = bm25_items(weighted, self._param_float("k1"), self._param_float("b"))
        else:
            docs = cosine_items(weighted)
        self.similarity = topk_sparse_product(
            docs, sparse.csr_matrix(docs.T), self._param_int("neighbours")
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
