from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tastegraph.all_models import Base
from tastegraph.ingest.partitions import is_partition_name

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic needs sqlalchemy.url or a connection in config.attributes")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_not_a_partition,
    )
    with context.begin_transaction():
        context.run_migrations()


def _not_a_partition(name: str | None, type_: str, _parents: object) -> bool:
    """Autogenerate leaves the play log's partitions alone: the migrations and
    ``tastegraph db partitions`` make them, not the models."""
    return not (type_ == "table" and name is not None and is_partition_name(name))


run_migrations()
