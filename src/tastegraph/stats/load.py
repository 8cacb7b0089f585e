"""Rollup rows counted elsewhere, loaded in bulk: the write path of batch jobs that recount
the charts from an export of the play log (``batch/charts.py``, on Spark).

``Rollups.load_rows`` takes the locks and moves the watermark; this module replaces the rows.
A batch is a list of rows (mappings) or an Arrow record batch (``pyarrow.RecordBatch``, what
a job reads back from the Parquet its cluster wrote). On PostgreSQL an Arrow batch goes in by
``COPY`` as CSV written by pyarrow (tens of millions of rows at 20M plays: an ``INSERT`` per
row, even in batches, takes most of the job's time); elsewhere it is inserted as rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from tastegraph.stats.models import ChartCount, ChartPair, ChartSize, CountryChartCount
from tastegraph.stats.rebuild import _create_indexes, _drop_indexes

LOADED: dict[str, Any] = {
    "chart_counts": ChartCount,
    "country_chart_counts": CountryChartCount,
    "chart_sizes": ChartSize,
    "chart_pairs": ChartPair,
}
"""The tables ``load_rows`` fills, by name."""


def load_rows(
    session: Session, tables: Mapping[str, Iterable[Sequence[Mapping[str, Any]]]]
) -> tuple[int, int]:
    """Empty the rollups and insert the given batches of rows; returns the (site, country)
    rows written."""
    if set(tables) != set(LOADED):
        raise ValueError(f"rollup tables expected: {sorted(LOADED)}; got {sorted(tables)}")
    postgresql = session.get_bind().dialect.name == "postgresql"
    unindexed = postgresql and session.scalar(select(ChartCount.item_id).limit(1)) is None
    for model in LOADED.values():
        session.execute(delete(model))
    if unindexed:  # as a first rebuild: the indexes once at the end, from sorted rows
        _drop_indexes(session)
    written = dict.fromkeys(LOADED, 0)
    for name, batches in tables.items():
        table = cast(Table, LOADED[name].__table__)
        names = {c.name for c in table.columns}
        batch: Any  # rows, or a pyarrow.RecordBatch (module doc)
        for batch in batches:
            if not len(batch):
                continue
            arrow = hasattr(batch, "schema")
            columns = list(batch.schema.names) if arrow else list(batch[0])
            extra = set(columns) - names
            if extra:
                raise ValueError(f"{name} has no columns {sorted(extra)}")
            if arrow and postgresql:
                _copy(session, table, columns, batch)
            else:
                session.execute(table.insert(), batch.to_pylist() if arrow else list(batch))
            written[name] += len(batch)
    if unindexed:
        _create_indexes(session)
    return written["chart_counts"], written["country_chart_counts"]


def _copy(session: Session, table: Table, columns: list[str], batch: Any) -> None:
    """One Arrow record batch into ``table`` by ``COPY ... FROM STDIN`` (CSV). Every value
    that is not null is quoted, so an empty string (the site's scope, ``''``) stays a string
    and only an unquoted empty field is NULL."""
    import io

    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    pacsv.write_csv(batch, buffer, write_options=options)
    names = ", ".join(columns)
    dbapi = session.connection().connection.dbapi_connection
    cursor: Any = cast(Any, dbapi).cursor()  # psycopg 3: the only PostgreSQL driver here
    try:
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
    finally:
        cursor.close()
