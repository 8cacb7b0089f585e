"""protocols: legacy md5, Last.fm keys and tokens, playbacks

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tastegraph.storage.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lastfm_api_keys",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", tastegraph.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", tastegraph.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_lastfm_api_keys")),
    )
    op.create_table(
        "lastfm_auth_tokens",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("api_key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", tastegraph.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tastegraph.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", tastegraph.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lastfm_auth_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_lastfm_auth_tokens")),
    )
    op.create_table(
        "playbacks",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("started_at", tastegraph.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tastegraph.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("incognito", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_playbacks_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_playbacks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "item_id", name=op.f("pk_playbacks")),
    )
    with op.batch_alter_table("playbacks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_playbacks_item_id"), ["item_id"], unique=False)

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legacy_md5", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_tokens_legacy_md5"), ["legacy_md5"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_legacy_md5"))
        batch_op.drop_column("legacy_md5")

    with op.batch_alter_table("playbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playbacks_item_id"))

    op.drop_table("playbacks")
    op.drop_table("lastfm_auth_tokens")
    op.drop_table("lastfm_api_keys")
