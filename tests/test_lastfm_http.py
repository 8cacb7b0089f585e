"""The Last.fm 2.0 endpoint over raw HTTP: transport, formats and their JSON quirks, errors and
their HTTP statuses, the key and signature policy, session keys, privacy."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.accounts.models import ApiToken, TokenKind
from tastegraph.config import Settings
from tastegraph.protocols.lastfm.keys import ApiKeyService
from tastegraph.ratelimit import MemoryRateLimiter
from tastegraph.runtime import Runtime
from tastegraph.web.app import create_app
from tests.conftest import Account
from tests.lastfm_helpers import KEY, error_code, lfm, md5, register_key, session_key, signed

NOW = int(time.time())


def call(client: TestClient, **params: Any) -> Any:
    """A GET with JSON output; the parsed body."""
    response = client.get("/2.0/", params={"api_key": KEY, "format": "json", **params})
    return response.json()


def scrobble(client: TestClient, sk: str, items: list[dict[str, Any]], **extra: str) -> Any:
    data: dict[str, Any] = {"method": "track.scrobble", "api_key": KEY, "sk": sk, **extra}
    for i, item in enumerate(items):
        for field, value in item.items():
            data[f"{field}[{i}]"] = value
    return client.post("/2.0/", data=data)


@pytest.fixture
def sk(client: TestClient, alice: Account) -> str:
    return session_key(client)


# -- transport --------------------------------------------------------------------------------


def test_get_and_post_with_and_without_slash(client: TestClient, alice: Account) -> None:
    for path in ("/2.0/", "/2.0"):
        got = client.get(path, params={"method": "user.getInfo", "user": "alice", "api_key": KEY})
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("text/xml")
        assert lfm(got.text).find("user/name").text == "alice"  # type: ignore[union-attr]
        posted = client.post(path, data={"method": "user.getInfo", "user": "alice", "api_key": KEY})
        assert posted.status_code == 200
        assert posted.text == got.text


def test_query_and_body_are_merged(client: TestClient, alice: Account) -> None:
    # pylast puts username in the query string and the rest in the body.
    response = client.post(
        "/2.0/?user=alice", data={"method": "user.getInfo", "api_key": KEY, "format": "json"}
    )
    assert response.json()["user"]["name"] == "alice"


def test_method_names_and_parameter_names_ignore_case(client: TestClient, alice: Account) -> None:
    response = client.get(
        "/2.0/", params={"METHOD": "USER.GETINFO", "User": "ALICE", "API_KEY": KEY}
    )
    assert response.status_code == 200
    assert lfm(response.text).find("user/name").text == "alice"  # type: ignore[union-attr]


def test_json_through_format_in_body_or_accept_header(client: TestClient, alice: Account) -> None:
    body = client.post(
        "/2.0/", data={"method": "user.getInfo", "user": "alice", "api_key": KEY, "format": "json"}
    )
    assert body.headers["content-type"].startswith("application/json")
    accept = client.get(
        "/2.0/",
        params={"method": "user.getInfo", "user": "alice", "api_key": KEY},
        headers={"Accept": "application/json"},
    )
    assert accept.json() == body.json()
    unknown = client.get("/2.0/", params={"method": "user.getInfo", "format": "yaml"})
    assert unknown.status_code == 400
    assert error_code(unknown.text) == 5


def test_jsonp_callback(client: TestClient, alice: Account) -> None:
    response = client.get(
        "/2.0/",
        params={
            "method": "user.getInfo",
            "user": "alice",
            "api_key": KEY,
            "format": "json",
            "callback": "window.handle_1",
        },
    )
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.text.startswith("window.handle_1({")
    assert response.text.endswith("});")
    document = json.loads(response.text.removeprefix("window.handle_1(").removesuffix(");"))
    assert document["user"]["name"] == "alice"
    evil = client.get(
        "/2.0/",
        params={"method": "user.getInfo", "format": "json", "callback": "alert(1)//"},
    )
    assert evil.status_code == 400
    assert evil.json()["error"] == 6
    assert "alert" not in evil.text


def test_cors(client: TestClient, alice: Account) -> None:
    response = client.get("/2.0/", params={"method": "user.getInfo", "user": "alice"})
    assert response.headers["access-control-allow-origin"] == "*"
    failed = client.get("/2.0/", params={"method": "nope"})
    assert failed.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/2.0/",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]


# -- JSON quirks ------------------------------------------------------------------------------


def test_json_single_item_is_an_object_and_several_an_array(client: TestClient, sk: str) -> None:
    one = scrobble(
        client, sk, [{"artist": "A", "track": "T", "timestamp": NOW - 100}], format="json"
    )
    single = one.json()["scrobbles"]
    assert isinstance(single["scrobble"], dict)
    # Counts are numbers (Last.fm's exception); #text is always there, even for no album.
    assert single["@attr"] == {"accepted": 1, "ignored": 0}
    assert single["scrobble"]["album"] == {"corrected": "0", "#text": ""}
    assert single["scrobble"]["artist"] == {"corrected": "0", "#text": "A"}
    assert single["scrobble"]["track"] == {"corrected": "0", "#text": "T"}
    assert single["scrobble"]["timestamp"] == str(NOW - 100)
    assert single["scrobble"]["ignoredMessage"] == {"code": "0", "#text": ""}
    two = scrobble(
        client,
        sk,
        [
            {"artist": "A", "track": "T2", "timestamp": NOW - 300},
            {"artist": "A", "track": "T3", "timestamp": NOW - 200},
        ],
        format="json",
    )
    assert isinstance(two.json()["scrobbles"]["scrobble"], list)
    recent = call(client, method="user.getRecentTracks", user="alice")["recenttracks"]
    assert [t["name"] for t in recent["track"]] == ["T", "T3", "T2"]
    assert recent["track"][0]["artist"] == {"mbid": "", "#text": "A"}
    assert recent["track"][0]["date"]["uts"] == str(NOW - 100)
    assert recent["@attr"] == {
        "user": "alice",
        "page": "1",
        "perPage": "50",
        "totalPages": "1",
        "total": "3",
    }
    one_only = call(client, method="user.getRecentTracks", user="alice", limit=1)
    assert isinstance(one_only["recenttracks"]["track"], dict)


def test_json_numbers_where_lastfm_sends_numbers(client: TestClient, alice: Account) -> None:
    session = client.post(
        "/2.0/",
        data={
            "method": "auth.getMobileSession",
            "username": "alice",
            "password": "correct horse",
            "api_key": KEY,
            "format": "json",
        },
    ).json()["session"]
    assert session["subscriber"] == 0
    assert session["name"] == "alice"
    user = call(client, method="user.getInfo", user="alice")["user"]
    assert isinstance(user["registered"]["#text"], int)
    assert user["registered"]["unixtime"] == str(user["registered"]["#text"])
    assert user["playcount"] == "0"
    assert user["image"][3] == {"size": "extralarge", "#text": ""}


def test_json_empty_lists_keep_their_key(client: TestClient, alice: Account) -> None:
    friends = call(client, method="user.getFriends", user="alice")["friends"]
    assert friends["user"] == []
    assert friends["@attr"]["totalPages"] == "0"
    recent = call(client, method="user.getRecentTracks", user="alice")["recenttracks"]
    assert recent["track"] == []
    similar = call(client, method="artist.getSimilar", artist="Nobody")
    assert similar == {"error": 6, "message": "The artist you supplied could not be found"}


def test_love_and_unlove_answer_an_empty_document(client: TestClient, sk: str) -> None:
    data = {"method": "track.love", "api_key": KEY, "sk": sk, "artist": "A", "track": "T"}
    xml = client.post("/2.0/", data=data)
    assert xml.status_code == 200
    root = lfm(xml.text)
    assert root.get("status") == "ok"
    assert len(root) == 0
    assert client.post("/2.0/", data={**data, "format": "json"}).json() == {}
    loved = call(client, method="user.getLovedTracks", user="alice")["lovedtracks"]
    assert loved["track"]["name"] == "T"
    assert loved["track"]["artist"]["name"] == "A"
    assert "uts" in loved["track"]["date"]
    client.post("/2.0/", data={**data, "method": "track.unlove"})
    assert call(client, method="user.getLovedTracks", user="alice")["lovedtracks"]["track"] == []


def test_recent_tracks_extended_paging_and_range(client: TestClient, sk: str) -> None:
    items = [
        {"artist": "Band", "track": f"Song {i}", "timestamp": NOW - 1000 + i} for i in range(5)
    ]
    scrobble(client, sk, items)
    client.post(
        "/2.0/",
        data={
            "method": "track.love",
            "api_key": KEY,
            "sk": sk,
            "artist": "Band",
            "track": "Song 4",
        },
    )
    page2 = call(client, method="user.getRecentTracks", user="alice", limit=2, page=2)
    tracks = page2["recenttracks"]["track"]
    assert [t["name"] for t in tracks] == ["Song 2", "Song 1"]
    assert page2["recenttracks"]["@attr"]["totalPages"] == "3"
    extended = call(client, method="user.getRecentTracks", user="alice", limit=1, extended=1)
    newest = extended["recenttracks"]["track"]
    assert newest["artist"]["name"] == "Band"
    assert newest["loved"] == "1"
    ranged = call(
        client, method="user.getRecentTracks", user="alice", **{"from": NOW - 999, "to": NOW - 997}
    )
    assert [t["name"] for t in ranged["recenttracks"]["track"]] == ["Song 2", "Song 1"]


# -- errors -----------------------------------------------------------------------------------


def test_unknown_and_missing_method(client: TestClient) -> None:
    unknown = client.get("/2.0/", params={"method": "user.getNothing", "api_key": KEY})
    assert unknown.status_code == 400
    assert error_code(unknown.text) == 3
    missing = client.get("/2.0/", params={"api_key": KEY, "format": "json"})
    assert missing.status_code == 400
    assert missing.json()["error"] == 6


def test_missing_parameters(client: TestClient, sk: str) -> None:
    no_user = client.get("/2.0/", params={"method": "user.getRecentTracks", "api_key": KEY})
    assert no_user.status_code == 400
    assert error_code(no_user.text) == 6
    no_sk = client.post(
        "/2.0/", data={"method": "track.scrobble", "api_key": KEY, "artist": "A", "track": "T"}
    )
    assert error_code(no_sk.text) == 6
    nothing = client.post("/2.0/", data={"method": "track.scrobble", "api_key": KEY, "sk": sk})
    assert error_code(nothing.text) == 6
    no_track = client.post(
        "/2.0/", data={"method": "track.updateNowPlaying", "api_key": KEY, "sk": sk, "artist": "A"}
    )
    assert error_code(no_track.text) == 6


def test_malformed_parameters(client: TestClient, sk: str) -> None:
    # pylast sends limit=None when it has no limit: the default applies.
    assert (
        call(client, method="user.getTopTracks", user="alice", limit="None", page="x")["toptracks"][
            "@attr"
        ]["perPage"]
        == "50"
    )
    assert call(client, method="user.getTopArtists", user="alice", period="fortnight") == {
        "error": 6,
        "message": "Invalid parameters - period must be overall, 7day, 1month, 3month, "
        "6month or 12month",
    }
    assert (
        call(client, method="user.getRecentTracks", user="alice", **{"from": "yesterday"})["error"]
        == 6
    )
    # Optional scrobble fields that do not parse are dropped; the scrobble is kept.
    kept = scrobble(
        client,
        sk,
        [
            {
                "artist": "A",
                "track": "T",
                "timestamp": NOW - 60,
                "duration": "3:30",
                "trackNumber": "-1",
                "mbid": "not-a-uuid",
                "chosenByUser": "maybe",
            }
        ],
        format="json",
    )
    assert kept.json()["scrobbles"]["@attr"] == {"accepted": 1, "ignored": 0}
    # A body that is not UTF-8 does not break the request.
    raw = (
        f"method=track.updateNowPlaying&api_key={KEY}&sk={sk}&artist=Caf%E9&track=Ol%E9"
    ).encode()
    response = client.post(
        "/2.0/", content=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200
    assert lfm(response.text).find("nowplaying/artist").text == "Caf\ufffd"  # type: ignore[union-attr]


def test_writes_must_be_posts(client: TestClient, sk: str) -> None:
    response = client.get(
        "/2.0/",
        params={
            "method": "track.scrobble",
            "api_key": KEY,
            "sk": sk,
            "artist": "A",
            "track": "T",
            "timestamp": NOW,
        },
    )
    assert response.status_code == 400
    assert error_code(response.text) == 6


# -- keys, signatures, sessions ---------------------------------------------------------------


def test_signatures_of_registered_keys_are_checked(
    client: TestClient, runtime: Runtime, alice: Account
) -> None:
    key, secret = register_key(runtime)
    params = {
        "method": "auth.getMobileSession",
        "username": "alice",
        "password": "correct horse",
        "api_key": key,
    }
    good = client.post("/2.0/", data={**signed(params, secret), "format": "json"})
    assert good.status_code == 200, good.text
    upper = signed(params, secret)
    upper["api_sig"] = upper["api_sig"].upper()
    assert client.post("/2.0/", data=upper).status_code == 200
    bad = client.post("/2.0/", data={**params, "api_sig": md5("forged")})
    assert bad.status_code == 403
    assert error_code(bad.text) == 13
    unsigned = client.post("/2.0/", data=params)
    assert error_code(unsigned.text) == 13
    # Reads need no signature, but a wrong one is still wrong.
    read = {"method": "user.getInfo", "user": "alice", "api_key": key}
    assert client.get("/2.0/", params=read).status_code == 200
    forged = client.get("/2.0/", params={**read, "api_sig": "0" * 32})
    assert error_code(forged.text) == 13
    # The signature covers the query string too (pylast sends username there).
    split = signed(
        {
            "method": "auth.getMobileSession",
            "username": "alice",
            "password": "correct horse",
            "api_key": key,
        },
        secret,
    )
    query = {"username": split.pop("username")}
    assert client.post("/2.0/", params=query, data=split).status_code == 200


def test_revoked_registered_key_is_suspended(client: TestClient, runtime: Runtime) -> None:
    key, _ = register_key(runtime)
    with runtime.db.unit_of_work(write=True) as session:
        row = ApiKeyService(session).find(key)
        assert row is not None
        from tastegraph.storage.base import utcnow

        row.revoked_at = utcnow()
    response = client.get("/2.0/", params={"method": "chart.getTopArtists", "api_key": key})
    assert response.status_code == 403
    assert error_code(response.text) == 26


@pytest.fixture
def strict_client(settings: Settings, runtime: Runtime) -> Iterator[TestClient]:
    """A server that rejects API keys it did not register, and allows 5 calls per window."""
    strict = settings.model_copy(update={"lastfm_unknown_keys": "reject"})
    strict_runtime = Runtime(
        settings=strict, db=runtime.db, rate_limiter=MemoryRateLimiter(5, 3600)
    )
    with TestClient(create_app(strict, runtime=strict_runtime)) as test_client:
        yield test_client


def test_unknown_keys_in_reject_mode(
    strict_client: TestClient, runtime: Runtime, alice: Account
) -> None:
    response = strict_client.get(
        "/2.0/", params={"method": "user.getInfo", "user": "alice", "api_key": KEY}
    )
    assert response.status_code == 403
    assert error_code(response.text) == 10
    no_key = strict_client.get("/2.0/", params={"method": "user.getInfo", "user": "alice"})
    assert error_code(no_key.text) == 10
    key, _ = register_key(runtime)
    known = strict_client.get(
        "/2.0/", params={"method": "user.getInfo", "user": "alice", "api_key": key}
    )
    assert known.status_code == 200


def test_rate_limit_is_error_29(strict_client: TestClient, runtime: Runtime) -> None:
    key, _ = register_key(runtime)
    statuses = [
        strict_client.get("/2.0/", params={"method": "chart.getTopArtists", "api_key": key})
        for _ in range(6)
    ]
    assert [r.status_code for r in statuses] == [200] * 5 + [429]
    assert error_code(statuses[-1].text) == 29
    assert int(statuses[-1].headers["retry-after"]) >= 1


def test_unknown_and_revoked_session_keys(client: TestClient, runtime: Runtime, sk: str) -> None:
    unknown = client.post(
        "/2.0/",
        data={"method": "track.love", "api_key": KEY, "sk": "f" * 32, "artist": "A", "track": "T"},
    )
    assert unknown.status_code == 403
    assert error_code(unknown.text) == 9
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        user = svc.accounts.get_by_name("alice")
        token_id = session.scalar(
            select(ApiToken.id).where(
                ApiToken.user_id == user.id, ApiToken.kind == TokenKind.LASTFM_SESSION
            )
        )
        assert token_id is not None
        token = session.get(ApiToken, token_id)
        assert token is not None
        assert token.name == KEY  # a session is named after the client's api_key
        from tastegraph.storage.base import utcnow

        token.revoked_at = utcnow()
    revoked = client.post(
        "/2.0/",
        data={"method": "track.love", "api_key": KEY, "sk": sk, "artist": "A", "track": "T"},
    )
    assert revoked.status_code == 403
    assert error_code(revoked.text) == 9
    # Reads with a dead session key fail the same way; without one they work.
    assert call(client, method="user.getInfo", user="alice", sk=sk)["error"] == 9
    assert call(client, method="user.getInfo", user="alice")["user"]["name"] == "alice"


def test_session_key_does_not_open_the_native_api(client: TestClient, sk: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {sk}"})
    assert response.status_code == 401


def test_get_info_without_user_is_the_session_user(client: TestClient, sk: str) -> None:
    assert call(client, method="user.getInfo", sk=sk)["user"]["name"] == "alice"
    info = call(client, method="auth.getSessionInfo", sk=sk)["application"]["session"]
    assert info["name"] == "alice"
    assert info["key"] == sk


# -- privacy ----------------------------------------------------------------------------------


def test_hidden_users_are_not_found(client: TestClient, sk: str, register: Any) -> None:
    scrobble(client, sk, [{"artist": "A", "track": "T", "timestamp": NOW - 100}])
    client.patch(
        "/api/v1/me",
        json={"visibility": "private"},
        headers={"Authorization": f"Bearer {_personal(client)}"},
    )
    for method in ("user.getInfo", "user.getRecentTracks", "user.getTopArtists"):
        hidden = client.get("/2.0/", params={"method": method, "user": "alice", "api_key": KEY})
        assert hidden.status_code == 400
        assert error_code(hidden.text) == 6
        assert "User not found" in hidden.text
        own = call(client, method=method, user="alice", sk=sk)
        assert "error" not in own
    register("bob")
    bob_sk = session_key(client, "bob")
    assert call(client, method="user.getInfo", user="alice", sk=bob_sk)["error"] == 6
    assert call(client, method="user.getInfo", user="nobody")["message"] == "User not found"


def _personal(client: TestClient) -> str:
    response = client.post(
        "/api/v1/auth/login", json={"name": "alice", "password": "correct horse"}
    )
    token: str = response.json()["token"]
    return token


def test_hidden_recent_activity(client: TestClient, sk: str, register: Any) -> None:
    scrobble(client, sk, [{"artist": "A", "track": "T", "timestamp": NOW - 100}])
    client.patch(
        "/api/v1/me",
        json={"hide_recent_activity": True},
        headers={"Authorization": f"Bearer {_personal(client)}"},
    )
    others = call(client, method="user.getRecentTracks", user="alice")["recenttracks"]
    assert others["track"] == []
    own = call(client, method="user.getRecentTracks", user="alice", sk=sk)["recenttracks"]
    assert own["track"]["name"] == "T"
    # Charts stay visible.
    top = call(client, method="user.getTopTracks", user="alice")["toptracks"]
    assert top["track"]["name"] == "T"


def test_multipart_bodies_are_read(client: TestClient, sk: str) -> None:
    response = client.post(
        "/2.0/",
        files={
            "method": (None, "track.scrobble"),
            "api_key": (None, KEY),
            "sk": (None, sk),
            "artist": (None, "Multi"),
            "track": (None, "Part"),
            "timestamp": (None, str(NOW - 30)),
            "format": (None, "json"),
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scrobbles"]["@attr"] == {"accepted": 1, "ignored": 0}


def test_search_tags_and_charts_in_json(client: TestClient, sk: str, runtime: Runtime) -> None:
    scrobble(client, sk, [{"artist": "Röyksopp", "track": "Eple", "timestamp": NOW - 100}])
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        user = svc.accounts.get_by_name("alice")
        artist = svc.catalog.search("Röyksopp")[0]
        svc.catalog.tag(user.id, artist.id, ["Electronic", "norwegian"])
    results = call(client, method="artist.search", artist="royk")["results"]
    assert results["opensearch:totalResults"] == "1"
    assert results["@attr"] == {"for": "royk"}
    assert results["opensearch:Query"]["searchTerms"] == "royk"
    assert results["artistmatches"]["artist"]["name"] == "Röyksopp"
    empty = call(client, method="track.search", track="nothing like it")["results"]
    assert empty["trackmatches"] == {"track": []}
    info = call(client, method="tag.getInfo", tag="ELECTRONIC")["tag"]
    assert (info["name"], info["total"], info["reach"]) == ("electronic", "1", "1")
    unknown = call(client, method="tag.getInfo", tag="polka")["tag"]
    assert (unknown["name"], unknown["total"]) == ("polka", "0")
    tags = call(client, method="chart.getTopTags")["tags"]
    assert [t["name"] for t in tags["tag"]] == ["electronic", "norwegian"]
    assert tags["@attr"]["total"] == "2"
    top = call(client, method="chart.getTopArtists", period="overall")["artists"]
    assert top["artist"]["name"] == "Röyksopp"
    assert top["artist"]["listeners"] == "1"
    artist = call(client, method="artist.getInfo", artist="röyksopp", username="alice")["artist"]
    assert artist["stats"] == {"listeners": "1", "playcount": "1", "userplaycount": "1"}
    assert artist["tags"]["tag"][0]["name"] == "electronic"
    assert artist["similar"] == {"artist": []}
    track = call(client, method="track.getInfo", artist="Röyksopp", track="eple")["track"]
    assert track["name"] == "Eple"
    assert track["artist"]["name"] == "Röyksopp"
    assert "userloved" not in track
