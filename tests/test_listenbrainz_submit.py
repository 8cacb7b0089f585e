"""POST /1/submit-listens over raw HTTP: every rule of reference §4.3, the quirks of real
clients, auth, partly bad imports, now playing and cross-protocol de-duplication."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track
from tests.listenbrainz_helpers import (
    MBID,
    OTHER_MBID,
    assert_lb_error,
    lb_headers,
    listen,
    now,
    play_count,
    post_raw,
    submit,
)


def _stored_listens(client: TestClient, account: Account) -> list[dict[str, Any]]:
    response = client.get(f"/1/user/{account.name}/listens", headers=lb_headers(account))
    assert response.status_code == 200, response.text
    listens: list[dict[str, Any]] = response.json()["payload"]["listens"]
    return listens


def _native_plays(client: TestClient, account: Account) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/users/{account.name}/plays", headers=account.headers)
    plays: list[dict[str, Any]] = response.json()["plays"]
    return plays


def test_single_listen_is_stored_once(client: TestClient, alice: Account, runtime: Runtime) -> None:
    one = listen(at=now() - 300, release="Whenever You Need Somebody", duration_ms=213000)
    response = submit(client, alice, "single", [one])
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}
    # A resubmission (a client retrying) is a silent duplicate.
    assert submit(client, alice, "single", [one]).json() == {"status": "ok"}
    assert play_count(runtime) == 1
    [stored] = _native_plays(client, alice)
    assert stored["source"] == "listenbrainz"
    assert stored["item"]["title"] == "Never Gonna Give You Up"


def test_every_rule_of_the_validation_table(client: TestClient, alice: Account) -> None:
    t = now() - 600
    cases: list[tuple[str, Any, str]] = [
        ("not json", b"{nope", "Cannot parse JSON"),
        ("trailing comma", b'{"listen_type": "single", "payload": [],}', "Cannot parse JSON"),
        ("a list, not an object", [], "Invalid JSON document"),
        ("no payload", {"listen_type": "single"}, "Invalid JSON document"),
        ("no listen_type", {"payload": [listen(at=t)]}, "Invalid JSON document"),
        ("bad listen_type", {"listen_type": "many", "payload": [listen(at=t)]}, "listen_type"),
        ("payload not a list", {"listen_type": "import", "payload": {}}, "should be a list"),
        ("empty payload", {"listen_type": "import", "payload": []}, "does not contain any"),
        (
            "two listens for single",
            {"listen_type": "single", "payload": [listen(at=t), listen(at=t + 1)]},
            "only one",
        ),
        (
            "two listens for playing_now",
            {"listen_type": "playing_now", "payload": [listen(), listen()]},
            "only one",
        ),
    ]
    for name, body, fragment in cases:
        response = post_raw(client, alice, "/1/submit-listens", body)
        assert_lb_error(response, 400, fragment, case=name)


def _rejects(client: TestClient, account: Account, one: Any, fragment: str) -> None:
    response = submit(client, account, "single", [one])
    assert_lb_error(response, 400, fragment, case=one)


def test_listen_level_rules(client: TestClient, alice: Account, runtime: Runtime) -> None:
    t = now() - 600
    meta = {"artist_name": "A", "track_name": "T"}
    cases: list[tuple[Any, str]] = [
        ("a string", "JSON object"),
        ({"track_metadata": meta}, "listened_at"),
        ({"listened_at": "yesterday", "track_metadata": meta}, "integer"),
        ({"listened_at": True, "track_metadata": meta}, "integer"),
        ({"listened_at": t, "track_metadata": meta, "extra": 1}, "top level keys"),
        ({"listened_at": 1_033_430_399, "track_metadata": meta}, "too low"),
        ({"listened_at": now() + 3700, "track_metadata": meta}, "too high"),
        ({"listened_at": t}, "track_metadata"),
        ({"listened_at": t, "track_metadata": None}, "track_metadata"),
        ({"listened_at": t, "track_metadata": ["A", "T"]}, "JSON object"),
        ({"listened_at": t, "track_metadata": {"track_name": "T"}}, "artist_name"),
        ({"listened_at": t, "track_metadata": {"artist_name": "A"}}, "track_name"),
        ({"listened_at": t, "track_metadata": {**meta, "artist_name": 5}}, "artist_name"),
        ({"listened_at": t, "track_metadata": {**meta, "track_name": "   "}}, "empty"),
        ({"listened_at": t, "track_metadata": {**meta, "artist_name": ["A"]}}, "string"),
        ({"listened_at": t, "track_metadata": {**meta, "release_name": 3}}, "release_name"),
        (listen("T", "A", at=t, tags=["x"] * 51), "50 tags"),
        (listen("T", "A", at=t, tags=["x" * 65]), "64"),
        (listen("T", "A", at=t, tags="rock"), "tags"),
        (listen("T", "A", at=t, tags=["ok", 3]), "tags"),
        (listen("T", "A", at=t, duration=200, duration_ms=200000), "both"),
        (listen("T", "A", at=t, duration=0), "duration"),
        (listen("T", "A", at=t, duration=-5), "duration"),
        (listen("T", "A", at=t, duration="long"), "duration"),
        (listen("T", "A", at=t, duration=2_073_601), "too large"),
        (listen("T", "A", at=t, duration_ms=2_073_600_001), "too large"),
        (listen("T", "A", at=t, duration_ms=True), "duration_ms"),
        (listen("T", "A", at=t, recording_mbid="not-a-uuid"), "recording_mbid"),
        (listen("T", "A", at=t, release_mbid=42), "release_mbid"),
        (listen("T", "A", at=t, release_group_mbid="x"), "release_group_mbid"),
        (listen("T", "A", at=t, track_mbid="zz"), "track_mbid"),
        (listen("T", "A", at=t, artist_mbids=[MBID, "nope"]), "artist_mbids"),
        (listen("T", "A", at=t, artist_mbids=MBID), "artist_mbids"),
        (listen("T", "A", at=t, work_mbids=["bad"]), "work_mbids"),
        ({"listened_at": t, "track_metadata": {**meta, "additional_info": "x"}}, "JSON object"),
        # A NUL anywhere: names, list items, unknown keys and key names alike.
        (listen("T\u0000", "A", at=t), "NUL"),
        (listen("T", "A", at=t, tags=["ok", "b\u0000d"]), "NUL"),
        (listen("T", "A", at=t, anything={"deep": ["x\u0000"]}), "NUL"),
        (listen("T", "A", at=t, **{"ke\u0000y": 1}), "NUL"),
        (listen("T", "A", at=t, nested=_nested(40)), "nests"),
    ]
    for one, fragment in cases:
        _rejects(client, alice, one, fragment)
    assert play_count(runtime) == 0


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def test_playing_now_rules(client: TestClient, alice: Account) -> None:
    with_time = listen(at=now() - 10)
    assert_lb_error(submit(client, alice, "playing_now", [with_time]), 400, "listened_at")
    extra = {"track_metadata": {"artist_name": "A", "track_name": "T"}, "x": 1}
    assert_lb_error(submit(client, alice, "playing_now", [extra]), 400, "track_metadata")
    # A null listened_at says nothing and is let through.
    null_time = {"listened_at": None, **listen("T", "A")}
    assert submit(client, alice, "playing_now", [null_time]).status_code == 200


def test_limits_on_size_and_count(client: TestClient, alice: Account, runtime: Runtime) -> None:
    t = now() - 5000
    too_many = [listen(f"Track {i}", "A", at=t + i) for i in range(1001)]
    assert_lb_error(submit(client, alice, "import", too_many), 400, "Too many listens")
    # 10,240 bytes per listen on average: one listen of 11 KB is refused...
    big = listen("T", "A", at=t, notes="n" * 11_000)
    assert_lb_error(submit(client, alice, "import", [big]), 400, "too large")
    # ...but it passes among small ones, as on ListenBrainz (the check is an average).
    small = [listen(f"Small {i}", "A", at=t + i) for i in range(1, 4)]
    assert submit(client, alice, "import", [big, *small]).status_code == 200
    # The whole body may not exceed 10,240,000 bytes.
    huge = b'{"listen_type": "import", "payload": [' + b" " * 10_240_001 + b"]}"
    assert_lb_error(post_raw(client, alice, "/1/submit-listens", huge), 400, "Payload too large")
    assert play_count(runtime) == 4


def test_auth_errors(client: TestClient, alice: Account) -> None:
    body = json.dumps({"listen_type": "single", "payload": [listen(at=now() - 60)]})
    cases: list[tuple[dict[str, str], str]] = [
        ({}, "You need to provide an Authorization header."),
        ({"Authorization": "Token"}, "Provided Authorization header is invalid."),
        ({"Authorization": "Token not-a-real-token"}, "Invalid authorization token."),
        ({"Authorization": "Bearer tg_forged"}, "Invalid authorization token."),
    ]
    for headers, message in cases:
        response = client.post("/1/submit-listens", content=body, headers=headers)
        assert assert_lb_error(response, 401)["error"] == message
    # Any scheme word works, as on ListenBrainz: Airsonic's lower-case one, and Bearer.
    for scheme in ("token", "Bearer", "Token"):
        response = client.post("/1/submit-listens", content=body, headers=lb_headers(alice, scheme))
        assert response.status_code == 200, response.text


def test_tolerated_quirks_of_real_clients(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    t = now() - 3000
    quirks: list[Any] = [
        # Ampache: additional_info as PHP's empty array.
        {
            "listened_at": t,
            "track_metadata": {"artist_name": "A", "track_name": "Amp", "additional_info": []},
        },
        # ytmdesktop: release_name null.
        {
            "listened_at": t + 1,
            "track_metadata": {"artist_name": "A", "track_name": "Ytm", "release_name": None},
        },
        # gonic: track_length in seconds; Jellyfin: track_number.
        listen("Gonic", "A", at=t + 2, track_length=245, track_number=7),
        # A duration as a numeric string, listened_at as one.
        {"listened_at": str(t + 3), **listen("Str", "A", duration="181.6")},
        # Null and empty MBIDs mean "unknown" and are dropped.
        listen(
            "Mbids",
            "A",
            at=t + 4,
            recording_mbid="",
            release_mbid=None,
            artist_mbids=[None, "", OTHER_MBID],
            work_mbids=[],
        ),
        # An empty release name is dropped; names are trimmed.
        listen("  Trim  ", "  A  ", at=t + 5, release="   "),
    ]
    # No Content-Type at all (liblistenbrainz, Music Assistant) is how submit() posts.
    response = submit(client, alice, "import", quirks)
    assert response.status_code == 200, response.text
    assert play_count(runtime) == len(quirks)
    by_title = {
        item["track_metadata"]["track_name"]: item for item in _stored_listens(client, alice)
    }
    assert by_title["Amp"]["track_metadata"]["additional_info"].keys() == {"recording_msid"}
    assert "release_name" not in by_title["Ytm"]["track_metadata"]
    assert by_title["Str"]["track_metadata"]["additional_info"]["duration"] == 181
    assert by_title["Str"]["listened_at"] == t + 3
    mbids = by_title["Mbids"]["track_metadata"]["additional_info"]
    assert mbids["artist_mbids"] == [OTHER_MBID]
    assert not {"recording_mbid", "release_mbid", "work_mbids"} & mbids.keys()
    assert "release_name" not in by_title["Trim"]["track_metadata"]
    assert by_title["Trim"]["track_metadata"]["artist_name"] == "A"
    # What the catalogue learned from the quirky fields.
    items = client.get("/api/v1/items", params={"q": "Gonic"}).json()
    found = items["items"] if isinstance(items, dict) else items
    gonic = next(i for i in found if i["title"] == "Gonic")
    assert gonic["duration_seconds"] == 245
    assert gonic["number"] == 7


def test_fields_reach_the_catalogue_and_read_back(client: TestClient, alice: Account) -> None:
    t = now() - 900
    one = listen(
        "Jóga",
        "Björk",
        at=t,
        release="Homogenic",
        recording_mbid=MBID.upper(),
        duration_ms=305_000,
        tracknumber=3,
        tags=["icelandic", "electronic"],
        submission_client="Rhythmbox ListenBrainz Plugin",
        media_player="Rhythmbox",
        duration_played=290,
        spotify_id="https://open.spotify.com/track/x",
        my_own_key={"kept": True},
    )
    assert submit(client, alice, "single", [one]).status_code == 200
    [stored] = _stored_listens(client, alice)
    meta = stored["track_metadata"]
    assert (meta["artist_name"], meta["track_name"], meta["release_name"]) == (
        "Björk",
        "Jóga",
        "Homogenic",
    )
    info = meta["additional_info"]
    assert info["recording_mbid"] == MBID  # canonical form
    assert info["my_own_key"] == {"kept": True}  # unknown keys are kept verbatim
    assert info["tags"] == ["icelandic", "electronic"]
    assert info["recording_msid"] == stored["recording_msid"]
    [native] = _native_plays(client, alice)
    assert native["source"] == "Rhythmbox ListenBrainz Plugin"
    assert native["duration_played"] == 290
    item = client.get(native["item"]["url"]).json()
    assert item["external_ids"] == {"musicbrainz": [MBID]}
    assert item["duration_seconds"] == 305
    assert item["number"] == 3
    assert item["parent"]["title"] == "Homogenic"


def test_partly_bad_import_stores_the_good_listens(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    t = now() - 4000
    batch = [
        listen("Good 0", "A", at=t),
        listen("Too old", "A", at=1_000_000_000),
        listen("Good 2", "A", at=t + 300),
        {"listened_at": t, "track_metadata": {"artist_name": "A"}},
        listen("Good 4", "A", at=t + 600),
        listen("Good 0", "A", at=t),  # a duplicate within the batch: fine
    ]
    response = submit(client, alice, "import", batch)
    body = assert_lb_error(response, 400, "2 of 6 listens are invalid")
    assert body["stored"] == 4
    assert [bad["index"] for bad in body["invalid_listens"]] == [1, 3]
    assert "too low" in body["invalid_listens"][0]["error"]
    assert "track_name" in body["invalid_listens"][1]["error"]
    assert play_count(runtime) == 3
    # Sending the same batch again stores nothing new and reports the same.
    again = assert_lb_error(submit(client, alice, "import", batch), 400)
    assert again["invalid_listens"] == body["invalid_listens"]
    assert play_count(runtime) == 3


def test_a_bad_single_listen_stores_nothing(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    response = submit(client, alice, "single", [listen(at=now() + 7200)])
    assert_lb_error(response, 400, "too high")
    assert play_count(runtime) == 0


def test_cross_protocol_duplicates_count_once(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    t = now() - 2000
    native = client.post(
        "/api/v1/plays", json=play(t, track("Halo", "Beyoncé")), headers=alice.headers
    )
    assert native.status_code == 201
    # The same play through /1/, spelled a little differently and with an album: one play.
    same = listen("halo", "BEYONCÉ", at=t, release="I Am... Sasha Fierce")
    assert submit(client, alice, "single", [same]).status_code == 200
    assert play_count(runtime) == 1
    # And the other way round: a listen first, then the native API.
    assert submit(client, alice, "single", [listen("Irreplaceable", "Beyoncé", at=t - 900)])
    again = client.post(
        "/api/v1/plays",
        json=play(t - 900, track("Irreplaceable", "Beyoncé")),
        headers=alice.headers,
    )
    assert again.json()["status"] == "duplicate"
    # Real repeats minutes apart both count.
    assert submit(client, alice, "single", [listen("Halo", "Beyoncé", at=t + 240)])
    assert play_count(runtime) == 3
    stats = client.get("/1/stats/user/alice/recordings").json()["payload"]
    halo = next(r for r in stats["recordings"] if r["track_name"] == "Halo")
    assert halo["listen_count"] == 2


def test_playing_now_and_its_deletion(client: TestClient, alice: Account, runtime: Runtime) -> None:
    response = submit(client, alice, "playing_now", [listen("Now", "Playing", duration=180)])
    assert response.json() == {"status": "ok"}
    assert play_count(runtime) == 0  # now playing is not a play
    shown = client.get("/1/user/alice/playing-now").json()["payload"]
    assert shown["count"] == 1
    assert shown["playing_now"] is True
    [entry] = shown["listens"]
    assert entry["track_metadata"]["track_name"] == "Now"
    assert entry["playing_now"] is True
    assert "listened_at" not in entry
    native = client.get("/api/v1/users/alice/now-playing").json()
    assert native["source"] == "listenbrainz"
    # Its lifetime is the listen's duration.
    from datetime import datetime

    started = datetime.fromisoformat(native["started_at"])
    expires = datetime.fromisoformat(native["expires_at"])
    assert (expires - started).total_seconds() == 180
    # Another client's deletion leaves it; a plain one clears it.
    other = post_raw(client, alice, "/1/playing-now/delete", {"client": "Some Other Player"})
    assert other.json() == {"status": "ok"}
    assert client.get("/1/user/alice/playing-now").json()["payload"]["count"] == 1
    cleared = post_raw(client, alice, "/1/playing-now/delete", b"")
    assert cleared.json() == {"status": "ok"}
    assert client.get("/1/user/alice/playing-now").json()["payload"] == {
        "count": 0,
        "user_id": "alice",
        "playing_now": True,
        "listens": [],
    }
    assert_lb_error(post_raw(client, None, "/1/playing-now/delete", b""), 401)


def test_playing_now_without_duration_lasts_ten_minutes(client: TestClient, alice: Account) -> None:
    response = submit(
        client, alice, "playing_now", [listen("Endless", "Drone")], return_msid="true"
    )
    body = response.json()
    assert body["status"] == "ok"
    assert body["recording_msid"].startswith("74617374-6567-8")
    native = client.get("/api/v1/users/alice/now-playing").json()
    from datetime import datetime

    lifetime = datetime.fromisoformat(native["expires_at"]) - datetime.fromisoformat(
        native["started_at"]
    )
    assert lifetime.total_seconds() == 600
    # A scrobble of what is playing ends it.
    assert submit(client, alice, "single", [listen("Endless", "Drone", at=now() - 5)])
    assert client.get("/1/user/alice/playing-now").json()["payload"]["count"] == 0


def test_long_names_and_control_characters_are_trimmed_not_refused(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    long_name = "Orchestra " * 80  # 800 characters: ListenBrainz takes it, the catalogue 512
    one = listen("Bell\u0007 Song", long_name, at=now() - 50)
    assert submit(client, alice, "single", [one]).status_code == 200
    assert play_count(runtime) == 1
    [native] = _native_plays(client, alice)
    assert native["item"]["title"] == "Bell Song"
    # The listen reads back as it was sent.
    [stored] = _stored_listens(client, alice)
    assert stored["track_metadata"]["artist_name"] == long_name.strip()
