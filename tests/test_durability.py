"""A play the API has acknowledged survives kill -9 of the server.

Real ``tastegraph serve`` processes on the test database of each backend (a SQLite file with
the default ``synchronous=FULL``, and PostgreSQL): submit, get the acknowledgement, SIGKILL the
server at once, start a new one on the same database and read everything back.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tastegraph.accounts.schemas import UserCreate
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tests.cli_helpers import cli_env, serving, stored_plays
from tests.conftest import Account, play, track

pytestmark = pytest.mark.slow

T0 = 1_714_587_300  # 2024-05-01 18:15 UTC


def _account(database_url: str, tmp_path: Path, name: str) -> Account:
    settings = Settings(mode=Mode.DEV, database_url=database_url, data_dir=tmp_path / "data")
    runtime = Runtime.create(settings)
    try:
        with runtime.db.unit_of_work(write=True) as session:
            svc = runtime.services(session)
            user = svc.accounts.register(
                UserCreate(name=name, password="correct horse", timezone="Europe/Berlin")
            )
            _, secret = svc.accounts.create_token(user, "durability test")
    finally:
        runtime.close()
    return Account(name=name, token=secret)


def _key(entry: dict[str, Any]) -> tuple[datetime, str]:
    when = datetime.fromisoformat(entry["played_at"]).astimezone(UTC)
    return when, entry["item"]["title"]


def test_acknowledged_plays_survive_kill_9(database_url: str, tmp_path: Path) -> None:
    alice = _account(database_url, tmp_path, "alice")
    env = cli_env(database_url)
    acknowledged: set[tuple[datetime, str]] = set()

    with serving(env, tmp_path / "first.log") as server, server.client() as http:
        single = http.post(
            "/api/v1/plays",
            json=play(T0, track("Halo", "Beyoncé"), submission_id="single-1"),
            headers=alice.headers,
        )
        assert single.status_code == 201, single.text
        acknowledged.add((datetime.fromtimestamp(T0, UTC), "Halo"))

        batch = [
            play(T0 + 60 * i, track(f"Track {i}", "Daft Punk", album="Discovery"))
            for i in range(1, 201)
        ]
        batch.append(play(T0 + 99_999, {"kind": "film", "title": "Inception", "year": 2010}))
        answered = http.post("/api/v1/plays/batch", json={"plays": batch}, headers=alice.headers)
        assert answered.status_code == 200, answered.text
        assert answered.json()["accepted"] == len(batch)
        for entry in batch:
            acknowledged.add(
                (datetime.fromtimestamp(entry["played_at"], UTC), entry["item"]["title"])
            )

        last = http.post(
            "/api/v1/plays", json=play(T0 + 100_000, track("Last", "Words")), headers=alice.headers
        )
        assert last.status_code == 201, last.text
        acknowledged.add((datetime.fromtimestamp(T0 + 100_000, UTC), "Last"))
        server.kill()  # no graceful shutdown: straight after the last acknowledgement
        assert server.process.returncode == -9

    with serving(env, tmp_path / "second.log") as server:
        stored = stored_plays(server, "alice", alice.headers)
        assert {_key(entry) for entry in stored} == acknowledged
        assert len(stored) == len(acknowledged)

        # The restarted server still knows them: resubmissions are duplicates, not new plays.
        with server.client() as http:
            again = http.post(
                "/api/v1/plays",
                json=play(T0, track("Halo", "Beyoncé"), submission_id="single-1"),
                headers=alice.headers,
            )
            assert again.status_code == 200, again.text
            assert again.json()["status"] == "duplicate"
        assert len(stored_plays(server, "alice", alice.headers)) == len(acknowledged)


def test_kill_9_in_the_middle_of_a_stream_of_writes(database_url: str, tmp_path: Path) -> None:
    """Plays stream in from a client thread while the server is killed under it.

    Every acknowledged play is stored; a play whose answer never came may or may not be, but
    nothing else appears, and the database takes writes again after the restart.
    """
    bob = _account(database_url, tmp_path, "bob")
    env = cli_env(database_url)
    acknowledged: set[tuple[datetime, str]] = set()
    attempted: set[tuple[datetime, str]] = set()
    enough = threading.Event()
    with serving(env, tmp_path / "first.log") as server:

        def submit() -> None:
            with server.client() as http:
                for i in range(10_000):
                    body = play(T0 + i, track(f"Song {i}", "Band"))
                    attempted.add((datetime.fromtimestamp(T0 + i, UTC), f"Song {i}"))
                    try:
                        response = http.post("/api/v1/plays", json=body, headers=bob.headers)
                    except httpx.TransportError:
                        return  # the server is gone: this play was never acknowledged
                    assert response.status_code == 201, response.text
                    acknowledged.add((datetime.fromtimestamp(T0 + i, UTC), f"Song {i}"))
                    if len(acknowledged) >= 25:
                        enough.set()

        writer = threading.Thread(target=submit, daemon=True)
        writer.start()
        assert enough.wait(timeout=30), server.output()
        server.kill()
        writer.join(timeout=30)
        assert not writer.is_alive()

    with serving(env, tmp_path / "second.log") as server:
        stored = {_key(p) for p in stored_plays(server, "bob", bob.headers)}
        assert acknowledged <= stored <= attempted
        with server.client() as http:
            more = http.post(
                "/api/v1/plays", json=play(T0 - 500, track("After", "Band")), headers=bob.headers
            )
            assert more.status_code == 201, more.text
