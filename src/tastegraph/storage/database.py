"""The database handle an app, a job or a CLI command owns: an engine and units of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tastegraph.config import Settings
from tastegraph.storage.engine import SQLITE_BEGIN_OPTION, make_engine


class Database:
    """Owns the engines. Units of work are opened by the request, job or command.

    With a read replica (``TASTEGRAPH_DATABASE_REPLICA_URL``), read-only units run there and
    write units on the primary (``engine``), whatever they read. A write unit reads its own
    writes; a read unit that follows a committed write may not see it yet, by the replica's
    lag (docs/scaling.md).
    """

    def __init__(
        self, settings: Settings, engine: Engine | None = None, replica: Engine | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings)
        if replica is None and settings.database_replica_url:
            replica = make_engine(settings, settings.database_replica_url, read_only=True)
        self.replica = replica
        """The read replica's engine, or None when reads go to the primary."""
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = (
            sessionmaker(self.replica, expire_on_commit=False)
            if self.replica is not None
            else self._sessions
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self, *, write: bool = False, rollups_only: bool = False) -> Iterator[Session]:
        """A session whose work is committed when the block ends and rolled back on error.

        ``rollups_only``: a write unit that writes nothing but the chart rollups (a fold, the
        archiver). On a SQLite file, whose rollups are a file of their own, it takes their
        write lock when it first writes (``stats.rollups``), not the log's: plays are recorded
        meanwhile."""
        write = write or rollups_only
        with (self._sessions if write else self._read_sessions)() as session:
            if write and self.dialect == "sqlite":
                mode = "ROLLUPS" if rollups_only else "IMMEDIATE"
                session.connection(execution_options={SQLITE_BEGIN_OPTION: mode})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
        if self.replica is not None:
            self.replica.dispose()
