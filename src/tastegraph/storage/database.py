"""The database handle an app, a job or a CLI command owns: an engine and units of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tastegraph.config import Settings
from tastegraph.storage.engine import SQLITE_BEGIN_OPTION, make_engine


class Database:
    """Owns the engine. Units of work are opened by the request, job or command."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self, *, write: bool = False) -> Iterator[Session]:
        """A session whose work is committed when the block ends and rolled back on error."""
        with self._sessions() as session:
            if write and self.dialect == "sqlite":
                session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
