"""Time ``tastegraph export parquet`` on a synthetic play log, and its peak memory.

A fresh SQLite database (migrated) gets ``--users`` users, ``--tracks`` tracks under albums
and artists, and ``--plays`` plays spread over ``--years`` years, written straight into the
tables (this measures the export, not ingestion). The export runs in a child process so its
peak resident memory is its own; with batches of 100,000 rows it should stay flat as the log
grows.

    .venv/bin/python bench/parquet_export_bench.py --plays 200000 400000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa


def _build(url: str, plays: int, users: int, tracks: int, years: int, seed: int) -> None:
    from tastegraph import migrations
    from tastegraph.config import Mode, Settings
    from tastegraph.runtime import Runtime

    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    migrations.upgrade(runtime.db.engine)
    runtime.close()
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    from tastegraph.accounts.models import User
    from tastegraph.catalog.models import Item, ItemCredit
    from tastegraph.ingest.models import Play

    engine = sa.create_engine(url)
    t = {m.__tablename__: m.__table__ for m in (User, Item, ItemCredit, Play)}
    stamp = now
    with engine.begin() as conn:
        conn.execute(
            t["users"].insert(),
            [
                {
                    "id": u,
                    "name": f"u{u}",
                    "name_key": f"u{u}",
                    "country": rng.choice(["DE", "BR", "JP", "IN", None]),
                    "locale": "en",
                    "timezone": "UTC",
                    "visibility": "public",
                    "hide_recent_activity": False,
                    "incognito": False,
                    "consent_ad_profiling": False,
                    "is_admin": False,
                    "created_at": stamp,
                }
                for u in range(1, users + 1)
            ],
        )
        items = []
        credits = []
        artists = max(tracks // 8, 1)
        albums = max(tracks // 10, 1)
        for i in range(1, artists + albums + tracks + 1):
            kind = "artist" if i <= artists else "album" if i <= artists + albums else "track"
            parent = None
            if kind == "track":
                parent = artists + rng.randint(1, albums)
                credits.append(
                    {
                        "item_id": i,
                        "credited_id": rng.randint(1, artists),
                        "role": "main",
                        "position": 0,
                    }
                )
            items.append(
                {
                    "id": i,
                    "kind": kind,
                    "domain": "music",
                    "title": f"{kind} {i}",
                    "match_key": f"{kind}{i}",
                    "search_key": f"{kind} {i}",
                    "parent_id": parent,
                    "created_at": stamp,
                }
            )
        conn.execute(t["items"].insert(), items)
        conn.execute(t["item_credits"].insert(), credits)
        first_track = artists + albums + 1
        span = timedelta(days=365 * years).total_seconds()
        for start in range(0, plays, 50_000):
            conn.execute(
                t["plays"].insert(),
                [
                    {
                        "id": p + 1,
                        "user_id": rng.randint(1, users),
                        "item_id": first_track + rng.randrange(tracks),
                        "played_at": now - timedelta(seconds=int(rng.uniform(0, span))),
                        "tz_offset_minutes": 0,
                        "source": "bench",
                        "created_at": stamp,
                    }
                    for p in range(start, min(start + 50_000, plays))
                ],
            )
    engine.dispose()


def _child(url: str, target: str) -> None:
    from tastegraph.config import Mode, Settings
    from tastegraph.portability.parquet import export_parquet
    from tastegraph.storage.database import Database

    database = Database(Settings(mode=Mode.DEV, database_url=url))
    started = time.perf_counter()
    manifest = export_parquet(database, Path(target))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"seconds": seconds, "peak_mb": peak_mb, "plays": manifest["tables"]["plays"]})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plays", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--tracks", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    print(f"{'plays':>10} {'export s':>9} {'plays/s':>9} {'peak RSS MB':>12} {'on disk MB':>11}")
    for plays in args.plays:
        with tempfile.TemporaryDirectory() as scratch:
            url = f"sqlite:///{scratch}/bench.db"
            _build(url, plays, args.users, args.tracks, args.years, args.seed)
            target = Path(scratch) / "export"
            out = subprocess.run(
                [sys.executable, __file__, "--child", url, str(target)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ},
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file()) / 1e6
            print(
                f"{result['plays']:>10} {result['seconds']:>9.1f} "
                f"{result['plays'] / result['seconds']:>9.0f} {result['peak_mb']:>12.0f} "
                f"{size:>11.1f}"
            )


if __name__ == "__main__":
    main()
