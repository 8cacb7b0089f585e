"""recs: stations a client pages through and the items each one served

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tastegraph.storage.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "recs_stations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("recent_days", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("created_at", tastegraph.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recs_stations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recs_stations")),
    )
    with op.batch_alter_table("recs_stations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recs_stations_user_id"), ["user_id"], unique=False)
    op.create_table(
        "recs_station_entries",
        sa.Column("station_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("known", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_recs_station_entries_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["recs_stations.id"],
            name=op.f("fk_recs_station_entries_station_id_recs_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("station_id", "position", name=op.f("pk_recs_station_entries")),
    )
    with op.batch_alter_table("recs_station_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recs_station_entries_item_id"), ["item_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("recs_station_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recs_station_entries_item_id"))
    op.drop_table("recs_station_entries")
    with op.batch_alter_table("recs_stations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recs_stations_user_id"))
    op.drop_table("recs_stations")
