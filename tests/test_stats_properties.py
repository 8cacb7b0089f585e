"""Every chart equals a brute-force recount of the play log (hypothesis, both backends).

Random play logs over a small catalogue are submitted through the HTTP API; the user's and the
site-wide charts at every level, in random windows, must equal a count done here in Python.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tastegraph.runtime import Runtime
from tastegraph.stats.rollups import Rollups, fold
from tests.conftest import Account

BASE = datetime(2024, 1, 1, tzinfo=UTC)

# (item description, {level: [titles the play counts for]})
CATALOGUE: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
    (
        {"kind": "track", "title": "One", "artist": "Alpha", "album": "First"},
        {"track": ["One"], "artist": ["Alpha"], "album": ["First"]},
    ),
    (
        {"kind": "track", "title": "Two", "artist": "Alpha feat. Beta", "album": "First"},
        {"track": ["Two"], "artist": ["Alpha"], "album": ["First"]},
    ),
    (
        {"kind": "track", "title": "Three", "artist": ["Beta", "Gamma"]},
        {"track": ["Three"], "artist": ["Beta", "Gamma"]},
    ),
    (
        {"kind": "track", "title": "Four", "artist": "Gamma", "album": "Second"},
        {"track": ["Four"], "artist": ["Gamma"], "album": ["Second"]},
    ),
    (
        {"kind": "episode", "show": "Show A", "season": 1, "episode": 1},
        {"episode": ["Show A S01E01"], "season": ["Show A – season 1"], "show": ["Show A"]},
    ),
    (
        {"kind": "episode", "show": "Show A", "season": 2, "episode": 1},
        {"episode": ["Show A S02E01"], "season": ["Show A – season 2"], "show": ["Show A"]},
    ),
    (
        {"kind": "episode", "show": "Show B", "episode": 5, "title": "Five"},
        {"episode": ["Five"], "show": ["Show B"]},
    ),
    (
        {
            "kind": "match",
            "competition": "League",
            "home": "Reds",
            "away": "Blues",
            "starts_at": "2024-03-02T15:00:00Z",
        },
        {"match": ["Reds – Blues"], "competition": ["League"], "team": ["Reds", "Blues"]},
    ),
    (
        {"kind": "story", "outlet": "Daily", "programme": "Morning", "title": "Story"},
        {"story": ["Story"], "outlet": ["Daily"]},
    ),
    ({"kind": "film", "title": "Film"}, {"film": ["Film"]}),
]
LEVELS = sorted({level for _, levels in CATALOGUE for level in levels})

plays_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(CATALOGUE) - 1),
        st.integers(min_value=0, max_value=90 * 24 * 60),  # minutes after BASE
        st.booleans(),  # incognito
    ),
    min_size=1,
    max_size=40,
)
window_strategy = st.tuples(
    st.integers(min_value=0, max_value=90 * 24), st.integers(min_value=1, max_value=90 * 24)
)

_names = count()
_logs_by_database: dict[int, list[list[tuple[int, int, bool]]]] = {}
"""Every user's log submitted to one database, for the site-wide recount."""


def _expected(
    log: list[tuple[int, int, bool]], level: str, start: datetime, end: datetime
) -> Counter[str]:
    seen: set[tuple[int, int]] = set()
    counts: Counter[str] = Counter()
    for index, minutes, incognito in log:
        if incognito or (index, minutes) in seen:
            continue  # incognito plays never count; the same item at the same time is one play
        seen.add((index, minutes))
        if start <= BASE + timedelta(minutes=minutes) < end:
            counts.update(CATALOGUE[index][1].get(level, []))
    return counts


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(log=plays_strategy, window=window_strategy, folded=st.booleans())
def test_user_charts_equal_a_recount(
    client: TestClient,
    runtime: Runtime,
    register: Any,
    log: list[tuple[int, int, bool]],
    window: tuple[int, int],
    folded: bool,
) -> None:
    user: Account = register(f"prop{next(_names)}", timezone="America/Sao_Paulo")
    plays = [
        {
            "played_at": (BASE + timedelta(minutes=minutes)).isoformat(),
            "item": CATALOGUE[index][0],
            "incognito": incognito,
        }
        for index, minutes, incognito in log
    ]
    response = client.post("/api/v1/plays/batch", json={"plays": plays}, headers=user.headers)
    assert response.status_code == 200, response.text
    if folded:  # site-wide charts from the rollups, else (partly) from the log
        fold(runtime.db)
    start = BASE + timedelta(hours=window[0])
    end = start + timedelta(hours=window[1])
    for level in LEVELS:
        chart = client.get(
            f"/api/v1/users/{user.name}/charts/{level}",
            params={"from": start.isoformat(), "to": end.isoformat(), "limit": 1000},
        ).json()
        got = Counter({e["item"]["title"]: e["plays"] for e in chart["entries"]})
        assert got == _expected(log, level, start, end), level
        ranks = [e["plays"] for e in chart["entries"]]
        assert ranks == sorted(ranks, reverse=True)
        assert chart["total"] == len(got)
    everyone = _logs_by_database.setdefault(id(client), [])
    everyone.append(log)
    for level in LEVELS:
        site = client.get(
            f"/api/v1/charts/{level}",
            params={"from": start.isoformat(), "to": end.isoformat(), "limit": 1000},
        ).json()
        expected: Counter[str] = Counter()
        for each in everyone:
            expected += _expected(each, level, start, end)
        assert Counter({e["item"]["title"]: e["plays"] for e in site["entries"]}) == expected
    overall = client.get(f"/api/v1/users/{user.name}/summary").json()
    assert overall["plays"] == sum(1 for _ in {(i, m) for i, m, incognito in log if not incognito})


# -- site-wide and geo charts of named periods, in time zones, folded or not ------------------

NOW = datetime.now(UTC).replace(microsecond=0)
PERIODS = [
    "7day",
    "1month",
    "3month",
    "6month",
    "12month",
    "overall",
    "this_week",
    "this_month",
    "this_year",
    "week",
    "month",
    "quarter",
    "half_yearly",
    "year",
]
ZONES = ["UTC", "Asia/Tokyo", "America/New_York", "Asia/Kolkata"]
SITE_LEVELS = ["artist", "album", "track", "show", "episode", "team"]
COUNTRIES = [None, "DE", "BR"]

history_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # listener
        st.integers(min_value=0, max_value=len(CATALOGUE) - 1),
        st.integers(min_value=1, max_value=600 * 24 * 60),  # minutes before now
        st.integers(min_value=0, max_value=2),  # the submission it arrives in
    ),
    min_size=1,
    max_size=60,
)
_geo_logs_by_database: dict[int, list[tuple[int, str | None, int, datetime]]] = {}
chart_strategy = st.lists(
    st.tuples(
        st.sampled_from(SITE_LEVELS),
        st.sampled_from(PERIODS),
        st.sampled_from(ZONES),
        st.sampled_from(COUNTRIES),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=history_strategy, charts=chart_strategy, folds=st.sets(st.integers(0, 2)))
def test_named_period_charts_equal_a_recount(  # noqa: PLR0912
    client: TestClient,
    runtime: Runtime,
    register: Any,
    history: list[tuple[int, int, int, int]],
    charts: list[tuple[str, str, str, str | None]],
    folds: set[int],
) -> None:
    """Plays, listeners and the number of items of site-wide and geo charts of every named
    period in several time zones, with some plays folded and some not, equal a count done
    here: the rollups' shortcuts (top items from head rows, listeners whose last play is in
    the window, a calendar bucket give or take its edges) change nothing."""
    batch = next(_names)
    people = [
        register(f"geo{batch}x{i}", country=country, timezone="UTC")
        for i, country in enumerate(["DE", "BR", None])
    ]
    countries = ["DE", "BR", None]
    # Every example's plays stay in the database: the site-wide count takes them all.
    logs = _geo_logs_by_database.setdefault(id(client), [])
    seen: set[tuple[int, int, datetime]] = set()
    for submission in range(3):
        for who in range(3):
            plays = []
            for listener, index, minutes, arrives in history:
                if arrives != submission or listener != who:
                    continue
                at = NOW - timedelta(minutes=minutes)
                plays.append({"played_at": at.isoformat(), "item": CATALOGUE[index][0]})
                if (listener, index, at) not in seen:
                    seen.add((listener, index, at))
                    logs.append((batch * 3 + listener, countries[listener], index, at))
            if plays:
                response = client.post(
                    "/api/v1/plays/batch", json={"plays": plays}, headers=people[who].headers
                )
                assert response.status_code == 200, response.text
        if submission in folds:
            fold(runtime.db)
    for level, period, zone, country in charts:
        params: dict[str, Any] = {"period": period, "tz": zone, "limit": 1000}
        if country is not None:
            params["country"] = country
        chart = client.get(f"/api/v1/charts/{level}", params=params).json()
        start = datetime.fromisoformat(chart["from"]) if chart["from"] else None
        end = datetime.fromisoformat(chart["to"])
        plays_of: Counter[str] = Counter()
        listeners_of: dict[str, set[int]] = {}
        for listener, home, index, at in logs:
            if country is not None and home != country:
                continue
            if (start is None or at >= start) and at < end:
                for title in CATALOGUE[index][1].get(level, []):
                    plays_of[title] += 1
                    listeners_of.setdefault(title, set()).add(listener)
        got = {e["item"]["title"]: (e["plays"], e["listeners"]) for e in chart["entries"]}
        expected = {t: (n, len(listeners_of[t])) for t, n in plays_of.items()}
        assert got == expected, (level, period, zone, country)
        assert chart["total"] == len(expected), (level, period, zone, country)
        order = [(-e["plays"], e["item"]["id"]) for e in chart["entries"]]
        assert order == sorted(order)
    # Beyond the database's own records of this test's earlier examples: a fold and the
    # check agree.
    fold(runtime.db)
    with runtime.db.unit_of_work() as session:
        assert Rollups(session).differences() == 0


# -- the rollups through several folds of plays that arrive out of order -----------------------

# A few moments, hours apart on days weeks apart: several listeners' plays of several items
# of one album or artist share days, months and years, so a later submission lands between
# a listener's counted plays, in buckets where they played another item of the level or not.
MOMENTS = st.builds(
    lambda day, hour: NOW - timedelta(days=day * 23, hours=hour),
    st.integers(min_value=0, max_value=15),
    st.integers(min_value=0, max_value=6),
)
arrivals_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=1),  # listener
        st.integers(min_value=0, max_value=3),  # a music track of the catalogue
        MOMENTS,
        st.integers(min_value=0, max_value=2),  # the submission it arrives in
    ),
    min_size=2,
    max_size=40,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(arrivals=arrivals_strategy, deleted=st.integers(min_value=0, max_value=39))
def test_the_rollups_equal_a_recount_after_every_fold(
    client: TestClient,
    runtime: Runtime,
    register: Any,
    arrivals: list[tuple[int, int, datetime, int]],
    deleted: int,
) -> None:
    """Plays arriving in three submissions, each folded, then one deleted: after each step
    every rollup row, pair and bucket total equals a recount of the log (``stats check``)."""
    batch = next(_names)
    people = [register(f"fold{batch}x{i}", country="DE") for i in range(2)]
    for submission in range(3):
        for who, person in enumerate(people):
            plays = [
                {"played_at": at.isoformat(), "item": CATALOGUE[index][0]}
                for listener, index, at, arrives in arrivals
                if arrives == submission and listener == who
            ]
            if plays:
                response = client.post(
                    "/api/v1/plays/batch", json={"plays": plays}, headers=person.headers
                )
                assert response.status_code == 200, response.text
        fold(runtime.db)
        with runtime.db.unit_of_work() as session:
            assert Rollups(session).differences() == 0, submission
    person = people[arrivals[deleted % len(arrivals)][0]]
    history = client.get(f"/api/v1/users/{person.name}/plays", params={"limit": 100}).json()[
        "plays"
    ]
    if history:
        gone = history[deleted % len(history)]["id"]
        response = client.delete(f"/api/v1/plays/{gone}", headers=person.headers)
        assert response.status_code == 204, response.text
        with runtime.db.unit_of_work() as session:
            assert Rollups(session).differences() == 0, "after the deletion"
