"""The background refresher: re-evaluates materialised segments every few seconds in a thread.

The server starts one in its lifespan (``TASTEGRAPH_AUDIENCE_REFRESH_SECONDS``, 30 by default,
0 = off), so a rule segment is at most about a minute stale. Several server processes may each
run one: a refresh is a diff inside one transaction, so running it twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from tastegraph.periodic import Periodic


class Refresher(Periodic):
    """Calls ``job`` (re-evaluate the segments) every ``interval`` seconds until stopped."""

    def __init__(self, job: Callable[[], object], interval: float) -> None:
        super().__init__(
            job, interval, name="audience-refresher", failure="audience refresh failed"
        )
