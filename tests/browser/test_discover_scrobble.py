"""The issue's flow in real Chromium: sign up, connect a scrobbler (pylast's desktop auth: the
user approves the token on the server's page, in the browser), scrobble through the Last.fm
API with pylast, and see the play on the profile."""

from __future__ import annotations

import time
import uuid

import pylast
from playwright.sync_api import expect

from tests.browser.conftest import WebSession
from tests.lastfm_helpers import KEY, network


def test_sign_up_connect_pylast_scrobble_and_see_it(web: WebSession) -> None:
    name = f"scrob{uuid.uuid4().hex[:6]}"
    artist, title = f"Band {name}", "First Light"
    page = web.page
    web.goto("/signup")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill("saudade123")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(f"{web.base_url}/user/{name}")

    # The scrobbler asks for a token and sends its user to the approval page.
    client = network(web.base_url, api_key=KEY, api_secret="a" * 32)
    keys = pylast.SessionKeyGenerator(client)
    url = keys.get_web_auth_url()
    assert url.startswith(f"{web.base_url}/api/auth/")
    page.goto(url)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password (or one of your personal tokens)").fill("saudade123")
    web.shot("approve")
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_text("may now use the account")).to_be_visible()
    client.session_key = keys.get_web_auth_session_key(url)

    client.scrobble(artist=artist, title=title, timestamp=int(time.time()) - 60)
    client.update_now_playing(artist=artist, title="Second Light", duration=240)

    web.goto(f"/user/{name}?period=7day")
    recent = page.get_by_role("region", name="Recent plays")
    expect(recent.get_by_role("link", name=title)).to_be_visible()
    expect(page.get_by_role("region", name="Now playing")).to_contain_text("Second Light")
    expect(page.get_by_role("region", name="Top items")).to_contain_text(artist)
    web.shot("profile-with-play")

    # The play links to its item page.
    recent.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.get_by_role("region", name="Top listeners")).to_contain_text(name)
    web.shot("item")
