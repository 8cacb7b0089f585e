"""track.scrobble and track.updateNowPlaying over raw HTTP: batches, array notation, ignore
codes, duplicates, and the one write path shared with the native API."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tastegraph.catalog.kinds import IdScheme
from tastegraph.catalog.models import ExternalId, Item
from tastegraph.ingest.models import Play
from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track
from tests.lastfm_helpers import KEY, error_code, lfm, session_key

NOW = int(time.time())
DAY = 86_400


@pytest.fixture
def sk(client: TestClient, alice: Account) -> str:
    return session_key(client)


def _post(client: TestClient, sk: str, data: dict[str, Any]) -> Any:
    return client.post(
        "/2.0/",
        data={"method": "track.scrobble", "api_key": KEY, "sk": sk, "format": "json", **data},
    )


def _plays(runtime: Runtime) -> list[tuple[str, int, str | None]]:
    """(title, played_at seconds, raw payload) of every stored play, oldest first."""
    with runtime.db.unit_of_work() as session:
        rows = session.execute(
            select(Item.title, Play.played_at, Play.raw_payload)
            .join(Item, Item.id == Play.item_id)
            .order_by(Play.played_at)
        ).all()
    return [(title, int(at.timestamp()), raw) for title, at, raw in rows]


def _codes(body: Any) -> list[int]:
    scrobbles = body["scrobbles"]["scrobble"]
    scrobbles = scrobbles if isinstance(scrobbles, list) else [scrobbles]
    return [int(s["ignoredMessage"]["code"]) for s in scrobbles]


def test_single_scrobble_without_index(client: TestClient, sk: str, runtime: Runtime) -> None:
    response = _post(
        client,
        sk,
        {
            "artist": "Sigur Rós",
            "track": "Hoppípolla",
            "timestamp": str(NOW - 300),
            "album": "Takk…",
            "albumArtist": "Sigur Rós",
            "trackNumber": "2",
            "duration": "268",
            "mbid": "A1E0B4D5-9B1F-4F38-8C2D-7A0E7B7C1234",
            "chosenByUser": "0",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scrobbles"]["@attr"] == {"accepted": 1, "ignored": 0}
    assert body["scrobbles"]["scrobble"]["album"]["#text"] == "Takk…"
    [(title, at, raw)] = _plays(runtime)
    assert (title, at) == ("Hoppípolla", NOW - 300)
    # The request is kept with the play (without the session key) for re-parsing later.
    assert raw is not None
    kept = json.loads(raw)
    assert kept["params"]["chosenByUser"] == "0"
    assert kept["api_key"] == KEY
    assert "sk" not in raw
    with runtime.db.unit_of_work() as session:
        item = session.scalar(select(Item).where(Item.title == "Hoppípolla"))
        assert item is not None
        assert item.duration_seconds == 268
        assert item.number == 2
        ids = session.scalars(select(ExternalId.value).where(ExternalId.item_id == item.id))
        assert list(ids) == ["a1e0b4d5-9b1f-4f38-8c2d-7a0e7b7c1234"]
        assert (
            session.scalar(select(ExternalId.scheme).where(ExternalId.item_id == item.id))
            == IdScheme.MUSICBRAINZ
        )


def test_plain_and_index_zero_are_one_item(client: TestClient, sk: str, runtime: Runtime) -> None:
    response = _post(
        client,
        sk,
        {"artist": "A", "artist[0]": "A", "track[0]": "T", "timestamp": str(NOW - 60)},
    )
    body = response.json()
    assert isinstance(body["scrobbles"]["scrobble"], dict)
    assert body["scrobbles"]["@attr"] == {"accepted": 1, "ignored": 0}
    assert len(_plays(runtime)) == 1


def test_sparse_indices_and_any_case(client: TestClient, sk: str, runtime: Runtime) -> None:
    data = {
        "ARTIST[17]": "C",
        "Track[17]": "Third",
        "TIMESTAMP[17]": str(NOW - 100),
        "artist[0]": "A",
        "track[0]": "First",
        "timestamp[0]": str(NOW - 300),
        "Artist[5]": "B",
        "TRACK[5]": "Second",
        "timeStamp[5]": str(NOW - 200),
    }
    body = _post(client, sk, data).json()
    # One <scrobble> per item, in index order.
    assert [s["track"]["#text"] for s in body["scrobbles"]["scrobble"]] == [
        "First",
        "Second",
        "Third",
    ]
    assert body["scrobbles"]["@attr"] == {"accepted": 3, "ignored": 0}
    assert [t for t, _, _ in _plays(runtime)] == ["First", "Second", "Third"]


def test_fifty_is_the_limit(client: TestClient, sk: str, runtime: Runtime) -> None:
    def batch(n: int) -> dict[str, str]:
        data: dict[str, str] = {}
        for i in range(n):
            data |= {
                f"artist[{i}]": "A",
                f"track[{i}]": f"T{i}",
                f"timestamp[{i}]": str(NOW - 10_000 + i * 60),
            }
        return data

    too_many = _post(client, sk, batch(51))
    assert too_many.status_code == 400
    assert too_many.json()["error"] == 6
    assert _plays(runtime) == []
    fifty = _post(client, sk, batch(50)).json()
    assert fifty["scrobbles"]["@attr"] == {"accepted": 50, "ignored": 0}
    assert len(_plays(runtime)) == 50


def test_old_and_future_timestamps_are_ignored(
    client: TestClient, sk: str, runtime: Runtime
) -> None:
    response = _post(
        client,
        sk,
        {
            "artist[0]": "A",
            "track[0]": "Ancient",
            "timestamp[0]": str(NOW - 15 * DAY),
            "artist[1]": "A",
            "track[1]": "Future",
            "timestamp[1]": str(NOW + 2 * 3600),
            "artist[2]": "A",
            "track[2]": "Recent enough",
            "timestamp[2]": str(NOW - 13 * DAY),
        },
    )
    # Ignored scrobbles are still a success: status ok, HTTP 200.
    assert response.status_code == 200
    body = response.json()
    assert body["scrobbles"]["@attr"] == {"accepted": 1, "ignored": 2}
    assert _codes(body) == [3, 4, 0]
    messages = [s["ignoredMessage"]["#text"] for s in body["scrobbles"]["scrobble"]]
    assert messages == ["Timestamp was too old", "Timestamp was too new", ""]
    assert [t for t, _, _ in _plays(runtime)] == ["Recent enough"]
    xml = client.post(
        "/2.0/",
        data={
            "method": "track.scrobble",
            "api_key": KEY,
            "sk": sk,
            "artist": "A",
            "track": "Older",
            "timestamp": str(NOW - 30 * DAY),
        },
    )
    root = lfm(xml.text)
    assert root.get("status") == "ok"
    scrobbles = root.find("scrobbles")
    assert scrobbles is not None
    assert (scrobbles.get("accepted"), scrobbles.get("ignored")) == ("0", "1")
    assert root.find("scrobbles/scrobble/ignoredMessage").get("code") == "3"  # type: ignore[union-attr]


def test_partly_bad_batch_stores_its_good_items(
    client: TestClient, sk: str, runtime: Runtime
) -> None:
    items = [
        ("Good", "One", NOW - 500),
        ("", "No artist", NOW - 400),
        ("Band", "   ", NOW - 300),
        ("Band", "Bad time", "yesterday"),
        ("Band", "Too new", NOW + 7200),
        ("Good", "Two", NOW - 100),
        ("Band", "x" * 600, NOW - 50),
    ]
    data: dict[str, str] = {}
    for i, (artist, title, ts) in enumerate(items):
        data |= {f"artist[{i}]": artist, f"track[{i}]": title, f"timestamp[{i}]": str(ts)}
    body = _post(client, sk, data).json()
    assert _codes(body) == [0, 1, 2, 3, 4, 0, 0]
    assert body["scrobbles"]["@attr"] == {"accepted": 3, "ignored": 4}
    last = body["scrobbles"]["scrobble"][6]["track"]
    assert last["corrected"] == "1"
    assert len(last["#text"]) == 512
    assert [t for t, _, _ in _plays(runtime)] == ["One", "Two", "x" * 512]


def test_duplicates_are_reported_as_accepted(client: TestClient, sk: str, runtime: Runtime) -> None:
    data = {"artist": "A", "track": "T", "timestamp": str(NOW - 60)}
    first = _post(client, sk, data).json()
    again = _post(client, sk, data).json()
    assert (
        first["scrobbles"]["@attr"]
        == again["scrobbles"]["@attr"]
        == {
            "accepted": 1,
            "ignored": 0,
        }
    )
    assert len(_plays(runtime)) == 1


def test_same_play_through_native_api_and_lastfm_counts_once(
    client: TestClient, alice: Account, sk: str, runtime: Runtime
) -> None:
    native = client.post(
        "/api/v1/plays", json=play(NOW - 600, track("Jóga", "Björk")), headers=alice.headers
    )
    assert native.status_code == 201
    body = _post(
        client, sk, {"artist": "björk", "track": "JÓGA", "timestamp": str(NOW - 600)}
    ).json()
    assert body["scrobbles"]["@attr"] == {"accepted": 1, "ignored": 0}
    assert len(_plays(runtime)) == 1
    # And the other way round.
    _post(client, sk, {"artist": "Björk", "track": "Hunter", "timestamp": str(NOW - 300)})
    again = client.post(
        "/api/v1/plays", json=play(NOW - 300, track("Hunter", "Björk")), headers=alice.headers
    )
    assert again.json()["status"] == "duplicate"
    with runtime.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Play)) == 2
    info = client.get("/2.0/", params={"method": "user.getInfo", "user": "alice", "api_key": KEY})
    assert lfm(info.text).findtext("user/playcount") == "2"


def test_now_playing(client: TestClient, sk: str, alice: Account) -> None:
    def now_playing(**fields: str) -> Any:
        return client.post(
            "/2.0/",
            data={"method": "track.updateNowPlaying", "api_key": KEY, "sk": sk, **fields},
        )

    response = now_playing(artist="Björk", track="Hunter", album="Homogenic", duration="255")
    root = lfm(response.text)
    assert [child.tag for child in root.find("nowplaying")] == [  # type: ignore[union-attr]
        "track",
        "artist",
        "album",
        "albumArtist",
        "ignoredMessage",
    ]
    assert root.findtext("nowplaying/album") == "Homogenic"
    native = client.get("/api/v1/users/alice/now-playing", headers=alice.headers).json()
    assert native["item"]["title"] == "Hunter"
    assert native["source"] == f"lastfm:{KEY}"
    first_expiry = native["expires_at"]
    # The same track again (players repeat it on pause and seek) changes nothing.
    now_playing(artist="Björk", track="Hunter")
    assert (
        client.get("/api/v1/users/alice/now-playing", headers=alice.headers).json()["expires_at"]
        == first_expiry
    )
    json_body = now_playing(artist="Björk", track="Jóga", format="json").json()
    assert json_body["nowplaying"]["track"] == {"corrected": "0", "#text": "Jóga"}
    ignored = now_playing(artist="\x01", track="Jóga", format="json").json()
    assert ignored["nowplaying"]["ignoredMessage"] == {
        "code": "1",
        "#text": "Artist was ignored",
    }
    recent = client.get(
        "/2.0/",
        params={
            "method": "user.getRecentTracks",
            "user": "alice",
            "api_key": KEY,
            "format": "json",
        },
    ).json()["recenttracks"]
    assert recent["track"]["@attr"] == {"nowplaying": "true"}
    assert recent["track"]["name"] == "Jóga"
    assert "date" not in recent["track"]
    assert recent["@attr"]["total"] == "0"  # the track playing now is not counted


def test_scrobble_validation_error_from_bad_album(
    client: TestClient, sk: str, runtime: Runtime
) -> None:
    # Control characters are taken out (and the value reported as corrected).
    body = _post(
        client, sk, {"artist": "A\x07", "track": "T", "album": "\x00", "timestamp": str(NOW - 5)}
    ).json()
    scrobble = body["scrobbles"]["scrobble"]
    assert scrobble["artist"] == {"corrected": "1", "#text": "A"}
    assert scrobble["album"] == {"corrected": "1", "#text": ""}
    assert body["scrobbles"]["@attr"]["accepted"] == 1
    assert (
        error_code(client.post("/2.0/", data={"method": "track.scrobble", "api_key": KEY}).text)
        == 6
    )
    assert [t for t, _, _ in _plays(runtime)] == ["T"]
