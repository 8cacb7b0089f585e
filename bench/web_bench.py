"""Server-side render times of the web pages on the demo community.

A script, not a test. It loads the demo community into ``--data-dir`` (``tastegraph demo``;
several minutes on a busy machine) unless the database there already holds it, trains the
recommendations once (``tastegraph recs train``) unless a trained version is there (skip with
``--no-train``), then renders pages in this process through the ASGI app (Starlette's
``TestClient``: no network, no browser; what is timed is routing, the services' queries,
rendering and the response) and prints p50 / p95 / max per page:

* the profile page of ``--profiles`` demo users chosen across the range of play counts (the
  lightest listener to the heaviest), seen by a signed-in viewer (so the compatibility of their
  tastes is computed) and, for the same users, signed out; the target is under 200 ms;
* the home page (signed out, and signed in with the friends' activity), the charts (the
  week's artists with distinct listeners, and all-time tracks), item pages (the most played
  artist, its most played track, the most watched show signed out and in, the most read
  outlet), search, and the signed-in viewer's recommendations.

Usage::

    .venv/bin/python bench/web_bench.py                      # demo in /tmp/tastegraph-web-bench
    .venv/bin/python bench/web_bench.py --data-dir /tmp/x --repeat 30 --profiles 12
    .venv/bin/python bench/web_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/demo

With ``--database-url`` the database must already hold the demo (``tastegraph demo``).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from _common import BIN, format_table, percentile
from fastapi.testclient import TestClient

from tastegraph.catalog.kinds import Kind
from tastegraph.config import Mode, Settings
from tastegraph.demo.community import DEMO_PASSWORD, DEMO_USER
from tastegraph.runtime import Runtime
from tastegraph.web.app import create_app

TARGET_MS = 200.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Timing:
    page: str
    path: str
    viewer: str
    samples: list[float]
    cpu: list[float]
    """Process CPU time of each render (every thread: the page runs in the worker pool), which
    other work on a busy machine disturbs much less than the wall time."""


def _env(args: argparse.Namespace, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "TASTEGRAPH_MODE": "demo",
        "TASTEGRAPH_DATA_DIR": str(args.data_dir / "data"),
        "TASTEGRAPH_DATABASE_URL": url,
        "OPENBLAS_NUM_THREADS": "1",
    }


def _has_demo(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    sa.text("select count(*) from users where name = :n"), {"n": DEMO_USER}
                ).scalar()
            )
    except sa.exc.DBAPIError:
        return False
    finally:
        engine.dispose()


def _prepare(args: argparse.Namespace) -> str:
    url = args.database_url or f"sqlite:///{args.data_dir / 'tastegraph.db'}"
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if not _has_demo(url):
        if args.database_url:
            sys.exit(f"{url} does not hold the demo community: run `tastegraph demo` on it first")
        print(f"loading the demo community into {url} (several minutes) ...", flush=True)
        subprocess.run([str(BIN / "tastegraph"), "demo"], env=_env(args, url), check=True)
    else:  # loaded by an older tastegraph: this version's schema, rollups counted up to now
        for command in (["db", "upgrade"], ["stats", "fold"]):
            subprocess.run([str(BIN / "tastegraph"), *command], env=_env(args, url), check=True)
    current = args.data_dir / "data" / "recs" / "current"
    if args.train and not current.exists():
        print("training the recommendations (tastegraph recs train) ...", flush=True)
        subprocess.run([str(BIN / "tastegraph"), "recs", "train"], env=_env(args, url), check=True)
    return url


def _profiles(url: str, count: int) -> list[str]:
    """Demo users spread over the range of play counts, lightest to heaviest."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select u.name, count(p.id) as n from users u join plays p on p.user_id = u.id "
                "where u.visibility = 'public' group by u.name order by n, u.name"
            )
        ).all()
    engine.dispose()
    if not rows:
        return []
    picks = sorted({round(i * (len(rows) - 1) / max(count - 1, 1)) for i in range(count)})
    return [rows[i][0] for i in picks]


def _ids(runtime: Runtime) -> dict[str, int]:
    """The most played artist, its most played track, the most watched show and the most
    read outlet."""
    with runtime.db.unit_of_work() as session:
        svc = runtime.services(session)
        artist = svc.stats.chart(Kind.ARTIST, limit=1, listeners=False).entries[0].item.id
        show = svc.stats.chart(Kind.SHOW, limit=1, listeners=False).entries[0].item.id
        outlet = svc.stats.chart(Kind.OUTLET, limit=1, listeners=False).entries[0].item.id
        track = session.execute(
            sa.text(
                "select c.item_id from item_credits c join plays p on p.item_id = c.item_id "
                "where c.credited_id = :a group by c.item_id order by count(*) desc limit 1"
            ),
            {"a": artist},
        ).scalar_one()
    return {"artist": artist, "track": int(track), "show": show, "outlet": outlet}


def _log_in(client: TestClient, name: str, password: str) -> None:
    token = CSRF.search(client.get("/login").text)
    assert token, "no CSRF token on /login"
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    if response.status_code != 303:
        sys.exit(f"could not log in as {name}: {response.status_code}")


def _get(client: TestClient, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        sys.exit(f"GET {path} answered {response.status_code}: {response.text[:300]}")


def _time(client: TestClient, path: str, repeat: int) -> tuple[list[float], list[float]]:
    _get(client, path)
    samples, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, path
    return samples, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/tastegraph-web-bench"))
    parser.add_argument("--database-url", default="", help="a database holding the demo")
    parser.add_argument("--profiles", type=int, default=8, help="demo users whose profile is timed")
    parser.add_argument("--repeat", type=int, default=20, help="timed renders of each page")
    parser.add_argument("--no-train", dest="train", action="store_false")
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds to wait after the untimed pass"
    )
    parser.add_argument("--markdown", action="store_true", help="print a GitHub table")
    args = parser.parse_args()

    url = _prepare(args)
    names = _profiles(url, args.profiles)
    settings = Settings(
        mode=Mode.DEMO,
        database_url=url,
        data_dir=args.data_dir / "data",
        stats_fold_seconds=0,
        audience_refresh_seconds=0,
        recs_blas_threads=1,
    )
    runtime = Runtime.create(settings)
    ids = _ids(runtime)
    app = create_app(settings, runtime=runtime)
    timings: list[Timing] = []
    with TestClient(app) as anonymous, TestClient(app) as signed_in:
        _log_in(signed_in, DEMO_USER, DEMO_PASSWORD)
        clients: dict[str, TestClient] = {"signed out": anonymous, DEMO_USER: signed_in}

        pages: list[tuple[str, str, str]] = [
            *(("profile", f"/user/{name}", DEMO_USER) for name in names),
            *(("profile", f"/user/{name}", "signed out") for name in names),
            ("home", "/", "signed out"),
            ("home", "/", DEMO_USER),
            ("charts", "/charts", "signed out"),
            ("charts", "/charts?level=track&period=overall", "signed out"),
            ("item", f"/items/{ids['artist']}", DEMO_USER),
            ("item", f"/items/{ids['track']}", DEMO_USER),
            ("item", f"/items/{ids['show']}", "signed out"),
            ("item", f"/items/{ids['show']}", DEMO_USER),
            ("item", f"/items/{ids['outlet']}", "signed out"),
            ("search", "/search?q=love", "signed out"),
            ("recommendations", "/recommendations", DEMO_USER),
            ("recommendations", "/recommendations?kind=track", DEMO_USER),
        ]
        # One untimed pass first: the trained model and the caches load then.
        for _, path, viewer in pages:
            _get(clients[viewer], path)
        time.sleep(args.settle)
        for page, path, viewer in pages:
            samples, cpu = _time(clients[viewer], path, args.repeat)
            timings.append(Timing(page, path, viewer, samples, cpu))
    runtime.close()
    _report(args, url, timings)


def _report(args: argparse.Namespace, url: str, timings: list[Timing]) -> None:
    fmt: Callable[[float], str] = lambda v: f"{v:.1f}"  # noqa: E731
    rows: list[tuple[str, ...]] = [
        (
            t.page,
            t.path,
            t.viewer,
            str(len(t.samples)),
            fmt(percentile(t.samples, 0.5)),
            fmt(percentile(t.samples, 0.95)),
            fmt(max(t.samples)),
            fmt(percentile(t.cpu, 0.5)),
            fmt(percentile(t.cpu, 0.95)),
        )
        for t in timings
    ]
    profile = [s for t in timings if t.page == "profile" for s in t.samples]
    profile_cpu = [s for t in timings if t.page == "profile" for s in t.cpu]
    load = os.getloadavg()
    backend = sa.make_url(url).get_backend_name()
    print()
    print(
        f"{platform.node()} · {os.cpu_count()} CPUs · load average {load[0]:.1f} "
        f"{load[1]:.1f} {load[2]:.1f} · {backend} · {args.repeat} renders a page"
    )
    header = ("page", "path", "viewer", "n", "p50 ms", "p95 ms", "max ms", "CPU p50", "CPU p95")
    for line in format_table(header, rows, "<<<>>>>>>", markdown=args.markdown):
        print(line)
    if profile:
        p50, p95 = percentile(profile, 0.5), percentile(profile, 0.95)
        verdict = "met" if p95 < TARGET_MS else "missed"
        print(
            f"\nevery profile render: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"(target < {TARGET_MS:.0f} ms: {verdict}); CPU p50 "
            f"{percentile(profile_cpu, 0.5):.1f} ms, p95 {percentile(profile_cpu, 0.95):.1f} ms"
        )


if __name__ == "__main__":
    main()
