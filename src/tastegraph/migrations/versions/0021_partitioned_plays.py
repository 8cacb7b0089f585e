"""plays partitioned by month of played_at on PostgreSQL; submission ids in play_submissions

On PostgreSQL the play log becomes a table partitioned by RANGE (played_at): one partition per
UTC month that holds plays, the current month and the three after it, and a default partition
that takes any play no monthly partition covers (``tastegraph db partitions`` moves those out
later). The rows are copied, the indexes and foreign keys made again on the new table, and the
id sequence handed over. The primary key becomes (id, played_at), since every unique index of
a partitioned table must hold the partition key; for the same reason the unique index on
(user_id, submission_id) goes, and submission ids are kept unique in a table of their own,
``play_submissions``, on both backends (one write path for duplicates). SQLite keeps its
single ``plays`` table.

The copy holds an exclusive lock on ``plays`` for as long as it runs: on a large log, run it
in a maintenance window (docs/scaling.md).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AHEAD_MONTHS = 3

# The play log's columns and secondary indexes as of revision 0020, written out so this
# migration never changes with the models.
_COLUMNS = """
    id bigint NOT NULL DEFAULT nextval('plays_id_seq'::regclass),
    played_at timestamp with time zone NOT NULL,
    tz_offset_minutes smallint NOT NULL,
    duration_played integer,
    progress double precision,
    source character varying(64) NOT NULL,
    submission_id character varying(128),
    raw_payload text,
    created_at timestamp with time zone NOT NULL,
    user_id bigint NOT NULL,
    item_id bigint NOT NULL
"""
_COLUMN_NAMES = (
    "id, played_at, tz_offset_minutes, duration_played, progress, source, submission_id, "
    "raw_payload, created_at, user_id, item_id"
)
_FOREIGN_KEYS = """
    CONSTRAINT fk_plays_item_id_items FOREIGN KEY (item_id) REFERENCES items (id),
    CONSTRAINT fk_plays_user_id_users FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE CASCADE
"""
_INDEXES = (
    ("uq_plays_user_item_time", "user_id, item_id, played_at", True),
    ("ix_plays_user_time", "user_id, played_at", False),
    ("ix_plays_item_time_user", "item_id, played_at, user_id", False),
    ("ix_plays_time", "played_at", False),
    ("ix_plays_item_time_user_progress", "item_id, played_at, user_id, progress", False),
)
_SUBMISSION_INDEX = ("uq_plays_user_submission", "user_id, submission_id", True)


def upgrade() -> None:
    op.create_table(
        "play_submissions",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("submission_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_play_submissions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "submission_id", name=op.f("pk_play_submissions")),
    )
    # The old unique index made (user_id, submission_id) unique among plays: no duplicates.
    op.execute(
        "INSERT INTO play_submissions (user_id, submission_id) "
        "SELECT user_id, submission_id FROM plays WHERE submission_id IS NOT NULL"
    )
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index("uq_plays_user_submission", table_name="plays")
        return
    _partition_plays()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _unpartition_plays()
    else:
        op.create_index(
            "uq_plays_user_submission", "plays", ["user_id", "submission_id"], unique=True
        )
    op.drop_table("play_submissions")


def _partition_plays() -> None:
    bind = op.get_bind()
    op.execute("LOCK TABLE plays IN ACCESS EXCLUSIVE MODE")
    op.execute("ALTER TABLE plays RENAME TO plays_unpartitioned")
    # Index names are the schema's: free them for the new table.
    for name, _columns, _unique in (*_INDEXES, _SUBMISSION_INDEX):
        op.execute(f"DROP INDEX {name}")
    op.execute("ALTER TABLE plays_unpartitioned DROP CONSTRAINT pk_plays")
    op.execute(
        f"CREATE TABLE plays ({_COLUMNS}, CONSTRAINT pk_plays PRIMARY KEY (id, played_at), "
        f"{_FOREIGN_KEYS}) PARTITION BY RANGE (played_at)"
    )
    op.execute("CREATE TABLE plays_default PARTITION OF plays DEFAULT")
    months = {
        (row[0].year, row[0].month)
        for row in bind.execute(
            sa.text(
                "SELECT DISTINCT date_trunc('month', played_at AT TIME ZONE 'UTC') "
                "FROM plays_unpartitioned"
            )
        )
    }
    now = datetime.now(UTC)
    index = now.year * 12 + now.month - 1
    for n in range(_AHEAD_MONTHS + 1):
        year, month0 = divmod(index + n, 12)
        months.add((year, month0 + 1))
    for year, month in sorted(months):
        op.execute(_create_month(year, month))
    op.execute(
        f"INSERT INTO plays ({_COLUMN_NAMES}) SELECT {_COLUMN_NAMES} FROM plays_unpartitioned"  # noqa: S608 - constant names
    )
    # Indexes made on the parent are made on every partition (and on later ones).
    for name, columns, unique in _INDEXES:
        op.execute(f"CREATE {'UNIQUE ' if unique else ''}INDEX {name} ON plays ({columns})")
    op.execute("ALTER SEQUENCE plays_id_seq OWNED BY plays.id")
    op.execute("DROP TABLE plays_unpartitioned")
    op.execute("ANALYZE plays")


def _create_month(year: int, month: int) -> str:
    """The partition of a UTC month (``month`` 1..12), named ``plays_YYYY_MM``."""
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    return (
        f"CREATE TABLE plays_{year:04d}_{month:02d} PARTITION OF plays FOR VALUES "
        f"FROM ('{year:04d}-{month:02d}-01 00:00:00+00') "
        f"TO ('{after[0]:04d}-{after[1]:02d}-01 00:00:00+00')"
    )


def _unpartition_plays() -> None:
    op.execute("LOCK TABLE plays IN ACCESS EXCLUSIVE MODE")
    op.execute("ALTER TABLE plays RENAME TO plays_partitioned")
    for name, _columns, _unique in _INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.execute("ALTER TABLE plays_partitioned DROP CONSTRAINT pk_plays")
    op.execute(
        f"CREATE TABLE plays ({_COLUMNS}, CONSTRAINT pk_plays PRIMARY KEY (id), {_FOREIGN_KEYS})"
    )
    op.execute(
        f"INSERT INTO plays ({_COLUMN_NAMES}) SELECT {_COLUMN_NAMES} FROM plays_partitioned"  # noqa: S608 - constant names
    )
    for name, columns, unique in (*_INDEXES, _SUBMISSION_INDEX):
        op.execute(f"CREATE {'UNIQUE ' if unique else ''}INDEX {name} ON plays ({columns})")
    op.execute("ALTER SEQUENCE plays_id_seq OWNED BY plays.id")
    # Dropping the partitioned table drops its partitions; detached (archived) ones stay.
    op.execute("DROP TABLE plays_partitioned")
