"""The catalogue through the HTTP API: matching, hierarchy, ids, search, aliases, merges, tags."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, play, track

T0 = 1_714_587_300


def _play(client: TestClient, account: Account, item: dict[str, Any], when: int = T0) -> int:
    response = client.post("/api/v1/plays", json=play(when, item), headers=account.headers)
    assert response.status_code in (200, 201), response.text
    item_id: int = response.json()["item_id"]
    return item_id


def _item(client: TestClient, item_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/items/{item_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_featured_artists_and_spellings_meet(client: TestClient, alice: Account) -> None:
    first = _play(client, alice, track("Drunk in Love", "Beyoncé feat. JAY-Z", album="BEYONCÉ"))
    second = _play(client, alice, track("drunk in love", "beyonce ft jay-z"), T0 + 600)
    third = _play(client, alice, track("Drunk in Love (featuring Jay Z)", "BEYONCÉ"), T0 + 1200)
    assert first == second == third
    item = _item(client, first)
    assert item["title"] == "Drunk in Love"
    assert [(c["title"], c["role"]) for c in item["credits"]] == [
        ("Beyoncé", "main"),
        ("JAY-Z", "featured"),
    ]
    assert item["parent"]["kind"] == "album"
    album = _item(client, item["parent"]["id"])
    assert album["parent"]["title"] == "Beyoncé"
    # The featured artist is an artist in their own right, not "Beyoncé feat. JAY-Z".
    solo = _play(client, alice, track("99 Problems", "Jay-Z"), T0 + 1800)
    assert _item(client, solo)["credits"][0]["id"] == item["credits"][1]["id"]


def test_simon_and_garfunkel_stays_one_act(client: TestClient, alice: Account) -> None:
    item = _item(client, _play(client, alice, track("The Boxer", "Simon & Garfunkel")))
    assert [c["title"] for c in item["credits"]] == ["Simon & Garfunkel"]
    listed = _item(client, _play(client, alice, track("Collab", ["Artist A", "Artist B"]), T0 + 9))
    assert [c["title"] for c in listed["credits"]] == ["Artist A", "Artist B"]


def test_track_learns_its_album_later(client: TestClient, alice: Account) -> None:
    bare = _play(client, alice, track("Song", "Band"))
    assert _item(client, bare)["parent"]["kind"] == "artist"
    with_album = _play(client, alice, track("Song", "Band", album="Record", duration=201), T0 + 300)
    assert with_album == bare
    item = _item(client, bare)
    assert item["parent"]["kind"] == "album"
    assert item["duration_seconds"] == 201


def test_tv_sports_news_and_film_hierarchies(client: TestClient, alice: Account) -> None:
    episode = _item(
        client,
        _play(
            client,
            alice,
            {"kind": "episode", "show": "Borgen", "season": 2, "episode": 3, "language": "da"},
        ),
    )
    assert episode["parent"]["kind"] == "season"
    season = _item(client, episode["parent"]["id"])
    assert season["parent"]["title"] == "Borgen"
    assert season["number"] == 2
    assert episode["number"] == 3
    assert episode["original_language"] == "da"

    match = _item(
        client,
        _play(
            client,
            alice,
            {
                "kind": "match",
                "competition": "Copa Libertadores",
                "home": "Flamengo",
                "away": "River Plate",
                "starts_at": "2024-05-01T21:30:00-03:00",
                "country": "BR",
            },
        ),
    )
    assert match["parent"]["title"] == "Copa Libertadores"
    assert [(c["title"], c["role"]) for c in match["credits"]] == [
        ("Flamengo", "home"),
        ("River Plate", "away"),
    ]
    assert match["released_at"] == "2024-05-02T00:30:00Z"

    story = _item(
        client,
        _play(
            client,
            alice,
            {
                "kind": "story",
                "outlet": "NHK",
                "programme": "News 7",
                "title": "台風",
                "url": "https://nhk.jp/1",
            },
        ),
    )
    assert story["parent"]["kind"] == "programme"
    assert story["external_ids"] == {"url": ["https://nhk.jp/1"]}

    film = _item(
        client,
        _play(
            client,
            alice,
            {
                "kind": "film",
                "title": "Amélie",
                "year": 2001,
                "director": "Jean-Pierre Jeunet",
                "ids": {"imdb": "tt0211915", "tmdb": "194"},
            },
        ),
    )
    assert film["external_ids"] == {"imdb": ["tt0211915"], "tmdb": ["194"]}
    assert [(c["title"], c["role"]) for c in film["credits"]] == [
        ("Jean-Pierre Jeunet", "director")
    ]


def test_external_ids_win_over_spelling(client: TestClient, alice: Account) -> None:
    mbid = "9825c7a4-ed31-4a3b-a6c9-fd5b8a3a8d13"
    first = _play(
        client, alice, track("Song (Remastered)", "Band", ids={"musicbrainz": mbid.upper()})
    )
    second = _play(client, alice, track("Song", "The Band", ids={"musicbrainz": mbid}), T0 + 300)
    assert first == second
    found = client.get(f"/api/v1/items/by-external-id/musicbrainz/{mbid}")
    assert found.json()["id"] == first
    isrc = client.get("/api/v1/items/by-external-id/isrc/not-an-isrc")
    assert isrc.status_code == 422


def test_invalid_external_ids_are_reported(client: TestClient, alice: Account) -> None:
    response = client.post(
        "/api/v1/plays",
        json=play(T0, track("a", "b", ids={"musicbrainz": "not-a-uuid"})),
        headers=alice.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "item.track.ids"


def test_lookup_does_not_create(client: TestClient, alice: Account) -> None:
    missing = client.post("/api/v1/items/lookup", json=track("Unknown", "Nobody"))
    assert missing.status_code == 404
    assert client.get("/api/v1/items", params={"q": "nobody"}).json()["items"] == []
    item_id = _play(client, alice, track("Known", "Somebody"))
    found = client.post("/api/v1/items/lookup", json=track("KNOWN", "somebody"))
    assert found.json()["id"] == item_id


def test_search(client: TestClient, alice: Account) -> None:
    for i, (title, artist) in enumerate(
        [
            ("Jóga", "Björk"),
            ("Hyperballad", "Björk"),
            ("Bachelorette", "Björk"),
            ("Army", "Ben Folds"),
        ]
    ):
        _play(client, alice, track(title, artist), T0 + i * 300)
    found = client.get("/api/v1/items", params={"q": "bjork"}).json()["items"]
    assert found[0]["title"] == "Björk"
    assert found[0]["kind"] == "artist"
    tracks = client.get("/api/v1/items", params={"q": "joga", "kind": "track"}).json()["items"]
    assert [t["title"] for t in tracks] == ["Jóga"]
    inner = client.get("/api/v1/items", params={"q": "ballad"}).json()["items"]
    assert [t["title"] for t in inner] == ["Hyperballad"]
    assert client.get("/api/v1/items", params={"q": "50%_"}).json()["items"] == []


def test_aliases_need_an_operator(client: TestClient, alice: Account, admin: Account) -> None:
    artist = _item(client, _play(client, alice, track("Song", "Prince")))["credits"][0]["id"]
    body = {"title": "The Artist Formerly Known as Prince"}
    refused = client.post(f"/api/v1/items/{artist}/aliases", json=body, headers=alice.headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    added = client.post(f"/api/v1/items/{artist}/aliases", json=body, headers=admin.headers)
    assert added.status_code == 200
    assert added.json()["aliases"] == ["The Artist Formerly Known as Prince"]
    later = _play(client, alice, track("Song", "the artist formerly known as prince"), T0 + 300)
    assert _item(client, later)["credits"][0]["id"] == artist


def test_merge_moves_plays_and_redirects(
    client: TestClient, alice: Account, register: Any, admin: Account
) -> None:
    bob = register("bob")
    wrong = _play(client, alice, track("Yesterday", "The Beatels"))
    right = _play(client, alice, track("Yesterday", "The Beatles"), T0 + 300)
    _play(client, bob, track("Yesterday", "The Beatels"), T0)
    _play(client, bob, track("Yesterday", "The Beatles"), T0)  # same second: one real play
    client.put(f"/api/v1/items/{wrong}/love", headers=alice.headers)
    client.put(f"/api/v1/items/{right}/love", headers=alice.headers)
    wrong_artist = _item(client, wrong)["credits"][0]["id"]
    right_artist = _item(client, right)["credits"][0]["id"]

    merged = client.post(
        f"/api/v1/items/{wrong_artist}/merge", json={"into": right_artist}, headers=admin.headers
    )
    assert merged.status_code == 200, merged.text
    assert _item(client, wrong_artist)["id"] == right_artist  # the old id redirects
    # The tracks are still two items until they are merged too.
    merged = client.post(
        f"/api/v1/items/{wrong}/merge", json={"into": right}, headers=admin.headers
    )
    assert merged.status_code == 200
    history = client.get("/api/v1/users/alice/plays").json()["plays"]
    assert {p["item"]["id"] for p in history} == {right}
    assert len(history) == 2
    bob_history = client.get("/api/v1/users/bob/plays").json()["plays"]
    assert [p["item"]["id"] for p in bob_history] == [right]
    loved = client.get("/api/v1/users/alice/feedback").json()["feedback"]
    assert [f["item"]["id"] for f in loved] == [right]
    # Plays spelled the old way now land on the surviving item.
    assert _play(client, alice, track("Yesterday", "The Beatels"), T0 + 900) == right
    assert client.get(f"/api/v1/items/{wrong}").json()["id"] == right

    refused = client.post(
        f"/api/v1/items/{right}/merge", json={"into": right}, headers=admin.headers
    )
    assert refused.status_code == 409
    other_kind = client.post(
        f"/api/v1/items/{right}/merge", json={"into": right_artist}, headers=admin.headers
    )
    assert other_kind.status_code == 409
    assert other_kind.json()["code"] == "merge_refused"


def test_user_tags(client: TestClient, alice: Account, register: Any) -> None:
    bob = register("bob")
    item_id = _play(client, alice, track("So What", "Miles Davis"))
    client.post(
        f"/api/v1/items/{item_id}/tags", json={"tags": ["Jazz", "modal"]}, headers=alice.headers
    )
    tagged = client.post(
        f"/api/v1/items/{item_id}/tags", json={"tags": ["jazz  "]}, headers=bob.headers
    )
    assert tagged.status_code == 200
    assert tagged.json()["tags"] == ["jazz", "modal"]  # most used first, compared case-blind
    too_many = client.post(
        f"/api/v1/items/{item_id}/tags", json={"tags": ["t"] * 51}, headers=bob.headers
    )
    assert too_many.status_code == 422


def test_unknown_item(client: TestClient) -> None:
    response = client.get("/api/v1/items/424242")
    assert response.status_code == 404
    assert response.json()["code"] == "item_not_found"
