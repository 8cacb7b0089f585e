"""What a title covers: the item itself and everything under it.

A show is its seasons and episodes, an artist their albums and tracks (and the tracks that
credit them as a main artist, as charts count them), a competition its matches, a team the
matches it plays in (home or away), an outlet its programmes and stories. A title's plays are
the plays of every item it covers; an episode or a film covers only itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, union
from sqlalchemy.orm import Session, aliased

from tastegraph.catalog.kinds import CreditRole, Kind
from tastegraph.catalog.models import Item, ItemCredit

_CREDIT_ROLES: dict[Kind, tuple[CreditRole, ...]] = {
    Kind.ARTIST: (CreditRole.MAIN,),
    Kind.TEAM: (CreditRole.HOME, CreditRole.AWAY),
}


@dataclass(frozen=True)
class Title:
    item: Item
    covered: tuple[int, ...]
    """Ids of the item and of every item under it, ascending."""


def covered_items(session: Session, item: Item) -> tuple[int, ...]:
    return covered_by(session, [item])[item.id]


def covered_by(session: Session, items: Sequence[Item]) -> dict[int, tuple[int, ...]]:
    """For each title, the ids of the items its plays are counted from (itself included)."""
    ids = [item.id for item in items]
    child = aliased(Item, name="child")
    middle = aliased(Item, name="middle")
    children = select(child.id.label("item_id"), child.parent_id.label("title_id")).where(
        child.parent_id.in_(ids)
    )
    grandchildren = (
        select(child.id, middle.parent_id)
        .join(middle, middle.id == child.parent_id)
        .where(middle.parent_id.in_(ids))
    )
    parts = [children, grandchildren]
    credited = [i.id for i in items if i.kind in _CREDIT_ROLES]
    if credited:
        roles = sorted({r.value for i in items for r in _CREDIT_ROLES.get(i.kind, ())})
        parts.append(
            select(ItemCredit.item_id, ItemCredit.credited_id).where(
                ItemCredit.credited_id.in_(credited), or_(*(ItemCredit.role == r for r in roles))
            )
        )
    found: dict[int, set[int]] = {i: {i} for i in ids}
    for item_id, title_id in session.execute(union(*parts)):
        if title_id is not None:
            found[int(title_id)].add(int(item_id))
    return {title: tuple(sorted(members)) for title, members in found.items()}
