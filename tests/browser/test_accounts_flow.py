"""Sign up, see the profile, switch to French, log out and in again, in real Chromium."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser.conftest import WebSession


def test_sign_up_profile_french_logout_login(web: WebSession) -> None:
    name = f"anna{uuid.uuid4().hex[:6]}"
    page = web.page
    web.goto("/", shot="home")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill("saudade123")
    web.shot("signup")
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(f"{web.base_url}/user/{name}")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("heading", name="Listening clock")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    web.shot("profile")

    # The switcher submits on change (JavaScript) and the choice is saved to the account.
    page.get_by_label("Language").select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(f"{web.base_url}/user/{name}")
    expect(page.get_by_role("heading", name="Horloge d’écoute")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    web.shot("profile-fr")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(f"{web.base_url}/")
    # Signed out, the browser's own language (English) applies again; the French choice
    # was saved to the account and comes back with the log-in.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill("saudade123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{web.base_url}/user/{name}")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    web.shot("logged-in-again")


def test_wrong_password_and_keyboard_navigation(web: WebSession) -> None:
    page = web.page
    web.goto("/login")
    # The skip link is the first stop of the keyboard and takes focus to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("User name").fill("nobody-here")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    web.allow_error("status of 401")  # the refused log-in answers 401, which Chromium logs
    web.shot("login-refused")
