"""Cross-kind recommendations through the HTTP API on SQLite and PostgreSQL: from a music
taste alone to shows and seasons, to sports (matches, teams, competitions), to news (stories,
programmes, outlets) and to albums and artists, all scored by the mixed model; similar items for
levels that have no model of their own."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tests.conftest import Account, play
from tests.recs_helpers import (
    SCENES,
    SHOWS,
    Community,
    build_community,
    recs,
    scene_tracks,
    submit,
    titles,
    train_now,
    ts,
)

SPORTS = {
    "rock": ("Granite League", ["Granite FC", "Basalt United", "Obsidian Town"]),
    "jazz": ("Blue Note Cup", ["Modal Rovers", "Bebop City", "Cool Athletic"]),
}
NEWS = {"rock": ("Rock Daily", "Loud Briefing"), "jazz": ("Jazz Times", "Late Set Report")}


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


def _matches(scene: str) -> list[dict[str, Any]]:
    competition, teams = SPORTS[scene]
    out = []
    for round_ in range(3):
        for home in teams:
            for away in teams:
                if home != away:
                    out.append(
                        {
                            "kind": "match",
                            "competition": competition,
                            "home": home,
                            "away": away,
                            "starts_at": f"2026-0{round_ + 1}-{teams.index(home) + 10}T18:00:00Z",
                        }
                    )
    return out


def _news(scene: str) -> list[dict[str, Any]]:
    outlet, programme = NEWS[scene]
    stories = [
        {"kind": "story", "outlet": outlet, "title": f"{outlet} story {n}"} for n in range(1, 7)
    ]
    return [*stories, {"kind": "programme", "outlet": outlet, "title": programme}]


@pytest.fixture
def community(client: TestClient, runtime: Runtime) -> Community:
    community = build_community(client, runtime, sizes={"rock": 5, "jazz": 5, "kpop": 3})
    rng = random.Random(5)
    for scene in ("rock", "jazz"):
        for fan in community.fans(scene):
            items = rng.sample(_matches(scene), 8) + rng.sample(_news(scene), 5)
            submit(client, fan, [play(ts(rng.uniform(40, 100)), item) for item in items])
    train_now(runtime, ["mixed"])  # the levels above the played items come from this model
    return community


@pytest.fixture
def jazz_listener(client: TestClient, register: Any, community: Community) -> Account:
    listener = register("jazzhead")
    tracks = scene_tracks("jazz")[:6]  # Blue Note Trio's four, Modal Five's first two
    submit(client, listener, [play(ts(2 + n), t) for n, t in enumerate(tracks)])
    return listener


def _top(client: TestClient, account: Account, kind: str, n: int) -> list[str]:
    answer = recs(client, account, kind=kind, based_on="music", limit=n)
    assert answer["source"] == "model", answer
    assert answer["kind"] == kind
    assert all(e["item"]["kind"] == kind for e in answer["recommendations"])
    assert answer["recommendations"][0]["reason"].startswith("Because you listened to ")
    return titles(answer)


def test_music_taste_reaches_sports_and_news(client: TestClient, jazz_listener: Account) -> None:
    competition, teams = SPORTS["jazz"]
    outlet, programme = NEWS["jazz"]
    assert _top(client, jazz_listener, "competition", 1) == [competition]
    assert set(_top(client, jazz_listener, "team", 3)) == set(teams)
    assert _top(client, jazz_listener, "outlet", 1) == [outlet]
    assert _top(client, jazz_listener, "programme", 1) == [programme]
    stories = _top(client, jazz_listener, "story", 3)
    assert all(s.startswith(outlet) for s in stories)
    matches = _top(client, jazz_listener, "match", 3)
    assert all(sum(team in title for team in teams) == 2 for title in matches)  # "A – B"


def test_music_taste_reaches_shows_seasons_albums_and_artists(
    client: TestClient, jazz_listener: Account
) -> None:
    assert _top(client, jazz_listener, "show", 1) == [SHOWS["jazz"]]
    assert _top(client, jazz_listener, "season", 1) == [f"{SHOWS['jazz']} – season 1"]
    albums = _top(client, jazz_listener, "album", 2)
    assert set(albums) == {"Bebop Ghost LP", "Cool Quartet LP"}  # the two not played yet
    artists = _top(client, jazz_listener, "artist", 2)
    assert set(artists) == {"Bebop Ghost", "Cool Quartet"}
    assert not set(artists) & {"Blue Note Trio", "Modal Five"}  # never what was played


def test_levels_without_their_own_model_use_the_mixed_one(
    client: TestClient, jazz_listener: Account
) -> None:
    status = client.get("/api/v1/recs/status").json()
    assert [k["kind"] for k in status["kinds"]] == ["mixed"]
    teams = recs(client, jazz_listener, kind="team", limit=3)  # no team model: the mixed one
    assert teams["source"] == "model"
    assert set(titles(teams)) == set(SPORTS["jazz"][1])

    found = client.get("/api/v1/items", params={"q": "Modal Rovers", "kind": "team"}).json()
    team_id = found["items"][0]["id"]
    similar = client.get(f"/api/v1/items/{team_id}/similar", params={"limit": 2}).json()
    assert similar["source"] == "model"
    assert {s["item"]["title"] for s in similar["similar"]} == {"Bebop City", "Cool Athletic"}
    assert similar["similar"][0]["match"] == 1.0
    found = client.get("/api/v1/items", params={"q": "Granite", "kind": "artist"}).json()
    granite = next(i["id"] for i in found["items"] if i["title"] == "Granite")
    artists = client.get(f"/api/v1/items/{granite}/similar", params={"limit": 3}).json()
    assert {s["item"]["title"] for s in artists["similar"]} == set(SCENES["rock"]["artists"]) - {
        "Granite"
    }
