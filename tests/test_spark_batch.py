"""The Spark batch jobs give what the local code paths give, on both backends.

A small community (listeners in several countries and time zones, one without a country;
plays over two years arriving back-dated; a merged artist and track; incognito plays) is
exported as Parquet; ``tastegraph batch run charts --runner spark`` must leave the chart
rollups row for row as ``--runner local`` (``Rollups.rebuild``) does, every chart served over
HTTP must be the same, and ``tastegraph stats check`` must pass. The insights job must build
the segment bitmaps ``tastegraph insights bitmaps --rebuild`` builds.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select

from tastegraph.accounts.models import User
from tastegraph.audiences.models import Segment, SegmentMember
from tastegraph.catalog.kinds import Kind
from tastegraph.insights.models import SegmentBitmap
from tastegraph.runtime import Runtime
from tastegraph.stats.models import ChartCount, ChartPair, ChartSize, ChartState, CountryChartCount
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.conftest import Account, play, track
from tests.spark_helpers import STARTUP, shared_spark

NOW = datetime.now(UTC).replace(microsecond=0)
TIMINGS: dict[str, float] = {}

CATALOGUE = [
    track("Halo", "Beyoncé", album="I Am... Sasha Fierce"),
    track("Drunk in Love", "Beyoncé feat. JAY-Z", album="BEYONCÉ"),
    track("99 Problems", "JAY-Z", album="The Black Album"),
    track("Crazy in Love", ["Beyoncé", "JAY-Z"]),
    track("Halo", "Beyonce Knowles"),  # merged into Beyoncé's below
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
PEOPLE = [
    ("ana", "DE", "Europe/Berlin"),
    ("bruno", "BR", "America/Sao_Paulo"),
    ("chie", "JP", "Asia/Tokyo"),
    ("dev", "IN", "Asia/Kolkata"),
    ("eve", None, "UTC"),  # no country: counted site-wide only
    ("finn", "DE", "Europe/Berlin"),
]
CHARTS: list[dict[str, str]] = [
    {"period": "overall"},
    {"period": "year", "tz": "Asia/Tokyo"},
    {"period": "overall", "country": "DE"},
    {"period": "7day"},
    {"period": "12month"},
    {"period": "this_month", "tz": "Asia/Kolkata"},
    {"period": "month", "tz": "America/Sao_Paulo"},
    {"period": "week", "tz": "Europe/Berlin"},
    {"period": "3month", "country": "BR"},
    {"period": "12month", "country": "JP"},
]
EVERY_PERIOD = [Kind.TRACK, Kind.ARTIST, Kind.ALBUM, Kind.SHOW, Kind.TEAM]


@pytest.fixture
def spark() -> Any:
    return shared_spark()


def _ts(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


def _submit(client: TestClient, account: Account, plays: list[Any]) -> list[Any]:
    response = client.post("/api/v1/plays/batch", json={"plays": plays}, headers=account.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def _community(client: TestClient, register: Any, admin: Account) -> list[Account]:
    rng = random.Random(11)
    people = []
    for name, country, zone in PEOPLE:
        fields: dict[str, Any] = {"timezone": zone}
        if country:
            fields["country"] = country
        people.append(register(name, **fields))
    for who in people:
        recent = [
            play(_ts(rng.uniform(0.01, 40)), rng.choice(CATALOGUE), incognito=rng.random() < 0.1)
            for _ in range(25)
        ]
        _submit(client, who, recent)
    for who in people[:3]:  # a back-dated import: two years of history at once
        older = [play(_ts(rng.uniform(40, 760)), rng.choice(CATALOGUE)) for _ in range(30)]
        _submit(client, who, older)
    wrong = _submit(client, people[0], [play(_ts(2), CATALOGUE[4])])[0]["item_id"]
    right = _submit(client, people[1], [play(_ts(2), CATALOGUE[0])])[0]["item_id"]
    artists = {
        item: client.get(f"/api/v1/items/{item}").json()["credits"][0]["id"]
        for item in (wrong, right)
    }
    for source, target in ((artists[wrong], artists[right]), (wrong, right)):
        merged = client.post(
            f"/api/v1/items/{source}/merge", json={"into": target}, headers=admin.headers
        )
        assert merged.status_code == 200, merged.text
    return people


def _charts(client: TestClient) -> dict[tuple[str, str], Any]:
    """Every level's chart in three periods, the music and TV levels in all of them."""
    charts = {}
    for index, params in enumerate(CHARTS):
        levels = list(Kind) if index < 3 else EVERY_PERIOD
        for level in levels:
            response = client.get(f"/api/v1/charts/{level.value}", params={**params, "limit": 500})
            assert response.status_code == 200, response.text
            chart = response.json()
            del chart["from"], chart["to"]  # rolling windows end at the moment of asking
            charts[level.value, repr(sorted(params.items()))] = chart
    return charts


def _rollups(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with runtime.db.unit_of_work() as session:
        for model in (ChartCount, CountryChartCount, ChartSize, ChartPair):
            rows = session.execute(select(model.__table__)).all()
            tables[model.__tablename__] = sorted(tuple(row) for row in rows)
        tables["watermark"] = [(session.scalar(select(ChartState.counted_through)),)]
    return tables


def _timed(name: str, args: list[str], env: dict[str, str | None]) -> Any:
    started = time.perf_counter()
    result = invoke(args, env)
    TIMINGS[name] = time.perf_counter() - started
    assert_clean_exit(result, 0)
    return result


def test_spark_charts_equal_the_local_rebuild(
    spark: Any,
    client: TestClient,
    runtime: Runtime,
    register: Any,
    admin: Account,
    database_url: str,
    tmp_path: Path,
) -> None:
    people = _community(client, register, admin)
    env = dev_env(database_url, TASTEGRAPH_DATA_DIR=str(tmp_path / "data"))
    export = tmp_path / "export"
    _timed("export", ["export", "parquet", str(export)], env)
    ran = _timed(
        "charts spark",
        ["batch", "run", "charts", "--runner", "spark", "--export", str(export)],
        env,
    )
    assert "counted by Spark" in ran.stdout
    checked = invoke(["stats", "check"], env)
    assert_clean_exit(checked, 0)
    assert "0 plays not folded yet" in checked.stdout
    spark_rows, spark_charts = _rollups(runtime), _charts(client)
    assert any(c["entries"] for c in spark_charts.values())
    # The local runner (``Rollups.rebuild``) right after, so rolling windows barely moved.
    local = _timed("charts local", ["batch", "run", "charts", "--runner", "local"], env)
    assert "rebuilt locally" in local.stdout
    assert _rollups(runtime) == spark_rows
    assert _charts(client) == spark_charts

    # Plays after the export are left to the next fold, which counts them on top.
    _submit(client, people[2], [play(_ts(0.5), CATALOGUE[5]), play(_ts(300), CATALOGUE[1])])
    assert "2 plays not folded yet" in invoke(["stats", "check"], env).stdout
    assert_clean_exit(invoke(["stats", "fold"], env), 0)
    assert_clean_exit(invoke(["stats", "check"], env), 0)

    # An export older than the log's last deletion is refused rather than loaded wrong.
    history = client.get("/api/v1/users/ana/plays", params={"limit": 3}).json()["plays"]
    assert client.delete(f"/api/v1/plays/{history[1]['id']}", headers=people[0].headers)
    stale = invoke(["batch", "run", "charts", "--runner", "spark", "--export", str(export)], env)
    assert stale.exit_code == 1
    assert "export again" in stale.stderr
    assert_clean_exit(invoke(["stats", "check"], env), 0)
    print(f"\nSpark session start {STARTUP.get('seconds', 0):.1f} s (once per process); ", end="")
    print(", ".join(f"{name} {seconds:.1f} s" for name, seconds in TIMINGS.items()))


def _segments(runtime: Runtime, people: list[Account]) -> list[int]:
    """Three segments written around the audiences area (no bitmaps yet), one empty."""
    with runtime.db.unit_of_work(write=True) as session:
        ids = []
        for name in ("Night owls", "Series watchers", "Nobody"):
            segment = Segment(name=name)
            session.add(segment)
            session.flush()
            ids.append(segment.id)
        user_ids: dict[str, int] = dict(session.execute(select(User.name, User.id)).all())
        members = [(ids[0], user_ids[p.name]) for p in people[::2]] + [
            (ids[1], user_ids[p.name]) for p in people
        ]
        session.execute(
            insert(SegmentMember),
            [{"segment_id": s, "user_id": u, "added_at": NOW} for s, u in members],
        )
    return ids


def _bitmaps(runtime: Runtime) -> dict[int, tuple[int, bytes]]:
    with runtime.db.unit_of_work() as session:
        rows = session.execute(
            select(SegmentBitmap.segment_id, SegmentBitmap.members, SegmentBitmap.bits)
        )
        return {segment: (members, bytes(bits)) for segment, members, bits in rows}


def test_spark_segment_bitmaps_equal_the_local_ones(
    spark: Any,
    client: TestClient,
    runtime: Runtime,
    register: Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    people = [register(name, country=country or "FR") for name, country, _ in PEOPLE]
    for index in range(40):  # user ids past the first bytes
        register(f"filler{index}")
    people.append(register("late", country="SE"))
    segments = _segments(runtime, people)
    env = dev_env(database_url, TASTEGRAPH_DATA_DIR=str(tmp_path / "data"))
    assert invoke(["insights", "bitmaps"], env).exit_code == 1  # none written yet
    _timed("insights local", ["batch", "run", "insights", "--runner", "local"], env)
    expected = _bitmaps(runtime)
    assert expected[segments[2]] == (0, b"")
    assert expected[segments[1]][0] == len(people)

    export = tmp_path / "export"
    assert_clean_exit(invoke(["export", "parquet", str(export)], env), 0)
    with runtime.db.unit_of_work(write=True) as session:
        session.execute(delete(SegmentBitmap))
    ran = _timed(
        "insights spark",
        ["batch", "run", "insights", "--runner", "spark", "--export", str(export)],
        env,
    )
    assert "built by Spark" in ran.stdout
    assert _bitmaps(runtime) == expected
    assert_clean_exit(invoke(["insights", "bitmaps"], env), 0)

    # A segment whose members changed after the export keeps an exact bitmap.
    with runtime.db.unit_of_work(write=True) as session:
        first = session.scalar(select(User.id).where(User.name == people[0].name))
        session.execute(
            delete(SegmentMember).where(
                SegmentMember.segment_id == segments[0], SegmentMember.user_id == first
            )
        )
    again = invoke(["batch", "run", "insights", "--runner", "spark", "--export", str(export)], env)
    assert_clean_exit(again, 0)
    assert "1 changed since the export" in again.stdout
    assert_clean_exit(invoke(["insights", "bitmaps"], env), 0)
    print(", ".join(f"{name} {seconds:.1f} s" for name, seconds in TIMINGS.items()))


def test_batch_commands_explain_what_is_missing(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = dev_env(database_url, TASTEGRAPH_DATA_DIR=str(tmp_path / "data"))
    listed = invoke(["batch", "list"], env)
    assert_clean_exit(listed, 0)
    assert "charts" in listed.stdout
    assert "insights" in listed.stdout
    for args, code, message in [
        (["batch", "run", "charts", "--export", str(tmp_path)], 1, "export parquet"),
        (["batch", "run", "nothing"], 2, "Unknown job"),
        (["batch", "run", "charts", "--runner", "dask"], 2, "Unknown runner"),
    ]:
        result = invoke(args, env)
        assert result.exit_code == code, result.output
        assert message in result.stderr

    from tastegraph.batch.errors import SparkMissing
    from tastegraph.batch.spark import spark_session
    from tastegraph.config import Mode, Settings

    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if the extra were not installed
    with pytest.raises(SparkMissing, match=r"tastegraph\[spark\]"):
        spark_session(Settings(mode=Mode.DEV, data_dir=tmp_path))
