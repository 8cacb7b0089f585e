"""Charts at scale: chart latency through the HTTP API on a large community, what the chart
rollups cost ingestion, and a month's top artists side by side with Maloja.

A script, not a test. For each backend it

1. generates a deterministic community (``--seed``): ``--users`` people in 20 countries and
   their time zones, a catalogue of artists, albums, tracks, shows, seasons, episodes and
   films, and ``--plays`` plays over three years (each person has favourite artists, a few
   people listen a lot, the rest a little);
2. bulk-loads it into a fresh database (PostgreSQL: ``COPY``; SQLite: ``executemany`` in big
   transactions; the play indexes are built after the rows) and builds the chart rollups with
   the function behind ``tastegraph stats rebuild``;
3. starts a real ``tastegraph serve`` and times, over HTTP: a user's top 50 for a named period
   (random people; and the heaviest 1%), site-wide charts and per-country charts (random
   levels, periods and time zones; each also with ``listeners=false``), reporting p50 / p95 /
   p99;
4. records batches of plays in this process through ``IngestService.record`` on the same
   database, with the rollups folded in as the server does (every 5 batches, and at the end)
   and without folding, alternating, and reports plays per second of each and their ratio.

``--with-maloja`` then loads one person's history of ``--maloja-plays`` plays into tastegraph
(``tastegraph import``) and into Maloja (``maloja import``, the same ``maloja_export_*.json``
file) and times a month's top artists in both, each month once (cold) and again (warm).

Usage::

    .venv/bin/python bench/stats_bench.py            # the issue's sizes: 100,000 users,
                                                     # 20M plays on PostgreSQL, 5M on SQLite
    .venv/bin/python bench/stats_bench.py --users 10000 --plays 1000000 --backends sqlite
    .venv/bin/python bench/stats_bench.py --backends none --with-maloja   # Maloja only
    # load once and keep it (--requests 0 --ingest-rounds 0: load only), then time it again
    .venv/bin/python bench/stats_bench.py --backends postgresql --database tg_stats_bench \
        --keep-database --requests 0 --ingest-rounds 0
    .venv/bin/python bench/stats_bench.py --backends postgresql --database tg_stats_bench \
        --keep-database --reuse

PostgreSQL runs in a throwaway database on ``--postgres-url`` (default: the local server,
user postgres), dropped afterwards, unless ``--database`` names one (``--sqlite-file`` for
SQLite); ``--reuse`` times what an earlier run loaded there (same ``--users``, ``--plays``
and ``--seed``: the community is generated again for the requests, not loaded). Maloja
(``malojaserver`` from PyPI) runs from the virtualenv ``--maloja-venv`` (created with pip when
missing), with its own data folder and port.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import orjson
import sqlalchemy as sa
from _common import (
    DEFAULT_PG_URL,
    choices,
    cli,
    format_table,
    free_port,
    freeze,
    fresh_database,
    percentile,
    postgres_problem,
    postgres_version,
    stop,
    tastegraph_server,
    wait_until_answers,
)

from tastegraph import migrations
from tastegraph.accounts.models import User
from tastegraph.accounts.schemas import UserCreate
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.config import Mode, Settings
from tastegraph.ingest.models import Play
from tastegraph.ingest.validation import validate_plays
from tastegraph.runtime import Runtime
from tastegraph.stats.rollups import Rollups, fold, pending
from tastegraph.storage.engine import remove_sqlite_database

SPAN_DAYS = 3 * 365
"""How far back the generated history goes."""
COUNTRIES: list[tuple[str, float, tuple[str, ...]]] = [
    ("US", 24, ("America/New_York", "America/Chicago", "America/Los_Angeles")),
    ("GB", 8, ("Europe/London",)),
    ("DE", 8, ("Europe/Berlin",)),
    ("BR", 8, ("America/Sao_Paulo",)),
    ("FR", 6, ("Europe/Paris",)),
    ("JP", 6, ("Asia/Tokyo",)),
    ("IN", 6, ("Asia/Kolkata",)),
    ("MX", 4, ("America/Mexico_City",)),
    ("CA", 4, ("America/Toronto", "America/Vancouver")),
    ("ES", 3, ("Europe/Madrid",)),
    ("IT", 3, ("Europe/Rome",)),
    ("AU", 3, ("Australia/Sydney", "Australia/Adelaide")),
    ("NL", 2, ("Europe/Amsterdam",)),
    ("SE", 2, ("Europe/Stockholm",)),
    ("PL", 2, ("Europe/Warsaw",)),
    ("KR", 2, ("Asia/Seoul",)),
    ("AR", 2, ("America/Argentina/Buenos_Aires",)),
    ("NG", 2, ("Africa/Lagos",)),
    ("NP", 1, ("Asia/Kathmandu",)),
    ("NZ", 1, ("Pacific/Auckland",)),
]
NO_COUNTRY = 0.05
"""Share of people who give no country: they count site-wide only."""
PERIODS = (
    "7day",
    "1month",
    "3month",
    "6month",
    "12month",
    "overall",
    "this_week",
    "this_month",
    "this_year",
    "week",
    "month",
    "quarter",
    "half_yearly",
    "year",
)
USER_LEVELS = ("artist", "album", "track")
SITE_LEVELS = ("artist", "album", "track", "show", "episode", "film")
SITE_ZONES = (None, "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Tokyo")
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2g$bGF6eSBiZW5jaCBoYXNoIG5vdCB1c2Vk"
"""Every generated person shares one (unusable) password hash: nobody logs in."""


# -- the community ------------------------------------------------------------------------------


@dataclass
class Catalogue:
    kind: list[str]
    """Per item (index = id - 1)."""
    parent: np.ndarray[Any, Any]
    """Parent item id per item, 0 for none."""
    number: np.ndarray[Any, Any]
    credits: list[tuple[int, int, str]]
    """(item id, credited id, role)."""
    artists: np.ndarray[Any, Any]
    """Item ids of the artists, most popular first."""
    track_start: np.ndarray[Any, Any]
    track_count: np.ndarray[Any, Any]
    """Per artist: its tracks are ids track_start .. track_start + track_count - 1."""
    shows_episode_start: np.ndarray[Any, Any]
    shows_episode_count: np.ndarray[Any, Any]
    films: np.ndarray[Any, Any]

    def __len__(self) -> int:
        return len(self.kind)

    def title(self, index: int) -> str:
        return f"{self.kind[index].capitalize()} {index + 1}"


@dataclass
class Community:
    catalogue: Catalogue
    countries: list[str | None]
    zones: list[str]
    play_user: np.ndarray[Any, Any]
    """Per play (ordered by time): the user index (id - 1)."""
    play_item: np.ndarray[Any, Any]
    """Item id."""
    play_at: np.ndarray[Any, Any]
    """UNIX seconds."""

    @property
    def users(self) -> int:
        return len(self.countries)


def _zipf(rng: np.random.Generator, count: int, size: int, exponent: float) -> np.ndarray[Any, Any]:
    """``size`` ranks in [0, count), rank r drawn in proportion to 1 / (r + 1) ** exponent."""
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    cumulative = np.cumsum(weights)
    picked = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    ranks: np.ndarray[Any, Any] = np.minimum(picked, count - 1)
    return ranks


def make_catalogue(rng: np.random.Generator, users: int) -> Catalogue:
    """A catalogue in proportion to the community: for 100,000 people about 20,000 artists,
    36,000 albums, 199,000 tracks, 1,500 shows with 40,000 episodes, and 5,000 films."""
    scale = users / 100_000
    n_artists = max(50, int(20_000 * scale))
    n_shows = max(10, int(1_500 * scale))
    n_films = max(20, int(5_000 * scale))
    kinds: list[str] = []
    parents: list[np.ndarray[Any, Any]] = []
    numbers: list[np.ndarray[Any, Any]] = []

    def add(
        kind: str, parent: np.ndarray[Any, Any], number: np.ndarray[Any, Any] | None = None
    ) -> np.ndarray[Any, Any]:
        first = len(kinds) + 1
        kinds.extend([kind] * len(parent))
        parents.append(parent.astype(np.int64))
        numbers.append(np.zeros(len(parent), np.int64) if number is None else number)
        return np.arange(first, first + len(parent), dtype=np.int64)

    artists = add("artist", np.zeros(n_artists, np.int64))
    albums_per = 1 + rng.poisson(0.8, n_artists)
    album_artist = np.repeat(artists, albums_per)
    albums = add("album", album_artist)
    album_start = np.concatenate(([0], np.cumsum(albums_per)[:-1]))
    tracks_per = 1 + rng.geometric(1 / 9, n_artists)
    track_artist_index = np.repeat(np.arange(n_artists), tracks_per)
    on_album = rng.random(len(track_artist_index)) < 0.9
    album_pick = album_start[track_artist_index] + (
        rng.random(len(track_artist_index)) * albums_per[track_artist_index]
    ).astype(np.int64)
    track_parent = np.where(on_album, albums[album_pick], artists[track_artist_index])
    tracks = add("track", track_parent, 1 + rng.integers(0, 16, len(track_parent)))
    credits = [
        (int(t), int(artists[a]), "main") for t, a in zip(tracks, track_artist_index, strict=True)
    ]
    duets = rng.random(len(tracks)) < 0.03
    credits += [
        (int(t), int(artists[b]), "main")
        for t, a, b in zip(
            tracks[duets],
            track_artist_index[duets],
            rng.integers(0, n_artists, int(duets.sum())),
            strict=True,
        )
        if a != b
    ]
    track_start = tracks[0] + np.concatenate(([0], np.cumsum(tracks_per)[:-1]))

    shows = add("show", np.zeros(n_shows, np.int64))
    seasons_per = rng.integers(1, 6, n_shows)
    season_show = np.repeat(shows, seasons_per)
    season_number = np.concatenate([np.arange(1, n + 1) for n in seasons_per])
    seasons = add("season", season_show, season_number)
    episodes_per_season = rng.integers(6, 13, len(seasons))
    episode_season = np.repeat(seasons, episodes_per_season)
    episode_number = np.concatenate([np.arange(1, n + 1) for n in episodes_per_season])
    episodes = add("episode", episode_season, episode_number)
    episodes_per_show = np.bincount(
        np.repeat(np.arange(len(seasons)), episodes_per_season), minlength=len(seasons)
    )
    show_episodes = np.bincount(
        np.searchsorted(shows, season_show), weights=episodes_per_show, minlength=n_shows
    ).astype(np.int64)
    show_episode_start = episodes[0] + np.concatenate(([0], np.cumsum(show_episodes)[:-1]))

    films = add("film", np.zeros(n_films, np.int64))
    return Catalogue(
        kind=kinds,
        parent=np.concatenate(parents),
        number=np.concatenate(numbers),
        credits=credits,
        artists=artists,
        track_start=track_start,
        track_count=tracks_per,
        shows_episode_start=show_episode_start,
        shows_episode_count=show_episodes,
        films=films,
    )


def make_community(users: int, plays: int, seed: int, now: int) -> Community:
    """People, their countries and zones, and ``plays`` plays ordered by time (ids follow)."""
    rng = np.random.default_rng(seed)
    catalogue = make_catalogue(rng, users)
    weights = np.array([w for _, w, _ in COUNTRIES], np.float64)
    picked = rng.choice(len(COUNTRIES), users, p=weights / weights.sum())
    zone_pick = rng.random(users)
    countries: list[str | None] = []
    zones: list[str] = []
    for index, roll, blank in zip(
        picked.tolist(), zone_pick.tolist(), (rng.random(users) < NO_COUNTRY).tolist(), strict=True
    ):
        code, _, country_zones = COUNTRIES[index]
        countries.append(None if blank else code)
        zones.append(country_zones[int(roll * len(country_zones))])

    # A few people listen a lot, most a little: log-normal activity, at least one play each.
    activity = rng.lognormal(0.0, 1.4, users)
    counts = 1 + rng.multinomial(max(0, plays - users), activity / activity.sum())
    total = int(counts.sum())
    user = np.repeat(np.arange(users, dtype=np.int64), counts)
    # Each person's history starts somewhere in the last three years and runs to now.
    span = SPAN_DAYS * 86_400
    first = now - (span * rng.uniform(0.1, 1.0, users)).astype(np.int64)
    at = first[user] + (rng.random(total) * (now - 60 - first[user])).astype(np.int64)

    items = np.empty(total, np.int64)
    domain = rng.random(total)
    music = domain < 0.85
    tv = (domain >= 0.85) & (domain < 0.96)
    film = domain >= 0.96
    n_artists = len(catalogue.artists)
    # Twenty favourite artists each, 60% of the music from them; popularity is Zipf-like but
    # flat enough that the top 50 artists get about an eighth of the plays.
    favourites = _zipf(rng, n_artists, users * 20, 0.7).reshape(users, 20)
    m = int(music.sum())
    from_favourites = rng.random(m) < 0.6
    artist = np.where(
        from_favourites,
        favourites[user[music], rng.integers(0, 20, m)],
        _zipf(rng, n_artists, m, 0.7),
    )
    within = np.floor(catalogue.track_count[artist] * rng.random(m) ** 1.3).astype(np.int64)
    items[music] = catalogue.track_start[artist] + within
    t = int(tv.sum())
    show = _zipf(rng, len(catalogue.shows_episode_start), t, 1.0)
    items[tv] = catalogue.shows_episode_start[show] + (
        rng.random(t) * catalogue.shows_episode_count[show]
    ).astype(np.int64)
    items[film] = catalogue.films[_zipf(rng, len(catalogue.films), int(film.sum()), 1.0)]

    # A person plays one thing per second at most, and the same thing at a second once.
    order = np.lexsort((at, user))
    user, at, items = user[order], at[order], items[order]
    for _ in range(100):
        clash = np.nonzero((np.diff(at) <= 0) & (np.diff(user) == 0))[0] + 1
        if len(clash) == 0:
            break
        at[clash] = at[clash - 1] + 1
    by_time = np.argsort(at, kind="stable")
    return Community(
        catalogue=catalogue,
        countries=countries,
        zones=zones,
        play_user=user[by_time],
        play_item=items[by_time],
        play_at=at[by_time],
    )


# -- bulk loading -------------------------------------------------------------------------------


def _defaults(table: sa.Table) -> dict[str, Any]:
    """What each column holds when a row does not say: its default, else NULL."""
    out: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if default is None or not hasattr(default, "arg"):
            out[column.name] = None
        elif callable(default.arg):
            out[column.name] = default.arg(None)
        else:
            out[column.name] = default.arg
    return out


def _time_texts(seconds: np.ndarray[Any, Any], backend: str) -> list[str]:
    """UNIX seconds as the text each backend stores or parses for a UTC datetime."""
    texts = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    suffix = ".000000" if backend == "sqlite" else "+00"
    return [text.replace("T", " ") + suffix for text in texts.tolist()]


def _sql_value(value: Any, backend: str) -> Any:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
        return (
            moment.strftime("%Y-%m-%d %H:%M:%S.%f") if backend == "sqlite" else moment.isoformat()
        )
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value  # an enum member, stored as its value
    return value


class Loader:
    """Writes rows straight into the tables: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, engine: sa.Engine, backend: str) -> None:
        self.engine = engine
        self.backend = backend

    def rows(
        self,
        table: sa.Table,
        columns: list[str],
        rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]],
    ) -> None:
        defaults = _defaults(table)
        rest = [c.name for c in table.columns if c.name not in columns]
        fixed = tuple(_sql_value(defaults[name], self.backend) for name in rest)
        names = columns + rest
        if self.backend == "postgresql":
            self._copy(table.name, names, rows, fixed)
        else:
            self._insert(table.name, names, rows, fixed)

    def _copy(self, name: str, names: list[str], rows: Any, fixed: tuple[Any, ...]) -> None:
        tail = "".join("\t" + _copy_text(v) for v in fixed)
        raw = self.engine.raw_connection()
        try:
            connection = raw.driver_connection
            assert connection is not None
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {name} ({', '.join(names)}) FROM STDIN") as copy,
            ):
                lines: list[str] = []
                for row in rows:
                    lines.append("\t".join(_copy_text(v) for v in row) + tail + "\n")
                    if len(lines) >= 50_000:
                        copy.write("".join(lines))
                        lines = []
                if lines:
                    copy.write("".join(lines))
            connection.commit()
        finally:
            raw.close()

    def _insert(self, name: str, names: list[str], rows: Any, fixed: tuple[Any, ...]) -> None:
        sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("BEGIN")
            chunk: list[tuple[Any, ...]] = []
            for row in rows:
                chunk.append(tuple(row) + fixed)
                if len(chunk) >= 200_000:
                    cursor.executemany(sql, chunk)
                    chunk = []
            if chunk:
                cursor.executemany(sql, chunk)
            cursor.execute("COMMIT")
        finally:
            raw.close()


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


_DOMAINS = {
    "artist": "music",
    "album": "music",
    "track": "music",
    "show": "tv",
    "season": "tv",
    "episode": "tv",
    "film": "film",
}


def _load_people_and_catalogue(loader: Loader, community: Community) -> None:
    backend = loader.backend
    created = _sql_value(datetime.now(UTC), backend)
    people = zip(community.countries, community.zones, strict=True)
    loader.rows(
        User.__table__,  # type: ignore[arg-type]
        ["id", "name", "name_key", "password_hash", "country", "timezone", "created_at"],
        (
            (i + 1, f"u{i:06d}", f"u{i:06d}", PASSWORD_HASH, country, zone, created)
            for i, (country, zone) in enumerate(people)
        ),
    )
    catalogue = community.catalogue
    parents = catalogue.parent.tolist()
    numbers = catalogue.number.tolist()
    columns = ["id", "kind", "domain", "title", "match_key", "search_key", "parent_id", "number"]
    loader.rows(
        Item.__table__,  # type: ignore[arg-type]
        [*columns, "created_at"],
        (
            (
                i + 1,
                kind,
                _DOMAINS[kind],
                catalogue.title(i),
                catalogue.title(i).lower(),
                catalogue.title(i).lower(),
                parents[i] or None,
                numbers[i] or None,
                created,
            )
            for i, kind in enumerate(catalogue.kind)
        ),
    )
    loader.rows(
        ItemCredit.__table__,  # type: ignore[arg-type]
        ["item_id", "credited_id", "role", "position"],
        [(item, credited, role, 0) for item, credited, role in sorted(set(catalogue.credits))],
    )


def _load_plays(loader: Loader, community: Community, log: Callable[[str], None]) -> None:
    """The plays, a million at a time, with the table's indexes dropped meanwhile."""
    backend = loader.backend
    table = Play.__table__
    indexes = list(table.indexes)  # type: ignore[attr-defined]
    with loader.engine.begin() as connection:
        for index in indexes:
            connection.execute(sa.schema.DropIndex(index))
    columns = ["id", "user_id", "item_id", "played_at", "tz_offset_minutes", "source", "created_at"]
    chunk = 1_000_000
    total = len(community.play_at)
    for low in range(0, total, chunk):
        high = min(low + chunk, total)
        times = _time_texts(community.play_at[low:high], backend)
        rows = zip(
            range(low + 1, high + 1),
            (community.play_user[low:high] + 1).tolist(),
            community.play_item[low:high].tolist(),
            times,
            [0] * (high - low),
            ["bench"] * (high - low),
            times,
            strict=True,
        )
        loader.rows(table, columns, rows)  # type: ignore[arg-type]
        log(f"  {high:,} plays written")
    with loader.engine.begin() as connection:
        if backend == "postgresql":
            connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for index in indexes:
            connection.execute(sa.schema.CreateIndex(index))
        if "play_counts" in sa.inspect(connection).get_table_names():
            # What the write path keeps per person (the feed's milestones).
            connection.exec_driver_sql(
                "INSERT INTO play_counts (user_id, plays) "
                "SELECT user_id, count(*) FROM plays GROUP BY user_id"
            )
        if backend == "postgresql":
            for name in ("users", "items", "plays"):
                sequence = f"pg_get_serial_sequence('{name}', 'id')"
                connection.exec_driver_sql(
                    f"SELECT setval({sequence}, (SELECT max(id) FROM {name}))"
                )


def load(
    url: str, community: Community, log: Callable[[str], None], *, rollups: bool = True
) -> dict[str, float]:
    """Migrate, bulk-load the community and build the rollups (unless ``rollups`` is false:
    benchmarks that read no charts); seconds each step took."""
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    timings: dict[str, float] = {}
    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    engine = runtime.db.engine
    try:
        migrations.upgrade(engine)
        loader = Loader(engine, backend)
        started = time.perf_counter()
        _load_people_and_catalogue(loader, community)
        timings["users and catalogue"] = time.perf_counter() - started
        started = time.perf_counter()
        _load_plays(loader, community, log)
        timings["plays and their indexes"] = time.perf_counter() - started
        if rollups:
            started = time.perf_counter()
            with runtime.db.unit_of_work(write=True) as session:
                site, geo = Rollups(session).rebuild()
            timings["rollups rebuilt"] = time.perf_counter() - started
            log(f"  rollups: {site:,} site-wide rows, {geo:,} country rows")
        if backend == "postgresql":
            started = time.perf_counter()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
            timings["vacuum analyze"] = time.perf_counter() - started
    finally:
        runtime.close()
    return timings


# -- chart requests -----------------------------------------------------------------------------


@dataclass
class Timed:
    label: str
    latencies: list[float] = field(default_factory=list)
    by_key: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, seconds: float) -> None:
        self.latencies.append(seconds)
        self.by_key.setdefault(key, []).append(seconds)


def chart_requests(community: Community, count: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """(key, path) of the requests of each kind, drawn at random."""
    rng = random.Random(seed)
    plays_per_user = np.bincount(community.play_user, minlength=community.users)
    heavy = np.argsort(plays_per_user)[-max(1, community.users // 100) :].tolist()
    countries = [c for c in community.countries if c is not None]

    def user_chart(index: int) -> tuple[str, str]:
        level, period = rng.choice(USER_LEVELS), rng.choice(PERIODS)
        return f"{level} {period}", f"/api/v1/users/u{index:06d}/charts/{level}?" + urlencode(
            {"period": period, "limit": 50}
        )

    def site_chart(country: str | None) -> tuple[str, str]:
        level, period = rng.choice(SITE_LEVELS), rng.choice(PERIODS)
        params: dict[str, Any] = {"period": period, "limit": 50}
        if country is not None:
            params["country"] = country
            params["tz"] = next(z for c, _, zones in COUNTRIES if c == country for z in zones[:1])
        else:
            zone = rng.choice(SITE_ZONES)
            if zone:
                params["tz"] = zone
        return f"{level} {period}", f"/api/v1/charts/{level}?" + urlencode(params)

    site = [site_chart(None) for _ in range(count)]
    geo = [site_chart(rng.choice(countries)) for _ in range(count)]
    lean = "&listeners=false"
    return {
        "user top 50, random people": [
            user_chart(rng.randrange(community.users)) for _ in range(count)
        ],
        "user top 50, heaviest 1%": [user_chart(rng.choice(heavy)) for _ in range(count // 2)],
        "site-wide chart": site,
        "site-wide chart, listeners=false": [(key, path + lean) for key, path in site],
        "per-country chart": geo,
        "per-country chart, listeners=false": [(key, path + lean) for key, path in geo],
    }


def time_requests(
    port: int, requests: dict[str, list[tuple[str, str]]], warmup: int, loads: list[float]
) -> list[Timed]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def get(path: str) -> float:
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:500]!r}")
        return elapsed

    everything = [path for batch in requests.values() for _, path in batch]
    for path in random.Random(0).sample(everything, min(warmup, len(everything))):
        get(path)
    results = []
    for label, batch in requests.items():
        timed = Timed(label)
        for key, path in batch:
            timed.add(key, get(path))
        results.append(timed)
        loads.append(os.getloadavg()[0])
    conn.close()
    return results


def _loads(loads: list[float]) -> str:
    return f"{min(loads):.1f} to {max(loads):.1f}"


# -- ingestion with and without the rollups ------------------------------------------------------


@dataclass
class IngestResult:
    plain: list[float] = field(default_factory=list)
    """Plays per second of the rounds without folding."""
    folded: list[float] = field(default_factory=list)
    """Plays per second of the rounds that fold as the server does, the folds included."""
    fold_seconds: float = 0.0
    fold_plays: int = 0

    @property
    def ratio(self) -> float:
        return (
            _median(self.folded) / _median(self.plain) if self.plain and self.folded else math.nan
        )


def _run_prefix(word: str) -> str:
    """A name prefix for this run's ingesting users, new in a reused database too."""
    return f"{word}{int(time.time()) % 1_000_000:06d}"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2] if ordered else math.nan


def ingest_comparison(
    url: str, rounds: int, batches: int, fold_every: int, seed: int
) -> IngestResult:
    """Rounds of ``batches`` batches of 1,000 plays through ``IngestService.record``, alternately
    without folding and folding every ``fold_every`` batches (and at the round's end), on the
    database the charts were measured on, after an untimed round of the same size (the first
    writes read cold index pages: on SQLite at 5M plays the first round ran at a tenth of the
    next one's speed, whichever kind it was)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from ingest_bench import make_workload

    workload = make_workload(
        plays=rounds * batches * 1000,
        batch_size=1000,
        warmup_batches=batches,
        tracks=4000,
        users=4,
        zipf=1.0,
        duplicates=0.01,
        seed=seed,
    )
    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    result = IngestResult()
    prefix = _run_prefix("ingest")
    try:
        with runtime.db.unit_of_work(write=True) as session:
            svc = runtime.services(session)
            for i, (name, zone) in enumerate(workload.users.items()):
                svc.accounts.register(
                    UserCreate(
                        name=f"{prefix}-{name}",
                        password="bench-password",
                        timezone=zone,
                        country=("DE", "US", "JP", "BR")[i % 4],
                    )
                )

        def record(batch: Any, submissions: Any) -> None:
            with runtime.db.unit_of_work(write=True) as session:
                svc = runtime.services(session)
                svc.ingest.record(
                    svc.accounts.get_by_name(f"{prefix}-{batch.user}"), submissions, source="api"
                )

        for batch in workload.warmup:
            record(batch, validate_plays(batch.plays)[0])
        fold(runtime.db)
        ready = [validate_plays(batch.plays)[0] for batch in workload.batches]
        freeze()
        for number in range(rounds):
            folding = number % 2 == 1
            fold(runtime.db)  # what the previous round left, untimed
            part = range(number * batches, (number + 1) * batches)
            started = time.perf_counter()
            for done, index in enumerate(part, start=1):
                record(workload.batches[index], ready[index])
                if folding and (done % fold_every == 0 or done == batches):
                    f0 = time.perf_counter()
                    result.fold_plays += fold(runtime.db)
                    result.fold_seconds += time.perf_counter() - f0
            rate = batches * 1000 / (time.perf_counter() - started)
            (result.folded if folding else result.plain).append(rate)
    finally:
        runtime.close()
    return result


@dataclass
class HttpIngest:
    plain: list[float] = field(default_factory=list)
    folded: list[float] = field(default_factory=list)
    catch_up: list[float] = field(default_factory=list)
    """Seconds after the last batch until the folder had counted every play."""

    @property
    def ratio(self) -> float:
        return (
            _median(self.folded) / _median(self.plain) if self.plain and self.folded else math.nan
        )


def ingest_over_http(
    url: str,
    rounds: int,
    batches: int,
    seed: int,
    env: dict[str, str],
    workdir: Path,
    fold_seconds: str,
    clients: int = 1,
) -> HttpIngest:
    """Rounds of ``batches`` batches of 1,000 plays through ``POST /api/v1/plays/batch`` to a
    real server, alternately with its folder off (``TASTEGRAPH_STATS_FOLD_SECONDS=0``) and
    folding every ``fold_seconds`` (the server's default when empty), on the database the charts
    were measured on, after an untimed round of the same size."""
    sys.path.insert(0, str(Path(__file__).parent))
    from ingest_bench import make_workload

    workload = make_workload(
        plays=rounds * batches * 1000,
        batch_size=1000,
        warmup_batches=batches,
        tracks=4000,
        users=4,
        zipf=1.0,
        duplicates=0.01,
        seed=seed + 1,
    )
    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    tokens: dict[str, str] = {}
    prefix = _run_prefix("http")
    try:
        with runtime.db.unit_of_work(write=True) as session:
            svc = runtime.services(session)
            for i, (name, zone) in enumerate(workload.users.items()):
                user = svc.accounts.register(
                    UserCreate(
                        name=f"{prefix}-{name}",
                        password="bench-password",
                        timezone=zone,
                        country=("DE", "US", "JP", "BR")[i % 4],
                    )
                )
                tokens[name] = svc.accounts.create_token(user, "bench")[1]
    finally:
        runtime.close()
    result = HttpIngest()
    batches_of = [workload.warmup] + [
        workload.batches[n * batches : (n + 1) * batches] for n in range(rounds)
    ]
    # Each client sends its people's batches in order (a person's history oldest first).
    client_of = {name: i % clients for i, name in enumerate(sorted(tokens))}
    for number, part in enumerate(batches_of):
        folding = number % 2 == 0  # the warm-up round folds; then off, on, off ...
        _fold_all(url)  # what the previous round left, untimed
        round_env = {**env, "TASTEGRAPH_STATS_FOLD_SECONDS": fold_seconds if folding else "0"}
        if not round_env["TASTEGRAPH_STATS_FOLD_SECONDS"]:
            del round_env["TASTEGRAPH_STATS_FOLD_SECONDS"]  # the server's default
        with tastegraph_server(round_env, workdir / f"server-ingest-{number}.log") as port:
            shares = [[b for b in part if client_of[b.user] == i] for i in range(clients)]
            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(lambda share: _send_batches(port, share, tokens), shares))
            elapsed = time.perf_counter() - started
            if number == 0:
                continue
            (result.folded if folding else result.plain).append(len(part) * 1000 / elapsed)
            if folding:
                result.catch_up.append(_wait_for_fold(url) - started - elapsed)
    return result


def _send_batches(port: int, batches: list[Any], tokens: dict[str, str]) -> None:
    from ingest_bench import post_batch

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        for batch in batches:
            post_batch(conn, batch, tokens[batch.user])
    finally:
        conn.close()


def _fold_all(url: str) -> None:
    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    try:
        fold(runtime.db)
    finally:
        runtime.close()


def _wait_for_fold(url: str, timeout: float = 600) -> float:
    """When (``perf_counter``) the folder had counted every play."""
    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    try:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with runtime.db.unit_of_work() as session:
                if pending(session) == 0:
                    return time.perf_counter()
            time.sleep(0.1)
        raise RuntimeError("the server's folder did not catch up")
    finally:
        runtime.close()


# -- side by side with Maloja ---------------------------------------------------------------------


def make_history(plays: int, seed: int, now: int) -> list[dict[str, Any]]:
    """One person's scrobbles over three years, as Maloja exports them: 1,500 artists with
    Zipf popularity, about ten tracks each on one or two albums, a few duets."""
    rng = np.random.default_rng(seed)
    n_artists = 1500
    artist = _zipf(rng, n_artists, plays, 1.0)
    track = np.floor(12 * rng.random(plays) ** 2).astype(np.int64)
    duet = rng.random(plays) < 0.03
    partner = rng.integers(0, n_artists, plays)
    span = SPAN_DAYS * 86_400
    moments = np.sort(rng.choice(span // 20, plays, replace=False) * 20) + (now - span)
    scrobbles = []
    for a, t, d, p, at in zip(
        artist.tolist(),
        track.tolist(),
        duet.tolist(),
        partner.tolist(),
        moments.tolist(),
        strict=True,
    ):
        artists = [f"Artist {a + 1}"]
        if d and p != a and t == 0:
            artists.append(f"Artist {p + 1}")
        scrobbles.append(
            {
                "time": int(at),
                "track": {
                    "artists": artists,
                    "title": f"Song {a + 1}-{t + 1}",
                    "album": {"albumtitle": f"Album {a + 1}-{t // 8 + 1}", "artists": artists[:1]},
                    "length": 200 + (a * 7 + t * 13) % 180,
                },
                "duration": 180,
                "origin": "client:bench",
            }
        )
    return scrobbles


def _months(scrobbles: list[dict[str, Any]]) -> list[datetime]:
    """The UTC month starts of the history, the current (partial) month left out."""
    first = datetime.fromtimestamp(scrobbles[0]["time"], UTC)
    last = datetime.fromtimestamp(scrobbles[-1]["time"], UTC)
    months = []
    month = datetime(first.year, first.month, 1, tzinfo=UTC)
    while month < datetime(last.year, last.month, 1, tzinfo=UTC):
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months[1:]  # the first month is partial too


@dataclass
class SideBySide:
    system: str
    import_seconds: float
    cold: list[float]
    warm: list[float]


def _time_gets(port: int, paths: list[str]) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    out = []
    for path in paths:
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        out.append(time.perf_counter() - started)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
    conn.close()
    return out


def tastegraph_side(
    backend: str, url: str, export: Path, months: list[datetime], workdir: Path
) -> list[SideBySide]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TASTEGRAPH_")},
        "TASTEGRAPH_MODE": "dev",
        "TASTEGRAPH_DATABASE_URL": url,
        "TASTEGRAPH_DATA_DIR": str(workdir / f"data-solo-{backend}"),
    }
    cli(env, "db", "upgrade")
    cli(env, "users", "create", "solo", "--password", "bench-password", "--timezone", "UTC")
    started = time.perf_counter()
    cli(env, "import", str(export), "--user", "solo", "--format", "maloja")
    imported = time.perf_counter() - started

    def paths(limit: int) -> list[str]:
        return [
            "/api/v1/users/solo/charts/artist?"
            + urlencode(
                {
                    "from": m.isoformat(),
                    "to": (m + timedelta(days=32)).replace(day=1).isoformat(),
                    "limit": limit,
                }
            )
            for m in months
        ]

    with tastegraph_server(env, workdir / f"server-solo-{backend}.log") as port:
        whole = (_time_gets(port, paths(1000)), _time_gets(port, paths(1000)))
        top = (_time_gets(port, paths(50)), _time_gets(port, paths(50)))
    return [
        SideBySide(f"tastegraph ({backend}), whole chart", imported, *whole),
        SideBySide(f"tastegraph ({backend}), top 50", imported, *top),
    ]


def maloja_side(venv: Path, export: Path, months: list[datetime], workdir: Path) -> SideBySide:
    maloja = venv / "bin" / "maloja"
    if not maloja.exists():
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "malojaserver"], check=True)
    data = workdir / "maloja-data"
    data.mkdir(exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "MALOJA_DATA_DIRECTORY": str(data),
        "MALOJA_PORT": str(port),
        "MALOJA_SKIP_SETUP": "yes",
        "MALOJA_FORCE_PASSWORD": "bench-password",
        "MALOJA_TIMEZONE": "0",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [str(maloja), "import", str(export)],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    imported = time.perf_counter() - started
    if done.returncode != 0 or "Successfully imported" not in done.stdout:
        raise RuntimeError(f"maloja import failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    paths = [f"/apis/mlj_1/charts/artists?in={m.year}/{m.month:02d}" for m in months]
    log_path = workdir / "maloja.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(maloja), "run"], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_until_answers(proc, port, "/apis/mlj_1/serverinfo", log_path, timeout=180)
        cold = _time_gets(port, paths)
        warm = _time_gets(port, paths)
    finally:
        stop(proc)
    return SideBySide("Maloja", imported, cold, warm)


# -- output --------------------------------------------------------------------------------------


def _ms(values: list[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:.1f}"


def print_charts(label: str, results: list[Timed], markdown: bool) -> None:
    header = ("backend", "requests", "n", "p50 ms", "p95 ms", "p99 ms", "max ms")
    rows: list[tuple[str, ...]] = [
        (
            label,
            r.label,
            str(len(r.latencies)),
            _ms(r.latencies, 0.5),
            _ms(r.latencies, 0.95),
            _ms(r.latencies, 0.99),
            _ms(r.latencies, 1.0),
        )
        for r in results
    ]
    print("\n".join(format_table(header, rows, "<<>>>>>", markdown=markdown)))
    slow = sorted(
        (
            (percentile(v, 0.95), r.label, key, len(v))
            for r in results
            for key, v in r.by_key.items()
        ),
        reverse=True,
    )[:8]
    print(
        "slowest kinds of request (p95 ms): "
        + "; ".join(f"{lab}: {key} {p * 1000:.0f} (n={n})" for p, lab, key, n in slow)
    )


@contextlib.contextmanager
def bench_database(args: argparse.Namespace, backend: str, workdir: Path) -> Iterator[str]:
    """Where the community goes: a throwaway database, or the one ``--database`` (PostgreSQL)
    or ``--sqlite-file`` names, emptied first unless ``--reuse`` and dropped afterwards unless
    ``--keep-database``."""
    if backend == "sqlite":
        if args.sqlite_file is None:
            with fresh_database(backend, workdir, args.postgres_url, f"scale-{backend}") as url:
                yield url
            return
        if not args.reuse:
            remove_sqlite_database(args.sqlite_file)
        try:
            yield f"sqlite:///{args.sqlite_file}"
        finally:
            if not args.keep_database:
                remove_sqlite_database(args.sqlite_file)
        return
    if args.database is None:
        with fresh_database(backend, workdir, args.postgres_url, f"scale-{backend}") as url:
            yield url
        return
    name = args.database
    admin = sa.create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and not args.reuse:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = None
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        if not args.keep_database:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _loaded_plays(url: str) -> int:
    """How many generated plays the database holds (0 when it holds no community)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("plays"):
                return 0
            found = connection.scalar(
                sa.select(sa.func.count()).select_from(Play).where(Play.source == "bench")
            )
            return int(found or 0)
    finally:
        engine.dispose()


def run_backend(args: argparse.Namespace, backend: str, workdir: Path, now: int) -> None:
    """Generate, load, time the charts and the ingestion on one backend; print the tables."""
    if backend == "postgresql":
        problem = postgres_problem(args.postgres_url)
        if problem is not None:
            print(f"skipping postgresql: not reachable at {args.postgres_url} ({problem})")
            return
        label = postgres_version(args.postgres_url)
    else:
        label = "SQLite"
    plays = args.plays or (20_000_000 if backend == "postgresql" else 5_000_000)
    started = time.perf_counter()
    community = make_community(args.users, plays, args.seed, now)
    print(
        f"\n{label}: {community.users:,} users, {len(community.catalogue):,} items, "
        f"{len(community.play_at):,} plays generated in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    with bench_database(args, backend, workdir) as url:
        loaded = _loaded_plays(url) if args.reuse else 0
        if loaded:
            if loaded != plays:
                raise SystemExit(f"{url} holds {loaded:,} generated plays, not {plays:,}")
            print(f"reusing the loaded database ({loaded:,} plays)", flush=True)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TASTEGRAPH_")},
            "TASTEGRAPH_MODE": "dev",
            "TASTEGRAPH_DATABASE_URL": url,
            "TASTEGRAPH_DATA_DIR": str(workdir / f"data-{backend}"),
        }
        if args.user_charts_only:
            # No rollups to keep: a folder would count the whole log into them meanwhile.
            env["TASTEGRAPH_STATS_FOLD_SECONDS"] = "0"
        if not loaded:
            timings = load(
                url,
                community,
                lambda text: print(text, flush=True),
                rollups=not args.user_charts_only,
            )
            if backend == "postgresql" and len(community.play_at):
                # What an operator runs after importing history: the months out of the default
                # partition (and vacuumed), before a server start would move them itself.
                first = datetime.fromtimestamp(int(community.play_at.min()), UTC)
                started = time.perf_counter()
                cli(env, "db", "partitions", "--from", first.strftime("%Y-%m"))
                timings["monthly partitions"] = time.perf_counter() - started
            print("load seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
        # The community again for a reused database: the same seed draws the same people,
        # countries and activity, so the same requests (the play times do not enter them).
        requests = chart_requests(community, args.requests, args.seed)
        if args.user_charts_only:
            requests = {k: v for k, v in requests.items() if k.startswith("user ")}
        del community
        # Migrations others added while the data loaded (a shared working tree).
        cli(env, "db", "upgrade")
        # The server must not archive while requests are timed: the bench does it before.
        env["TASTEGRAPH_STATS_ARCHIVE_SECONDS"] = "0"
        if args.requests and not args.user_charts_only:
            prepare_archive(url, env, empty=args.no_archive)
        if args.requests:
            loads = [os.getloadavg()[0]]
            with tastegraph_server(env, workdir / f"server-{backend}.log") as port:
                results = time_requests(port, requests, args.warmup, loads)
            print_charts(label, results, args.markdown)
            print(f"machine load (1-minute average) while timing charts: {_loads(loads)}")
        if not args.ingest_rounds or args.user_charts_only:
            return
        run_ingestion(args, url, env, workdir)


def run_ingestion(args: argparse.Namespace, url: str, env: dict[str, str], workdir: Path) -> None:
    """Time ingestion with and without folding, in-process and over HTTP; print the lines."""
    if not args.no_in_process:
        serial = ingest_comparison(
            url, args.ingest_rounds, args.ingest_batches, args.fold_every, args.seed
        )
        fold_rate = serial.fold_plays / max(serial.fold_seconds, 1e-9)
        print(
            f"ingest in-process, recording and folding in turn ({args.ingest_rounds} rounds "
            f"of {args.ingest_batches} x 1,000): {_median(serial.plain):,.0f} plays/s not "
            f"folding, {_median(serial.folded):,.0f} folding every {args.fold_every} batches "
            f"(folds alone {fold_rate:,.0f} plays/s) -> {serial.ratio:.0%}; rounds "
            f"{_rates(serial.plain)} / {_rates(serial.folded)}",
            flush=True,
        )
    over_http = ingest_over_http(
        url,
        args.ingest_rounds,
        args.ingest_batches,
        args.seed,
        env,
        workdir,
        args.fold_seconds,
        args.ingest_clients,
    )
    print(
        f"ingest over HTTP ({args.ingest_clients} client(s)): "
        f"{_median(over_http.plain):,.0f} plays/s with the folder off, "
        f"{_median(over_http.folded):,.0f} with it on "
        f"({'every ' + args.fold_seconds + ' s' if args.fold_seconds else 'by default'}) "
        f"-> {over_http.ratio:.0%}; "
        f"the folder caught up {max(over_http.catch_up):.1f} s after the last batch at most; "
        f"rounds {_rates(over_http.plain)} / {_rates(over_http.folded)}",
        flush=True,
    )


def prepare_archive(url: str, env: dict[str, str], *, empty: bool) -> None:
    """Fill the chart archive as a server's archiver would within 10 minutes of a start (or
    empty it, so the charts of closed periods are counted per request)."""
    if not empty:
        started = time.perf_counter()
        out = cli(env, "stats", "archive")
        print(f"{out.strip()} (timed by the bench: {time.perf_counter() - started:.0f} s)")
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM chart_archive"))
    finally:
        engine.dispose()
    print("chart archive emptied: closed periods are counted per request", flush=True)


def _rates(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:,.0f}" for v in values) + "]"


def run_side_by_side(
    args: argparse.Namespace, backends: list[str], workdir: Path, now: int
) -> None:
    """One person's history in tastegraph and in Maloja: a month's top artists in both."""
    history = make_history(args.maloja_plays, args.seed, now)
    export = workdir / "maloja_export_1.json"
    export.write_bytes(orjson.dumps({"maloja": {"export_time": now}, "scrobbles": history}))
    months = _months(history)
    random.Random(args.seed).shuffle(months)
    print(f"\nside by side: one person, {len(history):,} plays, {len(months)} months", flush=True)
    sides = []
    for backend in backends or ["sqlite"]:
        with fresh_database(backend, workdir, args.postgres_url, f"solo-{backend}") as url:
            sides.extend(tastegraph_side(backend, url, export, months, workdir))
    sides.append(maloja_side(args.maloja_venv, export, months, workdir))
    header = ("system", "import s", "cold p50 ms", "cold p95 ms", "warm p50 ms", "warm p95 ms")
    rows: list[tuple[str, ...]] = [
        (
            s.system,
            f"{s.import_seconds:.0f}",
            _ms(s.cold, 0.5),
            _ms(s.cold, 0.95),
            _ms(s.warm, 0.5),
            _ms(s.warm, 0.95),
        )
        for s in sides
    ]
    print("\n".join(format_table(header, rows, "<>>>>>", markdown=args.markdown)))
    maloja = sides[-1]
    for side in sides[:-1]:
        cold = percentile(maloja.cold, 0.5) / percentile(side.cold, 0.5)
        warm = percentile(maloja.warm, 0.5) / percentile(side.warm, 0.5)
        print(
            f"{side.system}: a month's top artists in {1 / cold:.2f} of Maloja's time cold "
            f"({cold:.1f}x faster, p50), {1 / warm:.2f} warm ({warm:.1f}x)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument(
        "--plays", type=int, default=None, help="default: 20M on PostgreSQL, 5M on SQLite"
    )
    parser.add_argument(
        "--backends", default="postgresql,sqlite", help="some of postgresql, sqlite; or none"
    )
    parser.add_argument(
        "--requests", type=int, default=400, help="timed requests of each kind; 0 skips"
    )
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests first")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ingest-rounds", type=int, default=6, help="alternating rounds; 0 skips")
    parser.add_argument("--ingest-batches", type=int, default=20, help="batches of 1,000 per round")
    parser.add_argument("--fold-every", type=int, default=5, help="batches between folds")
    parser.add_argument(
        "--ingest-clients",
        type=int,
        default=1,
        help="HTTP clients sending batches at once (each its own people's, in order)",
    )
    parser.add_argument(
        "--no-in-process", action="store_true", help="skip the in-process ingest comparison"
    )
    parser.add_argument(
        "--fold-seconds",
        default="",
        help="the server's TASTEGRAPH_STATS_FOLD_SECONDS while its folder is on (its default)",
    )
    parser.add_argument("--with-maloja", action="store_true")
    parser.add_argument("--maloja-plays", type=int, default=100_000)
    parser.add_argument("--maloja-venv", type=Path, default=Path("/tmp/maloja-venv"))
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    parser.add_argument("--markdown", action="store_true", help="tables as GitHub markdown")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, DBs)")
    parser.add_argument("--database", default=None, help="PostgreSQL database name to use")
    parser.add_argument("--sqlite-file", type=Path, default=None, help="SQLite file to use")
    parser.add_argument("--reuse", action="store_true", help="time what is loaded there")
    parser.add_argument(
        "--no-archive",
        action="store_true",
        help="empty the chart archive first: charts of closed periods are counted per request",
    )
    parser.add_argument("--keep-database", action="store_true", help="keep --database's data")
    parser.add_argument(
        "--user-charts-only",
        action="store_true",
        help="load without the rollups (minutes instead of most of an hour at 20M plays) and "
        "time only people's own charts, which do not read them",
    )
    args = parser.parse_args(argv)
    if args.ingest_rounds % 2:
        parser.error("--ingest-rounds alternates without and with the rollups: give an even number")
    known = ("postgresql", "sqlite")
    backends = [] if args.backends == "none" else choices(parser, args.backends, known)
    sync = os.environ.get("TASTEGRAPH_SQLITE_SYNCHRONOUS", "FULL")
    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite synchronous={sync}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="tastegraph-stats-bench-"))
    now = int(time.time())
    try:
        for backend in backends:
            run_backend(args, backend, workdir, now)
        if args.with_maloja:
            run_side_by_side(args, backends, workdir, now)
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
