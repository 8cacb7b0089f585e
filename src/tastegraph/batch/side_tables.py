"""The tables the recs and segment jobs read beside the play-log export.

The export (``tastegraph export parquet DIR``, ``portability/parquet.py``) holds plays,
items, credits, users (with their birth year, locale, time zone and the account's consent
flag) and feedback. The segment rules need a little more, all of it small (per user, item or
tag, never per play):

``DIR/consent/``        user_id, profiling, personalised_ads, declared_adult: the
                        ``ad_consents`` rows (TCF purposes 3 and 4, the declared age), which
                        eligibility reads beside ``users.consent_ad_profiling``; a user without
                        a row has none, as the SQL's outer join sees it
``DIR/tags/``           id, key (the identity key rules name)
``DIR/item_tags/``      item_id, tag_id (distinct over users)
``DIR/group_members/``  group_id, user_id: members (not invitees or applicants) of *public*
                        groups only, the only ones a rule may name

They are written from the database in one read-only unit of work, next to the export, by
``write_side_tables``; a job calls ``ensure_side_tables`` before reading, which writes them
when the export has none yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tastegraph.audiences.models import AdConsent
from tastegraph.catalog.models import ItemTag, Tag
from tastegraph.social.models import Group, GroupMember, GroupPrivacy, MembershipStatus
from tastegraph.storage.database import Database

SIDE_TABLES: tuple[str, ...] = ("consent", "tags", "item_tags", "group_members")
PART = "part-00000.parquet"


def _schemas() -> dict[str, Any]:
    import pyarrow as pa

    return {
        "consent": pa.schema(
            [
                ("user_id", pa.int64()),
                ("profiling", pa.bool_()),
                ("personalised_ads", pa.bool_()),
                ("declared_adult", pa.bool_()),
            ]
        ),
        "tags": pa.schema([("id", pa.int64()), ("key", pa.string())]),
        "item_tags": pa.schema([("item_id", pa.int64()), ("tag_id", pa.int64())]),
        "group_members": pa.schema([("group_id", pa.int64()), ("user_id", pa.int64())]),
    }


def _rows(session: Session, name: str) -> Iterable[Sequence[Any]]:
    if name == "consent":
        return session.execute(
            select(
                AdConsent.user_id,
                AdConsent.profiling,
                AdConsent.personalised_ads,
                AdConsent.declared_adult,
            ).order_by(AdConsent.user_id)
        )
    if name == "tags":
        return session.execute(select(Tag.id, Tag.key).order_by(Tag.id))
    if name == "item_tags":
        return session.execute(select(ItemTag.item_id, ItemTag.tag_id).distinct())
    return session.execute(
        select(GroupMember.group_id, GroupMember.user_id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(
            GroupMember.status == MembershipStatus.MEMBER,
            Group.privacy == GroupPrivacy.PUBLIC,
        )
    )


def write_side_tables(db: Database, directory: Path) -> dict[str, int]:
    """Write every side table under ``directory`` (replacing any); returns rows per table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas = _schemas()
    counts: dict[str, int] = {}
    with db.unit_of_work() as session:
        for name in SIDE_TABLES:
            schema = schemas[name]
            rows = [tuple(row) for row in _rows(session, name)]
            columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema.names]
            table = pa.Table.from_arrays(
                [
                    pa.array(list(values), type=field.type)
                    for values, field in zip(columns, schema, strict=True)
                ],
                schema=schema,
            )
            target = directory / name
            target.mkdir(parents=True, exist_ok=True)
            for old in target.glob("part-*.parquet"):
                old.unlink()
            pq.write_table(table, target / PART)
            counts[name] = len(rows)
    return counts


def ensure_side_tables(db: Database, directory: Path) -> None:
    """Write the side tables unless the export already holds all of them."""
    if not all((directory / name).is_dir() for name in SIDE_TABLES):
        write_side_tables(db, directory)
