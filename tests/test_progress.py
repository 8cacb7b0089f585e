"""Progress scrobbling (start / pause / stop), playbacks and check-ins through the HTTP API,
on a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.runtime import Runtime
from tests.conftest import Account

T0 = datetime(2024, 5, 1, 18, 15, tzinfo=UTC)

FILM = {"kind": "film", "title": "Past Lives", "year": 2023, "duration": 6000}
EPISODE = {"kind": "episode", "show": "Slow Horses", "season": 3, "episode": 2}  # no duration
SERIES_FINALE = {"kind": "episode", "show": "Succession", "season": 4, "episode": 10}


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(runtime: Runtime) -> Clock:
    clock = Clock(T0)
    runtime.clock = clock
    return clock


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def _scrobble(
    http: TestClient, account: Account, action: str, item: dict[str, Any], progress: Any, **kw: Any
) -> Any:
    return http.post(
        f"/api/v1/scrobble/{action}",
        json={"item": item, "progress": progress, **kw},
        headers=account.headers,
    )


def _plays(client: TestClient, account: Account) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/users/{account.name}/plays", headers=account.headers)
    assert response.status_code == 200, response.text
    plays: list[dict[str, Any]] = response.json()["plays"]
    return plays


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_start_pause_resume_stop(client: TestClient, alice: Account, clock: Clock) -> None:
    started = _scrobble(client, alice, "start", FILM, 0, client="Kodi")
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["action"] == "start"
    assert body["item"]["title"] == "Past Lives"
    assert body["play_id"] is None
    assert _at(body["watching_until"]) == T0 + timedelta(seconds=6000)
    item_id = body["item"]["id"]
    now = client.get("/api/v1/users/alice/now-playing").json()
    assert now["item"]["id"] == item_id
    assert now["source"] == "Kodi"

    clock.advance(minutes=30)
    paused = _scrobble(client, alice, "pause", FILM, 30, client="Kodi")
    assert paused.status_code == 201
    assert paused.json()["action"] == "pause"
    assert client.get("/api/v1/users/alice/now-playing").status_code == 204
    playback = client.get(f"/api/v1/playback/{item_id}", headers=alice.headers).json()
    assert playback["status"] == "paused"
    assert playback["progress"] == 30
    assert playback["resume_at_seconds"] == 1800
    assert _at(playback["started_at"]) == T0
    assert _at(playback["updated_at"]) == T0 + timedelta(minutes=30)
    assert playback["source"] == "Kodi"

    clock.advance(hours=20)
    resumed = _scrobble(client, alice, "start", FILM, 30, client="Kodi").json()
    assert _at(resumed["watching_until"]) == clock.now + timedelta(seconds=4200)
    listed = client.get("/api/v1/playback", headers=alice.headers).json()["playbacks"]
    assert [(p["item"]["id"], p["status"]) for p in listed] == [(item_id, "playing")]

    clock.advance(minutes=65)
    stopped = _scrobble(client, alice, "stop", FILM, 96.5, client="Kodi")
    assert stopped.status_code == 201, stopped.text
    result = stopped.json()
    assert result["action"] == "scrobble"
    assert result["play_id"] is not None
    # The start is estimated from the share watched, but not before the playback began.
    assert _at(result["played_at"]) == clock.now - timedelta(seconds=5790)
    plays = _plays(client, alice)
    assert len(plays) == 1
    assert plays[0]["progress"] == pytest.approx(0.965)
    assert plays[0]["duration_played"] == 5790
    assert plays[0]["source"] == "Kodi"
    _problem(
        client.get(f"/api/v1/playback/{item_id}", headers=alice.headers),
        404,
        "playback_not_found",
    )
    assert client.get("/api/v1/users/alice/now-playing").status_code == 204


def test_stop_below_80_percent_is_a_pause(client: TestClient, alice: Account, clock: Clock) -> None:
    _scrobble(client, alice, "start", FILM, 0)
    clock.advance(minutes=70)
    stopped = _scrobble(client, alice, "stop", FILM, 79.9)
    assert stopped.status_code == 201
    assert stopped.json()["action"] == "pause"
    assert _plays(client, alice) == []
    listed = client.get("/api/v1/playback", headers=alice.headers).json()["playbacks"]
    assert [(p["progress"], p["status"]) for p in listed] == [(79.9, "paused")]
    assert client.get("/api/v1/users/alice/now-playing").status_code == 204


def test_progress_limits(client: TestClient, alice: Account, clock: Clock) -> None:
    for action in ("pause", "stop"):
        problem = _problem(_scrobble(client, alice, action, FILM, 0.5), 422, "progress_too_low")
        assert problem["progress"] == 0.5
    for bad in (-1, 100.5, "half"):
        _problem(_scrobble(client, alice, "start", FILM, bad), 422, "validation_failed")
    _problem(
        client.post("/api/v1/scrobble/start", json={"item": FILM}, headers=alice.headers),
        422,
        "validation_failed",
    )
    both = {"item": FILM, "item_id": 1, "progress": 5}
    _problem(
        client.post("/api/v1/scrobble/start", json=both, headers=alice.headers),
        422,
        "validation_failed",
    )
    assert _scrobble(client, alice, "start", FILM, 0).status_code == 201  # 0 % starts fine
    assert _scrobble(client, alice, "stop", FILM, 100).json()["action"] == "scrobble"


def test_duplicate_stop_is_409_until_the_runtime_passed(
    client: TestClient, alice: Account, clock: Clock
) -> None:
    first = _scrobble(client, alice, "stop", FILM, 90)
    assert first.status_code == 201
    clock.advance(seconds=5)
    again = _problem(_scrobble(client, alice, "stop", FILM, 90), 409, "already_scrobbled")
    # Watched when it ended (the stop), and scrobbled again no sooner than a runtime later.
    assert _at(again["watched_at"]) == T0
    assert _at(again["expires_at"]) == T0 + timedelta(seconds=6000)
    assert again["item_id"] == first.json()["item"]["id"]
    clock.now = T0 + timedelta(seconds=6001)
    assert _scrobble(client, alice, "stop", FILM, 90).status_code == 201
    assert len(_plays(client, alice)) == 2


def test_duplicate_window_without_a_duration_uses_the_kind(
    client: TestClient, alice: Account, clock: Clock
) -> None:
    assert _scrobble(client, alice, "stop", EPISODE, 85).status_code == 201
    clock.advance(minutes=44)
    problem = _problem(_scrobble(client, alice, "stop", EPISODE, 85), 409, "already_scrobbled")
    assert _at(problem["expires_at"]) == T0 + timedelta(minutes=45)
    clock.advance(minutes=2)
    assert _scrobble(client, alice, "stop", EPISODE, 85).status_code == 201


def test_a_play_from_elsewhere_also_counts_as_just_watched(
    client: TestClient, alice: Account, clock: Clock
) -> None:
    played = client.post(
        "/api/v1/plays",
        json={"played_at": T0.isoformat(), "item": FILM, "duration_played": 6000},
        headers=alice.headers,
    )
    assert played.status_code == 201
    clock.advance(minutes=110)  # the native play ended at T0 + 100 min
    problem = _problem(_scrobble(client, alice, "stop", FILM, 99), 409, "already_scrobbled")
    assert _at(problem["watched_at"]) == T0 + timedelta(seconds=6000)


def test_starting_another_item_pauses_the_first(
    client: TestClient, alice: Account, clock: Clock
) -> None:
    _scrobble(client, alice, "start", FILM, 10)
    clock.advance(minutes=5)
    _scrobble(client, alice, "start", SERIES_FINALE, 0.5)
    clock.advance(minutes=5)
    _scrobble(client, alice, "start", EPISODE, 0)
    listed = client.get("/api/v1/playback", headers=alice.headers).json()["playbacks"]
    # The finale was barely begun (under 1 %): forgotten, not kept as a resume point.
    assert [(p["item"]["title"], p["status"]) for p in listed] == [
        ("Slow Horses S03E02", "playing"),
        ("Past Lives", "paused"),
    ]
    clock.advance(hours=2)  # the player vanished: nothing is watched any more
    listed = client.get("/api/v1/playback", headers=alice.headers).json()["playbacks"]
    assert {p["status"] for p in listed} == {"paused"}


def test_playback_reads_and_deletes(
    client: TestClient, alice: Account, register: Any, clock: Clock
) -> None:
    item_id = _scrobble(client, alice, "pause", FILM, 42).json()["item"]["id"]
    bob = register("bob")
    _problem(
        client.get(f"/api/v1/playback/{item_id}", headers=bob.headers), 404, "playback_not_found"
    )
    assert client.get("/api/v1/playback", headers=bob.headers).json() == {"playbacks": []}
    assert client.delete(f"/api/v1/playback/{item_id}", headers=alice.headers).status_code == 204
    _problem(
        client.delete(f"/api/v1/playback/{item_id}", headers=alice.headers),
        404,
        "playback_not_found",
    )
    _problem(
        client.get("/api/v1/playback/999999", headers=alice.headers), 404, "playback_not_found"
    )


def test_by_item_id_and_unknown_items(client: TestClient, alice: Account, clock: Clock) -> None:
    item_id = _scrobble(client, alice, "start", FILM, 0).json()["item"]["id"]
    by_id = client.post(
        "/api/v1/scrobble/pause", json={"item_id": item_id, "progress": 12}, headers=alice.headers
    )
    assert by_id.status_code == 201
    assert by_id.json()["item"]["id"] == item_id
    missing = client.post(
        "/api/v1/scrobble/start", json={"item_id": 999999, "progress": 1}, headers=alice.headers
    )
    _problem(missing, 404, "item_not_found")
    _problem(
        client.post("/api/v1/checkin", json={"item_id": 999999}, headers=alice.headers),
        404,
        "item_not_found",
    )


def test_progress_needs_a_token(client: TestClient, clock: Clock) -> None:
    _problem(
        client.post("/api/v1/scrobble/start", json={"item": FILM, "progress": 0}),
        401,
        "not_authenticated",
    )
    _problem(client.get("/api/v1/playback"), 401, "not_authenticated")
    _problem(client.post("/api/v1/checkin", json={"item": FILM}), 401, "not_authenticated")
    _problem(client.delete("/api/v1/checkin"), 401, "not_authenticated")


def test_incognito_progress_is_kept_apart(client: TestClient, alice: Account, clock: Clock) -> None:
    stopped = _scrobble(client, alice, "stop", FILM, 90, incognito=True).json()
    assert stopped["incognito"] is True
    plays = _plays(client, alice)
    assert [p["incognito"] for p in plays] == [True]
    assert client.get("/api/v1/users/alice/plays").json()["plays"] == []


def test_merged_items_keep_their_playbacks(
    client: TestClient, alice: Account, admin: Account, clock: Clock
) -> None:
    old = _scrobble(client, alice, "pause", {**FILM, "title": "Past Lives (2023)"}, 40).json()
    new = _scrobble(client, alice, "pause", {"kind": "film", "title": "Passed Lives"}, 20).json()
    _scrobble(client, alice, "pause", FILM, 50)
    target = _scrobble(client, alice, "pause", FILM, 55).json()["item"]["id"]
    source = old["item"]["id"]
    assert source != target
    merged = client.post(
        f"/api/v1/items/{source}/merge", json={"into": target}, headers=admin.headers
    )
    assert merged.status_code == 200, merged.text
    # The target's own progress wins; the merged item's id still finds it.
    found = client.get(f"/api/v1/playback/{source}", headers=alice.headers).json()
    assert found["item"]["id"] == target
    assert found["progress"] == 55
    listed = client.get("/api/v1/playback", headers=alice.headers).json()["playbacks"]
    assert sorted(p["item"]["id"] for p in listed) == sorted([target, new["item"]["id"]])


def test_openapi_documents_progress(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/scrobble/start",
        "/api/v1/scrobble/pause",
        "/api/v1/scrobble/stop",
        "/api/v1/playback",
        "/api/v1/playback/{item_id}",
        "/api/v1/checkin",
        "/api/v1/items/{item_id}/audience",
    ):
        assert path in paths, path
    stop = paths["/api/v1/scrobble/stop"]["post"]
    assert {"201", "409", "422"} <= set(stop["responses"])
