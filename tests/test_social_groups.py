"""Groups through the HTTP API on both backends: each privacy mode, roles, invitations and
requests, topics, charts equal to a recount, recommendations and events."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, play, track
from tests.social_helpers import (
    NOW,
    ago,
    episode,
    names,
    notifications,
    ok,
    problem,
    set_profile,
    shout,
    submit,
)


def _group(client: TestClient, owner: Account, name: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(
        client.post("/api/v1/groups", json={"name": name, **fields}, headers=owner.headers), 201
    )
    return body


def _members(
    client: TestClient, slug: str, account: Account | None = None
) -> list[tuple[str, str]]:
    body = ok(
        client.get(f"/api/v1/groups/{slug}/members", headers=account.headers if account else {})
    )
    return [(m["user"]["name"], m["role"]) for m in body["members"]]


def _join(client: TestClient, slug: str, account: Account) -> str:
    status: str = ok(client.post(f"/api/v1/groups/{slug}/join", headers=account.headers))["status"]
    return status


def test_public_group_roles_and_membership(
    client: TestClient, register: Any, alice: Account, admin: Account
) -> None:
    bob, carol, dave = register("bob"), register("carol"), register("dave")
    show_id = submit(client, alice, [play(ago(days=1), episode("Borgen", 1))])[0]
    show = ok(client.get(f"/api/v1/items/{show_id}"))["parent"]
    group = _group(client, alice, "Borgen Fans", description="Politics!", item_id=show_id)
    assert group["slug"] == "borgen-fans"
    assert (group["members"], group["membership"]["role"]) == (1, "owner")
    assert show is not None
    problem(
        client.post("/api/v1/groups", json={"name": "borgen fans"}, headers=bob.headers),
        409,
        "group_name_taken",
    )

    assert _join(client, "borgen-fans", bob) == "member"
    assert _join(client, "borgen-fans", carol) == "member"
    problem(
        client.post("/api/v1/groups/borgen-fans/join", headers=bob.headers), 409, "already_member"
    )
    assert _members(client, "borgen-fans") == [
        ("alice", "owner"),
        ("bob", "member"),
        ("carol", "member"),
    ]
    listed = ok(client.get("/api/v1/groups", params={"q": "borgen"}))["groups"]
    assert [(g["slug"], g["members"]) for g in listed] == [("borgen-fans", 3)]
    assert [
        g["slug"] for g in ok(client.get("/api/v1/groups", params={"item_id": show_id}))["groups"]
    ] == ["borgen-fans"]
    assert [g["slug"] for g in ok(client.get("/api/v1/users/bob/groups"))["groups"]] == [
        "borgen-fans"
    ]

    # Only owners change roles; moderators remove members but not other moderators.
    problem(
        client.put(
            "/api/v1/groups/borgen-fans/members/carol/role",
            json={"role": "moderator"},
            headers=bob.headers,
        ),
        403,
        "permission_denied",
    )
    ok(
        client.put(
            "/api/v1/groups/borgen-fans/members/bob/role",
            json={"role": "moderator"},
            headers=alice.headers,
        )
    )
    ok(client.delete("/api/v1/groups/borgen-fans/members/carol", headers=bob.headers), 204)
    problem(
        client.delete("/api/v1/groups/borgen-fans/members/alice", headers=bob.headers),
        403,
        "permission_denied",
    )
    ok(
        client.patch(
            "/api/v1/groups/borgen-fans",
            json={"description": "Danish politics"},
            headers=bob.headers,
        )
    )
    problem(
        client.patch(
            "/api/v1/groups/borgen-fans", json={"privacy": "private"}, headers=bob.headers
        ),
        403,
        "permission_denied",
    )
    problem(
        client.patch("/api/v1/groups/borgen-fans", json={"description": "x"}, headers=dave.headers),
        403,
        "permission_denied",
    )
    assert _members(client, "borgen-fans") == [("alice", "owner"), ("bob", "moderator")]

    # The last owner stays until another owner is made.
    problem(
        client.post("/api/v1/groups/borgen-fans/leave", headers=alice.headers), 409, "last_owner"
    )
    ok(
        client.put(
            "/api/v1/groups/borgen-fans/members/bob/role",
            json={"role": "owner"},
            headers=alice.headers,
        )
    )
    ok(client.post("/api/v1/groups/borgen-fans/leave", headers=alice.headers), 204)
    assert _members(client, "borgen-fans") == [("bob", "owner")]
    problem(
        client.delete("/api/v1/groups/borgen-fans", headers=dave.headers), 403, "permission_denied"
    )
    ok(client.delete("/api/v1/groups/borgen-fans", headers=admin.headers), 204)
    problem(client.get("/api/v1/groups/borgen-fans"), 404, "group_not_found")


def test_private_group_is_listed_but_its_inside_is_for_members(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob, carol = register("bob"), register("carol")
    _group(client, alice, "Night Owls", privacy="private")
    shout(client, alice, "/api/v1/groups/night-owls/shouts", "members only talk")
    # Everyone sees the group; its members, talk and charts are for members.
    assert ok(client.get("/api/v1/groups/night-owls"))["members"] == 1
    assert [g["slug"] for g in ok(client.get("/api/v1/groups"))["groups"]] == ["night-owls"]
    for url in ("members", "shouts", "charts/artist", "topics", "events"):
        problem(
            client.get(f"/api/v1/groups/night-owls/{url}", headers=bob.headers), 404, "members_only"
        )
    problem(
        client.post("/api/v1/groups/night-owls/shouts", json={"body": "hi"}, headers=bob.headers),
        404,
        "members_only",
    )
    # Joining is a request the owner approves.
    assert _join(client, "night-owls", bob) == "requested"
    assert _join(client, "night-owls", carol) == "requested"
    told = notifications(client, alice)["notifications"]
    assert sorted((n["kind"], n["actor"]["name"], n["group"]["slug"]) for n in told) == [
        ("group_request", "bob", "night-owls"),
        ("group_request", "carol", "night-owls"),
    ]
    problem(
        client.get("/api/v1/groups/night-owls/requests", headers=bob.headers),
        403,
        "permission_denied",
    )
    waiting = ok(client.get("/api/v1/groups/night-owls/requests", headers=alice.headers))["members"]
    assert names(waiting) == ["bob", "carol"]
    ok(client.post("/api/v1/groups/night-owls/requests/bob/approve", headers=alice.headers))
    ok(client.post("/api/v1/groups/night-owls/requests/carol/reject", headers=alice.headers), 204)
    assert _members(client, "night-owls", bob) == [("alice", "owner"), ("bob", "member")]
    assert [
        s["body"]
        for s in ok(client.get("/api/v1/groups/night-owls/shouts", headers=bob.headers))["shouts"]
    ] == ["members only talk"]
    problem(
        client.get("/api/v1/groups/night-owls/members", headers=carol.headers), 404, "members_only"
    )
    # Only owners and moderators invite into a private group.
    problem(
        client.post(
            "/api/v1/groups/night-owls/invitations", json={"name": "carol"}, headers=bob.headers
        ),
        403,
        "permission_denied",
    )


def test_invite_only_group_exists_only_for_members_and_invitees(
    client: TestClient, register: Any, alice: Account, admin: Account
) -> None:
    bob, carol = register("bob"), register("carol")
    _group(client, alice, "Secret Society", privacy="invite_only")
    for who in (None, bob):
        headers = who.headers if who else {}
        problem(
            client.get("/api/v1/groups/secret-society", headers=headers), 404, "group_not_found"
        )
        assert ok(client.get("/api/v1/groups", headers=headers))["groups"] == []
    problem(
        client.post("/api/v1/groups/secret-society/join", headers=bob.headers),
        404,
        "group_not_found",
    )
    ok(client.get("/api/v1/groups/secret-society", headers=admin.headers))

    invited = ok(
        client.post(
            "/api/v1/groups/secret-society/invitations", json={"name": "bob"}, headers=alice.headers
        ),
        201,
    )
    assert invited["status"] == "invited"
    told = notifications(client, bob)["notifications"]
    assert [(n["kind"], n["group"]["slug"], n["text"]) for n in told] == [
        ("group_invitation", "secret-society", "alice invited you to Secret Society")
    ]
    mine = ok(client.get("/api/v1/me/groups", headers=bob.headers))["groups"]
    assert [(g["slug"], g["membership"]["status"]) for g in mine] == [("secret-society", "invited")]
    # An invitee sees the group, but not inside it until they accept.
    ok(client.get("/api/v1/groups/secret-society", headers=bob.headers))
    problem(
        client.get("/api/v1/groups/secret-society/members", headers=bob.headers),
        404,
        "members_only",
    )
    ok(client.post("/api/v1/groups/secret-society/invitation/accept", headers=bob.headers))
    assert _members(client, "secret-society", bob) == [("alice", "owner"), ("bob", "member")]
    # Nobody else learns of it, not even from bob's profile.
    assert ok(client.get("/api/v1/users/bob/groups", headers=carol.headers))["groups"] == []
    assert [
        g["slug"]
        for g in ok(client.get("/api/v1/users/bob/groups", headers=alice.headers))["groups"]
    ] == ["secret-society"]
    # Declining an invitation withdraws it.
    ok(
        client.post(
            "/api/v1/groups/secret-society/invitations",
            json={"name": "carol"},
            headers=alice.headers,
        ),
        201,
    )
    ok(client.post("/api/v1/groups/secret-society/invitation/decline", headers=carol.headers), 204)
    problem(
        client.get("/api/v1/groups/secret-society", headers=carol.headers), 404, "group_not_found"
    )


def test_group_charts_equal_a_recount_of_the_members_plays(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob, carol, dave = register("bob"), register("carol"), register("dave")
    _group(client, alice, "Listeners")
    for member in (bob, carol):
        _join(client, "listeners", member)
    artists = ["Björk", "Caetano Veloso", "Fela Kuti", "Nina Simone"]
    submitted: dict[str, list[dict[str, Any]]] = {}
    for n, account in enumerate((alice, bob, carol, dave)):
        plays = [
            play(ago(days=1.5 + i, minutes=n), track(f"Song {i % 3}", artists[(i * (n + 1)) % 4]))
            for i in range(9 + n)
        ]
        plays.append(play(ago(days=40 + n), track("Old one", "Björk")))
        submit(client, account, plays)
        submitted[account.name] = plays
    # Incognito plays, private members and non-members never count.
    submit(client, bob, [play(ago(hours=3), track("Secret", "Björk"), incognito=True)])
    set_profile(client, carol, visibility="private")

    def recount(days: int | None) -> Counter[str]:
        counted: Counter[str] = Counter()
        for name in ("alice", "bob"):
            for p in submitted[name]:
                if days is None or p["played_at"] >= ago(days=days):
                    counted[p["item"]["artist"]] += 1
        return counted

    for period, days in (("7day", 7), ("1month", 30), ("overall", None)):
        chart = ok(client.get("/api/v1/groups/listeners/charts/artist", params={"period": period}))
        got = {e["item"]["title"]: e["plays"] for e in chart["entries"]}
        assert got == dict(recount(days)), period
        assert chart["total"] == len(recount(days))
        ranks = [e["rank"] for e in chart["entries"]]
        assert ranks == list(range(1, len(ranks) + 1))
    tracks = ok(client.get("/api/v1/groups/listeners/charts/track", params={"period": "overall"}))
    assert "Secret" not in {e["item"]["title"] for e in tracks["entries"]}
    old = next(e for e in tracks["entries"] if e["item"]["title"] == "Old one")
    assert (old["plays"], old["listeners"]) == (2, 2)
    problem(
        client.get("/api/v1/groups/listeners/charts/artist", params={"period": "fortnight"}),
        422,
        "invalid_period",
    )


def test_topics_and_posts(client: TestClient, register: Any, alice: Account) -> None:
    bob, carol = register("bob"), register("carol")
    _group(client, alice, "Film Club")
    _join(client, "film-club", bob)
    problem(
        client.post(
            "/api/v1/groups/film-club/topics",
            json={"title": "Hi", "body": "x"},
            headers=carol.headers,
        ),
        403,
        "permission_denied",
    )
    first = ok(
        client.post(
            "/api/v1/groups/film-club/topics",
            json={"title": "Past Lives", "body": "What did you think?"},
            headers=bob.headers,
        ),
        201,
    )
    topic_id = first["topic"]["id"]
    assert (first["topic"]["posts"], first["group"]["slug"]) == (1, "film-club")
    opening = first["posts"]["shouts"][0]
    second = ok(
        client.post(
            "/api/v1/groups/film-club/topics",
            json={"title": "Aftersun", "body": "Tears."},
            headers=alice.headers,
        ),
        201,
    )
    reply = shout(
        client, alice, f"/api/v1/topics/{topic_id}/posts", "Loved it, @bob", parent_id=opening["id"]
    )
    assert reply["parent_id"] == opening["id"]
    # The topic with the latest post comes first.
    listed = ok(client.get("/api/v1/groups/film-club/topics"))["topics"]
    assert [(t["title"], t["posts"]) for t in listed] == [("Past Lives", 2), ("Aftersun", 1)]
    page = ok(client.get("/api/v1/groups/film-club/topics", params={"limit": 1}))
    assert [t["title"] for t in page["topics"]] == ["Past Lives"]
    assert [t["title"] for t in ok(client.get(page["next"]))["topics"]] == ["Aftersun"]
    detail = ok(client.get(f"/api/v1/topics/{topic_id}"))
    assert [(p["body"], [r["body"] for r in p["replies"]]) for p in detail["posts"]["shouts"]] == [
        ("What did you think?", ["Loved it, @bob"])
    ]
    kinds = sorted(n["kind"] for n in notifications(client, bob)["notifications"])
    assert kinds == ["reply"]  # a reply that mentions is told once
    problem(
        client.post(
            f"/api/v1/topics/{topic_id}/posts", json={"body": "me too"}, headers=carol.headers
        ),
        403,
        "permission_denied",
    )
    # A moderator (here the owner) removes a topic; its author too.
    problem(
        client.delete(f"/api/v1/topics/{second['topic']['id']}", headers=bob.headers),
        403,
        "permission_denied",
    )
    ok(client.delete(f"/api/v1/topics/{second['topic']['id']}", headers=alice.headers), 204)
    problem(client.get(f"/api/v1/topics/{second['topic']['id']}"), 404, "topic_not_found")


def test_group_recommendations_are_what_members_like_that_i_have_not_tried(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob, carol = register("bob"), register("carol")
    _group(client, alice, "Samba")
    _join(client, "samba", bob)
    _join(client, "samba", carol)
    ids = submit(
        client,
        bob,
        [
            play(ago(days=d), track(t, "Cartola"))
            for d, t in ((1, "Alvorada"), (2, "O Mundo"), (3, "Preciso"))
        ],
    )
    submit(client, carol, [play(ago(days=1), track("Alvorada", "Cartola"))])
    ok(client.put(f"/api/v1/items/{ids[2]}/love", headers=carol.headers))
    submit(client, alice, [play(ago(days=1), track("O Mundo", "Cartola"))])
    picks = ok(client.get("/api/v1/groups/samba/recommendations", headers=alice.headers))[
        "recommendations"
    ]
    assert [(p["item"]["title"], p["lovers"], p["listeners"]) for p in picks] == [
        ("Preciso", 1, 1),
        ("Alvorada", 0, 2),
    ]
    problem(client.get("/api/v1/groups/samba/recommendations"), 401, "not_authenticated")


def test_group_events_live_and_upcoming(client: TestClient, register: Any, alice: Account) -> None:
    bob = register("bob", country="BR")

    def match(home: str, away: str, starts: timedelta) -> dict[str, Any]:
        return {
            "kind": "match",
            "competition": "Brasileirão",
            "home": home,
            "away": away,
            "starts_at": (NOW + starts).isoformat(),
        }

    def create(account: Account, item: dict[str, Any]) -> int:
        found = ok(client.put("/api/v1/now-playing", json={"item": item}, headers=account.headers))
        item_id: int = found["item"]["id"]
        return item_id

    upcoming = create(alice, match("Flamengo", "Vasco", timedelta(days=2)))
    past = create(alice, match("Palmeiras", "Flamengo", -timedelta(days=3)))
    live = create(alice, match("Flamengo", "Santos", -timedelta(minutes=30)))
    create(bob, match("Flamengo", "Santos", -timedelta(minutes=30)))
    team = next(
        c["id"]
        for c in ok(client.get(f"/api/v1/items/{live}"))["credits"]
        if c["title"] == "Flamengo"
    )
    slug = _group(client, alice, "Mengão", item_id=team)["slug"]
    assert slug == "mengão"
    events = ok(client.get(f"/api/v1/groups/{slug}/events"))
    assert [(e["item"]["id"], e["live"], e["watching"]) for e in events["live"]] == [
        (live, True, 2)
    ]
    assert [e["item"]["id"] for e in events["upcoming"]] == [upcoming]
    assert past not in {e["item"]["id"] for e in events["live"] + events["upcoming"]}
