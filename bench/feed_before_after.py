"""The activity feed before and after its redesign for scale, in-process on a loaded database.

A script, not a test. It takes ``src/tastegraph/social/feed.py`` as it was at ``--revision``
(``git show``; default ``dbd0d19``, before play counts and windowed reads; the old module runs
on today's ``SocialService``) and as it is now,
and asks both for the first page of the same viewers' feeds, one after another, calling the
service directly (no HTTP, no web layer), twice in turn (new, old, new, old). It prints CPU and
wall time per page. The old feed's milestone cache starts empty for each page, as it mostly is
on a server whose viewers have different friends.

Usage (on a database ``social_bench.py`` loaded and kept)::

    .venv/bin/python bench/feed_before_after.py \\
        postgresql+psycopg://postgres@127.0.0.1:5432/tg_social_bench --viewers 100:130
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from _common import percentile

from tastegraph.accounts.models import User
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime, Services


def old_feed_module(revision: str, folder: Path) -> ModuleType:
    """``social/feed.py`` at ``revision``, imported under a name of its own."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/tastegraph/social/feed.py"],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = folder / "feed_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("feed_before", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def measure(runtime: Runtime, viewers: list[int], make: Callable[[Any, Services], Any]) -> str:
    cpu: list[float] = []
    wall: list[float] = []
    for viewer_id in viewers:
        with runtime.db.unit_of_work() as session:
            services = runtime.services(session)
            viewer = session.get(User, viewer_id)
            feed = make(session, services)
            c0, w0 = time.process_time(), time.perf_counter()
            feed.feed(viewer, limit=30)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
    return (
        f"CPU p50 {percentile(cpu, 0.5) * 1000:.0f} ms, wall p50 "
        f"{percentile(wall, 0.5) * 1000:.0f} ms, p95 {percentile(wall, 0.95) * 1000:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--viewers", default="100:130", help="first:last+1 user ids")
    parser.add_argument("--revision", default="dbd0d19")
    args = parser.parse_args()
    first, last = (int(part) for part in args.viewers.split(":"))
    viewers = list(range(first, last))
    with tempfile.TemporaryDirectory() as folder:
        before = old_feed_module(args.revision, Path(folder))
        runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=args.database_url))
        try:

            def old(session: Any, services: Services) -> Any:
                if not hasattr(before, "MilestoneCache"):  # a revision after dbd0d19
                    return before.FeedService(session, services.social, services.shouts)
                return before.FeedService(
                    session, services.social, services.shouts, milestones=before.MilestoneCache()
                )

            def new(_session: Any, services: Services) -> Any:
                return services.feed

            print(f"{len(viewers)} viewers, load average {os.getloadavg()[0]:.1f}", flush=True)
            for label, make in (("now", new), (args.revision, old)) * 2:
                print(f"{label:>8}: {measure(runtime, viewers, make)}", flush=True)
            print(f"load average {os.getloadavg()[0]:.1f}")
        finally:
            runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
