"""Every recommendation model against the same contract (``recs/components.py``).

The toy world has two disjoint taste clusters: the first half of the users play only items
0-9 ("A"), the other half only items 10-19 ("B"). Any model worth the name recommends A items
to an A listener and finds A items similar to an A item; popularity, which ignores who the user
is, is only asked to rank by popularity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from tastegraph.recs.components import Recommender, SideInfo, top_n
from tastegraph.recs.errors import ArtifactError, InvalidRecsRequest, ModelNotTrained
from tastegraph.recs.models.base import BaseModel, topk_sparse_product
from tastegraph.recs.models.hybrid import Hybrid, friend_rows
from tastegraph.recs.models.popularity import group_popularity
from tastegraph.recs.registry import (
    MODELS,
    create_model,
    default_model_name,
    load_model,
    model_class,
)

N_USERS = 40
N_ITEMS = 20
CLUSTER = 10
SMALL: dict[str, dict[str, float | int | str]] = {
    "als": {"factors": 2, "iterations": 15, "regularization": 0.1, "alpha": 5.0},
    "itemknn": {"neighbours": 10},
    "rp3beta": {"neighbours": 10},
    "ease": {"lam": 5.0, "min_users": 1},
    "hybrid": {"lam": 5.0, "min_users": 1},
}
LEARNERS = [name for name in MODELS if name != "popularity"]


def toy_interactions(seed: int = 7) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    rows, cols, vals = [], [], []
    for user in range(N_USERS):
        offset = 0 if user < N_USERS // 2 else CLUSTER
        # Item 0 and item 10 are each cluster's hit; the rest a random half of the cluster.
        chosen = {offset, *rng.choice(np.arange(offset + 1, offset + CLUSTER), 5, replace=False)}
        for item in sorted(chosen):
            rows.append(user)
            cols.append(item)
            vals.append(float(rng.integers(1, 50)))
    return sparse.csr_matrix((vals, (rows, cols)), shape=(N_USERS, N_ITEMS), dtype=np.float32)


def toy_side() -> SideInfo:
    # Feature 0 marks cluster A, feature 1 cluster B; friends are within a cluster.
    features = sparse.csr_matrix(
        (np.ones(N_ITEMS), (np.arange(N_ITEMS), (np.arange(N_ITEMS) >= CLUSTER).astype(int))),
        shape=(N_ITEMS, 2),
        dtype=np.float32,
    )
    pairs = [(u, u + 1) for u in range(0, N_USERS, 2)]
    links = sparse.csr_matrix(
        (
            np.ones(2 * len(pairs)),
            (
                [a for a, _ in pairs] + [b for _, b in pairs],
                [b for _, b in pairs] + [a for a, _ in pairs],
            ),
        ),
        shape=(N_USERS, N_USERS),
        dtype=np.float32,
    )
    return SideInfo(item_features=features, user_links=links, feature_names=("tag:a", "tag:b"))


def fitted(name: str, seed: int = 0) -> BaseModel:
    model = create_model(name, **SMALL.get(name, {}))
    model.fit(toy_interactions(), toy_side(), seed=seed)
    return model


def row(items: list[int], n_items: int = N_ITEMS) -> sparse.csr_matrix:
    return sparse.csr_matrix(
        (np.ones(len(items), dtype=np.float32), (np.zeros(len(items), dtype=int), items)),
        shape=(1, n_items),
    )


@pytest.fixture(scope="module", params=list(MODELS))
def model(request: pytest.FixtureRequest) -> BaseModel:
    return fitted(request.param)


def test_every_model_implements_the_contract(model: BaseModel) -> None:
    assert isinstance(model, Recommender)
    assert model.n_items == N_ITEMS
    assert model_class(model.name) is type(model)


@pytest.mark.parametrize("name", LEARNERS)
def test_learns_the_taste_clusters(name: str) -> None:
    model = fitted(name)
    listener = row([1, 2, 3])  # a new A listener: fold-in, no retraining
    best = top_n(model.score(listener), 5, exclude=listener)[0]
    assert set(best.tolist()) <= set(range(CLUSTER)), (name, best)
    b_listener = row([11, 12, 13])
    best_b = top_n(model.score(b_listener), 5, exclude=b_listener)[0]
    assert set(best_b.tolist()) <= set(range(CLUSTER, N_ITEMS)), (name, best_b)
    similar, scores = model.similar_items(np.array([0, 10]), 3)
    assert set(similar[0].tolist()) <= set(range(1, CLUSTER)), (name, similar)
    assert set(similar[1].tolist()) <= set(range(CLUSTER + 1, N_ITEMS)), (name, similar)
    assert scores.shape == (2, 3)
    assert np.all(scores[:, :-1] >= scores[:, 1:])


def test_popularity_ranks_by_listeners() -> None:
    model = fitted("popularity")
    scores = model.score(row([1]))[0]
    assert scores[0] == scores[10] == pytest.approx(1.0)  # every user has their hit
    assert scores.argmax() in {0, 10}
    counts = np.bincount(toy_interactions().indices, minlength=N_ITEMS)
    assert np.array_equal(np.argsort(-scores, kind="stable"), np.argsort(-counts, kind="stable"))
    group = group_popularity(toy_interactions()[: N_USERS // 2], N_ITEMS)
    assert group[0] == 1.0
    assert np.all(group[CLUSTER:] == 0)


def test_save_and_load_give_identical_scores(model: BaseModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    assert (tmp_path / "manifest.json").is_file()
    again = load_model(tmp_path)
    assert type(again) is type(model)
    assert again.params == model.params
    rows = toy_interactions()[:7]
    assert np.array_equal(again.score(rows), model.score(rows))
    assert np.array_equal(
        again.similar_items(np.array([3]), 4)[0], model.similar_items(np.array([3]), 4)[0]
    )
    vectors, loaded_vectors = model.item_vectors(), again.item_vectors()
    if vectors is None:
        assert loaded_vectors is None
    else:
        assert loaded_vectors is not None
        assert np.array_equal(vectors, loaded_vectors)
        assert vectors.shape[0] == N_ITEMS
    # No pickles anywhere in the artifact.
    for path in tmp_path.iterdir():
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as stored:
                assert all(stored[key].dtype != object for key in stored.files)


def test_deterministic_for_a_seed(model: BaseModel) -> None:
    again = fitted(model.name)
    rows = toy_interactions()
    assert np.array_equal(again.score(rows), model.score(rows))


def test_users_without_history_and_unseen_items(model: BaseModel) -> None:
    empty = sparse.csr_matrix((2, N_ITEMS), dtype=np.float32)
    scores = model.score(empty)
    assert scores.shape == (2, N_ITEMS)
    assert np.all(np.isfinite(scores))
    assert scores[0].argmax() in {0, 10}  # popularity-like, never a crash
    # Columns for items the model never saw are ignored, and a narrower row is padded.
    wide = row([1, 2, 3, N_ITEMS + 4], n_items=N_ITEMS + 5)
    narrow = sparse.csr_matrix(row([1, 2, 3])[:, :5])
    expected = model.score(row([1, 2, 3]))
    assert np.array_equal(model.score(wide), expected)
    assert np.array_equal(model.score(narrow), expected)
    assert model.score(sparse.csr_matrix((0, N_ITEMS), dtype=np.float32)).shape == (0, N_ITEMS)


def test_hybrid_uses_features_and_friends() -> None:
    interactions = toy_interactions()
    # Item 20 is new: nobody has played it, but it is tagged like cluster A.
    features = sparse.vstack(
        [toy_side().item_features, sparse.csr_matrix(([1.0], ([0], [0])), shape=(1, 2))],
        format="csr",
    )
    wide = sparse.csr_matrix(
        (interactions.data, interactions.indices, interactions.indptr),
        shape=(N_USERS, N_ITEMS + 1),
    )
    model = Hybrid(lam=5.0, min_users=1, tag_weight=0.5)
    model.fit(wide, SideInfo(item_features=features), seed=0)
    scores = model.score(row([1, 2, 3], N_ITEMS + 1))[0]
    assert scores[N_ITEMS] > scores[CLUSTER:N_ITEMS].max()
    without = Hybrid(lam=5.0, min_users=1, tag_weight=0.5)
    without.fit(wide, None, seed=0)
    assert without.score(row([1, 2, 3], N_ITEMS + 1))[0][N_ITEMS] == 0.0
    # Friends' taste: user 0's friend is user 1; the friend term adds exactly their items.
    friends = friend_rows(toy_side().user_links, interactions)
    assert np.array_equal(friends[0].toarray(), (interactions[1].toarray() > 0).astype(float))
    plain = model.score(interactions[:2])
    social = model.score_social(interactions[:2], friends[:2])
    boosted = social - plain
    assert np.all(boosted >= 0)
    assert set(np.flatnonzero(boosted[0] > 0)) == set(interactions[1].indices)


def test_ease_falls_back_to_the_most_popular_items() -> None:
    model = create_model("ease", lam=5.0, min_users=1, max_items=5)
    model.fit(toy_interactions(), seed=0)
    scores = model.score(row([1, 2]))
    assert scores.shape == (1, N_ITEMS)
    kept = top_n(scores, 5)[0]
    counts = np.bincount(toy_interactions().indices, minlength=N_ITEMS)
    assert counts[kept].min() >= np.sort(counts)[-5]


def test_registry_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    with pytest.raises(InvalidRecsRequest):
        create_model("nope")
    with pytest.raises(InvalidRecsRequest):
        create_model("ease", lamda=3)
    with pytest.raises(InvalidRecsRequest):
        create_model("itemknn", similarity="jaccard")
    with pytest.raises(ModelNotTrained):
        create_model("ease").score(row([1]))
    with pytest.raises(ArtifactError):
        load_model(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": 1, "model": "nope"}')
    with pytest.raises(ArtifactError):
        load_model(tmp_path)
    assert create_model("als", factors="16").params["factors"] == 16


def test_default_model_depends_on_catalogue_size() -> None:
    assert default_model_name(10, 1000) == "popularity"
    assert default_model_name(1892, 17632) == "hybrid"
    assert default_model_name(100_000, 50_000, "track") == "als"
    assert default_model_name(5000, 20_000) in MODELS


@pytest.mark.parametrize(
    ("users", "items", "kind", "pairs", "expected"),
    [
        # A small catalogue followed by many people is learnt, not just counted.
        (1484, 21, "competition", 3701, "hybrid"),
        (2178, 52, "outlet", 4154, "hybrid"),
        (40, 300, "team", 900, "popularity"),  # too few people
        (5000, 300, "team", 5030, "popularity"),  # almost nobody has two teams
        (2362, 11_969, "track", 171_778, "hybrid"),
        (2362, 11_969, "mixed", 171_778, "hybrid"),
        (50_000, 400_000, "track", 5_000_000, "als"),  # beyond EASE's dense inverse
        (1484, 5662, "match", 49_938, "hybrid"),  # features carry short-lived matches
        (2150, 7203, "story", 36_316, "als"),  # stories: read within days, any size
        (200_000, 900_000, "story", 9_000_000, "als"),
        (10, 7203, "story", 100, "popularity"),
    ],
)
def test_default_model_depends_on_the_kind(
    users: int, items: int, kind: str, pairs: int, expected: str
) -> None:
    assert default_model_name(users, items, kind, pairs) == expected


def test_topk_product_keeps_the_largest_off_diagonal_entries() -> None:
    left = sparse.csr_matrix(np.array([[1, 2, 3, 0], [0, 1, 0, 5], [4, 0, 0, 1]], np.float32))
    product = (left @ left.T).toarray()
    np.fill_diagonal(product, 0)
    pruned = topk_sparse_product(left, sparse.csr_matrix(left.T), 1, chunk=2).toarray()
    for r in range(3):
        assert np.count_nonzero(pruned[r]) == 1
        assert pruned[r].max() == product[r].max()
