"""audiences: advertising consent (TCF purposes 3 and 4) and its audit log, segments, members

Revision ID: 0008
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tastegraph.storage.base

revision: str = "0008"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> tastegraph.storage.base.UTCDateTime:
    return tastegraph.storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ad_consents",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("profiling", sa.Boolean(), nullable=False),
        sa.Column("personalised_ads", sa.Boolean(), nullable=False),
        sa.Column("declared_adult", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ad_consents_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_ad_consents")),
    )
    op.create_table(
        "consent_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("old", sa.JSON(), nullable=False),
        sa.Column("new", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_consent_events_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    op.create_index(op.f("ix_consent_events_user_id"), "consent_events", ["user_id"])
    op.create_table(
        "segments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=True),
        sa.Column("iab_ids", sa.JSON(), nullable=False),
        sa.Column("owner_id", _ID, nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("seed_segment_id", _ID, nullable=True),
        sa.Column("target_size", sa.Integer(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("refreshed_at", _utc(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_segments_owner_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["seed_segment_id"],
            ["segments.id"],
            name=op.f("fk_segments_seed_segment_id_segments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
    )
    op.create_index(op.f("ix_segments_owner_id"), "segments", ["owner_id"])
    op.create_table(
        "segment_members",
        sa.Column("segment_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("added_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_members_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_segment_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment_id", "user_id", name=op.f("pk_segment_members")),
    )
    op.create_index("ix_segment_members_user_id", "segment_members", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_segment_members_user_id", table_name="segment_members")
    op.drop_table("segment_members")
    op.drop_index(op.f("ix_segments_owner_id"), table_name="segments")
    op.drop_table("segments")
    op.drop_index(op.f("ix_consent_events_user_id"), table_name="consent_events")
    op.drop_table("consent_events")
    op.drop_table("ad_consents")
