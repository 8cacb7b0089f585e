"""The rule language through the API: validation errors with paths, every rule type against a
hand-computed membership, AND / OR / NOT, and sensitive categories kept out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.config import Settings
from tastegraph.runtime import Runtime
from tests.audience_helpers import World, add_users, build_catalogue
from tests.conftest import Account

THIS_YEAR = datetime.now(UTC).year


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No chart folder in these tests: its commits make SQLite refuse the write a read request
    makes on a token's first use (``last_used_at``), which is not what these tests are about."""
    return settings.model_copy(update={"stats_fold_seconds": 0})


def _estimate(client: TestClient, admin: Account, rule: Any) -> Any:
    return client.post("/api/v1/audiences/estimate", headers=admin.headers, json={"rule": rule})


@pytest.mark.parametrize(
    ("rule", "path", "code"),
    [
        (
            {"type": "kind", "kinds": ["match"], "min_plays": 0},
            "$.rule.min_plays",
            "greater_than_equal",
        ),
        ({"type": "kind"}, "$.rule.kinds", "missing"),
        ({"type": "kind", "kinds": ["podcast"]}, "$.rule.kinds[0]", "enum"),
        ({"type": "vibes"}, "$.rule", "union_tag_invalid"),
        ({"kinds": ["match"]}, "$.rule", "union_tag_not_found"),
        (
            {
                "type": "and",
                "rules": [
                    {"type": "country", "countries": ["DE"]},
                    {"type": "not", "rule": {"type": "tag", "tags": ["rock"], "within_days": -1}},
                ],
            },
            "$.rule.rules[1].rule.within_days",
            "greater_than_equal",
        ),
        ({"type": "country", "countries": ["DE", "XX"]}, "$.rule.countries[1]", "value_error"),
        ({"type": "timezone", "timezones": ["Mars/Olympus"]}, "$.rule.timezones[0]", "value_error"),
        ({"type": "tag", "tags": ["rock", "Gospel"]}, "$.rule.tags[1]", "value_error"),
        ({"type": "interest", "tags": ["LGBTQ films"]}, "$.rule.tags[0]", "value_error"),
        ({"type": "interest"}, "$.rule", "value_error"),
        ({"type": "age", "min": 30, "max": 20}, "$.rule", "value_error"),
        ({"type": "kind", "kinds": ["match"], "extra": 1}, "$.rule.extra", "extra_forbidden"),
        ({"type": "or", "rules": []}, "$.rule.rules", "too_short"),
        ([1, 2], "$.rule", "model_attributes_type"),
        ({"type": "item", "items": [99999]}, "$.rule.items[0]", "item_not_found"),
    ],
)
def test_malformed_rules_are_refused_with_the_path_of_the_problem(
    client: TestClient, admin: Account, rule: Any, path: str, code: str
) -> None:
    response = _estimate(client, admin, rule)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "invalid_rule"
    assert (body["errors"][0]["path"], body["errors"][0]["code"]) == (path, code), body
    assert body["detail"].startswith(path)


def test_rules_nest_at_most_eight_deep(client: TestClient, admin: Account) -> None:
    rule: dict[str, Any] = {"type": "country", "countries": ["DE"]}
    for _ in range(9):
        rule = {"type": "not", "rule": rule}
    response = _estimate(client, admin, rule)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "$.rule" + ".rule" * 8


def _world(runtime: Runtime) -> World:
    world = build_catalogue(runtime)
    add = add_users
    # Football: three Bundesliga matches in the last 30 days (or long ago), a cup match.
    add(
        runtime,
        world,
        ["fan_a", "fan_b"],
        plays=[("match1", 2, 1), ("match2", 9, 1), ("match3", 20, 1)],
    )
    add(
        runtime, world, ["fan_old"], plays=[("match1", 45, 1), ("match2", 50, 1), ("match3", 60, 1)]
    )
    add(
        runtime,
        world,
        ["fan_two"],
        plays=[("match1", 2, 2)],
        country="AT",
        timezone="Europe/Vienna",
    )
    add(
        runtime,
        world,
        ["cup"],
        plays=[("cupmatch", 3, 1)],
        country="FR",
        locale="fr-FR",
        timezone="Europe/Paris",
        birth_year=1999,
    )
    # Music: the Rockers via their album, a featured appearance, jazz, a hymn (sensitive).
    add(
        runtime,
        world,
        ["rocker"],
        plays=[("rock1", 1, 3), ("rock2", 1, 1)],
        birth_year=1970,
        country="GB",
        locale="en-GB",
        timezone="Europe/London",
    )
    add(
        runtime,
        world,
        ["guest"],
        plays=[("feat", 4, 1)],
        country="BR",
        locale="pt-BR",
        timezone="America/Sao_Paulo",
        birth_year=2000,
    )
    add(
        runtime,
        world,
        ["jazzer"],
        plays=[("jazz", 5, 2)],
        country="US",
        locale="en-US",
        timezone="America/New_York",
    )
    add(runtime, world, ["churchgoer"], plays=[("hymn", 1, 20)])
    add(runtime, world, ["viewer"], plays=[("drama1", 6, 1), ("drama2", 6, 1)], birth_year=1960)
    # Not eligible: no consent, a minor; they match plenty but are never in a segment.
    add(runtime, world, ["refuser"], plays=[("match1", 1, 5), ("rock1", 1, 5)], consent=False)
    add(
        runtime,
        world,
        ["minor"],
        plays=[("match1", 1, 5), ("rock1", 1, 5)],
        birth_year=THIS_YEAR - 14,
    )
    return world


def _members(client: TestClient, admin: Account, rule: Any) -> set[str]:
    created = client.post(
        "/api/v1/audiences/segments", headers=admin.headers, json={"name": "t", "rule": rule}
    )
    assert created.status_code == 201, created.text
    segment_id = created.json()["id"]
    members = client.get(
        f"/api/v1/audiences/segments/{segment_id}/members", headers=admin.headers
    ).json()
    assert created.json()["size"] == "< 100"
    return {m["name"] for m in members}


def test_every_rule_type_selects_exactly_the_users_it_describes(
    client: TestClient, admin: Account, runtime: Runtime
) -> None:
    w = _world(runtime)
    fans = {"fan_a", "fan_b"}
    cases: list[tuple[dict[str, Any], set[str]]] = [
        # "watched at least 3 football matches in the last 30 days"
        ({"type": "kind", "kinds": ["match"], "min_plays": 3, "within_days": 30}, fans),
        ({"type": "kind", "kinds": ["match"], "min_plays": 3}, fans | {"fan_old"}),
        (
            {
                "type": "kind",
                "kinds": ["match"],
                "min_plays": 2,
                "within_days": 30,
                "distinct_items": True,
            },
            fans,
        ),
        (
            {"type": "kind", "kinds": ["match"], "min_plays": 2, "within_days": 30},
            fans | {"fan_two"},
        ),
        ({"type": "kind", "kinds": ["episode"]}, {"viewer"}),
        # Items: a match itself; a show reaches its episodes; a competition its matches.
        ({"type": "item", "items": [w.items["match1"]]}, fans | {"fan_old", "fan_two"}),
        ({"type": "item", "items": [w.artists["Harbour Lights"]]}, {"viewer"}),
        ({"type": "item", "items": [w.roots["cupmatch"]]}, {"cup"}),
        # Creators: an artist through album and through a featured credit; a home team.
        ({"type": "creator", "creators": [w.artists["The Rockers"]]}, {"rocker", "guest"}),
        ({"type": "creator", "creators": [w.artists["The Rockers"]], "min_plays": 4}, {"rocker"}),
        (
            {
                "type": "creator",
                "creators": [w.artists["FC Nord"]],
                "kinds": ["match"],
                "min_plays": 3,
                "within_days": 30,
            },
            fans,
        ),
        # Tags, on the root (artist, show) of what was played.
        ({"type": "tag", "tags": ["Rock"]}, {"rocker"}),
        ({"type": "tag", "tags": ["drama", "jazz"]}, {"viewer", "jazzer"}),
        ({"type": "interest", "tags": ["jazz"], "min_similarity": 0.5}, {"jazzer"}),
        ({"type": "interest", "items": [w.items["rock1"]]}, {"rocker"}),
        # The account.
        ({"type": "country", "countries": ["AT", "fr"]}, {"fan_two", "cup"}),
        ({"type": "language", "languages": ["en"]}, {"rocker", "jazzer"}),
        ({"type": "language", "languages": ["pt", "fr"]}, {"guest", "cup"}),
        (
            {"type": "timezone", "timezones": ["America/Sao_Paulo", "Europe/London"]},
            {"rocker", "guest"},
        ),
        ({"type": "age", "min": 50}, {"rocker", "viewer"}),
        ({"type": "age", "min": 18, "max": THIS_YEAR - 1999}, {"cup", "guest"}),
        ({"type": "birth_year", "from_year": 1960, "to_year": 1970}, {"rocker", "viewer"}),
        # AND / OR / NOT.
        (
            {
                "type": "and",
                "rules": [
                    {"type": "kind", "kinds": ["match"]},
                    {"type": "country", "countries": ["DE"]},
                ],
            },
            fans | {"fan_old"},
        ),
        (
            {
                "type": "or",
                "rules": [
                    {"type": "tag", "tags": ["jazz"]},
                    {"type": "country", "countries": ["FR"]},
                ],
            },
            {"jazzer", "cup"},
        ),
        (
            {
                "type": "and",
                "rules": [
                    {"type": "country", "countries": ["DE"]},
                    {"type": "not", "rule": {"type": "kind", "kinds": ["match"]}},
                ],
            },
            {"churchgoer", "viewer"},
        ),
    ]
    for rule, expected in cases:
        assert _members(client, admin, rule) == expected, rule


def test_sensitive_categories_are_never_used(
    client: TestClient, admin: Account, runtime: Runtime
) -> None:
    w = _world(runtime)
    # A rule naming a sensitive item (by its tagged artist) or tag is refused...
    for rule, path in [
        ({"type": "item", "items": [w.items["hymn"]]}, "$.rule.items[0]"),
        ({"type": "creator", "creators": [w.artists["The Choir"]]}, "$.rule.creators[0]"),
        ({"type": "tag", "tags": ["gospel"]}, "$.rule.tags[0]"),
    ]:
        response = _estimate(client, admin, rule)
        assert response.status_code == 422, rule
        error = response.json()["errors"][0]
        assert error["path"] == path
        assert error["code"] in {"sensitive_category", "value_error"}
        assert "special category" in error["message"]
    # ...and plays of sensitive items count for nothing: twenty hymns are not "a track".
    assert "churchgoer" not in _members(client, admin, {"type": "kind", "kinds": ["track"]})
    assert "churchgoer" not in _members(
        client, admin, {"type": "kind", "kinds": ["track"], "min_plays": 1}
    )


def test_group_rules_use_public_groups_only(
    client: TestClient, admin: Account, runtime: Runtime
) -> None:
    from tastegraph.social.models import Group, GroupMember, GroupPrivacy, MembershipStatus

    w = _world(runtime)
    with runtime.db.unit_of_work(write=True) as session:
        public = Group(slug="nord-fans", name="Nord fans", privacy=GroupPrivacy.PUBLIC)
        private = Group(slug="secret", name="Secret club", privacy=GroupPrivacy.PRIVATE)
        faith = Group(slug="faith", name="Christian music", privacy=GroupPrivacy.PUBLIC)
        session.add_all([public, private, faith])
        session.flush()
        for name, status in (
            ("fan_a", MembershipStatus.MEMBER),
            ("fan_two", MembershipStatus.MEMBER),
            ("jazzer", MembershipStatus.REQUESTED),
            ("refuser", MembershipStatus.MEMBER),
        ):
            session.add(GroupMember(group_id=public.id, user_id=w.users[name], status=status))
        ids = (public.id, private.id, faith.id)
    assert _members(client, admin, {"type": "group", "groups": [ids[0]]}) == {"fan_a", "fan_two"}
    for group_id, code in (
        (ids[1], "group_not_public"),
        (ids[2], "sensitive_category"),
        (99999, "group_not_found"),
    ):
        response = _estimate(client, admin, {"type": "group", "groups": [group_id]})
        assert response.status_code == 422
        assert response.json()["errors"][0] == {
            "path": "$.rule.groups[0]",
            "code": code,
            "message": response.json()["errors"][0]["message"],
        }


def test_iab_ids_are_derived_from_the_rule_and_checked(
    client: TestClient, admin: Account, runtime: Runtime
) -> None:
    w = _world(runtime)
    created = client.post(
        "/api/v1/audiences/segments",
        headers=admin.headers,
        json={
            "name": "Football",
            "rule": {
                "type": "or",
                "rules": [
                    {"type": "creator", "creators": [w.artists["FC Nord"]], "kinds": ["match"]},
                    {"type": "tag", "tags": ["football"]},
                    {"type": "not", "rule": {"type": "tag", "tags": ["drama"]}},
                ],
            },
        },
    )
    assert created.status_code == 201, created.text
    assert [i["id"] for i in created.json()["iab"]] == [607, 663, 718]
    assert created.json()["segtax"] == 4
    made_up = client.post(
        "/api/v1/audiences/segments",
        headers=admin.headers,
        json={"name": "x", "rule": {"type": "kind", "kinds": ["film"]}, "iab_ids": [467, 1234]},
    )
    assert made_up.status_code == 422
    assert made_up.json()["errors"][0]["path"] == "$.iab_ids[1]"
