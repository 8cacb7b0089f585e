"""title_costs and title_ad_delivery: content economics (insights area)

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "title_costs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_title_costs_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_title_costs")),
        sa.UniqueConstraint("item_id", "kind", name=op.f("uq_title_costs_item_id_kind")),
    )
    op.create_table(
        "title_ad_delivery",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("line_item_id", sa.BigInteger(), nullable=False),
        sa.Column("placement_id", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("spend_micros", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "item_id",
            "line_item_id",
            "placement_id",
            "mode",
            "country",
            name=op.f("pk_title_ad_delivery"),
        ),
    )
    op.create_index("ix_title_ad_delivery_item_id_day", "title_ad_delivery", ["item_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_title_ad_delivery_item_id_day", table_name="title_ad_delivery")
    op.drop_table("title_ad_delivery")
    op.drop_table("title_costs")
