"""Settings in real Chromium: a token created and shown once with the setup instructions for
players; privacy changed and a stranger (another browser) getting a 404; an import with its
progress bar and report."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx2 as httpx
from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.browser.conftest import SCREENSHOTS, WebSession


def _sign_up(web: WebSession, name: str) -> None:
    page = web.page
    web.goto("/signup")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill("saudade123")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(f"{web.base_url}/user/{name}")


def test_create_a_token_and_see_the_setup_instructions(web: WebSession) -> None:
    name = f"tok{uuid.uuid4().hex[:6]}"
    page = web.page
    _sign_up(web, name)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Tokens and scrobblers").click()
    expect(page.get_by_role("heading", name="Connected scrobblers")).to_be_visible()
    page.get_by_label("Name of the new token").fill("mpdscribble at home")
    page.get_by_role("button", name="Create a token").click()

    secret = page.locator("#new-token").inner_text()
    assert len(secret) > 20
    expect(page.get_by_role("status")).to_contain_text("shown only this once")
    expect(page.get_by_role("cell", name="mpdscribble at home", exact=True)).to_be_visible()
    expect(page.get_by_role("cell").get_by_text(f"{web.base_url}/2.0/")).to_be_visible()
    page.get_by_text("mpdscribble", exact=True).click()  # opens its instructions
    expect(page.locator("pre").filter(has_text="[tastegraph]")).to_contain_text(
        f"password = {secret}"
    )
    web.shot("token-created")
    assert (
        httpx.get(
            f"{web.base_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
        ).json()["name"]
        == name
    )

    web.goto("/settings/tokens")  # the secret is shown on the answer to the form only
    expect(page.locator("#new-token")).to_have_count(0)
    page.get_by_role("button", name="Revoke mpdscribble at home").click()
    expect(page.get_by_role("cell", name="mpdscribble at home", exact=True)).to_have_count(0)
    answer = httpx.get(f"{web.base_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 401


def test_privacy_change_hides_the_profile_from_a_stranger(
    web: WebSession, browser: Browser
) -> None:
    name = f"priv{uuid.uuid4().hex[:6]}"
    page = web.page
    _sign_up(web, name)
    stranger_context = browser.new_context(base_url=web.base_url, locale="en-US")
    stranger = stranger_context.new_page()
    unexpected: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type == "error" and "404" not in message.text:
            unexpected.append(message.text)

    stranger.on("console", note)
    try:
        stranger.goto(f"/user/{name}")
        expect(stranger.get_by_role("heading", level=1)).to_have_text(name)

        web.goto("/settings/privacy")
        page.get_by_label("Private", exact=True).check()
        page.get_by_label("Hide my recent activity").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        expect(page.get_by_label("Private", exact=True)).to_be_checked()
        web.shot("privacy-private")

        answer = stranger.goto(f"/user/{name}")
        assert answer is not None
        assert answer.status == 404
        expect(stranger.get_by_role("heading", level=1)).to_have_text("Page not found")
        expect(stranger.locator("main")).not_to_contain_text(name)
        assert stranger.goto(f"/user/{name}/shouts").status == 404  # type: ignore[union-attr]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stranger.screenshot(path=str(SCREENSHOTS / f"{web.test_name}-stranger-404.png"))

        # The owner still sees their own profile.
        web.goto(f"/user/{name}")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        assert not unexpected, unexpected
    finally:
        stranger_context.close()


def test_import_shows_progress_and_the_report(web: WebSession, tmp_path: Path) -> None:
    name = f"imp{uuid.uuid4().hex[:6]}"
    page = web.page
    _sign_up(web, name)
    rows = [
        f"2024-05-{1 + i % 28:02d}T2{i % 4}:15:00+02:00,Artist {i % 7},Song {i}"
        for i in range(2500)
    ]
    source = tmp_path / "history.csv"
    source.write_text("played_at,artist,title\n" + "\n".join(rows) + "\nyesterday,Bad,Row\n")
    web.goto("/settings/import")
    page.get_by_label("File").set_input_files(str(source))
    page.get_by_label("Format").select_option("auto")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importing history.csv")
    expect(page.get_by_role("status")).to_have_text("The import is complete.", timeout=120_000)
    report = page.get_by_role("table")
    expect(report.get_by_role("row", name="Plays")).to_contain_text("2,501")
    expect(report.get_by_role("row", name="Plays")).to_contain_text("2,500")
    expect(page.get_by_text("line 2502")).to_be_visible()
    web.shot("import-report")
