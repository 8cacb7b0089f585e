"""Who sees what, resource by resource: a stranger, a friend, a blocked user, the owner, a
moderator and an administrator each see exactly what they should; what one may not see
answers 404, as if it did not exist."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account, play, track
from tests.social_helpers import ago, befriend, ok, set_profile, shout, submit

PROFILE = ("", "/plays", "/shouts", "/activity", "/friends", "/charts/artist", "/groups")


@pytest.mark.parametrize("visibility", ["public", "friends", "private"])
def test_profile_resources_by_viewer(
    client: TestClient, register: Any, admin: Account, visibility: str
) -> None:
    owner, friend, stranger, blocked = (register(n) for n in ("bob", "alice", "carol", "dave"))
    befriend(client, owner, friend)
    submit(client, owner, [play(ago(hours=2), track("Halo", "Beyoncé"))])
    shout(client, friend, "/api/v1/users/bob/shouts", "hi bob")
    ok(client.put("/api/v1/me/blocks/dave", headers=owner.headers), 204)
    set_profile(client, owner, visibility=visibility)
    sees = {
        "owner": True,
        "admin": True,
        "friend": visibility != "private",
        "stranger": visibility == "public",
        "anonymous": visibility == "public",
        "blocked": False,
    }
    viewers: dict[str, Account | None] = {
        "owner": owner,
        "admin": admin,
        "friend": friend,
        "stranger": stranger,
        "anonymous": None,
        "blocked": blocked,
    }
    for who, account in viewers.items():
        headers = account.headers if account else {}
        for path in PROFILE:
            response = client.get(f"/api/v1/users/bob{path}", headers=headers)
            expected = 200 if sees[who] else 404
            assert response.status_code == expected, (who, path, response.text)
            if expected == 404:
                assert response.json()["code"] == "user_not_found"
    # The blocked person is missing for the owner too, and neither can reach the other.
    assert client.get("/api/v1/users/dave", headers=owner.headers).status_code == 404
    assert client.put("/api/v1/me/following/bob", headers=blocked.headers).status_code == 404


@pytest.mark.parametrize("privacy", ["public", "private", "invite_only"])
def test_group_resources_by_viewer(
    client: TestClient, register: Any, admin: Account, privacy: str
) -> None:
    owner, moderator, member, stranger = (register(n) for n in ("bob", "mo", "meg", "stan"))
    ok(
        client.post(
            "/api/v1/groups", json={"name": "The Club", "privacy": privacy}, headers=owner.headers
        ),
        201,
    )
    for person in (moderator, member):
        ok(
            client.post(
                "/api/v1/groups/the-club/invitations",
                json={"name": person.name},
                headers=owner.headers,
            ),
            201,
        )
        ok(client.post("/api/v1/groups/the-club/invitation/accept", headers=person.headers))
    ok(
        client.put(
            "/api/v1/groups/the-club/members/mo/role",
            json={"role": "moderator"},
            headers=owner.headers,
        )
    )
    said = shout(client, member, "/api/v1/groups/the-club/shouts", "hello club")
    inside = ("/members", "/shouts", "/topics", "/charts/artist", "/events")
    viewers: dict[str, Account | None] = {
        "owner": owner,
        "moderator": moderator,
        "member": member,
        "admin": admin,
        "stranger": stranger,
        "anonymous": None,
    }
    for who, account in viewers.items():
        headers = account.headers if account else {}
        outsider = who in ("stranger", "anonymous")
        group = client.get("/api/v1/groups/the-club", headers=headers)
        assert group.status_code == (404 if outsider and privacy == "invite_only" else 200), who
        for path in inside:
            response = client.get(f"/api/v1/groups/the-club{path}", headers=headers)
            expected = 404 if outsider and privacy != "public" else 200
            assert response.status_code == expected, (who, path, response.text)
        shown = client.get(f"/api/v1/shouts/{said['id']}", headers=headers)
        assert shown.status_code == (404 if outsider and privacy != "public" else 200), who
    # Deleting a member's shout: moderators, owners and administrators only.
    for account, status in ((stranger, 404 if privacy != "public" else 403), (moderator, 204)):
        response = client.delete(f"/api/v1/shouts/{said['id']}", headers=account.headers)
        assert response.status_code == status, response.text
