"""Recommendations through the HTTP API, on SQLite and PostgreSQL: the cold start, fold-in of a
new user's plays without retraining, feedback that counts at once, never an item already
played, similar items, cross-kind lists, stations, neighbours and compatibility with privacy,
and the local-content share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tests.conftest import Account, play
from tests.recs_helpers import (
    SHOWS,
    Community,
    build_community,
    episode,
    played_titles,
    recs,
    scene_tracks,
    submit,
    titles,
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
        recs_blas_threads=0,  # leave the test process's BLAS alone
        stats_fold_seconds=0,  # no background writers: SQLite reads stay unblocked
        audience_refresh_seconds=0,
        recs_local_share={"FR": {"music": 0.5}},
    )


@pytest.fixture
def community(client: TestClient, runtime: Runtime) -> Community:
    return build_community(client, runtime)


@pytest.fixture
def trained(community: Community, runtime: Runtime) -> Community:
    train_now(runtime, ["mixed", "track", "artist", "episode", "show"])
    return community


def _rock_titles() -> set[str]:
    return {t["title"] for t in scene_tracks("rock")}


def _item_id(client: TestClient, title: str, kind: str = "track") -> int:
    response = client.get("/api/v1/items", params={"q": title, "kind": kind})
    assert response.status_code == 200, response.text
    found = [i for i in response.json()["items"] if i["title"] == title]
    assert found, title
    item_id: int = found[0]["id"]
    return item_id


def test_cold_start_is_popular_in_the_country(
    client: TestClient, community: Community, register: Any
) -> None:
    newcomer = register("newcomer", country="KR")
    answer = recs(client, newcomer, kind="track", limit=5)
    assert answer["source"] == "popular"
    assert answer["version"] is None
    kpop = {t["title"] for t in scene_tracks("kpop")}
    assert set(titles(answer)) <= kpop  # the country's favourites come first
    assert all(e["reason"] == "Popular in your country" for e in answer["recommendations"])


def test_recommendations_are_private(client: TestClient, trained: Community) -> None:
    owner, other = trained.fans("rock")[:2]
    assert recs(client, owner, kind="track")["user"] == owner.name
    response = client.get(f"/api/v1/users/{other.name}/recommendations")
    assert response.status_code == 401
    response = client.get(f"/api/v1/users/{other.name}/recommendations", headers=owner.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    station = client.get(f"/api/v1/users/{other.name}/station", headers=owner.headers)
    assert station.status_code == 403


def test_fold_in_first_ten_plays_without_retraining(
    client: TestClient, trained: Community, register: Any, runtime: Runtime
) -> None:
    version = client.get("/api/v1/recs/status").json()["version"]
    newcomer = register("newcomer", country="DE")
    first = [play(ts(1 + n / 10), t) for n, t in enumerate(scene_tracks("rock")[:10])]
    submit(client, newcomer, first)
    answer = recs(client, newcomer, kind="track", limit=5)
    assert answer["source"] == "model"
    assert answer["version"] == version  # nothing was retrained
    rock = _rock_titles()
    played = {p["item"]["title"] for p in first}
    assert set(titles(answer)) <= rock - played
    top = answer["recommendations"][0]
    assert top["reason"].startswith("Because you listened to ")
    assert top["because"]["title"] in played
    assert runtime.recs.store.versions() == [version]


def test_feedback_changes_the_very_next_answer(client: TestClient, trained: Community) -> None:
    fan = trained.fans("jazz")[0]
    before = recs(client, fan, kind="track", limit=10)
    assert before["source"] == "model"
    for entry, sentiment in zip(
        before["recommendations"][:3], ["not_interested", "hate", "bad_recommendation"], strict=True
    ):
        response = client.put(
            f"/api/v1/items/{entry['item']['id']}/feedback",
            json={"sentiment": sentiment},
            headers=fan.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["sentiment"] == sentiment
        after = recs(client, fan, kind="track", limit=10)
        assert entry["item"]["id"] not in {e["item"]["id"] for e in after["recommendations"]}
    listed = client.get(
        f"/api/v1/users/{fan.name}/feedback",
        params={"sentiment": "bad_recommendation"},
        headers=fan.headers,
    )
    assert listed.status_code == 200, listed.text


def test_never_recommends_what_was_played(client: TestClient, trained: Community) -> None:
    for scene in ("rock", "jazz", "kpop", "chanson"):
        for fan in trained.fans(scene):
            played = played_titles(client, fan)
            for kind in ("track", "mixed", "episode", "artist"):
                answer = recs(client, fan, kind=kind, limit=50)
                assert not set(titles(answer)) & played, (fan.name, kind)
            artists = recs(client, fan, kind="artist", limit=50)
            own_artists = {t["artist"] for t in scene_tracks(scene) if t["title"] in played}
            assert not set(titles(artists)) & own_artists


def test_a_loved_item_is_not_recommended_and_boosts_its_scene(
    client: TestClient, trained: Community, register: Any
) -> None:
    newcomer = register("lover")
    submit(client, newcomer, [play(ts(2), scene_tracks("kpop")[0])])
    loved = _item_id(client, scene_tracks("kpop")[5]["title"])
    response = client.put(f"/api/v1/items/{loved}/love", headers=newcomer.headers)
    assert response.status_code == 200, response.text
    answer = recs(client, newcomer, kind="track", limit=5)
    assert loved not in {e["item"]["id"] for e in answer["recommendations"]}
    kpop = {t["title"] for t in scene_tracks("kpop")}
    assert set(titles(answer)) <= kpop


def test_similar_items_for_every_kind(client: TestClient, trained: Community) -> None:
    rock = _rock_titles()
    track_id = _item_id(client, "Granite song 1")
    answer = client.get(f"/api/v1/items/{track_id}/similar", params={"limit": 5}).json()
    assert answer["source"] == "model"
    assert answer["similar"][0]["match"] == 1.0
    assert all(0 <= s["match"] <= 1 for s in answer["similar"])
    assert {s["item"]["title"] for s in answer["similar"]} <= rock - {"Granite song 1"}

    artist_id = _item_id(client, "Granite", kind="artist")
    artists = client.get(f"/api/v1/items/{artist_id}/similar", params={"limit": 3}).json()
    assert {s["item"]["title"] for s in artists["similar"]} <= {"Basalt", "Obsidian", "Quartz"}

    show_id = _item_id(client, SHOWS["rock"], kind="show")
    shows = client.get(f"/api/v1/items/{show_id}/similar").json()
    assert shows["source"] == "model"
    assert [s["item"]["title"] for s in shows["similar"]] in ([], [SHOWS["jazz"]])

    response = client.get("/api/v1/items/999999/similar")
    assert response.status_code == 404


def test_cross_kind_shows_from_music_taste(
    client: TestClient, trained: Community, register: Any
) -> None:
    newcomer = register("crossover")
    submit(client, newcomer, [play(ts(3 + n), t) for n, t in enumerate(scene_tracks("jazz")[:6])])
    shows = recs(client, newcomer, kind="show", based_on="music", limit=2)
    assert shows["source"] == "model"
    assert titles(shows)[0] == SHOWS["jazz"]
    assert shows["recommendations"][0]["reason"].startswith("Because you listened to ")
    episodes = recs(client, newcomer, kind="episode", based_on="music", limit=3)
    assert all(t.startswith(SHOWS["jazz"]) for t in titles(episodes))
    bad = recs(client, newcomer, expect=422, kind="show", based_on="cooking")
    assert bad["code"] == "invalid_recs_request"
    assert recs(client, newcomer, expect=422, kind="planet")["code"] == "invalid_recs_request"


def test_station_rules(client: TestClient, trained: Community) -> None:
    fan = trained.fans("rock")[0]
    rock = scene_tracks("rock")
    # Played yesterday: out of the station; a hated track and a hated artist: never.
    submit(client, fan, [play(ts(1), rock[0]), play(ts(1.2), rock[1])])
    hated_track = _item_id(client, rock[4]["title"])
    hated_artist = _item_id(client, "Quartz", kind="artist")
    for item_id in (hated_track, hated_artist):
        response = client.put(
            f"/api/v1/items/{item_id}/feedback", json={"sentiment": "hate"}, headers=fan.headers
        )
        assert response.status_code == 200, response.text
    response = client.get(
        f"/api/v1/users/{fan.name}/station", params={"size": 10}, headers=fan.headers
    )
    assert response.status_code == 200, response.text
    station = response.json()
    queue = station["queue"]
    assert station["source"] == "model"
    assert station["recent_days"] == 30
    assert len(queue) == 10
    shown = [e["item"]["title"] for e in queue]
    assert rock[0]["title"] not in shown
    assert rock[1]["title"] not in shown
    assert rock[4]["title"] not in shown
    assert not [t for t in shown if t.startswith("Quartz")]
    per_artist: dict[str, int] = {}
    for entry in queue:
        artist = entry["item"]["context"]
        per_artist[artist] = per_artist.get(artist, 0) + 1
    assert max(per_artist.values()) <= 2
    assert {"Granite", "Basalt", "Obsidian"} <= set(per_artist)  # the best first
    assert {e["item"]["context"] for e in queue[:6]} == {"Granite", "Basalt", "Obsidian"}
    assert any(e["known"] for e in queue)  # old favourites come back after 30 days

    shuffled = client.post(
        f"/api/v1/users/{fan.name}/station", json={"size": 6, "seed": 3}, headers=fan.headers
    ).json()
    again = client.post(
        f"/api/v1/users/{fan.name}/station", json={"size": 6, "seed": 3}, headers=fan.headers
    ).json()
    assert shuffled["seed"] == 3
    assert [e["item"]["id"] for e in shuffled["queue"]] == [e["item"]["id"] for e in again["queue"]]
    reshuffled = [e["item"]["title"] for e in shuffled["queue"]]
    assert not {rock[0]["title"], rock[1]["title"], rock[4]["title"]} & set(reshuffled)
    assert not [t for t in reshuffled if t.startswith("Quartz")]
    counts: dict[str, int] = {}
    for entry in shuffled["queue"]:
        counts[entry["item"]["context"]] = counts.get(entry["item"]["context"], 0) + 1
    assert max(counts.values()) <= 2

    episodes = client.get(
        f"/api/v1/users/{fan.name}/station", params={"kind": "episode"}, headers=fan.headers
    ).json()
    watched = played_titles(client, fan)
    assert not {e["item"]["title"] for e in episodes["queue"]} & watched  # no re-watching
    bad = client.get(
        f"/api/v1/users/{fan.name}/station", params={"kind": "artist"}, headers=fan.headers
    )
    assert bad.status_code == 422


def _set_visibility(client: TestClient, account: Account, visibility: str) -> None:
    response = client.patch("/api/v1/me", json={"visibility": visibility}, headers=account.headers)
    assert response.status_code == 200, response.text


def _befriend(runtime: Runtime, a: str, b: str) -> None:
    from sqlalchemy import select

    from tastegraph.accounts.models import User

    with runtime.db.unit_of_work(write=True) as session:
        ids = {u.name: u.id for u in session.scalars(select(User).where(User.name.in_([a, b])))}
        runtime.services(session).social.befriend([(ids[a], ids[b])])


def test_neighbours_respect_privacy(
    client: TestClient, trained: Community, runtime: Runtime, register: Any
) -> None:
    owner, friend, *others = trained.fans("rock")
    stranger = register("stranger")
    _set_visibility(client, owner, "friends")
    _set_visibility(client, others[0], "private")
    _befriend(runtime, owner.name, friend.name)

    url = f"/api/v1/users/{owner.name}/neighbours"
    assert client.get(url, headers=stranger.headers).status_code == 404
    assert client.get(url).status_code == 404
    for viewer in (owner, friend):
        response = client.get(url, headers=viewer.headers)
        assert response.status_code == 200, response.text
        names = [n["name"] for n in response.json()["neighbours"]]
        assert owner.name not in names
        assert others[0].name not in names  # private: nobody else sees them
        rock_fans = {a.name for a in trained.fans("rock")}
        assert set(names[:3]) <= rock_fans
        top = response.json()["neighbours"][0]
        assert 0 < top["score"] <= 1
        assert top["shared"]
        assert {s["kind"] for s in top["shared"]} <= {"artist", "show"}

    public = client.get(f"/api/v1/users/{friend.name}/neighbours", params={"limit": 2})
    assert public.status_code == 200
    # Seen anonymously: the friends-only owner and the private fan are left out.
    assert {n["name"] for n in public.json()["neighbours"]} == {others[1].name, others[2].name}


def test_neighbours_need_a_model(client: TestClient, community: Community) -> None:
    response = client.get(f"/api/v1/users/{community.fans('rock')[0].name}/neighbours")
    assert response.status_code == 503
    assert response.json()["code"] == "model_not_trained"


def test_compatibility(
    client: TestClient, trained: Community, runtime: Runtime, register: Any
) -> None:
    a, b = trained.fans("rock")[:2]
    c = trained.fans("kpop")[0]
    same = client.get(f"/api/v1/users/{a.name}/compatibility/{b.name}").json()
    different = client.get(f"/api/v1/users/{a.name}/compatibility/{c.name}").json()
    assert same["source"] == "model"
    assert 0 <= different["score"] < same["score"] <= 1
    words = ["very low", "low", "medium", "high", "very high", "super"]
    assert same["level"] in words
    assert different["level"] in words
    assert words.index(same["level"]) > words.index(different["level"])
    assert same["shared_count"] > 0
    assert {s["title"] for s in same["shared"]} <= {"Granite", "Basalt", "Obsidian", "Quartz"} | {
        SHOWS["rock"]
    }
    assert different["shared"] == []

    # Privacy: a private profile is only compared for its owner (and administrators).
    _set_visibility(client, c, "private")
    stranger = register("stranger")
    url = f"/api/v1/users/{a.name}/compatibility/{c.name}"
    assert client.get(url, headers=stranger.headers).status_code == 404
    assert client.get(url).status_code == 404
    assert client.get(url, headers=c.headers).status_code == 200
    assert client.get(f"/api/v1/users/{c.name}/compatibility/{a.name}").status_code == 404


def test_local_share_in_france(client: TestClient, trained: Community, register: Any) -> None:
    # A French rock fan: the model would recommend rock; half the music must be French.
    parisien = register("parisien", country="FR")
    submit(client, parisien, [play(ts(2 + n), t) for n, t in enumerate(scene_tracks("rock")[:8])])
    answer = recs(client, parisien, kind="track", limit=6)
    share = answer["local_share"]
    assert share["country"] == "FR"
    assert share["scope"] == "music"
    assert share["share"] == 0.5
    assert share["achieved"] >= 0.5
    entries = answer["recommendations"]
    assert sum(bool(e["local"]) for e in entries) >= 3
    chanson = {t["title"] for t in scene_tracks("chanson")}
    assert {e["item"]["title"] for e in entries if e["local"]} <= chanson
    # Every prefix keeps floor(share x k) local items: at most one non-local run ahead.
    for k in range(1, len(entries) + 1):
        assert sum(bool(e["local"]) for e in entries[:k]) >= int(0.5 * k)
    # Somebody elsewhere gets no quota.
    elsewhere = recs(client, trained.fans("rock")[0], kind="track")
    assert elsewhere["local_share"] is None
    # Shows are not under the music quota.
    assert recs(client, parisien, kind="episode")["local_share"] is None


def test_status_and_episode_recommendations(client: TestClient, trained: Community) -> None:
    status = client.get("/api/v1/recs/status").json()
    assert status["trained"] is True
    kinds = {k["kind"]: k for k in status["kinds"]}
    assert {"mixed", "track", "artist", "episode", "show"} <= set(kinds)
    fan = trained.fans("rock")[1]
    episodes = recs(client, fan, kind="episode", limit=2)  # each fan saw 4 of the 6
    assert all(t.startswith(SHOWS["rock"]) for t in titles(episodes))
    assert episodes["recommendations"][0]["reason"].startswith("Because you watched ")
    mixed = recs(client, fan, limit=10)
    assert mixed["kind"] == "mixed"
    assert {e["item"]["kind"] for e in mixed["recommendations"]} <= {"track", "episode"}


def test_unknown_episode_kind_falls_back_to_mixed(
    client: TestClient, community: Community, runtime: Runtime
) -> None:
    train_now(runtime, kinds=["mixed"], model="hybrid")  # no item vectors: other code paths
    fan = community.fans("jazz")[0]
    answer = recs(client, fan, kind="episode", limit=2)
    assert answer["source"] == "model"
    assert all(t.startswith(SHOWS["jazz"]) for t in titles(answer))
    watched = played_titles(client, fan)
    assert not set(titles(answer)) & watched
    assert answer["recommendations"][0]["reason"].startswith("Because you ")
    assert answer["recommendations"][0]["because"]["title"] in watched
    tracks = recs(client, fan, kind="track", limit=3)
    assert tracks["model"] == "hybrid"
    assert all(t["because"] is not None for t in tracks["recommendations"])
    neighbours = client.get(f"/api/v1/users/{fan.name}/neighbours", params={"limit": 3})
    assert {n["name"] for n in neighbours.json()["neighbours"]} <= {
        a.name for a in community.fans("jazz")
    }
    other = community.fans("jazz")[1]
    both = client.get(f"/api/v1/users/{fan.name}/compatibility/{other.name}").json()
    assert both["source"] == "plays"
    assert 0 < both["score"] <= 1
    assert episode(SHOWS["jazz"], 1)["show"] == SHOWS["jazz"]
