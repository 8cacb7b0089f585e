"""ad_reach: HyperLogLog registers per reporting cell and day (unique reach of ads)

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ad_reach",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("line_item_id", sa.BigInteger(), nullable=False),
        sa.Column("creative_id", sa.BigInteger(), nullable=False),
        sa.Column("placement_id", sa.BigInteger(), nullable=False),
        sa.Column("segment_id", sa.BigInteger(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("register", sa.Integer(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "line_item_id",
            "creative_id",
            "placement_id",
            "segment_id",
            "country",
            "mode",
            "register",
            name=op.f("pk_ad_reach"),
        ),
    )
    op.create_index("ix_ad_reach_campaign_id_day", "ad_reach", ["campaign_id", "day"])
    op.create_index("ix_ad_reach_advertiser_id_day", "ad_reach", ["advertiser_id", "day"])
    # Reach so far came from the per-viewer delivery rows: sketch them, so that old reports
    # keep their reach.
    rows = op.get_bind().execute(
        sa.text(
            "SELECT day, line_item_id, creative_id, placement_id, segment_id, country, mode, "
            "viewer, campaign_id, advertiser_id FROM ad_delivery WHERE impressions > 0"
        )
    )
    from tastegraph.ads.sketch import register_of

    best: dict[tuple[object, ...], tuple[int, object, object]] = {}
    for row in rows:
        register, rank = register_of(row.viewer)
        key = (*row[:7], register)
        if key not in best or best[key][0] < rank:
            best[key] = (rank, row.campaign_id, row.advertiser_id)
    if best:
        table = sa.table(
            "ad_reach",
            *(
                sa.column(name)
                for name in (
                    "day",
                    "line_item_id",
                    "creative_id",
                    "placement_id",
                    "segment_id",
                    "country",
                    "mode",
                    "register",
                    "rank",
                    "campaign_id",
                    "advertiser_id",
                )
            ),
        )
        values = [
            {
                "day": key[0],
                "line_item_id": key[1],
                "creative_id": key[2],
                "placement_id": key[3],
                "segment_id": key[4],
                "country": key[5],
                "mode": key[6],
                "register": key[7],
                "rank": rank,
                "campaign_id": campaign,
                "advertiser_id": advertiser,
            }
            for key, (rank, campaign, advertiser) in best.items()
        ]
        op.bulk_insert(table, values)


def downgrade() -> None:
    op.drop_index("ix_ad_reach_advertiser_id_day", table_name="ad_reach")
    op.drop_index("ix_ad_reach_campaign_id_day", table_name="ad_reach")
    op.drop_table("ad_reach")
