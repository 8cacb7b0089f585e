"""The contract every recommendation model implements.

Models see only integer indices: users are rows and items are columns of a sparse user x item
matrix of confidence weights (play counts, loves, ...). Mapping database ids to indices is the job
of ``recs.data`` (training) and ``recs.serving`` (answers), never of a model, so that a model can
be trained on HetRec, on a CSV file or on the play log alike.

Scoring always goes through ``score``: it takes the rows of *any* users (known or brand new) as
a sparse matrix over the model's item columns and returns dense scores. That is the fold-in: a
new user's first plays are a row like any other, so no model needs retraining to answer them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from scipy import sparse

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SideInfo:
    """What a hybrid model may use beside the interactions, all by index.

    ``item_features`` is items x features (tags, creators, kind, parent, language, origin);
    ``user_links`` is users x users (friendships). Either may be absent.
    """

    item_features: sparse.csr_matrix | None = None
    user_links: sparse.csr_matrix | None = None
    feature_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class FitReport:
    """What a fit did, for logs and the artifact's manifest."""

    model: str
    params: dict[str, float | int | str | bool] = field(default_factory=dict)
    seconds: float = 0.0


@runtime_checkable
class Recommender(Protocol):
    """A trained model that scores items for users and relates items to items."""

    name: str

    def fit(
        self, interactions: sparse.csr_matrix, side: SideInfo | None = None, *, seed: int = 0
    ) -> FitReport:
        """Learn from users x items confidence weights. Deterministic for a seed."""
        ...

    @property
    def n_items(self) -> int:
        """How many item columns the model was trained on."""
        ...

    def score(self, user_rows: sparse.csr_matrix) -> FloatArray:
        """Scores (rows x n_items) for users given by their interaction rows.

        Works for users never seen in training (fold-in). Columns beyond ``n_items`` in the
        input are ignored; callers mask items themselves (already played, hated, unavailable).
        """
        ...

    def similar_items(self, items: IntArray, n: int) -> tuple[IntArray, FloatArray]:
        """For each item index, the ``n`` most similar other items and their scores."""
        ...

    def item_vectors(self) -> FloatArray | None:
        """Dense item embeddings where the model has them (for neighbours, segments), else None."""
        ...

    def save(self, directory: Path) -> None:
        """Write everything needed to ``load`` into an existing empty directory."""
        ...


@runtime_checkable
class SocialRecommender(Recommender, Protocol):
    """A model that can also use the user's friends' taste (the hybrid).

    ``score`` alone leaves the friends out; servers that know who the user's friends are call
    ``score_social`` when ``uses_friends()`` says the friends' term carries weight.
    """

    def uses_friends(self) -> bool:
        """Whether ``score_social`` differs from ``score`` (the friends' term has a weight)."""
        ...

    def score_social(
        self, user_rows: sparse.csr_matrix, friends_items: sparse.csr_matrix
    ) -> FloatArray:
        """``score`` plus the friends' term; ``friends_items`` (rows x items) counts how many
        of each user's friends have each item."""
        ...


def top_n(scores: FloatArray, n: int, exclude: sparse.csr_matrix | None = None) -> IntArray:
    """The indices of the ``n`` best scores per row, best first; excluded cells never appear.

    ``exclude`` has the same shape as ``scores`` (or fewer columns); its non-zero cells are
    dropped, which is how already-played and hated items are kept out.
    """
    work = np.array(scores, dtype=np.float32, copy=True)
    if exclude is not None:
        rows, cols = exclude.nonzero()
        keep = cols < work.shape[1]
        work[rows[keep], cols[keep]] = -np.inf
    n = min(n, work.shape[1])
    if n <= 0:
        return np.zeros((work.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-work, n - 1, axis=1)[:, :n]
    part_scores = np.take_along_axis(work, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    best = np.take_along_axis(part, order, axis=1).astype(np.int64)
    best_scores = np.take_along_axis(part_scores, order, axis=1)
    # Rows with fewer than n candidates keep -1 where only excluded cells were left.
    best[~np.isfinite(best_scores)] = -1
    return best
