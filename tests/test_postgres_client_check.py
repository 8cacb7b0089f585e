"""A statement of a server process that dies does not run on in PostgreSQL after it."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import sqlalchemy as sa

from tastegraph.config import Mode, Settings
from tastegraph.storage.engine import make_engine

_SLEEPER = """
import sys
import sqlalchemy as sa
from tastegraph.config import Mode, Settings
from tastegraph.storage.engine import make_engine

engine = make_engine(Settings(mode=Mode.DEV, database_url=sys.argv[1]))
with engine.connect() as connection:
    connection.exec_driver_sql("SET application_name = '" + sys.argv[2] + "'")
    print("sleeping", flush=True)
    connection.exec_driver_sql("SELECT pg_sleep(300)")
"""


def _backends(engine: sa.Engine, name: str) -> int:
    with engine.connect() as connection:
        query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"
        return int(connection.execute(sa.text(query), {"name": name}).scalar_one())


def test_a_killed_clients_statement_is_ended_by_the_server(postgres_url: str) -> None:
    name = f"tg-sleeper-{uuid.uuid4().hex[:8]}"
    observer = make_engine(Settings(mode=Mode.DEV, database_url=postgres_url))
    sleeper = subprocess.Popen(
        [sys.executable, "-c", _SLEEPER, postgres_url, name],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sleeper.stdout is not None
        assert sleeper.stdout.readline().strip() == "sleeping"
        deadline = time.monotonic() + 10
        while _backends(observer, name) == 0:
            assert time.monotonic() < deadline, "the sleeping statement never started"
            time.sleep(0.1)
        sleeper.kill()  # as kill -9: no goodbye to the server
        sleeper.wait()
        deadline = time.monotonic() + 30
        while _backends(observer, name):
            assert time.monotonic() < deadline, "the dead client's statement is still running"
            time.sleep(0.25)
    finally:
        sleeper.kill()
        sleeper.wait()
        if sleeper.stdout is not None:
            sleeper.stdout.close()
        with observer.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": name},
            )
        observer.dispose()
