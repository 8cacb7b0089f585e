"""Advertising consent through the API: opt-in, opt-out at once, the audit log, erasure, minors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tastegraph.audiences.models import ConsentEvent, SegmentMember
from tastegraph.catalog.models import ItemTag
from tastegraph.config import Settings
from tastegraph.ingest.models import Feedback, IncognitoPlay, Play
from tastegraph.runtime import Runtime
from tests.audience_helpers import add_users, build_catalogue, names
from tests.conftest import Account

YES = {"profiling": True, "personalised_ads": True}
NO = {"profiling": False, "personalised_ads": False}
THIS_YEAR = datetime.now(UTC).year


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No chart folder in these tests: its commits make SQLite refuse the write a read request
    makes on a token's first use (``last_used_at``), which is not what these tests are about."""
    return settings.model_copy(update={"stats_fold_seconds": 0})


def _consent(client: TestClient, who: Account, body: dict[str, Any]) -> dict[str, Any]:
    response = client.put(f"/api/v1/users/{who.name}/consent", json=body, headers=who.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _segments_of(runtime: Runtime, name: str) -> frozenset[int]:
    with runtime.db.unit_of_work() as session:
        svc = runtime.services(session)
        user = svc.accounts.get_by_name(name)
        return svc.audiences.segments_of(user.id)


def _targetable(runtime: Runtime, name: str) -> bool:
    with runtime.db.unit_of_work() as session:
        svc = runtime.services(session)
        return svc.audiences.is_targetable(svc.accounts.get_by_name(name).id)


def test_consent_is_off_until_given_and_needs_both_purposes_and_an_adult(
    client: TestClient, register: Any, runtime: Runtime
) -> None:
    alice = register("alice", country="DE")
    got = client.get("/api/v1/users/alice/consent", headers=alice.headers).json()
    assert got["profiling"] is False
    assert got["personalised_ads"] is False
    assert got["targetable"] is False
    assert got["reasons"]

    only_profile = _consent(client, alice, {"profiling": True, "personalised_ads": False})
    assert only_profile["targetable"] is False
    assert any("purpose 4" in r for r in only_profile["reasons"])

    unknown_age = _consent(client, alice, YES)
    assert unknown_age["targetable"] is False
    assert unknown_age["reasons"] == ["age unknown: declare that you are 18 or older"]
    assert not _targetable(runtime, "alice")

    declared = _consent(client, alice, {**YES, "declared_adult": True})
    assert declared["targetable"] is True
    assert declared["reasons"] == []
    assert _targetable(runtime, "alice")
    me = client.get("/api/v1/me", headers=alice.headers).json()
    assert me["consent_ad_profiling"] is True
    assert me["consent_updated_at"]

    # Owner only: another user may not read or change it; anonymous callers must log in.
    bob = register("bob")
    assert client.get("/api/v1/users/alice/consent", headers=bob.headers).status_code == 403
    assert (
        client.put("/api/v1/users/alice/consent", json=NO, headers=bob.headers).status_code == 403
    )
    assert client.get("/api/v1/users/alice/consent").status_code == 401


def test_every_change_is_in_the_audit_log(client: TestClient, register: Any) -> None:
    alice = register("alice", birth_year=1980)
    _consent(client, alice, YES)
    _consent(client, alice, YES)  # no change, no event
    assert (
        client.patch(
            "/api/v1/me", json={"consent_ad_profiling": False}, headers=alice.headers
        ).json()["consent_ad_profiling"]
        is False
    )

    log = client.get("/api/v1/users/alice/consent/audit", headers=alice.headers).json()
    assert [(e["source"], e["actor"]) for e in log] == [("api", "self"), ("settings", "self")]
    assert log[0]["old"] == {"profiling": False, "personalised_ads": False, "declared_adult": False}
    assert log[0]["new"] == {"profiling": True, "personalised_ads": True, "declared_adult": False}
    assert log[1]["old"]["profiling"] is True
    assert log[1]["new"]["profiling"] is False
    assert datetime.fromisoformat(log[0]["at"]) <= datetime.fromisoformat(log[1]["at"])
    bob = register("bob")
    assert client.get("/api/v1/users/alice/consent/audit", headers=bob.headers).status_code == 403


def test_opting_out_leaves_every_segment_at_once(
    client: TestClient, register: Any, admin: Account, runtime: Runtime
) -> None:
    world = build_catalogue(runtime)
    add_users(runtime, world, names(100, "fan"), plays=[("match1", 2, 1), ("rock1", 2, 1)])
    alice = register("alice", birth_year=1985)
    _consent(client, alice, YES)
    played = client.post(
        "/api/v1/plays/batch",
        headers=alice.headers,
        json={
            "plays": [
                {"played_at": int(datetime.now(UTC).timestamp()) - 3600, "item_id": item}
                for item in (world.items["match1"], world.items["rock1"])
            ]
        },
    )
    assert played.status_code == 200, played.text
    created = [
        client.post(
            "/api/v1/audiences/segments",
            headers=admin.headers,
            json={"name": name, "rule": {"type": "kind", "kinds": [kind]}},
        ).json()
        for name, kind in (("Match viewers", "match"), ("Track listeners", "track"))
    ]
    assert [c["size"] for c in created] == [101, 101]
    lookalike = client.post(
        f"/api/v1/audiences/segments/{created[0]['id']}/lookalike",
        headers=admin.headers,
        json={"target_size": 101},
    )
    assert lookalike.status_code == 201, lookalike.text
    ids = {c["id"] for c in created}
    assert _segments_of(runtime, "alice") >= ids

    out = _consent(client, alice, {"profiling": True, "personalised_ads": False})
    assert out["targetable"] is False
    # In the same transaction: no membership is left, and no targeting.
    assert _segments_of(runtime, "alice") == frozenset()
    assert not _targetable(runtime, "alice")
    with runtime.db.unit_of_work() as session:
        alice_id = runtime.services(session).accounts.get_by_name("alice").id
        left = session.scalar(
            select(func.count()).select_from(SegmentMember).where(SegmentMember.user_id == alice_id)
        )
        assert left == 0
    for segment in created:
        detail = client.get(
            f"/api/v1/audiences/segments/{segment['id']}", headers=admin.headers
        ).json()
        assert detail["size"] == 100
    # A refresh does not bring her back while she has not consented.
    assert client.post("/api/v1/audiences/refresh", headers=admin.headers).status_code == 200
    assert _segments_of(runtime, "alice") == frozenset()
    # Consenting again puts her back in the rule segments straight away.
    _consent(client, alice, YES)
    assert _segments_of(runtime, "alice") == ids


def test_minors_and_people_of_unknown_age_are_never_targeted(
    client: TestClient, admin: Account, runtime: Runtime
) -> None:
    world = build_catalogue(runtime)
    plays = [("rock1", 1, 2)]
    add_users(runtime, world, names(100, "adult"), plays=plays)
    add_users(runtime, world, ["kid"], plays=plays, birth_year=THIS_YEAR - 12, declared_adult=True)
    add_users(runtime, world, ["teen"], plays=plays, birth_year=THIS_YEAR - 17)
    add_users(runtime, world, ["maybe"], plays=plays, birth_year=THIS_YEAR - 18)
    add_users(runtime, world, ["sure"], plays=plays, birth_year=THIS_YEAR - 18, declared_adult=True)
    add_users(runtime, world, ["ageless"], plays=plays, birth_year=None)
    add_users(runtime, world, ["said18"], plays=plays, birth_year=None, declared_adult=True)
    segment = client.post(
        "/api/v1/audiences/segments",
        headers=admin.headers,
        json={"name": "Rock", "rule": {"type": "creator", "creators": [world.roots["rock1"]]}},
    ).json()
    members = client.get(
        f"/api/v1/audiences/segments/{segment['id']}/members", headers=admin.headers
    ).json()
    member_names = {m["name"] for m in members}
    assert {"sure", "said18"} <= member_names
    assert not member_names & {"kid", "teen", "maybe", "ageless"}
    assert segment["size"] == 102
    for name in ("kid", "teen", "maybe", "ageless"):
        assert not _targetable(runtime, name)
        assert _segments_of(runtime, name) == frozenset()
    assert _segments_of(runtime, "sure") == {segment["id"]}
    # An age rule cannot reach below 18.
    bad = client.post(
        "/api/v1/audiences/estimate",
        headers=admin.headers,
        json={"rule": {"type": "age", "min": 13, "max": 17}},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "$.rule.min"
    # A user who corrects their birth year to a minor's leaves at once.
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        adult = svc.accounts.get_by_name("adult000")
        adult.birth_year = THIS_YEAR - 15
        svc.audiences.account_changed(adult)
    assert _segments_of(runtime, "adult000") == frozenset()


def test_erasure_deletes_the_user_and_everything_theirs(
    client: TestClient, register: Any, admin: Account, runtime: Runtime
) -> None:
    world = build_catalogue(runtime)
    alice = register("alice", birth_year=1980)
    bob = register("bob")
    _consent(client, alice, YES)
    now = int(datetime.now(UTC).timestamp())
    client.post(
        "/api/v1/plays/batch",
        headers=alice.headers,
        json={
            "plays": [
                {"played_at": now - 60, "item_id": world.items["rock1"]},
                {"played_at": now - 120, "item_id": world.items["jazz"], "incognito": True},
            ]
        },
    ).raise_for_status()
    client.put(f"/api/v1/items/{world.items['rock1']}/love", headers=alice.headers)
    client.post(
        f"/api/v1/items/{world.items['rock1']}/tags", headers=alice.headers, json={"tags": ["loud"]}
    )
    client.post(
        "/api/v1/audiences/segments",
        headers=admin.headers,
        json={"name": "Tracks", "rule": {"type": "kind", "kinds": ["track"]}},
    ).raise_for_status()
    with runtime.db.unit_of_work() as session:
        alice_id = runtime.services(session).accounts.get_by_name("alice").id

    assert client.delete("/api/v1/users/alice", headers=bob.headers).status_code == 403
    assert client.delete("/api/v1/users/alice", headers=alice.headers).status_code == 204

    assert client.get("/api/v1/users/alice").status_code == 404
    assert client.get("/api/v1/me", headers=alice.headers).status_code == 401
    with runtime.db.unit_of_work() as session:
        for model in (Play, IncognitoPlay, Feedback, ItemTag, SegmentMember):
            count = session.scalar(
                select(func.count()).select_from(model).where(model.user_id == alice_id)
            )
            assert count == 0, model.__name__
        events = session.execute(select(ConsentEvent.user_id, ConsentEvent.source)).all()
        assert [(user_id, source) for user_id, source in events] == [(None, "erasure")]
    # The name is free again; bob is untouched.
    assert client.get("/api/v1/me", headers=bob.headers).status_code == 200
    register("alice")
