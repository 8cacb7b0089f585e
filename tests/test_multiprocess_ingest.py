"""Two ``tastegraph serve`` processes on one PostgreSQL database and one Redis lose nothing and
count nothing twice.

Clients scrobble through both servers at once, through the native API and ListenBrainz, and
send some batches to both servers at the same moment (a client retrying on another process),
some retried under the same submission id with a moved clock. While they do, the operator's
partition job moves a month out of the default partition. Then every acknowledged play is
stored once, nothing else is, and the chart rollups the servers folded meanwhile equal a
recount (``tastegraph stats check``).
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tastegraph.accounts.schemas import UserCreate
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tests.ads_helpers import REDIS_URL, redis_prefix
from tests.cli_helpers import Server, assert_clean_exit, cli_env, run_cli, serving

pytestmark = pytest.mark.slow

USERS = 4
BATCHES = 9
"""Batches each user sends through each protocol."""
PER_BATCH = 30
BASE = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
OLD = int(datetime(2015, 6, 1, tzinfo=UTC).timestamp())
"""A month no partition covers when the test starts: its plays land in the default one."""


def _users(database_url: str, tmp_path: Path) -> list[tuple[str, str]]:
    settings = Settings(mode=Mode.DEV, database_url=database_url, data_dir=tmp_path / "data")
    runtime = Runtime.create(settings)
    users: list[tuple[str, str]] = []
    try:
        with runtime.db.unit_of_work(write=True) as session:
            svc = runtime.services(session)
            for n in range(USERS):
                user = svc.accounts.register(UserCreate(name=f"fan{n}", password="password-123"))
                _token, secret = svc.accounts.create_token(user, "test")
                users.append((user.name, secret))
    finally:
        runtime.close()
    return users


class Ledger:
    """What the servers acknowledged: (user, UNIX time) of every play a 200 covered, and how
    many plays the native API reported as accepted (each must be reported once)."""

    def __init__(self) -> None:
        self.acknowledged: set[tuple[str, int]] = set()
        self.accepted = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def add(self, user: str, times: list[int], accepted: int = 0) -> None:
        with self._lock:
            self.acknowledged.update((user, t) for t in times)
            self.accepted += accepted

    def fail(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)


def _native(
    server: Server, user: str, token: str, plays: list[dict[str, Any]], ledger: Ledger
) -> None:
    with server.client() as http:
        response = http.post(
            "/api/v1/plays/batch",
            json={"plays": plays},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60.0,
        )
    if response.status_code != 200:
        ledger.fail(f"native {response.status_code}: {response.text[:300]}")
        return
    report = response.json()
    if report["rejected"]:
        ledger.fail(f"rejected: {report}")
    ledger.add(user, [p["played_at"] for p in plays], report["accepted"])


def _listenbrainz(
    server: Server, user: str, token: str, listens: list[dict[str, Any]], ledger: Ledger
) -> None:
    body = json.dumps({"listen_type": "import", "payload": listens})
    with server.client() as http:
        response = http.post(
            "/1/submit-listens",
            content=body,
            headers={"Authorization": f"Token {token}"},
            timeout=60.0,
        )
    if response.status_code != 200:
        ledger.fail(f"listenbrainz {response.status_code}: {response.text[:300]}")
        return
    ledger.add(user, [listen["listened_at"] for listen in listens])


def _at_once(calls: list[Callable[[], None]]) -> None:
    """Run the calls in threads released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], None]) -> None:
        barrier.wait()
        call()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _client(
    servers: list[Server], user: str, token: str, slot: int, ledger: Ledger, seed: int
) -> None:
    """One user's client: native and ListenBrainz batches, some sent to both servers at
    once, some retried under the same submission ids with the clock moved on."""
    rng = random.Random(seed)
    for batch in range(BATCHES):
        start = BASE + (slot * BATCHES + batch) * 10_000
        native: list[dict[str, Any]] = [
            {
                "played_at": start + n * 60,
                "item": {"kind": "track", "title": f"Song {rng.randrange(60)}", "artist": "Band"},
                "submission_id": f"{user}-{batch}-{n}",
            }
            for n in range(PER_BATCH)
        ]
        if batch == 0:  # plays of a month no partition covers yet
            for n, entry in enumerate(native):
                entry["played_at"] = OLD + slot * 100_000 + n * 60
        listens = [
            {
                "listened_at": start + 5_000 + n * 60,
                "track_metadata": {
                    "artist_name": "Band",
                    "track_name": f"Song {rng.randrange(60)}",
                },
            }
            for n in range(PER_BATCH)
        ]
        one, two = servers if batch % 2 else servers[::-1]
        if batch % 3 == 0:  # the same batch to both servers at the same moment
            _at_once(
                [
                    partial(_native, one, user, token, native, ledger),
                    partial(_native, two, user, token, native, ledger),
                    partial(_listenbrainz, one, user, token, listens, ledger),
                    partial(_listenbrainz, two, user, token, listens, ledger),
                ]
            )
        elif batch % 3 == 1:  # a retry with the clock moved on: the submission ids match
            moved = [{**entry, "played_at": entry["played_at"] + 7} for entry in native]
            _at_once(
                [
                    partial(_native, one, user, token, native, ledger),
                    partial(_native, two, user, token, moved, ledger),
                ]
            )
            _listenbrainz(two, user, token, listens, ledger)
        else:
            _native(one, user, token, native, ledger)
            _listenbrainz(two, user, token, listens, ledger)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_servers_store_each_acknowledged_play_once(database_url: str, tmp_path: Path) -> None:
    users = _users(database_url, tmp_path)
    ledger = Ledger()
    with redis_prefix() as prefix:
        env = cli_env(
            database_url,
            TASTEGRAPH_REDIS_URL=REDIS_URL,
            TASTEGRAPH_ADS_REDIS_PREFIX=prefix,
            TASTEGRAPH_RATE_LIMIT="100000",
            TASTEGRAPH_STATS_FOLD_SECONDS="0.5",
        )
        with (
            serving(env, tmp_path / "one.log") as one,
            serving(env, tmp_path / "two.log") as two,
        ):
            clients = [
                threading.Thread(target=_client, args=([one, two], name, token, slot, ledger, slot))
                for slot, (name, token) in enumerate(users)
            ]
            for thread in clients:
                thread.start()
            # Meanwhile the operator's job gives the default partition's plays a month.
            partitions = run_cli("db", "partitions", env=env)
            for thread in clients:
                thread.join()
            assert ledger.errors == []
            assert_clean_exit(partitions, 0)
            # Once more after the load, in case the 2015 plays came after the first run.
            again = run_cli("db", "partitions", env=env)
            assert_clean_exit(again, 0)
            assert "plays_2015_06" in partitions.stdout + again.stdout
        assert "Traceback" not in one.output() + two.output()
    # The servers are gone: fold what they had not, then compare with a recount.
    assert_clean_exit(run_cli("stats", "fold", env=env), 0)
    check = run_cli("stats", "check", env=env)
    assert_clean_exit(check, 0)

    native_plays = USERS * BATCHES * PER_BATCH
    assert ledger.accepted == native_plays  # each native play reported accepted exactly once
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                sa.text(
                    "SELECT u.name, CAST(extract(epoch FROM p.played_at) AS BIGINT) "
                    "FROM plays p JOIN users u ON u.id = p.user_id"
                )
            ).all()
            in_default = conn.execute(sa.text("SELECT count(*) FROM plays_default")).scalar_one()
            submissions = conn.execute(sa.text("SELECT count(*) FROM play_submissions")).scalar()
    finally:
        engine.dispose()
    keys = [(name, int(at)) for name, at in stored]
    plays = set(keys)
    assert len(keys) == len(plays)  # nothing stored twice
    assert len(keys) == 2 * native_plays  # one per play sent, natively or as a listen
    assert plays <= ledger.acknowledged
    # A retry with the clock moved on was acknowledged at both times and stored at one.
    retried = [
        ((name, t), (name, t + 7))
        for slot, (name, _token) in enumerate(users)
        for batch in range(BATCHES)
        if batch % 3 == 1
        for t in (BASE + (slot * BATCHES + batch) * 10_000 + n * 60 for n in range(PER_BATCH))
    ]
    for first, moved in retried:
        assert (first in plays) != (moved in plays)
    others = ledger.acknowledged - {key for pair in retried for key in pair}
    assert others <= plays
    assert submissions == native_plays
    assert in_default == 0
