"""segment_bitmaps (each segment's members as a bitmap) and an index on users' (country, id),
for the insights of a title

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "segment_bitmaps",
        sa.Column("segment_id", _ID, nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_bitmaps_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment_id", name=op.f("pk_segment_bitmaps")),
    )
    op.create_index("ix_users_country_id", "users", ["country", "id"])
    # The segments that exist already, as insights/segment_bits.py writes them (bit u % 8 of
    # byte u // 8); written out here so that this migration never changes with that module.
    bind = op.get_bind()
    members: dict[int, list[int]] = {}
    for segment_id, user_id in bind.execute(
        sa.text("SELECT segment_id, user_id FROM segment_members")
    ):
        members.setdefault(int(segment_id), []).append(int(user_id))
    table = sa.table(
        "segment_bitmaps",
        sa.column("segment_id", sa.BigInteger()),
        sa.column("members", sa.Integer()),
        sa.column("bits", sa.LargeBinary()),
    )
    for (segment_id,) in bind.execute(sa.text("SELECT id FROM segments")):
        users = members.get(int(segment_id), [])
        flags = np.zeros(max(users, default=-1) + 1, dtype=bool)
        flags[users] = True
        bits = np.packbits(flags, bitorder="little").tobytes()
        bind.execute(sa.insert(table).values(segment_id=segment_id, members=len(users), bits=bits))


def downgrade() -> None:
    op.drop_index("ix_users_country_id", table_name="users")
    op.drop_table("segment_bitmaps")
