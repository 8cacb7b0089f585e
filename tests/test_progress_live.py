"""Check-ins and live audiences through the HTTP API, on a clock the tests move."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tastegraph.runtime import Runtime
from tests.conftest import Account
from tests.test_progress import FILM, T0, Clock, _at, _plays, _problem, _scrobble, clock

__all__ = ["clock"]  # the fixture, shared with test_progress

MATCH = {
    "kind": "match",
    "competition": "UEFA Champions League",
    "home": "Real Madrid",
    "away": "Borussia Dortmund",
    "starts_at": "2024-06-01T19:00:00+00:00",
}
NEWS = {"kind": "programme", "outlet": "BBC", "title": "News at Ten"}


def _checkin(http: TestClient, account: Account, item: dict[str, Any], **kw: Any) -> Any:
    return http.post("/api/v1/checkin", json={"item": item, **kw}, headers=account.headers)


def _audience(client: TestClient, item_id: int, account: Account | None = None) -> Any:
    headers = account.headers if account else {}
    response = client.get(f"/api/v1/items/{item_id}/audience", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# -- check-ins -----------------------------------------------------------------------------


def test_checkin_records_the_play_and_shows_watching(
    client: TestClient, alice: Account, clock: Clock
) -> None:
    response = _checkin(client, alice, FILM, client="Trakt-ish")
    assert response.status_code == 201, response.text
    body = response.json()
    assert _at(body["watched_at"]) == T0
    assert _at(body["expires_at"]) == T0 + timedelta(seconds=6000)
    plays = _plays(client, alice)
    assert [p["id"] for p in plays] == [body["play_id"]]
    assert plays[0]["source"] == "Trakt-ish"
    now = client.get("/api/v1/users/alice/now-playing").json()
    assert now["item"]["title"] == "Past Lives"
    assert _at(now["expires_at"]) == T0 + timedelta(seconds=6000)

    # One check-in at a time, whatever the item.
    clock.advance(minutes=10)
    busy = _problem(_checkin(client, alice, MATCH), 409, "checkin_in_progress")
    assert _at(busy["expires_at"]) == T0 + timedelta(seconds=6000)
    assert busy["item_id"] == body["item"]["id"]
    # A stop of the checked-in item would count it twice.
    _problem(_scrobble(client, alice, "stop", FILM, 95), 409, "already_scrobbled")

    # The check-in runs out with the runtime; then another item may be checked in.
    clock.now = T0 + timedelta(seconds=6001)
    assert client.get("/api/v1/users/alice/now-playing").status_code == 204
    assert _checkin(client, alice, MATCH).status_code == 201
    assert len(_plays(client, alice)) == 2


def test_checkin_of_something_just_watched_is_409(
    client: TestClient, alice: Account, clock: Clock
) -> None:
    assert _scrobble(client, alice, "stop", FILM, 100).status_code == 201
    problem = _problem(_checkin(client, alice, FILM), 409, "already_scrobbled")
    assert _at(problem["expires_at"]) == T0 + timedelta(seconds=6000)


def test_cancelling_a_checkin_removes_its_play(
    client: TestClient, alice: Account, clock: Clock
) -> None:
    first = _checkin(client, alice, NEWS)
    assert first.status_code == 201
    # A programme without a duration runs for the kind's default, 30 minutes.
    assert _at(first.json()["expires_at"]) == T0 + timedelta(minutes=30)
    clock.advance(minutes=3)
    assert client.delete("/api/v1/checkin", headers=alice.headers).status_code == 204
    assert _plays(client, alice) == []
    assert client.get("/api/v1/users/alice/now-playing").status_code == 204
    assert client.delete("/api/v1/checkin", headers=alice.headers).status_code == 204  # idempotent
    again = _checkin(client, alice, NEWS)
    assert again.status_code == 201, again.text
    assert len(_plays(client, alice)) == 1


def test_cancel_leaves_a_plain_now_playing_alone(
    client: TestClient, alice: Account, clock: Clock
) -> None:
    _scrobble(client, alice, "start", FILM, 5)
    assert client.delete("/api/v1/checkin", headers=alice.headers).status_code == 204
    assert client.get("/api/v1/users/alice/now-playing").status_code == 200
    # A started (not checked-in) item does not block a check-in: the check-in replaces it.
    assert _checkin(client, alice, MATCH).status_code == 201
    playbacks = client.get("/api/v1/playback", headers=alice.headers).json()["playbacks"]
    assert [(p["item"]["title"], p["status"]) for p in playbacks] == [("Past Lives", "paused")]


def test_incognito_checkin(client: TestClient, alice: Account, clock: Clock) -> None:
    body = _checkin(client, alice, FILM, incognito=True).json()
    assert body["incognito"] is True
    assert client.get("/api/v1/users/alice/now-playing").status_code == 204  # others see nothing
    assert client.get("/api/v1/users/alice/now-playing", headers=alice.headers).status_code == 200
    _problem(_checkin(client, alice, MATCH), 409, "checkin_in_progress")
    assert client.delete("/api/v1/checkin", headers=alice.headers).status_code == 204
    assert _plays(client, alice) == []


# -- live audiences ------------------------------------------------------------------------


def _befriend(runtime: Runtime, *pairs: tuple[str, str]) -> None:
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        ids = {name: svc.accounts.get_by_name(name).id for pair in pairs for name in pair}
        svc.social.befriend([(ids[a], ids[b]) for a, b in pairs])


def test_live_audience_overall_by_country_and_friends(
    client: TestClient, alice: Account, register: Any, runtime: Runtime, clock: Clock
) -> None:
    bob = register("bob", country="ES", display_name="Bob")
    carla = register("carla", country="DE")
    dora = register("dora", country="DE")
    emil = register("emil")  # no country
    frida = register("frida", country="SE")  # a friend who shares with friends only
    gus = register("gus", country="ES")  # a friend who hides what he plays now
    hana = register("hana", country="JP")  # a friend with a private profile
    ivan = register("ivan", country="ES")  # a friend watching incognito
    _befriend(runtime, *[("alice", name) for name in ("bob", "frida", "gus", "hana", "ivan")])
    headers = {"frida": frida, "gus": gus, "hana": hana}
    settings = {
        "frida": {"visibility": "friends"},
        "gus": {"hide_recent_activity": True},
        "hana": {"visibility": "private"},
    }
    for name, change in settings.items():
        response = client.patch("/api/v1/me", json=change, headers=headers[name].headers)
        assert response.status_code == 200, response.text

    match_id = _scrobble(client, bob, "start", MATCH, 0).json()["item"]["id"]
    clock.advance(minutes=20)
    for viewer in (carla, dora, emil, frida, gus, hana):
        assert _scrobble(client, viewer, "start", MATCH, 17).status_code == 201
    assert _checkin(client, ivan, MATCH, incognito=True).status_code == 201
    _scrobble(client, alice, "start", FILM, 0)  # alice watches something else

    anonymous = _audience(client, match_id)
    assert anonymous["item"]["id"] == match_id
    assert anonymous["watching"] == 7  # ivan is incognito: not counted
    assert anonymous["countries"] == [
        {"country": "DE", "watching": 2},
        {"country": "ES", "watching": 2},
        {"country": "JP", "watching": 1},
        {"country": "SE", "watching": 1},
        {"country": None, "watching": 1},
    ]
    assert anonymous["friends"] is None
    assert _at(anonymous["as_of"]) == clock.now

    mine = _audience(client, match_id, alice)
    assert mine["watching"] == 7
    # bob (public) and frida (friends only) are shown; gus hides his activity, hana is
    # private and ivan incognito.
    assert [(f["name"], f["display_name"]) for f in mine["friends"]] == [
        ("bob", "Bob"),
        ("frida", None),
    ]
    assert _at(mine["friends"][0]["since"]) == T0
    assert mine["friends"][1]["progress"] == 17
    assert _audience(client, match_id, carla)["friends"] == []

    # Pausing leaves the audience; a match without a duration lasts two hours.
    _scrobble(client, bob, "pause", MATCH, 40)
    assert _audience(client, match_id)["watching"] == 6
    clock.now = T0 + timedelta(minutes=20) + timedelta(hours=2) * 0.83 + timedelta(minutes=1)
    assert _audience(client, match_id)["watching"] == 0
    assert _audience(client, match_id, alice)["friends"] == []


def test_audience_of_a_quiet_or_missing_item(
    client: TestClient, alice: Account, clock: Clock
) -> None:
    item_id = _scrobble(client, alice, "pause", FILM, 50).json()["item"]["id"]
    quiet = _audience(client, item_id, alice)
    assert quiet["watching"] == 0
    assert quiet["countries"] == []
    assert quiet["friends"] == []
    _problem(client.get("/api/v1/items/999999/audience"), 404, "item_not_found")
    bad = client.get(f"/api/v1/items/{item_id}/audience", headers={"Authorization": "Bearer x"})
    _problem(bad, 401, "not_authenticated")


def test_music_now_playing_counts_too(client: TestClient, alice: Account, clock: Clock) -> None:
    track = {"kind": "track", "title": "Halo", "artist": "Beyoncé", "duration": 261}
    now = client.put("/api/v1/now-playing", json={"item": track}, headers=alice.headers)
    assert now.status_code == 200
    item_id = now.json()["item"]["id"]
    assert _audience(client, item_id)["watching"] == 1
    clock.advance(seconds=262)
    assert _audience(client, item_id)["watching"] == 0
