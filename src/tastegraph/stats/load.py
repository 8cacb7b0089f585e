"""Rollup rows counted elsewhere, loaded in bulk: the write path of batch jobs that recount
the charts from an export of the play log (``batch/charts.py``, on Spark).

``Rollups.load_rows`` takes the locks and moves the watermark; this module replaces the rows.
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
        for batch in batches:
            if not batch:
                continue
            extra = set(batch[0]) - names
            if extra:
                raise ValueError(f"{name} has no columns {sorted(extra)}")
            session.execute(table.insert(), list(batch))
            written[name] += len(batch)
    if unindexed:
        _create_indexes(session)
    return written["chart_counts"], written["country_chart_counts"]
