"""A live room in real Chromium: a shout posted by someone else (through the API, as a player
or another browser would) appears without reloading the page, and the viewer's own message is
sent and shown without leaving it."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
from playwright.sync_api import expect

from tests.browser.conftest import WebSession


def test_live_room_shows_a_shout_by_another_user_without_reloading(web: WebSession) -> None:
    suffix = uuid.uuid4().hex[:6]
    bob = httpx.post(
        f"{web.base_url}/api/v1/auth/register",
        json={"name": f"bob{suffix}", "password": "saudade123", "country": "DE"},
    ).json()
    headers = {"Authorization": f"Bearer {bob['token']}"}
    match = {
        "kind": "match",
        "competition": f"Liga {suffix}",
        "home": "FC Bayern",
        "away": "BVB",
        "starts_at": (datetime.now(UTC) - timedelta(minutes=15)).isoformat(),
    }
    item_id = httpx.put(
        f"{web.base_url}/api/v1/now-playing", json={"item": match}, headers=headers
    ).json()["item"]["id"]

    page = web.page
    name = f"ana{suffix}"
    web.goto("/signup")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill("saudade123")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(f"{web.base_url}/user/{name}")

    web.goto("/live", shot="live-list")
    page.get_by_role("link", name=re.compile(f"FC Bayern – BVB.*Liga {suffix}")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("FC Bayern – BVB")
    expect(page.get_by_text("1 person watching now")).to_be_visible()
    expect(page.get_by_text("Refresh to see new messages")).to_be_hidden()  # the script runs
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.get_by_label("Say something").fill("typing, not sent yet")

    posted = httpx.post(
        f"{web.base_url}/api/v1/items/{item_id}/shouts",
        json={"body": "GOOOL <b>Musiala</b>!"},
        headers=headers,
    )
    assert posted.status_code == 201, posted.text
    message = page.locator("#room-messages").get_by_text("GOOOL <b>Musiala</b>!")
    expect(message).to_be_visible(timeout=20_000)
    assert navigations == []  # no reload
    expect(page.get_by_label("Say something")).to_have_value("typing, not sent yet")
    web.shot("room-with-bobs-shout")

    page.get_by_label("Say something").fill("Was für ein Tor!")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#room-messages").get_by_text("Was für ein Tor!")).to_be_visible(
        timeout=20_000
    )
    expect(page.get_by_label("Say something")).to_have_value("")
    assert navigations == []
    web.shot("room-after-sending")
