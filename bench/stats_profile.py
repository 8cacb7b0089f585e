"""Where a site-wide or geo chart spends its time: the requests ``stats_bench.py`` draws,
answered in-process (no HTTP), each step of ``StatsService._site_chart`` timed apart.

Not a benchmark of record (``stats_bench.py`` is, over HTTP); a tool to see which step of
which kind of chart is slow, on a database ``stats_bench.py --keep-database`` loaded:

```sh
.venv/bin/python bench/stats_profile.py --database tg_stats_bench_2m --plays 2000000
```
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from _common import DEFAULT_PG_URL, format_table, percentile
from stats_bench import chart_requests, make_community

from tastegraph.catalog.kinds import Kind
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tastegraph.stats import charts, services
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
    parser.add_argument("--database", required=True)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--plays", type=int, required=True)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default="site-wide chart,per-country chart")
    parser.add_argument("--match", default="", help="only keys containing this")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    url = sa.make_url(args.postgres_url).set(database=args.database)
    community = make_community(args.users, args.plays, args.seed, int(time.time()))
    requests = chart_requests(community, args.requests, args.seed)
    del community
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
    try:
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
                cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime
                started = time.perf_counter()
                with _steps() as spent, runtime.db.unit_of_work() as session:
                    chart = StatsService(session).chart(
                        level,
                        window=window,
                        country=query.get("country"),
                        limit=50,
                        listeners=query.get("listeners") != "false",
                    )
                    briefed = time.perf_counter()
                    runtime.services(session).catalog.briefs([e.item for e in chart.entries])
                    STEPS["briefs"].append(time.perf_counter() - briefed)
                elapsed = time.perf_counter() - started
                cpu_total += resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu
                tag = f"{'geo' if 'country' in query else 'site'} {key} {query.get('tz', 'UTC')}"
                by_key[tag].append(elapsed)
                for step, seconds in spent.items():
                    step_by_key[tag][step] += seconds
    finally:
        runtime.close()
    _report(by_key, step_by_key, cpu_total)
    return 0


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
