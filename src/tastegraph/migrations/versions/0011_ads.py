"""ads: advertisers and their members, campaigns, line items, creatives, placements, beacons
counted once, delivery rows for reports, and the version servers reload their index by

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tastegraph.storage.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> tastegraph.storage.base.UTCDateTime:
    return tastegraph.storage.base.UTCDateTime(timezone=True)


def _status() -> sa.Column[str]:
    return sa.Column("status", sa.String(length=16), nullable=False)


def upgrade() -> None:
    op.create_table(
        "ad_advertisers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=True),
        _status(),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_advertisers")),
    )
    op.create_table(
        "ad_advertiser_members",
        sa.Column("advertiser_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("added_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advertiser_id"],
            ["ad_advertisers.id"],
            name=op.f("fk_ad_advertiser_members_advertiser_id_ad_advertisers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ad_advertiser_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("advertiser_id", "user_id", name=op.f("pk_ad_advertiser_members")),
    )
    op.create_index(op.f("ix_ad_advertiser_members_user_id"), "ad_advertiser_members", ["user_id"])
    op.create_table(
        "ad_campaigns",
        sa.Column("id", _ID, nullable=False),
        sa.Column("advertiser_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("pricing", sa.String(length=16), nullable=False),
        sa.Column("pacing", sa.String(length=16), nullable=False),
        sa.Column("starts_at", _utc(), nullable=False),
        sa.Column("ends_at", _utc(), nullable=True),
        sa.Column("total_budget_micros", sa.BigInteger(), nullable=True),
        sa.Column("daily_budget_micros", sa.BigInteger(), nullable=True),
        _status(),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advertiser_id"],
            ["ad_advertisers.id"],
            name=op.f("fk_ad_campaigns_advertiser_id_ad_advertisers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_campaigns")),
    )
    op.create_index(op.f("ix_ad_campaigns_advertiser_id"), "ad_campaigns", ["advertiser_id"])
    op.create_table(
        "ad_line_items",
        sa.Column("id", _ID, nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("bid_micros", sa.BigInteger(), nullable=False),
        sa.Column("targeting", sa.JSON(), nullable=False),
        sa.Column("frequency_caps", sa.JSON(), nullable=False),
        _status(),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["ad_campaigns.id"],
            name=op.f("fk_ad_line_items_campaign_id_ad_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_line_items")),
    )
    op.create_index(op.f("ix_ad_line_items_campaign_id"), "ad_line_items", ["campaign_id"])
    op.create_table(
        "ad_creatives",
        sa.Column("id", _ID, nullable=False),
        sa.Column("line_item_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("asset_url", sa.String(length=2048), nullable=True),
        sa.Column("mime", sa.String(length=64), nullable=True),
        sa.Column("headline", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("click_url", sa.String(length=2048), nullable=False),
        _status(),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_item_id"],
            ["ad_line_items.id"],
            name=op.f("fk_ad_creatives_line_item_id_ad_line_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_creatives")),
    )
    op.create_index(op.f("ix_ad_creatives_line_item_id"), "ad_creatives", ["line_item_id"])
    op.create_table(
        "ad_placements",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("position", sa.String(length=16), nullable=True),
        sa.Column("max_duration_seconds", sa.Integer(), nullable=True),
        sa.Column("floor_micros", sa.BigInteger(), nullable=False),
        _status(),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_placements")),
        sa.UniqueConstraint("key", name=op.f("uq_ad_placements_key")),
    )
    op.create_table(
        "ad_beacons",
        sa.Column("token_id", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("token_id", "kind", name=op.f("pk_ad_beacons")),
    )
    op.create_table(
        "ad_delivery",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("line_item_id", sa.BigInteger(), nullable=False),
        sa.Column("creative_id", sa.BigInteger(), nullable=False),
        sa.Column("placement_id", sa.BigInteger(), nullable=False),
        sa.Column("segment_id", sa.BigInteger(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("viewer", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("spend_micros", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "line_item_id",
            "creative_id",
            "placement_id",
            "segment_id",
            "country",
            "mode",
            "viewer",
            name=op.f("pk_ad_delivery"),
        ),
    )
    op.create_index("ix_ad_delivery_campaign_id_day", "ad_delivery", ["campaign_id", "day"])
    op.create_table(
        "ad_index_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_index_version")),
    )
    op.create_index("ix_ad_delivery_advertiser_id_day", "ad_delivery", ["advertiser_id", "day"])


def downgrade() -> None:
    op.drop_table("ad_index_version")
    op.drop_index("ix_ad_delivery_advertiser_id_day", table_name="ad_delivery")
    op.drop_index("ix_ad_delivery_campaign_id_day", table_name="ad_delivery")
    op.drop_table("ad_delivery")
    op.drop_table("ad_beacons")
    op.drop_table("ad_placements")
    op.drop_index(op.f("ix_ad_creatives_line_item_id"), table_name="ad_creatives")
    op.drop_table("ad_creatives")
    op.drop_index(op.f("ix_ad_line_items_campaign_id"), table_name="ad_line_items")
    op.drop_table("ad_line_items")
    op.drop_index(op.f("ix_ad_campaigns_advertiser_id"), table_name="ad_campaigns")
    op.drop_table("ad_campaigns")
    op.drop_index(op.f("ix_ad_advertiser_members_user_id"), table_name="ad_advertiser_members")
    op.drop_table("ad_advertiser_members")
    op.drop_table("ad_advertisers")
