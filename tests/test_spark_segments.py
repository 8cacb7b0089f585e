"""Rule segments materialised on Spark (``batch/spark_segments.py``) hold exactly the members
the database's own evaluation (``audiences.compiler``) gives, for every rule type, and are
written back through the same diff, so the segment bitmaps of insights follow."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from tastegraph.accounts.models import User
from tastegraph.audiences.eligibility import eligible_users
from tastegraph.audiences.models import Segment, SegmentMember
from tastegraph.batch.side_tables import write_side_tables
from tastegraph.batch.spark_segments import SparkRules
from tastegraph.insights import segment_bits
from tastegraph.runtime import Runtime
from tastegraph.social.models import GroupPrivacy
from tastegraph.storage.base import utcnow
from tests.audience_helpers import World, add_users, build_catalogue, names
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.recs_helpers import train_now
from tests.spark_batch_helpers import export_to, spark

__all__ = ["spark"]


def _groups(runtime: Runtime, world: World) -> dict[str, int]:
    """A public group of some rock fans and a private one of some jazz fans."""
    made: dict[str, int] = {}
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        for label, prefix, privacy in (
            ("Rock Club", "rock", GroupPrivacy.PUBLIC),
            ("Jazz Cellar", "jazz", GroupPrivacy.PRIVATE),
        ):
            members = [session.get(User, world.users[f"{prefix}{n:03d}"]) for n in range(4)]
            owner = members[0]
            assert owner is not None
            group = svc.groups.create(
                owner, name=label, description=None, privacy=privacy, item=None
            )
            for member in members[1:]:
                assert member is not None
                svc.groups.join(member, group)
            made[label] = group.id
    return made


def _world(runtime: Runtime) -> tuple[World, dict[str, int]]:
    world = build_catalogue(runtime)
    year = utcnow().year
    add_users(
        runtime, world, names(12, "rock"), plays=[("rock1", 5, 3), ("rock2", 6, 1), ("feat", 40, 1)]
    )
    add_users(
        runtime,
        world,
        names(8, "jazz"),
        plays=[("jazz", 10, 2), ("hymn", 3, 5)],
        country="FR",
        locale="fr-FR",
        timezone="Europe/Paris",
        birth_year=1995,
    )
    add_users(
        runtime,
        world,
        names(8, "foot"),
        plays=[("match1", 3, 1), ("match2", 4, 1), ("match3", 5, 1), ("cupmatch", 100, 1)],
        birth_year=2000,
    )
    add_users(
        runtime,
        world,
        names(6, "drama"),
        plays=[("drama1", 20, 1), ("drama2", 21, 2)],
        country=None,
    )
    add_users(runtime, world, names(4, "minor"), plays=[("rock1", 5, 3)], birth_year=year - 15)
    add_users(runtime, world, names(4, "nocons"), plays=[("rock1", 5, 3)], consent=False)
    add_users(
        runtime,
        world,
        names(3, "declared"),
        plays=[("jazz", 2, 1)],
        birth_year=year - 18,
        declared_adult=True,
    )
    add_users(runtime, world, names(3, "undeclared"), plays=[("jazz", 2, 1)], birth_year=year - 18)
    add_users(
        runtime,
        world,
        names(3, "hymns"),
        plays=[("hymn", 2, 4)],
        birth_year=None,
        declared_adult=True,
    )
    add_users(runtime, world, names(3, "news"), plays=[("story", 1, 1)], locale="pt-BR")
    return world, _groups(runtime, world)


def _rules(world: World, groups: dict[str, int]) -> dict[str, dict[str, Any]]:
    rockers = world.artists["The Rockers"]
    return {
        "kind, 3 plays in 30 days": {
            "type": "kind",
            "kinds": ["track"],
            "min_plays": 3,
            "within_days": 30,
        },
        "item: an album and what is under it": {"type": "item", "items": [world.roots["rock1"]]},
        "item: a show, 2 distinct episodes": {
            "type": "item",
            "items": [world.artists["Harbour Lights"]],
            "distinct_items": True,
            "min_plays": 2,
        },
        "creator: an artist, featured too": {"type": "creator", "creators": [rockers]},
        "creator: a team's matches, 2 in 30 days": {
            "type": "creator",
            "creators": [world.artists["FC Nord"]],
            "kinds": ["match"],
            "min_plays": 2,
            "within_days": 30,
        },
        "creator: a competition": {"type": "creator", "creators": [world.roots["match1"]]},
        "tag on the artist, 2 distinct tracks": {
            "type": "tag",
            "tags": ["Rock"],
            "distinct_items": True,
            "min_plays": 2,
        },
        "tag on the show": {"type": "tag", "tags": ["drama"], "kinds": ["episode"]},
        "not in DE (no country is not a match either)": {
            "type": "and",
            "rules": [
                {"type": "kind", "kinds": ["episode", "track", "story"]},
                {"type": "not", "rule": {"type": "country", "countries": ["DE"]}},
            ],
        },
        "language or time zone": {
            "type": "or",
            "rules": [
                {"type": "language", "languages": ["pt"]},
                {"type": "timezone", "timezones": ["Europe/Paris"]},
            ],
        },
        "age 18-30": {"type": "age", "min": 18, "max": 30},
        "not age 25+": {"type": "not", "rule": {"type": "age", "min": 25}},
        "birth years": {"type": "birth_year", "from_year": 1975, "to_year": 1999},
        "public group": {"type": "group", "groups": [groups["Rock Club"]]},
        "interest in tags": {"type": "interest", "tags": ["jazz"], "min_similarity": 0.3},
        "interest in items (embeddings)": {
            "type": "interest",
            "items": [world.items["rock1"]],
            "min_similarity": 0.5,
        },
        "nested": {
            "type": "or",
            "rules": [
                {
                    "type": "and",
                    "rules": [
                        {"type": "kind", "kinds": ["match"]},
                        {"type": "not", "rule": {"type": "birth_year", "to_year": 1990}},
                    ],
                },
                {"type": "not", "rule": {"type": "kind", "kinds": ["track", "match"]}},
            ],
        },
    }


def test_spark_members_equal_the_database_evaluation_for_every_rule_type(
    spark: Any, runtime: Runtime, tmp_path: Path
) -> None:
    world, groups = _world(runtime)
    train_now(runtime, ["mixed"])  # item embeddings for interest rules that name items
    export = export_to(runtime, tmp_path / "export")
    write_side_tables(runtime.db, export)
    rules = _rules(world, groups)
    timings: dict[str, float] = {}
    sizes: dict[str, int] = {}
    with runtime.db.unit_of_work() as session:
        audiences = runtime.services(session).audiences
        evaluator = SparkRules(
            spark,
            export,
            now=audiences.clock(),
            sensitive_tag_ids=audiences.sensitive_tag_ids(),
            item_vectors=audiences.item_vectors,
        )
        for label, document in rules.items():
            rule = audiences.validate_rule(document)
            local = sorted(set(session.scalars(audiences.members_query(rule))))
            started = time.perf_counter()
            remote = evaluator.member_ids(rule)
            timings[label] = time.perf_counter() - started
            assert remote == local, label
            sizes[label] = len(remote)
        eligible = set(session.scalars(eligible_users(utcnow().year)))
    # The rules select different, non-trivial groups of people.
    assert all(0 < n < len(eligible) for n in sizes.values()), sizes
    assert len(set(sizes.values())) >= 6
    print(
        f"\n{len(rules)} rules on Spark: {sum(timings.values()):.1f} s "
        f"(slowest {max(timings.values()):.1f} s); members {sizes} of {len(eligible)}"
    )


def test_the_spark_job_materialises_through_the_diff_and_the_hooks_follow(
    spark: Any, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    world, groups = _world(runtime)
    rules = _rules(world, groups)
    chosen = [
        "kind, 3 plays in 30 days",
        "creator: an artist, featured too",
        "not in DE (no country is not a match either)",
        "public group",
        "interest in tags",
    ]
    with runtime.db.unit_of_work(write=True) as session:
        audiences = runtime.services(session).audiences
        segments = {
            label: audiences.create_segment(None, name=label, rule=rules[label]).id
            for label in chosen
        }
    env = dev_env(database_url, TASTEGRAPH_DATA_DIR=str(tmp_path / "data"))

    first = tmp_path / "first"
    assert_clean_exit(invoke(["export", "parquet", str(first)], env), 0)
    started = time.perf_counter()
    ran = invoke(["batch", "run", "segments", "--runner", "spark", "--export", str(first)], env)
    seconds = time.perf_counter() - started
    assert_clean_exit(ran, 0)
    # The database's materialisation at creation and Spark's agree: nothing to change.
    assert "5 segments materialised on Spark: +0 -0 members" in ran.stdout, ran.stdout

    # New rock fans arrive and a segment's members were lost: the next export and run add
    # exactly them, through the diff, and the insights bitmaps follow.
    newcomers = add_users(runtime, world, names(3, "late"), plays=[("rock1", 1, 3)])
    with runtime.db.unit_of_work(write=True) as session:
        lost = segments["public group"]
        session.execute(delete(SegmentMember).where(SegmentMember.segment_id == lost))
    second = tmp_path / "second"
    assert_clean_exit(invoke(["export", "parquet", str(second)], env), 0)
    again = invoke(["batch", "run", "segments", "--runner", "spark", "--export", str(second)], env)
    assert_clean_exit(again, 0)
    assert "+10 -0 members" in again.stdout, again.stdout  # 3 + 3 newcomers, 4 group members
    with runtime.db.unit_of_work() as session:
        assert segment_bits.check(session) == []
        members = {
            label: set(
                session.scalars(
                    select(SegmentMember.user_id).where(SegmentMember.segment_id == segment_id)
                )
            )
            for label, segment_id in segments.items()
        }
        counts = {
            s.name: s.member_count
            for s in session.scalars(select(Segment).where(Segment.id.in_(segments.values())))
        }
    assert set(newcomers) <= members["kind, 3 plays in 30 days"]
    assert set(newcomers) <= members["creator: an artist, featured too"]
    assert len(members["public group"]) == 4
    assert counts == {label: len(m) for label, m in members.items()}

    # The local runner (the database refresh) finds nothing to change after Spark.
    local = invoke(["batch", "run", "segments", "--runner", "local"], env)
    assert_clean_exit(local, 0)
    assert "5 segments refreshed: +0 -0 members" in local.stdout, local.stdout
    print(
        f"\nsegments job on Spark: {seconds:.1f} s for {len(segments)} segments; "
        f"local: {local.stdout.strip()}"
    )


def test_a_rule_that_no_longer_validates_is_deactivated_as_locally(
    spark: Any, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    _, groups = _world(runtime)
    with runtime.db.unit_of_work(write=True) as session:
        audiences = runtime.services(session).audiences
        segment = audiences.create_segment(
            None, name="club", rule={"type": "group", "groups": [groups["Rock Club"]]}
        )
        segment_id = segment.id
        assert segment.member_count == 4
        from tastegraph.social.models import Group

        club = session.get(Group, groups["Rock Club"])
        assert club is not None
        club.privacy = GroupPrivacy.PRIVATE  # its members can no longer be targeted
    env = dev_env(database_url, TASTEGRAPH_DATA_DIR=str(tmp_path / "data"))
    export = tmp_path / "export"
    assert_clean_exit(invoke(["export", "parquet", str(export)], env), 0)
    ran = invoke(["batch", "run", "segments", "--runner", "spark", "--export", str(export)], env)
    assert_clean_exit(ran, 0)
    assert "1 deactivated" in ran.stdout, ran.stdout
    with runtime.db.unit_of_work() as session:
        stored = session.get(Segment, segment_id)
        assert stored is not None
        assert not stored.active
        assert stored.member_count == 0
