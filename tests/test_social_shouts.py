"""Shouts through the HTTP API on both backends: replies, reactions, mentions, deletion by
author, wall owner, group moderator and administrator, abuse reports and the moderation
queue, rate and link limits, and rendering that is safe against script injection."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.ratelimit import MemoryRateLimiter
from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track
from tests.social_helpers import (
    ago,
    notifications,
    ok,
    problem,
    set_profile,
    shout,
    submit,
)


def _wall(client: TestClient, name: str, account: Account | None = None, **params: Any) -> Any:
    headers = account.headers if account else {}
    return ok(client.get(f"/api/v1/users/{name}/shouts", params=params, headers=headers))


def test_shouts_with_replies_reactions_and_notifications(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob, carol = register("bob"), register("carol")
    first = shout(client, bob, "/api/v1/users/alice/shouts", "Great taste, @carol look!")
    assert (first["author"]["name"], first["target"]["kind"]) == ("bob", "user")
    assert first["mentions"] == ["carol"]
    reply = shout(client, alice, "/api/v1/users/alice/shouts", "Thanks!", parent_id=first["id"])
    # A reply to a reply joins the first shout's thread (one level of threading).
    nested = shout(client, carol, "/api/v1/users/alice/shouts", "Agreed", parent_id=reply["id"])
    assert nested["parent_id"] == first["id"]
    shout(client, carol, "/api/v1/users/alice/shouts", "Second shout")

    wall = _wall(client, "alice", alice)
    assert [s["body"] for s in wall["shouts"]] == ["Second shout", "Great taste, @carol look!"]
    thread = wall["shouts"][1]
    assert [r["body"] for r in thread["replies"]] == ["Thanks!", "Agreed"]
    assert thread["reply_count"] == 2

    # Who was told what: the wall's owner, the mentioned, the replied-to.
    assert [n["kind"] for n in notifications(client, alice)["notifications"]] == [
        "wall_shout",
        "reply",
        "wall_shout",
    ]
    assert sorted(n["kind"] for n in notifications(client, carol)["notifications"]) == ["mention"]
    assert sorted(n["kind"] for n in notifications(client, bob)["notifications"]) == [
        "reply",
        "reply",
    ]

    # Reactions: one per person per code.
    for account in (alice, alice, carol):
        ok(client.put(f"/api/v1/shouts/{first['id']}/reactions/love", headers=account.headers), 204)
    ok(client.put(f"/api/v1/shouts/{first['id']}/reactions/goal", headers=alice.headers), 204)
    problem(
        client.put(f"/api/v1/shouts/{first['id']}/reactions/poop", headers=alice.headers),
        422,
        "validation_failed",
    )
    seen = ok(client.get(f"/api/v1/shouts/{first['id']}", headers=alice.headers))
    assert (seen["reactions"], seen["mine"]) == ({"goal": 1, "love": 2}, ["goal", "love"])
    ok(client.delete(f"/api/v1/shouts/{first['id']}/reactions/love", headers=alice.headers), 204)
    assert ok(client.get(f"/api/v1/shouts/{first['id']}"))["reactions"] == {"goal": 1, "love": 1}

    # Paging by id, and polling for what is new.
    page = _wall(client, "alice", limit=1)
    assert [s["body"] for s in page["shouts"]] == ["Second shout"]
    assert [s["body"] for s in ok(client.get(page["next"]))["shouts"]] == [
        "Great taste, @carol look!"
    ]
    latest = page["latest"]
    assert _wall(client, "alice", since=latest)["shouts"] == []
    shout(client, bob, "/api/v1/users/alice/shouts", "New one")
    assert [s["body"] for s in _wall(client, "alice", since=latest)["shouts"]] == ["New one"]

    problem(
        client.post(
            "/api/v1/users/alice/shouts",
            json={"body": "x", "parent_id": 999_999},
            headers=bob.headers,
        ),
        422,
        "invalid_shout",
    )
    problem(
        client.post("/api/v1/users/alice/shouts", json={"body": "   "}, headers=bob.headers),
        422,
        "invalid_shout",
    )
    problem(
        client.post("/api/v1/users/alice/shouts", json={"body": "a" * 1001}, headers=bob.headers),
        422,
        "invalid_shout",
    )
    problem(
        client.post("/api/v1/users/alice/shouts", json={"body": "hi"}), 401, "not_authenticated"
    )


def test_walls_follow_profile_privacy(client: TestClient, register: Any, alice: Account) -> None:
    bob = register("bob")
    shout(client, bob, "/api/v1/users/alice/shouts", "hello")
    set_profile(client, alice, visibility="private")
    problem(client.get("/api/v1/users/alice/shouts", headers=bob.headers), 404, "user_not_found")
    problem(client.get("/api/v1/users/alice/shouts"), 404, "user_not_found")
    assert len(_wall(client, "alice", alice)["shouts"]) == 1
    # A mention does not tell someone who cannot read the wall.
    shout(client, alice, "/api/v1/users/alice/shouts", "note to self, not to @bob")
    assert notifications(client, bob)["notifications"] == []


def test_deletion_by_author_wall_owner_moderator_and_admin(
    client: TestClient, register: Any, alice: Account, admin: Account
) -> None:
    bob, carol, dave = register("bob"), register("carol"), register("dave")
    by_bob = shout(client, bob, "/api/v1/users/alice/shouts", "bob's")
    by_carol = shout(client, carol, "/api/v1/users/alice/shouts", "carol's")
    reply = shout(client, dave, "/api/v1/users/alice/shouts", "re", parent_id=by_carol["id"])
    problem(
        client.delete(f"/api/v1/shouts/{by_bob['id']}", headers=carol.headers),
        403,
        "permission_denied",
    )
    ok(client.delete(f"/api/v1/shouts/{by_bob['id']}", headers=bob.headers), 204)  # author
    ok(client.delete(f"/api/v1/shouts/{by_carol['id']}", headers=alice.headers), 204)  # owner
    assert _wall(client, "alice")["shouts"] == []
    for gone in (by_bob, by_carol, reply):  # a deleted shout takes its replies along
        problem(client.get(f"/api/v1/shouts/{gone['id']}"), 404, "shout_not_found")

    ok(client.post("/api/v1/groups", json={"name": "Radio Heads"}, headers=alice.headers), 201)
    for member in (bob, carol):
        ok(client.post("/api/v1/groups/radio-heads/join", headers=member.headers))
    ok(
        client.put(
            "/api/v1/groups/radio-heads/members/bob/role",
            json={"role": "moderator"},
            headers=alice.headers,
        )
    )
    in_group = shout(client, carol, "/api/v1/groups/radio-heads/shouts", "spam spam")
    problem(
        client.delete(f"/api/v1/shouts/{in_group['id']}", headers=dave.headers),
        403,
        "permission_denied",
    )
    ok(client.delete(f"/api/v1/shouts/{in_group['id']}", headers=bob.headers), 204)  # moderator
    item_id = submit(client, dave, [play(ago(hours=1), track("Karma Police", "Radiohead"))])[0]
    on_item = shout(client, dave, f"/api/v1/items/{item_id}/shouts", "a shout on an item")
    problem(
        client.delete(f"/api/v1/shouts/{on_item['id']}", headers=bob.headers),
        403,
        "permission_denied",
    )
    ok(client.delete(f"/api/v1/shouts/{on_item['id']}", headers=admin.headers), 204)  # admin
    assert ok(client.get(f"/api/v1/items/{item_id}/shouts"))["shouts"] == []


def test_reports_and_the_moderation_queue(
    client: TestClient, register: Any, alice: Account, admin: Account
) -> None:
    bob, carol = register("bob"), register("carol")
    ok(client.post("/api/v1/groups", json={"name": "Quiet Room"}, headers=alice.headers), 201)
    ok(client.post("/api/v1/groups/quiet-room/join", headers=carol.headers))
    rude = shout(client, carol, "/api/v1/groups/quiet-room/shouts", "you all suck")
    elsewhere = shout(client, carol, "/api/v1/users/bob/shouts", "buy cheap pills")

    report = client.post(
        f"/api/v1/shouts/{rude['id']}/reports",
        json={"reason": "abuse", "note": "insults"},
        headers=bob.headers,
    )
    assert ok(report, 201)["status"] == "open"
    again = client.post(
        f"/api/v1/shouts/{rude['id']}/reports", json={"reason": "abuse"}, headers=bob.headers
    )
    assert ok(again)["id"] == report.json()["id"]
    ok(
        client.post(
            f"/api/v1/shouts/{elsewhere['id']}/reports",
            json={"reason": "spam"},
            headers=bob.headers,
        ),
        201,
    )
    problem(
        client.post(
            f"/api/v1/shouts/{rude['id']}/reports", json={"reason": "spam"}, headers=carol.headers
        ),
        422,
        "invalid_social_action",
    )
    # Administrators see every report, group owners those on their group's shouts only.
    problem(client.get("/api/v1/moderation/reports", headers=bob.headers), 403, "permission_denied")
    queue = ok(client.get("/api/v1/moderation/reports", headers=admin.headers))["reports"]
    assert sorted(r["reason"] for r in queue) == ["abuse", "spam"]
    mine = ok(client.get("/api/v1/moderation/reports", headers=alice.headers))["reports"]
    assert [(r["shout_id"], r["reporter"]["name"], r["note"]) for r in mine] == [
        (rude["id"], "bob", "insults")
    ]
    spam = next(r for r in queue if r["reason"] == "spam")
    problem(
        client.post(
            f"/api/v1/moderation/reports/{spam['id']}",
            json={"action": "remove"},
            headers=alice.headers,
        ),
        404,
        "report_not_found",
    )
    removed = ok(
        client.post(
            f"/api/v1/moderation/reports/{mine[0]['id']}",
            json={"action": "remove"},
            headers=alice.headers,
        )
    )
    assert (removed["status"], removed["shout_deleted"]) == ("removed", True)
    problem(client.get(f"/api/v1/shouts/{rude['id']}"), 404, "shout_not_found")
    dismissed = ok(
        client.post(
            f"/api/v1/moderation/reports/{spam['id']}",
            json={"action": "dismiss"},
            headers=admin.headers,
        )
    )
    assert (dismissed["status"], dismissed["shout_deleted"]) == ("dismissed", False)
    assert ok(client.get("/api/v1/moderation/reports", headers=admin.headers))["reports"] == []
    closed = ok(
        client.get(
            "/api/v1/moderation/reports", params={"status": "removed"}, headers=admin.headers
        )
    )["reports"]
    assert [r["id"] for r in closed] == [removed["id"]]


def test_link_and_rate_limits(
    client: TestClient, runtime: Runtime, register: Any, alice: Account
) -> None:
    bob = register("bob")
    body = problem(
        client.post(
            "/api/v1/users/alice/shouts",
            json={"body": "https://a.example http://b.example www.c.example"},
            headers=bob.headers,
        ),
        422,
        "too_many_links",
    )
    assert (body["links"], body["max_links"]) == (3, 2)
    shout(client, bob, "/api/v1/users/alice/shouts", "two: https://a.example and www.b.example")

    runtime.shout_limiter = MemoryRateLimiter(3, 3600)
    for n in range(3):
        shout(client, bob, "/api/v1/users/alice/shouts", f"shout {n}")
    limited = client.post(
        "/api/v1/users/alice/shouts", json={"body": "one more"}, headers=bob.headers
    )
    body = problem(limited, 429, "shout_rate_limited")
    assert int(limited.headers["retry-after"]) == body["retry_after"] > 0
    # Limits are per person.
    shout(client, alice, "/api/v1/users/alice/shouts", "still fine")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "<script>alert('x')</script>",
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
        ),
        (
            '<a href="javascript:alert(1)">click</a> javascript:alert(2)',
            "&lt;a href=&#34;javascript:alert(1)&#34;&gt;click&lt;/a&gt; javascript:alert(2)",
        ),
        (
            'see https://example.org/a?b=1&c=2" onmouseover="alert(1)',
            'see <a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">'
            "https://example.org/a?b=1&amp;c=2</a>&#34; onmouseover=&#34;alert(1)",
        ),
        (
            "two lines\n(https://en.wikipedia.org/wiki/Borgen_(TV_series)).",
            'two lines<br>\n(<a href="https://en.wikipedia.org/wiki/Borgen_(TV_series)" '
            'rel="nofollow ugc noopener">https://en.wikipedia.org/wiki/Borgen_(TV_series)</a>).',
        ),
    ],
)
def test_rendering_is_safe_against_script_injection(
    client: TestClient, alice: Account, text: str, expected: str
) -> None:
    posted = shout(client, alice, "/api/v1/users/alice/shouts", text)
    assert posted["body"] == text  # stored and returned as written, as plain text
    assert posted["html"] == expected
    shown = _wall(client, "alice")["shouts"][0]
    assert (shown["body"], shown["html"]) == (text, expected)
    assert "<script" not in shown["html"]
    assert 'href="javascript' not in shown["html"]
