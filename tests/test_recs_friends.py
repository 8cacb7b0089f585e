"""The hybrid's friends' term at serving time, through the HTTP API on SQLite and PostgreSQL:
personal lists and stations use the taste of the user's friends whose profiles the user may
see, read live (a friend who goes private or is unfriended stops counting at once), and
incognito plays never enter it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.accounts.models import User
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tests.conftest import Account, play
from tests.recs_helpers import (
    Community,
    build_community,
    recs,
    scene_tracks,
    submit,
    train_now,
    ts,
)


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


def _ids(runtime: Runtime, *names: str) -> dict[str, int]:
    with runtime.db.unit_of_work() as session:
        users = session.scalars(select(User).where(User.name.in_(names)))
        return {u.name: u.id for u in users}


def _befriend(runtime: Runtime, a: str, b: str) -> None:
    ids = _ids(runtime, a, b)
    with runtime.db.unit_of_work(write=True) as session:
        runtime.services(session).social.befriend([(ids[a], ids[b])])


def _visibility(client: TestClient, account: Account, visibility: str) -> None:
    response = client.patch("/api/v1/me", json={"visibility": visibility}, headers=account.headers)
    assert response.status_code == 200, response.text


@pytest.fixture
def community(client: TestClient, runtime: Runtime) -> Community:
    community = build_community(client, runtime)
    # The first k-pop fan also listened to chanson, incognito: it never enters the matrix.
    kpop0 = community.fans("kpop")[0]
    chanson = [play(ts(50 + n), t, incognito=True) for n, t in enumerate(scene_tracks("chanson"))]
    submit(client, kpop0, chanson)
    # A weight this large makes the friends' term decide the list (the default is 0.03).
    train_now(runtime, ["track"], model="hybrid", friend_weight=5.0)
    return community


def _scene(title: str) -> str:
    for scene in ("rock", "jazz", "kpop", "chanson"):
        if title in {t["title"] for t in scene_tracks(scene)}:
            return scene
    raise AssertionError(title)


def _scenes(answer: dict[str, Any], n: int) -> list[str]:
    return [_scene(e["item"]["title"]) for e in answer["recommendations"][:n]]


def test_friends_taste_counts_only_for_visible_friends(
    client: TestClient, runtime: Runtime, community: Community, register: Any
) -> None:
    newcomer = register("newcomer")
    submit(client, newcomer, [play(ts(1 + n), t) for n, t in enumerate(scene_tracks("rock")[:2])])
    alone = recs(client, newcomer, kind="track", limit=5)
    assert alone["model"] == "hybrid"
    assert _scenes(alone, 5) == ["rock"] * 5

    kpop0, kpop1 = community.fans("kpop")[:2]
    for friend in (kpop0, kpop1):
        _befriend(runtime, newcomer.name, friend.name)
    befriended = recs(client, newcomer, kind="track", limit=60)
    assert _scenes(befriended, 5) == ["kpop"] * 5  # the friends' taste, at once
    scores: dict[str, list[float]] = {"rock": [], "jazz": [], "kpop": [], "chanson": []}
    for entry in befriended["recommendations"]:
        scores[_scene(entry["item"]["title"])].append(entry["score"])
    # One friend having an item adds at least 5 x 1/2; the other terms add at most 1.15.
    assert sum(s >= 2.5 for s in scores["kpop"]) >= 9  # each friend has 9 of the 12
    assert not [s for scene in ("rock", "jazz") for s in scores[scene] if s >= 2.5]
    # Incognito plays of a friend never count: chanson gets no friends' lift.
    assert len(scores["chanson"]) == 12
    assert max(scores["chanson"]) < 1.2

    station = client.get(
        f"/api/v1/users/{newcomer.name}/station", params={"size": 4}, headers=newcomer.headers
    ).json()
    assert {_scene(e["item"]["title"]) for e in station["queue"]} == {"kpop"}

    _visibility(client, kpop0, "friends")  # friends still see a friends-only profile
    assert _scenes(recs(client, newcomer, kind="track", limit=5), 5) == ["kpop"] * 5
    for friend in (kpop0, kpop1):
        _visibility(client, friend, "private")
    hidden = recs(client, newcomer, kind="track", limit=5)
    assert _scenes(hidden, 5) == ["rock"] * 5  # private profiles: no longer used


def test_unfriending_counts_at_once(
    client: TestClient, runtime: Runtime, community: Community, register: Any
) -> None:
    newcomer = register("newcomer")
    submit(client, newcomer, [play(ts(1), scene_tracks("jazz")[0])])
    friend = community.fans("kpop")[1]
    _befriend(runtime, newcomer.name, friend.name)
    assert _scenes(recs(client, newcomer, kind="track", limit=3), 3) == ["kpop"] * 3
    response = client.delete(f"/api/v1/me/friends/{friend.name}", headers=newcomer.headers)
    assert response.status_code in (200, 204), response.text
    assert _scenes(recs(client, newcomer, kind="track", limit=3), 3) == ["jazz"] * 3
