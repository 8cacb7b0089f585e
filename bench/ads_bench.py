"""Ad decisions per second and their latency, in process and over HTTP.

A throwaway SQLite database gets ``--line-items`` active line items (default 1,000) in 200
campaigns of 50 advertisers, with targeting drawn at random over ``--segments`` audience
segments (default 200), 30 countries, content kinds and IAB categories, languages, dayparts
and devices, frequency caps on a third of them, and 12 placements. Then:

* ``inproc``: ``AdEngine.decide`` called in this process on random requests (half of them
  from a viewer in 1-8 segments, as a consenting logged-in viewer's would be); each call is
  timed on its own, in wall time and in the thread's CPU time (``p99 CPU ms``: what the
  decision costs, without the time the machine gave to other processes in between).
* ``http``: one ``tastegraph serve`` process; a load generator sends random
  ``POST /api/v1/ads/decide`` requests (anonymous viewers, so contextual targeting only)
  over keep-alive connections: ``wrk`` when it is installed (``apt-get install wrk``),
  otherwise an asyncio client with httpx2 (``--generator python``), which needs more of the
  machine's CPU for itself and so measures less.

Counters are in the process unless ``--redis URL`` is given (then both paths reserve caps and
budgets in Redis, under a throwaway key prefix). Prints a table; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common

from tastegraph import migrations
from tastegraph.ads.decision import AdContext
from tastegraph.ads.models import (
    Advertiser,
    Campaign,
    Creative,
    CreativeFormat,
    LineItem,
    Pacing,
    Placement,
    PlacementType,
    Priority,
)
from tastegraph.ads.schemas import Targeting
from tastegraph.ads.taxonomy import categories_for
from tastegraph.audiences.models import Segment
from tastegraph.catalog.kinds import Kind
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime

COUNTRIES = (
    "DE",
    "FR",
    "GB",
    "ES",
    "IT",
    "NL",
    "BE",
    "AT",
    "CH",
    "PT",
    "PL",
    "SE",
    "NO",
    "DK",
    "FI",
    "IE",
    "CZ",
    "HU",
    "RO",
    "GR",
    "US",
    "CA",
    "BR",
    "MX",
    "AR",
    "JP",
    "KR",
    "AU",
    "IN",
    "ZA",
)
LANGUAGES = ("de", "fr", "en", "es", "it", "nl", "pt", "pl", "sv")
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo", "UTC")
CLIENTS = ("desktop", "mobile", "tablet", "ctv")
KINDS = tuple(Kind)
PAGE_PLACEMENTS = [f"page-{n}" for n in range(10)]
PLACEMENTS = [*PAGE_PLACEMENTS, "preroll", "live-midroll"]


def build_world(url: str, rng: random.Random, line_items: int, segments: int) -> None:
    settings = Settings(mode=Mode.DEV, database_url=url)
    runtime = Runtime.create(settings)
    migrations.upgrade(runtime.db.engine)
    now = datetime.now(UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0).replace(day=1)
    with runtime.db.unit_of_work(write=True) as session:
        segment_rows = [
            Segment(name=f"Segment {n}", iab_ids=[600 + n], member_count=500)
            for n in range(segments)
        ]
        session.add_all(segment_rows)
        for key in PAGE_PLACEMENTS:
            session.add(
                Placement(
                    key=key,
                    name=key,
                    type=PlacementType.PAGE,
                    formats=["image", "text"],
                    width=300,
                    height=250,
                    floor_micros=rng.choice((0, 500_000, 1_000_000)),
                )
            )
        for key, position in (("preroll", "preroll"), ("live-midroll", "midroll")):
            session.add(
                Placement(
                    key=key,
                    name=key,
                    type=PlacementType.INSTREAM,
                    formats=["video"],
                    position=position,
                    max_duration_seconds=30,
                    floor_micros=2_000_000,
                )
            )
        session.flush()
        segment_ids = [s.id for s in segment_rows]
        advertisers = [Advertiser(name=f"Advertiser {n}") for n in range(50)]
        session.add_all(advertisers)
        session.flush()
        campaigns = []
        for n in range(max(line_items // 5, 1)):
            priority = rng.choices(
                (Priority.SPONSORSHIP, Priority.STANDARD, Priority.REMNANT), (1, 6, 3)
            )[0]
            campaigns.append(
                Campaign(
                    advertiser_id=advertisers[n % len(advertisers)].id,
                    name=f"Campaign {n}",
                    priority=priority,
                    pacing=Pacing.EVEN if n % 2 else Pacing.ASAP,
                    starts_at=start,
                    total_budget_micros=10**12,
                    daily_budget_micros=10**11,
                )
            )
        session.add_all(campaigns)
        session.flush()
        items = []
        for n in range(line_items):
            items.append(
                LineItem(
                    campaign_id=campaigns[n % len(campaigns)].id,
                    name=f"Line item {n}",
                    bid_micros=rng.randint(5, 200) * 100_000,
                    targeting=_targeting(rng, segment_ids),
                    frequency_caps=(
                        [{"impressions": 3, "window_seconds": 3600}] if rng.random() < 0.33 else []
                    ),
                )
            )
        session.add_all(items)
        session.flush()
        for item in items:
            video = rng.random() < 0.15
            session.add(
                Creative(
                    line_item_id=item.id,
                    name="creative",
                    format=CreativeFormat.VIDEO if video else CreativeFormat.IMAGE,
                    width=1920 if video else 300,
                    height=1080 if video else 250,
                    duration_seconds=rng.choice((15, 20, 30)) if video else None,
                    mime="video/mp4" if video else "image/png",
                    asset_url=f"https://cdn.example/{item.id}",
                    click_url=f"https://advertiser.example/{item.id}",
                )
            )
    runtime.close()


def _targeting(rng: random.Random, segment_ids: list[int]) -> dict[str, Any]:
    t: dict[str, Any] = {}
    if rng.random() < 0.3:
        t["segments"] = rng.sample(segment_ids, rng.randint(1, 5))
    if rng.random() < 0.4:
        t["countries"] = rng.sample(COUNTRIES, rng.randint(1, 5))
    if rng.random() < 0.2:
        t["kinds"] = [k.value for k in rng.sample(KINDS, rng.randint(1, 3))]
    if rng.random() < 0.2:
        t["categories"] = rng.sample(["483", "533", "640", "324", "338", "1020", "647"], 2)
    if rng.random() < 0.2:
        t["languages"] = rng.sample(LANGUAGES, rng.randint(1, 3))
    if rng.random() < 0.1:
        start = rng.randint(0, 20)
        t["dayparts"] = [{"start_hour": start, "end_hour": min(24, start + rng.randint(2, 8))}]
    if rng.random() < 0.1:
        t["clients"] = rng.sample(CLIENTS, rng.randint(1, 2))
    if rng.random() < 0.05:
        t["placements"] = rng.sample(PLACEMENTS, 2)
    return Targeting.model_validate(t).model_dump(mode="json")


def random_request(rng: random.Random, segment_ids: list[int]) -> dict[str, Any]:
    kind = rng.choice(KINDS)
    request: dict[str, Any] = {
        "placement": rng.choice(PLACEMENTS),
        "anonymous_id": f"viewer-{rng.randrange(20_000)}",
        "country": rng.choice(COUNTRIES),
        "language": rng.choice(LANGUAGES),
        "timezone": rng.choice(ZONES),
        "client": rng.choice(CLIENTS),
        "categories": sorted(categories_for(kind, [])),
    }
    if rng.random() < 0.5:
        request["segments"] = rng.sample(segment_ids, rng.randint(1, 8))
    request["kind"] = kind.value
    return request


def bench_inproc(url: str, requests: list[dict[str, Any]], redis: str) -> dict[str, Any]:
    settings = Settings(
        mode=Mode.DEV,
        database_url=url,
        redis_url=redis,
        ads_redis_prefix=f"tgbench:{uuid.uuid4().hex[:8]}",
    )
    runtime = Runtime.create(settings)
    engine = runtime.ads
    contexts = [
        AdContext(
            placement=r["placement"],
            viewer=f"a:{r['anonymous_id']}",
            segments=frozenset(r.get("segments", ())),
            country=r["country"],
            kind=Kind(r["kind"]),
            categories=frozenset(r["categories"]),
            language=r["language"],
            timezone=r["timezone"],
            client=r["client"],
        )
        for r in requests
    ]
    for ctx in contexts[:1000]:  # warm up: index, seeds
        engine.decide(ctx)
    _common.freeze()
    latencies = []
    cpu = []
    fills = 0
    started = time.perf_counter()
    for ctx in contexts:
        t0 = time.perf_counter()
        c0 = time.thread_time()
        decision = engine.decide(ctx)
        cpu.append((time.thread_time() - c0) * 1000)
        latencies.append((time.perf_counter() - t0) * 1000)
        fills += decision is not None
    elapsed = time.perf_counter() - started
    _clear_redis(redis, settings.ads_redis_prefix)
    runtime.close()
    return {
        "rate": len(contexts) / elapsed,
        "p50": _common.percentile(latencies, 0.5),
        "p99": _common.percentile(latencies, 0.99),
        "cpu_p99": _common.percentile(cpu, 0.99),
        "max": max(latencies),
        "fill": fills / len(contexts),
        "count": len(contexts),
    }


def _clear_redis(redis: str, prefix: str) -> None:
    if not redis:
        return
    import redis as redis_lib

    store = redis_lib.Redis.from_url(redis)
    keys = list(store.scan_iter(match=f"{prefix}:*", count=1000))
    for start in range(0, len(keys), 1000):
        store.delete(*keys[start : start + 1000])
    store.close()


def _http_bodies(requests: list[dict[str, Any]]) -> list[str]:
    """Anonymous requests: the native API takes no segments from the client."""
    return [
        json.dumps({k: v for k, v in r.items() if k not in {"segments", "kind"}}) for r in requests
    ]


WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local headers = {["Content-Type"] = "application/json"}
request = function()
  return wrk.format("POST", "/api/v1/ads/decide", headers, bodies[math.random(#bodies)])
end
"""


def run_wrk(
    port: int, bodies: list[str], seconds: int, connections: int, workdir: Path
) -> dict[str, Any]:
    body_file = workdir / "bodies.txt"
    body_file.write_text("\n".join(bodies) + "\n")
    script = workdir / "decide.lua"
    script.write_text(WRK_SCRIPT % body_file)
    done = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/api/v1/ads/decide",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def latency(label: str) -> float:
        found = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        assert found, out
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {
        "rate": rate,
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(errors.group(1)) if errors else 0,
        "raw": out,
    }


async def _python_load(
    port: int, bodies: list[str], seconds: int, connections: int
) -> dict[str, Any]:
    import httpx2 as httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as client:

        async def worker(seed: int) -> None:
            nonlocal errors
            rng = random.Random(seed)
            headers = {"content-type": "application/json"}
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                response = await client.post(
                    "/api/v1/ads/decide", content=rng.choice(bodies), headers=headers
                )
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status_code not in (200, 204):
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(connections)))
        elapsed = time.perf_counter() - started
    return {
        "rate": len(latencies) / elapsed,
        "p50": _common.percentile(latencies, 0.5),
        "p99": _common.percentile(latencies, 0.99),
        "errors": errors,
    }


def http_fill(port: int, bodies: list[str]) -> float:
    import httpx2 as httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        sample = bodies[:500]
        fills = sum(
            client.post(
                "/api/v1/ads/decide", content=b, headers={"content-type": "application/json"}
            ).status_code
            == 200
            for b in sample
        )
    return fills / len(sample)


def bench_http(
    url: str, bodies: list[str], args: argparse.Namespace, workdir: Path, generator: str
) -> dict[str, Any]:
    prefix = f"tgbench:{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEGRAPH_")}
    env.update(
        TASTEGRAPH_MODE="dev",
        TASTEGRAPH_DATABASE_URL=url,
        TASTEGRAPH_DATA_DIR=str(workdir / "data"),
        TASTEGRAPH_AUDIENCE_REFRESH_SECONDS="0",
        TASTEGRAPH_REDIS_URL=args.redis,
        TASTEGRAPH_ADS_REDIS_PREFIX=prefix,
    )
    with _common.tastegraph_server(env, workdir / "server.log") as port:
        http_fill(port, bodies)  # warm up: the index, the seeds, the code paths
        if generator == "wrk":
            result = run_wrk(port, bodies, args.seconds, args.connections, workdir)
        else:
            result = asyncio.run(_python_load(port, bodies, args.seconds, args.connections))
        result["fill"] = http_fill(port, bodies)
    _clear_redis(args.redis, prefix)
    return result


def _load() -> str:
    """The machine's 1-minute load average: other work on it shows in the latencies."""
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--line-items", type=int, default=1000)
    parser.add_argument("--segments", type=int, default=200)
    parser.add_argument("--decisions", type=int, default=20_000, help="in-process decisions")
    parser.add_argument("--seconds", type=int, default=10, help="HTTP load duration")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--paths", default="inproc,http")
    parser.add_argument("--generator", default="auto", choices=("auto", "wrk", "python"))
    parser.add_argument("--redis", default="", help="redis://... to keep counters in Redis")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    paths = _common.choices(parser, args.paths, ("inproc", "http"))
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"

    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="ads-bench-"))
    url = f"sqlite:///{workdir / 'ads.db'}"
    try:
        t0 = time.perf_counter()
        build_world(url, rng, args.line_items, args.segments)
        print(
            f"{args.line_items} line items, {args.segments} segments, 12 placements "
            f"({time.perf_counter() - t0:.1f} s to build); counters: "
            f"{'Redis' if args.redis else 'in process'}",
            file=sys.stderr,
        )
        segment_ids = list(range(1, args.segments + 1))
        requests = [random_request(rng, segment_ids) for _ in range(args.decisions)]
        rows = []
        if "inproc" in paths:
            r = bench_inproc(url, requests, args.redis)
            rows.append(
                (
                    "in process (AdEngine.decide)",
                    f"{r['count']:,} calls",
                    f"{r['rate']:,.0f}",
                    f"{r['p50']:.3f}",
                    f"{r['p99']:.3f}",
                    f"{r['cpu_p99']:.3f}",
                    f"{r['fill']:.0%}",
                    _load(),
                )
            )
        if "http" in paths:
            bodies = _http_bodies(requests[:5000])
            r = bench_http(url, bodies, args, workdir, generator)
            label = f"{generator}, {args.connections} conns, {args.seconds} s"
            rows.append(
                (
                    "HTTP POST /api/v1/ads/decide",
                    label,
                    f"{r['rate']:,.0f}",
                    f"{r['p50']:.2f}",
                    f"{r['p99']:.2f}",
                    "",
                    f"{r['fill']:.0%}",
                    _load(),
                )
            )
            if r["errors"]:
                print(f"{r['errors']} responses were errors", file=sys.stderr)
        header = (
            "path",
            "workload",
            "decisions/s",
            "p50 ms",
            "p99 ms",
            "p99 CPU ms",
            "fill",
            "machine load",
        )
        for line in _common.format_table(header, rows, "<<>>>>>>", markdown=True):
            print(line)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
