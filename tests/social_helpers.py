"""Helpers shared by the social tests (tests/test_social_*.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account

NOW = datetime.now(UTC).replace(microsecond=0)


def ago(**delta: float) -> int:
    """UNIX seconds some time before the start of the test run."""
    return int((NOW - timedelta(**delta)).timestamp())


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def submit(client: TestClient, account: Account, plays: list[dict[str, Any]]) -> list[int]:
    """Plays through the batch API; the item id of each."""
    body = ok(client.post("/api/v1/plays/batch", json={"plays": plays}, headers=account.headers))
    assert body["rejected"] == 0, body
    return [r["item_id"] for r in body["results"]]


def befriend(client: TestClient, a: Account, b: Account) -> None:
    ok(client.post("/api/v1/me/friend-requests", json={"name": b.name}, headers=a.headers), 201)
    ok(client.post(f"/api/v1/me/friend-requests/{a.name}/accept", headers=b.headers))


def set_profile(client: TestClient, account: Account, **fields: Any) -> None:
    ok(client.patch("/api/v1/me", json=fields, headers=account.headers))


def names(people: list[dict[str, Any]]) -> list[str]:
    return [p["name"] if "name" in p else p["user"]["name"] for p in people]


def notifications(client: TestClient, account: Account, **params: Any) -> Any:
    return ok(client.get("/api/v1/me/notifications", params=params, headers=account.headers))


def episode(show: str, number: int, season: int = 1) -> dict[str, Any]:
    return {"kind": "episode", "show": show, "season": season, "episode": number}


def shout(
    client: TestClient, account: Account, url: str, body: str, **extra: Any
) -> dict[str, Any]:
    found: dict[str, Any] = ok(
        client.post(url, json={"body": body, **extra}, headers=account.headers), 201
    )
    return found
