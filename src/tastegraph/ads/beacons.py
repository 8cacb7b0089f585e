"""Impression, click and loss beacons that count once, however often they are replayed.

Each beacon first inserts ``(token id, kind)`` into ``ad_beacons`` with
``INSERT ... ON CONFLICT DO NOTHING RETURNING``: only the request whose row went in counts, in
the same transaction as the delivery row it adds (``ad_delivery``). Two processes replaying
the same beacon at the same moment cannot both count it: the database's unique key decides.

* Impression: counts one impression and, for CPM line items, its price (the CPM bid / 1,000,
  already reserved from the budget when the decision was made), and adds the viewer to the
  cell's reach sketch of the day (ads/reach.py).
* Click: counts one click; for CPC line items it charges the click to the campaign's budget
  through the shared counters, cut short so that the budget is never exceeded.
* Loss (OpenRTB ``lurl``): takes the impression's place, so a later impression cannot count,
  and gives the reservation (caps and budget) back.

Impressions and clicks count for the UTC day of the decision, as the budget did.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tastegraph.ads.capping import cap_rules
from tastegraph.ads.counters import Budget, Reservation
from tastegraph.ads.decision import AdEngine
from tastegraph.ads.models import AdBeacon, AdDelivery, Campaign, LineItem
from tastegraph.ads.sketch import hash64
from tastegraph.ads.tokens import AdToken
from tastegraph.storage.dialect import insert_or_ignore

_KEY = (
    "day",
    "line_item_id",
    "creative_id",
    "placement_id",
    "segment_id",
    "country",
    "mode",
    "viewer",
)


def _first(session: Session, token_id: str, kind: str, now: datetime) -> bool:
    statement = (
        insert_or_ignore(session, AdBeacon.__table__)
        .values(token_id=token_id, kind=kind, at=now)
        .returning(AdBeacon.__table__.c.token_id)
    )
    return session.execute(statement).first() is not None


def _day(token: AdToken) -> date:
    return date(int(token.day[:4]), int(token.day[4:6]), int(token.day[6:8]))


def viewer_of(token: AdToken) -> str:
    """The viewer an impression counts for; a request without any viewer id is a viewer of
    its own."""
    return token.viewer or f"~{token.token_id}"


def sampled(viewer: str, frequency_sample: int) -> bool:
    """Whether a viewer is in the frequency sample: one in ``frequency_sample`` by hash, the
    same viewers in every cell and on every day."""
    return frequency_sample <= 1 or hash64(viewer) % frequency_sample == 0


def add_delivery(
    session: Session,
    token: AdToken,
    *,
    impressions: int,
    clicks: int,
    spend: int,
    frequency_sample: int = 1,
) -> None:
    """Add to the delivery row of this token's day, line item, creative, placement, segment,
    country, targeting and viewer (an upsert: concurrent writers add up). Viewers outside
    the frequency sample add to the row whose viewer is ''."""
    viewer = viewer_of(token)
    values: dict[str, Any] = {
        "day": _day(token),
        "line_item_id": token.line_item_id,
        "creative_id": token.creative_id,
        "placement_id": token.placement_id,
        "segment_id": token.segment_id,
        "country": token.country,
        "mode": token.mode,
        "viewer": viewer if sampled(viewer, frequency_sample) else "",
        "campaign_id": token.campaign_id,
        "advertiser_id": token.advertiser_id,
        "impressions": impressions,
        "clicks": clicks,
        "spend_micros": spend,
    }
    dialect = session.get_bind().dialect.name
    insert: Any = (
        postgresql.insert(AdDelivery) if dialect == "postgresql" else sqlite.insert(AdDelivery)
    )
    statement = insert.values(**values)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={
            "impressions": AdDelivery.impressions + excluded.impressions,
            "clicks": AdDelivery.clicks + excluded.clicks,
            "spend_micros": AdDelivery.spend_micros + excluded.spend_micros,
        },
    )
    session.execute(statement)


def record_impression(session: Session, engine: AdEngine, token: AdToken, now: datetime) -> bool:
    """Count the impression of ``token`` unless it was counted (or lost) before."""
    if not _first(session, token.token_id, "imp", now):
        return False
    add_delivery(
        session,
        token,
        impressions=1,
        clicks=0,
        spend=token.impression_cost,
        frequency_sample=engine.frequency_sample,
    )
    engine.reach.add(session, token, _day(token), viewer_of(token))
    return True


def record_click(session: Session, engine: AdEngine, token: AdToken, now: datetime) -> bool:
    """Count the click of ``token`` unless it was counted before; charge CPC line items."""
    if not _first(session, token.token_id, "click", now):
        return False
    spend = 0
    if token.cpc:
        total_limit, day_limit = _budgets(session, engine, token)
        charged = engine.counters.charge(
            token.campaign_id, token.day, token.price_micros, total_limit, day_limit
        )
        if charged is None:
            seed = engine.seed(token.campaign_id, token.day)
            charged = engine.counters.charge(
                token.campaign_id, token.day, token.price_micros, total_limit, day_limit, seed
            )
        spend = charged or 0
    add_delivery(
        session,
        token,
        impressions=0,
        clicks=1,
        spend=spend,
        frequency_sample=engine.frequency_sample,
    )
    return True


def record_loss(session: Session, engine: AdEngine, token: AdToken, now: datetime) -> bool:
    """An OpenRTB loss notice: the bid did not win, so its reservation is given back."""
    if not _first(session, token.token_id, "imp", now):
        return False  # the impression came first (or the loss was already counted)
    _first(session, token.token_id, "loss", now)
    li = engine.index().by_id.get(token.line_item_id)
    caps = li.caps if li is not None else ()
    rules = cap_rules(token.line_item_id, caps, token.issued_at) if token.viewer else ()
    budget = None
    if not token.cpc and token.impression_cost:
        budget = Budget(token.campaign_id, token.day, token.impression_cost, None, None, None)
    engine.give_back(Reservation(viewer=token.viewer or None, caps=rules, budget=budget))
    return True


def _budgets(session: Session, engine: AdEngine, token: AdToken) -> tuple[int | None, int | None]:
    li = engine.index().by_id.get(token.line_item_id)
    if li is not None:
        return li.total_budget, li.daily_budget
    row = session.execute(
        select(Campaign.total_budget_micros, Campaign.daily_budget_micros)
        .join(LineItem, LineItem.campaign_id == Campaign.id)
        .where(LineItem.id == token.line_item_id)
    ).first()
    return (row[0], row[1]) if row is not None else (0, 0)
