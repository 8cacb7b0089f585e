"""Reading through /1/: listens (paging, shape, privacy), listen counts, deleting listens,
feedback, statistics, recommendations and metadata lookup, over raw HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track
from tests.listenbrainz_helpers import (
    MBID,
    assert_lb_error,
    lb_headers,
    listen,
    now,
    play_count,
    post_raw,
    submit,
)


def _listens(client: TestClient, name: str, account: Account | None = None, **params: Any) -> Any:
    headers = lb_headers(account) if account else {}
    return client.get(f"/1/user/{name}/listens", params=params, headers=headers)


def _times(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["listened_at"] for item in response.json()["payload"]["listens"]]


def _thirty(client: TestClient, account: Account) -> int:
    """Thirty listens a minute apart; returns the first one's time."""
    start = now() - 86_400
    batch = [listen(f"Song {i}", "Band", at=start + 60 * i) for i in range(30)]
    assert submit(client, account, "import", batch).status_code == 200
    return start


def test_listens_paging_by_time_and_count(client: TestClient, alice: Account) -> None:
    t0 = _thirty(client, alice)
    minute = [t0 + 60 * i for i in range(30)]
    newest_first = list(reversed(minute))
    assert _times(_listens(client, "alice")) == newest_first[:25]  # default count
    assert _times(_listens(client, "alice", count=2000)) == newest_first  # capped, not refused
    assert _times(_listens(client, "alice", count=3)) == newest_first[:3]
    # Both bounds are exclusive.
    assert _times(_listens(client, "alice", max_ts=minute[10], count=2)) == [minute[9], minute[8]]
    # With only min_ts: the listens just after it, still newest first.
    assert _times(_listens(client, "alice", min_ts=minute[10], count=3)) == [
        minute[13],
        minute[12],
        minute[11],
    ]
    assert _times(_listens(client, "alice", min_ts=minute[5], max_ts=minute[9])) == [
        minute[8],
        minute[7],
        minute[6],
    ]
    payload = _listens(client, "alice", count=1).json()["payload"]
    assert payload["count"] == 1
    assert payload["user_id"] == "alice"
    assert payload["latest_listen_ts"] == minute[-1]
    assert payload["oldest_listen_ts"] == minute[0]
    # Absurd timestamps are clamped, not a crash.
    assert _times(_listens(client, "alice", max_ts=10**30)) == newest_first[:25]
    assert _times(_listens(client, "alice", min_ts=-5, count=1)) == [minute[0]]


def test_listens_parameter_errors(client: TestClient, alice: Account) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"count": "many"}, "Invalid count argument: many"),
        ({"count": 0}, "should be positive"),
        ({"count": -3}, "should be positive"),
        ({"max_ts": "soon"}, "Invalid max_ts timestamp argument: soon"),
        ({"min_ts": "1.5"}, "Invalid min_ts timestamp argument"),
        ({"min_ts": 100, "max_ts": 100}, "max_ts should be greater than min_ts"),
    ]
    for params, message in cases:
        assert_lb_error(_listens(client, "alice", **params), 400, message, case=params)
    assert_lb_error(_listens(client, "nobody"), 404, "Cannot find user: nobody")


def test_listen_shape_from_the_catalogue(client: TestClient, alice: Account) -> None:
    """Plays that did not come in as listens are described from the catalogue."""
    t = now() - 3600
    song = track("Drunk in Love", "Beyoncé feat. JAY-Z", album="Beyoncé", track_number=3)
    song["ids"] = {"musicbrainz": MBID}
    song["duration"] = 323
    episode = {"kind": "episode", "show": "Doctor Who", "season": 1, "episode": 1, "title": "Rose"}
    for when, item in ((t, song), (t + 600, episode)):
        response = client.post("/api/v1/plays", json=play(when, item), headers=alice.headers)
        assert response.status_code == 201, response.text
    newest, oldest = _listens(client, "alice").json()["payload"]["listens"]
    assert newest["track_metadata"]["track_name"] == "Rose"
    assert newest["track_metadata"]["artist_name"] == "Doctor Who"
    assert oldest["user_name"] == "alice"
    assert oldest["listened_at"] == t
    assert oldest["inserted_at"] >= t
    meta = oldest["track_metadata"]
    assert meta["track_name"] == "Drunk in Love"
    assert meta["artist_name"] == "Beyoncé feat. JAY-Z"
    assert meta["release_name"] == "Beyoncé"
    assert meta["additional_info"] == {
        "recording_mbid": MBID,
        "duration_ms": 323_000,
        "tracknumber": 3,
        "recording_msid": oldest["recording_msid"],
    }
    # The msid names the recording: the same for every play of it.
    again = client.post("/api/v1/plays", json=play(t + 1200, song), headers=alice.headers)
    assert again.status_code == 201
    listens = _listens(client, "alice").json()["payload"]["listens"]
    msids = {
        item["recording_msid"] for item in listens if item["track_metadata"]["track_name"] != "Rose"
    }
    assert msids == {oldest["recording_msid"]}


def test_privacy(client: TestClient, alice: Account, register: Any, runtime: Runtime) -> None:
    bob = register("bob")
    assert submit(client, bob, "single", [listen(at=now() - 100)]).status_code == 200
    assert submit(client, bob, "playing_now", [listen("Now", "Bob")]).status_code == 200
    private = client.patch("/api/v1/me", json={"visibility": "private"}, headers=bob.headers)
    assert private.status_code == 200, private.text
    for path in ("listens", "playing-now", "listen-count"):
        for viewer in (None, alice):
            response = client.get(
                f"/1/user/bob/{path}", headers=lb_headers(viewer) if viewer else {}
            )
            assert_lb_error(response, 404, "Cannot find user: bob", case=(path, viewer))
        own = client.get(f"/1/user/bob/{path}", headers=lb_headers(bob))
        assert own.status_code == 200, (path, own.text)
    for path in ("stats/user/bob/artists", "feedback/user/bob/get-feedback"):
        assert_lb_error(client.get(f"/1/{path}"), 404, "Cannot find user")
    # A bad token on a public read is ignored, as on ListenBrainz: bob is still hidden.
    forged = client.get("/1/user/bob/listens", headers={"Authorization": "Token nope"})
    assert_lb_error(forged, 404)

    # Public again, but hiding recent activity: no listens or now playing for others.
    client.patch(
        "/api/v1/me",
        json={"visibility": "public", "hide_recent_activity": True},
        headers=bob.headers,
    )
    assert _listens(client, "bob").json()["payload"]["listens"] == []
    assert client.get("/1/user/bob/playing-now").json()["payload"]["count"] == 0
    assert client.get("/1/user/bob/listen-count").json() == {"payload": {"count": 1}}
    assert len(_listens(client, "bob", bob).json()["payload"]["listens"]) == 1
    assert (
        client.get("/1/user/bob/playing-now", headers=lb_headers(bob)).json()["payload"]["count"]
        == 1
    )


def test_incognito_plays_show_to_their_owner_only(
    client: TestClient, alice: Account, register: Any, runtime: Runtime
) -> None:
    client.patch("/api/v1/me", json={"incognito": True}, headers=alice.headers)
    assert submit(client, alice, "single", [listen(at=now() - 100)]).status_code == 200
    assert play_count(runtime) == 0
    assert len(_listens(client, "alice", alice).json()["payload"]["listens"]) == 1
    assert _listens(client, "alice").json()["payload"]["listens"] == []
    assert client.get("/1/user/alice/listen-count").json() == {"payload": {"count": 0}}


def test_delete_listen(client: TestClient, alice: Account, runtime: Runtime) -> None:
    t = now() - 500
    assert submit(client, alice, "import", [listen(at=t), listen("Other", at=t)]).status_code == 200
    listens = _listens(client, "alice", alice).json()["payload"]["listens"]
    target = next(item for item in listens if item["track_metadata"]["track_name"] == "Other")
    body = {"listened_at": t, "recording_msid": target["recording_msid"]}
    assert_lb_error(post_raw(client, None, "/1/delete-listen", body), 401)
    assert post_raw(client, alice, "/1/delete-listen", body).json() == {"status": "ok"}
    assert play_count(runtime) == 1
    # Deleting again, or a listen that never was, is still ok (deletion is idempotent).
    assert post_raw(client, alice, "/1/delete-listen", body).json() == {"status": "ok"}
    unknown = {"listened_at": t, "recording_msid": "d23f4719-9212-49f0-ad08-ddbfbfc50d6f"}
    assert post_raw(client, alice, "/1/delete-listen", unknown).json() == {"status": "ok"}
    assert play_count(runtime) == 1
    cases: list[tuple[Any, str]] = [
        (b"{", "Cannot parse JSON"),
        ([], "Invalid JSON"),
        ({"recording_msid": target["recording_msid"]}, "timestamp missing"),
        ({"listened_at": "noon", "recording_msid": target["recording_msid"]}, "invalid"),
        ({"listened_at": t}, "MSID missing"),
        ({"listened_at": t, "recording_msid": "abc"}, "MSID format invalid"),
    ]
    for bad, message in cases:
        assert_lb_error(post_raw(client, alice, "/1/delete-listen", bad), 400, message, case=bad)


def test_feedback(client: TestClient, alice: Account, register: Any) -> None:
    t = now() - 700
    assert submit(client, alice, "single", [listen(at=t, recording_mbid=MBID)]).status_code == 200
    assert submit(client, alice, "single", [listen("Hated", "Band", at=t + 1)]).status_code == 200
    listens = _listens(client, "alice", alice).json()["payload"]["listens"]
    hated_msid = next(
        item["recording_msid"]
        for item in listens
        if item["track_metadata"]["track_name"] == "Hated"
    )
    path = "/1/feedback/recording-feedback"
    loved = post_raw(client, alice, path, {"recording_mbid": MBID, "score": 1})
    assert loved.json() == {"status": "ok"}
    assert (
        post_raw(client, alice, path, {"recording_msid": hated_msid, "score": -1}).status_code
        == 200
    )

    own = client.get("/1/feedback/user/alice/get-feedback", headers=lb_headers(alice)).json()
    assert own["total_count"] == 2
    assert {entry["score"] for entry in own["feedback"]} == {1, -1}
    entry = next(e for e in own["feedback"] if e["score"] == 1)
    assert entry["recording_mbid"] == MBID
    assert entry["user_id"] == "alice"
    assert entry["track_metadata"] is None
    # Others see loves only; hates are the owner's business.
    public = client.get("/1/feedback/user/alice/get-feedback").json()
    assert [e["score"] for e in public["feedback"]] == [1]
    assert public["total_count"] == 1
    hates = client.get("/1/feedback/user/alice/get-feedback", params={"score": -1}).json()
    assert hates["feedback"] == []
    with_meta = client.get(
        "/1/feedback/user/alice/get-feedback", params={"score": 1, "metadata": "True"}
    ).json()
    assert with_meta["feedback"][0]["track_metadata"]["track_name"] == "Never Gonna Give You Up"
    paged = client.get(
        "/1/feedback/user/alice/get-feedback",
        params={"count": 1, "offset": 1},
        headers=lb_headers(alice),
    ).json()
    assert (paged["count"], paged["offset"], paged["total_count"]) == (1, 1, 2)

    # Score 0 removes the feedback.
    assert post_raw(client, alice, path, {"recording_mbid": MBID, "score": 0}).status_code == 200
    assert client.get("/1/feedback/user/alice/get-feedback").json()["total_count"] == 0

    cases: list[tuple[Any, int, str]] = [
        ({"recording_mbid": MBID, "score": 2}, 400, "Score"),
        ({"recording_mbid": MBID, "score": True}, 400, "Score"),
        ({"recording_mbid": MBID}, 400, "score"),
        ({"score": 1}, 400, "recording_msid or recording_mbid"),
        ({"recording_mbid": MBID, "score": 1, "extra": 1}, 400, "no other keys"),
        ({"recording_mbid": "nope", "score": 1}, 400, "not a valid UUID"),
        (b"[", 400, "Cannot parse JSON"),
        ({"recording_mbid": "d23f4719-9212-49f0-ad08-ddbfbfc50d6f", "score": 1}, 404, "recording"),
        ({"recording_msid": "d23f4719-9212-49f0-ad08-ddbfbfc50d6f", "score": 1}, 404, "recording"),
    ]
    for bad, status, message in cases:
        assert_lb_error(post_raw(client, alice, path, bad), status, message, case=bad)
    assert_lb_error(post_raw(client, None, path, {"recording_mbid": MBID, "score": 1}), 401)
    bad_score = client.get("/1/feedback/user/alice/get-feedback", params={"score": 3})
    assert_lb_error(bad_score, 400, "Score")


def _local(zone: str, *args: int) -> int:
    return int(datetime(*args, tzinfo=ZoneInfo(zone)).timestamp())  # type: ignore[misc]


def test_user_stats(client: TestClient, alice: Account, register: Any) -> None:
    t = now() - 120
    this_year = datetime.now(ZoneInfo("Europe/Berlin")).year
    batch = [
        listen("Halo", "Beyoncé", at=t, release="I Am... Sasha Fierce", recording_mbid=MBID),
        listen("Halo", "Beyoncé", at=t - 60, release="I Am... Sasha Fierce"),
        listen("Jóga", "Björk", at=t - 120, release="Homogenic"),
        # Half past midnight on New Year's Day in Berlin is still last year in UTC: alice's
        # charts follow her zone, so this is this_year for her.
        listen("New Year", "Björk", at=_local("Europe/Berlin", this_year, 1, 1, 0, 30)),
        listen("Last Year", "Björk", at=_local("Europe/Berlin", this_year - 1, 6, 1, 12)),
    ]
    assert submit(client, alice, "import", batch).status_code == 200

    artists = client.get("/1/stats/user/alice/artists").json()["payload"]
    assert artists["user_id"] == "alice"
    assert artists["range"] == "all_time"
    assert [(a["artist_name"], a["listen_count"]) for a in artists["artists"]] == [
        ("Björk", 3),
        ("Beyoncé", 2),
    ]
    assert artists["total_artist_count"] == 2
    assert artists["from_ts"] == _local("Europe/Berlin", this_year - 1, 6, 1, 12)

    recordings = client.get("/1/stats/user/alice/recordings", params={"count": 1}).json()
    [top] = recordings["payload"]["recordings"]
    assert top == {
        "track_name": "Halo",
        "artist_name": "Beyoncé",
        "release_name": "I Am... Sasha Fierce",
        "recording_mbid": MBID,
        "release_mbid": None,
        "artist_mbids": [],
        "listen_count": 2,
    }
    assert recordings["payload"]["total_recording_count"] == 4
    second = client.get("/1/stats/user/alice/recordings", params={"count": 1, "offset": 1})
    assert second.json()["payload"]["offset"] == 1

    releases = client.get("/1/stats/user/alice/releases").json()["payload"]
    assert releases["releases"][0]["release_name"] == "I Am... Sasha Fierce"
    assert releases["releases"][0]["artist_name"] == "Beyoncé"
    assert releases["total_release_count"] == 2
    groups = client.get("/1/stats/user/alice/release-groups").json()["payload"]
    assert groups["release_groups"][0]["release_group_name"] == "I Am... Sasha Fierce"
    assert groups["total_release_group_count"] == 2

    this = client.get("/1/stats/user/alice/recordings", params={"range": "this_year"}).json()
    names = {r["track_name"] for r in this["payload"]["recordings"]}
    assert "New Year" in names
    assert "Last Year" not in names
    last = client.get("/1/stats/user/alice/recordings", params={"range": "year"}).json()
    assert [r["track_name"] for r in last["payload"]["recordings"]] == ["Last Year"]
    start = last["payload"]["from_ts"]
    assert start == _local("Europe/Berlin", this_year - 1, 1, 1)
    assert last["payload"]["to_ts"] == _local("Europe/Berlin", this_year, 1, 1)

    # Every range ListenBrainz knows answers 200 or 204; anything else is a 400.
    for period in (
        "this_week",
        "this_month",
        "this_year",
        "week",
        "month",
        "quarter",
        "year",
        "half_yearly",
        "all_time",
    ):
        response = client.get("/1/stats/user/alice/artists", params={"range": period})
        assert response.status_code in (200, 204), (period, response.text)
    assert_lb_error(
        client.get("/1/stats/user/alice/artists", params={"range": "7day"}), 400, "Invalid range"
    )
    assert_lb_error(client.get("/1/stats/user/alice/genres"), 400, "genres")
    assert_lb_error(client.get("/1/stats/user/alice/artists", params={"count": "x"}), 400)
    assert_lb_error(client.get("/1/stats/user/nobody/artists"), 404, "Cannot find user")
    # No plays in range: 204 with an empty body.
    register("carol")
    empty = client.get("/1/stats/user/carol/artists")
    assert empty.status_code == 204
    assert empty.content == b""
    assert empty.headers["access-control-allow-origin"] == "*"


def test_sitewide_recommendations_and_lookup(
    client: TestClient, alice: Account, register: Any
) -> None:
    assert client.get("/1/stats/sitewide/artists").status_code == 204
    bob = register("bob")
    t = now() - 300
    assert submit(client, alice, "single", [listen(at=t, recording_mbid=MBID)]).status_code == 200
    assert submit(client, bob, "single", [listen(at=t)]).status_code == 200
    assert submit(client, bob, "single", [listen("Other", "Someone", at=t)]).status_code == 200
    sitewide = client.get("/1/stats/sitewide/artists").json()["payload"]
    assert sitewide["artists"][0] == {
        "artist_name": "Rick Astley",
        "artist_mbid": None,
        "artist_mbids": [],
        "listen_count": 2,
    }
    assert sitewide["total_artist_count"] == 2
    assert_lb_error(client.get("/1/stats/sitewide/artists?range=forever"), 400, "Invalid range")

    recs = client.get("/1/cf/recommendation/user/alice/recording")
    assert recs.status_code == 204
    assert_lb_error(client.get("/1/cf/recommendation/user/nobody/recording"), 404)

    found = client.get(
        "/1/metadata/lookup/",
        params={"artist_name": "rick astley", "recording_name": "never gonna give you up"},
    ).json()
    assert found["recording_mbid"] == MBID
    assert found["recording_name"] == "Never Gonna Give You Up"
    assert found["artist_credit_name"] == "Rick Astley"
    missing = client.get(
        "/1/metadata/lookup", params={"artist_name": "Nobody", "recording_name": "Nothing"}
    )
    assert missing.json() == {}
    assert_lb_error(client.get("/1/metadata/lookup", params={"artist_name": "x"}), 400)
    # Looking up creates nothing.
    assert client.get("/api/v1/items", params={"q": "Nothing"}).json()["items"] == []


def test_listen_count(client: TestClient, alice: Account) -> None:
    assert client.get("/1/user/alice/listen-count").json() == {"payload": {"count": 0}}
    _thirty(client, alice)
    assert client.get("/1/user/alice/listen-count").json() == {"payload": {"count": 30}}
    assert_lb_error(client.get("/1/user/nobody/listen-count"), 404, "Cannot find user: nobody")


def test_names_in_paths_are_case_insensitive_and_may_be_encoded(
    client: TestClient, register: Any
) -> None:
    zoe = register("Zoë")
    assert submit(client, zoe, "single", [listen(at=now() - 10)]).status_code == 200
    for path in ("/1/user/zoë/listens", "/1/user/Zo%C3%AB/listens"):
        payload = client.get(path).json()["payload"]
        assert payload["user_id"] == "Zoë"
        assert payload["count"] == 1
