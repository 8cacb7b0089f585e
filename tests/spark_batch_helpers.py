"""For the recs and segment batch tests: the process's SparkSession (``spark_helpers``: one
per test process; without pyspark the tests skip unless TASTEGRAPH_TEST_REQUIRE_SPARK=1), a
community with clear taste clusters built through the API, and what the tests measure on it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import sparse

from tastegraph.recs.artifacts import ArtifactStore, KindArtifact
from tastegraph.recs.components import top_n
from tastegraph.recs.evaluation.metrics import evaluate_rankings
from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track
from tests.recs_helpers import quick_account, submit
from tests.spark_helpers import shared_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture
def spark() -> SparkSession:
    """The test process's SparkSession (local[2], started once: ``tests/spark_helpers.py``)."""
    session: SparkSession = shared_spark()
    return session


def export_to(runtime: Runtime, directory: Path) -> Path:
    """The database as the Parquet export the jobs read (``tastegraph export parquet``)."""
    from tastegraph.portability.parquet import export_parquet

    export_parquet(runtime.db, directory)
    return directory


# -- a community with taste clusters ----------------------------------------------------------

CLUSTERS = 5
ARTISTS_PER_CLUSTER = 6
TRACKS_PER_ARTIST = 10
"""5 x 6 x 10 = 300 tracks."""
USERS_PER_CLUSTER = 40
"""200 users."""
OWN = 22
NOISE = 3
HELD_OUT = 5


def cluster_tracks(cluster: int) -> list[dict[str, Any]]:
    return [
        track(f"C{cluster} A{a} song {n}", f"Cluster {cluster} Artist {a}")
        for a in range(ARTISTS_PER_CLUSTER)
        for n in range(TRACKS_PER_ARTIST)
    ]


def title_of(ref: dict[str, Any]) -> str:
    return str(ref["title"])


@dataclass
class TasteWorld:
    """Who is in which cluster, and each user's held-out tracks (never played: the test)."""

    accounts: list[Account] = field(default_factory=list)
    cluster_of: dict[str, int] = field(default_factory=dict)
    held_out: dict[str, set[str]] = field(default_factory=dict)
    """User name -> titles kept out of the log."""


def build_taste_world(client: TestClient, runtime: Runtime, *, seed: int = 11) -> TasteWorld:
    """200 users in 5 clusters over 300 tracks. Each plays 22 of their cluster's 60 tracks
    (1-3 times, 10-100 days ago) and 3 random tracks; 5 more of their cluster's tracks are
    held out. Built through the API (plays/batch), as clients do."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    catalogue = [cluster_tracks(c) for c in range(CLUSTERS)]
    everything = [t for tracks in catalogue for t in tracks]
    world = TasteWorld()
    for cluster in range(CLUSTERS):
        for n in range(USERS_PER_CLUSTER):
            name = f"c{cluster}u{n}"
            account = quick_account(runtime, name, "DE" if cluster % 2 else "FR")
            own = rng.sample(catalogue[cluster], OWN + HELD_OUT)
            played = own[:OWN]
            others = [t for t in everything if t not in own]
            played += rng.sample(others, NOISE)
            plays = []
            for ref in played:
                for _ in range(rng.randint(1, 3)):
                    moment = now - timedelta(days=rng.uniform(10, 100))
                    plays.append(play(int(moment.timestamp()), ref))
            submit(client, account, plays)
            world.accounts.append(account)
            world.cluster_of[name] = cluster
            world.held_out[name] = {title_of(t) for t in own[OWN:]}
    return world


def titles_by_id(runtime: Runtime, ids: list[int]) -> dict[int, str]:
    from sqlalchemy import select

    from tastegraph.catalog.models import Item

    with runtime.db.unit_of_work() as session:
        return dict(session.execute(select(Item.id, Item.title).where(Item.id.in_(ids))).all())


def user_names(runtime: Runtime, ids: list[int]) -> dict[int, str]:
    from sqlalchemy import select

    from tastegraph.accounts.models import User

    with runtime.db.unit_of_work() as session:
        return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def held_out_quality(
    runtime: Runtime, store: ArtifactStore, version: str, world: TasteWorld, kind: str = "track"
) -> dict[str, float]:
    """Recall@10 and NDCG@10 of a version's ``kind`` model on the held-out tracks: every
    user's training row scored, what they played masked out, the full catalogue ranked."""
    artifact: KindArtifact = store.load_kind(version, kind)
    rows = sparse.csr_matrix(artifact.interactions)
    scores = artifact.model.score(rows)
    top = top_n(scores, 10, exclude=rows)
    titles = titles_by_id(runtime, [int(i) for i in artifact.item_ids])
    column = {titles[int(i)]: c for c, i in enumerate(artifact.item_ids)}
    names = user_names(runtime, [int(u) for u in artifact.user_ids])
    cells = [
        (row, column[title])
        for row, user_id in enumerate(artifact.user_ids)
        for title in sorted(world.held_out.get(names[int(user_id)], set()))
        if title in column
    ]
    r, c = zip(*cells, strict=True)
    truth = sparse.csr_matrix((np.ones(len(cells)), (r, c)), shape=(rows.shape[0], rows.shape[1]))
    item_users = np.bincount(rows.indices, minlength=rows.shape[1]).astype(np.int64)
    return evaluate_rankings(top, truth, (10,), item_users=item_users, n_users_train=rows.shape[0])


def similar_overlap(
    store: ArtifactStore, first: str, second: str, kind: str = "track", k: int = 10
) -> float:
    """Mean overlap@k of every item's k most similar items in two versions (by item id)."""
    a, b = store.load_kind(first, kind), store.load_kind(second, kind)
    assert list(a.item_ids) == list(b.item_ids)
    items = np.arange(len(a.item_ids), dtype=np.int64)
    near_a, _ = a.model.similar_items(items, k)
    near_b, _ = b.model.similar_items(items, k)
    shared = [
        len(set(x.tolist()) & set(y.tolist())) / k for x, y in zip(near_a, near_b, strict=True)
    ]
    return float(np.mean(shared))
