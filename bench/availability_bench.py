"""What the territorial-rights filter costs a recommendation request.

A throwaway database gets a catalogue of ``--items`` items (default 100,000: shows with seasons
and episodes, films, competitions with matches, artists with albums and tracks) and about
``--grants`` grants (default 10,000): shows and films granted to countries, territory groups
(EU, DACH, LATAM...) and WORLD, with time windows on a third of them, episodes that override
their show, and live blackouts on matches. Then, in this process:

* ``build``: how long ``Availability`` takes to compile the index from the database (what a
  server pays after a rights change, in a background thread);
* ``mask``: ``Availability.mask(ids, country, at)`` for ``--candidates`` random items (default
  200, what a recommendation request filters), each call timed on its own in wall time and in
  the thread's CPU time (``p99 CPU``: the cost without the time the machine gave to other
  processes in between), over ``--calls`` calls (default 20,000) with random countries and
  moments;
* ``available``: the same through ``Availability.available`` (a set of ids).

Run with ``--required tv,film`` to make items of those domains unavailable without a grant
(``TASTEGRAPH_RIGHTS_REQUIRED_DOMAINS``). Prints a table; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _common
from sqlalchemy import insert, select

from tastegraph import migrations
from tastegraph.catalog.availability import Availability, bump_rights_version
from tastegraph.catalog.kinds import DOMAIN_OF, Domain, Kind
from tastegraph.catalog.models import (
    Item,
    ItemBlackout,
    ItemRight,
    Offer,
)
from tastegraph.catalog.territories import DEFAULT_GROUPS
from tastegraph.config import Mode, Settings
from tastegraph.locales import countries
from tastegraph.runtime import Runtime

NOW = datetime(2026, 6, 1, tzinfo=UTC)
_MAIN_COUNTRIES = [
    *("DE", "FR", "GB", "US", "BR", "MX", "ES", "IT", "NL", "SE"),
    *("PL", "JP", "AU", "CA", "AR", "DK", "NO", "AT", "CH", "BE"),
]


def _item(kind: Kind, key: str, parent: int | None, number: int | None = None) -> dict[str, Any]:
    return {
        "kind": kind,
        "domain": DOMAIN_OF[kind],
        "title": key,
        "match_key": key,
        "search_key": key,
        "parent_id": parent,
        "number": number,
        "created_at": NOW,
    }


def _add_level(session: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert one level of the catalogue and return the new ids in order."""
    if not rows:
        return []
    start = session.scalar(select(Item.id).order_by(Item.id.desc()).limit(1)) or 0
    session.execute(insert(Item), rows)
    ids = list(session.scalars(select(Item.id).where(Item.id > start).order_by(Item.id)))
    assert len(ids) == len(rows)
    return ids


def build_catalogue(rt: Runtime, items: int, grants: int, rng: random.Random) -> dict[str, Any]:
    """Roughly ``items`` items and ``grants`` grants; returns what was made, by kind."""
    shows = max(items // 125, 1)  # a show: 4 seasons of 12 episodes = 53 items
    films = items // 5
    competitions = max(items // 200, 1)  # 20 matches each
    artists = max(items // 40, 1)  # 2 albums of 8 tracks each
    made: dict[str, list[int]] = {}
    with rt.db.unit_of_work(write=True) as session:
        made["show"] = _add_level(
            session, [_item(Kind.SHOW, f"show {i}", None) for i in range(shows)]
        )
        seasons = [(s, n) for s in made["show"] for n in range(1, 5)]
        made["season"] = _add_level(
            session, [_item(Kind.SEASON, f"{s}|{n}", s, n) for s, n in seasons]
        )
        made["episode"] = _add_level(
            session,
            [_item(Kind.EPISODE, f"{s}|{n}", s, n) for s in made["season"] for n in range(1, 13)],
        )
        made["film"] = _add_level(
            session, [_item(Kind.FILM, f"film {i}", None) for i in range(films)]
        )
        made["competition"] = _add_level(
            session, [_item(Kind.COMPETITION, f"cup {i}", None) for i in range(competitions)]
        )
        made["match"] = _add_level(
            session,
            [_item(Kind.MATCH, f"{c}|{n}", c) for c in made["competition"] for n in range(20)],
        )
        made["artist"] = _add_level(
            session, [_item(Kind.ARTIST, f"artist {i}", None) for i in range(artists)]
        )
        made["album"] = _add_level(
            session,
            [_item(Kind.ALBUM, f"{a}|{n}", a) for a in made["artist"] for n in range(2)],
        )
        total = sum(len(v) for v in made.values())
        tracks = max(items - total, 0)
        albums = made["album"]
        made["track"] = _add_level(
            session,
            [_item(Kind.TRACK, f"track {i}", albums[i % len(albums)], i) for i in range(tracks)],
        )
        rows = _grants(made, grants, rng)
        session.execute(insert(ItemRight), rows)
        blackouts = [
            {
                "item_id": match,
                "territories": rng.sample(_MAIN_COUNTRIES, 3),
                "starts_at": NOW + timedelta(hours=rng.randint(-48, 48)),
                "ends_at": NOW + timedelta(hours=rng.randint(49, 60)),
                "note": None,
                "created_at": NOW,
            }
            for match in rng.sample(made["match"], min(len(made["match"]), 200))
        ]
        session.execute(insert(ItemBlackout), blackouts)
        bump_rights_version(session)
    return {"made": made, "grants": len(rows), "blackouts": len(blackouts)}


def _grants(made: dict[str, list[int]], wanted: int, rng: random.Random) -> list[dict[str, Any]]:
    territories = [*_MAIN_COUNTRIES, *DEFAULT_GROUPS, "WORLD"]
    holders = (
        made["show"]
        + rng.sample(made["film"], min(len(made["film"]), wanted // 3))
        + made["competition"]
        + rng.sample(made["episode"], min(len(made["episode"]), wanted // 20))
    )
    rows: list[dict[str, Any]] = []
    while len(rows) < wanted:
        item_id = holders[len(rows) % len(holders)]
        windowed = rng.random() < 0.33
        start = NOW + timedelta(days=rng.randint(-400, 30)) if windowed else None
        rows.append(
            {
                "item_id": item_id,
                "territory": rng.choice(territories),
                "offer": rng.choice(list(Offer)),
                "starts_at": start,
                "ends_at": start + timedelta(days=rng.randint(30, 700)) if start else None,
                "audio_languages": ["en"],
                "subtitle_languages": [],
                "created_at": NOW,
            }
        )
    return rows


def run(backend: str, url: str, args: argparse.Namespace) -> list[tuple[str, ...]]:
    rng = random.Random(args.seed)
    settings = Settings(mode=Mode.DEV, database_url=url, data_dir=Path(args.workdir))
    rt = Runtime.create(settings)
    try:
        migrations.upgrade(rt.db.engine)
        started = time.perf_counter()
        built = build_catalogue(rt, args.items, args.grants, rng)
        load_s = time.perf_counter() - started
        everything = [i for ids in built["made"].values() for i in ids]
        required = [Domain(d) for d in args.required.split(",") if d]
        availability = Availability(rt.db, refresh_seconds=3600, required_domains=required)
        started = time.perf_counter()
        index = availability.rebuild(force=True)
        build_ms = (time.perf_counter() - started) * 1000
        every = sorted(countries())
        requests = [
            (
                rng.sample(everything, args.candidates),
                rng.choice(_MAIN_COUNTRIES) if rng.random() < 0.9 else rng.choice(every),
                NOW + timedelta(hours=rng.randint(-72, 72)),
            )
            for _ in range(min(args.calls, 2000))
        ]
        _common.freeze()
        rows = []
        for name, call in (
            ("mask", availability.mask),
            ("available", availability.available),
        ):
            for ids, country, at in requests[:200]:  # warm up
                call(ids, country, at)
            wall: list[float] = []
            cpu: list[float] = []
            kept = 0
            for n in range(args.calls):
                ids, country, at = requests[n % len(requests)]
                t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
                answer = call(ids, country, at)
                c1, t1 = time.thread_time_ns(), time.perf_counter_ns()
                wall.append((t1 - t0) / 1000)
                cpu.append((c1 - c0) / 1000)
                kept += sum(answer) if isinstance(answer, list) else len(answer)
            rows.append(
                (
                    backend,
                    f"{len(everything):,}",
                    f"{index.grants:,}",
                    f"{built['blackouts']:,}",
                    f"{build_ms:,.0f}",
                    name,
                    str(args.candidates),
                    f"{_common.percentile(wall, 0.5):,.0f}",
                    f"{_common.percentile(wall, 0.99):,.0f}",
                    f"{_common.percentile(cpu, 0.99):,.0f}",
                    f"{kept / (args.calls * args.candidates):.0%}",
                )
            )
        print(f"# {backend}: catalogue and grants loaded in {load_s:.1f} s", flush=True)
        return rows
    finally:
        rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--required", default="", help="Domains that need a grant: tv,film.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres-url", default=_common.DEFAULT_PG_URL)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    backends = _common.choices(parser, args.backends, ("sqlite", "postgresql"))
    load = os.getloadavg()
    print(f"# load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as workdir:
        args.workdir = workdir
        for backend in backends:
            if backend == "postgresql":
                problem = _common.postgres_problem(args.postgres_url)
                if problem:
                    print(f"# postgresql skipped: {problem}")
                    continue
            with _common.fresh_database(backend, Path(workdir), args.postgres_url, "rights") as url:
                rows.extend(run(backend, url, args))
    header = (
        "backend",
        "items",
        "grants",
        "blackouts",
        "build ms",
        "call",
        "ids",
        "p50 µs",
        "p99 µs",
        "p99 CPU µs",
        "available",
    )
    for line in _common.format_table(header, rows, "<>>>><>>>>>", markdown=args.markdown):
        print(line)


if __name__ == "__main__":
    main()
