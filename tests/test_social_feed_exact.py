"""The feed stays exact at scale: play counts kept by the write path (milestones), pages cut
among plays of one instant, and live rooms pushed to their readers (long-poll and event
stream) without skipping a shout. On both backends."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import httpx2 as httpx
import orjson
from fastapi.testclient import TestClient

from tastegraph.runtime import Runtime
from tastegraph.social.counts import differences, recount
from tests.conftest import Account, play, track
from tests.social_helpers import NOW, ago, befriend, ok, shout


def _record(client: TestClient, account: Account, plays: list[dict[str, Any]]) -> list[int]:
    """Plays through the batch API; the play id of each."""
    body = ok(client.post("/api/v1/plays/batch", json={"plays": plays}, headers=account.headers))
    assert body["rejected"] == 0, body
    return [r["play_id"] for r in body["results"]]


def _counts_right(runtime: Runtime) -> None:
    with runtime.db.unit_of_work() as session:
        assert differences(session) == []


def _feed_events(client: TestClient, account: Account, limit: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    url: str | None = f"/api/v1/me/feed?limit={limit}"
    pages = 0
    while url is not None:
        page = ok(client.get(url, headers=account.headers))
        events += page["events"]
        url = page["next"]
        pages += 1
        assert pages < 200
    return events


def test_play_counts_follow_plays_deletions_merges_and_recount(
    client: TestClient, runtime: Runtime, register: Any, alice: Account, admin: Account
) -> None:
    bob = register("bob")
    ids = _record(client, alice, [play(ago(hours=h), track(f"S{h}", "Sade")) for h in range(5)])
    _record(client, bob, [play(ago(hours=2), track("Yesterday", "The Beatels"))])
    _record(client, bob, [play(ago(hours=2), track("Yesterday", "The Beatles"))])
    # Incognito plays are not counted; a duplicate is not a play.
    _record(client, alice, [play(ago(hours=9), track("Secret", "Sade"), incognito=True)])
    again = ok(
        client.post(
            "/api/v1/plays/batch",
            json={"plays": [play(ago(hours=1), track("S1", "Sade"))]},
            headers=alice.headers,
        )
    )
    assert again["results"][0]["status"] == "duplicate"
    _counts_right(runtime)
    ok(client.delete(f"/api/v1/plays/{ids[0]}", headers=alice.headers), 204)
    _counts_right(runtime)
    # Merging the misspelt track: bob's two plays at one second become one.
    history = ok(client.get("/api/v1/users/bob/plays"))["plays"]
    wrong, right = sorted({p["item"]["id"] for p in history})
    ok(client.post(f"/api/v1/items/{wrong}/merge", json={"into": right}, headers=admin.headers))
    assert len(ok(client.get("/api/v1/users/bob/plays"))["plays"]) == 1
    _counts_right(runtime)
    with runtime.db.unit_of_work(write=True) as session:
        assert recount(session) == 2  # alice and bob
        assert differences(session) == []


def test_a_milestone_moves_at_once_when_an_earlier_play_goes(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob = register("bob", timezone="UTC")
    befriend(client, alice, bob)
    ids = _record(
        client,
        bob,
        [
            play(ago(hours=30, minutes=-m * 10), track(f"Song {m}", f"Artist {m}"))
            for m in range(101)
        ],
    )

    def milestone() -> dict[str, Any]:
        found = [e for e in _feed_events(client, alice, 50) if e["kind"] == "milestone"]
        assert len(found) == 1
        return found[0]

    assert milestone()["subject"]["title"] == "Song 99"  # the 100th play
    ok(client.delete(f"/api/v1/plays/{ids[0]}", headers=bob.headers), 204)
    assert milestone()["subject"]["title"] == "Song 100"


def test_pages_cut_among_plays_of_one_instant_lose_none(
    client: TestClient, register: Any, alice: Account
) -> None:
    # limit=1 reads 24 plays at first: 30 friends played at one second, one of them more
    # after it; every play is told exactly once.
    friends = [register(f"friend{n}", timezone="UTC") for n in range(30)]
    for friend in friends:
        befriend(client, alice, friend)
        _record(client, friend, [play(ago(hours=3), track("Same second", f"{friend.name} band"))])
    _record(
        client,
        friends[0],
        [play(ago(hours=2, minutes=m), track(f"Later {m}", f"Other {m}")) for m in range(5)],
    )
    events = _feed_events(client, alice, 1)
    played = [e for e in events if e["kind"] == "played"]
    assert sum(e["count"] for e in played) == 35
    same = [e["user"]["name"] for e in played if e["items"][0]["title"] == "Same second"]
    assert sorted(same) == sorted(f.name for f in friends)
    events = _feed_events(client, alice, 7)
    assert sum(e["count"] for e in events if e["kind"] == "played") == 35


# -- live rooms -------------------------------------------------------------------------------


def _match_room(client: TestClient, account: Account) -> tuple[int, int]:
    """A match on now, watched by ``account``: (item id, the room's latest shout id)."""
    match = {
        "kind": "match",
        "competition": "Bundesliga",
        "home": "FC Bayern",
        "away": "BVB",
        "starts_at": (NOW - timedelta(minutes=20)).isoformat(),
    }
    item = ok(client.put("/api/v1/now-playing", json={"item": match}, headers=account.headers))
    room = ok(client.get(f"/api/v1/items/{item['item']['id']}/live", headers=account.headers))
    return item["item"]["id"], room["latest"]


def test_long_poll_answers_when_someone_shouts_and_leaves_out_blocked_authors(
    client: TestClient, live_server: str, register: Any, alice: Account
) -> None:
    bob, carol = register("bob"), register("carol")
    item_id, latest = _match_room(client, alice)
    ok(client.put("/api/v1/me/blocks/carol", headers=alice.headers), 204)
    url = f"{live_server}/api/v1/items/{item_id}/shouts"
    with httpx.Client(timeout=30) as http:
        # Nothing said: the long-poll ends with the wait, with nothing new.
        started = time.monotonic()
        quiet = http.get(url, params={"since": latest, "wait": 1}, headers=alice.headers)
        assert quiet.status_code == 200
        assert quiet.json() == {"shouts": [], "next": None, "latest": latest}
        assert 0.9 <= time.monotonic() - started < 10

        answers: list[Any] = []

        def poll() -> None:
            params = {"since": latest, "wait": 20}
            answers.append(http.get(url, params=params, headers=alice.headers))

        waiting = threading.Thread(target=poll)
        started = time.monotonic()
        waiting.start()
        time.sleep(0.5)
        shout(client, carol, f"/api/v1/items/{item_id}/shouts", "you cannot see me")
        shout(client, bob, f"/api/v1/items/{item_id}/shouts", "GOAL!")
        waiting.join(30)
        took = time.monotonic() - started
    assert answers[0].status_code == 200, answers[0].text
    page = answers[0].json()
    assert [s["body"] for s in page["shouts"]] == ["GOAL!"]
    assert page["shouts"][0]["author"]["name"] == "bob"
    assert took < 10
    # The answer is the one a plain poll gives.
    plain = ok(
        client.get(
            f"/api/v1/items/{item_id}/shouts", params={"since": latest}, headers=alice.headers
        )
    )
    assert page["shouts"] == plain["shouts"]
    assert page["latest"] >= plain["latest"]


def test_event_stream_pushes_shouts_with_ids_to_resume_from(
    client: TestClient, live_server: str, register: Any, alice: Account
) -> None:
    bob = register("bob")
    item_id, _latest = _match_room(client, alice)
    url = f"{live_server}/api/v1/items/{item_id}/shouts/stream"
    events: list[tuple[int, list[str]]] = []
    with (
        httpx.Client(timeout=30) as http,
        http.stream("GET", url, headers=alice.headers) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")

        def talk() -> None:
            time.sleep(0.3)
            for body in ("kick-off", "GOAL!"):
                shout(client, bob, f"/api/v1/items/{item_id}/shouts", body)
                time.sleep(0.3)

        talker = threading.Thread(target=talk)
        talker.start()
        current: int | None = None
        for line in stream.iter_lines():
            if line.startswith("id: "):
                current = int(line[4:])
            elif line.startswith("data: "):
                data = orjson.loads(line[6:])
                assert data["latest"] == current
                events.append((current, [s["body"] for s in data["shouts"]]))
                if sum(len(bodies) for _, bodies in events) >= 2:
                    break
        talker.join()
    assert [body for _, bodies in events for body in bodies] == ["kick-off", "GOAL!"]
    # Resuming from the first event's id gives what came after it.
    first_id = events[0][0]
    if len(events) > 1:
        with (
            httpx.Client(timeout=30) as http,
            http.stream(
                "GET", url, headers={**alice.headers, "Last-Event-ID": str(first_id)}
            ) as again,
        ):
            for line in again.iter_lines():
                if line.startswith("data: "):
                    assert [s["body"] for s in orjson.loads(line[6:])["shouts"]] == ["GOAL!"]
                    break


def test_concurrent_posters_never_make_a_poller_skip_a_shout(
    client: TestClient, register: Any, alice: Account
) -> None:
    posters = [register(f"poster{n}") for n in range(4)]
    item_id, latest = _match_room(client, alice)
    url = f"/api/v1/items/{item_id}/shouts"
    seen: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        since = latest
        while True:
            finished = stop.is_set()
            page = ok(client.get(url, params={"since": since, "limit": 200}))
            seen.extend(s["body"] for s in page["shouts"])
            since = page["latest"]
            if finished:
                return

    def post(account: Account) -> None:
        for n in range(10):
            shout(client, account, url, f"{account.name} {n}")

    reader = threading.Thread(target=poll)
    reader.start()
    writers = [threading.Thread(target=post, args=(p,)) for p in posters]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    stop.set()
    reader.join()
    assert sorted(seen) == sorted(f"{p.name} {n}" for p in posters for n in range(10))


def test_paging_reaches_old_and_sparse_activity_and_ends(
    client: TestClient, register: Any, alice: Account
) -> None:
    bob = register("bob", timezone="UTC")
    befriend(client, alice, bob)
    ages = (2, 40, 200, 1500, 5000)  # days: the widening windows reach each
    _record(client, bob, [play(ago(days=d), track(f"Old {d}", f"Band {d}")) for d in ages])
    item = _record(client, bob, [play(ago(hours=1), track("Now", "Band now"))])
    ok(client.put(f"/api/v1/items/{item[0]}/love", headers=bob.headers))
    for limit in (1, 2, 30):
        events = _feed_events(client, alice, limit)
        titles = [e["items"][0]["title"] for e in events if e["kind"] == "played"]
        assert titles == ["Now", *(f"Old {d}" for d in ages)]
        assert [e["kind"] for e in events].count("loved") == 1
