"""On a SQLite file the chart rollups live in a file of their own (``tastegraph-rollups.db``),
so folding plays into them does not hold up recording plays, and nothing is lost when that
file goes missing or the migration that made it is undone.

SQLite only: PostgreSQL keeps every table in one database and its writers do not take turns.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update

from tastegraph import migrations
from tastegraph.config import Settings
from tastegraph.ingest.models import Play
from tastegraph.runtime import Runtime
from tastegraph.stats.models import ROLLUP_TABLES, ChartCount, ChartState
from tastegraph.stats.rollups import Rollups, fold, hold_changes, pending
from tastegraph.storage.engine import ROLLUPS, copy_sqlite_database, rollups_file, sqlite_file
from tastegraph.web.app import create_app
from tests.conftest import Account, play, track

NOW = datetime.now(UTC).replace(microsecond=0)
SONGS = [
    track("Halo", "Beyoncé", album="I Am... Sasha Fierce"),
    track("99 Problems", "JAY-Z", album="The Black Album"),
    track("Crazy in Love", ["Beyoncé", "JAY-Z"]),
    track("Hyperballad", "Björk", album="Post"),
]


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated, empty SQLite file (this module's tests are about SQLite files)."""
    path = tmp_path / "tastegraph.db"
    copy_sqlite_database(sqlite_template, path)
    return f"sqlite:///{path}"


def _plays(rng: random.Random, count: int) -> list[dict[str, Any]]:
    return [
        play(int((NOW - timedelta(days=rng.uniform(0.01, 400))).timestamp()), rng.choice(SONGS))
        for _ in range(count)
    ]


def _submit(client: TestClient, account: Account, plays: list[dict[str, Any]]) -> None:
    response = client.post("/api/v1/plays/batch", json={"plays": plays}, headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0, response.text


def _charts(client: TestClient) -> list[Any]:
    got = []
    for level in ("track", "artist", "album"):
        for params in ({"period": "overall"}, {"period": "12month", "country": "DE"}):
            response = client.get(f"/api/v1/charts/{level}", params={**params, "limit": 100})
            assert response.status_code == 200, response.text
            got.append(
                [(e["item"]["id"], e["plays"], e["listeners"]) for e in response.json()["entries"]]
            )
    return got


def _tables(runtime: Runtime, schema: str) -> set[str]:
    with runtime.db.unit_of_work() as session:
        found = session.execute(
            text(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")
        )
        return set(found.scalars())


def test_the_rollups_have_a_file_of_their_own(runtime: Runtime, database_url: str) -> None:
    path = sqlite_file(database_url)
    assert path is not None
    assert rollups_file(path) == path.with_name("tastegraph-rollups.db")
    assert rollups_file(path).exists()
    rollups = {table.name for table in ROLLUP_TABLES}
    assert _tables(runtime, ROLLUPS) == rollups
    assert not _tables(runtime, "main") & rollups
    assert "plays" in _tables(runtime, "main")
    # PostgreSQL and in-memory SQLite keep one database.
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("postgresql+psycopg://postgres@127.0.0.1/tastegraph") is None


def test_plays_are_recorded_while_a_fold_holds_the_rollups(
    client: TestClient, runtime: Runtime, alice: Account, register: Any
) -> None:
    rng = random.Random(3)
    _submit(client, alice, _plays(rng, 40))
    fold(runtime.db)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        # What a fold holds while it writes: the rollups' write lock, with a change pending.
        with runtime.db.unit_of_work(rollups_only=True) as session:
            hold_changes(session)
            session.execute(update(ChartState).values(version=ChartState.version + 1))
            held.set()
            release.wait(40)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        _submit(client, alice, _plays(rng, 40))  # writes the log's file only
        bob = register("bob", country="DE")  # so does any other write that is not a fold
        _submit(client, bob, _plays(rng, 10))
        recorded_in = time.monotonic() - started
        assert holder.is_alive()  # the lock was held the whole time
    finally:
        release.set()
        holder.join()
    # Waiting for the lock would have taken until it was let go (40 s) or SQLite's busy
    # timeout (30 s), whichever came first.
    assert recorded_in < 20, recorded_in
    with runtime.db.unit_of_work() as session:
        assert pending(session) == 50
    before = _charts(client)  # the unfolded plays counted from the log
    fold(runtime.db)
    assert _charts(client) == before
    with runtime.db.unit_of_work() as session:
        assert pending(session) == 0
        assert Rollups(session).differences() == 0


def test_a_deletion_waits_for_the_fold_and_stays_exact(
    client: TestClient, runtime: Runtime, alice: Account
) -> None:
    """A deletion changes both files: it takes the rollups' lock after the log's, so it
    waits for a fold in progress instead of failing, and counts its plays out after it."""
    _submit(client, alice, _plays(random.Random(5), 30))
    fold(runtime.db)
    held = threading.Event()

    def hold() -> None:
        with runtime.db.unit_of_work(rollups_only=True) as session:
            hold_changes(session)
            held.set()
            time.sleep(1.0)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    history = client.get("/api/v1/users/alice/plays", params={"limit": 3}).json()["plays"]
    gone = client.delete(f"/api/v1/plays/{history[1]['id']}", headers=alice.headers)
    holder.join()
    assert gone.status_code == 204, gone.text
    with runtime.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Play)) == 29
        assert Rollups(session).differences() == 0


def test_a_missing_rollups_file_is_made_again_and_counted_from_the_log(
    settings: Settings, tmp_path: Path
) -> None:
    """A copy of the database file alone: the app starts with empty rollups, its charts
    count the log meanwhile, and a fold counts it all into them again."""
    runtime = Runtime.create(settings)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        response = client.post(
            "/api/v1/auth/register",
            json={"name": "erik", "password": "correct horse", "country": "DE"},
        )
        erik = Account("erik", response.json()["token"])
        _submit(client, erik, _plays(random.Random(9), 60))
        fold(runtime.db)
        before = _charts(client)
    runtime.close()
    path = sqlite_file(settings.effective_database_url)
    assert path is not None
    for leftover in rollups_file(path).parent.glob(f"{rollups_file(path).name}*"):
        leftover.unlink()

    runtime = Runtime.create(settings)
    try:
        with TestClient(create_app(settings, runtime=runtime)) as client:
            with runtime.db.unit_of_work() as session:
                assert session.scalar(select(func.count()).select_from(ChartCount)) == 0
                assert pending(session) == 60
            assert _charts(client) == before
            fold(runtime.db)
            assert _charts(client) == before
            with runtime.db.unit_of_work() as session:
                assert Rollups(session).differences() == 0
    finally:
        runtime.close()


def test_the_migration_moves_the_rollups_there_and_back(
    client: TestClient, runtime: Runtime, alice: Account, database_url: str
) -> None:
    _submit(client, alice, _plays(random.Random(13), 50))
    fold(runtime.db)
    before = _charts(client)
    with runtime.db.unit_of_work() as session:
        rows = session.scalar(select(func.count()).select_from(ChartCount))
    assert rows

    config = migrations.alembic_config(database_url)
    with runtime.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0024")
    runtime.db.engine.dispose()
    rollups = {table.name for table in ROLLUP_TABLES}
    assert _tables(runtime, ROLLUPS) == set()
    assert rollups <= _tables(runtime, "main")
    with runtime.db.unit_of_work() as session:
        assert session.scalar(text("SELECT count(*) FROM main.chart_counts")) == rows
    assert _charts(client) == before

    migrations.upgrade(runtime.db.engine)
    assert _tables(runtime, ROLLUPS) == rollups
    assert not _tables(runtime, "main") & rollups
    with runtime.db.unit_of_work() as session:
        assert session.scalar(text(f"SELECT count(*) FROM {ROLLUPS}.chart_counts")) == rows
        assert Rollups(session).differences() == 0
    assert _charts(client) == before
