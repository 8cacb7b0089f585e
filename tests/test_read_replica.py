"""A read replica (``TASTEGRAPH_DATABASE_REPLICA_URL``): read-only units of work read there,
writes and everything a write unit reads go to the primary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from tastegraph.accounts.models import User
from tastegraph.accounts.schemas import UserCreate
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tastegraph.storage.engine import copy_sqlite_database, make_engine
from tastegraph.web.app import create_app
from tests.conftest import play, track


def _settings(primary: str, replica: str, tmp_path: Path) -> Settings:
    return Settings(
        mode=Mode.DEV,
        database_url=primary,
        database_replica_url=replica,
        data_dir=tmp_path / "data",
        audience_refresh_seconds=0,
        stats_fold_seconds=0,
        partition_check_seconds=0,
    )


def test_read_units_read_the_replica_and_writes_go_to_the_primary(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """Two different databases, so where each unit went shows in what it finds."""
    primary, replica = tmp_path / "primary.db", tmp_path / "replica.db"
    copy_sqlite_database(sqlite_template, primary)
    copy_sqlite_database(sqlite_template, replica)
    runtime = Runtime.create(_settings(f"sqlite:///{primary}", f"sqlite:///{replica}", tmp_path))
    try:
        with runtime.db.unit_of_work(write=True) as session:
            runtime.services(session).accounts.register(
                UserCreate(name="alice", password="password-123")
            )
        with runtime.db.unit_of_work(write=True) as session:
            assert session.scalar(select(func.count()).select_from(User)) == 1
        with runtime.db.unit_of_work() as session:  # the replica has not seen alice
            assert session.get_bind() is runtime.db.replica
            assert session.scalar(select(func.count()).select_from(User)) == 0
            # ... and refuses writes: a read unit that wrote would fail on a real standby too.
            with pytest.raises(OperationalError, match="readonly"):
                session.execute(text("DELETE FROM users"))
    finally:
        runtime.close()


def test_without_a_replica_reads_go_to_the_primary(settings: Settings, runtime: Runtime) -> None:
    assert runtime.db.replica is None
    with runtime.db.unit_of_work() as session:
        assert session.get_bind() is runtime.db.engine


@pytest.fixture
def replicated(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[TestClient, Runtime, list[int]]]:
    """An app whose replica is the primary database itself (answers must not change), and a
    list that counts the connections taken from the replica's pool."""
    runtime = Runtime.create(_settings(database_url, database_url, tmp_path))
    checkouts: list[int] = []
    assert runtime.db.replica is not None
    event.listen(runtime.db.replica, "checkout", lambda *_args: checkouts.append(1))
    app = create_app(runtime.settings, runtime=runtime)
    with TestClient(app) as client:
        yield client, runtime, checkouts


def test_a_scrobble_then_a_read_sees_it_through_the_replica(
    replicated: tuple[TestClient, Runtime, list[int]],
) -> None:
    client, _runtime, checkouts = replicated
    registered = client.post(
        "/api/v1/auth/register", json={"name": "alice", "password": "correct horse"}
    )
    assert registered.status_code == 201, registered.text
    headers = {"Authorization": f"Bearer {registered.json()['token']}"}
    stored = client.post(
        "/api/v1/plays", json=play(1_714_587_300, track("Song", "Band")), headers=headers
    )
    assert stored.status_code == 201, stored.text
    before = len(checkouts)
    recent = client.get("/api/v1/users/alice/plays", headers=headers)
    assert recent.status_code == 200, recent.text
    assert [p["id"] for p in recent.json()["plays"]] == [stored.json()["play_id"]]
    assert len(checkouts) > before  # the history was read from the replica

    listens = {
        "listen_type": "single",
        "payload": [
            {
                "listened_at": 1_714_590_000,
                "track_metadata": {"artist_name": "Band", "track_name": "Other"},
            }
        ],
    }
    lb_headers = {"Authorization": f"Token {registered.json()['token']}"}
    submitted = client.post("/1/submit-listens", content=json.dumps(listens), headers=lb_headers)
    assert submitted.status_code == 200, submitted.text
    got = client.get("/1/user/alice/listens", headers=lb_headers)
    assert got.status_code == 200, got.text
    titles = [listen["track_metadata"]["track_name"] for listen in got.json()["payload"]["listens"]]
    assert titles == ["Other", "Song"]
    chart = client.get("/api/v1/users/alice/charts/track", headers=headers)
    assert chart.status_code == 200, chart.text


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_pool_settings_reach_the_postgresql_engine(database_url: str) -> None:
    settings = Settings(
        mode=Mode.DEV,
        database_url=database_url,
        database_pool_size=3,
        database_max_overflow=1,
        database_pool_timeout=2.5,
        database_pool_recycle=60,
        database_prepared_statements=False,
    )
    engine = make_engine(settings)
    try:
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle) == (3, 1, 2.5, 60)
        with engine.connect() as conn:
            # PgBouncer in transaction pooling: nothing is prepared on the server.
            assert conn.connection.driver_connection.prepare_threshold is None  # type: ignore[union-attr]
    finally:
        engine.dispose()
