"""How SQLite plans a geo chart's statements on the play log.

A geo chart looks up the plays of a window's edge hours (and, for a past period in another
zone, their listeners; for any other window, everything it sums from the log) joined to the
listener's country. SQLite, left to itself, may start
from the country's people and look each one's plays up by user (once per item of a 1,000-item
chunk, for the listeners): at 5M plays a year of one country's shows took 7 s that way. The
statements name the play's user through ``no_index``, so the only way in is from the plays.
These tests ask SQLite for its plan of every such statement a chart runs.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from tastegraph.catalog.kinds import Kind
from tastegraph.runtime import Runtime
from tastegraph.stats.periods import Period, Window, resolve
from tastegraph.stats.services import StatsService
from tests.conftest import Account, play, track
from tests.test_stats_rollups import NOW, _fold, _random_plays, _submit, _ts

PLAYS_BY_USER = re.compile(r"SEARCH plays USING .*\(user_id=")


def _statements_of(runtime: Runtime, chart: Any) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM plays JOIN users" in statement:
            seen.append((statement, params))

    event.listen(runtime.db.engine, "before_cursor_execute", record)
    try:
        with runtime.db.unit_of_work() as session:
            chart(session)
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", record)
    return seen


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_geo_charts_reach_listeners_from_the_plays(
    client: TestClient, runtime: Runtime, alice: Account, register: Any
) -> None:
    people = [alice, register("bob", country="DE", timezone="Europe/Berlin")]
    for n in range(30):  # enough people in the country that starting from them looks cheap
        register(f"de{n}", country="DE", timezone="Europe/Berlin")
    rng = random.Random(5)
    for account in people:
        _submit(client, account, _random_plays(rng, 200, 400))
    # Artists with many tracks: a chart of artists asks the log about all of their tracks.
    catalogue = [track(f"Song {n}", f"Band {n % 10}") for n in range(600)]
    for account in people:
        _submit(client, account, [play(_ts(rng.uniform(0.01, 400)), song) for song in catalogue])
    _fold(runtime)
    # A past year in Berlin is the UTC year shifted by an hour: its listeners at both ends
    # come from the log. A month to now starts inside a UTC day: raw plays at that edge.
    # A window of neither kind (hours off at both ends, in the past) is summed in full.
    custom = Window(NOW - timedelta(days=45, hours=7), NOW - timedelta(days=10, hours=8), "UTC")
    windows = [
        resolve(Period.YEAR, "Europe/Berlin", NOW),
        resolve(Period.MONTH_1, "UTC", NOW),
        custom,
    ]
    checked = 0
    for window in windows:
        for level in (Kind.TRACK, Kind.ARTIST):

            def chart(session: Any, level: Kind = level, window: Any = window) -> None:
                StatsService(session).counted_site_chart(level, window, "DE", 50, 0, True)

            for statement, params in _statements_of(runtime, chart):
                with runtime.db.engine.connect() as conn:
                    plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
                details = [str(row[-1]) for row in plan]
                assert not any(PLAYS_BY_USER.search(d) for d in details), (statement, details)
                checked += 1
    assert checked >= 6
