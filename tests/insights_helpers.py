"""Shared pieces of the insights tests: a frozen clock, plays through the API, brute-force
counts straight from the tables."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.accounts.models import User
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.ingest.models import Play, Playback
from tastegraph.runtime import Runtime
from tests.conftest import Account

NOW = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)
"""A Wednesday, noon UTC (summer time in Berlin: UTC+2)."""


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def episode(show: str, season: int, number: int) -> dict[str, Any]:
    return {"kind": "episode", "show": show, "season": season, "episode": number}


def play(
    client: TestClient,
    who: Account,
    item: dict[str, Any],
    at: datetime,
    progress: float | None = None,
    **extra: Any,
) -> int:
    body: dict[str, Any] = {"played_at": at.isoformat(), "item": item, **extra}
    if progress is not None:
        body["progress"] = progress
    response = client.post("/api/v1/plays", json=body, headers=who.headers)
    assert response.status_code in (200, 201), response.text
    item_id: int = response.json()["item_id"]
    return item_id


def insights(client: TestClient, who: Account, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/insights{path}", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def descendants(runtime: Runtime, item_id: int) -> set[int]:
    """The item and everything under it, walking parents in Python (and main credits)."""
    with runtime.db.unit_of_work() as session:
        parents = dict(session.execute(select(Item.id, Item.parent_id)).all())
        credits = session.execute(
            select(ItemCredit.item_id).where(
                ItemCredit.credited_id == item_id, ItemCredit.role == "main"
            )
        ).scalars()
        found = {item_id, *credits}
    for child, parent in parents.items():
        grand = parents.get(parent) if parent is not None else None
        if item_id in (parent, grand):
            found.add(child)
    return found


@dataclass
class Brute:
    viewers: set[int] = field(default_factory=set)
    plays: int = 0
    completed: int = 0
    known: int = 0
    unfinished: int = 0
    countries: dict[str | None, set[int]] = field(default_factory=lambda: defaultdict(set))
    weeks: dict[datetime, tuple[set[int], list[int]]] = field(default_factory=dict)


def brute_force(
    runtime: Runtime, items: set[int], since: datetime, until: datetime, week_starts: list[datetime]
) -> Brute:
    """Every number of a title's audience, recounted row by row from the tables."""
    out = Brute()
    for start in week_starts:
        out.weeks[start] = (set(), [0])
    with runtime.db.unit_of_work() as session:
        country = dict(session.execute(select(User.id, User.country)).all())
        for user_id, item_id, at, progress in session.execute(
            select(Play.user_id, Play.item_id, Play.played_at, Play.progress)
        ):
            if item_id not in items or not since <= at < until:
                continue
            out.viewers.add(user_id)
            out.plays += 1
            if progress is not None:
                out.known += 1
                out.completed += progress >= 0.9
            out.countries[country[user_id]].add(user_id)
            start = max(s for s in week_starts if s <= at)
            out.weeks[start][0].add(user_id)
            out.weeks[start][1][0] += 1
        for item_id, started, progress, incognito in session.execute(
            select(Playback.item_id, Playback.started_at, Playback.progress, Playback.incognito)
        ):
            if item_id in items and not incognito and since <= started < until:
                out.unfinished += 1
                out.completed += progress >= 0.9
    return out


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def days_ago(days: float, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)
