"""Live rooms pushed to their readers: long-polls (``GET /items/{id}/shouts?since=&wait=``) and
event streams (``GET /items/{id}/shouts/stream``) wait on a room here, and one read per room
serves them all.

A busy live room has hundreds or thousands of readers. Each one polling the database for what
is new costs a request per reader per poll, and answers only as fast as they poll. Here, per
server process, a ``RoomHub`` keeps the rooms someone waits on: every ``CHECK_SECONDS`` one
query asks all of them for their newest shout id (so shouts posted through any process are
seen), and a room with something new reads it once — rendered as the API shows it, without any
reader's own reactions — and wakes its readers. Each reader then leaves out the authors it
blocks or is blocked by (its request's access check, made when it started waiting) and adds
its own reactions.

Shouts of one place commit in the order of their ids (``ShoutService.post``), so "after id N"
misses nothing. A room keeps its newest ``KEEP`` shouts; a reader who knows less than the room
does (it read the database before the room began, or a burst went past what the room keeps)
is sent back to the database.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import func, select

from tastegraph.runtime import Runtime
from tastegraph.social.models import Shout, ShoutReaction, ShoutTarget
from tastegraph.web.api.social_views import shouts_out

CHECK_SECONDS = 0.1
"""How often the rooms someone waits on are asked for new shouts (one query for all)."""
KEEP = 200
"""Shouts a room keeps for readers a little behind."""
IDLE_SECONDS = 60.0
"""A room nobody has waited on for this long is forgotten."""


@dataclass(frozen=True)
class Fresh:
    """A new shout as every reader sees it, and who reacted to it with what."""

    id: int
    author_id: int
    data: dict[str, Any]
    """The ``ShoutOut`` as JSON values, with no reactions of the reader's own."""
    json: bytes
    """``data`` as JSON: what most readers are sent."""
    reactors: dict[int, list[str]]

    def as_seen_by(self, reader_id: int | None) -> bytes:
        mine = self.reactors.get(reader_id) if reader_id is not None else None
        return orjson.dumps({**self.data, "mine": mine}) if mine else self.json


@dataclass
class Room:
    base: int
    """Every shout here with an id above this is in ``shouts`` (up to ``latest``)."""
    latest: int
    shouts: list[Fresh] = field(default_factory=list)
    """Oldest first."""
    ids: list[int] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0
    idle_since: float = 0.0

    def after(self, since: int) -> list[Fresh]:
        return self.shouts[bisect.bisect_right(self.ids, since) :]

    def add(self, fresh: list[Fresh], latest: int) -> None:
        self.shouts.extend(fresh)
        if len(self.shouts) > KEEP:
            dropped = len(self.shouts) - KEEP
            self.base = self.shouts[dropped - 1].id
            self.shouts = self.shouts[dropped:]
        self.ids = [s.id for s in self.shouts]
        self.latest = max(self.latest, latest)
        self.changed.set()
        self.changed = asyncio.Event()


@dataclass(frozen=True)
class Seen:
    """What a reader's own read of the database found (made in its request's unit of work)."""

    page: Any
    """The answer so far (a ``ShoutPage``)."""
    place_id: int
    reader_id: int | None
    hidden: frozenset[int]
    """The people the reader blocks or is blocked by."""
    high_water: int
    """The newest shout id in the place just before the reader read it: everything posted
    after that read has a higher id."""


class RoomHub:
    """The rooms of one server process (one per app, made on first use)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.rooms: dict[int, Room] = {}
        self._watcher: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def joined(self, place_id: int, known: int) -> AsyncIterator[Room]:
        """Wait on the room of item ``place_id`` (made if missing, from ``known``: the newest
        shout id its maker's read saw)."""
        loop = asyncio.get_running_loop()
        room = self.rooms.get(place_id)
        if room is None:
            room = self.rooms[place_id] = Room(base=known, latest=known)
        room.waiting += 1
        if self._watcher is None or self._watcher.done():
            self._watcher = loop.create_task(self._watch())
        try:
            yield room
        finally:
            room.waiting -= 1
            room.idle_since = loop.time()

    async def next_shouts(
        self, room: Room, since: int, seen: Seen, deadline: float
    ) -> list[Fresh] | None:
        """The shouts after ``since`` the reader may see, as soon as there are any; [] at the
        deadline; None when the room cannot tell (read the database again)."""
        loop = asyncio.get_running_loop()
        while True:
            if max(since, seen.high_water) < room.base:
                return None  # what this reader still needs may be older than the room
            fresh = [s for s in room.after(since) if s.author_id not in seen.hidden]
            if fresh:
                return fresh
            since = max(since, room.latest)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await room.changed.wait()

    async def _watch(self) -> None:
        """Ask the rooms for new shouts every ``CHECK_SECONDS`` while anyone waits."""
        loop = asyncio.get_running_loop()
        while self.rooms:
            await asyncio.sleep(CHECK_SECONDS)
            now = loop.time()
            for place_id, room in list(self.rooms.items()):
                if room.waiting == 0 and now - room.idle_since > IDLE_SECONDS:
                    del self.rooms[place_id]
            watched = {p: r for p, r in self.rooms.items() if r.waiting}
            if not watched:
                continue
            newest = await to_thread.run_sync(self._newest, list(watched))
            for place_id, high in newest.items():
                room = watched[place_id]
                if high > room.latest:
                    fresh, latest = await to_thread.run_sync(self._read, place_id, room.latest)
                    room.add(fresh, max(latest, room.latest))

    def _newest(self, place_ids: list[int]) -> dict[int, int]:
        with self.runtime.db.unit_of_work() as session:
            rows = session.execute(
                select(Shout.target_id, func.max(Shout.id))
                .where(Shout.target_kind == ShoutTarget.ITEM, Shout.target_id.in_(place_ids))
                .group_by(Shout.target_id)
            )
            return {int(place): int(high) for place, high in rows}

    def _read(self, place_id: int, after: int) -> tuple[list[Fresh], int]:
        """The shouts after ``after`` (up to ``KEEP``), rendered once for every reader; and
        how far that read reached."""
        with self.runtime.db.unit_of_work() as session:
            svc = self.runtime.services(session)
            place = svc.shouts.open(None, ShoutTarget.ITEM, place_id)
            # The high water first: what the read then finds reaches at least that far.
            high = svc.shouts.high_water(place)
            views = svc.shouts.since(None, place, after=after, limit=KEEP)
            reached = views[-1].shout.id if len(views) == KEEP else max(high, after)
            reactors: dict[int, dict[int, list[str]]] = {}
            if views:
                for shout_id, user_id, code in session.execute(
                    select(ShoutReaction.shout_id, ShoutReaction.user_id, ShoutReaction.code)
                    .where(ShoutReaction.shout_id.in_([v.shout.id for v in views]))
                    .order_by(ShoutReaction.code)
                ):
                    reactors.setdefault(shout_id, {}).setdefault(user_id, []).append(code)
            rendered = shouts_out(svc, views)
            fresh = []
            for view, out in zip(views, rendered, strict=True):
                data = out.model_dump(mode="json")
                fresh.append(
                    Fresh(
                        id=view.shout.id,
                        author_id=view.shout.author_id,
                        data=data,
                        json=orjson.dumps(data),
                        reactors=reactors.get(view.shout.id, {}),
                    )
                )
            return fresh, reached


def rooms_of(app: FastAPI) -> RoomHub:
    """The app's room hub, made on first use."""
    hub: RoomHub | None = getattr(app.state, "rooms", None)
    if hub is None:
        hub = app.state.rooms = RoomHub(app.state.runtime)
    return hub


Reader = Callable[[int], Awaitable[Seen]]
"""Reads the database for a reader: what is new after an id, in a unit of work of its own."""


def _dumped(seen: Seen) -> list[bytes]:
    return [orjson.dumps(shout.model_dump(mode="json")) for shout in seen.page.shouts]


def shouts_json(shouts: list[bytes], latest: int, *, more: str | None = None) -> bytes:
    """A ``ShoutPage`` (``{"shouts": [...], "next": ..., "latest": id}``) from shouts that are
    JSON already."""
    return b'{"shouts":[%s],"next":%s,"latest":%d}' % (
        b",".join(shouts),
        orjson.dumps(more),
        latest,
    )


async def wait_for_shouts(
    hub: RoomHub, read: Reader, seen: Seen, since: int, seconds: float
) -> tuple[list[bytes], int]:
    """Long-poll: the shouts after ``since`` the reader may see, waiting up to ``seconds`` for
    some, with the id to poll after next."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        async with hub.joined(seen.place_id, seen.high_water) as room:
            fresh = await hub.next_shouts(room, since, seen, deadline)
            latest = room.latest
        if fresh is not None:
            shown = [f.as_seen_by(seen.reader_id) for f in fresh]
            return shown, max(since, latest, *(f.id for f in fresh))
        seen = await read(since)
        if seen.page.shouts or loop.time() >= deadline:
            return _dumped(seen), seen.page.latest


async def stream_shouts(
    hub: RoomHub,
    read: Reader,
    seen: Seen,
    since: int,
    seconds: float,
    heartbeat: float,
    refresh: float,
) -> AsyncIterator[tuple[list[bytes], int]]:
    """Event stream: batches of new shouts the reader may see, each with the id to go on
    after, for ``seconds``; an empty batch after ``heartbeat`` seconds of silence. The
    reader's access (blocks) is read again every ``refresh`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    checked = loop.time()
    stale = False
    while loop.time() < end:
        if stale or loop.time() - checked >= refresh:
            seen = await read(since)
            checked = loop.time()
            stale = False
            if seen.page.shouts:
                since = seen.page.latest
                yield _dumped(seen), since
                continue
        async with hub.joined(seen.place_id, seen.high_water) as room:
            deadline = min(end, loop.time() + heartbeat, checked + refresh)
            fresh = await hub.next_shouts(room, since, seen, deadline)
            latest = room.latest
        if fresh is None:
            stale = True
        elif fresh:
            since = max(since, latest, *(f.id for f in fresh))
            yield [f.as_seen_by(seen.reader_id) for f in fresh], since
        else:
            since = max(since, latest)
            yield [], since
