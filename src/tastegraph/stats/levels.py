"""Which catalogue item a play counts for at each chart level.

A play points at what was consumed (a track, an episode, a match, a story). Charts of
artists, albums, shows, competitions, teams or outlets count it for the item above:

* artists: the track's main credits (a duet counts for both artists);
* albums, seasons, competitions: the played item's parent of that kind;
* shows and outlets: up one or two levels (episode -> season -> show, story -> programme
  -> outlet), whichever the catalogue has;
* teams: the match's home and away credits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, and_, case, literal, select
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql import Select

from tastegraph.catalog.kinds import CONSUMABLE, CreditRole, Kind
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.ingest.models import Play
from tastegraph.stats.errors import UnsupportedLevel
from tastegraph.storage.dialect import no_index

_Select = TypeVar("_Select", bound="Select[*tuple[Any, ...]]")


@dataclass
class Target:
    """How to reach the charted item from a play: joins to add and the item id column."""

    column: ColumnElement[Any] | InstrumentedAttribute[Any]
    joins: list[tuple[Any, ColumnElement[bool]]] = field(default_factory=list)
    outer_joins: list[tuple[Any, ColumnElement[bool]]] = field(default_factory=list)
    where: list[ColumnElement[bool]] = field(default_factory=list)

    def apply(self, stmt: _Select) -> _Select:
        for target, on in self.joins:
            stmt = stmt.join(target, on)
        for target, on in self.outer_joins:
            stmt = stmt.outerjoin(target, on)
        return stmt.where(*self.where) if self.where else stmt


def target_for(level: Kind, played_id: Any = None) -> Target:
    """The item a play counts for at ``level``. ``played_id`` is the column holding the
    played item's id: ``Play.item_id`` unless the plays were first counted per item."""
    play_item = Play.item_id if played_id is None else played_id
    played = aliased(Item, name="played")
    if level in CONSUMABLE:
        return Target(
            column=play_item,
            joins=[(played, played.id == play_item)],
            where=[played.kind == level],
        )
    if level is Kind.ARTIST:
        return _credited(CreditRole.MAIN, play_item)
    if level is Kind.TEAM:
        credit = aliased(ItemCredit, name="credit")
        return Target(
            column=credit.credited_id,
            joins=[
                (
                    credit,
                    and_(
                        credit.item_id == play_item,
                        credit.role.in_((CreditRole.HOME, CreditRole.AWAY)),
                    ),
                )
            ],
        )
    if level in (Kind.ALBUM, Kind.SEASON, Kind.COMPETITION):
        parent = aliased(Item, name="parent")
        return Target(
            column=parent.id,
            joins=[
                (played, played.id == play_item),
                (parent, and_(parent.id == played.parent_id, parent.kind == level)),
            ],
        )
    if level in (Kind.SHOW, Kind.OUTLET):
        middle = _MIDDLE[level]
        parent = aliased(Item, name="parent")
        grand = aliased(Item, name="grand")
        column = case(
            (parent.kind == level, parent.id),
            (and_(parent.kind == middle, grand.kind == level), grand.id),
            else_=literal(None),
        )
        return Target(
            column=column,
            joins=[
                (played, played.id == play_item),
                (parent, parent.id == played.parent_id),
            ],
            outer_joins=[(grand, grand.id == parent.parent_id)],
            where=[column.is_not(None)],
        )
    raise UnsupportedLevel(f"There are no charts of {level}s.")


def played_for(level: Kind, target_ids: Sequence[int] | Any) -> Select[int, int]:
    """(item_id, target_id): the items whose plays count for each of ``target_ids`` (items
    of ``level``; a list or a subquery of ids) — ``target_for`` read the other way, for
    looking plays up by item."""
    return children_of(level, lambda target: target.in_(target_ids))


def children_of(
    level: Kind, which: Callable[[Any], ColumnElement[bool]] | None = None
) -> Select[int, int]:
    """(item_id, target_id) for every played item and the item of ``level`` its plays count
    for (only the targets ``which(target column)`` picks, when given: the condition goes into
    every branch, where the indexes on parents and credits find the few rows)."""

    def only(target: Any) -> list[ColumnElement[bool]]:
        return [] if which is None else [which(target)]

    if level in CONSUMABLE:  # a chart's items of the level are of that kind
        return select(Item.id.label("item_id"), Item.id.label("target_id")).where(
            no_index(Item.kind) == level, *only(Item.id)
        )
    if level in (Kind.ARTIST, Kind.TEAM):
        roles = (CreditRole.MAIN,) if level is Kind.ARTIST else (CreditRole.HOME, CreditRole.AWAY)
        return select(
            ItemCredit.item_id.label("item_id"), ItemCredit.credited_id.label("target_id")
        ).where(
            no_index(ItemCredit.role).in_([r.value for r in roles]), *only(ItemCredit.credited_id)
        )
    parent = aliased(Item, name="parent")
    children = cast(
        Select[int, int],
        select(Item.id.label("item_id"), Item.parent_id.label("target_id"))
        .join(parent, parent.id == Item.parent_id)
        .where(no_index(parent.kind) == level, *only(Item.parent_id)),
    )
    if level in (Kind.ALBUM, Kind.SEASON, Kind.COMPETITION):
        return children
    if level in (Kind.SHOW, Kind.OUTLET):
        child, middle, grand = (
            aliased(Item, name="child"),
            aliased(Item, name="middle"),
            aliased(Item, name="grand"),
        )
        grandchildren = (
            select(child.id, middle.parent_id)
            .join(middle, middle.id == child.parent_id)
            .join(grand, grand.id == middle.parent_id)
            .where(
                no_index(middle.kind) == _MIDDLE[level],
                no_index(grand.kind) == level,
                *only(middle.parent_id),
            )
        )
        return children.union_all(grandchildren)  # type: ignore[return-value]  # a compound select
    raise UnsupportedLevel(f"There are no charts of {level}s.")


_MIDDLE = {Kind.SHOW: Kind.SEASON, Kind.OUTLET: Kind.PROGRAMME}


def _credited(role: CreditRole, play_item: Any) -> Target:
    credit = aliased(ItemCredit, name="credit")
    return Target(
        column=credit.credited_id,
        joins=[(credit, and_(credit.item_id == play_item, credit.role == role))],
    )
