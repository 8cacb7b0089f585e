"""Stations kept for paging, through the HTTP API on SQLite and PostgreSQL: a station is a
queue the client pages through; no page repeats an item the station already served, the
diversity rule holds across page boundaries, pages already served read back as they were,
and feedback given between pages counts for the next one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tests.conftest import Account
from tests.recs_helpers import Community, build_community, train_now


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        mode=Mode.DEV,
        database_url=database_url,
        data_dir=tmp_path / "data",
        recs_reload_seconds=0,
        recs_blas_threads=0,
        stats_fold_seconds=0,
        audience_refresh_seconds=0,
    )


@pytest.fixture
def trained(client: TestClient, runtime: Runtime) -> Community:
    community = build_community(client, runtime)
    train_now(runtime, ["track"])
    return community


def _start(client: TestClient, fan: Account, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/users/{fan.name}/station", json=body, headers=fan.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _page(client: TestClient, fan: Account, url: str, expect: int = 200) -> dict[str, Any]:
    response = client.get(url, headers=fan.headers)
    assert response.status_code == expect, response.text
    page: dict[str, Any] = response.json()
    return page


def _ids(page: dict[str, Any]) -> list[int]:
    return [e["item"]["id"] for e in page["queue"]]


def _runs_are_diverse(queue: list[dict[str, Any]], size: int, per_group: int = 2) -> bool:
    artists = [e["item"]["context"] for e in queue]
    for start in range(max(1, len(artists) - size + 1)):
        run = artists[start : start + size]
        if max(run.count(a) for a in run) > per_group:
            return False
    return True


def test_pages_never_repeat_and_stay_diverse_across_pages(
    client: TestClient, trained: Community
) -> None:
    fan = trained.fans("rock")[0]
    first = _start(client, fan, size=4, seed=11)
    assert first["id"] is not None
    assert first["cursor"] == 0
    assert first["next_cursor"] == 4
    assert first["seed"] == 11
    assert first["source"] == "model"
    assert len(first["queue"]) == 4
    queue = list(first["queue"])
    page = first
    while page["next"] is not None and len(queue) < 400:
        assert page["next"] == (
            f"/api/v1/users/{fan.name}/station/{first['id']}?cursor={page['next_cursor']}"
        )
        page = _page(client, fan, page["next"])
        assert page["cursor"] == len(queue)
        queue += page["queue"]
    ids = [e["item"]["id"] for e in queue]
    assert len(ids) == len(set(ids))  # never the same item twice in one station
    assert len(ids) > 20  # most of the 56 tracks, then the station ends
    assert _runs_are_diverse(queue, size=4)  # across page boundaries too
    assert page["queue"] == []
    assert page["next_cursor"] is None


def test_served_pages_read_back_and_cursors_are_checked(
    client: TestClient, trained: Community
) -> None:
    fan = trained.fans("rock")[1]
    first = _start(client, fan, size=5, seed=2)
    second = _page(client, fan, first["next"])
    url = f"/api/v1/users/{fan.name}/station/{first['id']}"
    again = _page(client, fan, f"{url}?cursor=0")
    assert again["source"] == "replay"
    assert _ids(again) == _ids(first)
    assert again["next_cursor"] == 5
    middle = _page(client, fan, f"{url}?cursor=3")
    assert _ids(middle) == _ids(first)[3:] + _ids(second)[:3]
    assert _page(client, fan, f"{url}?cursor=10")["cursor"] == 10  # the third page
    problem = _page(client, fan, f"{url}?cursor=99", expect=422)
    assert problem["code"] == "invalid_recs_request"
    assert "cursor 15" in problem["detail"]


def test_feedback_between_pages_counts_for_the_next_page(
    client: TestClient, trained: Community
) -> None:
    fan = trained.fans("rock")[2]
    first = _start(client, fan, size=4, shuffle=False)
    assert first["seed"] is None
    scores = [e["score"] for e in first["queue"]]
    assert scores == sorted(scores, reverse=True)  # best first without a shuffle
    artist = first["queue"][0]["item"]["context"]
    found = client.get("/api/v1/items", params={"q": artist, "kind": "artist"}).json()["items"]
    artist_id = next(i["id"] for i in found if i["title"] == artist)
    response = client.put(
        f"/api/v1/items/{artist_id}/feedback", json={"sentiment": "hate"}, headers=fan.headers
    )
    assert response.status_code == 200, response.text
    page, later = first, []
    for _ in range(3):
        page = _page(client, fan, page["next"])
        later += page["queue"]
    assert later
    assert artist not in {e["item"]["context"] for e in later}


def test_stations_are_private_and_the_oldest_are_forgotten(
    client: TestClient, trained: Community
) -> None:
    fan, other = trained.fans("rock")[3], trained.fans("jazz")[0]
    first = _start(client, fan, size=3)
    url = f"/api/v1/users/{fan.name}/station/{first['id']}"
    assert client.get(url, headers=other.headers).status_code == 403
    theirs = f"/api/v1/users/{other.name}/station/{first['id']}"
    missing = _page(client, other, theirs, expect=404)
    assert missing["code"] == "station_not_found"
    for _ in range(10):
        _start(client, fan, size=3)
    assert _page(client, fan, url, expect=404)["code"] == "station_not_found"
    one_off = _page(client, fan, f"/api/v1/users/{fan.name}/station?size=3")
    assert one_off["id"] is None
    assert one_off["next"] is None
    assert len(one_off["queue"]) == 3
