"""A title's insight page data at scale: audience, weekly trend, countries, segments, groups,
revenue and break-even for one title, on a community with millions of plays.

A script, not a test. It

1. generates the community of ``stats_bench.py`` (imported as a library: ``--users`` people in
   20 countries, artists, albums, tracks, shows, seasons, episodes and films, ``--plays`` plays
   over three years) and gives each play a progress as players report it (most video plays
   finished, some abandoned part-way; four in ten music plays without a progress);
2. bulk-loads it (``stats_bench.Loader``: COPY on PostgreSQL, executemany on SQLite; the play
   indexes built after the rows), then adds what the insight page reads besides plays:
   ``--segments`` audience segments of 2–30 % of the people, ``--groups`` groups, unfinished
   playbacks, ad delivery attributed to the 2,000 most played episodes and films for the last
   120 days, run-of-network delivery for the site's eCPM, and a cost for every title measured;
3. times ``InsightsService.title`` (what ``GET /api/v1/insights/titles/{id}`` answers, without
   HTTP) for titles of several classes — the most played shows, artists and films (the heaviest
   pages), random shows and artists, random episodes and tracks — over the default window (the
   last 12 weeks) and over 52 weeks, and the overlap matrix of the ten most played shows;
   p50 / p95 / p99 / max per class.

Usage::

    .venv/bin/python bench/insights_bench.py                 # 100,000 users, 20M plays, PostgreSQL
    .venv/bin/python bench/insights_bench.py --users 10000 --plays 1000000 --backend sqlite
    .venv/bin/python bench/insights_bench.py --keep          # keep the loaded database ...
    .venv/bin/python bench/insights_bench.py --database-url URL   # ... and time it again

The machine is shared: run ``uptime`` next to it and report the load with the figures.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from _common import DEFAULT_PG_URL, format_table, percentile, postgres_version
from stats_bench import Community, Loader, _load_people_and_catalogue, _time_texts, make_community

from tastegraph import migrations
from tastegraph.ads.models import AdDelivery
from tastegraph.audiences.models import Segment, SegmentMember
from tastegraph.config import Mode, Settings
from tastegraph.ingest.models import Play, Playback
from tastegraph.insights import segment_bits
from tastegraph.insights.models import CostKind, TitleAdDelivery, TitleCost
from tastegraph.runtime import Runtime
from tastegraph.social.models import Group, GroupMember
from tastegraph.storage.engine import remove_sqlite_database

MICROS = 1_000_000


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# -- loading ----------------------------------------------------------------------------------


def progress_of(community: Community, seed: int) -> np.ndarray[Any, Any]:
    """A progress per play (NaN: none reported): video mostly finished, some abandoned; music
    often without one."""
    rng = np.random.default_rng(seed + 17)
    kinds = np.asarray(community.catalogue.kind)
    video = np.isin(kinds[community.play_item - 1], ["episode", "film"])
    n = len(community.play_item)
    finished = rng.random(n) < np.where(video, 0.85, 0.9)
    progress = np.where(finished, 1.0, np.round(rng.uniform(0.2, 0.95, n), 3))
    unknown = ~video & (rng.random(n) < 0.4)
    return np.where(unknown, np.nan, progress)


def load_plays(loader: Loader, community: Community, seed: int) -> None:
    """``stats_bench``'s play loading, with the progress column."""
    backend = loader.backend
    table = Play.__table__
    indexes = list(table.indexes)  # type: ignore[attr-defined]
    with loader.engine.begin() as connection:
        for index in indexes:
            connection.execute(sa.schema.DropIndex(index))
    progress = progress_of(community, seed)
    columns = [
        "id", "user_id", "item_id", "played_at", "tz_offset_minutes", "source", "created_at",
        "progress",
    ]  # fmt: skip
    chunk = 1_000_000
    total = len(community.play_at)
    for low in range(0, total, chunk):
        high = min(low + chunk, total)
        times = _time_texts(community.play_at[low:high], backend)
        shares = [None if np.isnan(p) else float(p) for p in progress[low:high].tolist()]
        rows = zip(
            range(low + 1, high + 1),
            (community.play_user[low:high] + 1).tolist(),
            community.play_item[low:high].tolist(),
            times,
            [0] * (high - low),
            ["bench"] * (high - low),
            times,
            shares,
            strict=True,
        )
        loader.rows(table, columns, rows)  # type: ignore[arg-type]
        log(f"  {high:,} plays written")
    with loader.engine.begin() as connection:
        if backend == "postgresql":
            connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for index in indexes:
            connection.execute(sa.schema.CreateIndex(index))
        if backend == "postgresql":
            for name in ("users", "items", "plays"):
                sequence = f"pg_get_serial_sequence('{name}', 'id')"
                connection.exec_driver_sql(
                    f"SELECT setval({sequence}, (SELECT max(id) FROM {name}))"
                )


def _day_text(day: date) -> str:
    return day.isoformat()


def load_facts(loader: Loader, community: Community, args: argparse.Namespace) -> None:
    """Segments, groups, playbacks and ad delivery: what the insight page reads besides plays."""
    rng = np.random.default_rng(args.seed + 29)
    backend = loader.backend
    users = community.users
    now = datetime.now(UTC)
    stamp = _time_texts(np.asarray([int(now.timestamp())]), backend)[0]
    sizes = rng.uniform(0.02, 0.30, args.segments)
    loader.rows(
        Segment.__table__,  # type: ignore[arg-type]
        ["id", "name", "kind", "member_count", "active", "shared", "iab_ids", "version",
         "created_at", "updated_at"],
        [
            (i + 1, f"Segment {i + 1}", "rule", int(size * users), True, True, "[]", 1, stamp,
             stamp)
            for i, size in enumerate(sizes.tolist())
        ],
    )  # fmt: skip

    def members() -> Iterator[tuple[Any, ...]]:
        for i, size in enumerate(sizes.tolist()):
            chosen = rng.choice(users, int(size * users), replace=False) + 1
            for user in np.sort(chosen).tolist():
                yield (i + 1, user, stamp)

    loader.rows(SegmentMember.__table__, ["segment_id", "user_id", "added_at"], members())  # type: ignore[arg-type]
    loader.rows(
        Group.__table__,  # type: ignore[arg-type]
        ["id", "slug", "name", "privacy", "created_at"],
        [(g + 1, f"group-{g + 1}", f"Group {g + 1}", "public", stamp) for g in range(args.groups)],
    )

    def joined() -> Iterator[tuple[Any, ...]]:
        for g in range(args.groups):
            size = int(min(users, 50 * (1 + rng.pareto(1.2))))
            for user in np.sort(rng.choice(users, size, replace=False) + 1).tolist():
                yield (g + 1, user, "member", "member", stamp)

    loader.rows(
        GroupMember.__table__,  # type: ignore[arg-type]
        ["group_id", "user_id", "role", "status", "created_at"],
        joined(),
    )
    log(f"  {args.segments} segments, {args.groups} groups")

    kinds = np.asarray(community.catalogue.kind)
    item_kind = kinds[community.play_item - 1]
    video = np.flatnonzero(np.isin(item_kind, ["episode", "film"]))
    recent = video[community.play_at[video] >= int(now.timestamp()) - 120 * 86_400]
    pick = rng.choice(recent, min(len(recent), 60_000), replace=False)
    pairs = sorted({(int(community.play_user[i]) + 1, int(community.play_item[i])) for i in pick})
    starts = _time_texts(
        int(now.timestamp()) - rng.integers(3600, 90 * 86_400, len(pairs)), backend
    )
    loader.rows(
        Playback.__table__,  # type: ignore[arg-type]
        ["user_id", "item_id", "status", "progress", "started_at", "updated_at", "source",
         "incognito"],
        [
            (user, item, "paused", round(float(p), 3), s, s, "bench", False)
            for (user, item), p, s in zip(pairs, rng.uniform(0.02, 0.79, len(pairs)), starts,
                                          strict=True)
        ],
    )  # fmt: skip
    log(f"  {len(pairs):,} unfinished playbacks")

    popular = np.bincount(community.play_item[video], minlength=len(kinds) + 1)
    top = np.argsort(popular)[::-1][:2000]
    today = now.date()
    countries = [c for c in dict.fromkeys(community.countries) if c]
    modes = (("audience", 22.0), ("contextual", 14.0), ("network", 4.5))

    def delivery() -> Iterator[tuple[Any, ...]]:
        for item in sorted(top.tolist()):
            weight = popular[item] / popular[top[0]]
            for back in range(120):
                day = _day_text(today - timedelta(days=back))
                for m, (mode, cpm) in enumerate(modes):
                    impressions = int(rng.poisson(40 * weight + 0.5))
                    if impressions:
                        spend = int(impressions * cpm * 1000 * rng.uniform(0.9, 1.1))
                        country = countries[(item + back + m) % len(countries)]
                        yield (day, item, 10 + m, 1, mode, country, 20 + m, 30 + m, impressions,
                               impressions // 150, spend)  # fmt: skip

    rows = list(delivery())
    loader.rows(
        TitleAdDelivery.__table__,  # type: ignore[arg-type]
        ["day", "item_id", "line_item_id", "placement_id", "mode", "country", "campaign_id",
         "advertiser_id", "impressions", "clicks", "spend_micros"],
        rows,
    )  # fmt: skip
    network = [
        (_day_text(today - timedelta(days=back)), 12, 1, 1, 0, country, "network", "",
         22, 32, int(5000 + rng.integers(0, 500)), 3, int(5000 * 4500 * 1.0))
        for back in range(120)
        for country in countries
    ]  # fmt: skip
    loader.rows(
        AdDelivery.__table__,  # type: ignore[arg-type]
        ["day", "line_item_id", "creative_id", "placement_id", "segment_id", "country", "mode",
         "viewer", "campaign_id", "advertiser_id", "impressions", "clicks", "spend_micros"],
        network,
    )  # fmt: skip
    log(f"  {len(rows):,} title delivery rows, {len(network):,} run-of-network rows")


def load(url: str, community: Community, args: argparse.Namespace) -> None:
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    engine = runtime.db.engine
    try:
        migrations.upgrade(engine)
        loader = Loader(engine, backend)
        started = time.perf_counter()
        _load_people_and_catalogue(loader, community)
        log(f"  users and catalogue in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        load_plays(loader, community, args.seed)
        log(f"  plays and their indexes in {time.perf_counter() - started:.0f} s")
        load_facts(loader, community, args)
        with engine.begin() as connection:
            # The members were copied in, not added by the audiences area: its member hook
            # did not run, so the bitmaps title pages count segments from are built here.
            segment_bits.rebuild_all(connection)
        if backend == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
            log("  vacuum analyze done")
        else:
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
    finally:
        runtime.close()


# -- timing -----------------------------------------------------------------------------------


def title_classes(community: Community, seed: int, count: int) -> dict[str, list[int]]:
    """Item ids of the titles to time, by class."""
    rng = random.Random(seed)
    catalogue = community.catalogue
    kinds = np.asarray(catalogue.kind)
    parent = catalogue.parent
    plays = np.bincount(community.play_item, minlength=len(kinds) + 1)
    ids = np.arange(1, len(kinds) + 1)
    episode = kinds == "episode"
    season_of = parent[episode]
    show_of = parent[season_of - 1]
    show_plays = np.bincount(show_of, weights=plays[1:][episode], minlength=len(kinds) + 1)
    track = kinds == "track"
    artist_plays = np.zeros(len(kinds) + 1)
    starts, counts = catalogue.track_start, catalogue.track_count
    for a, artist in enumerate(catalogue.artists.tolist()):
        artist_plays[artist] = plays[starts[a] : starts[a] + counts[a]].sum()

    def top(weights: np.ndarray[Any, Any]) -> list[int]:
        return [int(i) for i in np.argsort(weights)[::-1][:count] if weights[i] > 0]

    def some(mask: np.ndarray[Any, Any]) -> list[int]:
        pool = [int(i) for i in ids[mask][plays[1:][mask] > 0]]
        return rng.sample(pool, min(count, len(pool)))

    film_plays = np.where(np.append([False], kinds == "film"), plays, 0)
    return {
        "most played shows": top(show_plays),
        "most played artists": top(artist_plays),
        "most played films": top(film_plays),
        "random shows": rng.sample([int(i) for i in ids[kinds == "show"]], count),
        "random artists": rng.sample([int(i) for i in catalogue.artists.tolist()], count),
        "random episodes": some(episode),
        "random tracks": some(track),
    }


def add_costs(url: str, titles: list[int]) -> None:
    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(sa.delete(TitleCost))
        connection.execute(
            sa.insert(TitleCost),
            [
                {"item_id": t, "kind": CostKind.LICENCE.value, "amount_micros": 50_000 * MICROS,
                 "currency": "EUR", "created_at": now, "updated_at": now}
                for t in sorted(set(titles))
            ],
        )  # fmt: skip
    engine.dispose()


def time_titles(
    url: str, classes: dict[str, list[int]], repeat: int
) -> list[tuple[str, str, list[float], dict[str, Any]]]:
    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    results = []
    try:
        for weeks in (12, 52):
            for label, ids in classes.items():
                latencies: list[float] = []
                biggest: dict[str, Any] = {"viewers": 0}
                for _ in range(repeat):
                    for item_id in ids:
                        with runtime.db.unit_of_work() as session:
                            svc = runtime.services(session)
                            started = time.perf_counter()
                            out = svc.insights.title(item_id, svc.insights.window(weeks=weeks))
                            latencies.append(time.perf_counter() - started)
                        if out.audience.viewers > biggest["viewers"]:
                            biggest = {"viewers": out.audience.viewers, "plays": out.audience.plays}
                results.append((label, f"{weeks} weeks", latencies, biggest))
                log(f"  {label}, {weeks} weeks: p95 {percentile(latencies, 0.95) * 1000:.0f} ms")
        overlap: list[float] = []
        shows = classes["most played shows"][:10]
        for _ in range(repeat):
            with runtime.db.unit_of_work() as session:
                svc = runtime.services(session)
                started = time.perf_counter()
                svc.insights.overlap(svc.insights.window(), item_ids=shows)
                overlap.append(time.perf_counter() - started)
        results.append(("overlap, 10 most played shows", "12 weeks", overlap, {}))
    finally:
        runtime.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--plays", type=int, default=20_000_000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    parser.add_argument("--database-url", help="Time an already loaded database (--keep).")
    parser.add_argument("--keep", action="store_true", help="Keep the loaded database.")
    parser.add_argument("--seed", type=int, default=2011)
    parser.add_argument("--titles", type=int, default=10, help="Titles per class.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--segments", type=int, default=30)
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/insights-bench"))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    # The community's three years end at the start of today (UTC), so that a kept database
    # loaded yesterday is regenerated with the same ids today.
    now = int(datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
    log(f"generating {args.users:,} people and {args.plays:,} plays")
    community = make_community(args.users, args.plays, args.seed, now)
    classes = title_classes(community, args.seed, args.titles)
    url, drop = args.database_url, None
    if url is None:
        url, drop = _create(args)
        log(f"loading into {sa.make_url(url).render_as_string(hide_password=True)}")
        load(url, community, args)
    add_costs(url, [t for ids in classes.values() for t in ids])
    try:
        results = time_titles(url, classes, args.repeat)
    finally:
        if drop is not None:
            drop()
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    label = postgres_version(args.postgres_url) if backend == "postgresql" else "SQLite"
    rows = [
        (
            name,
            window,
            str(len(lat)),
            f"{info.get('viewers', 0):,}" if info else "",
            f"{info.get('plays', 0):,}" if info else "",
            *(f"{percentile(lat, q) * 1000:.0f}" for q in (0.5, 0.95, 0.99)),
            f"{max(lat) * 1000:.0f}",
        )
        for name, window, lat, info in results
    ]
    print()
    print(f"{label}, {args.users:,} users, {args.plays:,} plays (InsightsService.title, ms)")
    header = ("titles", "window", "calls", "max viewers", "their plays", "p50", "p95", "p99",
              "max")  # fmt: skip
    for line in format_table(header, rows, "<<>>>>>>>", markdown=args.markdown):
        print(line)


def _create(args: argparse.Namespace) -> tuple[str, Callable[[], None] | None]:
    if args.backend == "sqlite":
        args.workdir.mkdir(parents=True, exist_ok=True)
        path = args.workdir / f"insights-{args.users}-{args.plays}.db"
        remove_sqlite_database(path)
        return f"sqlite:///{path}", None if args.keep else lambda: remove_sqlite_database(path)
    name = f"tastegraph_insights_bench_{args.users}_{args.plays}"
    admin = sa.create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        engine = sa.create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return url, None if args.keep else drop


if __name__ == "__main__":
    main()
