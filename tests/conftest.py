"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests use the server at TASTEGRAPH_TEST_POSTGRES_URL (default: the local one at
127.0.0.1:5432, user postgres). Where none answers they skip with the reason, unless
TASTEGRAPH_TEST_REQUIRE_POSTGRES=1 (as in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tastegraph import migrations
from tastegraph.all_models import Base
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tastegraph.storage.engine import copy_sqlite_database
from tastegraph.web.app import create_app

# argon2 at its cheapest in tests, in this process and in every server or CLI process a test
# starts (they inherit the environment): the default cost takes ~0.2 s a hash on 2 cores and
# the suite registers and logs in thousands of people. test_passwords.py checks the defaults.
CHEAP_PASSWORD_HASHING = {
    "TASTEGRAPH_PASSWORD_HASH_TIME_COST": "1",
    "TASTEGRAPH_PASSWORD_HASH_MEMORY_KIB": "64",
    "TASTEGRAPH_PASSWORD_HASH_PARALLELISM": "1",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, value in CHEAP_PASSWORD_HASHING.items():
        os.environ.setdefault(name, value)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main
    thread while its browser is open, and tests that call ``asyncio.run`` fail under it."""
    items.sort(key=lambda item: "/browser/" in item.path.as_posix())


PG_ADMIN_URL = os.environ.get(
    "TASTEGRAPH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("TASTEGRAPH_TEST_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]


def _pg_reachable() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means "not reachable"; the reason is shown
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    settings = Settings(mode=Mode.DEV, database_url=f"sqlite:///{path}")
    runtime = Runtime.create(settings)
    migrations.upgrade(runtime.db.engine)
    runtime.close()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    problem = _pg_reachable()
    if problem is not None:
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({problem})"
        if REQUIRE_PG:
            pytest.fail(message + " and TASTEGRAPH_TEST_REQUIRE_POSTGRES=1")
        pytest.skip(message)
    name = f"tastegraph_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    settings = Settings(mode=Mode.DEV, database_url=url)
    runtime = Runtime.create(settings)
    migrations.upgrade(runtime.db.engine)
    runtime.close()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "tastegraph.db"
        copy_sqlite_database(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The background audience refresher and chart folder stay off in tests unless a test
    # turns them on (charts are exact either way: they count unfolded plays from the log).
    return Settings(
        mode=Mode.DEV,
        database_url=database_url,
        data_dir=tmp_path / "data",
        audience_refresh_seconds=0,
        stats_fold_seconds=0,
        partition_check_seconds=0,  # the migration made this month's partitions
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.create(settings)
    yield rt
    rt.close()


@pytest.fixture
def client(settings: Settings, runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(settings, runtime=runtime)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def live_server(settings: Settings, runtime: Runtime) -> Iterator[str]:
    """The app served by a real uvicorn on a free port, for real clients (pylast,
    liblistenbrainz, raw sockets). Yields the base URL, e.g. ``http://127.0.0.1:40123``."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(settings, runtime=runtime)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Account:
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def register(client: TestClient) -> Any:
    """register(name, **fields) -> Account, through the API."""

    def _register(name: str, password: str = "correct horse", **fields: Any) -> Account:
        response = client.post(
            "/api/v1/auth/register", json={"name": name, "password": password, **fields}
        )
        assert response.status_code == 201, response.text
        return Account(name=name, token=response.json()["token"])

    return _register


@pytest.fixture
def alice(register: Any) -> Account:
    return register("alice", country="DE", timezone="Europe/Berlin", locale="de-DE")


@pytest.fixture
def admin(runtime: Runtime) -> Account:
    from tastegraph.accounts.schemas import UserCreate

    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        user = svc.accounts.register(
            UserCreate(name="operator", password="operator-pass"), is_admin=True
        )
        _, secret = svc.accounts.create_token(user, "tests")
    return Account(name="operator", token=secret)


def track(title: str, artist: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "track", "title": title, "artist": artist, **extra}


def play(when: int | str, item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"played_at": when, "item": item, **extra}
