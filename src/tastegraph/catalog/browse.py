"""How items hang together, for item pages: what is under an item (the seasons of a show, the
tracks of an album) and what credits it (an artist's albums and tracks, a team's matches)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tastegraph.catalog.kinds import CreditRole, Kind
from tastegraph.catalog.models import Item, ItemCredit
from tastegraph.storage.dialect import no_index

MAX_DEPTH = 4


@dataclass(frozen=True)
class Related:
    """Items of one kind related to an item, at most ``limit`` of them, and how many there are."""

    kind: Kind
    items: list[Item]
    total: int


class CatalogBrowser:
    """Reads only; works inside the caller's unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def ancestors(self, item: Item) -> list[Item]:
        """What ``item`` hangs under, the top first: the show and season of an episode."""
        chain: list[Item] = []
        node = item
        while node.parent_id is not None and len(chain) < MAX_DEPTH:
            parent = self.session.get(Item, node.parent_id)
            if parent is None:
                break
            chain.append(parent)
            node = parent
        return chain[::-1]

    def children(self, item: Item, *, limit: int = 50) -> list[Related]:
        """The items under ``item``, one or two levels down, per kind: a show's seasons and
        episodes, an album's tracks, an outlet's programmes and stories, a competition's
        matches; numbered ones in order, then by release, then by title."""
        # Not through the index on merged_into_id (SQLite would): nearly every item is canonical.
        canonical = no_index(Item.merged_into_id).is_(None)
        direct = list(
            self.session.scalars(select(Item.id).where(Item.parent_id == item.id, canonical))
        )
        # Two lookups by parent (an index each) rather than one OR, which SQLite scans.
        groups: dict[Kind, Related] = {}
        for parents in ([item.id], direct):
            if not parents:
                continue
            under = Item.parent_id.in_(parents)
            counts = self.session.execute(
                select(Item.kind, func.count()).where(under, canonical).group_by(Item.kind)
            ).all()
            for kind, count in counts:
                rows = list(
                    self.session.scalars(
                        select(Item)
                        .where(under, Item.kind == kind, canonical)
                        .order_by(
                            Item.number.is_(None),
                            Item.number,
                            Item.released_at.is_(None),
                            Item.released_at,
                            Item.title,
                            Item.id,
                        )
                        .limit(limit)
                    )
                )
                total = int(count)
                known = groups.get(kind)
                if known is not None:
                    rows = (known.items + rows)[:limit]
                    total += known.total
                groups[kind] = Related(kind=kind, items=rows, total=total)
        return sorted(groups.values(), key=lambda g: list(Kind).index(g.kind))

    def credited(
        self, item: Item, *, limit: int = 200, roles: tuple[CreditRole, ...] | None = None
    ) -> list[Related]:
        """The items that credit ``item`` (an artist's albums and tracks, a team's matches, a
        director's films), per kind, newest first."""
        # Not through the index on merged_into_id (SQLite would): nearly every item is canonical.
        canonical = no_index(Item.merged_into_id).is_(None)
        base = (
            select(Item)
            .join(ItemCredit, ItemCredit.item_id == Item.id)
            .where(ItemCredit.credited_id == item.id, canonical)
        )
        if roles is not None:
            base = base.where(ItemCredit.role.in_(roles))
        counts = self.session.execute(
            select(Item.kind, func.count())
            .join(ItemCredit, ItemCredit.item_id == Item.id)
            .where(
                ItemCredit.credited_id == item.id,
                canonical,
                *([ItemCredit.role.in_(roles)] if roles is not None else []),
            )
            .group_by(Item.kind)
        ).all()
        out = []
        for kind, total in sorted(counts, key=lambda row: list(Kind).index(row[0])):
            rows = self.session.scalars(
                base.where(Item.kind == kind)
                .order_by(Item.released_at.is_(None), Item.released_at.desc(), Item.id.desc())
                .limit(limit)
            )
            out.append(Related(kind=kind, items=list(rows), total=int(total)))
        return out
