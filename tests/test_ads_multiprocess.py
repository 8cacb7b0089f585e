"""Two ``tastegraph serve`` processes sharing one Redis keep caps and budgets exactly.

Requests race from many threads to both servers at once; a budget of exactly 40 impressions
serves exactly 40, a cap of 5 per viewer exactly 5, and beacons replayed to both servers count
once. Runs on SQLite (one file shared by both processes) and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tastegraph.accounts.schemas import UserCreate
from tastegraph.ads.models import CreativeFormat, Pacing, PlacementType
from tastegraph.ads.schemas import (
    AdvertiserIn,
    CampaignIn,
    CreativeIn,
    FrequencyCap,
    LineItemIn,
    PlacementIn,
)
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tests.ads_helpers import REDIS_URL, redis_prefix
from tests.cli_helpers import Server, cli_env, serving

pytestmark = pytest.mark.slow

START = datetime(2026, 1, 1, tzinfo=UTC)


def _world(database_url: str, tmp_path: Path) -> str:
    """A placement ``budget`` whose only campaign can pay for 40 impressions, and a placement
    ``capped`` whose line item shows 5 times a day per viewer. Returns an admin token."""
    settings = Settings(mode=Mode.DEV, database_url=database_url, data_dir=tmp_path / "data")
    runtime = Runtime.create(settings)
    try:
        with runtime.db.unit_of_work(write=True) as session:
            svc = runtime.services(session)
            admin = svc.accounts.register(
                UserCreate(name="operator", password="operator-pass"), is_admin=True
            )
            _token, secret = svc.accounts.create_token(admin, "test")
            scope = svc.ads.scope(admin)
            advertiser = svc.ads.create_advertiser(scope, AdvertiserIn(name="Acme"))
            for key in ("budget", "capped"):
                svc.ads.create_placement(
                    scope,
                    PlacementIn(key=key, name=key, type=PlacementType.PAGE, formats=["text"]),
                )
            for key, budget, caps in (
                ("budget", Decimal("0.040"), []),  # 1.000 per thousand: 40 impressions
                ("capped", Decimal("1000"), [FrequencyCap(impressions=5, window_seconds=86_400)]),
            ):
                campaign = svc.ads.create_campaign(
                    scope,
                    CampaignIn(
                        advertiser_id=advertiser.id,
                        name=key,
                        starts_at=START,
                        total_budget=budget,
                        pacing=Pacing.ASAP,
                    ),
                )
                line_item = svc.ads.create_line_item(
                    scope,
                    LineItemIn(
                        campaign_id=campaign.id,
                        name=key,
                        bid=Decimal("1.000"),
                        targeting={"placements": [key]},
                        frequency_caps=caps,
                    ),
                )
                svc.ads.create_creative(
                    scope,
                    CreativeIn(
                        line_item_id=line_item.id,
                        name=key,
                        format=CreativeFormat.TEXT,
                        headline="Buy now",
                        click_url="https://acme.example/",
                    ),
                )
    finally:
        runtime.close()
    return secret


def _budget_viewer(n: int) -> dict[str, Any]:
    return {"placement": "budget", "anonymous_id": f"v{n}"}


def _race(
    servers: list[Server], count: int, body: Callable[[int], dict[str, Any]], threads: int = 8
) -> list[dict[str, Any]]:
    """``count`` decisions spread over ``threads`` threads and both servers; the fills."""
    fills: list[dict[str, Any]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(offset: int) -> None:
        clients = [httpx.Client(base_url=s.base_url, timeout=30.0) for s in servers]
        try:
            for n in range(offset, count, threads):
                # Each thread alternates between the servers (n // threads: its own count).
                client = clients[(n // threads) % len(clients)]
                response = client.post("/api/v1/ads/decide", json=body(n))
                with lock:
                    if response.status_code == 200:
                        fills.append(response.json())
                    elif response.status_code != 204:
                        errors.append(response.text)
        finally:
            for client in clients:
                client.close()

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert errors == []
    return fills


def test_two_servers_share_caps_budgets_and_beacons(database_url: str, tmp_path: Path) -> None:
    token = _world(database_url, tmp_path)
    with redis_prefix() as prefix:
        env = cli_env(
            database_url, TASTEGRAPH_REDIS_URL=REDIS_URL, TASTEGRAPH_ADS_REDIS_PREFIX=prefix
        )
        with (
            serving(env, tmp_path / "one.log") as one,
            serving(env, tmp_path / "two.log") as two,
        ):
            servers = [one, two]
            for n, server in enumerate(servers):  # both build their index before the race
                with server.client() as http:
                    warm = {"placement": "capped", "anonymous_id": f"warm-{n}"}
                    assert http.post("/api/v1/ads/decide", json=warm).status_code == 200
            # One budget fill from each server first, so the race for the other 38 (which the
            # faster server may win outright) still shows both drawing on one budget.
            budget: list[dict[str, Any]] = []
            for n, server in enumerate(servers):
                with server.client() as http:
                    primer = {"placement": "budget", "anonymous_id": f"first-{n}"}
                    response = http.post("/api/v1/ads/decide", json=primer)
                    assert response.status_code == 200, response.text
                    budget.append(response.json())
            budget += _race(servers, 120, _budget_viewer)
            assert len(budget) == 40
            served_by = {fill["impression_url"].split("/api/")[0] for fill in budget}
            assert served_by == {one.base_url, two.base_url}

            same = _race(servers, 60, lambda _n: {"placement": "capped", "anonymous_id": "same"})
            assert len(same) == 5
            other = _race(servers, 30, lambda _n: {"placement": "capped", "anonymous_id": "other"})
            assert len(other) == 5

            # Every impression of the budget campaign, fired 3 times at each server at once.
            urls = [fill["impression_url"].split("/api/", 1)[1] for fill in budget]
            beacons = [(server, url) for url in urls for server in servers for _ in range(3)]
            failures: list[int] = []

            def fire(part: list[tuple[Server, str]]) -> None:
                with one.client() as a, two.client() as b:
                    for server, url in part:
                        response = (a if server is one else b).get(f"/api/{url}")
                        if response.status_code != 200:
                            failures.append(response.status_code)

            shooters = [threading.Thread(target=fire, args=(beacons[i::6],)) for i in range(6)]
            for thread in shooters:
                thread.start()
            for thread in shooters:
                thread.join()
            assert failures == []
            with one.client() as http:
                report = http.get(
                    "/api/v1/ads/reports?group_by=campaign",
                    headers={"Authorization": f"Bearer {token}"},
                )
            assert report.status_code == 200, report.text
            rows = {row["dimensions"]["campaign_name"]: row for row in report.json()["rows"]}
            assert rows["budget"]["impressions"] == 40
            assert rows["budget"]["spend"] == pytest.approx(0.040)
            # 40 viewers, one impression each: exact in the frequency sample (every viewer by
            # default); reach is a HyperLogLog estimate, where two of 40 viewers share one of
            # the 16,384 registers about one time in twenty.
            assert rows["budget"]["frequency"]["1"] == 40
            assert abs(rows["budget"]["reach"] - 40) <= 1
