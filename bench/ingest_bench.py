"""Ingest throughput: plays per second through POST /api/v1/plays/batch, on SQLite and PostgreSQL.

A script, not a test. For each backend it runs a real server (``tastegraph serve`` in a
subprocess, on a fresh database migrated with ``tastegraph db upgrade``) and drives it over
HTTP with batches of plays. For comparison it records the same batches in this process by
calling the ingest service directly (``Runtime`` + ``IngestService.record``), with and
without per-play validation, each on a fresh database of its own, so the table shows what
HTTP, JSON and validation cost on top of the write path.

The workload is a catalogue of a few thousand tracks (artists, albums, some featured
artists) played with Zipf popularity by several users in different time zones, timestamps
spread over the past months; most plays hit known items, some create new ones, and a small
share are resubmissions (duplicates). Warm-up batches are sent first and not timed.

Usage::

    .venv/bin/python bench/ingest_bench.py            # 100 batches of 1,000, both backends
    .venv/bin/python bench/ingest_bench.py --plays 20000 --backends sqlite
    .venv/bin/python bench/ingest_bench.py --paths http   # only the HTTP path

PostgreSQL runs in a throwaway database on the server at --postgres-url (default: the local
one, user postgres); it is dropped afterwards, and skipped with the reason when unreachable.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
from _common import (
    DEFAULT_PG_URL,
    choices,
    cli,
    format_table,
    freeze,
    fresh_database,
    make_catalogue,
    median_of,
    percentile,
    postgres_problem,
    tastegraph_server,
    zipf_cumulative,
)

from tastegraph import migrations
from tastegraph.accounts.schemas import UserCreate
from tastegraph.config import Mode, Settings
from tastegraph.ingest.validation import validate_plays
from tastegraph.runtime import Runtime

PATHS = ("http", "service+validate", "service")
PASSWORD = "bench-password"
USER_ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney")

# -- workload -----------------------------------------------------------------------------------


@dataclass
class Batch:
    user: str
    plays: list[dict[str, Any]]
    body: bytes = b""

    def __post_init__(self) -> None:
        self.body = orjson.dumps({"plays": self.plays})


@dataclass
class Workload:
    users: dict[str, str]
    """User name -> IANA time zone."""
    warmup: list[Batch]
    batches: list[Batch]
    tracks: int

    @property
    def plays(self) -> int:
        return sum(len(b.plays) for b in self.batches)


def post_batch(conn: http.client.HTTPConnection, batch: Batch, token: str) -> bytes:
    """POST one batch to the batch API as the person ``token`` names; the response body
    (anything but 200 raises)."""
    conn.request(
        "POST",
        "/api/v1/plays/batch",
        body=batch.body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {payload[:2000]!r}")
    return payload


def make_workload(
    *,
    plays: int,
    batch_size: int,
    warmup_batches: int,
    tracks: int,
    users: int,
    zipf: float,
    duplicates: float,
    seed: int,
) -> Workload:
    rng = random.Random(seed)
    catalogue = make_catalogue(rng, tracks)
    cumulative = zipf_cumulative(len(catalogue), zipf)
    names = {f"bench{i}": USER_ZONES[i % len(USER_ZONES)] for i in range(users)}
    sizes = [batch_size] * warmup_batches
    sizes += [min(batch_size, plays - done) for done in range(0, plays, batch_size)]
    # Each user sends its history oldest first, as a scrobbler catching up does.
    now = int(datetime.now(UTC).timestamp())
    span = 180 * 86_400
    per_user: dict[str, list[int]] = {}
    owners = [list(names)[i % users] for i in range(len(sizes))]
    for name in names:
        count = sum(size for owner, size in zip(owners, sizes, strict=True) if owner == name)
        per_user[name] = sorted(rng.sample(range(now - span, now - 60), count))
    cursor = dict.fromkeys(names, 0)
    previous: dict[str, list[dict[str, Any]]] = {}
    batches: list[Batch] = []
    for owner, size in zip(owners, sizes, strict=True):
        chosen = rng.choices(catalogue, cum_weights=cumulative, k=size)
        stamps = per_user[owner][cursor[owner] : cursor[owner] + size]
        cursor[owner] += size
        batch_plays = [_play(rng, ref, at) for ref, at in zip(chosen, stamps, strict=True)]
        # A few plays were already sent in the user's previous batch: client retries.
        earlier = previous.get(owner, [])
        for i in range(len(batch_plays)):
            if earlier and rng.random() < duplicates:
                batch_plays[i] = rng.choice(earlier)
        previous[owner] = batch_plays
        batches.append(Batch(user=owner, plays=batch_plays))
    return Workload(
        users=names,
        warmup=batches[:warmup_batches],
        batches=batches[warmup_batches:],
        tracks=tracks,
    )


def _play(rng: random.Random, ref: dict[str, Any], at: int) -> dict[str, Any]:
    played_at: int | str = at
    if rng.random() < 0.3:
        # Some clients send ISO 8601 with their local offset.
        offset = timezone(timedelta(hours=rng.choice([-5, 0, 1, 2, 9])))
        played_at = datetime.fromtimestamp(at, offset).isoformat()
    out: dict[str, Any] = {"played_at": played_at, "item": ref}
    if "duration" in ref and rng.random() < 0.7:
        out["duration_played"] = rng.randint(30, ref["duration"])
    if rng.random() < 0.5:
        out["client"] = rng.choice(["bench-player", "mobile", "desktop"])
    return out


# -- measurements -------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    path: str
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    plays: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    spread: tuple[float, float] = (0.0, 0.0)
    """The lowest and highest plays/s of repeated runs (see --repeat)."""

    @property
    def rate(self) -> float:
        return self.plays / self.elapsed if self.elapsed else 0.0


def _count(result: Result, report: dict[str, Any], size: int) -> None:
    result.accepted += report["accepted"]
    result.duplicates += report["duplicates"]
    result.rejected += report["rejected"]
    if report["accepted"] + report["duplicates"] + report["rejected"] != size:
        raise RuntimeError(f"a report does not cover its batch of {size}: {report}")


def run_http(backend: str, url: str, workload: Workload, workdir: Path) -> Result:
    env = {
        **os.environ,
        "TASTEGRAPH_MODE": "dev",
        "TASTEGRAPH_DATABASE_URL": url,
        "TASTEGRAPH_DATA_DIR": str(workdir / "data"),
    }
    cli(env, "db", "upgrade")
    tokens = {}
    for name, zone in workload.users.items():
        created = orjson.loads(
            cli(env, "users", "create", name, "--password", PASSWORD, "--timezone", zone, "--json")
        )
        tokens[name] = created["token"]
    result = Result(backend, "http")
    with tastegraph_server(env, workdir / f"server-{backend}.log") as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

        def send(batch: Batch) -> dict[str, Any]:
            report: dict[str, Any] = orjson.loads(post_batch(conn, batch, tokens[batch.user]))
            return report

        for batch in workload.warmup:
            send(batch)
        started = time.perf_counter()
        for batch in workload.batches:
            t0 = time.perf_counter()
            report = send(batch)
            result.latencies.append(time.perf_counter() - t0)
            _count(result, report, len(batch.plays))
            result.plays += len(batch.plays)
        result.elapsed = time.perf_counter() - started
        conn.close()
    return result


def run_service(backend: str, url: str, workload: Workload, *, validate: bool) -> Result:
    """The same batches through ``IngestService.record`` in this process: no HTTP, no JSON."""
    settings = Settings(mode=Mode.DEV, database_url=url)
    runtime = Runtime.create(settings)
    try:
        migrations.upgrade(runtime.db.engine)
        with runtime.db.unit_of_work(write=True) as session:
            svc = runtime.services(session)
            for name, zone in workload.users.items():
                svc.accounts.register(UserCreate(name=name, password=PASSWORD, timezone=zone))
        result = Result(backend, "service+validate" if validate else "service")

        def record(batch: Batch, submissions: Any) -> dict[str, Any]:
            if validate:
                submissions, rejected = validate_plays(batch.plays)
            else:
                rejected = []
            with runtime.db.unit_of_work(write=True) as session:
                svc = runtime.services(session)
                user = svc.accounts.get_by_name(batch.user)
                stored = svc.ingest.record(user, submissions, source="api")
            statuses = [r.status.value for r in [*stored, *rejected]]
            return {
                "accepted": statuses.count("accepted"),
                "duplicates": statuses.count("duplicate"),
                "rejected": statuses.count("rejected"),
            }

        def prepared(batch: Batch) -> Any:
            if validate:
                return None
            valid, rejected = validate_plays(batch.plays)
            if rejected:
                raise RuntimeError(f"the workload has invalid plays: {rejected[:3]}")
            return valid

        for batch in workload.warmup:
            record(batch, prepared(batch))
        # Without validation, the plays are validated before the clock starts.
        ready = [prepared(batch) for batch in workload.batches]
        freeze()
        started = time.perf_counter()
        for batch, submissions in zip(workload.batches, ready, strict=True):
            t0 = time.perf_counter()
            report = record(batch, submissions)
            result.latencies.append(time.perf_counter() - t0)
            _count(result, report, len(batch.plays))
            result.plays += len(batch.plays)
        result.elapsed = time.perf_counter() - started
        return result
    finally:
        runtime.close()


# -- databases ----------------------------------------------------------------------------------


# -- output -------------------------------------------------------------------------------------


def run_once(backend: str, path: str, url: str, workload: Workload, workdir: Path) -> Result:
    if path == "http":
        return run_http(backend, url, workload, workdir)
    return run_service(backend, url, workload, validate=path == "service+validate")


def median_run(runs: list[Result]) -> Result:
    """The run with the median throughput, knowing the others' range."""
    middle, low, high = median_of(runs, lambda r: r.rate)
    middle.spread = (low, high)
    return middle


def print_table(results: list[Result]) -> None:
    if not results:
        print("nothing was measured")
        return
    repeated = any(r.spread[0] != r.spread[1] for r in results)
    header: tuple[str, ...] = (
        "backend",
        "path",
        "batches",
        "plays/s",
        "p50 ms/batch",
        "p99 ms/batch",
        "stored",
    )
    if repeated:
        header += ("plays/s of all runs",)
    rows: list[tuple[str, ...]] = []
    for r in results:
        row: tuple[str, ...] = (
            r.backend,
            r.path,
            str(len(r.latencies)),
            f"{r.rate:,.0f}",
            f"{percentile(r.latencies, 0.50) * 1000:.1f}",
            f"{percentile(r.latencies, 0.99) * 1000:.1f}",
            f"{r.accepted} new, {r.duplicates} dup, {r.rejected} bad",
        )
        if repeated:
            row += (f"{r.spread[0]:,.0f} .. {r.spread[1]:,.0f}",)
        rows.append(row)
    for line in format_table(header, rows, "<<>>>><<"[: len(header)]):
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plays", type=int, default=100_000, help="timed plays per run")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=5, help="untimed batches sent first")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--paths", default=",".join(PATHS), help=f"some of {', '.join(PATHS)}")
    parser.add_argument("--tracks", type=int, default=4000, help="distinct tracks")
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--zipf", type=float, default=1.0, help="popularity exponent")
    parser.add_argument("--duplicates", type=float, default=0.01, help="share of resubmissions")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per backend and path, on fresh databases; "
        "the table shows the median run (useful on a busy machine)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, DBs)")
    args = parser.parse_args(argv)
    backends = choices(parser, args.backends, ("sqlite", "postgresql"))
    paths = choices(parser, args.paths, PATHS)

    workload = make_workload(
        plays=args.plays,
        batch_size=args.batch_size,
        warmup_batches=args.warmup,
        tracks=args.tracks,
        users=args.users,
        zipf=args.zipf,
        duplicates=args.duplicates,
        seed=args.seed,
    )
    freeze()
    sync = os.environ.get("TASTEGRAPH_SQLITE_SYNCHRONOUS", "FULL")
    print(
        f"{workload.plays:,} plays in {len(workload.batches)} batches of {args.batch_size} "
        f"(+{len(workload.warmup)} warm-up), {workload.tracks:,} tracks (Zipf {args.zipf}), "
        f"{len(workload.users)} users; {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite synchronous={sync}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="tastegraph-bench-"))
    results: list[Result] = []
    try:
        for backend in backends:
            if backend == "postgresql":
                problem = postgres_problem(args.postgres_url)
                if problem is not None:
                    print(f"skipping postgresql: not reachable at {args.postgres_url} ({problem})")
                    continue
            for path in paths:
                runs = []
                for n in range(args.repeat):
                    label = f"{path}-{n}"
                    with fresh_database(backend, workdir, args.postgres_url, label) as url:
                        print(f"running {backend} / {path} ({n + 1}/{args.repeat}) ...", flush=True)
                        runs.append(run_once(backend, path, url, workload, workdir))
                results.append(median_run(runs))
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
