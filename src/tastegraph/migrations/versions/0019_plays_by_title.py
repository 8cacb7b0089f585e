"""plays: an index on (item, time, user, progress) for the insights of a title

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_plays_item_time_user_progress",
        "plays",
        ["item_id", "played_at", "user_id", "progress"],
    )


def downgrade() -> None:
    op.drop_index("ix_plays_item_time_user_progress", table_name="plays")
