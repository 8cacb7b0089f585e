"""Building an advertising world through the API, a frozen clock, and Redis for the tests.

Redis tests use TASTEGRAPH_TEST_REDIS_URL (default redis://127.0.0.1:6379/15) with a key
prefix of their own, deleted afterwards. Where no Redis answers they skip, unless
TASTEGRAPH_TEST_REQUIRE_REDIS=1 or TASTEGRAPH_TEST_REQUIRE_POSTGRES=1 (CI), which turn the
skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tastegraph.accounts.models import User
from tastegraph.audiences.models import Segment
from tastegraph.runtime import Runtime
from tests.conftest import Account

REDIS_URL = os.environ.get("TASTEGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_REDIS = (
    os.environ.get("TASTEGRAPH_TEST_REQUIRE_REDIS") == "1"
    or os.environ.get("TASTEGRAPH_TEST_REQUIRE_POSTGRES") == "1"
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
"""A Wednesday, noon UTC."""
START = "2026-11-01T00:00:00Z"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def freeze(runtime: Runtime, now: datetime = NOW) -> Clock:
    frozen = Clock(now)
    runtime.clock = frozen
    return frozen


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of the test's own in the test Redis; its keys are deleted afterwards."""
    import redis

    try:
        store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        store.ping()
    except redis.RedisError as exc:
        message = f"Redis not reachable at {REDIS_URL} ({exc})"
        if REQUIRE_REDIS:
            pytest.fail(message + " and Redis is required")
        pytest.skip(message)
    prefix = f"tgtest:{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        keys = list(store.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            store.delete(*keys)
        store.close()


@dataclass
class Ads:
    """The advertising API, driven as an administrator unless told otherwise."""

    client: TestClient
    admin: Account

    def call(
        self, method: str, path: str, who: Account | None = None, expect: int = 200, **kw: Any
    ) -> Any:
        headers = (who or self.admin).headers
        response = self.client.request(method, f"/api/v1/ads{path}", headers=headers, **kw)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def create(self, path: str, body: dict[str, Any], who: Account | None = None) -> Any:
        return self.call("POST", path, who, 201, json=body)

    def advertiser(self, name: str = "Acme", domain: str | None = "acme.example") -> int:
        return int(self.create("/advertisers", {"name": name, "domain": domain})["id"])

    def member(self, advertiser_id: int, user: str) -> None:
        self.create(f"/advertisers/{advertiser_id}/members", {"user": user})

    def placement(self, key: str = "mpu", **fields: Any) -> dict[str, Any]:
        body = {
            "key": key,
            "name": key.upper(),
            "type": "page",
            "formats": ["image", "text"],
            "width": 300,
            "height": 250,
            **fields,
        }
        placement: dict[str, Any] = self.create("/placements", body)
        return placement

    def campaign(self, advertiser_id: int, who: Account | None = None, **fields: Any) -> int:
        body = {
            "advertiser_id": advertiser_id,
            "name": "Campaign",
            "starts_at": START,
            "total_budget": "1000",
            "pacing": "asap",
            **fields,
        }
        return int(self.create("/campaigns", body, who)["id"])

    def line_item(
        self,
        campaign_id: int,
        bid: str = "2.000",
        who: Account | None = None,
        *,
        creative: dict[str, Any] | None = None,
        **fields: Any,
    ) -> tuple[int, int]:
        """A line item with one image creative (300x250 unless ``creative`` says otherwise);
        returns (line item id, creative id)."""
        body = {"campaign_id": campaign_id, "name": "Line item", "bid": bid, **fields}
        line_item_id = int(self.create("/line-items", body, who)["id"])
        creative_body = {
            "line_item_id": line_item_id,
            "name": "Creative",
            "format": "image",
            "width": 300,
            "height": 250,
            "asset_url": f"https://cdn.example/{line_item_id}.png",
            "click_url": f"https://advertiser.example/landing/{line_item_id}",
            **(creative or {}),
        }
        creative_id = int(self.create("/creatives", creative_body, who)["id"])
        return line_item_id, creative_id

    def decide(
        self, placement: str = "mpu", who: Account | None = None, **fields: Any
    ) -> dict[str, Any] | None:
        """The decision's JSON, or None for no fill (204)."""
        headers = who.headers if who is not None else {}
        response = self.client.post(
            "/api/v1/ads/decide", json={"placement": placement, **fields}, headers=headers
        )
        assert response.status_code in {200, 204}, response.text
        if response.status_code == 204:
            return None
        decision: dict[str, Any] = response.json()
        return decision

    def served(self, placement: str = "mpu", who: Account | None = None, **fields: Any) -> int:
        """The line item a decision served (0 for no fill)."""
        decision = self.decide(placement, who, **fields)
        return 0 if decision is None else int(decision["line_item_id"])

    def fire(self, url: str) -> Any:
        """Fetch a beacon URL (they are absolute) and return the response."""
        path = url.split("://", 1)[1].split("/", 1)[1]
        return self.client.get(f"/{path}", follow_redirects=False)


def make_segment(runtime: Runtime, name: str, iab_ids: list[int], members: int = 150) -> int:
    """A segment row (as the audiences area would make it) of ``members`` counted members."""
    with runtime.db.unit_of_work(write=True) as session:
        segment = Segment(name=name, iab_ids=iab_ids, member_count=members, active=True)
        session.add(segment)
        session.flush()
        return segment.id


def set_consent(runtime: Runtime, name: str, consent: bool) -> int:
    """Set a user's advertising-profiling consent flag; returns their id."""
    with runtime.db.unit_of_work(write=True) as session:
        session.execute(update(User).where(User.name == name).values(consent_ad_profiling=consent))
        user_id = session.scalar(select(User.id).where(User.name == name))
        assert user_id is not None
        return user_id
