"""Frequency caps as counter fields: tumbling windows aligned to UNIX time.

A cap "N impressions per W seconds" for line item L counts, for each viewer, in the field
``L:W:floor(now / W)``: each window gets a fresh field, so nothing has to be reset, and old
fields die with the viewer's key (adtech.md §3.3, "tumbling windows in a hash"). The field is
needed only until its window ends, which is what the key's time to live is set to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CapRule:
    field: str
    limit: int
    ttl: int
    """Seconds until this window ends (plus a minute), for the viewer key's expiry."""


def cap_rules(line_item_id: int, caps: Iterable[tuple[int, int]], now: int) -> tuple[CapRule, ...]:
    """The counter fields a line item's caps ``(impressions, window_seconds)`` use at ``now``
    (UNIX seconds)."""
    rules = []
    for limit, window in caps:
        index = now // window
        rules.append(
            CapRule(
                field=f"{line_item_id}:{window}:{index}",
                limit=limit,
                ttl=(index + 1) * window - now + 60,
            )
        )
    return tuple(rules)
