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

from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, literal
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql import Select

from tastegraph.catalog.kinds import CONSUMABLE, CreditRole, Kind
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.ingest.models import Play
from tastegraph.stats.errors import UnsupportedLevel

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


def target_for(level: Kind) -> Target:
    played = aliased(Item, name="played")
    if level in CONSUMABLE:
        return Target(
            column=Play.item_id,
            joins=[(played, played.id == Play.item_id)],
            where=[played.kind == level],
        )
    if level is Kind.ARTIST:
        return _credited(CreditRole.MAIN)
    if level is Kind.TEAM:
        credit = aliased(ItemCredit, name="credit")
        return Target(
            column=credit.credited_id,
            joins=[
                (
                    credit,
                    and_(
                        credit.item_id == Play.item_id,
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
                (played, played.id == Play.item_id),
                (parent, and_(parent.id == played.parent_id, parent.kind == level)),
            ],
        )
    if level in (Kind.SHOW, Kind.OUTLET):
        middle = Kind.SEASON if level is Kind.SHOW else Kind.PROGRAMME
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
                (played, played.id == Play.item_id),
                (parent, parent.id == played.parent_id),
            ],
            outer_joins=[(grand, grand.id == parent.parent_id)],
            where=[column.is_not(None)],
        )
    raise UnsupportedLevel(f"There are no charts of {level}s.")


def _credited(role: CreditRole) -> Target:
    credit = aliased(ItemCredit, name="credit")
    return Target(
        column=credit.credited_id,
        joins=[(credit, and_(credit.item_id == Play.item_id, credit.role == role))],
    )
