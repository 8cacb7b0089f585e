"""an index on chart_pairs (level, item_id, last_us): the listeners whose last play of an
item is in the first, partial day of a chart that runs to the present, counted from the index

On a large database the index takes a while to build (37.5M pairs at 20M plays: 28 s on
the 2-core machine) and holds a write lock on ``chart_pairs`` meanwhile, so the chart folder
waits; build it beforehand with ``CREATE INDEX CONCURRENTLY`` under the same name and this
migration finds it there.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_chart_pairs_level_item_last "
        "ON chart_pairs (level, item_id, last_us)"
    )


def downgrade() -> None:
    op.drop_index("ix_chart_pairs_level_item_last", table_name="chart_pairs")
