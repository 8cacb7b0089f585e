"""The real pylast 7.2 client against a live server: log-in, scrobbling, now playing, loves,
and every read method pylast offers, through pylast's own objects."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pylast
import pytest
from fastapi.testclient import TestClient

from tastegraph.catalog.kinds import IdScheme, Kind
from tastegraph.catalog.models import Item
from tastegraph.runtime import Runtime
from tests.conftest import Account
from tests.lastfm_helpers import md5, network, register_key

NOW = int(time.time())

NAMES = [
    ("Björk", "Jóga", "Homogenic"),
    ("坂本龍一", "戦場のメリークリスマス", "Coda"),
    ("Мумий Тролль", "Владивосток 2000", "Морская"),
    ("Sigur Rós", "Hoppípolla", "Takk…"),
    ("Mötley Crüe", "Kickstart My Heart", "Dr. Feelgood"),
]


@dataclass
class Client:
    net: pylast._Network
    key: str
    secret: str


@pytest.fixture
def lastfm(live_server: str, runtime: Runtime, alice: Account) -> Client:
    """pylast logged in as alice with auth.getMobileSession: the password is a personal
    token, so the hash pylast sends is md5 of the token."""
    key, secret = register_key(runtime, "pylast tests")
    net = network(
        live_server,
        api_key=key,
        api_secret=secret,
        username="alice",
        password_hash=pylast.md5(alice.token),
    )
    return Client(net=net, key=key, secret=secret)


def _plays(client: TestClient, account: Account, limit: int = 200) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/v1/users/{account.name}/plays", params={"limit": limit}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    plays: list[dict[str, Any]] = response.json()["plays"]
    return plays


def test_mobile_session_key_is_32_hex(lastfm: Client) -> None:
    key = lastfm.net.session_key
    assert len(key) == 32
    assert int(key, 16) >= 0
    assert lastfm.net.get_authenticated_user().get_name() == "alice"


def test_wrong_password_is_error_4(live_server: str, runtime: Runtime, alice: Account) -> None:
    key, secret = register_key(runtime)
    with pytest.raises(pylast.WSError) as caught:
        network(
            live_server,
            api_key=key,
            api_secret=secret,
            username="alice",
            password_hash=md5("not the token"),
        )
    assert caught.value.status == "4"


def test_fifty_scrobbles_with_non_ascii_names(
    lastfm: Client, client: TestClient, alice: Account
) -> None:
    batch = [
        {
            "artist": NAMES[i % 5][0],
            "title": f"{NAMES[i % 5][1]} #{i}",
            "album": NAMES[i % 5][2],
            "timestamp": NOW - 20_000 + i * 300,
            "duration": 180 + i,
            "track_number": i % 12 + 1,
        }
        for i in range(50)
    ]
    lastfm.net.scrobble_many(batch)
    plays = _plays(client, alice)
    assert len(plays) == 50
    stored = {(p["item"]["title"], p["item"]["context"]) for p in plays}
    assert stored == {(t["title"], t["artist"]) for t in batch}
    assert {p["source"] for p in plays} == {"lastfm:pylast tests"}
    played = {p["item"]["title"]: p["played_at"] for p in plays}
    assert datetime.fromisoformat(played["Jóga #0"]).timestamp() == NOW - 20_000

    recent = lastfm.net.get_user("alice").get_recent_tracks(limit=50)
    assert len(recent) == 50
    newest = recent[0]
    assert str(newest.track.artist) == "Mötley Crüe"
    assert newest.track.title == "Kickstart My Heart #49"
    assert newest.album == "Dr. Feelgood"
    assert newest.timestamp == str(NOW - 20_000 + 49 * 300)
    # Re-sending the same batch (a client retrying after a timeout) stores nothing new.
    lastfm.net.scrobble_many(batch)
    assert len(_plays(client, alice)) == 50


def test_now_playing(lastfm: Client) -> None:
    user = lastfm.net.get_user("alice")
    assert user.get_now_playing() is None
    lastfm.net.update_now_playing(
        artist="Björk", title="Hunter", album="Homogenic", duration=255, track_number=1
    )
    playing = user.get_now_playing()
    assert playing is not None
    assert str(playing.artist) == "Björk"
    assert playing.title == "Hunter"
    assert playing.info["album"] == "Homogenic"
    with_now = user.get_recent_tracks(limit=5, now_playing=True)
    assert with_now[0].track.title == "Hunter"
    assert with_now[0].timestamp is None
    assert user.get_recent_tracks(limit=5) == []
    # Scrobbling what is playing ends the now-playing state.
    lastfm.net.scrobble(artist="Björk", title="Hunter", timestamp=NOW - 10, album="Homogenic")
    assert user.get_now_playing() is None


def test_love_and_unlove(lastfm: Client) -> None:
    track = lastfm.net.get_track("Sigur Rós", "Svefn-g-englar")
    track.love()
    loved = lastfm.net.get_user("alice").get_loved_tracks()
    assert [(str(t.track.artist), t.track.title) for t in loved] == [
        ("Sigur Rós", "Svefn-g-englar")
    ]
    assert abs(int(loved[0].timestamp) - time.time()) < 120
    assert track.get_userloved() is True
    track.love()  # idempotent
    track.unlove()
    assert lastfm.net.get_user("alice").get_loved_tracks() == []
    assert track.get_userloved() is False
    track.unlove()  # idempotent too


def test_desktop_auth_flow(
    live_server: str, runtime: Runtime, alice: Account, client: TestClient
) -> None:
    key, secret = register_key(runtime, "Desktop player")
    net = network(live_server, api_key=key, api_secret=secret)
    generator = pylast.SessionKeyGenerator(net)
    url = generator.get_web_auth_url()
    assert url.startswith(f"{live_server}/api/auth/?api_key={key}&token=")
    with pytest.raises(pylast.WSError) as caught:
        generator.get_web_auth_session_key(url)
    assert caught.value.status == "14"  # not approved yet
    page = client.get(url.removeprefix(live_server))
    assert page.status_code == 200
    assert "Desktop player" in page.text
    token = url.rsplit("token=", 1)[1]
    approved = client.post(
        "/api/auth/",
        data={
            "api_key": key,
            "token": token,
            "name": "alice",
            "password": "correct horse",
            "decision": "allow",
        },
    )
    assert approved.status_code == 200, approved.text
    session_key, name = generator.get_web_auth_session_key_username(url)
    assert name == "alice"
    authed = network(live_server, api_key=key, api_secret=secret, session_key=session_key)
    assert authed.get_authenticated_user().get_name() == "alice"
    with pytest.raises(pylast.WSError) as again:
        generator.get_web_auth_session_key(url)
    assert again.value.status == "4"  # a token is exchanged once


# -- reads ------------------------------------------------------------------------------------

TRACK_MBID = "b1a9c0e9-d987-4042-ae91-78d6a3267d69"
ARTIST_MBID = "87c5dedd-371d-4a53-9f7f-80522fb7f3cb"


def _item(runtime: Runtime, kind: Kind, title: str) -> int:
    from sqlalchemy import select

    with runtime.db.unit_of_work() as session:
        item_id = session.scalar(select(Item.id).where(Item.kind == kind, Item.title == title))
    assert item_id is not None
    return item_id


@pytest.fixture
def library(lastfm: Client, runtime: Runtime, client: TestClient, register: Any) -> Client:
    """alice: 3 plays of Jóga, 2 of Hunter (Björk, Homogenic), 1 of a Sakamoto track, all
    in the last days; bob (a friend, in Germany too): 1 play of Jóga. Tags and ids added."""
    bob = register("bob", country="DE", timezone="Europe/Berlin")
    plays = [
        ("Björk", "Jóga", "Homogenic", NOW - 3600 * 1, TRACK_MBID),
        ("Björk", "Jóga", "Homogenic", NOW - 3600 * 2, TRACK_MBID),
        ("Björk", "Jóga", "Homogenic", NOW - 3600 * 3, TRACK_MBID),
        ("Björk", "Hunter", "Homogenic", NOW - 3600 * 4, None),
        ("Björk", "Hunter", "Homogenic", NOW - 3600 * 5, None),
        ("坂本龍一", "Merry Christmas Mr. Lawrence", "Coda", NOW - 3600 * 30, None),
    ]
    lastfm.net.scrobble_many(
        [
            {
                "artist": a,
                "title": t,
                "album": al,
                "timestamp": ts,
                "mbid": mbid,
                "duration": 305,
            }
            for a, t, al, ts, mbid in plays
        ]
    )
    bob_net = network(
        lastfm.net.homepage,
        api_key=lastfm.key,
        api_secret=lastfm.secret,
        username="bob",
        password_hash=md5(bob.token),
    )
    bob_net.scrobble(artist="Björk", title="Jóga", timestamp=NOW - 600, album="Homogenic")
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        alice_user = svc.accounts.get_by_name("alice")
        bob_user = svc.accounts.get_by_name("bob")
        svc.social.befriend([(alice_user.id, bob_user.id)])
        bjork = svc.catalog.search("Björk", kind=Kind.ARTIST)[0]
        svc.catalog.add_external_id(bjork.id, IdScheme.MUSICBRAINZ, ARTIST_MBID)
        svc.catalog.tag(alice_user.id, bjork.id, ["electronic", "icelandic"])
        svc.catalog.tag(bob_user.id, bjork.id, ["electronic"])
        joga = svc.catalog.search("Jóga", kind=Kind.TRACK)[0]
        svc.catalog.tag(alice_user.id, joga.id, ["electronic"])
        homogenic = svc.catalog.search("Homogenic", kind=Kind.ALBUM)[0]
        svc.catalog.tag(alice_user.id, homogenic.id, ["electronic"])
    lastfm.net.get_track("Björk", "Jóga").love()
    return lastfm


def _weights(items: list[Any]) -> list[tuple[str, int]]:
    return [(str(i.item), int(i.weight)) for i in items]


def test_user_profile(library: Client, runtime: Runtime) -> None:
    user = library.net.get_user("alice")
    assert user.get_playcount() == 6
    assert user.get_country() is not None
    assert user.get_country().get_name() == "Germany"
    assert user.is_subscriber() is False
    assert user.get_image() is None
    assert user.get_name(properly_capitalized=True) == "alice"
    registered = user.get_unixtime_registered()
    with runtime.db.unit_of_work() as session:
        created = runtime.services(session).accounts.get_by_name("alice").created_at
    assert registered == int(created.timestamp())
    assert user.get_registered() == str(registered)
    # AuthenticatedUser sends no user, only the session key.
    assert library.net.get_authenticated_user().get_name(properly_capitalized=True) == "alice"


def test_user_recent_tracks_and_range(library: Client) -> None:
    user = library.net.get_user("alice")
    recent = user.get_recent_tracks(limit=10)
    assert [(str(p.track.artist), p.track.title) for p in recent[:3]] == [("Björk", "Jóga")] * 3
    assert recent[0].album == "Homogenic"
    assert recent[0].timestamp == str(NOW - 3600)
    assert len(recent) == 6
    # Without a limit pylast pages until totalPages.
    assert [p.timestamp for p in user.get_recent_tracks(limit=None)] == [
        p.timestamp for p in recent
    ]
    window = user.get_recent_tracks(limit=10, time_from=NOW - 3600 * 4, time_to=NOW - 3600)
    assert [int(p.timestamp) for p in window] == [NOW - 3600 * h for h in (2, 3, 4)]


@pytest.mark.parametrize(
    "period",
    [
        pylast.PERIOD_OVERALL,
        pylast.PERIOD_7DAYS,
        pylast.PERIOD_1MONTH,
        pylast.PERIOD_3MONTHS,
        pylast.PERIOD_6MONTHS,
        pylast.PERIOD_12MONTHS,
    ],
)
def test_user_top_lists_every_period(library: Client, period: str) -> None:
    user = library.net.get_user("alice")
    assert _weights(user.get_top_artists(period)) == [("Björk", 5), ("坂本龍一", 1)]
    albums = user.get_top_albums(period)
    assert [(str(a.item.artist), a.item.title, int(a.weight)) for a in albums] == [
        ("Björk", "Homogenic", 5),
        ("坂本龍一", "Coda", 1),
    ]
    tracks = user.get_top_tracks(period)
    assert [(str(t.item.artist), t.item.title, int(t.weight)) for t in tracks] == [
        ("Björk", "Jóga", 3),
        ("Björk", "Hunter", 2),
        ("坂本龍一", "Merry Christmas Mr. Lawrence", 1),
    ]


def test_user_tags_friends_loves(library: Client) -> None:
    user = library.net.get_user("alice")
    assert [(str(t.item), int(t.weight)) for t in user.get_top_tags()] == [
        ("electronic", 3),
        ("icelandic", 1),
    ]
    assert [str(f) for f in user.get_friends()] == ["bob"]
    assert [str(f) for f in library.net.get_user("bob").get_friends()] == ["alice"]
    loved = user.get_loved_tracks()
    assert [(str(t.track.artist), t.track.title) for t in loved] == [("Björk", "Jóga")]


def test_friendless_user_has_an_empty_list(library: Client, register: Any) -> None:
    register("carol")
    assert library.net.get_user("carol").get_friends() == []


def test_weekly_charts(library: Client) -> None:
    user = library.net.get_user("alice")
    weeks = user.get_weekly_chart_dates()
    assert weeks
    assert all(int(a) < int(b) for a, b in weeks)
    assert int(weeks[-1][1]) > NOW - 3600
    frm, to = str(NOW - 3600 * 48), str(NOW)
    assert _weights(user.get_weekly_artist_charts(frm, to)) == [("Björk", 5), ("坂本龍一", 1)]
    albums = user.get_weekly_album_charts(frm, to)
    assert next((str(a.item.artist), a.item.title, int(a.weight)) for a in albums) == (
        "Björk",
        "Homogenic",
        5,
    )
    tracks = user.get_weekly_track_charts(frm, to)
    assert [(str(t.item.artist), t.item.title, int(t.weight)) for t in tracks][:2] == [
        ("Björk", "Jóga", 3),
        ("Björk", "Hunter", 2),
    ]
    # Every listed week can be asked for.
    total = sum(int(i.weight) for a, b in weeks for i in user.get_weekly_artist_charts(a, b))
    assert total == 6


def test_library_artists(library: Client) -> None:
    artists = pylast.Library("alice", library.net).get_artists(limit=None)
    assert [(str(a.item), int(a.playcount), int(a.tagcount)) for a in artists] == [
        ("Björk", 5, 2),
        ("坂本龍一", 1, 0),
    ]


def test_artist_methods(library: Client) -> None:
    artist = library.net.get_artist("björk")
    assert artist.get_name(properly_capitalized=True) == "Björk"
    assert artist.get_playcount() == 6
    assert artist.get_listener_count() == 2
    assert artist.get_userplaycount() == 5
    assert artist.get_mbid() == ARTIST_MBID
    assert artist.get_bio_summary() is None
    assert artist.get_correction() == "Björk"
    assert artist.get_similar() == []
    tracks = artist.get_top_tracks()
    assert [(t.item.title, int(t.weight)) for t in tracks] == [("Jóga", 4), ("Hunter", 2)]
    albums = artist.get_top_albums()
    assert [(a.item.title, int(a.weight)) for a in albums] == [("Homogenic", 6)]
    tags = artist.get_top_tags()
    assert [(str(t.item), int(t.weight)) for t in tags] == [("electronic", 2), ("icelandic", 1)]
    by_mbid = library.net.get_artist_by_mbid(ARTIST_MBID)
    assert by_mbid.get_name() == "Björk"
    with pytest.raises(pylast.WSError) as caught:
        library.net.get_artist("Nobody At All").get_playcount()
    assert caught.value.status == "6"


def test_track_methods(library: Client) -> None:
    track = library.net.get_track("Björk", "Jóga")
    assert track.get_duration() == 305_000  # milliseconds, as Last.fm gives them
    album = track.get_album()
    assert album is not None
    assert (str(album.artist), album.title) == ("Björk", "Homogenic")
    assert track.get_userloved() is True
    assert track.get_userplaycount() == 3
    assert track.get_playcount() == 4
    assert track.get_listener_count() == 2
    assert track.get_mbid() == TRACK_MBID
    assert track.get_similar() == []
    assert [str(t.item) for t in track.get_top_tags()] == ["electronic"]
    assert track.get_wiki_summary() is None
    assert track.get_correction() == "Jóga"
    by_mbid = library.net.get_track_by_mbid(TRACK_MBID)
    assert (str(by_mbid.artist), by_mbid.title) == ("Björk", "Jóga")
    hunter = library.net.get_track("Björk", "Hunter")
    assert hunter.get_userloved() is False
    assert hunter.get_mbid() is None


def test_album_methods(library: Client) -> None:
    album = library.net.get_album("Björk", "Homogenic")
    assert album.get_title(properly_capitalized=True) == "Homogenic"
    assert album.get_playcount() == 6
    assert album.get_listener_count() == 2
    assert album.get_userplaycount() == 5
    assert album.get_mbid() is None
    assert [(str(t.artist), t.title) for t in album.get_tracks()] == [
        ("Björk", "Hunter"),
        ("Björk", "Jóga"),
    ]
    assert [str(t.item) for t in album.get_top_tags()] == ["electronic"]


def test_tag_methods(library: Client) -> None:
    tag = library.net.get_tag("Electronic")
    assert _weights(tag.get_top_artists()) == [("Björk", 6)]
    assert [(str(t.item.artist), t.item.title, int(t.weight)) for t in tag.get_top_tracks()] == [
        ("Björk", "Jóga", 4)
    ]
    albums = tag.get_top_albums()
    assert [(str(a.item.artist), a.item.title, int(a.weight)) for a in albums] == [
        ("Björk", "Homogenic", 6)
    ]
    assert _weights(library.net.get_top_tags()) == [("electronic", 4), ("icelandic", 1)]


def test_site_and_geo_charts(library: Client) -> None:
    assert _weights(library.net.get_top_artists()) == [("Björk", 6), ("坂本龍一", 1)]
    tracks = library.net.get_top_tracks()
    assert next((str(t.item.artist), t.item.title, int(t.weight)) for t in tracks) == (
        "Björk",
        "Jóga",
        4,
    )
    assert _weights(library.net.get_geo_top_artists("Germany")) == [("Björk", 6), ("坂本龍一", 1)]
    geo_tracks = library.net.get_geo_top_tracks("Germany")
    # pylast reads listeners here: two people played Jóga.
    assert next((t.item.title, int(t.weight)) for t in geo_tracks) == ("Jóga", 2)
    country = library.net.get_country("Germany")
    assert next((t.item.title, int(t.weight)) for t in country.get_top_tracks()) == ("Jóga", 4)
    assert library.net.get_geo_top_artists("France") == []
    with pytest.raises(pylast.WSError) as caught:
        library.net.get_geo_top_artists("Atlantis")
    assert caught.value.status == "6"


def test_search(library: Client) -> None:
    artists = library.net.search_for_artist("bjo")
    assert artists.get_total_result_count() == "1"
    found = artists.get_next_page()
    assert [str(a) for a in found] == ["Björk"]
    assert found[0].listener_count == 2
    tracks = library.net.search_for_track("Björk", "jóga").get_next_page()
    assert [(str(t.artist), t.title) for t in tracks] == [("Björk", "Jóga")]
    assert tracks[0].listener_count == 2
    albums = library.net.search_for_album("homo").get_next_page()
    assert [(str(a.artist), a.title) for a in albums] == [("Björk", "Homogenic")]
    assert library.net.search_for_artist("no such thing").get_next_page() == []
