"""Groups in real Chromium: the issue's flow — switch to French, create a group and shout in it
— with a reply and a reaction, every form posted by the browser with its CSRF token."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser.conftest import WebSession


def _sign_up(web: WebSession, name: str) -> None:
    page = web.page
    web.goto("/signup")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill("saudade123")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(f"{web.base_url}/user/{name}")


def test_switch_to_french_create_a_group_and_shout_in_it(web: WebSession) -> None:
    name = f"lea{uuid.uuid4().hex[:6]}"
    group = f"Fans de Borgen {uuid.uuid4().hex[:4]}"
    page = web.page
    _sign_up(web, name)

    page.get_by_label("Language").select_option("fr")  # submits on change (site.js)
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Groupes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Groupes")
    web.shot("directory-fr")
    page.get_by_role("link", name="Créer un groupe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un groupe")
    page.get_by_label("Nom", exact=True).fill(group)
    page.get_by_label("Description").fill("Pour parler de <Borgen> & de politique danoise.")
    expect(page.get_by_label("Public", exact=True)).to_be_checked()
    web.shot("new-group-fr")
    page.get_by_role("button", name="Créer le groupe").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(group)
    expect(page.get_by_text("Pour parler de <Borgen> & de politique danoise.")).to_be_visible()
    expect(page.get_by_text("Vous êtes membre (Propriétaire).")).to_be_visible()
    page.get_by_label("Votre message").fill("Qui a vu la saison 4 ? <script>alert(1)</script>")
    page.get_by_role("button", name="Publier", exact=True).click()

    shout = page.locator("article.talk").first
    expect(shout).to_contain_text("Qui a vu la saison 4 ? <script>alert(1)</script>")
    expect(shout.get_by_role("link", name=name)).to_be_visible()

    # A reply, then a reaction, each a plain form post.
    shout.get_by_text("Répondre", exact=True).click()
    shout.get_by_label("Votre réponse").fill("Moi !")
    shout.get_by_role("button", name="Envoyer la réponse").click()
    expect(page.locator(".talk-replies")).to_contain_text("Moi !")
    first = page.locator("article.talk").first
    first.get_by_text("Réagir", exact=True).first.click()
    first.get_by_role("button", name="J’aime").first.click()
    expect(
        page.locator("article.talk").first.get_by_role("button", name="J’aime 1")
    ).to_have_attribute("aria-pressed", "true")
    web.shot("group-with-shouts-fr")
