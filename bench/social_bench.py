"""The social network at scale: the activity feed of people with 500 friends on a big play log,
and how fast a shout in a crowded live room reaches the people reading it.

A script, not a test. For each backend it

1. generates a deterministic community (``--seed``) with ``stats_bench.make_community``:
   ``--users`` people and ``--plays`` plays over three years; then a social graph on top:
   ``--viewers`` people (ids 1 ..) with ``--friends`` friends and ``--follows`` followees each,
   and for everyone else about ten friends and three follows; 4% friends-only profiles, 1%
   private, 3% hiding recent activity, some blocks; eight loves a person (of items they
   played), 1,000 groups (one in ten private) with three memberships a person, three wall
   shouts a person over the last year;
2. bulk-loads it (``stats_bench.load``: PostgreSQL ``COPY``, SQLite ``executemany``; chart
   rollups built) and the social rows beside it, counts the feed's play counts
   (``social.counts.recount``), ``VACUUM ANALYZE`` / ``ANALYZE``;
3. reads the database into the OS cache (``prewarm``: the SQLite file; ``pg_prewarm`` of the
   tables the feed reads), starts a real ``tastegraph serve`` (chart folder off) and times,
   over HTTP on one keep-alive connection, ``GET /api/v1/me/feed`` for ``--feed-viewers``
   viewers in random order after ``--warmup`` untimed first pages: each one's first page, its
   ``--pages``-th page (following ``next``) and a page a month back (``before=``), reporting
   p50 / p95 / p99 / max and the server process's CPU time per request;
4. opens a live room: a match that started 20 minutes ago, with ``--watchers`` people watching
   (each says so with ``PUT /api/v1/now-playing``, as a player does); ``--readers`` of them
   follow the room's shouts in each of ``--rooms``: the event stream
   (``/shouts/stream``), long-polls (``?since=&wait=``) or plain polls every
   ``--poll-seconds``, while ``--shouts`` shouts are posted one every ``--shout-every``
   seconds by ``--posters`` people in the room. It reports the time from sending each shout
   to each reader having it (p50 / p95 / p99 / max), shouts a reader never got, the posts'
   own latency, requests per second and the server's CPU. The readers are asyncio clients in
   this process, so their own work is in the figures too.

Usage::

    .venv/bin/python bench/social_bench.py       # the issue's sizes: 100,000 users, 20M plays
                                                 # on PostgreSQL, 5M on SQLite
    .venv/bin/python bench/social_bench.py --users 10000 --plays 1000000 --backends sqlite
    .venv/bin/python bench/social_bench.py --backends postgresql --database tg_social_bench \\
        --keep-database                          # load once, time again later (--reuse)

PostgreSQL runs in ``--database`` on ``--postgres-url``'s server (default: a throwaway one,
dropped afterwards); SQLite in a file (``--sqlite-file``, default: a throwaway one).
``--reuse`` migrates a loaded database to this version and times it again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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
    cpu_seconds,
    format_table,
    percentile,
    postgres_problem,
    postgres_version,
    tastegraph_process,
)
from stats_bench import Loader, load, make_community

from tastegraph.accounts.models import User
from tastegraph.accounts.services import AccountService
from tastegraph.config import Mode, Settings
from tastegraph.ingest.models import Feedback
from tastegraph.runtime import Runtime
from tastegraph.social.counts import recount
from tastegraph.social.models import (
    Block,
    Follow,
    Friendship,
    Group,
    GroupMember,
    Shout,
)
from tastegraph.storage.engine import remove_sqlite_database

BACKGROUND_FRIENDS = 10
"""Friends per person on average, outside the viewers' own."""
BACKGROUND_FOLLOWS = 3
LOVES = 8
"""Loved items per person on average."""
GROUPS_PER_1000 = 10
MEMBERSHIPS = 3
"""Groups per person on average."""
WALL_SHOUTS = 3
"""Wall shouts per person on average, over the last year."""
BLOCKS_PER_1000 = 20


# -- the social graph ---------------------------------------------------------------------------


@dataclass
class Social:
    friends: list[tuple[int, int]]
    """(low id, high id), distinct."""
    follows: list[tuple[int, int]]
    blocks: list[tuple[int, int]]
    loves: list[tuple[int, int, int]]
    """(user id, item id, UNIX seconds)."""
    groups: list[tuple[int, str, bool]]
    """(id, name, public)."""
    members: list[tuple[int, int, int]]
    """(group id, user id, joined UNIX seconds)."""
    shouts: list[tuple[int, int, int, str, int]]
    """(id, wall owner id, author id, body, UNIX seconds)."""


def make_social(
    users: int,
    viewers: int,
    friends: int,
    follows: int,
    plays: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]],
    seed: int,
    now: int,
) -> Social:
    """The social rows: viewers (ids 1 .. ``viewers``) with ``friends`` friends and ``follows``
    followees each, a sparser graph for everyone, loves of played items, groups, shouts."""
    rng = np.random.default_rng(seed + 7)
    pairs: set[tuple[int, int]] = set()
    for viewer in range(1, viewers + 1):
        chosen: set[int] = set()
        while len(chosen) < friends:
            for other in rng.integers(1, users + 1, friends).tolist():
                if other != viewer and len(chosen) < friends:
                    chosen.add(other)
        pairs.update((min(viewer, o), max(viewer, o)) for o in chosen)
    count = users * BACKGROUND_FRIENDS // 2
    a = rng.integers(viewers + 1, users + 1, count)
    b = rng.integers(viewers + 1, users + 1, count)
    pairs.update(
        (min(x, y), max(x, y)) for x, y in zip(a.tolist(), b.tolist(), strict=True) if x != y
    )
    follow_set: set[tuple[int, int]] = set()
    for viewer in range(1, viewers + 1):
        for other in rng.integers(1, users + 1, follows).tolist():
            if other != viewer and (min(viewer, other), max(viewer, other)) not in pairs:
                follow_set.add((viewer, other))
    count = users * BACKGROUND_FOLLOWS
    a = rng.integers(1, users + 1, count)
    b = rng.integers(1, users + 1, count)
    follow_set.update((x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True) if x != y)
    # Blocks between people who are neither friends nor follow each other (a block ends both).
    blocks: set[tuple[int, int]] = set()
    count = users * BLOCKS_PER_1000 // 1000
    a = rng.integers(viewers + 1, users + 1, count)
    b = rng.integers(viewers + 1, users + 1, count)
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if (
            x != y
            and (min(x, y), max(x, y)) not in pairs
            and (x, y) not in follow_set
            and (y, x) not in follow_set
        ):
            blocks.add((x, y))
    play_user, play_item, play_at = plays
    picked = rng.integers(0, len(play_user), users * LOVES)
    loves: dict[tuple[int, int], int] = {}
    for index in picked.tolist():
        key = (int(play_user[index]) + 1, int(play_item[index]))
        loves.setdefault(key, int(play_at[index]) + 600)
    n_groups = max(5, users * GROUPS_PER_1000 // 1000)
    groups = [(g, f"Group {g}", g % 10 != 0) for g in range(1, n_groups + 1)]
    count = users * MEMBERSHIPS
    member_user = rng.integers(1, users + 1, count)
    weights = 1.0 / np.arange(1, n_groups + 1) ** 0.8
    member_group = 1 + np.searchsorted(
        np.cumsum(weights), rng.random(count) * weights.sum(), side="right"
    ).clip(0, n_groups - 1)
    joined = now - (rng.random(count) * 2 * 365 * 86_400).astype(np.int64)
    members: dict[tuple[int, int], int] = {}
    for g, u, at in zip(member_group.tolist(), member_user.tolist(), joined.tolist(), strict=True):
        members.setdefault((g, u), at)
    count = users * WALL_SHOUTS
    author = rng.integers(1, users + 1, count)
    owner = np.where(rng.random(count) < 0.3, author, rng.integers(1, users + 1, count))
    said = now - (rng.random(count) * 365 * 86_400).astype(np.int64)
    order = np.argsort(said, kind="stable")
    shouts = [
        (n + 1, int(owner[i]), int(author[i]), f"shout {n + 1}", int(said[i]))
        for n, i in enumerate(order.tolist())
    ]
    return Social(
        friends=sorted(pairs),
        follows=sorted(follow_set),
        blocks=sorted(blocks),
        loves=[(u, i, at) for (u, i), at in sorted(loves.items())],
        groups=groups,
        members=[(g, u, at) for (g, u), at in sorted(members.items())],
        shouts=shouts,
    )


def _when(seconds: int, backend: str) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if backend == "sqlite" else moment.isoformat()


def load_social(url: str, social: Social, users: int, log: Callable[[str], None]) -> None:
    """The social rows, straight into the tables; profile settings; the feed's play counts."""
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    engine = sa.create_engine(url)
    loader = Loader(engine, backend)
    try:
        w = lambda s: _when(s, backend)  # noqa: E731 - short
        long_ago = w(int(time.time()) - 3 * 365 * 86_400)
        loader.rows(
            Friendship.__table__,  # type: ignore[arg-type]
            [
                "user_low_id",
                "user_high_id",
                "requested_by_id",
                "status",
                "created_at",
                "accepted_at",
            ],
            ((lo, hi, lo, "accepted", long_ago, long_ago) for lo, hi in social.friends),
        )
        loader.rows(
            Follow.__table__,  # type: ignore[arg-type]
            ["follower_id", "followee_id", "created_at"],
            ((a, b, long_ago) for a, b in social.follows),
        )
        loader.rows(
            Block.__table__,  # type: ignore[arg-type]
            ["blocker_id", "blocked_id", "created_at"],
            ((a, b, long_ago) for a, b in social.blocks),
        )
        loader.rows(
            Feedback.__table__,  # type: ignore[arg-type]
            ["user_id", "item_id", "sentiment", "created_at"],
            ((u, i, "love", w(at)) for u, i, at in social.loves),
        )
        loader.rows(
            Group.__table__,  # type: ignore[arg-type]
            ["id", "slug", "name", "privacy", "created_at"],
            (
                (
                    g,
                    name.lower().replace(" ", "-"),
                    name,
                    "public" if public else "private",
                    long_ago,
                )
                for g, name, public in social.groups
            ),
        )
        loader.rows(
            GroupMember.__table__,  # type: ignore[arg-type]
            ["group_id", "user_id", "role", "status", "created_at", "joined_at"],
            ((g, u, "member", "member", w(at), w(at)) for g, u, at in social.members),
        )
        loader.rows(
            Shout.__table__,  # type: ignore[arg-type]
            ["id", "target_kind", "target_id", "author_id", "body", "created_at"],
            (
                (i, "user", owner, author, body, w(at))
                for i, owner, author, body, at in social.shouts
            ),
        )
        log(
            f"  social: {len(social.friends):,} friendships, {len(social.follows):,} follows, "
            f"{len(social.blocks):,} blocks, {len(social.loves):,} loves, "
            f"{len(social.members):,} group members, {len(social.shouts):,} shouts"
        )
        with engine.begin() as connection:
            # Profile settings by id, the viewers left public and showing what they play.
            connection.execute(
                sa.text(
                    "UPDATE users SET visibility = 'friends' WHERE id % 25 = 7;"
                    if backend == "sqlite"
                    else "UPDATE users SET visibility = 'friends' WHERE id % 25 = 7"
                )
            )
            connection.execute(
                sa.text("UPDATE users SET visibility = 'private' WHERE id % 100 = 13")
            )
            connection.execute(
                sa.text("UPDATE users SET hide_recent_activity = true WHERE id % 33 = 5")
            )
            if backend == "postgresql":
                for name in ("social_groups", "shouts"):
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
        started = time.perf_counter()
        with engine.begin() as connection:
            counted = recount(connection)
        log(f"  feed play counts for {counted:,} people in {time.perf_counter() - started:.0f} s")
        if backend == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        else:
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    del users


def tokens_for(url: str, user_ids: list[int]) -> dict[int, str]:
    """A personal API token for each of ``user_ids`` (made in this process, as the CLI would)."""
    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    out: dict[int, str] = {}
    try:
        with runtime.db.unit_of_work(write=True) as session:
            accounts = AccountService(session)
            people = session.scalars(sa.select(User).where(User.id.in_(user_ids)))
            for user in people:
                out[user.id] = accounts.create_token(user, "social-bench")[1]
    finally:
        runtime.close()
    return out


def prewarm(url: str) -> str:
    """Read the database into the operating system's cache, as a server that has run a while
    has it: the first page of 500 friends' plays otherwise costs a few hundred random reads
    from disk. SQLite: the file; PostgreSQL: the social and play tables and their indexes
    (``pg_prewarm``, reading into the OS cache)."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        with path.open("rb") as f:
            while f.read(1 << 24):
                pass
        return f"read {path.stat().st_size / 1e9:.1f} GB"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            tables = (
                "plays",
                "play_counts",
                "users",
                "items",
                "friendships",
                "follows",
                "blocks",
                "feedback",
                "group_members",
                "social_groups",
                "shouts",
            )
            # A partitioned table (the play log on PostgreSQL) has no storage of its own:
            # its partitions and their indexes are read instead.
            blocks = connection.execute(
                sa.text(
                    "WITH named AS (SELECT oid FROM pg_class WHERE relname = ANY(:names)), "
                    "tables AS (SELECT oid FROM named UNION "
                    "SELECT inhrelid FROM pg_inherits WHERE inhparent IN (SELECT oid FROM named)) "
                    "SELECT sum(pg_prewarm(c.oid, 'read')) FROM pg_class c "
                    "WHERE c.relkind IN ('r', 'i', 'm', 't') "
                    "AND (c.oid IN (SELECT oid FROM tables) "
                    "OR c.oid IN (SELECT indexrelid FROM pg_index "
                    "WHERE indrelid IN (SELECT oid FROM tables)))"
                ),
                {"names": list(tables)},
            ).scalar_one()
        return f"read {int(blocks) * 8192 / 1e9:.1f} GB"
    finally:
        engine.dispose()


def has_data(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("friendships"):
                return False
            found = connection.scalar(sa.select(sa.func.count()).select_from(Friendship))
            return bool(found)
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


# -- feeds --------------------------------------------------------------------------------------


@dataclass
class Timed:
    label: str
    latencies: list[float] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """The server's CPU seconds (all threads) per request."""


def time_feeds(
    port: int,
    server_pid: int,
    tokens: dict[int, str],
    viewers: list[int],
    pages: int,
    month_back: datetime,
) -> list[Timed]:
    """Each viewer's first page, their ``pages``-th page (following ``next``), a page a month
    back; one connection, one request at a time."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def get(path: str, token: str, timed: Timed | None = None) -> Any:
        cpu = cpu_seconds(server_pid)
        started = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        spent = cpu_seconds(server_pid)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:500]!r}")
        page = orjson.loads(body)
        if timed is not None:
            timed.latencies.append(elapsed)
            timed.events.append(len(page["events"]))
            if cpu is not None and spent is not None:
                timed.cpu.append(spent - cpu)
        return page

    first = Timed("first page")
    deep = Timed(f"page {pages} (following next)")
    back = Timed("a page a month back (before=)")
    for viewer in viewers:
        token = tokens[viewer]
        path: str | None = "/api/v1/me/feed?limit=30"
        for number in range(1, pages + 1):
            if path is None:
                break
            page = get(path, token, first if number == 1 else deep if number == pages else None)
            path = page["next"]
        get(
            "/api/v1/me/feed?" + urlencode({"limit": 30, "before": month_back.isoformat()}),
            token,
            back,
        )
    conn.close()
    return [first, deep, back]


# -- a live room --------------------------------------------------------------------------------


class Client:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: a thousand of them in one
    process cost little, so the readers' own overhead stays out of the latencies."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {self.token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        message = head.encode() + b"\r\n" + (body or b"")
        for attempt in range(2):
            if self.writer is None or self.writer.is_closing():
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            assert self.reader is not None
            try:
                self.writer.write(message)
                await self.writer.drain()
                status_line = await self.reader.readline()
            except ConnectionError:
                status_line = b""
            if status_line:
                break
            # The server closed an idle keep-alive connection (uvicorn: after 5 s): again.
            self.writer.close()
            self.writer = None
            if attempt:
                raise ConnectionError(f"{method} {path}: the server closed the connection")
        status = int(status_line.split()[1])
        assert self.reader is not None
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return status, orjson.loads(payload) if payload else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class RoomResult:
    mode: str
    readers: int
    shouts: int
    latencies: list[float]
    """Seconds from sending a shout to a reader having it, one per (shout, reader)."""
    missed: int
    post_seconds: list[float]
    requests: int
    cpu_per_second: float | None
    duration: float


async def _watch(clients: list[Client], item: dict[str, Any] | int) -> int:
    """Everyone in ``clients`` says they watch the match (the first one names it)."""
    first = clients[0]
    status, body = await first.request("PUT", "/api/v1/now-playing", orjson.dumps({"item": item}))
    if status != 200:
        raise RuntimeError(f"now-playing: HTTP {status}: {body}")
    item_id = int(body["item"]["id"])
    payload = orjson.dumps({"item_id": item_id})
    for start in range(1, len(clients), 50):
        answers = await asyncio.gather(
            *(c.request("PUT", "/api/v1/now-playing", payload) for c in clients[start : start + 50])
        )
        for status, body in answers:
            if status != 200:
                raise RuntimeError(f"now-playing: HTTP {status}: {body}")
    return item_id


@dataclass(frozen=True)
class RoomPlan:
    readers: int
    posters: int
    shouts: int
    shout_every: float
    poll_seconds: float
    wait: int


async def _stream(
    client: Client, path: str, on_batch: Callable[[list[Any]], None], ready: Callable[[], None]
) -> None:
    """Follow a server-sent event stream (chunked) until cancelled; ``ready`` once open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n"
            f"Authorization: Bearer {client.token}\r\n\r\n".encode()
        )
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        if status != 200:
            raise RuntimeError(f"stream: HTTP {status}")
        ready()
        pending = b""
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                return
            pending += await reader.readexactly(size)
            await reader.readexactly(2)
            while b"\n\n" in pending:
                event, pending = pending.split(b"\n\n", 1)
                for line in event.split(b"\n"):
                    if line.startswith(b"data: "):
                        on_batch(orjson.loads(line[6:])["shouts"])
    finally:
        writer.close()


async def _room(
    port: int, server_pid: int, tokens: list[str], modes: list[str], plan: RoomPlan
) -> list[RoomResult]:
    """One live room, watched by everyone in ``tokens``; for each mode, ``plan.readers`` of
    them read while shouts are posted."""
    clients = [Client(port, token) for token in tokens]
    match = {
        "kind": "match",
        "competition": "Bench League",
        "home": "Bench United",
        "away": "Load City",
        "starts_at": (datetime.now(UTC) - timedelta(minutes=20)).isoformat(),
    }
    item_id = await _watch(clients, match)
    status, room = await clients[0].request("GET", f"/api/v1/items/{item_id}/live")
    if status != 200 or room["watching"] != len(clients):
        raise RuntimeError(f"the room: HTTP {status}, watching {room.get('watching')}")
    results = []
    for mode in modes:
        status, room = await clients[0].request("GET", f"/api/v1/items/{item_id}/live")
        results.append(await _round(server_pid, clients, item_id, room["latest"], mode, plan))
        print(f"  room, {results[-1].mode} done ({_load_average()})", flush=True)
    for client in clients:
        client.close()
    return results


class _Round:
    """One round in the room: ``readers`` read in one mode while shouts are posted."""

    def __init__(
        self, clients: list[Client], item_id: int, start: int, mode: str, plan: RoomPlan
    ) -> None:
        self.clients = clients
        self.start = start
        self.mode = mode
        self.plan = plan
        self.readers = min(plan.readers, len(clients))
        self.path = f"/api/v1/items/{item_id}/shouts"
        self.sent: dict[str, float] = {}
        self.seen: list[dict[str, float]] = [{} for _ in range(self.readers)]
        self.posts: list[float] = []
        self.requests = 0
        self.connected = 0
        self.all_in = asyncio.Event()
        self.done = asyncio.Event()
        self.settle = plan.poll_seconds if mode == "poll" else 2.0

    @property
    def label(self) -> str:
        return {
            "poll": f"poll every {self.plan.poll_seconds:g} s",
            "long-poll": f"long-poll wait={self.plan.wait}",
            "stream": "event stream",
        }[self.mode]

    def ready(self) -> None:
        self.connected += 1
        if self.connected == self.readers:
            self.all_in.set()

    def got(self, number: int, batch: list[Any]) -> None:
        now = time.perf_counter()
        for shout in batch:
            self.seen[number].setdefault(shout["body"], now)

    async def read(self, number: int, client: Client) -> None:
        if self.mode == "stream":
            self.requests += 1
            path = f"{self.path}/stream?since={self.start}"
            await _stream(client, path, lambda batch: self.got(number, batch), self.ready)
            return
        latest = self.start
        self.ready()
        poll = self.mode == "poll"
        if poll:
            await asyncio.sleep(random.random() * self.plan.poll_seconds)  # any time
        while not self.done.is_set():
            began = time.monotonic()
            query = {"since": latest, "limit": 100} | ({} if poll else {"wait": self.plan.wait})
            status, page = await client.request("GET", f"{self.path}?{urlencode(query)}")
            self.requests += 1
            if status != 200:
                raise RuntimeError(f"reader: HTTP {status}: {page}")
            self.got(number, page["shouts"])
            latest = page["latest"]
            if poll:
                await asyncio.sleep(max(0.0, self.plan.poll_seconds - (time.monotonic() - began)))

    async def post(self) -> None:
        await asyncio.wait_for(self.all_in.wait(), 600)  # every reader has started
        await asyncio.sleep(self.settle + 1.0)
        for n in range(self.plan.shouts):
            client = self.clients[-1 - n % self.plan.posters]
            body = f"goal {n} {random.random():.6f}"
            began = time.perf_counter()
            self.sent[body] = began
            status, answer = await client.request("POST", self.path, orjson.dumps({"body": body}))
            self.posts.append(time.perf_counter() - began)
            if status != 201:
                raise RuntimeError(f"post: HTTP {status}: {answer}")
            await asyncio.sleep(max(0.0, self.plan.shout_every - (time.perf_counter() - began)))
        await asyncio.sleep(self.settle + 2.0)  # the last shout reaches all who will see it
        self.done.set()


async def _round(
    server_pid: int, clients: list[Client], item_id: int, start: int, mode: str, plan: RoomPlan
) -> RoomResult:
    round_ = _Round(clients, item_id, start, mode, plan)
    cpu_before = cpu_seconds(server_pid)
    began = time.perf_counter()
    # Readers on connections of their own (the posters' keep-alive connections stay theirs).
    readers = [Client(c.port, c.token) for c in clients[: round_.readers]]
    tasks = [asyncio.create_task(round_.read(n, c)) for n, c in enumerate(readers)]
    await round_.post()
    duration = time.perf_counter() - began
    cpu_after = cpu_seconds(server_pid)
    for task in tasks:  # long-polls and streams still open end here
        task.cancel()
    _check(await asyncio.gather(*tasks, return_exceptions=True))
    for client in readers:
        client.close()
    latencies, missed = _delays(round_.sent, round_.seen)
    cpu = (
        (cpu_after - cpu_before) / duration
        if cpu_before is not None and cpu_after is not None
        else None
    )
    return RoomResult(
        round_.label,
        round_.readers,
        len(round_.sent),
        latencies,
        missed,
        round_.posts,
        round_.requests,
        cpu,
        duration,
    )


def _check(outcomes: list[Any]) -> None:
    failures = [o for o in outcomes if isinstance(o, Exception)]
    if failures:
        raise RuntimeError(f"{len(failures)} readers failed, the first: {failures[0]!r}")


def _delays(sent: dict[str, float], seen: list[dict[str, float]]) -> tuple[list[float], int]:
    """Seconds from sending each shout to each reader having it; how many never arrived."""
    latencies = []
    missed = 0
    for got_by_one in seen:
        for body, at in sent.items():
            if body in got_by_one:
                latencies.append(got_by_one[body] - at)
            else:
                missed += 1
    return latencies, missed


def live_room(
    port: int, server_pid: int, tokens: list[str], modes: list[str], plan: RoomPlan
) -> list[RoomResult]:
    return asyncio.run(_room(port, server_pid, tokens, modes, plan))


# -- output -------------------------------------------------------------------------------------


def _ms(values: list[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:.1f}" if values else "-"


def print_feeds(label: str, results: list[Timed], markdown: bool) -> None:
    header = (
        "backend",
        "request",
        "n",
        "events",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "server CPU ms/req",
    )
    rows: list[tuple[str, ...]] = [
        (
            label,
            r.label,
            str(len(r.latencies)),
            f"{sum(r.events) / max(len(r.events), 1):.0f}",
            _ms(r.latencies, 0.5),
            _ms(r.latencies, 0.95),
            _ms(r.latencies, 0.99),
            _ms(r.latencies, 1.0),
            f"{sum(r.cpu) / len(r.cpu) * 1000:.1f}" if r.cpu else "-",
        )
        for r in results
    ]
    print("\n".join(format_table(header, rows, "<<>>>>>>>", markdown=markdown)), flush=True)


def print_rooms(label: str, results: list[RoomResult], watchers: int, markdown: bool) -> None:
    header = (
        "backend",
        "readers",
        "watching",
        "shouts",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "missed",
        "post p95 ms",
        "req/s",
        "server CPU",
    )
    rows: list[tuple[str, ...]] = [
        (
            f"{label}, {r.mode}",
            str(r.readers),
            str(watchers),
            str(r.shouts),
            _ms(r.latencies, 0.5),
            _ms(r.latencies, 0.95),
            _ms(r.latencies, 0.99),
            _ms(r.latencies, 1.0),
            str(r.missed),
            _ms(r.post_seconds, 0.95),
            f"{r.requests / r.duration:.0f}",
            "-" if r.cpu_per_second is None else f"{r.cpu_per_second:.0%}",
        )
        for r in results
    ]
    print("\n".join(format_table(header, rows, "<>>>>>>>>>>>", markdown=markdown)), flush=True)


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


# -- running ------------------------------------------------------------------------------------


@contextlib.contextmanager
def database(args: argparse.Namespace, backend: str, workdir: Path) -> Iterator[str]:
    """The database to work in: a named one kept (``--database``, ``--sqlite-file``) or a
    throwaway one."""
    if backend == "sqlite":
        path = args.sqlite_file or workdir / "social.db"
        if not args.reuse:
            remove_sqlite_database(Path(path))
        yield f"sqlite:///{path}"
        if not args.keep_database and args.sqlite_file is None:
            remove_sqlite_database(Path(path))
        return
    name = args.database or f"tg_social_bench_{os.getpid()}"
    admin = sa.create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and not args.reuse:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = None
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        if not args.keep_database:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_backend(args: argparse.Namespace, backend: str, workdir: Path) -> None:
    if backend == "postgresql":
        problem = postgres_problem(args.postgres_url)
        if problem is not None:
            print(f"skipping postgresql: not reachable at {args.postgres_url} ({problem})")
            return
        label = postgres_version(args.postgres_url)
    else:
        label = "SQLite"
    plays = args.plays or (20_000_000 if backend == "postgresql" else 5_000_000)
    with database(args, backend, workdir) as url:
        if args.reuse and has_data(url):
            from tastegraph import migrations

            engine = sa.create_engine(url)
            migrations.upgrade(engine)
            engine.dispose()
            print(f"\n{label}: reusing the loaded database", flush=True)
        else:
            now = int(time.time())
            started = time.perf_counter()
            community = make_community(args.users, plays, args.seed, now)
            social = make_social(
                args.users,
                args.viewers,
                args.friends,
                args.follows,
                (community.play_user, community.play_item, community.play_at),
                args.seed,
                now,
            )
            print(
                f"\n{label}: {community.users:,} users, {len(community.catalogue):,} items, "
                f"{len(community.play_at):,} plays, {len(social.friends):,} friendships "
                f"generated in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            # The feed and the rooms read no charts: their rollups would take longer to
            # build than everything else.
            timings = load(url, community, lambda text: print(text, flush=True), rollups=False)
            del community
            started = time.perf_counter()
            load_social(url, social, args.users, lambda text: print(text, flush=True))
            timings["social"] = time.perf_counter() - started
            del social
            print("load seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
        if not args.feed_viewers and not args.room_modes:
            return
        viewers = list(range(1, args.viewers + 1))
        # Watchers: people after the viewers; the last ones post.
        watchers = list(range(args.viewers + 1, args.viewers + 1 + args.watchers))
        tokens = tokens_for(url, viewers + watchers)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TASTEGRAPH_")},
            "TASTEGRAPH_MODE": "dev",
            "TASTEGRAPH_DATABASE_URL": url,
            "TASTEGRAPH_DATA_DIR": str(workdir / f"data-{backend}"),
            "TASTEGRAPH_STATS_FOLD_SECONDS": "0",
        }
        started = time.perf_counter()
        print(f"prewarm: {prewarm(url)} in {time.perf_counter() - started:.0f} s", flush=True)
        with tastegraph_process(env, workdir / f"server-{backend}.log") as (port, proc):
            if args.feed_viewers:
                order = random.Random(args.seed).sample(
                    viewers, min(args.feed_viewers, len(viewers))
                )
                warm = order[: args.warmup]
                time_feeds(port, proc.pid, tokens, warm, 1, datetime.now(UTC) - timedelta(days=30))
                print(f"feeds ({_load_average()} before):", flush=True)
                results = time_feeds(
                    port,
                    proc.pid,
                    tokens,
                    order,
                    args.pages,
                    datetime.now(UTC) - timedelta(days=30),
                )
                print_feeds(label, results, args.markdown)
                print(f"  ({_load_average()} after)", flush=True)
            rooms: list[RoomResult] = []
            if args.room_modes:
                plan = RoomPlan(
                    readers=args.readers,
                    posters=args.posters,
                    shouts=args.shouts,
                    shout_every=args.shout_every,
                    poll_seconds=args.poll_seconds,
                    wait=args.wait,
                )
                rooms = live_room(
                    port, proc.pid, [tokens[w] for w in watchers], args.room_modes, plan
                )
            if rooms:
                print_rooms(label, rooms, len(watchers), args.markdown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument(
        "--plays", type=int, default=None, help="default: 20M on PostgreSQL, 5M on SQLite"
    )
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--viewers", type=int, default=200, help="people with --friends friends")
    parser.add_argument("--friends", type=int, default=500)
    parser.add_argument("--follows", type=int, default=50)
    parser.add_argument("--feed-viewers", type=int, default=200, help="timed; 0 skips the feeds")
    parser.add_argument("--pages", type=int, default=4, help="the deeper page timed")
    parser.add_argument("--warmup", type=int, default=10, help="untimed first pages first")
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--posters", type=int, default=20)
    parser.add_argument("--shouts", type=int, default=30)
    parser.add_argument("--shout-every", type=float, default=1.0)
    parser.add_argument("--poll-seconds", type=float, default=5.0, help="plain polling interval")
    parser.add_argument("--wait", type=int, default=25, help="long-poll: wait= seconds")
    parser.add_argument(
        "--rooms",
        default="stream,long-poll,poll",
        help="some of stream, long-poll, poll; or none",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    parser.add_argument("--database", default=None, help="PostgreSQL database name to use")
    parser.add_argument("--sqlite-file", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="keep what is loaded there")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    backends = choices(parser, args.backends, ("postgresql", "sqlite"))
    args.room_modes = (
        [] if args.rooms == "none" else choices(parser, args.rooms, ("stream", "long-poll", "poll"))
    )
    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {_load_average()}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="tastegraph-social-bench-"))
    try:
        for backend in backends:
            run_backend(args, backend, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
