"""Titles and descriptions in the viewer's language: the account's locale, then
Accept-Language, then the original; the original is always there too."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tastegraph.catalog.localization import parse_accept_language, pick_language
from tests.conftest import Account
from tests.rights_helpers import episode, item_page, played, problem


def _translate(
    client: TestClient, admin: Account, item_id: int, language: str, **body: Any
) -> None:
    response = client.put(
        f"/api/v1/catalog/items/{item_id}/translations/{language}", json=body, headers=admin.headers
    )
    assert response.status_code == 200, response.text


def test_titles_in_the_viewers_language(client: TestClient, admin: Account, register: Any) -> None:
    greta = register("greta", country="DE", locale="de-AT")
    mike = register("mike", country="US", locale="en-US")
    lars = register("lars", country="DK", locale="da")
    item_id = played(client, greta, episode("Borgen", 1, 1, title="Dekret", language="da"))
    show = item_page(client, item_page(client, item_id)["parent"]["id"])["parent"]["id"]
    _translate(
        client,
        admin,
        show,
        "de",
        title="Borgen – Gefährliche Seilschaften",
        description="Eine Politikerin wird Regierungschefin.",
    )
    _translate(client, admin, show, "en", title="Borgen (The Castle)")
    _translate(client, admin, item_id, "de", title="Das Dekret")
    _translate(client, admin, item_id, "en", title="The Decree")

    german = item_page(client, show, greta)
    assert german["title"] == "Borgen – Gefährliche Seilschaften"
    assert german["title_language"] == "de"  # de-AT reads de
    assert german["original_title"] == "Borgen"
    assert german["description"] == "Eine Politikerin wird Regierungschefin."
    assert item_page(client, item_id, greta)["title"] == "Das Dekret"
    assert item_page(client, show, mike)["title"] == "Borgen (The Castle)"

    # Anonymous: Accept-Language decides, by weight; nothing fitting leaves the original.
    assert item_page(client, show, **{"accept-language": "fr;q=1, de;q=0.8"})["title"] == (
        "Borgen – Gefährliche Seilschaften"
    )
    plain = item_page(client, show, **{"accept-language": "fr"})
    assert (plain["title"], plain["title_language"]) == ("Borgen", None)

    # The episode's own language counts: a Danish reader who also reads English sees the
    # Danish title, not the English translation.
    assert item_page(client, item_id, lars, **{"accept-language": "en"})["title"] == "Dekret"
    assert item_page(client, item_id, **{"accept-language": "en"})["title"] == "The Decree"

    # Search finds translated titles, and answers in the reader's language.
    found = client.get("/api/v1/items", params={"q": "gefährliche"}, headers=greta.headers)
    assert [(i["id"], i["title"]) for i in found.json()["items"]] == [
        (show, "Borgen – Gefährliche Seilschaften")
    ]
    listed = client.get(f"/api/v1/catalog/items/{show}/translations").json()
    assert [t["language"] for t in listed] == ["de", "en"]
    removed = client.delete(f"/api/v1/catalog/items/{show}/translations/en", headers=admin.headers)
    assert removed.status_code == 204
    assert item_page(client, show, mike)["title"] == "Borgen"
    problem(
        client.put(
            f"/api/v1/catalog/items/{show}/translations/xx-nope",
            json={"title": "?"},
            headers=admin.headers,
        ),
        422,
        "invalid_rights",
    )
    problem(
        client.put(
            f"/api/v1/catalog/items/{show}/translations/de",
            json={"title": "x"},
            headers=greta.headers,
        ),
        403,
        "permission_denied",
    )


def test_accept_language_and_matching() -> None:
    assert parse_accept_language("de-AT,de;q=0.9,en;q=0.5,*;q=0.1") == ["de-AT", "de", "en"]
    assert parse_accept_language("en;q=0, pt-br;q=0.7, xx-!!") == ["pt-BR"]
    assert parse_accept_language(None) == []
    assert pick_language({"de", "en"}, ["de-AT"]) == "de"
    assert pick_language({"pt-PT", "en"}, ["pt-BR", "en"]) == "pt-PT"
    assert pick_language({"en"}, ["fr"]) is None
