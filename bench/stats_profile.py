"""Where a site-wide or geo chart spends its time: the requests ``stats_bench.py`` draws,
answered in-process (no HTTP), each step of ``StatsService._site_chart`` timed apart.

Not a benchmark of record (``stats_bench.py`` is, over HTTP); a tool to see which step of
which kind of chart is slow, on a database ``stats_bench.py --keep-database`` loaded:

```sh
.venv/bin/python bench/stats_profile.py --database tg_stats_bench_2m --plays 2000000
.venv/bin/python bench/stats_profile.py --sqlite-file tg5m.sqlite --plays 5000000
```
"""

from __future__ import annotations

import argparse
import contextlib
import random
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from _common import DEFAULT_PG_URL, format_table, percentile
from sqlalchemy.orm import Session
from stats_bench import chart_requests, make_community

from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tastegraph.stats import archiver, charts, services
from tastegraph.stats.archive import ARCHIVE_DEPTH, Key
from tastegraph.stats.periods import Window
from tastegraph.stats.services import StatsService
from tastegraph.web.api.stats import _window

STEPS: dict[str, list[float]] = defaultdict(list)


def _timed(owner: Any, name: str, label: str) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            STEPS[label].append(time.perf_counter() - started)

    setattr(owner, name, wrapper)


@contextlib.contextmanager
def _steps() -> Iterator[dict[str, float]]:
    before = {k: sum(v) for k, v in STEPS.items()}
    out: dict[str, float] = {}
    yield out
    for key, values in STEPS.items():
        spent = sum(values) - before.get(key, 0.0)
        if spent:
            out[key] = spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="PostgreSQL database name")
    parser.add_argument("--sqlite-file", help="or a SQLite file")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--plays", type=int, help="as loaded (to draw the same requests)")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default="site-wide chart,per-country chart")
    parser.add_argument("--match", default="", help="only keys containing this")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    parser.add_argument(
        "--archive",
        action="store_true",
        help="time the charts the archiver computes (top 100 of each), --requests of them",
    )
    args = parser.parse_args(argv)
    if (args.database is None) == (args.sqlite_file is None):
        parser.error("name one of --database and --sqlite-file")
    if args.plays is None and not args.archive:
        parser.error("--plays is needed to draw the requests")
    url = (
        sa.make_url(f"sqlite:///{args.sqlite_file}")
        if args.sqlite_file
        else sa.make_url(args.postgres_url).set(database=args.database)
    )
    for name, label in (
        ("top", "top"),
        ("total", "total"),
        ("listeners", "listeners"),
        ("read_state", "state"),
    ):
        _timed(charts.SiteChart, name, label)
    for name, label in (("_site_counts", "full count"), ("_listeners", "log listeners")):
        _timed(services.StatsService, name, label)
    _timed(services.StatsService, "_page", "page")
    runtime = Runtime.create(
        Settings(mode=Mode.DEV, database_url=url.render_as_string(hide_password=False))
    )
    by_key: dict[str, list[float]] = defaultdict(list)
    step_by_key: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    cpu_total = 0.0

    def timed(tag: str, count: Callable[[Session], list[Item]]) -> None:
        nonlocal cpu_total
        cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime
        started = time.perf_counter()
        with _steps() as spent, runtime.db.unit_of_work() as session:
            items = count(session)
            briefed = time.perf_counter()
            runtime.services(session).catalog.briefs(items)
            STEPS["briefs"].append(time.perf_counter() - briefed)
        by_key[tag].append(time.perf_counter() - started)
        cpu_total += resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu
        for step, seconds in spent.items():
            step_by_key[tag][step] += seconds

    try:
        if args.archive:
            _archive_charts(runtime, args, timed)
        else:
            _requested_charts(args, timed)
    finally:
        runtime.close()
    _report(by_key, step_by_key, cpu_total)
    return 0


Timer = Callable[[str, Callable[[Session], list[Item]]], None]


def _archive_charts(runtime: Runtime, args: argparse.Namespace, timed: Timer) -> None:
    """A sample of the charts the archive wants now, each counted as the archiver does."""
    wanted = archiver.wanted(runtime.db, datetime.now(UTC))
    picked = [(k, w) for k, w in wanted.items() if args.match in _archive_tag(k, w)]
    random.Random(args.seed).shuffle(picked)
    for key, window in picked[: args.requests]:

        def archived(session: Session, key: Key = key, window: Window = window) -> list[Item]:
            chart = StatsService(session).counted_site_chart(
                key.level, window, key.scope or None, ARCHIVE_DEPTH, 0, True
            )
            return [e.item for e in chart.entries]

        timed(_archive_tag(key, window), archived)


def _requested_charts(args: argparse.Namespace, timed: Timer) -> None:
    """The site-wide and geo chart requests ``stats_bench.py`` draws."""
    community = make_community(args.users, args.plays, args.seed, int(time.time()))
    requests = chart_requests(community, args.requests, args.seed)
    del community
    for kind in args.kinds.split(","):
        for key, path in requests[kind]:
            if args.match and args.match not in key:
                continue
            parts = urlsplit(path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            level = Kind(parts.path.rsplit("/", 1)[1])
            _label, window = _window(
                query.get("period", "7day"), None, None, query.get("tz", "UTC")
            )

            def requested(
                session: Session,
                level: Kind = level,
                window: Window = window,
                query: dict[str, str] = query,
            ) -> list[Item]:
                chart = StatsService(session).chart(
                    level,
                    window=window,
                    country=query.get("country"),
                    limit=50,
                    listeners=query.get("listeners") != "false",
                )
                return [e.item for e in chart.entries]

            scope = "geo" if "country" in query else "site"
            timed(f"{scope} {key} {query.get('tz', 'UTC')}", requested)


def _archive_tag(key: Key, window: Window) -> str:
    days = (key.end_us - key.start_us) // 86_400_000_000
    scope = f"geo {key.scope}" if key.scope else "site"
    return f"{scope} {key.level.value} {days}d {window.timezone}"


def _report(
    by_key: dict[str, list[float]], step_by_key: dict[str, dict[str, float]], cpu_total: float
) -> None:
    everything = [v for values in by_key.values() for v in values]
    print(
        f"{len(everything)} charts: p50 {percentile(everything, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(everything, 0.95) * 1000:.0f} ms; python CPU per chart "
        f"{cpu_total / max(1, len(everything)) * 1000:.1f} ms"
    )
    slow = sorted(by_key.items(), key=lambda kv: -max(kv[1]))[:25]
    rows: list[tuple[str, ...]] = []
    for key, values in slow:
        steps = step_by_key[key]
        detail = ", ".join(f"{s} {v / len(values) * 1000:.0f}" for s, v in sorted(steps.items()))
        rows.append((key, str(len(values)), f"{max(values) * 1000:.0f}", detail))
    print("\n".join(format_table(("request", "n", "max ms", "steps ms (mean)"), rows, "<>><")))


if __name__ == "__main__":
    sys.exit(main())
