from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account, play, track


def test_submit_and_read_back(client: TestClient, alice: Account) -> None:
    response = client.post(
        "/api/v1/plays", json=play(1714587300, track("Halo", "Beyoncé")), headers=alice.headers
    )
    assert response.status_code == 201, response.text
    history = client.get("/api/v1/users/alice/plays", headers=alice.headers).json()
    assert [p["item"]["title"] for p in history["plays"]] == ["Halo"]


def test_front_page_and_health(client: TestClient, alice: Account) -> None:
    client.post(
        "/api/v1/plays", json=play(1714587300, track("Halo", "Beyoncé")), headers=alice.headers
    )
    page = client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "catalogue items" in page.text
    assert client.get("/healthz").json() == {"status": "ok"}


def test_live_server_answers(live_server: str) -> None:
    import httpx2

    response = httpx2.get(f"{live_server}/healthz", timeout=5)
    assert response.json() == {"status": "ok"}
