"""the chart archive: site-wide and geo charts of closed windows, computed ahead
(``stats/archive.py``), and ``chart_state.epoch``, which every change of the rollups other
than a fold moves on

The archive starts empty: ``tastegraph stats archive`` or a server's archiver fills it.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chart_archive",
        sa.Column("scope", sa.String(length=2), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("end_us", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope", "level", "start_us", "end_us", name=op.f("pk_chart_archive")
        ),
    )
    op.create_index("ix_chart_archive_end", "chart_archive", ["end_us"])
    with op.batch_alter_table("chart_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("chart_state", schema=None) as batch_op:
        batch_op.drop_column("epoch")
    op.drop_index("ix_chart_archive_end", table_name="chart_archive")
    op.drop_table("chart_archive")
