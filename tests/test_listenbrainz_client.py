"""The real liblistenbrainz client against a real server (uvicorn on a free port).

liblistenbrainz joins '/1/...' onto its base URL, so the API must be at the host root: the
client is pointed at ``live_server`` exactly as a user points it at their own server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from liblistenbrainz import Listen, ListenBrainz
from liblistenbrainz.errors import InvalidAuthTokenException, ListenBrainzAPIException

from tastegraph.runtime import Runtime
from tests.conftest import Account
from tests.listenbrainz_helpers import MBID, now, play_count


def _client(live_server: str, account: Account | None = None) -> ListenBrainz:
    client = ListenBrainz(api_base_url=live_server)
    if account is not None:
        client.set_auth_token(account.token)  # GET /1/validate-token
    return client


def test_submit_and_read_back(live_server: str, alice: Account, runtime: Runtime) -> None:
    lb = _client(live_server, alice)
    t = now()

    playing = Listen(track_name="Jóga", artist_name="Björk", release_name="Homogenic")
    assert lb.submit_playing_now(playing) == {"status": "ok"}
    current = lb.get_playing_now("alice")
    assert current is not None
    assert (current.track_name, current.artist_name) == ("Jóga", "Björk")
    assert current.listened_at is None

    single = Listen(
        track_name="Jóga",
        artist_name="Björk",
        release_name="Homogenic",
        listened_at=t - 600,
        recording_mbid=MBID,
        tracknumber=3,
        tags=["icelandic"],
        additional_info={"duration_ms": 305_000, "submission_client": "tastegraph tests"},
    )
    assert lb.submit_single_listen(single) == {"status": "ok"}
    # The scrobble of what was playing ends "now playing".
    assert lb.get_playing_now("alice") is None

    history = [
        Listen(track_name="Hoppípolla", artist_name="Sigur Rós", listened_at=t - 3000),
        Listen(
            track_name="Merry Christmas Mr. Lawrence", artist_name="坂本龍一", listened_at=t - 2700
        ),
        Listen(track_name="Ágætis byrjun", artist_name="Sigur Rós", listened_at=t - 2400),
    ]
    assert lb.submit_multiple_listens(history) == {"status": "ok"}
    # A retried import is harmless.
    assert lb.submit_multiple_listens(history) == {"status": "ok"}
    assert play_count(runtime) == 4

    listens = lb.get_listens("alice")
    assert [item.track_name for item in listens] == [
        "Jóga",
        "Ágætis byrjun",
        "Merry Christmas Mr. Lawrence",
        "Hoppípolla",
    ]
    newest = listens[0]
    assert newest.listened_at == t - 600
    assert newest.release_name == "Homogenic"
    assert newest.recording_mbid == MBID
    assert newest.tracknumber == 3
    assert newest.tags == ["icelandic"]
    assert newest.recording_msid
    assert newest.additional_info["duration_ms"] == 305_000
    assert listens[2].artist_name == "坂本龍一"

    assert [x.track_name for x in lb.get_listens("alice", count=1)] == ["Jóga"]
    older = lb.get_listens("alice", max_ts=t - 2400)
    assert [x.listened_at for x in older] == [t - 2700, t - 3000]
    after = lb.get_listens("alice", min_ts=t - 3000, count=1)
    assert [x.listened_at for x in after] == [t - 2700]
    assert lb.get_user_listen_count("alice") == 4


def test_stats(live_server: str, alice: Account, register: Any) -> None:
    lb = _client(live_server, alice)
    t = now()
    lb.submit_multiple_listens(
        [
            Listen(
                track_name="Halo",
                artist_name="Beyoncé",
                release_name="I Am...",
                listened_at=t - 900,
            ),
            Listen(
                track_name="Halo",
                artist_name="Beyoncé",
                release_name="I Am...",
                listened_at=t - 600,
            ),
            Listen(
                track_name="Jóga",
                artist_name="Björk",
                release_name="Homogenic",
                listened_at=t - 300,
            ),
        ]
    )
    artists = lb.get_user_artists("alice")
    assert artists is not None
    assert [(a["artist_name"], a["listen_count"]) for a in artists["payload"]["artists"]] == [
        ("Beyoncé", 2),
        ("Björk", 1),
    ]
    # Calendar ranges are in alice's zone (Berlin); in the first minutes of a week or a year
    # the plays above fall into the previous one, so then the test asks for all time.
    berlin = datetime.now(ZoneInfo("Europe/Berlin"))
    early_week = berlin.weekday() == 0 and berlin.hour == 0
    early_year = berlin.timetuple().tm_yday == 1 and berlin.hour == 0
    week = "all_time" if early_week else "this_week"
    year = "all_time" if early_year else "this_year"
    recordings = lb.get_user_recordings("alice", count=1, time_range=week)
    assert recordings is not None
    [top] = recordings["payload"]["recordings"]
    assert (top["track_name"], top["listen_count"]) == ("Halo", 2)
    releases = lb.get_user_releases("alice", time_range=year)
    assert releases is not None
    assert releases["payload"]["releases"][0]["release_name"] == "I Am..."
    groups = lb.get_user_release_groups("alice", offset=1)
    assert groups is not None
    assert [g["release_group_name"] for g in groups["payload"]["release_groups"]] == ["Homogenic"]
    # No plays in the range, or none at all: 204, which the client turns into None.
    assert lb.get_user_artists("alice", time_range="year") is None
    register("carol")
    assert lb.get_user_recordings("carol") is None
    assert lb.get_user_recommendation_recordings("alice") is None


def test_feedback_and_delete(live_server: str, alice: Account, runtime: Runtime) -> None:
    lb = _client(live_server, alice)
    t = now()
    lb.submit_single_listen(
        Listen(track_name="Halo", artist_name="Beyoncé", listened_at=t - 100, recording_mbid=MBID)
    )
    lb.submit_single_listen(Listen(track_name="Jóga", artist_name="Björk", listened_at=t - 50))
    assert lb.submit_user_feedback(1, MBID) == {"status": "ok"}
    loved = lb.get_user_feedback("alice", score=1, metadata=True)
    assert loved["total_count"] == 1
    [entry] = loved["feedback"]
    assert entry["recording_mbid"] == MBID
    assert entry["score"] == 1
    assert entry["track_metadata"]["track_name"] == "Halo"
    everything = lb.get_user_feedback("alice", score=None, metadata=False)
    assert everything["count"] == 1
    assert lb.submit_user_feedback(0, MBID) == {"status": "ok"}
    assert lb.get_user_feedback("alice", score=1, metadata=False)["feedback"] == []

    joga = next(x for x in lb.get_listens("alice") if x.track_name == "Jóga")
    assert lb.delete_listen(joga) == {"status": "ok"}
    assert [x.track_name for x in lb.get_listens("alice")] == ["Halo"]
    assert play_count(runtime) == 1


def test_errors_reach_the_client(live_server: str, alice: Account) -> None:
    with pytest.raises(InvalidAuthTokenException):
        _client(live_server).set_auth_token("not-a-token")

    anonymous = _client(live_server)
    anonymous._auth_token = "forged"  # skip the client's own validity check
    with pytest.raises(ListenBrainzAPIException) as unauthorised:
        anonymous.submit_single_listen(Listen(track_name="T", artist_name="A", listened_at=now()))
    assert unauthorised.value.status_code == 401
    assert unauthorised.value.message == "Invalid authorization token."

    lb = _client(live_server, alice)
    with pytest.raises(ListenBrainzAPIException) as ancient:
        lb.submit_single_listen(Listen(track_name="T", artist_name="A", listened_at=1_000_000_000))
    assert ancient.value.status_code == 400
    assert "too low" in (ancient.value.message or "")
    with pytest.raises(ListenBrainzAPIException) as future:
        lb.submit_single_listen(Listen(track_name="T", artist_name="A", listened_at=now() + 7200))
    assert future.value.status_code == 400
    with pytest.raises(ListenBrainzAPIException) as missing:
        lb.get_listens("nobody")
    assert missing.value.status_code == 404
    assert missing.value.message == "Cannot find user: nobody"
    # The client honours the rate-limit headers it is sent.
    lb.get_user_listen_count("alice")
    assert lb.remaining_requests is not None
    assert lb.remaining_requests > 0
    assert lb.ratelimit_reset_in is not None
