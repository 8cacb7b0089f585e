"""Training and serving versions: ``tastegraph recs train`` writes a complete versioned artifact
and moves the ``current`` pointer; a running server swaps to it without a restart, requests in
flight keep the version they started with; old versions are pruned; roll-back; a broken
version is skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from tastegraph.config import Mode, Settings
from tastegraph.recs.artifacts import ArtifactStore
from tastegraph.recs.serving import RecsHolder
from tastegraph.runtime import Runtime
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.conftest import play
from tests.recs_helpers import build_community, scene_tracks, submit, train_now, ts


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        mode=Mode.DEV,
        database_url=database_url,
        data_dir=tmp_path / "data",
        recs_reload_seconds=0,
        recs_blas_threads=0,  # leave the test process's BLAS alone
        stats_fold_seconds=0,  # no background writers: SQLite reads stay unblocked
        audience_refresh_seconds=0,
        recs_keep_versions=2,
    )


def _env(settings: Settings) -> dict[str, str | None]:
    return dev_env(
        settings.effective_database_url,
        TASTEGRAPH_DATA_DIR=str(settings.data_dir),
        TASTEGRAPH_RECS_KEEP_VERSIONS="2",
    )


def test_train_command_writes_a_versioned_artifact_and_the_server_swaps_it(
    live_server: str, client: TestClient, runtime: Runtime, settings: Settings
) -> None:
    community = build_community(client, runtime, sizes={"rock": 3, "jazz": 3})
    with httpx.Client(base_url=live_server) as http:
        assert http.get("/api/v1/recs/status").json() == {
            "trained": False,
            "version": None,
            "trained_at": None,
            "kinds": [],
        }
        fan = community.fans("rock")[0]
        cold = http.get(f"/api/v1/users/{fan.name}/recommendations", headers=fan.headers).json()
        assert cold["source"] == "popular"

        result = invoke(["recs", "train"], _env(settings))
        assert_clean_exit(result, 0)
        assert "published version" in result.stdout
        root = settings.data_dir / "recs"
        first = (root / "current").read_text().strip()
        version_dir = root / "versions" / first
        manifest = json.loads((version_dir / "manifest.json").read_text())
        assert manifest["version"] == first
        assert manifest["format"] == 1
        assert manifest["trained_at"]
        track = manifest["kinds"]["track"]
        assert track["users"] == 6
        assert 20 < track["items"] <= 32  # the tracks somebody played
        assert track["interactions"] > 0
        assert track["model"]
        for name in ("index.npz", "interactions.npz"):
            assert (version_dir / "track" / name).is_file()
        assert any((version_dir / "track" / "model").iterdir())

        status = http.get("/api/v1/recs/status").json()
        assert status["version"] == first  # picked up by the running server
        warm = http.get(f"/api/v1/users/{fan.name}/recommendations", headers=fan.headers).json()
        assert (warm["source"], warm["version"]) == ("model", first)

        submit(client, fan, [play(ts(1), scene_tracks("jazz")[0])])
        result = invoke(["recs", "train", "--kind", "track", "--json"], _env(settings))
        assert_clean_exit(result, 0)
        second = json.loads(result.stdout)["version"]
        assert second != first
        assert (root / "current").read_text().strip() == second
        answer = http.get(
            f"/api/v1/users/{fan.name}/recommendations",
            params={"kind": "track"},
            headers=fan.headers,
        ).json()
        assert answer["version"] == second  # swapped without a restart
        kinds = {k["kind"]: k for k in http.get("/api/v1/recs/status").json()["kinds"]}
        assert {"mixed", "artist", "track"} <= set(kinds)  # the others carried over
        assert kinds["track"]["interactions"] == track["interactions"] + 1

    result = invoke(["recs", "status"], _env(settings))
    assert_clean_exit(result, 0)
    assert f"current: {second}" in result.stdout
    result = invoke(["recs", "use", first], _env(settings))
    assert_clean_exit(result, 0)
    assert (root / "current").read_text().strip() == first
    result = invoke(["recs", "use", "19990101T000000000000Z"], _env(settings))
    assert_clean_exit(result, 1)
    result = invoke(["recs", "train", "--kind", "planet"], _env(settings))
    assert_clean_exit(result, 1)


def test_versions_are_pruned_and_in_flight_requests_keep_theirs(
    client: TestClient, runtime: Runtime, settings: Settings
) -> None:
    build_community(client, runtime, sizes={"rock": 2, "jazz": 2})
    holder = RecsHolder(runtime.recs.store, check_seconds=0)
    assert holder.snapshot() is None
    first = train_now(runtime, ["track"])
    in_flight = holder.snapshot()
    assert in_flight is not None
    assert in_flight.version == first.version
    versions = [first.version]
    for _ in range(3):
        versions.append(train_now(runtime, ["track"]).version)
    assert runtime.recs.store.versions() == versions[-2:]  # keep = 2
    # The old snapshot still answers: its model and index are in memory.
    loaded = in_flight.get("track")
    assert loaded is not None
    assert loaded.model.score(loaded.interactions[:1]).shape == (1, loaded.n_items)
    latest = holder.snapshot()
    assert latest is not None
    assert latest.version == versions[-1]


def test_checks_are_rate_limited_and_broken_versions_skipped(
    client: TestClient, runtime: Runtime
) -> None:
    build_community(client, runtime, sizes={"rock": 2, "jazz": 2})
    clock = [0.0]
    holder = RecsHolder(runtime.recs.store, check_seconds=5, monotonic=lambda: clock[0])
    first = train_now(runtime, ["track"])
    assert holder.snapshot().version == first.version  # type: ignore[union-attr]
    second = train_now(runtime, ["track"])
    clock[0] = 4.0
    assert holder.snapshot().version == first.version  # type: ignore[union-attr]
    clock[0] = 5.5
    during = holder.snapshot()  # the swap loads in the background: the old one, or the new
    assert during is not None
    assert during.version in (first.version, second.version)
    holder.wait_loaded()
    assert holder.snapshot().version == second.version  # type: ignore[union-attr]

    store = runtime.recs.store
    broken = store.versions_dir / "20000101T000000000000Z"
    (broken / "track").mkdir(parents=True)
    (broken / "manifest.json").write_text(
        json.dumps(
            {
                "format": 1,
                "version": broken.name,
                "trained_at": "2000-01-01T00:00:00+00:00",
                "kinds": {
                    "track": {
                        "kind": "track",
                        "model": "als",
                        "users": 1,
                        "items": 1,
                        "interactions": 1,
                        "plays": 1,
                        "fit_seconds": 0,
                        "params": {},
                    }
                },
            }
        )
    )
    store.point(broken.name)
    clock[0] = 20.0
    assert holder.snapshot().version == second.version  # type: ignore[union-attr]
    holder.wait_loaded()
    clock[0] = 30.0
    assert holder.snapshot().version == second.version  # type: ignore[union-attr]
    fresh = ArtifactStore(store.root)
    assert fresh.current_version() == broken.name
    assert RecsHolder(fresh, check_seconds=0).snapshot() is None


def _artifact(links: dict[str, tuple[Any, Any]]) -> Any:
    import numpy as np
    from scipy import sparse

    from tastegraph.recs.artifacts import KindArtifact
    from tastegraph.recs.data import KIND_CODES
    from tastegraph.recs.registry import create_model

    matrix = sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], np.float32))
    model = create_model("popularity")
    model.fit(matrix)
    artist = KIND_CODES.index("artist")
    return KindArtifact(
        kind="mixed",
        model=model,
        user_ids=np.array([1, 2, 3]),
        item_ids=np.array([10, 11, 12, 13]),
        item_kinds=np.full(4, KIND_CODES.index("track"), dtype=np.int8),
        groups=np.array([100, 100, 101, 102]),
        group_kinds=np.full(4, artist, dtype=np.int8),
        user_countries=("", "", ""),
        interactions=matrix,
        links=links,
    )


def test_level_maps_score_each_item_by_its_best_member() -> None:
    import numpy as np

    from tastegraph.recs.serving import LoadedKind

    # Track 11 is a duet of artists 100 and 101; the others have one artist each.
    links = {"artist": (np.array([0, 1, 1, 2, 3]), np.array([100, 100, 101, 101, 102]))}
    loaded = LoadedKind(_artifact(links))
    level = loaded.level_map("artist")
    assert level is not None
    assert level.ids.tolist() == [100, 101, 102]
    best, columns = level.best(np.array([0.1, 0.7, 0.5, 0.2], dtype=np.float32))
    assert best.tolist() == pytest.approx([0.7, 0.7, 0.2])
    assert columns.tolist() == [1, 1, 3]
    assert level.members(101).tolist() == [1, 2]
    assert level.members(999).tolist() == []
    assert loaded.level_map("team") is None  # no links for teams: not reachable

    # A version trained before links were stored reaches artists through the columns' roots.
    old = LoadedKind(_artifact({}))
    roots = old.level_map("artist")
    assert roots is not None
    assert roots.ids.tolist() == [100, 101, 102]
    assert roots.members(100).tolist() == [0, 1]
    assert old.level_map("album") is None


def test_friends_rows_count_friends_who_have_each_item() -> None:
    import numpy as np
    from scipy import sparse

    from tastegraph.recs.models.hybrid import Hybrid
    from tastegraph.recs.serving import LoadedKind

    popular = LoadedKind(_artifact({}))
    assert popular.social is None
    assert popular.friends_row([1, 2]) is None  # the model has no use for friends

    artifact = _artifact({})
    hybrid = Hybrid(lam=1.0, min_users=1, friend_weight=0.5)
    hybrid.fit(artifact.interactions)
    social = LoadedKind(
        type(artifact)(**{**artifact.__dict__, "model": hybrid})  # same artifact, the hybrid
    )
    assert social.social is hybrid
    friends = social.friends_row([1, 2, 99])  # 99 was not trained: ignored
    assert friends is not None
    assert friends.toarray().tolist() == [[1.0, 2.0, 1.0, 0.0]]
    row = sparse.csr_matrix(np.array([[0, 0, 0, 1]], np.float32))
    assert not np.allclose(social.score(row, friends), social.score(row))
    assert social.friends_row([42]) is None
    assert not Hybrid(friend_weight=0.0).uses_friends()
