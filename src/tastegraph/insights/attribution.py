"""Ad delivery attributed to the item it was served in or around.

The ads area counts an impression once (``ads/beacons.py``) into ``ad_delivery``, keyed by day,
line item, creative, placement, segment, country, kind of targeting and viewer, but not by
*what the viewer was watching*. A title's revenue needs exactly that, so every counted
impression or click of a decision made for an item is also added here, keyed by the same day,
line item, placement, targeting and country and by the context item, in the same transaction
as the beacon's own row: both count the same events, once.

``count`` is the hook: call it after ``record_impression`` / ``record_click`` returned True
(the beacon counted), with the decision's token and the ``item_id`` of the ad request.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tastegraph.ads.tokens import AdToken
from tastegraph.insights.models import TitleAdDelivery

_KEY = ("day", "item_id", "line_item_id", "placement_id", "mode", "country")


def count(
    session: Session,
    token: AdToken,
    item_id: int,
    *,
    impressions: int = 0,
    clicks: int = 0,
    spend_micros: int | None = None,
) -> None:
    """Add one counted beacon of ``token``, served around ``item_id``.

    ``spend_micros`` defaults to what the beacon charges: the impression's price for a CPM
    line item (``impressions`` = 1), the click's price for a CPC one (``clicks`` = 1)."""
    if spend_micros is None:
        per_click = token.price_micros if token.cpc else 0
        spend_micros = impressions * token.impression_cost + clicks * per_click
    day = token.day
    values: dict[str, Any] = {
        "day": date(int(day[:4]), int(day[4:6]), int(day[6:8])),
        "item_id": item_id,
        "line_item_id": token.line_item_id,
        "placement_id": token.placement_id,
        "mode": token.mode,
        "country": token.country,
        "campaign_id": token.campaign_id,
        "advertiser_id": token.advertiser_id,
        "impressions": impressions,
        "clicks": clicks,
        "spend_micros": spend_micros,
    }
    dialect = session.get_bind().dialect.name
    insert: Any = (
        postgresql.insert(TitleAdDelivery)
        if dialect == "postgresql"
        else sqlite.insert(TitleAdDelivery)
    )
    statement = insert.values(**values)
    excluded = statement.excluded
    session.execute(
        statement.on_conflict_do_update(
            index_elements=list(_KEY),
            set_={
                "impressions": TitleAdDelivery.impressions + excluded.impressions,
                "clicks": TitleAdDelivery.clicks + excluded.clicks,
                "spend_micros": TitleAdDelivery.spend_micros + excluded.spend_micros,
            },
        )
    )
