"""on a SQLite file, the chart rollups move to a file of their own (``tastegraph-rollups.db``
beside ``tastegraph.db``, attached as ``rollups``: ``storage/engine.py``)

SQLite lets one writer at a time change a file. Recording plays writes the log's file and
folding them into the rollups writes the rollups, so with two files the two no longer wait
for each other. PostgreSQL and in-memory SQLite databases are left as they are.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy.engine import Connection

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = "rollups"
TABLES = (
    "chart_counts",
    "country_chart_counts",
    "chart_sizes",
    "chart_pairs",
    "chart_state",
    "chart_archive",
)


def upgrade() -> None:
    connection = op.get_bind()
    if _attached(connection):
        for table in TABLES:
            _move(connection, table, "main", ROLLUPS)


def downgrade() -> None:
    connection = op.get_bind()
    if _attached(connection):
        for table in TABLES:
            _move(connection, table, ROLLUPS, "main")


def _attached(connection: Connection) -> bool:
    if connection.dialect.name != "sqlite":
        return False
    names = {row[1] for row in connection.exec_driver_sql("PRAGMA database_list")}
    return ROLLUPS in names


def _move(connection: Connection, table: str, source: str, target: str) -> None:
    """Recreate ``table`` and its indexes in ``target`` as ``source`` defines them, copy the
    rows over and drop the source's."""
    rows = list(
        connection.exec_driver_sql(
            f"SELECT type, name, sql FROM {source}.sqlite_master "  # noqa: S608 (schema names)
            "WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'index'",
            (table,),
        )
    )
    if not rows:
        return
    # Left there by an earlier database of the same name: derived from another log.
    connection.exec_driver_sql(f'DROP TABLE IF EXISTS {target}."{table}"')
    for kind, name, sql in rows:
        connection.exec_driver_sql(_placed(sql, kind, name, target))
    copy = f'INSERT INTO {target}."{table}" SELECT * FROM {source}."{table}"'  # noqa: S608
    connection.exec_driver_sql(copy)
    connection.exec_driver_sql(f'DROP TABLE {source}."{table}"')


def _placed(sql: str, kind: str, name: str, schema: str) -> str:
    """A table's or index's CREATE statement (as SQLite keeps it) naming ``schema``: SQLite
    puts an index in its table's file only when the index's name says so."""
    word = "TABLE" if kind == "table" else r"(?:UNIQUE\s+)?INDEX"
    pattern = rf'^(CREATE\s+{word}\s+)(?:"?\w+"?\.)?("?){re.escape(name)}\2'
    placed, found = re.subn(pattern, rf'\g<1>{schema}."{name}"', sql, count=1, flags=re.I)
    if not found:
        raise RuntimeError(f"cannot read the definition of {name}: {sql[:80]}")
    return placed
