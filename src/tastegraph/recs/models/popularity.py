"""Popularity: every user gets the items most users have, globally or within a group.

The baseline every other model must beat (recsys.md §1.4), and the answer for users with no
history. ``group_popularity`` scores the same way from any group's rows, e.g. the users of one
country, for "popular where you live".
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from tastegraph.recs.components import FloatArray, IntArray, SideInfo
from tastegraph.recs.models.base import BaseModel, fit_columns, item_counts


class Popularity(BaseModel):
    """Scores each item by how many training users have it (scaled into [0, 1])."""

    name: str = "popularity"
    defaults: ClassVar[dict[str, Any]] = {}
    choices: ClassVar[dict[str, tuple[str, ...]]] = {}

    def _fit(self, interactions: sparse.csr_matrix, side: SideInfo | None, seed: int) -> None:
        return None

    def _score(self, rows: sparse.csr_matrix) -> FloatArray:
        return np.tile(self.popularity, (rows.shape[0], 1))

    def _item_similarity(self, items: IntArray) -> FloatArray:
        # Without co-occurrence data the best guess for "like this" is "popular".
        return np.tile(self.popularity, (len(items), 1))

    def _restore(
        self,
        dense: dict[str, np.ndarray[Any, Any]],
        matrices: dict[str, sparse.csr_matrix],
        manifest: Any,
    ) -> None:
        return None


def group_popularity(group_rows: sparse.csr_matrix, n_items: int) -> FloatArray:
    """Popularity within a group (e.g. one country's users): users per item, scaled to [0, 1].

    ``group_rows`` are the group's users x items rows; the result has ``n_items`` entries.
    """
    rows = fit_columns(group_rows, n_items)
    counts = item_counts(rows).astype(np.float32)
    top = counts.max() if len(counts) else 0.0
    return (counts / top if top > 0 else counts).astype(np.float32)
