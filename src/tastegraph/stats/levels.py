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
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import FromClause, Select

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
    played = _ITEMS.alias("played")
    if level in CONSUMABLE:
        return Target(
            column=play_item,
            joins=[(played, played.c.id == play_item)],
            where=[played.c.kind == level],
        )
    if level is Kind.ARTIST:
        return _credited(CreditRole.MAIN, play_item)
    if level is Kind.TEAM:
        credit = _CREDITS.alias("credit")
        return Target(
            column=credit.c.credited_id,
            joins=[
                (
                    credit,
                    and_(
                        credit.c.item_id == play_item,
                        credit.c.role.in_((CreditRole.HOME, CreditRole.AWAY)),
                    ),
                )
            ],
        )
    if level in (Kind.ALBUM, Kind.SEASON, Kind.COMPETITION):
        parent = _ITEMS.alias("parent")
        return Target(
            column=parent.c.id,
            joins=[
                (played, played.c.id == play_item),
                (parent, and_(parent.c.id == played.c.parent_id, parent.c.kind == level)),
            ],
        )
    if level in (Kind.SHOW, Kind.OUTLET):
        middle = _MIDDLE[level]
        parent = _ITEMS.alias("parent")
        grand = _ITEMS.alias("grand")
        column = case(
            (parent.c.kind == level, parent.c.id),
            (and_(parent.c.kind == middle, grand.c.kind == level), grand.c.id),
            else_=literal(None),
        )
        return Target(
            column=column,
            joins=[
                (played, played.c.id == play_item),
                (parent, parent.c.id == played.c.parent_id),
            ],
            outer_joins=[(grand, grand.c.id == parent.c.parent_id)],
            where=[column.is_not(None)],
        )
    raise UnsupportedLevel(f"There are no charts of {level}s.")


def played_for(level: Kind, target_ids: Sequence[int] | Any) -> Select[int, int]:
    """(item_id, target_id): the items whose plays count for each of ``target_ids`` (items
    of ``level``; a list or a subquery of ids) — ``target_for`` read the other way, for
    looking plays up by item."""
    return children_of(level, lambda target: target.in_(target_ids))


def children_of(
    level: Kind,
    which: Callable[[Any], ColumnElement[bool]] | None = None,
    *,
    items_only: bool = False,
    outer: FromClause | None = None,
) -> Select[int, int]:
    """(item_id, target_id) for every played item and the item of ``level`` its plays count
    for (only the targets ``which(target column)`` picks, when given: the condition goes into
    every branch, where the indexes on parents and credits find the few rows).

    ``items_only``: the item ids alone, for ``Play.item_id.in_(...)``; ``outer``: the table of
    the enclosing statement whose column ``which`` names, to correlate to. Both are needed for
    that: a ``.subquery()`` (a table of its own in FROM) cannot correlate, and SQLAlchemy does
    not correlate a select nested two deep to the table an UPDATE or DELETE changes; either
    way the select would join every row of that table instead of the one at hand."""

    def only(target: Any) -> list[ColumnElement[bool]]:
        return [] if which is None else [which(target)]

    def pick(item: Any, target: Any) -> Select[Any]:
        picked = (
            select(item.label("item_id"))
            if items_only
            else select(item.label("item_id"), target.label("target_id"))
        )
        return picked if outer is None else picked.correlate(outer)

    if level in CONSUMABLE:  # a chart's items of the level are of that kind
        return pick(Item.id, Item.id).where(no_index(Item.kind) == level, *only(Item.id))
    if level in (Kind.ARTIST, Kind.TEAM):
        roles = (CreditRole.MAIN,) if level is Kind.ARTIST else (CreditRole.HOME, CreditRole.AWAY)
        return pick(ItemCredit.item_id, ItemCredit.credited_id).where(
            no_index(ItemCredit.role).in_([r.value for r in roles]), *only(ItemCredit.credited_id)
        )
    parent = _ITEMS.alias("parent")
    children = cast(
        Select[int, int],
        pick(Item.id, Item.parent_id)
        .join(parent, parent.c.id == Item.parent_id)
        .where(no_index(parent.c.kind) == level, *only(Item.parent_id)),
    )
    if level in (Kind.ALBUM, Kind.SEASON, Kind.COMPETITION):
        return children
    if level in (Kind.SHOW, Kind.OUTLET):
        child, middle, grand = (
            _ITEMS.alias("child"),
            _ITEMS.alias("middle"),
            _ITEMS.alias("grand"),
        )
        grandchildren = (
            pick(child.c.id, middle.c.parent_id)
            .join(middle, middle.c.id == child.c.parent_id)
            .join(grand, grand.c.id == middle.c.parent_id)
            .where(
                no_index(middle.c.kind) == _MIDDLE[level],
                no_index(grand.c.kind) == level,
                *only(middle.c.parent_id),
            )
        )
        return children.union_all(grandchildren)  # type: ignore[return-value]  # a compound select
    raise UnsupportedLevel(f"There are no charts of {level}s.")


_MIDDLE = {Kind.SHOW: Kind.SEASON, Kind.OUTLET: Kind.PROGRAMME}
_ITEMS = Item.__table__
_CREDITS = ItemCredit.__table__
"""Aliased as tables, not ORM classes: a chart builds several of these per request."""


def _credited(role: CreditRole, play_item: Any) -> Target:
    credit = _CREDITS.alias("credit")
    return Target(
        column=credit.c.credited_id,
        joins=[(credit, and_(credit.c.item_id == play_item, credit.c.role == role))],
    )
