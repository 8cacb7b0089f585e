"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tastegraph import migrations
from tastegraph.all_models import Base
from tastegraph.ingest.partitions import is_partition_name
from tastegraph.stats.models import ROLLUP_TABLES
from tastegraph.storage.engine import ROLLUPS, rollups_file, sqlite_file


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrated_schema_matches_the_models(database_url: str) -> None:
    rollups = {table.name for table in ROLLUP_TABLES}
    path = sqlite_file(database_url)
    if path is None:
        assert _differences(database_url, lambda _name: True) == []
        return
    # A SQLite file keeps the rollups in a file of their own, and nothing else there.
    assert _differences(database_url, lambda name: name not in rollups) == []
    apart = f"sqlite:///{rollups_file(path)}"
    assert _differences(apart, lambda name: name in rollups or not name) == []


def _differences(url: str, compared: Callable[[str], bool]) -> list[Any]:
    """What autogenerate finds between the database at ``url`` (its main file only) and the
    models, among the tables ``compared`` picks ('' for what belongs to no table)."""
    models = sa.MetaData()
    for table in Base.metadata.sorted_tables:
        if compared(table.name):
            table.to_metadata(models)
    engine = sa.create_engine(url)
    try:
        if sqlite_file(url) is None or not url.endswith(f"-{ROLLUPS}.db"):
            assert migrations.current_revision(engine) == migrations.head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    # The play log's monthly partitions (PostgreSQL) are not models.
                    "include_name": lambda name, type_, parents: (
                        not (type_ == "table" and is_partition_name(name))
                        and compared(name if type_ == "table" else parents.get("table_name", ""))
                    ),
                },
            )
            return [
                d
                for d in compare_metadata(context, models)
                # SQLite cannot reflect expression indexes (lower(email)); nothing to compare.
                if not (
                    isinstance(d, tuple)
                    and d[0] == "add_index"
                    and d[1].name == "ix_users_email_lower"
                )
            ]
    finally:
        engine.dispose()
