"""The collaborative model trained on Spark (``batch/spark_recs.py``): the same training data
as the local trainer, recommendation quality within a stated tolerance of the local ALS on a
held-out split, and a published version the HTTP API answers from."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tastegraph.batch.spark_recs import collect_dataset, kind_cells
from tastegraph.config import Mode, Settings
from tastegraph.recs.data import build_dataset
from tastegraph.runtime import Runtime
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.recs_helpers import build_community, recs
from tests.spark_batch_helpers import (
    TasteWorld,
    build_taste_world,
    export_to,
    held_out_quality,
    similar_overlap,
    spark,
)

__all__ = ["spark"]

RECALL_TOLERANCE = 0.05
"""Spark's Recall@10 on the held-out tracks may be at most this much below the local ALS's
(absolute; about three standard errors for 1,000 held-out pairs). Both models start from
different random factors, so the lists differ in detail, not in quality."""
SIMILAR_OVERLAP = 0.35
"""The least mean overlap@10 of similar items between the local and the Spark version. In a
cluster of 60 tracks played at random within it, chance gives about 0.17: what is shared is the
taste structure, not the order inside a cluster."""
NEIGHBOUR_OVERLAP = 0.4
"""The least mean overlap@10 of the neighbours the API lists from either version (chance
among a user's 39 cluster-mates: 0.26)."""
PURITY = 0.9
"""The least share of similar items, neighbours and recommendations from the right cluster."""
PARAMS = ["-o", "factors=16", "-o", "iterations=8"]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        mode=Mode.DEV,
        database_url=database_url,
        data_dir=tmp_path / "data",
        recs_reload_seconds=0,
        recs_blas_threads=0,
        stats_fold_seconds=0,
        audience_refresh_seconds=0,
    )


def test_spark_builds_the_local_training_matrices(
    spark: Any, client: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    """Levels reached through parents, grandparents and credits, loves and hates."""
    community = build_community(client, runtime)
    fan, other = community.fans("rock")[0], community.fans("jazz")[0]
    played = recs(client, fan, kind="track", limit=5)  # popularity: nothing is trained
    loved = [e["item"]["id"] for e in recs(client, other, kind="track", limit=3)["recommendations"]]
    mine = client.get(f"/api/v1/users/{fan.name}/plays", params={"limit": 5}, headers=fan.headers)
    hated = mine.json()["plays"][0]["item"]["id"]
    for item_id, who, sentiment in [
        (loved[0], other, "love"),  # a love without a play
        (hated, fan, "hate"),  # a played item weighs nothing
        (played["recommendations"][0]["item"]["id"], fan, "not_interested"),
    ]:
        answer = client.put(
            f"/api/v1/items/{item_id}/feedback",
            json={"sentiment": sentiment},
            headers=who.headers,
        )
        assert answer.status_code in (200, 204), answer.text
    export = export_to(runtime, tmp_path / "export")
    for kind in ("mixed", "artist", "show"):
        cells = kind_cells(spark, export, kind)
        remote = collect_dataset(export, runtime.db, kind, cells)
        with runtime.db.unit_of_work() as session:
            local = build_dataset(session, kind, side=False)
        assert remote.n_users > 1, kind
        assert remote.n_items > 1, kind
        assert np.array_equal(remote.user_ids, local.user_ids), kind
        assert np.array_equal(remote.item_ids, local.item_ids), kind
        assert np.allclose(remote.matrix.toarray(), local.matrix.toarray(), atol=1e-6), kind
        assert remote.matrix.nnz == local.matrix.nnz, kind
        assert remote.plays == local.plays, kind
        assert np.array_equal(remote.item_kinds, local.item_kinds), kind
        assert np.array_equal(remote.groups, local.groups), kind
        assert np.array_equal(remote.group_kinds, local.group_kinds), kind
        assert remote.user_countries == local.user_countries, kind
        assert remote.links.keys() == local.links.keys(), kind
        for level, (cols, ids) in local.links.items():
            assert np.array_equal(remote.links[level][0], cols), (kind, level)
            assert np.array_equal(remote.links[level][1], ids), (kind, level)


def _cluster(title: str) -> int:
    return int(title.split(maxsplit=1)[0].removeprefix("C"))


def _version(out: str) -> str:
    return out.split("published recs version ", 1)[1].split(maxsplit=1)[0]


def _get(client: TestClient, url: str, headers: dict[str, str] | None = None) -> Any:
    response = client.get(url, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def _served(client: TestClient, world: TasteWorld, version: str) -> dict[str, Any]:
    """What the API answers from the published version: each user's neighbours, a sample
    of similar items and recommendations, with the cluster purity of each."""
    status = _get(client, "/api/v1/recs/status")
    assert status["version"] == version
    neighbours: dict[str, list[str]] = {}
    similar: dict[int, list[str]] = {}
    pure: dict[str, list[float]] = {"neighbours": [], "similar": [], "recommendations": []}
    for account in world.accounts[::10]:
        cluster = world.cluster_of[account.name]
        url = f"/api/v1/users/{account.name}/recommendations?kind=track&limit=10"
        answer = _get(client, url, account.headers)
        assert answer["version"] == version, answer
        assert answer["model"] == "als", answer
        assert answer["source"] != "popular"
        listed = [e["item"]["title"] for e in answer["recommendations"]]
        assert len(listed) == 10
        assert not set(listed) & _played(client, account)
        pure["recommendations"].append(np.mean([_cluster(t) == cluster for t in listed]))
        url = f"/api/v1/users/{account.name}/neighbours?kind=track&limit=10"
        near = [n["name"] for n in _get(client, url, account.headers)["neighbours"]]
        neighbours[account.name] = near
        pure["neighbours"].append(np.mean([world.cluster_of[n] == cluster for n in near]))
        first = answer["recommendations"][0]["item"]
        found = _get(client, f"/api/v1/items/{first['id']}/similar?limit=10")
        assert found["version"] == version
        titles = [s["item"]["title"] for s in found["similar"]]
        similar[first["id"]] = titles
        pure["similar"].append(np.mean([_cluster(t) == _cluster(first["title"]) for t in titles]))
    return {
        "neighbours": neighbours,
        "similar": similar,
        "purity": {k: float(np.mean(v)) for k, v in pure.items()},
    }


def _played(client: TestClient, account: Any) -> set[str]:
    body = _get(client, f"/api/v1/users/{account.name}/plays?limit=1000", account.headers)
    return {p["item"]["title"] for p in body["plays"]}


def _overlap(first: dict[Any, list[str]], second: dict[Any, list[str]]) -> float:
    keys = [k for k in first if k in second]
    return float(np.mean([len(set(first[k]) & set(second[k])) / 10 for k in keys]))


def test_spark_als_is_as_good_as_the_local_one_and_serves_the_api(
    spark: Any, client: TestClient, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    world = build_taste_world(client, runtime)
    env = dev_env(database_url, TASTEGRAPH_DATA_DIR=str(tmp_path / "data"))
    export = tmp_path / "export"
    assert_clean_exit(invoke(["export", "parquet", str(export)], env), 0)
    store = runtime.recs.store
    seconds: dict[str, float] = {}

    def run(label: str, args: list[str], *, params: bool = True) -> str:
        started = time.perf_counter()
        extra = PARAMS if params else []
        result = invoke(["batch", "run", "recs", *args, "-o", "kinds=track", *extra], env)
        seconds[label] = time.perf_counter() - started
        assert_clean_exit(result, 0)
        return _version(result.stdout)

    popular = run("popularity", ["--runner", "local", "-o", "model=popularity"], params=False)
    local = run("local", ["--runner", "local", "-o", "model=als"])
    served_local = _served(client, world, local)
    remote = run("spark", ["--runner", "spark", "--export", str(export)])
    manifest = store.read_manifest(remote)
    assert manifest.kinds["track"].model == "als"
    assert manifest.kinds["track"].params["runner"] == "spark"
    served_spark = _served(client, world, remote)

    quality = {
        name: held_out_quality(runtime, store, version, world)
        for name, version in (("popularity", popular), ("local", local), ("spark", remote))
    }
    recall = {name: q["recall@10"] for name, q in quality.items()}
    assert recall["spark"] >= recall["local"] - RECALL_TOLERANCE, recall
    assert recall["spark"] >= 2 * recall["popularity"], recall
    overlap = similar_overlap(store, local, remote)
    assert overlap >= SIMILAR_OVERLAP, overlap
    for served in (served_local, served_spark):
        assert all(p >= PURITY for p in served["purity"].values()), served["purity"]
    neighbours = _overlap(served_local["neighbours"], served_spark["neighbours"])
    similar_api = _overlap(served_local["similar"], served_spark["similar"])
    assert neighbours >= NEIGHBOUR_OVERLAP, neighbours
    print(
        "\nheld-out Recall@10 / NDCG@10: "
        + ", ".join(f"{n} {q['recall@10']:.3f} / {q['ndcg@10']:.3f}" for n, q in quality.items())
        + f"; similar items overlap@10 {overlap:.2f} (all items), {similar_api:.2f} (API sample);"
        + f" neighbours overlap@10 {neighbours:.2f}; purity local {served_local['purity']},"
        + f" spark {served_spark['purity']}; seconds {seconds}"
    )
