"""partial indexes on the rollups' ``all`` rows by last play: the items whose last play is in
the first, partial day of a chart that runs to the present, counted from an index

Each index reads its whole table once to build (at 20M plays: 56M site-wide and 126M country
rows) and holds a write lock meanwhile, so the chart folder waits; on a large database build
them beforehand with ``CREATE INDEX CONCURRENTLY`` under the same names and this migration
finds them there.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_chart_counts_all_last "
        "ON chart_counts (level, last_us) WHERE grain = 'all'"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_country_chart_counts_all_last "
        "ON country_chart_counts (country, level, last_us) WHERE grain = 'all'"
    )


def downgrade() -> None:
    op.drop_index("ix_country_chart_counts_all_last", table_name="country_chart_counts")
    op.drop_index("ix_chart_counts_all_last", table_name="chart_counts")
