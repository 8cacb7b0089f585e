"""``tastegraph export parquet DIR``: the fixed layout batch jobs read, on both backends.

Written in small batches here (as a 20-million-play log is in 100,000-row ones), it must
hold exactly the taste log (no incognito plays) partitioned by UTC month, the catalogue with
its parents, credits and merges, users without anything secret, feedback and segment
members, and a manifest that says what it holds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Play
from tastegraph.migrations import head_revision
from tastegraph.runtime import Runtime
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.conftest import Account, play, track
from tests.spark_helpers import skip_without

PLAYS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("2024-12-31T23:59:59Z", track("Halo", "Beyoncé", album="I Am"), {}),
    (
        "2025-01-01T00:00:00Z",
        track("Halo", "Beyoncé", album="I Am"),
        {"duration_played": 240, "progress": 0.5},
    ),
    ("2025-01-15T08:30:00+09:00", {"kind": "episode", "show": "Dark", "episode": 1}, {}),
    ("2025-03-02T10:00:00Z", {"kind": "film", "title": "Amélie", "year": 2001}, {}),
    ("2025-03-03T10:00:00Z", track("Halo", "Beyonce Knowles"), {}),
    ("2025-03-04T10:00:00Z", track("Secret", "Beyoncé"), {"incognito": True}),
]


@pytest.fixture(autouse=True)
def _pyarrow() -> None:
    skip_without("pyarrow")


def _read(folder: Path) -> Any:
    import pyarrow.dataset as ds

    return ds.dataset(folder, format="parquet", partitioning="hive").to_table()


def test_export_layout(
    client: TestClient,
    runtime: Runtime,
    alice: Account,
    admin: Account,
    database_url: str,
    tmp_path: Path,
) -> None:
    import pyarrow as pa

    for when, item, extra in PLAYS:
        response = client.post(
            "/api/v1/plays", json=play(when, item, **extra), headers=alice.headers
        )
        assert response.status_code in (200, 201), response.text
    with runtime.db.unit_of_work() as session:
        halos = list(session.scalars(select(Item.id).where(Item.title == "Halo").order_by(Item.id)))
    merged = client.post(
        f"/api/v1/items/{halos[1]}/merge", json={"into": halos[0]}, headers=admin.headers
    )
    assert merged.status_code == 200, merged.text
    loved = client.put(f"/api/v1/items/{halos[0]}/love", headers=alice.headers)
    assert loved.status_code in (200, 201, 204), loved.text

    from tastegraph.portability import parquet

    target = tmp_path / "export"
    manifest = parquet.export_parquet(runtime.db, target, batch_rows=2)
    with runtime.db.unit_of_work() as session:
        stored = session.execute(
            select(Play.id, Play.user_id, Play.item_id, Play.played_at).order_by(Play.id)
        ).all()
    assert manifest["format"] == "tastegraph-parquet"
    assert manifest["schema_version"] == head_revision()
    assert manifest["plays_through"] == stored[-1].id
    assert manifest["tables"]["plays"] == len(stored) == 5  # the incognito play stays out
    datetime.fromisoformat(manifest["exported_at"])
    assert json.loads((target / "_manifest.json").read_text()) == manifest

    months = sorted(p.relative_to(target / "plays").as_posix() for p in target.glob("plays/*/*"))
    assert months == ["year=2024/month=12", "year=2025/month=1", "year=2025/month=3"]
    plays = _read(target / "plays").sort_by("id")
    assert plays.schema.field("played_at").type == pa.timestamp("us", tz="UTC")
    for name, kind in [("id", pa.int64()), ("user_id", pa.int64()), ("item_id", pa.int64())]:
        assert plays.schema.field(name).type == kind
    assert plays.schema.field("tz_offset_minutes").type == pa.int16()
    assert plays.schema.field("duration_played").type == pa.int32()
    assert plays.schema.field("progress").type == pa.float64()
    rows = plays.to_pylist()
    assert [(r["id"], r["user_id"], r["item_id"]) for r in rows] == [
        (p.id, p.user_id, p.item_id) for p in stored
    ]
    assert rows[0]["played_at"] == datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert rows[2]["tz_offset_minutes"] == 540
    assert (rows[1]["duration_played"], rows[1]["progress"]) == (240, 0.5)
    assert {r["item_id"] for r in rows} == {p.item_id for p in stored}
    assert halos[1] not in {r["item_id"] for r in rows}  # its play moved with the merge

    catalogue = {r["id"]: r for r in _read(target / "items").to_pylist()}
    assert catalogue[halos[1]]["merged_into_id"] == halos[0]
    album = catalogue[catalogue[halos[0]]["parent_id"]]
    assert (album["kind"], album["title"]) == ("album", "I Am")
    credits = _read(target / "item_credits").to_pylist()
    assert any(c["item_id"] == halos[0] and c["role"] == "main" for c in credits)
    users = _read(target / "users")
    assert not {"name", "email", "password_hash"} & set(users.column_names)
    assert {"id", "country", "timezone", "birth_year"} <= set(users.column_names)
    assert "DE" in users.column("country").to_pylist()
    feedback = _read(target / "feedback").to_pylist()
    assert [(f["item_id"], f["sentiment"]) for f in feedback] == [(halos[0], "love")]
    assert _read(target / "segment_members").num_rows == 0  # an empty table keeps its columns
    assert manifest["tables"] == {
        "plays": 5,
        "items": len(catalogue),
        "item_credits": len(credits),
        "users": users.num_rows,
        "feedback": 1,
        "segment_members": 0,
    }

    # Through the CLI: a second export into the same directory is refused.
    env = dev_env(database_url)
    again = invoke(["export", "parquet", str(target)], env)
    assert again.exit_code == 2
    assert "not empty" in again.stderr
    fresh = invoke(["export", "parquet", str(tmp_path / "second")], env)
    assert_clean_exit(fresh, 0)
    assert "5 plays" in fresh.stdout
    assert _read(tmp_path / "second" / "plays").num_rows == 5


def _month_files(target: Path) -> dict[str, int]:
    """Each month's file and when it was last written (ns)."""
    return {
        p.parent.relative_to(target / "plays").as_posix(): p.stat().st_mtime_ns
        for p in target.glob("plays/*/*/part-00000.parquet")
    }


def _plays_of(target: Path) -> list[tuple[int, int, int]]:
    rows = _read(target / "plays").sort_by("id").to_pylist()
    return [(r["id"], r["user_id"], r["item_id"]) for r in rows]


def test_update_writes_only_the_months_that_changed(
    client: TestClient,
    runtime: Runtime,
    alice: Account,
    admin: Account,
    database_url: str,
    tmp_path: Path,
) -> None:
    """A new play in an old month, a new month, a merge that moves plays of one month and a
    deletion that empties another: the update writes exactly those months, keeps the rest
    untouched, and ends equal to a fresh export."""
    when_items = [
        ("2025-01-10T10:00:00Z", track("Halo", "Beyoncé")),
        ("2025-02-10T10:00:00Z", track("Halo", "Beyonce Knowles")),
        ("2025-03-10T10:00:00Z", track("Secret", "Beyoncé")),
        ("2025-04-10T10:00:00Z", track("Crazy", "Beyoncé")),
        ("2025-05-10T10:00:00Z", track("Irreplaceable", "Beyoncé")),
    ]
    for when, item in when_items:
        response = client.post("/api/v1/plays", json=play(when, item), headers=alice.headers)
        assert response.status_code in (200, 201), response.text
    from tastegraph.portability import parquet

    target = tmp_path / "export"
    first = parquet.export_parquet(runtime.db, target)
    assert first["written_months"] == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
    assert first["months"]["2025-03"]["plays"] == 1
    (target / "consent").mkdir()  # a job's side table, derived from this export
    before = _month_files(target)

    back_dated = client.post(
        "/api/v1/plays",
        json=play("2025-01-20T10:00:00Z", track("Halo", "Beyoncé")),
        headers=alice.headers,
    )
    assert back_dated.status_code in (200, 201), back_dated.text
    newest = client.post(
        "/api/v1/plays",
        json=play("2025-06-01T10:00:00Z", track("Halo", "Beyoncé")),
        headers=alice.headers,
    )
    assert newest.status_code in (200, 201), newest.text
    with runtime.db.unit_of_work() as session:
        halos = list(session.scalars(select(Item.id).where(Item.title == "Halo").order_by(Item.id)))
        crazy = session.execute(
            select(Play.id, Play.played_at)
            .join(Item, Item.id == Play.item_id)
            .where(Item.title == "Crazy")
        ).one()
    merged = client.post(
        f"/api/v1/items/{halos[1]}/merge", json={"into": halos[0]}, headers=admin.headers
    )
    assert merged.status_code == 200, merged.text
    deleted = client.delete(f"/api/v1/plays/{crazy.id}", headers=alice.headers)
    assert deleted.status_code in (200, 204), deleted.text

    env = dev_env(database_url)
    result = invoke(["export", "parquet", str(target), "--update"], env)
    assert_clean_exit(result, 0)
    assert "3 of 5 months written" in result.stdout
    manifest = json.loads((target / "_manifest.json").read_text())
    # January gained a play, February's play moved to the item it was merged into, June is
    # new; April lost its only play; March and May are untouched.
    assert manifest["written_months"] == ["2025-01", "2025-02", "2025-06"]
    assert sorted(manifest["months"]) == ["2025-01", "2025-02", "2025-03", "2025-05", "2025-06"]
    after = _month_files(target)
    assert "year=2025/month=4" not in after
    for kept in ("year=2025/month=3", "year=2025/month=5"):
        assert after[kept] == before[kept]
    assert not (target / "consent").exists()
    assert manifest["tables"]["plays"] == 6

    fresh = tmp_path / "fresh"
    whole = parquet.export_parquet(runtime.db, fresh)
    assert _plays_of(target) == _plays_of(fresh)
    assert whole["months"] == manifest["months"]
    assert whole["tables"] == manifest["tables"]
