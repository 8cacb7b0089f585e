from __future__ import annotations

from tastegraph.catalog.models import Item
from tastegraph.catalog.schemas import ItemBrief
from tastegraph.catalog.services import item_url


def brief(item: Item) -> ItemBrief:
    return ItemBrief(id=item.id, kind=item.kind, title=item.title, url=item_url(item.id))
