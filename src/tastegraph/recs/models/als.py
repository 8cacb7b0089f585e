"""Implicit-feedback matrix factorisation (Hu, Koren, Volinsky 2008) through ``implicit``.

Training runs implicit's CPU conjugate-gradient ALS with OpenBLAS held to one thread (implicit
parallelises over users itself and warns otherwise; see platform-notes.md). A user's scores
are ``x_u . y_i``. ``score`` never looks user factors up: it solves each given row's least
squares against the item factors, exactly the user step of ALS, so a brand-new user and a
training user are scored the same way (fold-in). Confidence follows implicit: ``c = alpha *
weight(count)``; the solve is ``(Y^T Y + Y^T (C - I) Y + reg I) x = Y^T c`` over the user's
items.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from tastegraph.recs.components import FloatArray, IntArray, SideInfo
from tastegraph.recs.models.base import WEIGHTINGS, BaseModel, Param, weigh


class ALS(BaseModel):
    name: str = "als"
    defaults: ClassVar[dict[str, Param]] = {
        "factors": 64,
        "regularization": 10.0,
        "alpha": 5.0,
        "iterations": 15,
        "weighting": "binary",
    }
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"weighting": WEIGHTINGS}

    def __init__(self, **params: Param) -> None:
        super().__init__(**params)
        self.item_factors: FloatArray = np.zeros((0, 0), dtype=np.float32)
        self._gram: np.ndarray[Any, np.dtype[np.float64]] | None = None

    def _fit(self, interactions: sparse.csr_matrix, side: SideInfo | None, seed: int) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        weighted = weigh(interactions, self._param_str("weighting"))
        logging.getLogger("implicit").setLevel(logging.WARNING)
        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self._param_int("factors"),
                regularization=self._param_float("regularization"),
                alpha=self._param_float("alpha"),
                iterations=self._param_int("iterations"),
                random_state=seed,
            )
            model.fit(weighted, show_progress=False)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self._gram = None

    def _user_factors(self, rows: sparse.csr_matrix) -> FloatArray:
        weighted = weigh(rows, self._param_str("weighting"))
        n_factors = self.item_factors.shape[1]
        if self._gram is None:
            # Y'Y + λI is the same for every user: computed once per trained model, so a
            # request only touches the factors of the items its user played.
            y = self.item_factors.astype(np.float64)
            self._gram = y.T @ y + self._param_float("regularization") * np.eye(n_factors)
        base = self._gram
        alpha = self._param_float("alpha")
        factors = np.zeros((rows.shape[0], n_factors), dtype=np.float64)
        for row in range(rows.shape[0]):
            start, end = weighted.indptr[row], weighted.indptr[row + 1]
            if start == end:
                continue
            items = weighted.indices[start:end]
            confidence = alpha * weighted.data[start:end].astype(np.float64)
            y_u = self.item_factors[items].astype(np.float64)
            a = base + y_u.T @ ((confidence - 1.0)[:, None] * y_u)
            factors[row] = np.linalg.solve(a, y_u.T @ confidence)
        return factors.astype(np.float32)

    def _score(self, rows: sparse.csr_matrix) -> FloatArray:
        return np.asarray(self._user_factors(rows) @ self.item_factors.T, dtype=np.float32)

    def _item_similarity(self, items: IntArray) -> FloatArray:
        norms = np.linalg.norm(self.item_factors, axis=1)
        norms[norms == 0] = 1.0
        unit = self.item_factors / norms[:, None]
        return np.asarray(unit[items] @ unit.T, dtype=np.float32)

    def item_vectors(self) -> FloatArray | None:
        self._require_trained()
        return self.item_factors

    def _dense_arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        return {"item_factors": self.item_factors}

    def _restore(
        self,
        dense: dict[str, np.ndarray[Any, Any]],
        matrices: dict[str, sparse.csr_matrix],
        manifest: Any,
    ) -> None:
        self.item_factors = dense["item_factors"].astype(np.float32)
        self._gram = None
