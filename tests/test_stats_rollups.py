"""The chart rollups stay equal to the play log through every change, on both backends.

Site-wide and geo charts are read from the rollups (with raw plays at a window's edges);
after plays, a back-dated import, a deletion, catalogue merges, a track learning its album, a
cancelled check-in and a user moving country, every chart through the HTTP API must equal a
count of the raw play log, and the rollups a recount of it.
"""

from __future__ import annotations

import importlib.util
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.config import Settings
from tastegraph.ingest.models import Play
from tastegraph.runtime import Runtime
from tastegraph.stats.levels import target_for
from tastegraph.stats.models import SITE, ChartCount, ChartSize, CountryChartCount, Grain
from tastegraph.stats.rollups import Rollups, fold, pending
from tastegraph.stats.spans import Extent, day_number, month_number, plan, year_of
from tastegraph.web.app import create_app
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.conftest import Account, play, track

NOW = datetime.now(UTC).replace(microsecond=0)


def _ts(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


def _submit(client: TestClient, account: Account, plays: list[Any]) -> list[Any]:
    response = client.post("/api/v1/plays/batch", json={"plays": plays}, headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0, response.text
    return list(response.json()["results"])


EVERYTHING = [
    track("Halo", "Beyoncé", album="I Am... Sasha Fierce"),
    track("Drunk in Love", "Beyoncé feat. JAY-Z", album="BEYONCÉ"),
    track("99 Problems", "JAY-Z", album="The Black Album"),
    track("Crazy in Love", ["Beyoncé", "JAY-Z"]),
    {"kind": "episode", "show": "Borgen", "season": 1, "episode": 1},
    {"kind": "episode", "show": "Borgen", "season": 2, "episode": 3},
    {"kind": "episode", "show": "Dark", "episode": 1, "title": "Secrets"},
    {"kind": "film", "title": "Amélie", "year": 2001},
    {
        "kind": "match",
        "competition": "Bundesliga",
        "home": "FC Bayern",
        "away": "BVB",
        "starts_at": "2024-03-02T15:00:00Z",
    },
    {"kind": "story", "outlet": "NHK", "programme": "News 7", "title": "台風"},
    {"kind": "story", "outlet": "NHK", "title": "地震"},
    {"kind": "programme", "outlet": "NHK", "title": "News 7"},
]

CHART_PARAMS: list[dict[str, str]] = [
    {"period": "overall"},
    {"period": "7day"},
    {"period": "12month"},
    {"period": "this_month", "tz": "Asia/Kolkata"},  # a half-hour offset: raw edges
    {"period": "year", "tz": "Asia/Tokyo"},
    {"period": "week", "tz": "America/Sao_Paulo"},
    {"period": "3month", "country": "BR"},
    {"period": "overall", "country": "DE"},
]


def _random_plays(rng: random.Random, count: int, max_days: float) -> list[Any]:
    return [
        play(
            _ts(rng.uniform(0.01, max_days)),
            rng.choice(EVERYTHING),
            incognito=rng.random() < 0.15,
        )
        for _ in range(count)
    ]


def _recount(
    runtime: Runtime, level: Kind, start: datetime | None, end: datetime, country: str | None
) -> dict[int, tuple[int, int]]:
    """Plays and listeners per item, counted from the raw log the way charts always were."""
    target = target_for(level)
    stmt = target.apply(
        select(target.column, func.count(), func.count(Play.user_id.distinct())).select_from(Play)
    ).where(Play.played_at < end)
    if start is not None:
        stmt = stmt.where(Play.played_at >= start)
    if country is not None:
        stmt = stmt.where(Play.user_id.in_(select(User.id).where(User.country == country)))
    with runtime.db.unit_of_work() as session:
        rows = session.execute(stmt.group_by(target.column)).all()
    return {item_id: (plays, listeners) for item_id, plays, listeners in rows}


QUICK = (Kind.TRACK, Kind.ARTIST, Kind.ALBUM)


def _assert_exact(
    client: TestClient, runtime: Runtime, *, full: bool = False, check: bool = True
) -> None:
    """The rollups equal a recount (unless not ``check``), and so do the charts (every level
    and period if ``full``; music levels in three periods otherwise)."""
    if check:
        with runtime.db.unit_of_work() as session:
            assert Rollups(session).differences() == 0
    for level in Kind if full else QUICK:
        for params in CHART_PARAMS if full else [CHART_PARAMS[i] for i in (1, 3, 6)]:
            assert_chart_exact(client, runtime, level, params, limit=1000)


def assert_chart_exact(
    client: TestClient, runtime: Runtime, level: Kind, params: dict[str, str], *, limit: int
) -> None:
    """The chart through the API equals a recount of the log: every item's plays and
    listeners, how many items, and the order."""
    response = client.get(f"/api/v1/charts/{level.value}", params={**params, "limit": limit})
    assert response.status_code == 200, response.text
    chart = response.json()
    start = datetime.fromisoformat(chart["from"]) if chart["from"] else None
    end = datetime.fromisoformat(chart["to"])
    expected = _recount(runtime, level, start, end, params.get("country"))
    got = {e["item"]["id"]: (e["plays"], e["listeners"]) for e in chart["entries"]}
    assert got == expected, (level, params)
    assert chart["total"] == len(expected)
    order = [(-e["plays"], e["item"]["id"]) for e in chart["entries"]]
    assert order == sorted(order)


def _fold(runtime: Runtime) -> None:
    fold(runtime.db)
    with runtime.db.unit_of_work() as session:
        assert pending(session) == 0


def test_rollups_follow_every_change(
    client: TestClient, runtime: Runtime, alice: Account, register: Any, admin: Account
) -> None:
    rng = random.Random(7)
    bob = register("bob", country="BR", timezone="America/Sao_Paulo")
    carol = register("carol")  # no country: counts site-wide only
    for who in (alice, bob, carol):
        _submit(client, who, _random_plays(rng, 40, 60))
    _assert_exact(client, runtime, full=True)  # (some or all of it) counted from the log
    _fold(runtime)
    _assert_exact(client, runtime, full=True)  # from the rollups

    # A back-dated import: last year's history arrives at once.
    _submit(client, bob, _random_plays(rng, 60, 800))
    _assert_exact(client, runtime)
    _fold(runtime)

    # A deletion (and one of an incognito play, which never counted).
    history = client.get("/api/v1/users/bob/plays", params={"limit": 5}).json()["plays"]
    gone = client.delete(f"/api/v1/plays/{history[2]['id']}", headers=bob.headers)
    assert gone.status_code == 204
    _assert_exact(client, runtime)

    # Merges: a misspelt artist with its own track, then the tracks themselves.
    wrong = _submit(client, alice, [play(_ts(3), track("Halo", "Beyonce Knowles"))])[0]["item_id"]
    right = _submit(client, bob, [play(_ts(3), track("Halo", "Beyoncé"))])[0]["item_id"]
    _fold(runtime)
    _submit(client, carol, [play(_ts(2), track("Halo", "Beyonce Knowles", album="Live"))])
    _assert_exact(client, runtime)
    credits = {
        item_id: client.get(f"/api/v1/items/{item_id}").json()["credits"][0]["id"]
        for item_id in (wrong, right)
    }
    merged = client.post(
        f"/api/v1/items/{credits[wrong]}/merge",
        json={"into": credits[right]},
        headers=admin.headers,
    )
    assert merged.status_code == 200, merged.text
    _assert_exact(client, runtime)
    _fold(runtime)
    merged = client.post(
        f"/api/v1/items/{wrong}/merge", json={"into": right}, headers=admin.headers
    )
    assert merged.status_code == 200, merged.text
    _assert_exact(client, runtime)

    # A track played without its album learns it: its earlier plays count for the album.
    _submit(
        client,
        alice,
        [play(_ts(5), track("Solo", "Nobody")), play(_ts(4), track("Solo", "Nobody"))],
    )
    _fold(runtime)
    _submit(client, carol, [play(_ts(1), track("Solo", "Nobody", album="Alone"))])
    album_chart = client.get("/api/v1/charts/album", params={"period": "7day"}).json()
    assert {e["item"]["title"]: e["plays"] for e in album_chart["entries"]}["Alone"] == 3
    _assert_exact(client, runtime)

    # A cancelled check-in takes its play away again.
    film = {"kind": "film", "title": "Checked In", "year": 2020, "duration": 6000}
    checked_in = client.post("/api/v1/checkin", json={"item": film}, headers=alice.headers)
    assert checked_in.status_code == 201
    _fold(runtime)
    assert client.delete("/api/v1/checkin", headers=alice.headers).status_code == 204
    _assert_exact(client, runtime)

    # Moving country takes one's plays to the new country's charts.
    moved = client.patch("/api/v1/me", json={"country": "BR"}, headers=alice.headers)
    assert moved.status_code == 200, moved.text
    _assert_exact(client, runtime)
    client.patch("/api/v1/me", json={"country": None}, headers=bob.headers)
    _assert_exact(client, runtime, full=True)


def test_incognito_plays_never_reach_the_rollups(
    client: TestClient, runtime: Runtime, alice: Account
) -> None:
    _submit(client, alice, [play(_ts(1), track("Secret", "A"), incognito=True)])
    _fold(runtime)
    with runtime.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(ChartCount)) == 0
        assert session.scalar(select(func.count()).select_from(CountryChartCount)) == 0
    assert client.get("/api/v1/charts/track", params={"period": "7day"}).json()["entries"] == []
    _submit(client, alice, [play(_ts(1), track("Public", "A"))])
    _fold(runtime)
    with runtime.db.unit_of_work() as session:
        grains = set(session.scalars(select(ChartCount.grain).distinct()))
        geo = session.scalar(select(func.count()).select_from(CountryChartCount))
    assert grains == set(Grain)
    assert geo == 2 * len(Grain)  # the track and its artist, in Germany


def test_fresh_at_once_and_in_local_periods(
    client: TestClient, runtime: Runtime, alice: Account
) -> None:
    # A play accepted now shows in the site-wide charts of the very next request.
    _submit(client, alice, [play(int(NOW.timestamp()) - 1, track("Now", "Band"))])
    chart = client.get(
        "/api/v1/charts/track", params={"period": "this_week", "tz": "Asia/Kathmandu"}
    )
    assert [e["item"]["title"] for e in chart.json()["entries"]] == ["Now"]
    _assert_exact(client, runtime)


def test_the_server_folds_in_the_background(settings: Settings, runtime: Runtime) -> None:
    app = create_app(settings.model_copy(update={"stats_fold_seconds": 0.1}), runtime=runtime)
    with TestClient(app) as live:
        response = live.post(
            "/api/v1/auth/register", json={"name": "dana", "password": "correct horse"}
        )
        dana = Account("dana", response.json()["token"])
        _submit(live, dana, _random_plays(random.Random(5), 30, 100))
        deadline = time.monotonic() + 20
        while app.state.chart_folder.folded == 0:
            assert time.monotonic() < deadline, "the folder did not fold"
            time.sleep(0.05)
        with runtime.db.unit_of_work() as session:
            assert pending(session) == 0
        _assert_exact(live, runtime)
    assert app.state.chart_folder._thread is None  # stopped with the app


def test_rebuild_and_check_commands(
    client: TestClient, runtime: Runtime, alice: Account, database_url: str
) -> None:
    _submit(client, alice, _random_plays(random.Random(3), 30, 400))
    env = dev_env(database_url)
    folded = invoke(["stats", "fold"], env)
    assert_clean_exit(folded, 0)
    assert "plays folded" in folded.stdout
    checked = invoke(["stats", "check"], env)
    assert "0 plays not folded yet" in checked.stdout
    assert "equal a recount" in checked.stdout
    with runtime.db.unit_of_work(write=True) as session:
        session.execute(delete(ChartCount).where(ChartCount.grain == Grain.MONTH))
    broken = invoke(["stats", "check"], env)
    assert broken.exit_code == 1
    assert "stats rebuild" in broken.stdout
    rebuilt = invoke(["stats", "rebuild"], env)
    assert_clean_exit(rebuilt, 0)
    assert "rollups rebuilt" in rebuilt.stdout
    assert_clean_exit(invoke(["stats", "check"], env), 0)
    _assert_exact(client, runtime)
    # From nothing (a first build: PostgreSQL builds the indexes at the end).
    with runtime.db.unit_of_work(write=True) as session:
        for model in (ChartCount, CountryChartCount):
            session.execute(delete(model))
    assert_clean_exit(invoke(["stats", "rebuild"], env), 0)
    assert_clean_exit(invoke(["stats", "check"], env), 0)
    _assert_exact(client, runtime)


def test_migration_recounts_the_plays_already_logged(
    client: TestClient, runtime: Runtime, alice: Account, register: Any
) -> None:
    """The migration that added listeners to the rollups drops what they counted: charts
    read the log meanwhile, and a fold counts it all again."""
    bob = register("bob", country="BR")
    rng = random.Random(11)
    _submit(client, alice, _random_plays(rng, 50, 500))
    _submit(client, bob, _random_plays(rng, 50, 500))
    _fold(runtime)
    path = next(
        Path(__file__).parents[1].glob("src/tastegraph/migrations/versions/*_chart_listeners.py")
    )
    spec = importlib.util.spec_from_file_location("chart_listeners_migration", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    tables = ("chart_counts", "country_chart_counts", "chart_sizes", "chart_pairs")
    with (
        runtime.db.engine.begin() as connection,
        Operations.context(MigrationContext.configure(connection)),
    ):
        migration._reset(tables)
    with runtime.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(ChartCount)) == 0
        assert pending(session) == session.scalar(select(func.count()).select_from(Play)) > 0
    _assert_exact(client, runtime)
    _fold(runtime)
    _assert_exact(client, runtime)


# -- the window planner, without a database -------------------------------------------------


def _bucket_of(grain: Grain, moment: datetime) -> int:
    day = day_number(moment)
    return {Grain.DAY: day, Grain.MONTH: month_number(day), Grain.YEAR: year_of(day), Grain.ALL: 0}[
        grain
    ]


@pytest.mark.parametrize("seed", range(4))
def test_every_plan_covers_its_window_exactly(seed: int) -> None:
    rng = random.Random(seed)
    base = datetime(2022, 1, 1, tzinfo=UTC)

    def moment() -> datetime | None:
        if rng.random() < 0.1:
            return None
        at = base + timedelta(seconds=rng.randrange(-100 * 86400, 4 * 365 * 86400))
        if rng.random() < 0.3:
            at = at.replace(hour=0, minute=0, second=0)
        if rng.random() < 0.1:
            at = at.replace(day=1)
        return at

    for _ in range(500):
        plays = [base + timedelta(seconds=rng.randrange(3 * 365 * 86400)) for _ in range(40)]
        start, end = moment(), moment()
        if start is not None and end is not None and start > end:
            start, end = end, start
        pieces = plan(start, end, Extent(min(plays), max(plays)))
        counted = 0
        for piece in pieces:
            for at in plays:
                if piece.grain is None:
                    inside = (piece.start is None or at >= piece.start) and (
                        piece.end is None or at < piece.end
                    )
                else:
                    inside = piece.first <= _bucket_of(piece.grain, at) <= piece.last
                counted += piece.sign * inside
        expected = sum((start is None or at >= start) and (end is None or at < end) for at in plays)
        assert counted == expected, (start, end, pieces)
        assert len(pieces) <= 12


def test_plays_arriving_between_counted_ones_of_other_items(
    client: TestClient, runtime: Runtime, alice: Account
) -> None:
    """Plays that land between a listener's counted plays of an item are new listeners of
    exactly the buckets where the log has no other counted play of that item by them. The
    log was once asked about any item of the level instead (an album's bucket counted as
    seen because the listener played another album that day): 60 rows wrong here."""
    songs = [
        track("Halo", "Beyoncé", album="I Am... Sasha Fierce"),
        track("99 Problems", "JAY-Z", album="The Black Album"),
        track("Crazy in Love", ["Beyoncé", "JAY-Z"]),
        track("Hyperballad", "Björk", album="Post"),
    ]
    rng = random.Random(3)
    for _ in range(2):
        _submit(
            client,
            alice,
            [play(_ts(rng.uniform(0.01, 400)), rng.choice(songs)) for _ in range(40)],
        )
        fold(runtime.db)
        _assert_exact(client, runtime)


def test_deleting_a_play_of_two_artists(
    client: TestClient, runtime: Runtime, alice: Account
) -> None:
    """A play that counts for two artists leaves both: each one's remaining first and last
    play is looked up among that artist's plays only (once it was among both's)."""
    beyonce, jay_z = track("Halo", "Beyoncé"), track("99 Problems", "JAY-Z")
    _submit(
        client,
        alice,
        [
            play(_ts(350), jay_z),
            play(_ts(300), beyonce),
            play(_ts(100), track("Crazy in Love", ["Beyoncé", "JAY-Z"])),
            play(_ts(10), beyonce),
            play(_ts(5), jay_z),
        ],
    )
    fold(runtime.db)
    history = client.get("/api/v1/users/alice/plays", params={"limit": 10}).json()["plays"]
    both = next(p for p in history if p["item"]["title"] == "Crazy in Love")
    gone = client.delete(f"/api/v1/plays/{both['id']}", headers=alice.headers)
    assert gone.status_code == 204, gone.text
    _assert_exact(client, runtime, full=True)


def test_site_charts_without_listeners(
    client: TestClient, runtime: Runtime, alice: Account, register: Any
) -> None:
    bob = register("bob", country="DE")
    plays = _random_plays(random.Random(9), 30, 40)
    _submit(client, alice, plays)
    _submit(client, bob, plays)
    fold(runtime.db)
    params = {"period": "3month", "country": "DE"}
    full = client.get("/api/v1/charts/artist", params=params).json()
    lean = client.get("/api/v1/charts/artist", params={**params, "listeners": "false"}).json()
    assert [e["listeners"] for e in lean["entries"]] == [None] * len(lean["entries"])
    assert {e["listeners"] for e in full["entries"]} <= {1, 2}
    strip = [(e["item"]["id"], e["plays"], e["rank"]) for e in full["entries"]]
    assert [(e["item"]["id"], e["plays"], e["rank"]) for e in lean["entries"]] == strip
    assert lean["total"] == full["total"]


def test_a_fold_adds_to_rows_below_their_bucket_threshold(
    client: TestClient, runtime: Runtime, alice: Account, register: Any
) -> None:
    """At scale most rows are not head rows (a bucket's threshold is a ten-thousandth of its
    plays); a fold that adds to them must judge each against its own bucket's threshold."""
    bob = register("bob", country="DE")
    plays = _random_plays(random.Random(11), 40, 40)
    _submit(client, alice, plays)
    _submit(client, bob, plays)
    _fold(runtime)
    with runtime.db.unit_of_work(write=True) as session:
        session.execute(update(ChartSize).values(tau=1000))
        for model in (ChartCount, CountryChartCount):
            session.execute(update(model).values(head=False))
    _submit(client, alice, _random_plays(random.Random(12), 40, 40))
    _submit(client, bob, _random_plays(random.Random(13), 40, 40))
    _fold(runtime)
    _assert_exact(client, runtime, check=False)  # (the thresholds were set by hand)
    with runtime.db.unit_of_work() as session:
        bucket = (ChartSize.country == SITE) & (ChartSize.level == ChartCount.level)
        bucket &= (ChartSize.grain == ChartCount.grain) & (ChartSize.bucket == ChartCount.bucket)
        judged = select(func.count()).select_from(ChartCount).join(ChartSize, bucket)
        # Each row against its own bucket's threshold: none of the old buckets' rows
        # reaches 1,000 plays, and rows of new buckets (threshold 0) are head rows.
        wrong = judged.where(ChartCount.head == (ChartCount.plays <= ChartSize.tau))
        assert session.scalar(wrong) == 0
        assert session.scalar(judged.where(ChartSize.tau == 1000, ~ChartCount.head)) > 0
    with runtime.db.unit_of_work(write=True) as session:
        session.execute(update(ChartSize).values(tau=1))
    _submit(client, alice, plays)
    _fold(runtime)
    with runtime.db.unit_of_work() as session:
        # With the threshold at 1 now, the rows a fold touched and that have more plays are
        # head rows; the others were not touched and keep their flag.
        heads = session.scalar(select(func.count()).where(ChartCount.head))
        assert heads is not None
        assert heads > 0
    _assert_exact(client, runtime, check=False)


def test_rebuild_counts_listeners_across_countries_and_years(
    client: TestClient, runtime: Runtime, alice: Account, register: Any
) -> None:
    """The rebuild groups each grain from the finer one and the site-wide rows from the
    country rows: with listeners in several countries (and none), coming back to the same
    items in other days, months and years, it equals the recount and the fold."""
    people = [
        alice,
        register("bob", country="BR"),
        register("carla", country="BR"),
        register("dan"),
    ]
    rng = random.Random(21)
    for person in people:
        _submit(client, person, _random_plays(rng, 45, 800))
    _fold(runtime)
    with runtime.db.unit_of_work() as session:
        folded = {
            model: sorted(tuple(row) for row in session.execute(select(model.__table__)))
            for model in (ChartCount, CountryChartCount, ChartSize)
        }
    with runtime.db.unit_of_work(write=True) as session:
        Rollups(session).rebuild()
    with runtime.db.unit_of_work() as session:
        assert Rollups(session).differences() == 0
        for model, rows in folded.items():
            assert sorted(tuple(r) for r in session.execute(select(model.__table__))) == rows
    _assert_exact(client, runtime, full=True, check=False)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_listeners_of_a_shifted_year_at_its_edges(
    client: TestClient, runtime: Runtime, alice: Account, register: Any, zone: str
) -> None:
    """Last year in a time zone is the UTC year shifted by hours: its listeners are the
    bucket's, give or take the ones who played in those hours. Whether such a listener also
    played inside both is settled by their first and last play, or, when those lie on either
    side (played before, in the edge hours and after), by the log."""
    window = client.get("/api/v1/charts/track", params={"period": "year", "tz": zone}).json()
    start = int(datetime.fromisoformat(window["from"]).timestamp())
    end = int(datetime.fromisoformat(window["to"]).timestamp())
    year = datetime.fromtimestamp(start + 2 * 86400, UTC).year
    bucket_start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    bucket_end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    early, late = min(start, bucket_start), max(end, bucket_end)
    hour, day = 3600, 86400
    now = int(NOW.timestamp())
    middle = (start + end) // 2
    # Edges: the hours between the window's and the bucket's starts, and between their ends.
    first_edge = (min(start, bucket_start) + max(start, bucket_start)) // 2
    last_edge = (min(end, bucket_end) + max(end, bucket_end)) // 2
    song = track("Halo", "Beyoncé", album="I Am... Sasha Fierce")
    other = {"kind": "track", "title": "Crazy in Love", "artist": ["Beyoncé", "JAY-Z"]}
    histories = {
        "alice": [early - 400 * day, first_edge, middle, now - day],  # before, edge, inside, after
        "bob": [early - 30 * day, first_edge + 60, now - 2 * day],  # before, edge, after
        "carla": [last_edge, middle + hour],  # edge and inside
        "dan": [early - 10 * day, last_edge + 60, now - day],  # before, edge, after
        "erin": [first_edge + 120, last_edge + 120],  # both edges only
    }
    people = {"alice": alice}
    for name, country in (("bob", "BR"), ("carla", "DE"), ("dan", None), ("erin", "DE")):
        people[name] = register(name, **({"country": country} if country else {}))
    for name, times in histories.items():
        _submit(client, people[name], [play(t, song) for t in times])
        _submit(client, people[name], [play(t + 7, other) for t in times[::2]])
    for folded in (False, True):
        if folded:
            _fold(runtime)
        for level in (Kind.TRACK, Kind.ARTIST, Kind.ALBUM):
            for country in (None, "DE"):
                params: dict[str, Any] = {"period": "year", "tz": zone, "limit": 1000}
                if country is not None:
                    params["country"] = country
                chart = client.get(f"/api/v1/charts/{level.value}", params=params).json()
                expected = _recount(
                    runtime,
                    level,
                    datetime.fromisoformat(chart["from"]),
                    datetime.fromisoformat(chart["to"]),
                    country,
                )
                got = {e["item"]["id"]: (e["plays"], e["listeners"]) for e in chart["entries"]}
                assert got == expected, (level, country, folded)
                assert chart["total"] == len(expected)
    assert late > early
