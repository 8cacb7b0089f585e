"""Charts, an item page, search and recommendations with feedback, in real Chromium."""

from __future__ import annotations

import time
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import WebSession


def _listener(web: WebSession, name: str, plays: list[dict[str, Any]], **fields: Any) -> str:
    """A user registered through the API who played ``plays`` (what other people do)."""
    api = web.page.request
    created = api.post(
        f"{web.base_url}/api/v1/auth/register",
        data={"name": name, "password": "correct horse", **fields},
    )
    assert created.status == 201, created.text()
    token: str = created.json()["token"]
    sent = api.post(
        f"{web.base_url}/api/v1/plays/batch",
        data={"plays": plays},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert sent.status == 200, sent.text()
    return token


def _track(title: str, artist: str, minutes_ago: int) -> dict[str, Any]:
    return {
        "played_at": int(time.time()) - 60 * minutes_ago,
        "item": {"kind": "track", "title": title, "artist": artist},
    }


def test_charts_item_page_and_search(web: WebSession) -> None:
    tag = uuid.uuid4().hex[:6]
    artist = f"Chartist {tag}"
    token = _listener(
        web,
        f"charter{tag}",
        [_track(f"Hit {n}", artist, 10 + n) for n in range(3)],
        country="FR",
    )
    page = web.page
    web.goto("/charts?country=FR", shot="charts")
    chart = page.get_by_role("region", name=f"Artists in {'France'}")
    expect(chart).to_contain_text(artist)
    expect(chart.locator("svg[role=img]")).to_be_visible()

    # The switchers reload only the chart (script) and keep a real address.
    page.get_by_role("navigation", name="Kind of item").get_by_role("link", name="Tracks").click()
    expect(page).to_have_url(f"{web.base_url}/charts?level=track&period=7day&country=FR")
    expect(
        page.get_by_role("navigation", name="Kind of item").get_by_role("link", name="Tracks")
    ).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("table")).to_contain_text("Hit 0")
    page.go_back()
    expect(page).to_have_url(f"{web.base_url}/charts?country=FR")
    expect(page.get_by_role("table")).to_contain_text(artist)

    # The artist's page: its tracks, listeners and a shout.
    page.get_by_role("table").get_by_role("link", name=artist).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(artist)
    expect(page.get_by_role("region", name="Tracks")).to_contain_text("Hit 2")
    expect(page.get_by_role("region", name="Top listeners")).to_contain_text(f"charter{tag}")
    web.shot("item")

    # Search finds the artist and the person; a phone-sized screen still shows it all.
    page.set_viewport_size({"width": 390, "height": 844})
    web.goto("/search")
    page.get_by_label("Titles and people").fill(tag)
    page.get_by_label("Titles and people").press("Enter")
    expect(page.get_by_role("region", name="In the catalogue")).to_contain_text(artist)
    expect(page.get_by_role("region", name="People")).to_contain_text(f"charter{tag}")
    web.shot("search-phone")
    assert token


def test_recommendation_feedback_changes_the_list(web: WebSession) -> None:
    tag = uuid.uuid4().hex[:6]
    # Other people make some tracks popular (no model is trained: the list is the popular
    # items the viewer has not played).
    for n in range(3):
        _listener(
            web,
            f"fan{n}{tag}",
            [_track(f"Tune {tag} {k}", f"Popular {tag}", 5 + k) for k in range(4)],
        )
    page = web.page
    web.goto("/signup")
    page.get_by_label("User name").fill(f"picky{tag}")
    page.get_by_label("Password").fill("saudade123")
    page.get_by_role("button", name="Sign up").click()
    web.goto("/recommendations?kind=track", shot="recommendations")
    listed = page.get_by_role("region", name="Your list").get_by_role("listitem")
    first = listed.first.locator("a.item-title")
    gone = first.inner_text()
    expect(first).to_be_visible()
    with page.expect_navigation():
        listed.first.get_by_role("button", name="Not interested").click()
    expect(page).to_have_url(f"{web.base_url}/recommendations?kind=track")
    expect(
        page.get_by_role("region", name="Your list").locator("a.item-title").first
    ).to_be_visible()
    titles = page.get_by_role("region", name="Your list").locator("a.item-title").all_inner_texts()
    assert gone not in titles
    web.shot("after-feedback")
