"""Segments through the API: the k-anonymity floor, aggregates only for advertisers, refreshes
(incremental, background, per user), lookalikes, interest clusters and the segtax 4 export."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tastegraph.cli.main import app as cli_app
from tastegraph.config import Settings
from tastegraph.runtime import Runtime
from tastegraph.web.app import create_app
from tests.audience_helpers import add_users, build_catalogue, names
from tests.conftest import Account

MATCHES = {"type": "kind", "kinds": ["match"], "min_plays": 2, "within_days": 30}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No chart folder in these tests: its commits make SQLite refuse the write a read request
    makes on a token's first use (``last_used_at``), which is not what these tests are about."""
    return settings.model_copy(update={"stats_fold_seconds": 0})


def _create(client: TestClient, who: Account, rule: Any, name: str = "s") -> dict[str, Any]:
    response = client.post(
        "/api/v1/audiences/segments", headers=who.headers, json={"name": name, "rule": rule}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _segments_of(runtime: Runtime, user_id: int) -> frozenset[int]:
    with runtime.db.unit_of_work() as session:
        return runtime.services(session).audiences.segments_of(user_id)


def test_the_size_shows_as_under_100_below_the_k_anonymity_floor(
    client: TestClient, admin: Account, runtime: Runtime
) -> None:
    world = build_catalogue(runtime)
    fans = add_users(runtime, world, names(99, "fan"), plays=[("match1", 1, 1), ("match2", 3, 1)])
    add_users(runtime, world, names(30, "refuser"), plays=[("match1", 1, 2)], consent=False)
    add_users(runtime, world, names(5, "once"), plays=[("match1", 1, 1)])

    estimate = client.post(
        "/api/v1/audiences/estimate", headers=admin.headers, json={"rule": MATCHES}
    )
    assert estimate.json() == {"size": "< 100", "targetable": False, "floor": 100}
    segment = _create(client, admin, MATCHES)
    assert (segment["size"], segment["targetable"]) == ("< 100", False)
    # Below the floor nobody is targeted through it.
    assert _segments_of(runtime, fans[0]) == frozenset()

    more = add_users(runtime, world, ["fan_hundred"], plays=[("match1", 1, 2)])
    estimate = client.post(
        "/api/v1/audiences/estimate", headers=admin.headers, json={"rule": MATCHES}
    )
    assert estimate.json() == {"size": 100, "targetable": True, "floor": 100}
    client.post("/api/v1/audiences/refresh", headers=admin.headers).raise_for_status()
    detail = client.get(f"/api/v1/audiences/segments/{segment['id']}", headers=admin.headers).json()
    assert (detail["size"], detail["targetable"]) == (100, True)
    assert _segments_of(runtime, fans[0]) == {segment["id"]}
    assert _segments_of(runtime, more[0]) == {segment["id"]}
    # Cells of the breakdowns follow the same floor.
    assert detail["by_country"] == [{"key": "DE", "size": 100}]
    assert detail["by_age_band"] == [{"key": "45-54", "size": 100}] or detail["by_age_band"] == [
        {"key": "35-44", "size": 100}
    ]


def test_advertisers_see_aggregates_of_their_own_segments_only(
    client: TestClient, register: Any, admin: Account, runtime: Runtime
) -> None:
    world = build_catalogue(runtime)
    add_users(runtime, world, names(60, "de"), plays=[("match1", 1, 2)])
    add_users(
        runtime, world, names(110, "at"), plays=[("match1", 1, 2)], country="AT", birth_year=1995
    )
    acme, globex, someone = register("acme"), register("globex"), register("someone")
    # Until the ads area says who advertises, only administrators may use audiences.
    assert client.get("/api/v1/audiences/segments", headers=acme.headers).status_code == 403
    assert (
        client.post(
            "/api/v1/audiences/estimate", headers=acme.headers, json={"rule": MATCHES}
        ).status_code
        == 403
    )
    runtime.audience_managers = lambda user: user.name in {"acme", "globex"}

    mine = _create(client, acme, MATCHES, name="Acme football")
    assert mine["size"] == 170
    assert mine["shared"] is False
    shared = _create(client, admin, {"type": "kind", "kinds": ["match"]}, name="All football")
    detail = client.get(f"/api/v1/audiences/segments/{mine['id']}", headers=acme.headers).json()
    assert detail["by_country"] == [{"key": "AT", "size": 110}, {"key": "DE", "size": "< 100"}]
    assert {c["key"] for c in detail["by_age_band"]} <= {"25-34", "35-44", "45-54"}

    # Another advertiser sees neither the segment nor its existence; shared ones are visible.
    assert (
        client.get(f"/api/v1/audiences/segments/{mine['id']}", headers=globex.headers).status_code
        == 404
    )
    listed = client.get("/api/v1/audiences/segments", headers=globex.headers).json()["segments"]
    assert [s["id"] for s in listed] == [shared["id"]]
    assert (
        client.put(
            f"/api/v1/audiences/segments/{shared['id']}",
            headers=acme.headers,
            json={"name": "mine"},
        ).status_code
        == 403
    )
    assert (
        client.delete(
            f"/api/v1/audiences/segments/{mine['id']}", headers=globex.headers
        ).status_code
        == 404
    )
    # Nobody but administrators lists members; nothing an advertiser gets names a user.
    assert (
        client.get(
            f"/api/v1/audiences/segments/{mine['id']}/members", headers=acme.headers
        ).status_code
        == 403
    )
    assert client.get("/api/v1/audiences/segments", headers=someone.headers).status_code == 403
    seen = json.dumps(
        [
            detail,
            client.get("/api/v1/audiences/segments", headers=acme.headers).json(),
            client.get("/api/v1/audiences/export", headers=acme.headers).json(),
        ]
    )
    assert "de00" not in seen
    assert "at00" not in seen
    assert '"user_id"' not in seen

    # The owner edits and deletes; a new rule is re-materialised at once.
    updated = client.put(
        f"/api/v1/audiences/segments/{mine['id']}",
        headers=acme.headers,
        json={
            "rule": {"type": "and", "rules": [MATCHES, {"type": "country", "countries": ["AT"]}]}
        },
    ).json()
    assert (updated["size"], updated["version"]) == (110, 2)
    assert (
        client.delete(f"/api/v1/audiences/segments/{mine['id']}", headers=acme.headers).status_code
        == 204
    )
    assert (
        client.get(f"/api/v1/audiences/segments/{mine['id']}", headers=acme.headers).status_code
        == 404
    )


def test_refreshes_are_incremental_and_follow_recency_windows(
    client: TestClient, register: Any, admin: Account, runtime: Runtime
) -> None:
    world = build_catalogue(runtime)
    add_users(runtime, world, names(100, "fan"), plays=[("match1", 1, 1), ("match2", 20, 1)])
    segment = _create(client, admin, MATCHES)
    assert segment["size"] == 100
    assert segment["stale_seconds"] is not None

    # A new viewer is picked up by the next refresh: one insert, nothing else touched.
    late = add_users(runtime, world, ["late"], plays=[("match3", 0, 2)])
    assert _segments_of(runtime, late[0]) == frozenset()
    report = client.post("/api/v1/audiences/refresh", headers=admin.headers).json()
    assert (report["segments"], report["added"], report["removed"]) == (1, 1, 0)
    assert _segments_of(runtime, late[0]) == {segment["id"]}
    report = client.post("/api/v1/audiences/refresh", headers=admin.headers).json()
    assert (report["added"], report["removed"]) == (0, 0)

    # Fifteen days on, the old plays left the 30-day window: departed members are deleted.
    start = datetime.now(UTC)
    runtime.clock = lambda: start + timedelta(days=15)
    report = client.post("/api/v1/audiences/refresh", headers=admin.headers).json()
    assert (report["added"], report["removed"]) == (0, 100)
    detail = client.get(f"/api/v1/audiences/segments/{segment['id']}", headers=admin.headers).json()
    assert detail["size"] == "< 100"
    assert _segments_of(runtime, late[0]) == frozenset()  # below the floor now

    # The per-user hook (after ingest) re-evaluates just that user.
    runtime.clock = lambda: datetime.now(UTC)
    alice = register("alice", birth_year=1980)
    client.put(
        "/api/v1/users/alice/consent",
        headers=alice.headers,
        json={"profiling": True, "personalised_ads": True},
    ).raise_for_status()
    now = int(time.time())
    client.post(
        "/api/v1/plays/batch",
        headers=alice.headers,
        json={
            "plays": [
                {"played_at": now - 60, "item_id": world.items["match4"]},
                {"played_at": now - 90, "item_id": world.items["match5"]},
            ]
        },
    ).raise_for_status()
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        user = svc.accounts.get_by_name("alice")
        assert svc.audiences.reevaluate_users([user.id]) == (1, 0)
        assert svc.audiences.reevaluate_users([user.id]) == (0, 0)


def test_the_server_refreshes_segments_in_the_background(
    settings: Settings, runtime: Runtime, admin: Account
) -> None:
    world = build_catalogue(runtime)
    app = create_app(settings.model_copy(update={"audience_refresh_seconds": 0.2}), runtime=runtime)
    with TestClient(app) as client:
        segment = _create(client, admin, MATCHES)
        assert segment["size"] == "< 100"
        newcomer = add_users(runtime, world, ["newcomer"], plays=[("match1", 0, 2)])
        deadline = time.monotonic() + 10
        members: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not members:
            time.sleep(0.1)
            members = client.get(
                f"/api/v1/audiences/segments/{segment['id']}/members", headers=admin.headers
            ).json()
        assert [m["id"] for m in members] == newcomer
        assert app.state.audience_refresher.runs >= 1
    assert app.state.audience_refresher._thread is None  # stopped with the app


def test_lookalike_expands_a_seed_to_the_target_size_with_the_most_similar_users(
    client: TestClient, admin: Account, runtime: Runtime
) -> None:
    world = build_catalogue(runtime)
    add_users(runtime, world, names(10, "seed"), plays=[("rock1", 1, 3)])
    add_users(runtime, world, names(6, "alike"), plays=[("rock2", 2, 4), ("jazz", 2, 1)])
    add_users(runtime, world, names(8, "jazz"), plays=[("jazz", 2, 4)])
    add_users(runtime, world, names(8, "telly"), plays=[("drama1", 2, 4)])
    add_users(runtime, world, names(3, "kidrock"), plays=[("rock2", 2, 4)], birth_year=2015)
    seed = _create(client, admin, {"type": "item", "items": [world.items["rock1"]]}, name="Seed")

    made = client.post(
        f"/api/v1/audiences/segments/{seed['id']}/lookalike",
        headers=admin.headers,
        json={"target_size": 16, "name": "Like the seed"},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["kind"], body["seed_segment_id"], body["size"]) == (
        "lookalike",
        seed["id"],
        "< 100",
    )
    assert body["meta"]["seed_size"] == 10
    assert body["meta"]["expanded"] == 6
    members = client.get(
        f"/api/v1/audiences/segments/{body['id']}/members", headers=admin.headers
    ).json()
    assert len(members) == 16
    assert {m["name"][:5] for m in members} == {"seed0", "alike"}

    # Without the seed: only the expansion, best first; never minors; no more than exist.
    only = client.post(
        f"/api/v1/audiences/segments/{seed['id']}/lookalike",
        headers=admin.headers,
        json={"target_size": 100, "include_seed": False},
    ).json()
    names_only = {
        m["name"]
        for m in client.get(
            f"/api/v1/audiences/segments/{only['id']}/members", headers=admin.headers
        ).json()
    }
    assert not any(n.startswith(("seed", "kidrock")) for n in names_only)
    assert {n for n in names_only if n.startswith("alike")} == set(names(6, "alike"))
    too_small = client.post(
        f"/api/v1/audiences/segments/{seed['id']}/lookalike",
        headers=admin.headers,
        json={"target_size": 5},
    )
    assert too_small.status_code == 422
    assert too_small.json()["code"] == "invalid_lookalike"


def test_interest_clusters_are_labelled_from_their_top_tags(
    client: TestClient, admin: Account, runtime: Runtime
) -> None:
    world = build_catalogue(runtime)
    add_users(runtime, world, names(12, "rock"), plays=[("rock1", 1, 5)])
    add_users(runtime, world, names(12, "jazz"), plays=[("jazz", 1, 5)])
    add_users(runtime, world, names(12, "drama"), plays=[("drama1", 1, 5)])
    add_users(runtime, world, names(12, "church"), plays=[("hymn", 1, 5), ("jazz", 1, 1)])
    built = client.post("/api/v1/audiences/clusters", headers=admin.headers, json={"k": 3})
    assert built.status_code == 200, built.text
    clusters = client.get("/api/v1/audiences/clusters", headers=admin.headers).json()["segments"]
    labels = {c["name"] for c in clusters}
    assert labels == {"rock · guitar", "jazz", "drama"}, labels
    assert all(c["kind"] == "cluster" and c["size"] == "< 100" for c in clusters)
    assert not any("gospel" in json.dumps(c) for c in clusters)
    drama = next(c for c in clusters if c["name"] == "drama")
    assert [i["id"] for i in drama["iab"]] == [706, 710]
    members = client.get(
        f"/api/v1/audiences/segments/{drama['id']}/members", headers=admin.headers
    ).json()
    assert {m["name"] for m in members} == set(names(12, "drama"))
    # Rebuilding replaces the clusters.
    client.post(
        "/api/v1/audiences/clusters", headers=admin.headers, json={"k": 2}
    ).raise_for_status()
    assert (
        len(client.get("/api/v1/audiences/clusters", headers=admin.headers).json()["segments"]) == 2
    )


def test_export_lists_sellable_segments_with_audience_taxonomy_ids(
    client: TestClient, admin: Account, runtime: Runtime
) -> None:
    world = build_catalogue(runtime)
    add_users(runtime, world, names(100, "fan"), plays=[("match1", 1, 2), ("drama1", 1, 1)])
    big = _create(client, admin, {"type": "kind", "kinds": ["match"]}, name="Football")
    small = _create(client, admin, {"type": "tag", "tags": ["jazz"]}, name="Jazz")
    export = client.get("/api/v1/audiences/export", headers=admin.headers).json()
    assert export["segtax"] == 4
    assert export["data"] == [
        {
            "name": "tastegraph",
            "ext": {"segtax": 4},
            "segment": [{"id": "607", "name": "Sports"}, {"id": "718", "name": "Sports TV"}],
        }
    ]
    by_id = {s["id"]: s for s in export["segments"]}
    assert by_id[big["id"]]["targetable"] is True
    assert by_id[big["id"]]["size"] == 100
    assert by_id[small["id"]]["targetable"] is False
    assert by_id[small["id"]]["size"] == "< 100"
    assert by_id[big["id"]]["dts"]["construction"] == "deterministic"
    taxonomy = client.get("/api/v1/audiences/taxonomy").json()
    known = {n["id"] for n in taxonomy["nodes"]}
    assert {int(i["id"]) for s in export["segments"] for i in s["iab"]} <= known
    assert 529 not in known
    assert 522 not in known


def test_the_operator_cli_refreshes_and_lists(
    database_url: str, runtime: Runtime, monkeypatch: Any
) -> None:
    world = build_catalogue(runtime)
    add_users(runtime, world, names(3, "fan"), plays=[("match1", 1, 2)])
    monkeypatch.setenv("TASTEGRAPH_DATABASE_URL", database_url)
    monkeypatch.setenv("TASTEGRAPH_MODE", "dev")
    cli = CliRunner()
    made = cli.invoke(cli_app, ["audiences", "create", "Football", "--rule", json.dumps(MATCHES)])
    assert made.exit_code == 0, made.output
    assert "< 100 members" in made.output
    add_users(runtime, world, ["late"], plays=[("match2", 1, 2)])
    refreshed = cli.invoke(cli_app, ["audiences", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "refreshed 1 segments: +1 -0" in refreshed.output
    listed = cli.invoke(cli_app, ["audiences", "list"])
    assert "Football" in listed.output
    assert "iab 607,718" in listed.output
    members = cli.invoke(cli_app, ["audiences", "members", "1"])
    assert members.output.count("\n") == 4
    bad = cli.invoke(cli_app, ["audiences", "estimate", '{"type": "kind"}'])
    assert bad.exit_code == 1
    assert "$.kinds" in bad.output
