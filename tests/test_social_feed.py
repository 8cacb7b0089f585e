"""The activity feed, live rooms and notifications through the HTTP API on both backends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, play, track
from tests.social_helpers import (
    NOW,
    ago,
    befriend,
    episode,
    notifications,
    ok,
    problem,
    set_profile,
    shout,
    submit,
)


def _feed(client: TestClient, account: Account, **params: Any) -> Any:
    return ok(client.get("/api/v1/me/feed", params=params, headers=account.headers))


def _summaries(page: Any, who: str | None = None) -> list[str]:
    return [
        f"{e['user']['name']} {e['summary']}"
        for e in page["events"]
        if who is None or e["user"]["name"] == who
    ]


def test_feed_summarises_plays_and_shows_loves_joins_shouts(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob = register("bob", timezone="UTC")
    befriend(client, alice, bob)
    plays = [play(ago(hours=5, minutes=50 - m), episode("Borgen", m + 1)) for m in range(3)]
    plays += [
        play(ago(hours=4, minutes=60 - 4 * m), track(f"Song {m}", "Beyoncé")) for m in range(12)
    ]
    plays += [play(ago(hours=3), {"kind": "film", "title": "Amélie", "year": 2001})]
    plays += [play(ago(hours=2, minutes=m), track("Halo", "Beyoncé")) for m in (1, 2)]
    ids = submit(client, bob, plays)
    submit(
        client, bob, [play(ago(hours=1), track("Guilty pleasure", "Nickelback"), incognito=True)]
    )
    ok(client.put(f"/api/v1/items/{ids[-1]}/love", headers=bob.headers))
    ok(client.post("/api/v1/groups", json={"name": "Queen Bey"}, headers=alice.headers), 201)
    ok(client.post("/api/v1/groups/queen-bey/join", headers=bob.headers))
    shout(client, bob, "/api/v1/groups/queen-bey/shouts", "hello bees")

    page = _feed(client, alice)
    assert _summaries(page, "bob") == [
        "bob shouted in Queen Bey",
        "bob joined Queen Bey",
        "bob loved Halo",
        "bob listened to Halo by Beyoncé 2 times",
        "bob watched Amélie",
        "bob listened to 12 tracks by Beyoncé",
        "bob watched 3 episodes of Borgen",
    ]
    borgen = page["events"][-1]
    assert (borgen["count"], borgen["subject"]["title"], borgen["subject"]["kind"]) == (
        3,
        "Borgen",
        "show",
    )
    assert [i["title"] for i in borgen["items"]] == [
        "Borgen S01E03",
        "Borgen S01E02",
        "Borgen S01E01",
    ]
    assert page["events"][0]["shout"]["body"] == "hello bees"
    # The feed includes your own activity; incognito plays never appear, even to you.
    assert "alice" in {e["user"]["name"] for e in page["events"]}
    own = ok(client.get("/api/v1/users/bob/activity", headers=bob.headers))
    assert "Nickelback" not in str(own)


def test_feed_privacy_for_strangers_followers_friends_and_the_owner(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob, carol = register("bob"), register("carol")
    item_id = submit(client, bob, [play(ago(hours=2), track("Formation", "Beyoncé"))])[0]
    ok(client.put(f"/api/v1/items/{item_id}/love", headers=bob.headers))
    befriend(client, alice, bob)

    def seen(account: Account) -> list[str]:
        return _summaries(_feed(client, account), "bob")

    public = ["bob loved Formation", "bob listened to Formation by Beyoncé"]
    assert seen(alice) == public  # a friend
    assert seen(carol) == []  # a stranger follows nobody
    ok(client.put("/api/v1/me/following/bob", headers=carol.headers), 204)
    assert seen(carol) == public  # a follower
    assert _summaries(ok(client.get("/api/v1/users/bob/activity"))) == public  # anonymous
    # Someone's page shows their activity only, never the viewer's own.
    submit(client, carol, [play(ago(hours=1), track("Teardrop", "Massive Attack"))])
    mine = ok(client.get("/api/v1/users/bob/activity", headers=carol.headers))
    assert _summaries(mine) == public

    # Hidden recent activity: no plays for others; the owner still sees theirs.
    set_profile(client, bob, hide_recent_activity=True)
    assert seen(alice) == seen(carol) == ["bob loved Formation"]
    assert _summaries(ok(client.get("/api/v1/users/bob/activity", headers=bob.headers))) == public

    # Friends-only: followers who are not friends see nothing, nor do strangers.
    set_profile(client, bob, hide_recent_activity=False, visibility="friends")
    assert seen(alice) == public
    assert seen(carol) == []
    problem(client.get("/api/v1/users/bob/activity", headers=carol.headers), 404, "user_not_found")

    # Private: nobody else, not even friends.
    set_profile(client, bob, visibility="private")
    assert seen(alice) == seen(carol) == []
    assert seen(bob) == public

    # A block hides the blocked person's activity from the blocker and the other way round.
    set_profile(client, bob, visibility="public")
    ok(client.put("/api/v1/me/blocks/alice", headers=bob.headers), 204)
    assert seen(alice) == []
    submit(client, alice, [play(ago(hours=1), track("Halo", "Beyoncé"))])
    assert _summaries(_feed(client, bob), "alice") == []


def test_feed_pages_by_time_without_repeating_and_shows_milestones(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob = register("bob", timezone="UTC")
    befriend(client, alice, bob)
    # 104 plays, alternating between two artists every 4 plays: 26 runs, on one day (from
    # 01:00 UTC yesterday: relative to now, the plays' nine hours would cross a midnight when
    # the suite runs in the afternoon).
    since = (NOW - (NOW - timedelta(days=1)).replace(hour=1, minute=0, second=0)).total_seconds()
    plays = [
        play(ago(seconds=since - m * 300), track(f"Song {m}", "Björk" if (m // 4) % 2 else "Sade"))
        for m in range(104)
    ]
    submit(client, bob, plays)
    counted = 0
    runs: list[str] = []
    milestones: list[int] = []
    url: str | None = "/api/v1/me/feed?limit=5"
    pages = 0
    while url is not None:
        page = ok(client.get(url, headers=alice.headers))
        pages += 1
        for event in page["events"]:
            if event["kind"] == "played":
                counted += event["count"]
                runs.append(event["first_at"])
            elif event["kind"] == "milestone":
                milestones.append(event["milestone"])
        url = page["next"]
        assert pages < 30
    assert counted == 104
    assert len(runs) == len(set(runs)) == 26
    assert milestones == [100]
    assert pages >= 5


def test_feed_runs_cut_by_a_page_are_told_once(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob = register("bob", timezone="UTC")
    befriend(client, alice, bob)
    # One long run of one artist, then alice's own plays interleaved in time.
    submit(
        client, bob, [play(ago(hours=10, minutes=-m), track(f"B{m}", "Sade")) for m in range(30)]
    )
    submit(
        client,
        alice,
        [play(ago(hours=10, minutes=-m - 0.5), track(f"A{m}", f"Artist {m}")) for m in range(30)],
    )
    events = []
    url: str | None = "/api/v1/me/feed?limit=7"
    while url is not None:
        page = ok(client.get(url, headers=alice.headers))
        events += page["events"]
        url = page["next"]
    bob_runs = [e for e in events if e["user"]["name"] == "bob" and e["kind"] == "played"]
    assert [e["count"] for e in bob_runs] == [30]
    assert sum(e["count"] for e in events if e["user"]["name"] == "alice") == 30


def test_live_room_friends_watching_counts_and_polling(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob, carol = register("bob", country="DE"), register("carol", country="BR")
    dave = register("dave", country="BR")
    befriend(client, alice, bob)
    befriend(client, alice, dave)
    match = {
        "kind": "match",
        "competition": "Bundesliga",
        "home": "FC Bayern",
        "away": "BVB",
        "starts_at": (NOW - timedelta(minutes=20)).isoformat(),
    }
    item_id = ok(client.put("/api/v1/now-playing", json={"item": match}, headers=bob.headers))[
        "item"
    ]["id"]
    ok(client.put("/api/v1/now-playing", json={"item_id": item_id}, headers=carol.headers))
    ok(
        client.put(
            "/api/v1/now-playing",
            json={"item_id": item_id, "incognito": True},
            headers=dave.headers,
        )
    )

    room = ok(client.get(f"/api/v1/items/{item_id}/live", headers=alice.headers))
    assert room["event"]["live"] is True
    assert room["watching"] == 2  # incognito viewers are never counted
    assert {(c["country"], c["watching"]) for c in room["countries"]} == {("DE", 1), ("BR", 1)}
    assert [f["user"]["name"] for f in room["friends"]] == ["bob"]  # carol is no friend
    assert ok(client.get(f"/api/v1/items/{item_id}/live"))["friends"] is None
    # A friend who hides recent activity is not shown watching.
    set_profile(client, bob, hide_recent_activity=True)
    assert ok(client.get(f"/api/v1/items/{item_id}/live", headers=alice.headers))["friends"] == []

    latest = room["latest"]
    shout(client, bob, f"/api/v1/items/{item_id}/shouts", "GOAL!")
    first = ok(client.get(f"/api/v1/items/{item_id}/shouts", params={"since": latest}))
    assert [s["body"] for s in first["shouts"]] == ["GOAL!"]
    shout(
        client,
        carol,
        f"/api/v1/items/{item_id}/shouts",
        "offside",
        parent_id=first["shouts"][0]["id"],
    )
    shout(client, alice, f"/api/v1/items/{item_id}/shouts", "what a game")
    polled = ok(client.get(f"/api/v1/items/{item_id}/shouts", params={"since": first["latest"]}))
    assert [(s["body"], s["parent_id"] is not None) for s in polled["shouts"]] == [
        ("offside", True),
        ("what a game", False),
    ]
    again = ok(client.get(f"/api/v1/items/{item_id}/shouts", params={"since": polled["latest"]}))
    assert again["shouts"] == []
    room = ok(client.get(f"/api/v1/items/{item_id}/live", params={"limit": 2}))
    assert [s["body"] for s in room["shouts"]] == ["offside", "what a game"]
    assert room["latest"] == polled["latest"]


def test_notifications_read_and_unread(client: TestClient, register: Any, alice: Account) -> None:
    bob, carol = register("bob"), register("carol")
    ok(client.post("/api/v1/me/friend-requests", json={"name": "alice"}, headers=bob.headers), 201)
    shout(client, carol, "/api/v1/users/alice/shouts", "hi alice")
    shout(client, bob, "/api/v1/users/bob/shouts", "hey @alice, look")
    listed = notifications(client, alice)
    assert [(n["kind"], n["read"]) for n in listed["notifications"]] == [
        ("mention", False),
        ("wall_shout", False),
        ("friend_request", False),
    ]
    assert listed["unread"] == 3
    assert listed["notifications"][0]["excerpt"] == "hey @alice, look"
    assert listed["notifications"][1]["text"] == "carol shouted on your wall"
    newest = listed["notifications"][0]["id"]
    ok(client.post(f"/api/v1/me/notifications/{newest}/read", headers=alice.headers), 204)
    assert ok(client.get("/api/v1/me/notifications/unread", headers=alice.headers))["unread"] == 2
    unread = notifications(client, alice, unread="true")["notifications"]
    assert [n["kind"] for n in unread] == ["wall_shout", "friend_request"]
    page = notifications(client, alice, limit=1)
    assert len(page["notifications"]) == 1
    assert [
        n["kind"] for n in ok(client.get(page["next"], headers=alice.headers))["notifications"]
    ] == ["wall_shout"]
    left = ok(
        client.post("/api/v1/me/notifications/read", json={"all": True}, headers=alice.headers)
    )
    assert left["unread"] == 0
    problem(
        client.post(f"/api/v1/me/notifications/{newest}/read", headers=bob.headers),
        404,
        "notification_not_found",
    )
    assert notifications(client, bob)["notifications"] == []
