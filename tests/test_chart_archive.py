"""The chart archive: charts of closed windows computed ahead, served while they are right.

Through the HTTP API and the CLI on both backends: after ``tastegraph stats archive``, the
charts of last week, month, quarter, half-year and year come from the archive and equal a
recount of the log; a back-dated play inside one is counted at once (the archive is passed
over while it waits to be folded, and its fold forgets the chart), live plays leave the
archive alone, and a deletion empties it. The archiver does not keep a chart whose rollups or
window changed while it was computed.
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tastegraph.catalog.kinds import Kind
from tastegraph.config import Settings
from tastegraph.runtime import Runtime
from tastegraph.stats import archiver
from tastegraph.stats.archive import Key
from tastegraph.stats.models import ArchivedChart, ChartState
from tastegraph.stats.periods import Period
from tastegraph.stats.services import StatsService
from tastegraph.web.app import create_app
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.conftest import Account, play, track
from tests.test_stats_rollups import (
    NOW,
    _fold,
    _random_plays,
    _submit,
    _ts,
    assert_chart_exact,
)

ARCHIVED = [
    {"period": "week", "tz": "America/Sao_Paulo"},
    {"period": "month"},
    {"period": "quarter", "tz": "Europe/Berlin", "country": "DE"},
    {"period": "half_yearly", "tz": "Asia/Tokyo"},
    {"period": "year", "tz": "Europe/Berlin"},
    {"period": "year", "country": "BR", "tz": "America/Sao_Paulo"},
]


def _people(alice: Account, register: Any) -> dict[str, Account]:
    return {
        "alice": alice,  # DE, Europe/Berlin
        "bob": register("bob", country="BR", timezone="America/Sao_Paulo"),
        "kei": register("kei", timezone="Asia/Tokyo"),
    }


def _archived(runtime: Runtime) -> int:
    with runtime.db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(ArchivedChart)) or 0)


def _chart(client: TestClient, level: Kind, params: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/api/v1/charts/{level.value}", params={**params, "limit": 100})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _assert_exact(client: TestClient, runtime: Runtime) -> None:
    for level in (Kind.TRACK, Kind.ARTIST, Kind.SHOW):
        for params in ARCHIVED:
            assert_chart_exact(client, runtime, level, params, limit=100)


def _window_key(client: TestClient, level: Kind, params: dict[str, str]) -> Key:
    chart = _chart(client, level, params)
    return Key.of(
        level,
        params.get("country"),
        datetime.fromisoformat(chart["from"]),
        datetime.fromisoformat(chart["to"]),
    )


def test_archived_charts_are_served_exact_and_forgotten_when_they_change(
    client: TestClient, runtime: Runtime, alice: Account, register: Any, database_url: str
) -> None:
    people = _people(alice, register)
    rng = random.Random(11)
    for account in people.values():
        _submit(client, account, _random_plays(rng, 60, 400))
    _fold(runtime)
    env = dev_env(database_url)
    result = invoke(["stats", "archive"], env)
    assert_clean_exit(result, 0)
    assert "chart archive up to date" in result.stdout
    filled = _archived(runtime)
    # Site-wide in UTC and the three people's zones, per country in UTC and its people's
    # zones; 5 periods; the levels with plays (zones sharing a window share its charts).
    assert filled > 5 * 4
    _assert_exact(client, runtime)

    # What is served comes from the archive: a row changed by hand shows through.
    key = _window_key(client, Kind.ARTIST, ARCHIVED[4])
    with runtime.db.unit_of_work(write=True) as session:
        row = session.get(ArchivedChart, (key.scope, key.level, key.start_us, key.end_us))
        assert row is not None
        assert row.entries
        kept = [list(entry) for entry in row.entries]
        row.entries = [[kept[0][0], 999_999, kept[0][2]], *kept[1:]]
    first = _chart(client, Kind.ARTIST, ARCHIVED[4])["entries"][0]
    assert first["plays"] == 999_999
    # Deeper than the archive keeps: counted.
    deep = client.get(
        "/api/v1/charts/artist", params={**ARCHIVED[4], "limit": 10, "offset": 95}
    ).json()
    assert all(e["plays"] != 999_999 for e in deep["entries"])
    with runtime.db.unit_of_work(write=True) as session:
        restored = update(ArchivedChart).values(entries=kept)
        session.execute(
            restored.where(
                ArchivedChart.scope == key.scope,
                ArchivedChart.level == key.level,
                ArchivedChart.start_us == key.start_us,
                ArchivedChart.end_us == key.end_us,
            )
        )

    # A live play leaves the archive alone, folded or not.
    _submit(client, people["kei"], [play(int(NOW.timestamp()) - 5, track("Now", "Band"))])
    _fold(runtime)
    assert _archived(runtime) == filled

    # A back-dated play inside last year (Berlin): counted at once, though not folded...
    year = _chart(client, Kind.TRACK, ARCHIVED[4])
    inside = int(datetime.fromisoformat(year["from"]).timestamp()) + 40 * 86_400
    song = track("Late Entry", "Archivists")
    late = _submit(client, people["bob"], [play(inside, song), play(inside + 60, song)])
    _assert_exact(client, runtime)
    # ...and its fold forgets the charts whose window holds it, and no others.
    _fold(runtime)
    left = _archived(runtime)
    assert 0 < left < filled
    with runtime.db.unit_of_work() as session:
        assert session.get(ArchivedChart, (key.scope, key.level, key.start_us, key.end_us)) is None
    _assert_exact(client, runtime)
    assert_clean_exit(invoke(["stats", "archive"], env), 0)
    assert _archived(runtime) == filled
    _assert_exact(client, runtime)

    # A deletion forgets the charts holding the deleted play's hour (and moves the epoch on).
    with runtime.db.unit_of_work() as session:
        epoch = session.scalar(select(ChartState.epoch))
    gone = client.delete(f"/api/v1/plays/{late[0]['play_id']}", headers=people["bob"].headers)
    assert gone.status_code == 204, gone.text
    assert 0 < _archived(runtime) < filled
    with runtime.db.unit_of_work() as session:
        assert session.get(ArchivedChart, (key.scope, key.level, key.start_us, key.end_us)) is None
        assert session.scalar(select(ChartState.epoch)) == (epoch or 0) + 1
    _assert_exact(client, runtime)
    assert_clean_exit(invoke(["stats", "archive"], env), 0)
    _assert_exact(client, runtime)

    # A listener moving: the two countries' charts go (site-wide ones stay).
    moved = client.patch("/api/v1/me", json={"country": "DE"}, headers=people["bob"].headers)
    assert moved.status_code == 200, moved.text
    with runtime.db.unit_of_work() as session:
        scopes = set(session.scalars(select(ArchivedChart.scope).distinct()))
    assert "" in scopes
    assert not scopes & {"BR", "DE"}
    _assert_exact(client, runtime)


def test_a_chart_that_changed_while_computed_is_not_kept(
    client: TestClient,
    runtime: Runtime,
    alice: Account,
    register: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = _people(alice, register)
    _submit(client, alice, _random_plays(random.Random(2), 40, 400))
    _fold(runtime)
    key_and_window = [
        (key, window)
        for key, window in archiver.wanted(runtime.db, NOW).items()
        if key.scope == "" and key.level is Kind.TRACK and window.timezone == "UTC"
    ]
    key, window = next(
        (k, w) for k, w in key_and_window if w.start is not None and (w.end - w.start).days > 300
    )
    counted = StatsService.counted_site_chart

    def meanwhile(change: Any) -> Any:
        def wrapped(self: StatsService, *args: Any, **kwargs: Any) -> Any:
            chart = counted(self, *args, **kwargs)
            change()
            return chart

        return wrapped

    # A play of the window arrives while the chart is counted: not kept (folded or not).
    inside = int(window.start.timestamp()) + 10 * 86_400  # type: ignore[union-attr]
    for fold_it in (False, True):

        def arrive(fold_it: bool = fold_it) -> None:
            _submit(client, people["kei"], [play(inside, track("Racer", "Band"))])
            if fold_it:
                _fold(runtime)

        monkeypatch.setattr(StatsService, "counted_site_chart", meanwhile(arrive))
        assert archiver._archive_one(runtime.db, key, window) is False
    # A deletion meanwhile (anywhere): not kept.
    history = client.get("/api/v1/users/alice/plays", params={"limit": 1}).json()["plays"]
    play_id = history[0]["id"]

    def delete_one() -> None:
        assert client.delete(f"/api/v1/plays/{play_id}", headers=alice.headers).status_code == 204

    monkeypatch.setattr(StatsService, "counted_site_chart", meanwhile(delete_one))
    assert archiver._archive_one(runtime.db, key, window) is False
    # Nothing meanwhile: kept.
    monkeypatch.setattr(StatsService, "counted_site_chart", counted)
    assert _archived(runtime) == 0
    _fold(runtime)
    assert archiver._archive_one(runtime.db, key, window) is True
    assert _archived(runtime) == 1


def test_the_server_archives_in_the_background(
    settings: Settings, runtime: Runtime, alice: Account, client: TestClient
) -> None:
    _submit(client, alice, [play(_ts(d), track("Halo", "Beyoncé")) for d in (40, 100, 200)])
    app = create_app(settings.model_copy(update={"stats_archive_seconds": 0.2}), runtime=runtime)
    with TestClient(app):
        deadline = time.monotonic() + 30
        while _archived(runtime) == 0:
            assert time.monotonic() < deadline, "the archiver did not archive"
            time.sleep(0.1)
    assert app.state.chart_archiver._thread is None  # stopped with the app
    assert Period.YEAR in archiver.ARCHIVED_PERIODS
