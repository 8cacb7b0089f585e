"""Unit tests where the ingest path's logic is dense: local offsets and the resolution cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tastegraph.catalog.schemas import TrackRef
from tastegraph.ingest.services import _Offsets
from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track

ZONES = [
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Europe/Berlin",
    "America/Sao_Paulo",
    "Africa/Casablanca",
    "UTC",
]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    seconds=st.integers(min_value=1_033_430_400, max_value=2_000_000_000),
)
def test_hourly_offsets_match_zoneinfo(zone: str, seconds: int) -> None:
    tz = ZoneInfo(zone)
    moment = datetime.fromtimestamp(seconds, UTC)
    expected = moment.astimezone(tz).utcoffset()
    assert expected is not None
    offsets = _Offsets(tz)
    # Ask about the hour's start first, so the cached hour is what answers the real question.
    offsets.minutes(moment.replace(minute=0, second=0))
    assert offsets.minutes(moment) == int(expected.total_seconds() // 60)


def test_offsets_across_a_half_hour_transition() -> None:
    tz = ZoneInfo("Australia/Lord_Howe")
    offsets = _Offsets(tz)
    # Lord Howe leaves summer time (+11:00 -> +10:30) at 02:00 local on 2024-04-07.
    start = datetime(2024, 4, 6, 14, 0, tzinfo=UTC)
    for minute in range(0, 180, 7):
        moment = start + timedelta(minutes=minute)
        expected = moment.astimezone(tz).utcoffset()
        assert expected is not None
        assert offsets.minutes(moment) == int(expected.total_seconds() // 60)


def test_explicit_offset_is_the_local_time(client: TestClient, alice: Account) -> None:
    # Alice lives in Berlin but played this in New York, and her phone said so.
    client.post(
        "/api/v1/plays",
        json=play("2024-05-01T09:00:00-04:00", track("Empire State of Mind", "JAY-Z")),
        headers=alice.headers,
    )
    client.post("/api/v1/plays", json=play(1_714_587_300, track("x", "y")), headers=alice.headers)
    plays = client.get("/api/v1/users/alice/plays", headers=alice.headers).json()["plays"]
    local = {p["item"]["title"]: p["local_time"] for p in plays}
    assert local["Empire State of Mind"] == "2024-05-01T09:00:00-04:00"
    assert local["x"] == "2024-05-01T20:15:00+02:00"


def test_a_rolled_back_transaction_teaches_the_cache_nothing(
    runtime: Runtime, client: TestClient, alice: Account
) -> None:
    ref = TrackRef(kind="track", title="Ephemeral", artist="Nobody Yet")

    def failing_request() -> None:
        with runtime.db.unit_of_work(write=True) as session:
            runtime.services(session).catalog.resolve([ref])
            raise RuntimeError("the request failed after resolving")

    with pytest.raises(RuntimeError):
        failing_request()
    # The item ids of the rolled-back transaction must not be served from the cache.
    response = client.post(
        "/api/v1/plays",
        json=play(1_714_587_300, track("Ephemeral", "Nobody Yet")),
        headers=alice.headers,
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"plays": [{"played_at": 100000000000000000000,'
        b' "item": {"kind": "film", "title": "a"}}]}',
        b'{"plays": [{"played_at": 1714587300, "duration_played": 1e400,'
        b' "item": {"kind": "film", "title": "a"}}]}',
        b'{"plays": [{"played_at": NaN, "item": {"kind": "film", "title": "a"}}]}',
    ],
)
def test_numbers_json_parsers_disagree_on(client: TestClient, alice: Account, body: bytes) -> None:
    response = client.post(
        "/api/v1/plays/batch",
        content=body,
        headers={**alice.headers, "content-type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_merge_clears_what_the_cache_knew(
    client: TestClient, alice: Account, admin: Account
) -> None:
    def post(artist: str, when: int) -> Any:
        return client.post(
            "/api/v1/plays", json=play(when, track("Song", artist)), headers=alice.headers
        ).json()["item_id"]

    old = post("Old Spelling", 1_714_587_300)
    new = post("New Spelling", 1_714_587_600)
    merged = client.post(f"/api/v1/items/{old}/merge", json={"into": new}, headers=admin.headers)
    assert merged.status_code == 200
    # The exact reference resolved before the merge now lands on the surviving item.
    assert post("Old Spelling", 1_714_588_000) == new
