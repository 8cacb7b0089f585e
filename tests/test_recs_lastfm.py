"""Last.fm's artist.getSimilar, track.getSimilar and artist.getInfo's <similar>, answered by the
recommendation service, through the real pylast client and as raw JSON."""

from __future__ import annotations

from pathlib import Path

import pylast
import pytest
from fastapi.testclient import TestClient

from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tests.lastfm_helpers import KEY, network
from tests.recs_helpers import build_community, train_now

ROCK_ARTISTS = {"Granite", "Basalt", "Obsidian", "Quartz"}


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
    )


def test_get_similar_through_pylast(live_server: str, client: TestClient, runtime: Runtime) -> None:
    build_community(client, runtime, sizes={"rock": 4, "jazz": 4})
    net = network(live_server, api_key=KEY, api_secret="")
    assert net.get_artist("Granite").get_similar() == []  # nothing trained yet
    train_now(runtime, ["track", "artist"])

    similar = net.get_artist("Granite").get_similar(limit=3)
    assert len(similar) == 3
    assert {str(s.item) for s in similar} <= ROCK_ARTISTS - {"Granite"}
    matches = [float(s.match) for s in similar]
    assert matches[0] == 1.0
    assert matches == sorted(matches, reverse=True)
    assert all(0 <= m <= 1 for m in matches)

    tracks = net.get_track("Granite", "Granite song 1").get_similar(limit=5)
    assert len(tracks) == 5
    assert {str(t.item.artist) for t in tracks} <= ROCK_ARTISTS
    assert "Granite song 1" not in {t.item.title for t in tracks}
    assert all(0 <= float(t.match) <= 1 for t in tracks)


def test_get_similar_json_and_artist_info(client: TestClient, runtime: Runtime) -> None:
    build_community(client, runtime, sizes={"rock": 3, "jazz": 3})
    train_now(runtime, ["track", "artist"], model="itemknn")
    params = {"method": "artist.getSimilar", "artist": "modal five", "api_key": KEY}
    body = client.get("/2.0/", params={**params, "format": "json", "limit": "2"}).json()
    entries = body["similarartists"]["artist"]
    assert body["similarartists"]["@attr"]["artist"] == "Modal Five"
    assert len(entries) == 2
    assert {e["name"] for e in entries} <= {"Blue Note Trio", "Bebop Ghost", "Cool Quartet"}
    assert float(entries[0]["match"]) == 1.0
    info = client.get(
        "/2.0/",
        params={"method": "artist.getInfo", "artist": "Quartz", "api_key": KEY, "format": "json"},
    ).json()
    shown = [a["name"] for a in info["artist"]["similar"]["artist"]]
    assert set(shown[:3]) == ROCK_ARTISTS - {"Quartz"}
    similar_tracks = client.get(
        "/2.0/",
        params={
            "method": "track.getSimilar",
            "artist": "Quartz",
            "track": "Quartz song 2",
            "api_key": KEY,
            "format": "json",
        },
    ).json()["similartracks"]["track"]
    assert similar_tracks
    assert {t["artist"]["name"] for t in similar_tracks[:5]} <= ROCK_ARTISTS
    assert isinstance(pylast.__version__, str)
