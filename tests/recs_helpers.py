"""A small community with clear tastes, built through the API, and training in-process.

Four music scenes (rock, jazz, k-pop from KR, chanson from FR), two TV shows watched by the rock
and jazz fans, and a few news stories. Every user plays most of their scene's tracks between 40
and 120 days ago, so stations (which skip the last 30 days) may bring them back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tastegraph.recs.artifacts import Manifest, TrainOptions, train
from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track

NOW = datetime.now(UTC).replace(microsecond=0)


def ts(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


SCENES: dict[str, dict[str, Any]] = {
    "rock": {"artists": ["Granite", "Basalt", "Obsidian", "Quartz"], "lang": "en", "cc": "GB"},
    "jazz": {"artists": ["Blue Note Trio", "Modal Five", "Bebop Ghost", "Cool Quartet"]},
    "kpop": {"artists": ["NOVA", "LUMEN", "ORBIT"], "lang": "ko", "cc": "KR"},
    "chanson": {"artists": ["Madeleine", "Paulette", "Rive Gauche"], "lang": "fr", "cc": "FR"},
}
SHOWS = {"rock": "Loud Nights", "jazz": "Smoke Rooms"}
TRACKS_PER_ARTIST = 4


def scene_tracks(scene: str) -> list[dict[str, Any]]:
    info = SCENES[scene]
    out = []
    for artist in info["artists"]:
        for n in range(1, TRACKS_PER_ARTIST + 1):
            extra = {}
            if "lang" in info:
                extra = {"language": info["lang"], "country": info["cc"]}
            out.append(track(f"{artist} song {n}", artist, album=f"{artist} LP", **extra))
    return out


def episode(show: str, number: int) -> dict[str, Any]:
    return {"kind": "episode", "show": show, "season": 1, "episode": number}


@dataclass
class Community:
    members: dict[str, list[Account]] = field(default_factory=dict)
    """Scene -> its fans."""

    def fans(self, scene: str) -> list[Account]:
        return self.members[scene]


def submit(client: TestClient, account: Account, plays: list[dict[str, Any]]) -> None:
    for start in range(0, len(plays), 1000):
        response = client.post(
            "/api/v1/plays/batch",
            json={"plays": plays[start : start + 1000]},
            headers=account.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["rejected"] == 0, response.text


def scene_plays(scene: str, rng: random.Random, *, share: float = 0.75) -> list[dict[str, Any]]:
    tracks = scene_tracks(scene)
    chosen = rng.sample(tracks, max(1, int(len(tracks) * share)))
    plays = []
    for item in chosen:
        for _ in range(rng.randint(1, 4)):
            plays.append(play(ts(rng.uniform(40, 120)), item))
    if scene in SHOWS:
        for number in rng.sample(range(1, 7), 4):
            plays.append(play(ts(rng.uniform(40, 120)), episode(SHOWS[scene], number)))
    return plays


def quick_account(runtime: Runtime, name: str, country: str | None = None) -> Account:
    """A user and a token without the password hashing of registration (it takes most of a
    second per user, and a community has many)."""
    from tastegraph.accounts.models import User
    from tastegraph.accounts.services import name_key

    with runtime.db.unit_of_work(write=True) as session:
        user = User(name=name, name_key=name_key(name), country=country)
        session.add(user)
        session.flush()
        _, secret = runtime.services(session).accounts.create_token(user, "tests")
    return Account(name=name, token=secret)


def build_community(
    client: TestClient,
    runtime: Runtime,
    *,
    sizes: dict[str, int] | None = None,
    seed: int = 7,
) -> Community:
    sizes = sizes or {"rock": 5, "jazz": 5, "kpop": 3, "chanson": 3}
    countries = {"rock": "GB", "jazz": "US", "kpop": "KR", "chanson": "FR"}
    rng = random.Random(seed)
    community = Community()
    for scene, size in sizes.items():
        community.members[scene] = []
        for n in range(size):
            account = quick_account(runtime, f"{scene}fan{n}", countries[scene])
            submit(client, account, scene_plays(scene, rng))
            community.members[scene].append(account)
    return community


MODEL = "als"
PARAMS: dict[str, Any] = {"factors": 16, "iterations": 6}
"""The registry would pick ``popularity`` for a community this small; ALS learns its scenes."""


def train_now(
    runtime: Runtime, kinds: list[str] | None = None, *, model: str = MODEL, **params: Any
) -> Manifest:
    if not params and model == MODEL:
        params = PARAMS
    options = TrainOptions(kinds=kinds, model=model, params=params)
    return train(runtime.db, runtime.recs.store, options)


def recs(client: TestClient, account: Account, expect: int = 200, **params: Any) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/users/{account.name}/recommendations", params=params, headers=account.headers
    )
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def titles(answer: dict[str, Any], key: str = "recommendations") -> list[str]:
    return [entry["item"]["title"] for entry in answer[key]]


def played_titles(client: TestClient, account: Account) -> set[str]:
    response = client.get(
        f"/api/v1/users/{account.name}/plays", params={"limit": 1000}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    return {p["item"]["title"] for p in response.json()["plays"]}
