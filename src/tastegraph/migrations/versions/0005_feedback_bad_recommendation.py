"""wider feedback sentiment (bad_recommendation)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.alter_column(
            "sentiment", existing_type=sa.String(16), type_=sa.String(32), existing_nullable=False
        )


def downgrade() -> None:
    op.execute("DELETE FROM feedback WHERE sentiment = 'bad_recommendation'")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.alter_column(
            "sentiment", existing_type=sa.String(32), type_=sa.String(16), existing_nullable=False
        )
