"""Shared pieces of the territorial-rights tests: a clock, viewers in three countries, items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, play

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


def when(delta_hours: float = 0) -> int:
    """A play time ``delta_hours`` before the clock's start (plays cannot be in the future)."""
    return int((NOW - timedelta(hours=1 + delta_hours)).timestamp())


def played(client: TestClient, account: Account, item: dict[str, Any], hours: float = 0) -> int:
    response = client.post("/api/v1/plays", json=play(when(hours), item), headers=account.headers)
    assert response.status_code in (200, 201), response.text
    item_id: int = response.json()["item_id"]
    return item_id


def episode(show: str, season: int, number: int, **extra: Any) -> dict[str, Any]:
    return {"kind": "episode", "show": show, "season": season, "episode": number, **extra}


def item_page(
    client: TestClient, item_id: int, viewer: Account | None = None, **headers: str
) -> dict[str, Any]:
    sent = dict(viewer.headers) if viewer else {}
    sent.update(headers)
    response = client.get(f"/api/v1/items/{item_id}", headers=sent)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def available(client: TestClient, item_id: int, viewer: Account | None = None) -> bool:
    page = item_page(client, item_id, viewer)
    assert page["available"] == page["availability"]["available"]
    return bool(page["available"])


def grant(client: TestClient, admin: Account, item_id: int, territory: str, **extra: Any) -> int:
    body = {"item_id": item_id, "territory": territory, "offer": "subscription", **extra}
    response = client.post("/api/v1/catalog/rights", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    right_id: int = response.json()["id"]
    return right_id


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def iso(moment: datetime) -> str:
    return moment.isoformat()
