"""Unique reach from HyperLogLog sketches (in the database or in Redis), and the frequency
distribution from the frequency sample, through the reports API."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tastegraph.ads.beacons import record_impression
from tastegraph.ads.decision import AdContext
from tastegraph.ads.reach import RedisReach
from tastegraph.ads.sketch import (
    REGISTERS,
    STANDARD_ERROR,
    HyperLogLog,
    estimate_sparse,
)
from tastegraph.runtime import Runtime
from tests.ads_helpers import NOW, REDIS_URL, Ads, Clock, freeze, redis_prefix
from tests.conftest import Account


def _viewers(rng: random.Random, distinct: int, draws: int) -> list[str]:
    """``draws`` viewer keys over ``distinct`` viewers, with repeats (as impressions are)."""
    pool = [f"{rng.getrandbits(128):032x}" for _ in range(distinct)]
    return pool + [rng.choice(pool) for _ in range(draws - distinct)]


@pytest.mark.parametrize("distinct", [1, 37, 5_000, 60_000])
def test_hyperloglog_is_within_its_error(distinct: int) -> None:
    rng = random.Random(distinct)
    stream = _viewers(rng, distinct, distinct * 2)
    sketch = HyperLogLog()
    for viewer in stream:
        sketch.add(viewer)
    exact = len(set(stream))
    assert abs(sketch.count() - exact) <= 3 * STANDARD_ERROR * exact  # three standard errors
    if distinct < 100:
        assert sketch.count() == exact  # a handful of viewers: exact
    sparse = {r: rank for r, rank in enumerate(sketch.registers) if rank}
    assert estimate_sparse(sparse) == sketch.count()


def test_day_sketches_merge_into_the_sketch_of_the_union() -> None:
    rng = random.Random(3)
    monday, tuesday = _viewers(rng, 3_000, 6_000), _viewers(rng, 3_000, 6_000)
    tuesday += monday[:1_000]  # a thousand viewers come back on Tuesday
    a, b, both = HyperLogLog(), HyperLogLog(), HyperLogLog()
    for viewer in monday:
        a.add(viewer)
        both.add(viewer)
    for viewer in tuesday:
        b.add(viewer)
        both.add(viewer)
    a.merge(b)
    assert a.registers == both.registers
    exact = len(set(monday) | set(tuesday))
    assert abs(a.count() - exact) <= 3 * STANDARD_ERROR * exact
    assert len(a.registers) == REGISTERS


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, runtime: Runtime) -> Iterator[str]:
    """Sketches in the database (the default) or in Redis."""
    if request.param == "database":
        yield "database"
        return
    import redis

    with redis_prefix() as prefix:
        client = redis.Redis.from_url(REDIS_URL)
        runtime.ads.reach = RedisReach(client, prefix)
        yield "redis"
        client.close()


@pytest.fixture
def clock(runtime: Runtime) -> Clock:
    return freeze(runtime)


@pytest.fixture
def ads(client: TestClient, admin: Account, clock: Clock) -> Ads:
    return Ads(client=client, admin=admin)


def _serve(runtime: Runtime, viewers: list[str]) -> None:
    """One decision per viewer and its impression beacon, counted in one transaction."""
    engine = runtime.ads
    with runtime.db.unit_of_work(write=True) as session:
        for viewer in viewers:
            decision = engine.decide(AdContext(placement="mpu", viewer=f"a:{viewer}"))
            assert decision is not None
            assert record_impression(session, engine, decision.ad, engine.clock())


def test_reach_over_days_and_frequency_through_the_reports(
    ads: Ads, runtime: Runtime, clock: Clock, store: str
) -> None:
    ads.placement("mpu")
    ads.line_item(ads.campaign(ads.advertiser(), total_budget="100000"), "1.000")
    # Day 1: viewers 0-299; day 2: 200-499, the first hundred of them twice; day 3: 400-899.
    days = [
        [f"v{n}" for n in range(300)],
        [f"v{n}" for n in range(200, 500)] + [f"v{n}" for n in range(200, 300)],
        [f"v{n}" for n in range(400, 900)],
    ]
    seen: Counter[str] = Counter()
    for offset, viewers in enumerate(days):
        clock.now = NOW - timedelta(days=2 - offset)
        _serve(runtime, viewers)
        seen.update(viewers)

    report = ads.call("GET", "/reports?group_by=day")
    assert report["reach_standard_error"] == pytest.approx(0.0081)
    assert report["frequency_sample"] == 1
    per_day = [(r["dimensions"]["day"], r["impressions"], r["reach"]) for r in report["rows"]]
    assert [(d, i) for d, i, _r in per_day] == [
        ("2026-11-23", 300),
        ("2026-11-24", 400),
        ("2026-11-25", 500),
    ]
    for (_day, _imps, reach), exact in zip(per_day, (300, 300, 500), strict=True):
        assert abs(reach - exact) <= 3 * STANDARD_ERROR * exact
    total = report["total"]
    assert total["impressions"] == 1_200
    # Over the three days a viewer counts once (the union of the day sketches, not a sum).
    assert abs(total["reach"] - 900) <= 3 * STANDARD_ERROR * 900
    expected = Counter(min(count, 10) for count in seen.values())
    assert total["frequency"]["1"] == expected[1] == 700
    assert total["frequency"]["2"] == expected[2] == 100
    assert total["frequency"]["3"] == expected[3] == 100

    csv_text = ads.client.get(
        "/api/v1/ads/reports?group_by=campaign&format=csv", headers=ads.admin.headers
    ).text
    table = list(csv.DictReader(io.StringIO(csv_text)))
    assert table[-1]["campaign"] == "total"
    assert int(table[-1]["reach"]) == total["reach"]
    assert table[-1]["frequency_3"] == "100"


def test_the_frequency_sample_scales_and_impressions_stay_exact(ads: Ads, runtime: Runtime) -> None:
    ads.placement("mpu")
    ads.line_item(ads.campaign(ads.advertiser(), total_budget="100000"), "1.000")
    runtime.ads.frequency_sample = 4
    viewers = [f"v{n}" for n in range(2_000)]
    _serve(runtime, viewers + viewers[:500])
    total = ads.call("GET", "/reports?group_by=campaign")["total"]
    assert total["impressions"] == 2_500
    assert abs(total["reach"] - 2_000) <= 3 * STANDARD_ERROR * 2_000
    counts = total["frequency"]
    assert all(value % 4 == 0 for value in counts.values())
    # About a quarter of the viewers are sampled, each counted four times over.
    assert 1_500 * 0.85 <= counts["1"] <= 1_500 * 1.15
    assert 500 * 0.8 <= counts["2"] <= 500 * 1.2
