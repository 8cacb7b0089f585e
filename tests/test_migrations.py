"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tastegraph import migrations
from tastegraph.all_models import Base
from tastegraph.ingest.partitions import is_partition_name


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        assert migrations.current_revision(engine) == migrations.head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    # The play log's monthly partitions (PostgreSQL) are not models.
                    "include_name": lambda name, type_, _parents: (
                        not (type_ == "table" and is_partition_name(name))
                    ),
                },
            )
            differences = [
                d
                for d in compare_metadata(context, Base.metadata)
                # SQLite cannot reflect expression indexes (lower(email)); nothing to compare.
                if not (
                    isinstance(d, tuple)
                    and d[0] == "add_index"
                    and d[1].name == "ix_users_email_lower"
                )
            ]
        assert differences == []
    finally:
        engine.dispose()
