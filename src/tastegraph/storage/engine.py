"""Engines for the embedded default (SQLite) and for PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection

from tastegraph.config import Settings

SQLITE_BEGIN_OPTION = "tastegraph_sqlite_begin"
ROLLUPS = "rollups"
"""The name a SQLite database file's rollups file is attached under (``rollups_file``)."""
_SPLIT = "tastegraph_rollups_apart"
# How often a PostgreSQL backend running a statement checks that its client is still there.
CLIENT_CHECK_MS = 5000


def make_engine(settings: Settings, url: str | None = None, *, read_only: bool = False) -> Engine:
    """The engine of ``url`` (default: the primary database's). A ``read_only`` engine (the
    read replica's) refuses writes, so a read unit of work that writes fails loudly even when
    the replica is the primary itself, instead of only against a real standby."""
    url = url or settings.effective_database_url
    if url.startswith("sqlite"):
        return _sqlite_engine(url, settings, read_only=read_only)
    connect_args: dict[str, Any] = {}
    if not settings.database_prepared_statements:
        # psycopg prepares a statement on the server after 5 runs; behind a transaction-pooling
        # PgBouncer the next transaction may run on a connection that never saw it.
        connect_args["prepare_threshold"] = None
    engine = create_engine(
        url,
        echo=settings.database_echo,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=settings.database_pool_recycle,
        pool_pre_ping=settings.database_pool_pre_ping,
        connect_args=connect_args,
        execution_options={"postgresql_readonly": True} if read_only else {},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # PostgreSQL only notices a vanished client when it next writes to it: a statement
        # that runs for minutes (a lifetime segment rule at 20M plays) would go on long after
        # its server process stopped or was killed. From 14 on it can poll the socket instead.
        if dbapi_connection.info.server_version >= 140000:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET client_connection_check_interval = {CLIENT_CHECK_MS}")
            dbapi_connection.commit()

    return engine


def rollups_file(database: Path) -> Path:
    """Where a SQLite database file keeps its chart rollups: ``tastegraph.db`` beside
    ``tastegraph-rollups.db``. SQLite has one writer per file; with the rollups in a file of
    their own, folding plays into them (which writes only there) runs beside recording plays
    (which writes only the log's file)."""
    return database.with_name(f"{database.stem}-{ROLLUPS}{database.suffix}")


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database or another backend."""
    if not url.startswith("sqlite:///") or url.startswith("sqlite:///:memory:"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path else None


def copy_sqlite_database(source: Path, target: Path) -> None:
    """Copy a closed SQLite database: its file and its rollups file, when it has one."""
    shutil.copy(source, target)
    if rollups_file(source).exists():
        shutil.copy(rollups_file(source), rollups_file(target))


def remove_sqlite_database(database: Path) -> None:
    """Delete a closed SQLite database: its file, its rollups file and their write-ahead logs."""
    for path in (database, rollups_file(database)):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _sqlite_engine(url: str, settings: Settings, *, read_only: bool = False) -> Engine:
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=settings.database_echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8,
        max_overflow=8,
    )
    synchronous = settings.sqlite_synchronous.upper()
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(
            f"TASTEGRAPH_SQLITE_SYNCHRONOUS must be OFF/NORMAL/FULL/EXTRA, not {synchronous}"
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        # 64 MiB of page cache (the default is 2 MiB): index pages of a growing play log stay
        # in memory, so inserts do not slow down as the log grows.
        cursor.execute("PRAGMA cache_size=-65536")
        apart = False
        if path is not None:
            cursor.execute(f"ATTACH DATABASE ? AS {ROLLUPS}", (str(rollups_file(path)),))
            cursor.execute(f"PRAGMA {ROLLUPS}.journal_mode=WAL")
            cursor.execute(f"PRAGMA {ROLLUPS}.synchronous={synchronous}")
            cursor.execute(f"PRAGMA {ROLLUPS}.cache_size=-65536")
            found = f"SELECT count(*) FROM {ROLLUPS}.sqlite_master WHERE type = 'table'"  # noqa: S608
            apart = bool(cursor.execute(found).fetchone()[0])
        record.info[_SPLIT] = apart
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY_SNAPSHOT instead of waiting for the lock. BEGIN
        # IMMEDIATE locks every attached file, so with the rollups apart a writer locks the
        # log's file alone (a write that changes nothing), and takes the rollups' lock when it
        # needs it (``stats.rollups``); a writer of the rollups alone takes only theirs.
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode == "DEFERRED":
            conn.exec_driver_sql("BEGIN DEFERRED")
        elif not conn.info.get(_SPLIT):  # one file: every writer locks it at once
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN DEFERRED")
            if mode == "IMMEDIATE":
                conn.exec_driver_sql("DELETE FROM main.plays WHERE 0")

    return engine
