"""Alembic migrations, and the helpers the CLI and the app use to run and check them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from tastegraph.storage.errors import DatabaseNotMigrated

_HERE = Path(__file__).parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    # Pooled connections noted where the rollups were when they opened (storage/engine.py).
    engine.dispose()
    if revision == "head":
        restore_rollups_file(engine)


def restore_rollups_file(engine: Engine) -> bool:
    """Give a SQLite file at the head revision (the callers make sure) whose rollups file is
    missing (a copy or backup of the database file alone) an empty one, and say whether it
    did. The rollups are derived data: empty, they count no play, so every chart counts the
    log itself until the next fold has counted it all into them again."""
    from tastegraph.stats.models import ROLLUP_TABLES
    from tastegraph.storage.engine import ROLLUPS

    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as connection:
        if ROLLUPS not in {row[1] for row in connection.exec_driver_sql("PRAGMA database_list")}:
            return False
        in_main = "SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = ?"
        apart = f"SELECT count(*) FROM {ROLLUPS}.sqlite_master WHERE type = 'table'"  # noqa: S608
        placed = connection.exec_driver_sql(
            f"{in_main} UNION ALL {apart}", (ROLLUP_TABLES[0].name,)
        )
        if any(count for (count,) in placed):
            return False
        into = connection.execution_options(schema_translate_map={None: ROLLUPS})
        for table in ROLLUP_TABLES:
            table.create(into)
    engine.dispose()
    return True


def reset(engine: Engine) -> None:
    """Drop every table tastegraph made, then migrate an empty schema to head."""
    from tastegraph.all_models import Base

    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(engine)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_migrated(engine: Engine) -> None:
    """Refuse to run on a database that is behind the code."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "has no tables yet" if current is None else f"is at revision {current}"
        raise DatabaseNotMigrated(
            f"The database {engine.url.render_as_string(hide_password=True)} {state}, "
            f"but this version of tastegraph needs revision {head}. "
            "Run `tastegraph db upgrade` to migrate it."
        )
    restore_rollups_file(engine)
