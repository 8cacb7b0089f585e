"""Top-N metrics over full-catalogue rankings, one definition each (recsys.md §1.5).

For a user ``u`` with held-out items ``T_u`` and a ranked list ``r_1 .. r_K``
(training items already excluded), ``rel_i = 1`` when ``r_i`` is in ``T_u``:

* ``recall@K`` = hits in the top K / ``|T_u|`` (RecBole's denominator, not min(K, |T_u|));
* ``ndcg@K`` = sum rel_i / log2(i + 1), divided by the same sum for an ideal list of
  ``min(|T_u|, K)`` hits;
* ``map@K`` = sum over i <= K of precision@i * rel_i, divided by ``min(|T_u|, K)`` (RecBole);
* ``precision@K`` = hits / K; ``hit@K`` = 1 when there is at least one hit;
* ``coverage@K``: the share of catalogue items that appear in at least one user's top K;
* ``novelty@K``: the mean self-information ``-log2(n_i / n_users)`` of recommended items,
  ``n_i`` being how many training users have item ``i`` (at least 1).

Per-user values are averaged over users with at least one held-out item.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse

FloatVector = npt.NDArray[np.float64]


def hits_matrix(top: npt.NDArray[np.int64], truth: sparse.csr_matrix) -> npt.NDArray[np.bool_]:
    """``hits[u, i]``: whether the i-th recommendation of user u is in their held-out set.

    ``top`` holds item indices (``-1`` for an empty slot) with one row per row of ``truth``.
    """
    hits = np.zeros(top.shape, dtype=bool)
    for row in range(top.shape[0]):
        start, end = truth.indptr[row], truth.indptr[row + 1]
        if start == end:
            continue
        hits[row] = np.isin(top[row], truth.indices[start:end])
    return hits


def per_user(
    hits: npt.NDArray[np.bool_], n_relevant: npt.NDArray[np.int64], k: int
) -> dict[str, FloatVector]:
    """The per-user metrics at ``k`` for users with at least one relevant item."""
    h = hits[:, :k].astype(np.float64)
    n_rel = n_relevant.astype(np.float64)
    hit_count = h.sum(axis=1)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (h * discounts).sum(axis=1)
    ideal_len = np.minimum(n_relevant, k)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[ideal_len]
    precision_at = np.cumsum(h, axis=1) / np.arange(1, k + 1)
    ap = (precision_at * h).sum(axis=1) / ideal_len
    return {
        f"recall@{k}": hit_count / n_rel,
        f"ndcg@{k}": dcg / ideal,
        f"map@{k}": ap,
        f"precision@{k}": hit_count / k,
        f"hit@{k}": (hit_count > 0).astype(np.float64),
    }


def coverage(top: npt.NDArray[np.int64], n_items: int) -> float:
    """The share of the catalogue recommended to at least one user."""
    shown = np.unique(top[top >= 0])
    return float(len(shown)) / n_items if n_items else 0.0


def novelty(top: npt.NDArray[np.int64], item_users: npt.NDArray[np.int64], n_users: int) -> float:
    """Mean self-information of the recommended items (higher: less obvious)."""
    shown = top[top >= 0]
    if len(shown) == 0 or n_users == 0:
        return 0.0
    counts = np.maximum(item_users[shown], 1).astype(np.float64)
    return float(np.mean(-np.log2(counts / n_users)))


def evaluate_rankings(
    top: npt.NDArray[np.int64],
    truth: sparse.csr_matrix,
    ks: tuple[int, ...],
    *,
    item_users: npt.NDArray[np.int64],
    n_users_train: int,
) -> dict[str, float]:
    """Averages of every metric at every k, plus coverage and novelty at the largest k.

    ``top`` and ``truth`` have one row per evaluated user (rows of ``truth`` with no held-out
    item are skipped); a ``top`` narrower than ``max(ks)`` counts as having empty slots.
    """
    depth = max(ks)
    if top.shape[1] < depth:  # a catalogue smaller than k: the missing slots are empty
        top = np.hstack([top, np.full((top.shape[0], depth - top.shape[1]), -1, top.dtype)])
    n_relevant = np.diff(truth.indptr).astype(np.int64)
    evaluated = n_relevant > 0
    hits = hits_matrix(top, truth)[evaluated]
    n_rel = n_relevant[evaluated]
    result: dict[str, float] = {}
    for k in ks:
        for name, values in per_user(hits, n_rel, k).items():
            result[name] = float(values.mean()) if len(values) else 0.0
    for k in ks:
        shown = top[evaluated, :k]
        result[f"coverage@{k}"] = coverage(shown, truth.shape[1])
        result[f"novelty@{k}"] = novelty(shown, item_users, n_users_train)
    result["users"] = float(evaluated.sum())
    return result
