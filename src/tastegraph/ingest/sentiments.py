"""A person's current feedback on given items (love, hate, not interested, bad
recommendation), for pages that show it beside the items."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from tastegraph.ingest.models import Feedback, Sentiment


def sentiments_of(
    session: Session, user_id: int, item_ids: Collection[int]
) -> dict[int, Sentiment]:
    """item id -> the user's sentiment, for the items they gave feedback on."""
    if not item_ids:
        return {}
    rows = session.execute(
        select(Feedback.item_id, Feedback.sentiment).where(
            Feedback.user_id == user_id, Feedback.item_id.in_(list(item_ids))
        )
    )
    return {int(item_id): sentiment for item_id, sentiment in rows}
