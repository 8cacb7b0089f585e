"""Friends (requests, accept, decline, cancel, remove), follows, blocks and suggestions,
through the HTTP API on both backends."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, play, track
from tests.social_helpers import (
    ago,
    befriend,
    names,
    notifications,
    ok,
    problem,
    set_profile,
    shout,
    submit,
)


def _people(client: TestClient, url: str, account: Account | None = None) -> list[str]:
    return names(ok(client.get(url, headers=account.headers if account else {}))["people"])


def test_friend_requests_accept_decline_cancel_remove(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob, carol, dave = register("bob"), register("carol"), register("dave")
    asked = ok(
        client.post("/api/v1/me/friend-requests", json={"name": "Bob"}, headers=alice.headers),
        201,
    )
    assert (asked["status"], asked["user"]["name"]) == ("pending", "bob")
    # Asking twice changes nothing.
    again = client.post("/api/v1/me/friend-requests", json={"name": "bob"}, headers=alice.headers)
    assert ok(again, 201)["status"] == "pending"
    incoming = ok(client.get("/api/v1/me/friend-requests", headers=bob.headers))["requests"]
    assert [(r["user"]["name"], r["direction"]) for r in incoming] == [("alice", "incoming")]
    outgoing = ok(
        client.get(
            "/api/v1/me/friend-requests", params={"direction": "outgoing"}, headers=alice.headers
        )
    )["requests"]
    assert names(outgoing) == ["bob"]
    told = notifications(client, bob)
    assert [(n["kind"], n["actor"]["name"]) for n in told["notifications"]] == [
        ("friend_request", "alice")
    ]
    assert told["unread"] == 1

    accepted = ok(client.post("/api/v1/me/friend-requests/alice/accept", headers=bob.headers))
    assert accepted["status"] == "accepted"
    assert _people(client, "/api/v1/me/friends", alice) == ["bob"]
    assert _people(client, "/api/v1/me/friends", bob) == ["alice"]
    assert _people(client, "/api/v1/users/alice/friends") == ["bob"]
    assert [n["kind"] for n in notifications(client, alice)["notifications"]] == ["friend_accepted"]
    # The answered request is no longer waiting (nor notified).
    assert ok(client.get("/api/v1/me/friend-requests", headers=bob.headers))["requests"] == []
    assert notifications(client, bob)["unread"] == 0
    problem(
        client.post("/api/v1/me/friend-requests", json={"name": "bob"}, headers=alice.headers),
        409,
        "already_friends",
    )

    # Declined and cancelled requests leave nothing behind.
    ok(
        client.post("/api/v1/me/friend-requests", json={"name": "alice"}, headers=carol.headers),
        201,
    )
    ok(client.post("/api/v1/me/friend-requests/carol/decline", headers=alice.headers), 204)
    problem(
        client.post("/api/v1/me/friend-requests/carol/accept", headers=alice.headers),
        404,
        "friend_request_not_found",
    )
    ok(client.post("/api/v1/me/friend-requests", json={"name": "dave"}, headers=alice.headers), 201)
    ok(client.delete("/api/v1/me/friend-requests/dave", headers=alice.headers), 204)
    assert ok(client.get("/api/v1/me/friend-requests", headers=dave.headers))["requests"] == []
    assert notifications(client, dave)["notifications"] == []

    # Asking someone who asked you makes you friends at once.
    ok(client.post("/api/v1/me/friend-requests", json={"name": "dave"}, headers=carol.headers), 201)
    mutual = client.post("/api/v1/me/friend-requests", json={"name": "carol"}, headers=dave.headers)
    assert ok(mutual)["status"] == "accepted"

    ok(client.delete("/api/v1/me/friends/bob", headers=alice.headers), 204)
    assert _people(client, "/api/v1/me/friends", bob) == []
    problem(
        client.delete("/api/v1/me/friends/bob", headers=alice.headers),
        404,
        "friend_request_not_found",
    )
    problem(
        client.post("/api/v1/me/friend-requests", json={"name": "alice"}, headers=alice.headers),
        422,
        "invalid_social_action",
    )
    problem(
        client.post("/api/v1/me/friend-requests", json={"name": "nobody"}, headers=alice.headers),
        404,
        "user_not_found",
    )
    problem(client.get("/api/v1/me/friends"), 401, "not_authenticated")


def test_friend_lists_follow_each_friends_privacy(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob, carol = register("bob"), register("carol")
    befriend(client, alice, bob)
    befriend(client, alice, carol)
    set_profile(client, carol, visibility="friends")
    assert _people(client, "/api/v1/users/alice/friends") == ["bob"]  # anonymous
    assert _people(client, "/api/v1/users/alice/friends", bob) == ["bob"]
    assert _people(client, "/api/v1/users/alice/friends", carol) == ["bob", "carol"]
    assert _people(client, "/api/v1/users/alice/friends", alice) == ["bob", "carol"]


def test_follows_are_one_way(client: TestClient, register: Any, alice: Account) -> None:
    register("bob")
    carol = register("carol")
    ok(client.put("/api/v1/me/following/bob", headers=alice.headers), 204)
    ok(client.put("/api/v1/me/following/bob", headers=alice.headers), 204)  # idempotent
    assert _people(client, "/api/v1/users/alice/following") == ["bob"]
    assert _people(client, "/api/v1/users/bob/followers") == ["alice"]
    assert _people(client, "/api/v1/users/bob/following") == []
    state = ok(client.get("/api/v1/me/relationships/bob", headers=alice.headers))
    assert (state["following"], state["followed_by"], state["friends"]) == (True, False, False)
    ok(client.delete("/api/v1/me/following/bob", headers=alice.headers), 204)
    assert _people(client, "/api/v1/users/bob/followers") == []
    # A profile you cannot see cannot be followed; yourself neither.
    set_profile(client, carol, visibility="private")
    problem(client.put("/api/v1/me/following/carol", headers=alice.headers), 404, "user_not_found")
    problem(
        client.put("/api/v1/me/following/alice", headers=alice.headers),
        422,
        "invalid_social_action",
    )


def test_a_block_hides_both_from_each_other_everywhere(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob, carol = register("bob"), register("carol")
    befriend(client, alice, bob)
    ok(client.put("/api/v1/me/following/alice", headers=bob.headers), 204)
    submit(client, alice, [play(ago(hours=2), track("Halo", "Beyoncé"))])
    wall = shout(client, carol, "/api/v1/users/alice/shouts", "hello alice")
    bob_says = shout(client, bob, "/api/v1/users/alice/shouts", "hi from bob")
    item_id = submit(client, carol, [play(ago(hours=1), track("Formation", "Beyoncé"))])[0]
    shout(client, bob, f"/api/v1/items/{item_id}/shouts", "bob on an item")
    ok(client.post("/api/v1/me/friend-requests", json={"name": "carol"}, headers=bob.headers), 201)

    ok(client.put("/api/v1/me/blocks/bob", headers=alice.headers), 204)
    assert _people(client, "/api/v1/me/blocks", alice) == ["bob"]
    # Profile, plays, charts, wall and activity are missing for the blocked ...
    for url in (
        "/api/v1/users/alice",
        "/api/v1/users/alice/plays",
        "/api/v1/users/alice/charts/artist",
        "/api/v1/users/alice/shouts",
        "/api/v1/users/alice/activity",
    ):
        problem(client.get(url, headers=bob.headers), 404, "user_not_found")
    # ... and for the blocker, both ways.
    problem(client.get("/api/v1/users/bob", headers=alice.headers), 404, "user_not_found")
    problem(
        client.post("/api/v1/me/friend-requests", json={"name": "alice"}, headers=bob.headers),
        404,
        "user_not_found",
    )
    problem(
        client.post("/api/v1/users/alice/shouts", json={"body": "let me in"}, headers=bob.headers),
        404,
        "user_not_found",
    )
    # Friendship and follows ended; lists and shouts leave the other out.
    assert _people(client, "/api/v1/me/friends", alice) == []
    assert _people(client, "/api/v1/users/alice/followers") == []
    seen = ok(client.get("/api/v1/users/alice/shouts", headers=alice.headers))["shouts"]
    assert [s["id"] for s in seen] == [wall["id"]]
    assert bob_says["id"] not in [s["id"] for s in seen]
    room = ok(client.get(f"/api/v1/items/{item_id}/shouts", headers=alice.headers))["shouts"]
    assert room == []
    problem(
        client.get(f"/api/v1/shouts/{bob_says['id']}", headers=alice.headers),
        404,
        "shout_not_found",
    )
    assert ok(client.get(f"/api/v1/items/{item_id}/shouts"))["shouts"] != []  # others still see
    feed = ok(client.get("/api/v1/me/feed", headers=bob.headers))["events"]
    assert {e["user"]["name"] for e in feed} <= {"bob"}
    # Unblocking shows the profile again, but friendship does not come back.
    ok(client.delete("/api/v1/me/blocks/bob", headers=alice.headers), 204)
    ok(client.get("/api/v1/users/alice", headers=bob.headers))
    assert _people(client, "/api/v1/me/friends", alice) == []
    # Nobody else is affected: carol still sees both.
    ok(client.get("/api/v1/users/bob", headers=carol.headers))


def test_suggestions_from_mutual_friends_and_shared_taste(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob, carol, dave = register("bob"), register("carol"), register("dave")
    eve, frank = register("eve"), register("frank")
    befriend(client, alice, bob)
    befriend(client, bob, carol)
    taste = [play(ago(days=d), track(f"Song {d}", "Caetano Veloso")) for d in (1, 2, 3)]
    submit(client, alice, taste)
    submit(client, dave, taste[:2])
    submit(client, eve, taste)  # private: never suggested
    set_profile(client, eve, visibility="private")
    submit(client, frank, taste)
    ok(client.put("/api/v1/me/blocks/frank", headers=alice.headers), 204)
    found = ok(client.get("/api/v1/me/suggestions", headers=alice.headers))["suggestions"]
    by_name = {s["user"]["name"]: s for s in found}
    assert set(by_name) == {"carol", "dave"}
    assert (by_name["carol"]["mutual_friends"], by_name["carol"]["mutual_names"]) == (1, ["bob"])
    assert [i["title"] for i in by_name["dave"]["shared_items"]] == ["Song 1", "Song 2"]
    assert by_name["dave"]["mutual_friends"] == 0
    # Asking someone takes them out of the suggestions.
    ok(
        client.post("/api/v1/me/friend-requests", json={"name": "carol"}, headers=alice.headers),
        201,
    )
    found = ok(client.get("/api/v1/me/suggestions", headers=alice.headers))["suggestions"]
    assert names(found) == ["dave"]
