"""Scrobbles per second through the Last.fm 2.0 and ListenBrainz protocols, and against Maloja.

A script, not a test. For each backend (SQLite, PostgreSQL) and protocol it starts a real
server (``tastegraph serve`` in a subprocess, on a fresh database migrated with
``tastegraph db upgrade``), creates a user with ``tastegraph users create --json`` and sends
the same listens the way real clients do:

* **Last.fm 2.0** ``track.scrobble``: ``POST /2.0/`` with batches of 50 (``artist[i]``,
  ``track[i]``, ``timestamp[i]``, ``album[i]``, ``duration[i]``, ``trackNumber[i]``), signed
  with ``api_sig`` for an API key registered with ``tastegraph apikeys create --json``, and a
  session key from ``auth.getMobileSession`` (the user's token as the password);
* **ListenBrainz** ``POST /1/submit-listens`` with ``listen_type: import``, batches of 1,000
  (``Authorization: Token …``).

With ``--with-maloja`` it also runs Maloja (``malojaserver`` from PyPI, in a virtualenv of its
own outside the project: see ``--maloja-venv``) and feeds it the same ListenBrainz batches
through its ListenBrainz-compatible endpoint, then prints tastegraph's throughput as a multiple
of Maloja's.

The listens: one user plays ``--tracks`` tracks (about one artist per 8 tracks and one album
per 10) with Zipf popularity; every system gets the same tracks in the same order. Timestamps
are distinct seconds, oldest first: spread over the past year for ListenBrainz imports (and
Maloja), and over the last 13 days for ``track.scrobble``, which ignores scrobbles older than
14 days as Last.fm does. Afterwards the stored listens are counted (tastegraph:
``GET /1/user/NAME/listen-count``; Maloja: ``/apis/mlj_1/numscrobbles``).

Usage::

    .venv/bin/python bench/protocols_bench.py                   # 100,000 listens, both backends
    .venv/bin/python bench/protocols_bench.py --with-maloja     # ... and Maloja on the same
    .venv/bin/python bench/protocols_bench.py --listens 20000 --backends sqlite --paths lastfm
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
import sqlalchemy as sa
from _common import (
    DEFAULT_PG_URL,
    choices,
    cli,
    cpu_seconds,
    format_table,
    free_port,
    freeze,
    fresh_database,
    make_catalogue,
    median_of,
    percentile,
    postgres_problem,
    postgres_version,
    stop,
    tastegraph_process,
    wait_until_answers,
    zipf_cumulative,
)

PATHS = ("lastfm", "listenbrainz")
BACKENDS = ("sqlite", "postgresql")
USER = "bench"
PASSWORD = "bench-password"
ZONE = "Europe/Berlin"
LASTFM_BATCH = 50
"""Last.fm's limit for ``track.scrobble``."""
LISTENBRAINZ_BATCH = 1000
"""ListenBrainz's limit for an ``import``."""
DAY = 86_400
RECENT_SPAN = 13 * DAY
"""``track.scrobble`` ignores timestamps older than 14 days; a day's margin for long runs."""
YEAR_SPAN = 365 * DAY
DEFAULT_MALOJA_VENV = Path(tempfile.gettempdir()) / "maloja-venv"
MALOJA_KEY = "bench-maloja-key-0123456789abcdef"
UNLIMITED = str(10**9)
"""``TASTEGRAPH_RATE_LIMIT`` for the server: 2,000 Last.fm requests would hit the default."""

# -- the listens --------------------------------------------------------------------------------


@dataclass
class Listens:
    """The same sequence of tracks, with two sets of timestamps (UNIX seconds, oldest first)."""

    refs: list[dict[str, Any]]
    recent: list[int]
    """Distinct seconds in the last 13 days: what ``track.scrobble`` takes."""
    year: list[int]
    """Distinct seconds in the past year: a history import."""
    tracks: int

    def __len__(self) -> int:
        return len(self.refs)


def make_listens(*, count: int, tracks: int, zipf: float, seed: int) -> Listens:
    rng = random.Random(seed)
    catalogue = make_catalogue(rng, tracks)
    refs = rng.choices(catalogue, cum_weights=zipf_cumulative(len(catalogue), zipf), k=count)
    now = int(datetime.now(UTC).timestamp())
    # Seconds counted back from a minute ago, so nothing is "in the future" for either server.
    recent = sorted(now - 60 - s for s in rng.sample(range(RECENT_SPAN), count))
    year = sorted(now - 60 - s for s in rng.sample(range(YEAR_SPAN), count))
    return Listens(refs=refs, recent=recent, year=year, tracks=tracks)


@dataclass
class Request:
    body: bytes
    listens: int


def listenbrainz_requests(listens: Listens, batch: int, limit: int | None = None) -> list[Request]:
    """``import`` bodies of ``batch`` listens, as liblistenbrainz sends them."""
    count = len(listens) if limit is None else min(limit, len(listens))
    requests = []
    for start in range(0, count, batch):
        payload = []
        for i in range(start, min(start + batch, count)):
            ref = listens.refs[i]
            metadata: dict[str, Any] = {"artist_name": ref["artist"], "track_name": ref["title"]}
            if "album" in ref:
                metadata["release_name"] = ref["album"]
            info: dict[str, Any] = {"submission_client": "protocols_bench"}
            if "duration" in ref:
                info["duration"] = ref["duration"]
            if "track_number" in ref:
                info["tracknumber"] = ref["track_number"]
            metadata["additional_info"] = info
            payload.append({"listened_at": listens.year[i], "track_metadata": metadata})
        body = orjson.dumps({"listen_type": "import", "payload": payload})
        requests.append(Request(body, len(payload)))
    return requests


def api_sig(params: dict[str, str], secret: str) -> str:
    """Last.fm's signature: md5 of the sorted ``name + value`` pairs and the secret, leaving out
    ``format`` and ``callback`` (and ``api_sig`` itself)."""
    text = "".join(k + params[k] for k in sorted(params) if k not in {"format", "callback"})
    return hashlib.md5((text + secret).encode(), usedforsecurity=False).hexdigest()


def signed_body(params: dict[str, str], secret: str) -> bytes:
    signed = {**params, "api_sig": api_sig(params, secret), "format": "json"}
    return urlencode(signed, quote_via=quote).encode()


def lastfm_requests(listens: Listens, api_key: str, secret: str, sk: str) -> list[Request]:
    """Signed ``track.scrobble`` bodies of up to 50 scrobbles each."""
    requests = []
    for start in range(0, len(listens), LASTFM_BATCH):
        params = {"method": "track.scrobble", "api_key": api_key, "sk": sk}
        end = min(start + LASTFM_BATCH, len(listens))
        for i, n in enumerate(range(start, end)):
            ref = listens.refs[n]
            params[f"artist[{i}]"] = ref["artist"]
            params[f"track[{i}]"] = ref["title"]
            params[f"timestamp[{i}]"] = str(listens.recent[n])
            if "album" in ref:
                params[f"album[{i}]"] = ref["album"]
            if "duration" in ref:
                params[f"duration[{i}]"] = str(ref["duration"])
            if "track_number" in ref:
                params[f"trackNumber[{i}]"] = str(ref["track_number"])
        requests.append(Request(signed_body(params, secret), end - start))
    return requests


# -- measurements -------------------------------------------------------------------------------


@dataclass
class Result:
    system: str
    backend: str
    protocol: str
    batch: str
    workload: str
    sent: int = 0
    stored: int = 0
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    spread: tuple[float, float] = (0.0, 0.0)
    """The lowest and highest listens/s of repeated runs (see --repeat)."""
    runs: int = 1
    reconnects: int = 0
    """Requests sent again because the server had closed the connection (see Client)."""
    cpu: float = 0.0
    """CPU seconds the server used while the requests were timed (see CpuMeter)."""

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_rate(self) -> float:
        return self.sent / self.cpu if self.cpu else 0.0


class CpuMeter:
    """The CPU time a server spends: its process (every thread), and on PostgreSQL the backend
    processes serving its database. Less sensitive than wall time to other work on the machine.

    Backends are found in ``pg_stat_activity`` when the meter starts and stops; one that exits
    in between (the pool keeps them) would go uncounted.
    """

    def __init__(self, pid: int, database_url: str | None = None) -> None:
        self.pid = pid
        self.engine = None
        if database_url is not None and database_url.startswith("postgresql"):
            self.engine = sa.create_engine(database_url, poolclass=sa.NullPool)
        self.before: dict[int, float] = {}

    def _sample(self) -> dict[int, float]:
        pids = [self.pid]
        if self.engine is not None:
            with self.engine.connect() as conn:
                pids += conn.execute(
                    sa.text(
                        "select pid from pg_stat_activity "
                        "where datname = current_database() and pid <> pg_backend_pid()"
                    )
                ).scalars()
        sample = {pid: cpu_seconds(pid) for pid in pids}
        return {pid: used for pid, used in sample.items() if used is not None}

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> float:
        after = self._sample()
        if self.engine is not None:
            self.engine.dispose()
        return sum(used - self.before.get(pid, 0.0) for pid, used in after.items())


class Client:
    """One keep-alive connection to a server on this machine.

    A server may close a connection that stayed idle (uvicorn after 5 s): a request that finds
    it closed is sent again once on a new one, and counted in ``reconnects``. Both protocols
    make resending safe (a listen already stored is not stored again).
    """

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
        self.reconnects = 0

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
        except ConnectionError:  # BrokenPipe, ConnectionReset, RemoteDisconnected
            self.conn.close()
            self.reconnects += 1
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
        return response.status, response.read()

    def json(self, method: str, path: str, **kw: Any) -> Any:
        status, payload = self.call(method, path, **kw)
        if status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {payload[:2000]!r}")
        return orjson.loads(payload)

    def close(self) -> None:
        self.conn.close()


def send_all(
    client: Client,
    path: str,
    requests: list[Request],
    headers: dict[str, str],
    check: Callable[[int, bytes, Request], None],
    result: Result,
    meter: CpuMeter,
) -> None:
    """Send the requests one after the other, timing each and all of them."""
    meter.start()
    started = time.perf_counter()
    for request in requests:
        t0 = time.perf_counter()
        status, payload = client.call("POST", path, body=request.body, headers=headers)
        result.latencies.append(time.perf_counter() - t0)
        check(status, payload, request)
        result.sent += request.listens
    result.elapsed = time.perf_counter() - started
    result.cpu = meter.stop()


def _check_listenbrainz(status: int, payload: bytes, _request: Request) -> None:
    if status != 200 or orjson.loads(payload) != {"status": "ok"}:
        raise RuntimeError(f"submit-listens: HTTP {status}: {payload[:2000]!r}")


def _check_lastfm(status: int, payload: bytes, request: Request) -> None:
    answer = orjson.loads(payload) if payload.startswith(b"{") else None
    attrs = (answer or {}).get("scrobbles", {}).get("@attr", {})
    if status != 200 or attrs.get("accepted") != request.listens:
        raise RuntimeError(f"track.scrobble: HTTP {status}: {payload[:2000]!r}")


def run_tastegraph(
    backend: str,
    label: str,
    protocol: str,
    url: str,
    listens: Listens,
    lb_requests: list[Request],
    workdir: Path,
) -> Result:
    env = {
        **os.environ,
        "TASTEGRAPH_MODE": "dev",
        "TASTEGRAPH_DATABASE_URL": url,
        "TASTEGRAPH_DATA_DIR": str(workdir / "data"),
        "TASTEGRAPH_RATE_LIMIT": UNLIMITED,
    }
    cli(env, "db", "upgrade")
    created = cli(
        env, "users", "create", USER, "--password", PASSWORD, "--timezone", ZONE, "--json"
    )
    token = orjson.loads(created)["token"]
    if protocol == "lastfm":
        key = orjson.loads(cli(env, "apikeys", "create", "--name", "protocols-bench", "--json"))
        result = Result(
            "tastegraph",
            label,
            "Last.fm 2.0 track.scrobble (signed)",
            f"{LASTFM_BATCH}",
            "last 13 days",
        )
    else:
        result = Result(
            "tastegraph",
            label,
            "ListenBrainz submit-listens (import)",
            f"{LISTENBRAINZ_BATCH:,}",
            "past year",
        )
    log = workdir / f"server-{backend}-{protocol}.log"
    with tastegraph_process(env, log) as (port, proc):
        if protocol == "lastfm":
            login = {
                "method": "auth.getMobileSession",
                "api_key": key["api_key"],
                "username": USER,
                "password": token,
            }
            client = Client(port)
            session = client.json(
                "POST",
                "/2.0/",
                body=signed_body(login, key["secret"]),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            client.close()
            sk = session["session"]["key"]
            # Built (and signed) before the clock starts, as the LB bodies are.
            requests = lastfm_requests(listens, key["api_key"], key["secret"], sk)
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            client = Client(port)
            meter = CpuMeter(proc.pid, url)
            send_all(client, "/2.0/", requests, headers, _check_lastfm, result, meter)
        else:
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            client = Client(port)
            meter = CpuMeter(proc.pid, url)
            path = "/1/submit-listens"
            send_all(client, path, lb_requests, headers, _check_listenbrainz, result, meter)
        counted = client.json(
            "GET", f"/1/user/{USER}/listen-count", headers={"Authorization": f"Token {token}"}
        )
        result.stored = counted["payload"]["count"]
        result.reconnects = client.reconnects
        client.close()
    return result


# -- Maloja -------------------------------------------------------------------------------------


def maloja_install_command(venv: Path) -> str:
    return f"python3 -m venv {venv} && {venv}/bin/pip install malojaserver"


def maloja_version(venv: Path) -> str | None:
    """The installed ``malojaserver`` version in ``venv``, or None when it is not there."""
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    done = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('malojaserver'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def install_maloja(venv: Path) -> None:
    print(f"creating {venv}: {maloja_install_command(venv)}", flush=True)
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "malojaserver"], check=True)


@contextlib.contextmanager
def maloja_server(
    venv: Path, datadir: Path, port: int, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALOJA_")}
    env |= {
        "MALOJA_DATA_DIRECTORY": str(datadir),
        "MALOJA_HOST": "127.0.0.1",
        "MALOJA_PORT": str(port),
        "MALOJA_SKIP_SETUP": "yes",
        "MALOJA_FORCE_PASSWORD": "bench-password",
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(venv / "bin" / "python"), "-m", "maloja", "run"],
            env=env,
            cwd=datadir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answers(proc, port, "/apis/mlj_1/serverinfo", log_path, timeout=120)
        yield proc
    finally:
        stop(proc, signal.SIGTERM)


def run_maloja(
    venv: Path, version: str, requests: list[Request], workdir: Path, label: str
) -> Result:
    datadir = workdir / f"maloja-{label}"
    datadir.mkdir()
    # Maloja's API keys: a YAML mapping of client name to key (doreah's KeyStore).
    (datadir / "apikeys.yml").write_text(f"bench: {MALOJA_KEY}\n")
    port = free_port()
    result = Result(
        f"Maloja {version}",
        "SQLite (Maloja's own)",
        "ListenBrainz submit-listens (import)",
        f"{LISTENBRAINZ_BATCH:,}",
        "past year",
    )
    with maloja_server(venv, datadir, port, workdir / f"maloja-{label}.log") as proc:
        client = Client(port)
        headers = {"Authorization": f"Token {MALOJA_KEY}", "Content-Type": "application/json"}
        path = "/apis/listenbrainz/1/submit-listens"
        send_all(client, path, requests, headers, _check_listenbrainz, result, CpuMeter(proc.pid))
        # Without a range, Maloja counts from the oldest scrobble it knew when it started
        # (none here), so imported history is not counted until a restart: give one.
        counted = client.json("GET", "/apis/mlj_1/numscrobbles?since=2000")
        result.stored = counted["amount"]
        result.reconnects = client.reconnects
        client.close()
    return result


# -- output -------------------------------------------------------------------------------------


def report(result: Result) -> None:
    note = (
        f" ({result.reconnects} requests resent on a new connection)" if result.reconnects else ""
    )
    print(f"  {result.rate:,.0f} listens/s, {result.stored:,} stored{note}", flush=True)


def median_run(runs: list[Result]) -> Result:
    """The run with the median throughput, knowing the others' range."""
    middle, low, high = median_of(runs, lambda r: r.rate)
    middle.spread = (low, high)
    middle.runs = len(runs)
    return middle


def print_table(results: list[Result]) -> None:
    if not results:
        print("nothing was measured")
        return
    repeated = any(r.runs > 1 for r in results)
    header: tuple[str, ...] = (
        "system",
        "backend",
        "protocol",
        "batch",
        "timestamps",
        "listens sent",
        "stored",
        "listens/s",
        "listens/server CPU s",
        "p50 ms/batch",
        "p99 ms/batch",
    )
    if repeated:
        header += ("runs: listens/s low .. high",)
    rows: list[tuple[str, ...]] = []
    for r in results:
        row: tuple[str, ...] = (
            r.system,
            r.backend,
            r.protocol,
            r.batch,
            r.workload,
            f"{r.sent:,}",
            f"{r.stored:,}",
            f"{r.rate:,.0f}",
            f"{r.cpu_rate:,.0f}",
            f"{percentile(r.latencies, 0.50) * 1000:,.1f}",
            f"{percentile(r.latencies, 0.99) * 1000:,.1f}",
        )
        if repeated:
            row += (f"{r.runs}: {r.spread[0]:,.0f} .. {r.spread[1]:,.0f}",)
        rows.append(row)
    for line in format_table(header, rows, "<<<><>>>>>><"[: len(header)], markdown=True):
        print(line)
    resent = [r for r in results if r.reconnects]
    for r in resent:
        print(
            f"\n{r.system}, {r.backend}, {r.protocol}: {r.reconnects} requests were sent again "
            "after the server had closed the connection (they are timed, once each)."
        )


def print_ratios(results: list[Result], goal: float) -> None:
    maloja = next((r for r in results if r.system.startswith("Maloja")), None)
    if maloja is None or not maloja.rate:
        return
    print()
    print(
        f"tastegraph / {maloja.system} ({maloja.rate:,.0f} listens/s and "
        f"{maloja.cpu_rate:,.0f} listens per server CPU second over {maloja.sent:,} listens "
        f"through its ListenBrainz endpoint); goal: at least {goal:g}x"
    )
    print()
    for r in results:
        if r.system != "tastegraph":
            continue
        ratio = r.rate / maloja.rate
        cpu = f", {r.cpu_rate / maloja.cpu_rate:,.1f}x per CPU second" if maloja.cpu_rate else ""
        verdict = "met" if ratio >= goal else "NOT met"
        print(f"* {r.backend}, {r.protocol}: **{ratio:,.1f}x** listens/s ({verdict}){cpu}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listens", type=int, default=100_000, help="listens sent per run")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql")
    parser.add_argument("--paths", default=",".join(PATHS), help="lastfm, listenbrainz")
    parser.add_argument("--tracks", type=int, default=4000, help="distinct tracks")
    parser.add_argument("--zipf", type=float, default=1.0, help="popularity exponent")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="tastegraph runs per backend and protocol, on fresh databases; "
        "the table shows the median run (useful on a busy machine)",
    )
    parser.add_argument(
        "--with-maloja", action="store_true", help="also feed the listens to Maloja"
    )
    parser.add_argument(
        "--maloja-venv",
        type=Path,
        default=DEFAULT_MALOJA_VENV,
        help=f"a virtualenv with malojaserver, outside the project (default {DEFAULT_MALOJA_VENV})",
    )
    parser.add_argument(
        "--install-maloja",
        action="store_true",
        help="create --maloja-venv and pip install malojaserver into it when it lacks it",
    )
    parser.add_argument(
        "--maloja-listens",
        type=int,
        default=None,
        help="listens sent to Maloja (default: the same as --listens); "
        "the first N of the same sequence",
    )
    parser.add_argument("--maloja-repeat", type=int, default=1, help="Maloja runs (median)")
    parser.add_argument("--goal", type=float, default=10.0, help="the ratio to Maloja aimed at")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, DBs)")
    args = parser.parse_args(argv)
    args.backends = choices(parser, args.backends, BACKENDS, {"postgres": "postgresql"})
    args.paths = choices(parser, args.paths, PATHS, {"lb": "listenbrainz", "last.fm": "lastfm"})
    return args


def find_maloja(args: argparse.Namespace) -> str | None:
    """Maloja's version in --maloja-venv (installing it if asked); None if it is not there."""
    version = maloja_version(args.maloja_venv)
    if version is None and args.install_maloja:
        install_maloja(args.maloja_venv)
        version = maloja_version(args.maloja_venv)
    if version is None:
        print(
            f"Maloja is not installed in {args.maloja_venv}. Create that virtualenv with\n\n"
            f"    {maloja_install_command(args.maloja_venv)}\n\n"
            "or pass --install-maloja to let this script do it (or --maloja-venv PATH).",
            file=sys.stderr,
        )
    return version


def run_tastegraph_rows(
    args: argparse.Namespace, listens: Listens, lb_requests: list[Request], workdir: Path
) -> list[Result]:
    results = []
    for backend in args.backends:
        label = "SQLite"
        if backend == "postgresql":
            problem = postgres_problem(args.postgres_url)
            if problem is not None:
                print(f"skipping postgresql: not reachable at {args.postgres_url} ({problem})")
                continue
            label = postgres_version(args.postgres_url)
        for path in args.paths:
            runs = []
            for n in range(args.repeat):
                with fresh_database(backend, workdir, args.postgres_url, f"{path}-{n}") as url:
                    print(f"running {backend} / {path} ({n + 1}/{args.repeat}) ...", flush=True)
                    runs.append(
                        run_tastegraph(backend, label, path, url, listens, lb_requests, workdir)
                    )
                    report(runs[-1])
            results.append(median_run(runs))
    return results


def run_maloja_rows(
    args: argparse.Namespace, version: str, listens: Listens, workdir: Path
) -> list[Result]:
    count = min(args.maloja_listens or len(listens), len(listens))
    requests = listenbrainz_requests(listens, LISTENBRAINZ_BATCH, limit=count)
    runs = []
    for n in range(args.maloja_repeat):
        print(
            f"running Maloja {version} ({n + 1}/{args.maloja_repeat}, {count:,} listens) ...",
            flush=True,
        )
        runs.append(run_maloja(args.maloja_venv, version, requests, workdir, str(n)))
        report(runs[-1])
    return [median_run(runs)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    maloja = find_maloja(args) if args.with_maloja else None
    if args.with_maloja and maloja is None:
        return 2
    listens = make_listens(count=args.listens, tracks=args.tracks, zipf=args.zipf, seed=args.seed)
    lb_requests = listenbrainz_requests(listens, LISTENBRAINZ_BATCH)
    freeze()
    sync = os.environ.get("TASTEGRAPH_SQLITE_SYNCHRONOUS", "FULL")
    print(
        f"{len(listens):,} listens by one user of {listens.tracks:,} tracks "
        f"(Zipf {args.zipf}, seed {args.seed}), the same tracks in the same order everywhere; "
        f"timestamps are distinct seconds, oldest first, over the last 13 days for "
        f"track.scrobble and the past year for ListenBrainz imports. "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite synchronous={sync}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="tastegraph-protocols-bench-"))
    results: list[Result] = []
    try:
        results += run_tastegraph_rows(args, listens, lb_requests, workdir)
        if maloja is not None:
            results += run_maloja_rows(args, maloja, listens, workdir)
    except BaseException:
        args.keep = True  # the server logs say what went wrong
        raise
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print_table(results)
    print_ratios(results, args.goal)
    return 0


if __name__ == "__main__":
    sys.exit(main())
