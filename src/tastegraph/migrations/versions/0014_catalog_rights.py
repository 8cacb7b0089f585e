"""catalog: territorial rights (grants, live blackouts, territory groups seeded with a default
set, the version servers rebuild their availability index by) and item translations

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tastegraph.storage.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_EU = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"

# A frozen copy of catalog.territories.DEFAULT_GROUPS as of this revision.
_GROUPS: dict[str, tuple[str, str]] = {
    "EU": ("European Union", _EU),
    "EEA": ("European Economic Area", _EU + " IS LI NO"),
    "DACH": ("Germany, Austria and Switzerland", "AT CH DE"),
    "BENELUX": ("Belgium, the Netherlands and Luxembourg", "BE LU NL"),
    "NORDICS": ("The Nordic countries", "DK FI IS NO SE"),
    "UKI": ("The United Kingdom and Ireland", "GB IE"),
    "NORTH_AMERICA": ("The United States and Canada", "CA US"),
    "LATAM": ("Latin America", "AR BO BR CL CO CR CU DO EC GT HN MX NI PA PE PR PY SV UY VE"),
    "ANZ": ("Australia and New Zealand", "AU NZ"),
    "MENA": (
        "The Middle East and North Africa",
        "AE BH DZ EG IQ JO KW LB LY MA OM PS QA SA SY TN YE",
    ),
}


def _utc() -> tastegraph.storage.base.UTCDateTime:
    return tastegraph.storage.base.UTCDateTime(timezone=True)


def _item_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["item_id"], ["items.id"], name=op.f(f"fk_{table}_item_id_items"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "item_translations",
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("title", sa.String(length=1024), nullable=False),
        sa.Column("search_key", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        _item_fk("item_translations"),
        sa.PrimaryKeyConstraint("item_id", "language", name=op.f("pk_item_translations")),
    )
    op.create_index(op.f("ix_item_translations_search_key"), "item_translations", ["search_key"])
    groups = op.create_table(
        "territory_groups",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_territory_groups")),
    )
    members = op.create_table(
        "territory_group_members",
        sa.Column("group_key", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_key"],
            ["territory_groups.key"],
            name=op.f("fk_territory_group_members_group_key_territory_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_key", "country", name=op.f("pk_territory_group_members")),
    )
    op.create_table(
        "item_rights",
        sa.Column("id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("territory", sa.String(length=32), nullable=False),
        sa.Column("offer", sa.String(length=16), nullable=False),
        sa.Column("starts_at", _utc(), nullable=True),
        sa.Column("ends_at", _utc(), nullable=True),
        sa.Column("audio_languages", sa.JSON(), nullable=False),
        sa.Column("subtitle_languages", sa.JSON(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _item_fk("item_rights"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_rights")),
    )
    op.create_index(op.f("ix_item_rights_item_id"), "item_rights", ["item_id"])
    op.create_index(op.f("ix_item_rights_territory"), "item_rights", ["territory"])
    op.create_table(
        "item_blackouts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("territories", sa.JSON(), nullable=False),
        sa.Column("starts_at", _utc(), nullable=False),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        _item_fk("item_blackouts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_blackouts")),
    )
    op.create_index(op.f("ix_item_blackouts_item_id"), "item_blackouts", ["item_id"])
    op.create_table(
        "catalog_rights_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_rights_version")),
    )
    seeded = tastegraph.storage.base.utcnow()
    op.bulk_insert(
        groups,
        [{"key": key, "name": name, "updated_at": seeded} for key, (name, _) in _GROUPS.items()],
    )
    op.bulk_insert(
        members,
        [
            {"group_key": key, "country": country}
            for key, (_, countries) in _GROUPS.items()
            for country in countries.split()
        ],
    )


def downgrade() -> None:
    op.drop_table("catalog_rights_version")
    op.drop_index(op.f("ix_item_blackouts_item_id"), table_name="item_blackouts")
    op.drop_table("item_blackouts")
    op.drop_index(op.f("ix_item_rights_territory"), table_name="item_rights")
    op.drop_index(op.f("ix_item_rights_item_id"), table_name="item_rights")
    op.drop_table("item_rights")
    op.drop_table("territory_group_members")
    op.drop_table("territory_groups")
    op.drop_index(op.f("ix_item_translations_search_key"), table_name="item_translations")
    op.drop_table("item_translations")
