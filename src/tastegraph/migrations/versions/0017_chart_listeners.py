"""chart rollups keep distinct listeners, each listener's last play, first and last plays,
head rows, quarters and half-years (chart_sizes, chart_pairs); the rollups are counted afresh

The old rows lack all of that, so they are dropped and the watermark goes back to 0: charts
stay exact (they count what is not folded from the log) and the server's folder, or
``tastegraph stats rebuild``, counts the log again.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = ("level", "grain", "bucket", "item_id")


def _count_table(name: str, *, country: bool, listeners: bool) -> None:
    columns: list[sa.Column[Any]] = (
        [sa.Column("country", sa.String(length=2), nullable=False)] if country else []
    )
    columns += [
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
    ]
    if listeners:
        columns += [
            sa.Column("listeners", sa.Integer(), nullable=False, server_default="0"),
            sa.Column("lasts", sa.Integer(), nullable=False, server_default="0"),
            sa.Column("first_us", sa.BigInteger(), nullable=True),
            sa.Column("last_us", sa.BigInteger(), nullable=True),
            sa.Column("head", sa.Boolean(), nullable=False, server_default=sa.false()),
        ]
    keys = (("country",) if country else ()) + _KEYS
    op.create_table(
        name,
        *columns,
        sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{name}")),
        sqlite_with_rowid=False,
        postgresql_with={"fillfactor": 75},
    )
    if listeners:
        op.create_index(
            f"ix_{name}_head",
            name,
            list(keys),
            unique=False,
            sqlite_where=sa.text("head"),
            postgresql_where=sa.text("head"),
        )
    if op.get_bind().dialect.name == "postgresql":
        # Grains and buckets go together (a day number is never a month's): without these,
        # PostgreSQL multiplies their selectivities and misjudges every rollup read.
        scope = "country, level, grain, bucket" if country else "level, grain, bucket"
        op.execute(
            f"CREATE STATISTICS {name}_level_grain_bucket (dependencies, ndistinct) "
            f"ON {scope} FROM {name}"
        )


def _recreate(*, listeners: bool) -> None:
    for name in ("chart_counts", "country_chart_counts"):
        op.drop_table(name)
    _count_table("chart_counts", country=False, listeners=listeners)
    _count_table("country_chart_counts", country=True, listeners=listeners)


def _reset(tables: Sequence[str] = ()) -> None:
    """Nothing is counted any more: charts read the whole log until it is folded again."""
    for name in tables:
        op.execute(f"DELETE FROM {name}")  # noqa: S608 - names of this file's tables
    op.execute("UPDATE chart_state SET counted_through = 0")


def upgrade() -> None:
    _recreate(listeners=True)
    op.create_table(
        "chart_sizes",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("plays", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("item_lasts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("tau", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("country", *_KEYS[:3], name=op.f("pk_chart_sizes")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "chart_pairs",
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("first_us", sa.BigInteger(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("level", "item_id", "user_id", name=op.f("pk_chart_pairs")),
        sqlite_with_rowid=False,
        postgresql_with={"fillfactor": 80},
    )
    with op.batch_alter_table("chart_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.BigInteger(), nullable=False, server_default="0")
        )
    _reset()


def downgrade() -> None:
    with op.batch_alter_table("chart_state", schema=None) as batch_op:
        batch_op.drop_column("version")
    op.drop_table("chart_pairs")
    op.drop_table("chart_sizes")
    _recreate(listeners=False)
    _reset()
