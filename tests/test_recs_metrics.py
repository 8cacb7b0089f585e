"""Metrics and splits against hand-computed cases (one definition each, recsys.md §1.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from tastegraph.recs.errors import DatasetError
from tastegraph.recs.evaluation.datasets import EvalData
from tastegraph.recs.evaluation.metrics import coverage, evaluate_rankings, novelty
from tastegraph.recs.evaluation.splits import random_split, recbole_counts, temporal_split


def truth_of(rows: list[list[int]], n_items: int = 10) -> sparse.csr_matrix:
    r = [i for i, items in enumerate(rows) for _ in items]
    c = [item for items in rows for item in items]
    return sparse.csr_matrix((np.ones(len(c)), (r, c)), shape=(len(rows), n_items))


def test_ranking_metrics_by_hand() -> None:
    # User 0: relevant {2, 4, 9}; ranked 1, 2, 3, 4 -> hits at ranks 2 and 4.
    # User 1: relevant {5}; ranked 5 first -> a perfect list.
    # User 2: nothing held out -> not evaluated at all.
    top = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [0, 1, 2, 3]])
    truth = truth_of([[2, 4, 9], [5], []])
    result = evaluate_rankings(top, truth, (4,), item_users=np.ones(10, int), n_users_train=10)
    assert result["users"] == 2
    log2 = math.log2
    ndcg0 = (1 / log2(3) + 1 / log2(5)) / (1 + 1 / log2(3) + 1 / log2(4))
    assert result["recall@4"] == pytest.approx((2 / 3 + 1) / 2)  # hits / |test_u|
    assert result["precision@4"] == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert result["ndcg@4"] == pytest.approx((ndcg0 + 1.0) / 2)
    # MAP@4: (P@2 + P@4) / min(|test|, 4) = (1/2 + 2/4) / 3 for user 0, 1 for user 1.
    assert result["map@4"] == pytest.approx((1 / 3 + 1.0) / 2)
    assert result["hit@4"] == 1.0
    assert result["coverage@4"] == pytest.approx(8 / 10)  # items 1..8 shown to evaluated users


def test_recall_denominator_is_the_test_size_not_k() -> None:
    top = np.array([[0, 1]])
    truth = truth_of([[0, 1, 2, 3, 4]])
    result = evaluate_rankings(top, truth, (2,), item_users=np.ones(10, int), n_users_train=1)
    assert result["recall@2"] == pytest.approx(2 / 5)
    assert result["ndcg@2"] == pytest.approx(1.0)  # ideal DCG over min(|test|, k) = 2
    assert result["map@2"] == pytest.approx(1.0)


def test_empty_slots_never_count() -> None:
    top = np.array([[3, -1, -1]])
    truth = truth_of([[3, 4]])
    result = evaluate_rankings(top, truth, (3,), item_users=np.ones(10, int), n_users_train=1)
    assert result["recall@3"] == pytest.approx(0.5)
    assert coverage(top, 10) == pytest.approx(0.1)


def test_novelty_is_mean_self_information() -> None:
    item_users = np.array([8, 2, 0, 1])
    top = np.array([[0, 1], [2, 3]])
    expected = np.mean([-math.log2(8 / 8), -math.log2(2 / 8), -math.log2(1 / 8), -math.log2(1 / 8)])
    assert novelty(top, item_users, 8) == pytest.approx(expected)


def test_recbole_split_sizes() -> None:
    counts = recbole_counts(np.array([1, 2, 3, 4, 9, 10, 19, 20, 49]))
    expected = [
        [1, 0, 0],
        [1, 0, 1],
        [1, 1, 1],
        [2, 1, 1],
        [7, 1, 1],
        [8, 1, 1],
        [17, 1, 1],
        [16, 2, 2],
        [41, 4, 4],
    ]
    assert counts.tolist() == expected


def toy_data(timestamps: bool = False) -> EvalData:
    rng = np.random.default_rng(3)
    users, items = [], []
    for user in range(30):
        chosen = rng.choice(40, size=int(rng.integers(1, 25)), replace=False)
        users.extend([user] * len(chosen))
        items.extend(chosen.tolist())
    n = len(users)
    return EvalData(
        name="toy",
        users=np.asarray(users, dtype=np.int64),
        items=np.asarray(items, dtype=np.int64),
        weights=np.ones(n, dtype=np.float32),
        timestamps=np.arange(n, dtype=np.int64) * 60 if timestamps else None,
        user_labels=tuple(str(u) for u in range(30)),
        item_labels=tuple(str(i) for i in range(40)),
    )


def test_random_split_partitions_each_user() -> None:
    data = toy_data()
    split = random_split(data, seed=5)
    whole = sparse.csr_matrix(
        (data.weights, (data.users, data.items)), shape=(data.n_users, data.n_items)
    )
    together = split.train + split.valid + split.test
    assert (together != whole).nnz == 0
    assert split.train.multiply(split.valid).nnz == 0
    assert split.train.multiply(split.test).nnz == 0
    assert split.valid.multiply(split.test).nnz == 0
    per_user = np.diff(whole.indptr)
    expected = recbole_counts(per_user)
    assert np.array_equal(np.diff(split.train.indptr), expected[:, 0])
    assert np.array_equal(np.diff(split.valid.indptr), expected[:, 1])
    assert np.array_equal(np.diff(split.test.indptr), expected[:, 2])
    again = random_split(data, seed=5)
    assert (again.test != split.test).nnz == 0
    other = random_split(data, seed=6)
    assert (other.test != split.test).nnz > 0


def test_temporal_split_never_tests_the_past() -> None:
    data = toy_data(timestamps=True)
    split = temporal_split(data)
    assert data.timestamps is not None
    cut = np.quantile(data.timestamps, 0.8, method="lower")
    early = sparse.csr_matrix(
        (
            np.ones(int((data.timestamps < cut).sum())),
            (data.users[data.timestamps < cut], data.items[data.timestamps < cut]),
        ),
        shape=(data.n_users, data.n_items),
    )
    assert (split.train.astype(bool) != early.astype(bool)).nnz == 0
    assert split.train.multiply(split.valid).nnz == 0
    assert split.train.multiply(split.test).nnz == 0
    known = np.asarray(split.train.sum(axis=0)).ravel() > 0
    assert known[split.test.indices].all()
    assert known[split.valid.indices].all()
    with pytest.raises(DatasetError):
        temporal_split(toy_data(timestamps=False))


def test_a_catalogue_smaller_than_k() -> None:
    top = np.array([[1, 0]])  # only two items exist; k = 10
    truth = truth_of([[0]], n_items=2)
    result = evaluate_rankings(top, truth, (10,), item_users=np.ones(2, int), n_users_train=2)
    assert result["recall@10"] == 1.0
    assert result["ndcg@10"] == pytest.approx(1 / math.log2(3))
