"""The batch pipeline end to end at scale: ingest, export, the batch jobs on Spark and on the
local runner side by side, and the results served over HTTP.

A script, not a test. On PostgreSQL it

1. **generates** ``stats_bench.py``'s deterministic community (``--users``, default 200,000
   people; ``--plays``, default 20M plays over three years) and **bulk-loads** it (``COPY``,
   the play indexes built afterwards), then gives 60% of the people advertising consent and a
   birth year (what the audience segments need) and creates ``--segments`` rule segments;
2. **backfills the charts** (the ``charts`` job with the local runner, when it is asked for:
   the rebuild an operator runs after a bulk import; a server's folder would otherwise count
   the imported log 100,000 plays at a time), then
   **ingests through the write path**: ``--ingest-plays`` more plays posted in batches of 500
   to the native API (``POST /api/v1/plays/batch``) of a real ``tastegraph serve`` by
   ``--ingest-clients`` concurrent clients, and reports plays per second (the bulk load
   stands in for history that already exists; this is the rate new plays enter at);
3. **exports** the play log and the catalogue to Parquet (``tastegraph export parquet``), then
   posts ``--update-plays`` more plays (the last month's) and times ``export parquet
   --update``, which writes again only the months that changed;
4. **runs each batch job** (``tastegraph batch run JOB``, every job ``tastegraph batch list``
   shows, or ``--jobs``) with each runner (``--runners``, default ``local,spark``), one process
   per run, timing it and sampling the resident memory of the process and its children (the
   Spark JVM included; PostgreSQL's own memory is not counted) every 0.2 s;
5. **serves** the results: a real ``tastegraph serve`` answers site-wide and country charts,
   people's own recommendations and similar items, timed over HTTP.

It prints one table: step, runner, seconds, peak memory, the machine's load average during the
step, and what the step produced; ``--results FILE`` appends each step to a JSON-lines file as
it ends, so a long run can be taken in phases (``--reuse``, ``--no-export``, ``--no-serve``,
``--jobs``, ``--runners``) and a stopped one keeps what it measured. ``--job-timeout`` stops a
job that runs longer and reports the time as a lower bound.

Usage::

    .venv/bin/python bench/pipeline_bench.py                          # 200,000 users, 20M plays
    .venv/bin/python bench/pipeline_bench.py --users 20000 --plays 2000000   # a tenth
    .venv/bin/python bench/pipeline_bench.py --database tg_pipeline --keep-database  # keep it
    .venv/bin/python bench/pipeline_bench.py --database tg_pipeline --reuse   # skip the load

The database is a throwaway one on ``--postgres-url`` unless ``--database`` names one.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BIN, cli, format_table, percentile, tastegraph_server
from social_bench import tokens_for
from stats_bench import bench_database, load, make_community

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SPARK_LOG = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d |^[\w.]+(Exception|Error)\b")


# -- memory of a process tree -------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total = 0
    stack = [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        current = stack.pop()
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
            stack.extend(_children(current))
    return total


@dataclass
class Step:
    step: str
    runner: str
    seconds: float
    peak_bytes: int
    result: str
    load: float = 0.0
    """The machine's mean 1-minute load average during the step (2 cores here): steps run
    side by side, or beside other work, say so here."""


def run_measured(
    step: str, runner: str, argv: list[str], env: dict[str, str], timeout: float = 0
) -> Step:
    """Run a command, sampling its process tree's memory; fail loudly with its output. With
    ``timeout``, a run still going after that many seconds is stopped (its whole process
    group, the Spark JVM included) and reported as unfinished: a lower bound, not a time."""
    peak = 0
    loads: list[float] = []
    stopped = False
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        while proc.poll() is None:
            peak = max(peak, _tree_rss_bytes(proc.pid))
            loads.append(os.getloadavg()[0])
            if timeout and time.perf_counter() - started > timeout:
                stopped = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    if stopped:
        result = f"NOT FINISHED: stopped after {timeout:.0f} s"
        return Step(step, runner, seconds, peak, result, _mean(loads))
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{text[-4000:]}")
    # The command's own last line, not the JVM's log lines after it (Spark logs the tasks it
    # cancels while stopping).
    lines = [
        line
        for line in text.strip().splitlines()
        if line.strip() and not SPARK_LOG.match(line) and not line.startswith(("\t", " "))
    ]
    return Step(step, runner, seconds, peak, lines[-1][:160] if lines else "", _mean(loads))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else os.getloadavg()[0]


# -- the steps ----------------------------------------------------------------------------------


def prepare_audiences(url: str, env: dict[str, str], segments: int, seed: int) -> None:
    """Consent and birth years for 60% of the people, and a few rule segments."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE users SET birth_year = 1950 + (id * 7919) %% 55 WHERE id %% 5 <> 0"
        )
        connection.exec_driver_sql(
            "INSERT INTO ad_consents (user_id, profiling, personalised_ads, declared_adult, "
            "source, updated_at) SELECT id, true, true, false, 'bench', now() FROM users "
            "WHERE id %% 5 IN (1, 2, 3) ON CONFLICT DO NOTHING"
        )
        # The account's flag is what eligibility reads first (audiences/eligibility.py).
        connection.exec_driver_sql(
            "UPDATE users SET consent_ad_profiling = true WHERE id %% 5 IN (1, 2, 3)"
        )
        # Fresh statistics: planned with the flags as loaded (no one consenting), the first
        # segment's evaluation looped over its whole play aggregate once per consenting person.
        connection.exec_driver_sql("ANALYZE users, ad_consents")
        kinds = [row[0] for row in connection.exec_driver_sql("SELECT DISTINCT kind FROM items")]
        countries = [
            row[0]
            for row in connection.exec_driver_sql(
                "SELECT country FROM users WHERE country IS NOT NULL GROUP BY country "
                "ORDER BY count(*) DESC LIMIT 6"
            )
        ]
        artists = [
            row[0]
            for row in connection.exec_driver_sql(
                "SELECT id FROM items WHERE kind = 'artist' ORDER BY id LIMIT 200"
            )
        ]
    engine.dispose()
    rng = random.Random(seed)
    playable = [k for k in ("track", "episode", "film") if k in kinds] or kinds
    for number in range(segments):
        rules: list[dict[str, object]] = [
            {"type": "kind", "kinds": [rng.choice(playable)], "min_plays": rng.choice([3, 10])},
            {"type": "country", "countries": rng.sample(countries, 2)},
        ]
        if number % 2:
            rules.append({"type": "creator", "creators": rng.sample(artists, 3), "min_plays": 2})
        if number % 3 == 2:
            rules.append({"type": "not", "rule": {"type": "age", "max": 24}})
        rule = json.dumps({"type": "and", "rules": rules})
        cli(env, "audiences", "create", f"bench segment {number}", "--rule", rule)


def _post(port: int, path: str, body: bytes, token: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(
        "POST",
        path,
        body,
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def ingest_over_http(
    env: dict[str, str], workdir: Path, plays: int, clients: int, prefix: str = "pipe"
) -> Step:
    """``plays`` new plays through the native API, in batches of 500 from ``clients`` threads."""
    tokens = []
    for client in range(clients):
        name = f"{prefix}{client}_{os.getpid()}"
        out = cli(env, "users", "create", name, "--password", "bench-password-1", "--json")
        tokens.append(json.loads(out)["token"])
    batch = 500
    batches = max(1, plays // batch)
    start = datetime.now(UTC) - timedelta(days=30)

    def body(number: int) -> bytes:
        base = start + timedelta(seconds=number * batch * 7)
        return json.dumps(
            {
                "plays": [
                    {
                        "item": {
                            "kind": "track",
                            "artist": f"Pipeline Artist {(number * batch + i) % 997}",
                            "title": f"Pipeline Song {(number * batch + i) % 4001}",
                        },
                        "played_at": (base + timedelta(seconds=7 * i)).isoformat(),
                    }
                    for i in range(batch)
                ]
            }
        ).encode()

    accepted = 0
    latencies: list[float] = []
    lock = threading.Lock()
    with tastegraph_server(env, workdir / "ingest-server.log") as port:

        def worker(client: int) -> None:
            nonlocal accepted
            for number in range(client, batches, clients):
                payload = body(number)
                began = time.perf_counter()
                status, data = _post(port, "/api/v1/plays/batch", payload, tokens[client])
                took = time.perf_counter() - began
                if status >= 300:
                    raise RuntimeError(f"ingest answered {status}: {data[:300]!r}")
                count = int(json.loads(data)["accepted"])
                with lock:
                    accepted += count
                    latencies.append(took)

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(worker, range(clients)))
        seconds = time.perf_counter() - started
    p50 = percentile(latencies, 0.5) * 1000
    p99 = percentile(latencies, 0.99) * 1000
    return Step(
        "ingest (native API)",
        f"{clients} clients",
        seconds,
        0,
        f"{accepted:,} plays, {accepted / seconds:,.0f} plays/s, batch p50/p99 "
        f"{p50:.0f}/{p99:.0f} ms",
    )


def serve_results(env: dict[str, str], workdir: Path, url: str, requests: int) -> list[Step]:
    """Time what the jobs produced, as clients read it: site-wide and country charts (the
    charts job's rollups), people's own recommendations (each with their own token) and
    similar items (the recs job's version)."""
    rng = random.Random(7)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        people = [
            (int(row[0]), str(row[1]))
            for row in connection.exec_driver_sql(
                "SELECT id, name FROM users WHERE name LIKE 'u%%' ORDER BY id"
            )
        ]
        countries = [
            str(row[0])
            for row in connection.exec_driver_sql(
                "SELECT country FROM users WHERE country IS NOT NULL GROUP BY country "
                "ORDER BY count(*) DESC LIMIT 8"
            )
        ]
        tracks = [
            int(row[0])
            for row in connection.exec_driver_sql(
                "SELECT item_id FROM plays GROUP BY item_id ORDER BY count(*) DESC LIMIT 2000"
            )
        ]
    engine.dispose()
    picked = rng.sample(people, min(requests, len(people)))
    tokens = tokens_for(url, [user_id for user_id, _ in picked])
    levels = ["artist", "track", "album"]
    periods = ["7day", "1month", "12month", "overall"]
    paths: dict[str, list[tuple[str, str | None]]] = {
        "site chart": [
            (f"/api/v1/charts/{rng.choice(levels)}?period={rng.choice(periods)}&limit=50", None)
            for _ in range(requests)
        ],
        "country chart": [
            (
                f"/api/v1/charts/{rng.choice(levels)}?period={rng.choice(periods)}&limit=50"
                f"&country={rng.choice(countries)}",
                None,
            )
            for _ in range(requests)
        ],
        "recommendations": [
            (f"/api/v1/users/{name}/recommendations?kind=track&limit=20", tokens.get(user_id))
            for user_id, name in picked
        ],
        "similar items": [
            (f"/api/v1/items/{rng.choice(tracks)}/similar?limit=20", None) for _ in range(requests)
        ],
    }
    steps: list[Step] = []
    with tastegraph_server(env, workdir / "serve.log") as port:
        for label, wanted in paths.items():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            latencies: list[float] = []
            statuses: dict[int, int] = {}
            for path, token in wanted:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                began = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                latencies.append(time.perf_counter() - began)
                statuses[response.status] = statuses.get(response.status, 0) + 1
            conn.close()
            steps.append(
                Step(
                    f"served: {label}",
                    "HTTP",
                    sum(latencies),
                    0,
                    f"p50 {percentile(latencies, 0.5) * 1000:.1f} / p95 "
                    f"{percentile(latencies, 0.95) * 1000:.1f} ms; statuses {statuses}",
                )
            )
    return steps


def batch_jobs(env: dict[str, str]) -> list[str]:
    out = cli(env, "batch", "list")
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--plays", type=int, default=20_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--segments", type=int, default=6)
    parser.add_argument("--ingest-plays", type=int, default=100_000)
    parser.add_argument("--ingest-clients", type=int, default=4)
    parser.add_argument("--jobs", default="", help="comma-separated; default every job")
    parser.add_argument("--runners", default="local,spark")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--recs-kinds", default="track", help="the recs job's kinds option")
    parser.add_argument(
        "--recs-model",
        default="als",
        help="the recs job's model option: both runners train the same model (empty: each "
        "runner's default)",
    )
    parser.add_argument("--postgres-url", default=ADMIN_URL)
    parser.add_argument("--database", default=None)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="the database is loaded already")
    parser.add_argument("--export-dir", default="", help="kept when given")
    parser.add_argument(
        "--no-export", action="store_true", help="use the Parquet export in --export-dir as is"
    )
    parser.add_argument("--no-serve", action="store_true", help="skip the served-results step")
    parser.add_argument(
        "--update-plays",
        type=int,
        default=5000,
        help="after the export, post this many new plays and time `export parquet --update`",
    )
    parser.add_argument(
        "--job-timeout", type=float, default=0, help="stop a job after this many seconds"
    )
    parser.add_argument(
        "--results", default="", help="append each step to this JSON-lines file as it ends"
    )
    parser.add_argument("--spark-driver-memory", default="8g")
    parser.add_argument(
        "--data-dir", default="", help="the servers' and jobs' data folder (recs versions); kept"
    )
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    if args.no_export and not args.export_dir:
        parser.error("--no-export needs --export-dir")
    args.sqlite_file = None  # bench_database asks; this bench runs on PostgreSQL only

    workdir = Path(tempfile.mkdtemp(prefix="tg-pipeline-"))
    export_dir = Path(args.export_dir) if args.export_dir else workdir / "export"
    try:
        steps = run_pipeline(args, workdir, export_dir)
    finally:
        if not args.export_dir:
            shutil.rmtree(workdir, ignore_errors=True)
    print_steps(args, steps)
    return 0


class Steps(list[Step]):
    """The steps so far; each one is printed, and written to ``results`` when given, as it
    ends, so a long run that is stopped keeps what it measured."""

    def __init__(self, results: str, scale: str) -> None:
        super().__init__()
        self.results = Path(results) if results else None
        self.scale = scale

    def append(self, step: Step) -> None:
        if not step.load:  # a step timed in this process: the load average as it ends
            step = replace(step, load=os.getloadavg()[0])
        super().append(step)
        print(
            f"  {step.step} [{step.runner}]: {step.seconds:,.1f} s, "
            f"peak {step.peak_bytes / 2**20:,.0f} MiB, load {step.load:.1f}; {step.result}",
            flush=True,
        )
        if self.results is not None:
            with self.results.open("a") as out:
                record = {"scale": self.scale, "at": datetime.now(UTC).isoformat(), **asdict(step)}
                out.write(json.dumps(record) + "\n")

    def extend(self, steps: Any) -> None:
        for step in steps:
            self.append(step)


def run_pipeline(args: argparse.Namespace, workdir: Path, export_dir: Path) -> list[Step]:
    steps = Steps(args.results, f"{args.users} users, {args.plays} plays")
    log = print
    with bench_database(args, "postgresql", workdir) as url:
        env = {
            **os.environ,
            "TASTEGRAPH_MODE": "dev",
            "TASTEGRAPH_DATABASE_URL": url,
            "TASTEGRAPH_DATA_DIR": args.data_dir or str(workdir / "data"),
            "TASTEGRAPH_STATS_FOLD_SECONDS": "1",
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
            # In local mode the driver is the only executor: every cell of the recs matrix
            # (12.8M at 20M plays) passes through its heap; Spark's 1g default runs out.
            "TASTEGRAPH_SPARK_DRIVER_MEMORY": args.spark_driver_memory,
            # The segments are the batch job measured here; the servers' own refresher would
            # evaluate every rule over the whole log beside the steps being timed (minutes a
            # rule at 20M plays).
            "TASTEGRAPH_AUDIENCE_REFRESH_SECONDS": "0",
        }
        if not args.reuse:
            started = time.perf_counter()
            community = make_community(args.users, args.plays, args.seed, int(time.time()))
            generated = time.perf_counter() - started
            timings = load(url, community, log, rollups=False)
            steps.append(Step("generate", "numpy", generated, 0, f"{args.plays:,} plays"))
            for label, seconds in timings.items():
                steps.append(Step(f"bulk load: {label}", "COPY", seconds, 0, ""))
            first_month = (
                datetime.fromtimestamp(int(community.play_at.min()), UTC).strftime("%Y-%m")
                if args.plays
                else ""
            )
            del community
            if first_month:
                # What an operator runs after importing history into a partitioned log: the
                # COPY put every play in the default partition; this moves them into months.
                argv = [str(BIN / "tastegraph"), "db", "partitions", "--from", first_month]
                steps.append(run_measured("bulk load: monthly partitions", "PostgreSQL", argv, env))
            prepare_audiences(url, env, args.segments, args.seed)
        jobs = [j for j in args.jobs.split(",") if j] or batch_jobs(env)
        runs = [(j, r) for j in jobs for r in args.runners.split(",") if r]
        if ("charts", "local") in runs:
            # The backfill after a bulk import comes first: a server's folder would otherwise
            # count the whole imported log into the rollups 100,000 plays at a time.
            runs.remove(("charts", "local"))
            steps.append(run_job(args, env, export_dir, "charts", "local"))
        if args.ingest_plays:
            steps.append(ingest_over_http(env, workdir, args.ingest_plays, args.ingest_clients))
        if not args.no_export:
            if export_dir.exists():
                shutil.rmtree(export_dir)
            steps.append(
                run_measured(
                    "export parquet",
                    "pyarrow",
                    [str(BIN / "tastegraph"), "export", "parquet", str(export_dir)],
                    env,
                )
            )
        if args.update_plays:
            steps.append(ingest_over_http(env, workdir, args.update_plays, 1, "update"))
            update = [str(BIN / "tastegraph"), "export", "parquet", str(export_dir), "--update"]
            steps.append(run_measured("export parquet --update", "pyarrow", update, env))
        for job, runner in runs:
            steps.append(run_job(args, env, export_dir, job, runner))
        if not args.no_serve:
            steps.extend(serve_results(env, workdir, url, args.requests))
    return steps


def empty_rollups(url: str) -> None:
    """The chart rollups emptied, so each ``charts`` run is timed as the first build after a
    bulk import (PostgreSQL builds the indexes once at the end). Rebuilding full tables in
    place costs more: every old row is deleted and the new ones go into live indexes."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "TRUNCATE chart_counts, country_chart_counts, chart_sizes, chart_pairs"
        )
    engine.dispose()


def run_job(
    args: argparse.Namespace, env: dict[str, str], export_dir: Path, job: str, runner: str
) -> Step:
    if job == "charts":
        empty_rollups(env["TASTEGRAPH_DATABASE_URL"])
    options = []
    if job == "recs":
        options = ["-o", f"kinds={args.recs_kinds}"]
        if args.recs_model:
            options += ["-o", f"model={args.recs_model}"]
    argv = [str(BIN / "tastegraph"), "batch", "run", job, "--runner", runner]
    argv += ["--export", str(export_dir), *options]
    return run_measured(f"job {job}", runner, argv, env, args.job_timeout)


def print_steps(args: argparse.Namespace, steps: list[Step]) -> None:
    rows: list[tuple[str, ...]] = [
        (
            s.step,
            s.runner,
            f"{s.seconds:,.1f}",
            f"{s.peak_bytes / 2**20:,.0f}" if s.peak_bytes else "",
            f"{s.load:.1f}" if s.load else "",
            s.result,
        )
        for s in steps
    ]
    print(f"\n{args.users:,} users, {args.plays:,} plays; load average {os.getloadavg()[0]:.1f}")
    for line in format_table(
        ("step", "runner", "seconds", "peak MiB", "load", "result"),
        rows,
        "<<>>><",
        markdown=args.markdown,
    ):
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
