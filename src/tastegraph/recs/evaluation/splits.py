"""Train / validation / test splits.

``random_split`` is RecBole's default (``eval_args: split RS [0.8,0.1,0.1], group_by user,
order RO``): each user's interactions are shuffled and cut 8:1:1 with RecBole's rounding
(``Dataset._calcu_split_ids``): validation and test get ``int(0.1 * n)`` each, training the
rest, then — while training keeps more than one — a part whose exact share is between 0 and 1
interaction gets one (test first, then validation). A user with 2 interactions thus has 1 in
training and 1 in test; with 3, one in each.

``temporal_split`` cuts the global timeline instead (Ji et al., TOIS 2023): training before the
80th percentile of the timestamps, validation up to the 90th, test after; a pair counts in the
first period it appears in, pairs already seen earlier are not held out again, and held-out
items unknown to training are dropped (no model can score them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from tastegraph.recs.errors import DatasetError
from tastegraph.recs.evaluation.datasets import EvalData

PROTOCOLS = ("random", "temporal")
RATIOS = (0.8, 0.1, 0.1)


@dataclass(frozen=True)
class Split:
    """Three users x items matrices over the same index space (weights summed per pair)."""

    train: sparse.csr_matrix
    valid: sparse.csr_matrix
    test: sparse.csr_matrix
    protocol: str
    seed: int

    @property
    def held_out(self) -> sparse.csr_matrix:
        """Validation and test pairs together (what side information must not reveal)."""
        both: sparse.csr_matrix = (self.valid + self.test).tocsr()
        return both


def recbole_counts(
    n: npt.NDArray[np.int64], ratios: tuple[float, ...] = RATIOS
) -> npt.NDArray[np.int64]:
    """Per user, how many interactions go to each part: RecBole's ``_calcu_split_ids``."""
    total = sum(ratios)
    shares = [r / total for r in ratios]
    counts = np.stack([(s * n).astype(np.int64) for s in shares], axis=1)
    counts[:, 0] = n - counts[:, 1:].sum(axis=1)
    for i in range(1, len(shares)):
        exact = shares[-i] * n
        bump = (counts[:, 0] > 1) & (exact > 0) & (exact < 1)
        # RecBole stops at the first part where training is down to one; later parts see the
        # same condition, so masking by counts[:, 0] > 1 at each step is equivalent.
        counts[bump, -i] += 1
        counts[bump, 0] -= 1
    return counts


def _matrix(
    users: npt.NDArray[np.int64],
    items: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float32],
    shape: tuple[int, int],
) -> sparse.csr_matrix:
    m = sparse.csr_matrix((weights.astype(np.float32), (users, items)), shape=shape)
    m.sum_duplicates()
    m.sort_indices()
    return m


def aggregate(data: EvalData) -> sparse.csr_matrix:
    """All events as one users x items matrix, weights summed per pair."""
    return _matrix(data.users, data.items, data.weights, (data.n_users, data.n_items))


def random_split(data: EvalData, seed: int, ratios: tuple[float, ...] = RATIOS) -> Split:
    """RecBole's per-user random 8:1:1 split (see the module docstring)."""
    matrix = aggregate(data).tocoo()
    users = matrix.row.astype(np.int64)
    items = matrix.col.astype(np.int64)
    weights = matrix.data.astype(np.float32)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(users)), users))  # by user, shuffled within
    users, items, weights = users[order], items[order], weights[order]
    n = np.bincount(users, minlength=data.n_users).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    position = np.arange(len(users)) - starts[users]
    counts = recbole_counts(n, ratios)
    part = np.where(
        position < counts[users, 0], 0, np.where(position < counts[users, :2].sum(axis=1), 1, 2)
    )
    shape = (data.n_users, data.n_items)
    train, valid, test = (
        _matrix(users[part == p], items[part == p], weights[part == p], shape) for p in range(3)
    )
    return Split(train=train, valid=valid, test=test, protocol="random", seed=seed)


def temporal_split(data: EvalData, seed: int = 0) -> Split:
    """A global time cut-off at the 80th and 90th percentiles of the timestamps."""
    if data.timestamps is None:
        raise DatasetError(
            f"{data.name} has no timestamps: the temporal protocol needs them (use random)"
        )
    stamps = data.timestamps
    valid_from, test_from = np.quantile(stamps, [0.8, 0.9], method="lower")
    if not stamps.min() < valid_from < test_from:
        raise DatasetError(f"{data.name}: too few distinct timestamps for a temporal split")
    shape = (data.n_users, data.n_items)
    period = np.where(stamps < valid_from, 0, np.where(stamps < test_from, 1, 2))
    parts = [
        _matrix(data.users[period == p], data.items[period == p], data.weights[period == p], shape)
        for p in range(3)
    ]
    train = parts[0]
    known_items = np.asarray(train.sum(axis=0) > 0).ravel()
    known_users = np.diff(train.indptr) > 0
    seen = train.astype(bool)
    held: list[sparse.csr_matrix] = []
    for part in parts[1:]:
        new = part - part.multiply(seen)
        new = sparse.csr_matrix(new)
        new.eliminate_zeros()
        coo = new.tocoo()
        keep = known_items[coo.col] & known_users[coo.row]
        kept = _matrix(
            coo.row[keep].astype(np.int64),
            coo.col[keep].astype(np.int64),
            coo.data[keep].astype(np.float32),
            shape,
        )
        held.append(kept)
        seen = (seen + part.astype(bool)).astype(bool)
    return Split(train=train, valid=held[0], test=held[1], protocol="temporal", seed=seed)


def make_split(data: EvalData, protocol: str, seed: int) -> Split:
    if protocol == "random":
        return random_split(data, seed)
    if protocol == "temporal":
        return temporal_split(data, seed)
    raise DatasetError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")
