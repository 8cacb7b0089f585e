"""Submitting and reading plays through the native API, including every kind of bad input."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tastegraph.ingest.models import IncognitoPlay, Play
from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track

T0 = 1_714_587_300  # 2024-05-01 18:15 UTC, 20:15 in Berlin (summer time)
JAN = 1_704_110_400  # 2024-01-01 12:00 UTC, 13:00 in Berlin (winter time)


def _batch(client: TestClient, account: Account, plays: list[Any]) -> Any:
    return client.post("/api/v1/plays/batch", json={"plays": plays}, headers=account.headers)


def _count(runtime: Runtime, model: type[Play] | type[IncognitoPlay] = Play) -> int:
    with runtime.db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_single_play_and_its_duplicate(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    body = play(T0, track("Halo", "Beyoncé"), duration_played=200, progress=0.9)
    first = client.post("/api/v1/plays", json=body, headers=alice.headers)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "accepted"
    again = client.post("/api/v1/plays", json=body, headers=alice.headers)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["item_id"] == first.json()["item_id"]
    assert _count(runtime) == 1


def test_real_repeats_minutes_apart_both_count(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    plays = [play(T0, track("Halo", "Beyoncé")), play(T0 + 240, track("Halo", "Beyoncé"))]
    report = _batch(client, alice, plays).json()
    assert report["accepted"] == 2
    assert _count(runtime) == 2


def test_same_play_spelled_differently_is_a_duplicate(client: TestClient, alice: Account) -> None:
    plays = [
        play(T0, track("Drunk in Love", "Beyoncé feat. JAY-Z")),
        play(T0, track("drunk in love", "beyonce ft jay-z")),
        play(T0, track("Drunk In Love (feat. Jay Z)", "BEYONCÉ")),
    ]
    report = _batch(client, alice, plays).json()
    assert [r["status"] for r in report["results"]] == ["accepted", "duplicate", "duplicate"]
    assert len({r["item_id"] for r in report["results"]}) == 1


def test_batch_keeps_good_plays_and_reports_each_bad_one(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    now = int(time.time())
    plays: list[Any] = [
        play(T0, track("Good one", "Artist")),  # 0 ok
        play(T0, track("x", "y"), colour="red"),  # 1 unknown field
        play(1_000_000_000, track("Too old", "Artist")),  # 2 before 2002-10-01
        play(now + 7200, track("Future", "Artist")),  # 3 two hours ahead
        play(now + 600, track("Slightly ahead", "Artist")),  # 4 within the skew: ok
        play(T0, track("T" * 5000, "Artist")),  # 5 absurdly long title
        play(T0, {"kind": "podcast", "title": "?"}),  # 6 unknown kind
        play(T0, {"title": "no kind", "artist": "a"}),  # 7 missing kind
        {"played_at": T0, "item_id": 1, "item": track("a", "b")},  # 8 both item and item_id
        play("yesterday-ish", track("bad time", "Artist")),  # 9 unparseable time
        play("2024-05-01T18:15:00", track("naive", "Artist")),  # 10 no UTC offset
        play(T0, track("   ", "Artist")),  # 11 empty after trimming
        play(T0, track("Bell\u0007", "Artist")),  # 12 control character
        "not an object",  # 13
        play(T0 + 60, track("Also good", "Artist")),  # 14 ok
    ]
    response = _batch(client, alice, plays)
    assert response.status_code == 200, response.text
    report = response.json()
    statuses = {r["index"]: r["status"] for r in report["results"]}
    assert [i for i, s in statuses.items() if s == "accepted"] == [0, 4, 14]
    assert report["accepted"] == 3
    assert report["rejected"] == 12
    codes = {r["index"]: r["errors"][0]["code"] for r in report["results"] if r["errors"]}
    assert codes[1] == "unknown_field"
    assert codes[2] == "timestamp_too_old"
    assert codes[3] == "timestamp_in_future"
    assert codes[5] == "too_long"
    assert codes[6] == "unknown_kind"
    assert codes[7] == "missing_kind"
    assert codes[10] == "timestamp_without_offset"
    assert codes[11] == "empty"
    assert all(r["errors"][0]["message"] for r in report["results"] if r["errors"])
    assert _count(runtime) == 3


def test_invalid_unicode_loses_only_that_play(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    good = json.dumps(play(T0, track("Fine", "Artist"))).encode()
    escaped = json.dumps(play(T0, track("lone \ud800 surrogate", "Artist"))).encode()
    raw_bytes = (
        b'{"played_at": 1714587300, "item": '
        b'{"kind": "track", "title": "broken \xff\xfe", "artist": "A"}}'
    )
    body = b'{"plays": [' + b", ".join([good, escaped, raw_bytes]) + b"]}"
    response = client.post(
        "/api/v1/plays/batch",
        content=body,
        headers={**alice.headers, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected"]
    assert {r["errors"][0]["code"] for r in results[1:]} == {"invalid_unicode"}
    assert _count(runtime) == 1


def test_oversize_batch_is_refused_whole(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    plays = [play(T0 + i, track(f"t{i}", "a")) for i in range(1001)]
    response = _batch(client, alice, plays)
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert _count(runtime) == 0


def test_body_size_limit(settings: Any, alice: Account) -> None:
    from tastegraph.web.app import create_app

    small = settings.model_copy(update={"max_body_bytes": 2048})
    with TestClient(create_app(small)) as client:
        plays = [play(T0 + i, track(f"song {i}", "artist")) for i in range(50)]
        response = client.post("/api/v1/plays/batch", json={"plays": plays}, headers=alice.headers)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_batch_shape_errors(client: TestClient, alice: Account) -> None:
    for body, code in [
        (b"[1, 2]", "malformed_body"),
        (b'{"plays": [], "extra": 1}', "malformed_body"),
        (b'{"plays": []}', "malformed_body"),
        (b'{"plays": [', "malformed_body"),
        (b"", "malformed_body"),
    ]:
        response = client.post(
            "/api/v1/plays/batch",
            content=body,
            headers={**alice.headers, "content-type": "application/json"},
        )
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == code
    extra = client.post(
        "/api/v1/plays/batch",
        json={"plays": [play(T0, track("a", "b"))], "extra": 1},
        headers=alice.headers,
    )
    assert "extra" in extra.json()["detail"]


def test_all_rejected_is_422_with_the_report(client: TestClient, alice: Account) -> None:
    response = _batch(client, alice, [play(1, track("a", "b")), {"nope": True}])
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "no_valid_plays"
    assert body["rejected"] == 2
    assert len(body["results"]) == 2


def test_single_bad_play_is_422_with_errors(client: TestClient, alice: Account) -> None:
    response = client.post("/api/v1/plays", json=play(1, track("a", "b")), headers=alice.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_play"
    assert response.json()["errors"][0]["code"] == "timestamp_too_old"


def test_submission_id_makes_retries_idempotent(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    first = play(T0, track("a", "b"), submission_id="client-42")
    retry = play(T0 + 5, track("a", "b"), submission_id="client-42")  # clock moved on retry
    report = _batch(client, alice, [first]).json()
    again = _batch(client, alice, [retry]).json()
    assert report["accepted"] == 1
    assert again["duplicates"] == 1
    assert _count(runtime) == 1


def test_plays_by_item_id(client: TestClient, alice: Account) -> None:
    first = client.post("/api/v1/plays", json=play(T0, track("a", "b")), headers=alice.headers)
    item_id = first.json()["item_id"]
    report = _batch(
        client,
        alice,
        [{"played_at": T0 + 300, "item_id": item_id}, {"played_at": T0 + 600, "item_id": 999_999}],
    ).json()
    assert report["results"][0]["status"] == "accepted"
    assert report["results"][0]["item_id"] == item_id
    assert report["results"][1]["errors"][0]["code"] == "unknown_item"


def test_every_content_kind(client: TestClient, alice: Account) -> None:
    plays = [
        play(T0, track("Song", "Band", album="Record")),
        play(T0, {"kind": "episode", "show": "Doctor Who", "season": 1, "episode": 2}),
        play(T0, {"kind": "film", "title": "Amélie", "year": 2001, "ids": {"imdb": "tt0211915"}}),
        play(
            T0,
            {
                "kind": "match",
                "competition": "Bundesliga",
                "home": "FC Bayern München",
                "away": "Borussia Dortmund",
                "starts_at": "2024-05-01T18:30:00+02:00",
            },
        ),
        play(T0, {"kind": "programme", "outlet": "NHK", "title": "News 7"}),
        play(
            T0,
            {
                "kind": "story",
                "outlet": "Le Monde",
                "title": "Un article",
                "url": "https://lemonde.fr/a",
            },
        ),
    ]
    report = _batch(client, alice, plays).json()
    assert report["accepted"] == 6, report
    history = client.get("/api/v1/users/alice/plays", headers=alice.headers).json()["plays"]
    contexts = {p["item"]["kind"]: p["item"]["context"] for p in history}
    assert contexts == {
        "track": "Band",
        "episode": "Doctor Who",
        "film": None,
        "match": "Bundesliga",
        "programme": "NHK",
        "story": "Le Monde",
    }


def test_time_zone_offset_is_kept_per_play(client: TestClient, alice: Account) -> None:
    _batch(client, alice, [play(T0, track("summer", "a")), play(JAN, track("winter", "a"))])
    plays = client.get("/api/v1/users/alice/plays", headers=alice.headers).json()["plays"]
    local = {p["item"]["title"]: p["local_time"] for p in plays}
    assert local["summer"] == "2024-05-01T20:15:00+02:00"
    assert local["winter"] == "2024-01-01T13:00:00+01:00"
    # Moving to another zone later does not rewrite the local time of past plays.
    client.patch("/api/v1/me", json={"timezone": "Asia/Tokyo"}, headers=alice.headers)
    plays = client.get("/api/v1/users/alice/plays", headers=alice.headers).json()["plays"]
    assert {p["item"]["title"]: p["local_time"] for p in plays} == local


def test_history_pages_by_time(client: TestClient, alice: Account) -> None:
    plays = [play(T0 - i * 60, track(f"song {i % 7}", f"artist {i % 3}")) for i in range(130)]
    assert _batch(client, alice, plays).json()["accepted"] == 130
    seen: list[str] = []
    url: str | None = "/api/v1/users/alice/plays?limit=50"
    pages = 0
    while url:
        page = client.get(url, headers=alice.headers).json()
        seen.extend(p["played_at"] for p in page["plays"])
        url = page["next"]
        pages += 1
    assert pages == 3
    assert len(seen) == 130 == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    window = client.get(
        "/api/v1/users/alice/plays",
        params={"since": "2024-05-01T17:00:00Z", "until": "2024-05-01T18:00:00Z", "limit": 100},
        headers=alice.headers,
    ).json()["plays"]
    assert len(window) == 60
    bad = client.get("/api/v1/users/alice/plays?cursor=garbage", headers=alice.headers)
    assert bad.status_code == 400


def test_incognito_plays_are_stored_apart(
    client: TestClient, alice: Account, register: Any, runtime: Runtime
) -> None:
    bob = register("bob")
    _batch(
        client,
        alice,
        [play(T0, track("public", "a")), play(T0 + 60, track("secret", "a"), incognito=True)],
    )
    assert _count(runtime, Play) == 1
    assert _count(runtime, IncognitoPlay) == 1
    own = client.get("/api/v1/users/alice/plays", headers=alice.headers).json()["plays"]
    assert [(p["item"]["title"], p["incognito"]) for p in own] == [
        ("secret", True),
        ("public", False),
    ]
    seen_by_bob = client.get("/api/v1/users/alice/plays", headers=bob.headers).json()["plays"]
    assert [p["item"]["title"] for p in seen_by_bob] == ["public"]
    client.patch("/api/v1/me", json={"incognito": True}, headers=alice.headers)
    _batch(client, alice, [play(T0 + 120, track("by default", "a"))])
    assert _count(runtime, IncognitoPlay) == 2


def test_delete_play(client: TestClient, alice: Account, register: Any) -> None:
    bob = register("bob")
    created = client.post("/api/v1/plays", json=play(T0, track("a", "b")), headers=alice.headers)
    play_id = created.json()["play_id"]
    assert client.delete(f"/api/v1/plays/{play_id}", headers=bob.headers).status_code == 404
    assert client.delete(f"/api/v1/plays/{play_id}", headers=alice.headers).status_code == 204
    assert client.get("/api/v1/users/alice/plays").json()["plays"] == []


def test_now_playing(client: TestClient, alice: Account, register: Any) -> None:
    bob = register("bob")
    assert client.get("/api/v1/users/alice/now-playing").status_code == 204
    item = track("Long Song", "Band", duration=300)
    response = client.put("/api/v1/now-playing", json={"item": item}, headers=alice.headers)
    assert response.status_code == 200, response.text
    shown = client.get("/api/v1/users/alice/now-playing", headers=bob.headers).json()
    assert shown["item"]["title"] == "Long Song"
    assert shown["item"]["context"] == "Band"
    # Scrobbling the item ends "now playing".
    client.post("/api/v1/plays", json=play(int(time.time()), item), headers=alice.headers)
    assert client.get("/api/v1/users/alice/now-playing").status_code == 204
    client.put("/api/v1/now-playing", json={"item": item, "incognito": True}, headers=alice.headers)
    assert client.get("/api/v1/users/alice/now-playing", headers=bob.headers).status_code == 204
    assert client.get("/api/v1/users/alice/now-playing", headers=alice.headers).status_code == 200
    assert client.delete("/api/v1/now-playing", headers=alice.headers).status_code == 204
    assert client.get("/api/v1/users/alice/now-playing", headers=alice.headers).status_code == 204


def test_love_hate_and_not_interested(client: TestClient, alice: Account, register: Any) -> None:
    bob = register("bob")
    ids = []
    for title in ("loved", "hated", "meh"):
        r = client.post("/api/v1/plays", json=play(T0, track(title, "a")), headers=alice.headers)
        ids.append(r.json()["item_id"])
    assert client.put(f"/api/v1/items/{ids[0]}/love", headers=alice.headers).status_code == 200
    client.put(
        f"/api/v1/items/{ids[1]}/feedback", json={"sentiment": "hate"}, headers=alice.headers
    )
    client.put(
        f"/api/v1/items/{ids[2]}/feedback",
        json={"sentiment": "not_interested"},
        headers=alice.headers,
    )
    loved = client.get("/api/v1/users/alice/feedback").json()["feedback"]
    assert [f["item"]["title"] for f in loved] == ["loved"]
    hated = client.get("/api/v1/users/alice/feedback?sentiment=hate", headers=alice.headers)
    assert [f["item"]["title"] for f in hated.json()["feedback"]] == ["hated"]
    # Other people's hates are private.
    assert (
        client.get("/api/v1/users/alice/feedback?sentiment=hate", headers=bob.headers).status_code
        == 404
    )
    # Loving a hated item replaces the hate; unlove leaves other feedback alone.
    client.put(f"/api/v1/items/{ids[1]}/love", headers=alice.headers)
    client.delete(f"/api/v1/items/{ids[2]}/love", headers=alice.headers)
    meh = client.get("/api/v1/users/alice/feedback?sentiment=not_interested", headers=alice.headers)
    assert len(meh.json()["feedback"]) == 1
    client.delete(f"/api/v1/items/{ids[0]}/love", headers=alice.headers)
    loved = client.get("/api/v1/users/alice/feedback").json()["feedback"]
    assert [f["item"]["title"] for f in loved] == ["hated"]
    missing = client.put("/api/v1/items/999999/love", headers=alice.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "item_not_found"


def test_plays_need_a_token(client: TestClient) -> None:
    response = client.post("/api/v1/plays/batch", json={"plays": [play(T0, track("a", "b"))]})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_hidden_recent_activity(client: TestClient, alice: Account, register: Any) -> None:
    bob = register("bob")
    client.post("/api/v1/plays", json=play(T0, track("Song", "Band")), headers=alice.headers)
    client.put("/api/v1/now-playing", json={"item": track("Now", "Band")}, headers=alice.headers)
    client.patch("/api/v1/me", json={"hide_recent_activity": True}, headers=alice.headers)
    assert client.get("/api/v1/users/alice/plays", headers=bob.headers).json()["plays"] == []
    assert client.get("/api/v1/users/alice/now-playing", headers=bob.headers).status_code == 204
    own = client.get("/api/v1/users/alice/plays", headers=alice.headers).json()["plays"]
    assert [p["item"]["title"] for p in own] == ["Song"]
    assert client.get("/api/v1/users/alice/now-playing", headers=alice.headers).status_code == 200
    # Charts stay visible: hiding recent activity is not hiding the profile.
    chart = client.get("/api/v1/users/alice/charts/track", headers=bob.headers).json()
    assert [e["item"]["title"] for e in chart["entries"]] == ["Song"]
