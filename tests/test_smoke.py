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
