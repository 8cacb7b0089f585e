"""stats rollups: plays per chart item in UTC days, months, years and overall, site-wide and per
country, filled from the plays already in the log; the watermark of what they count; plays by
item and time with the user (listeners from the index alone)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a play counts for at each chart level (stats/levels.py, as of this revision): the
# played item; its album, season or competition; its show or outlet (the parent, or the
# grandparent above a season or programme); its main artists; a match's teams.
_CONTRIBUTIONS = """
    SELECT played.kind AS level, p.item_id AS item_id, p.played_at AS played_at,
           p.user_id AS user_id
    FROM plays p JOIN items played ON played.id = p.item_id
    WHERE played.kind IN ('track', 'episode', 'film', 'match', 'programme', 'story')
    UNION ALL
    SELECT parent.kind, parent.id, p.played_at, p.user_id
    FROM plays p JOIN items played ON played.id = p.item_id
    JOIN items parent ON parent.id = played.parent_id
    WHERE parent.kind IN ('album', 'season', 'competition')
    UNION ALL
    SELECT CASE WHEN parent.kind IN ('show', 'outlet') THEN parent.kind ELSE grand.kind END,
           CASE WHEN parent.kind IN ('show', 'outlet') THEN parent.id ELSE grand.id END,
           p.played_at, p.user_id
    FROM plays p JOIN items played ON played.id = p.item_id
    JOIN items parent ON parent.id = played.parent_id
    LEFT JOIN items grand ON grand.id = parent.parent_id
    WHERE parent.kind IN ('show', 'outlet')
       OR (parent.kind = 'season' AND grand.kind = 'show')
       OR (parent.kind = 'programme' AND grand.kind = 'outlet')
    UNION ALL
    SELECT CASE WHEN credit.role = 'main' THEN 'artist' ELSE 'team' END, credit.credited_id,
           p.played_at, p.user_id
    FROM plays p JOIN item_credits credit
      ON credit.item_id = p.item_id AND credit.role IN ('main', 'home', 'away')
"""

_BUCKETS = {
    # Days since 1970-01-01, months since January 1970, the year; SQLite's datetimes are
    # naive UTC text.
    "sqlite": (
        "CAST(strftime('%s', c.played_at) AS INTEGER) / 86400",
        "(CAST(strftime('%Y', c.played_at) AS INTEGER) - 1970) * 12"
        " + CAST(strftime('%m', c.played_at) AS INTEGER) - 1",
        "CAST(strftime('%Y', c.played_at) AS INTEGER)",
    ),
    "postgresql": (
        "CAST(floor(extract(epoch FROM c.played_at) / 86400) AS INTEGER)",
        "CAST((extract(year FROM c.played_at AT TIME ZONE 'UTC') - 1970) * 12"
        " + extract(month FROM c.played_at AT TIME ZONE 'UTC') - 1 AS INTEGER)",
        "CAST(extract(year FROM c.played_at AT TIME ZONE 'UTC') AS INTEGER)",
    ),
}


def _backfill() -> None:
    """Count the plays already in the log into both tables, and say so in the watermark."""
    op.execute(
        sa.text(
            "INSERT INTO chart_state (id, counted_through) "
            "SELECT 1, coalesce(max(id), 0) FROM plays"
        )
    )
    day, month, year = _BUCKETS[op.get_bind().dialect.name]
    bucket = (
        f"CASE g.grain WHEN 'day' THEN {day} WHEN 'month' THEN {month}"
        f" WHEN 'year' THEN {year} ELSE 0 END"
    )
    grains = (
        "(SELECT 'day' AS grain UNION ALL SELECT 'month' UNION ALL SELECT 'year'"
        " UNION ALL SELECT 'all') g"
    )
    # Every fragment is a constant of this file: no value is interpolated.
    op.execute(
        sa.text(
            "INSERT INTO chart_counts (level, grain, bucket, item_id, plays) "  # noqa: S608
            f"SELECT c.level, g.grain, {bucket}, c.item_id, count(*) "
            f"FROM ({_CONTRIBUTIONS}) c CROSS JOIN {grains} "
            "GROUP BY 1, 2, 3, 4"
        )
    )
    op.execute(
        sa.text(
            "INSERT INTO country_chart_counts (country, level, grain, bucket, item_id, plays) "  # noqa: S608
            f"SELECT u.country, c.level, g.grain, {bucket}, c.item_id, count(*) "
            f"FROM ({_CONTRIBUTIONS}) c JOIN users u ON u.id = c.user_id CROSS JOIN {grains} "
            "WHERE u.country IS NOT NULL "
            "GROUP BY 1, 2, 3, 4, 5"
        )
    )


def upgrade() -> None:
    op.create_table(
        "chart_counts",
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "level", "grain", "bucket", "item_id", name=op.f("pk_chart_counts")
        ),
        sqlite_with_rowid=False,
        postgresql_with={"fillfactor": 75},
    )
    op.create_table(
        "country_chart_counts",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "country", "level", "grain", "bucket", "item_id", name=op.f("pk_country_chart_counts")
        ),
        sqlite_with_rowid=False,
        postgresql_with={"fillfactor": 75},
    )
    op.create_table(
        "chart_state",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("counted_through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chart_state")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Grains and buckets go together (a day number is never a month's): without these,
        # PostgreSQL multiplies their selectivities and misjudges every rollup read.
        op.execute(
            "CREATE STATISTICS chart_counts_level_grain_bucket (dependencies, ndistinct) "
            "ON level, grain, bucket FROM chart_counts"
        )
        op.execute(
            "CREATE STATISTICS country_chart_counts_level_grain_bucket (dependencies, ndistinct) "
            "ON country, level, grain, bucket FROM country_chart_counts"
        )
    _backfill()
    with op.batch_alter_table("plays", schema=None) as batch_op:
        batch_op.drop_index("ix_plays_item_time")
        batch_op.create_index(
            "ix_plays_item_time_user", ["item_id", "played_at", "user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("plays", schema=None) as batch_op:
        batch_op.drop_index("ix_plays_item_time_user")
        batch_op.create_index("ix_plays_item_time", ["item_id", "played_at"], unique=False)
    op.drop_table("chart_state")
    op.drop_table("country_chart_counts")
    op.drop_table("chart_counts")
