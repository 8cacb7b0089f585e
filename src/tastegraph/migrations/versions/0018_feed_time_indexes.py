"""feed time indexes: people's loves and group joins by time, so a feed reads a time window
of hundreds of people's activity from the index

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_feedback_user_time", "feedback", ["user_id", "created_at"])
    op.create_index("ix_group_members_user_joined", "group_members", ["user_id", "joined_at"])


def downgrade() -> None:
    op.drop_index("ix_group_members_user_joined", table_name="group_members")
    op.drop_index("ix_feedback_user_time", table_name="feedback")
