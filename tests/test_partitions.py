"""The play log's monthly partitions (PostgreSQL), and duplicate detection by submission id
across them (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.accounts.schemas import UserCreate
from tastegraph.ingest.models import Play, PlaySubmission
from tastegraph.ingest.partitions import Month, PartitionKeeper, partition_names
from tastegraph.ingest.schemas import PlayIn, PlayStatus
from tastegraph.ingest.services import Submission
from tastegraph.runtime import Runtime
from tests.cli_helpers import assert_clean_exit, dev_env, invoke


def _record(runtime: Runtime, at: datetime, title: str, sid: str | None = None) -> PlayStatus:
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        user = session.scalar(select(User).where(User.name == "mia"))
        if user is None:
            user = svc.accounts.register(UserCreate(name="mia", password="password-123"))
        play = PlayIn.model_validate(
            {
                "played_at": at.isoformat(),
                "item": {"kind": "track", "title": title, "artist": "Band"},
                "submission_id": sid,
            }
        )
        [result] = svc.ingest.record(user, [Submission(index=0, play=play)], source="test")
        return result.status


def _where(session: Session, play_id: int) -> str:
    found = session.scalar(
        text("SELECT tableoid::regclass::text FROM plays WHERE id = :id"), {"id": play_id}
    )
    return str(found)


def test_a_submission_id_is_a_duplicate_in_any_month_and_free_again_once_deleted(
    runtime: Runtime,
) -> None:
    march = datetime(2019, 3, 5, 12, tzinfo=UTC)
    assert _record(runtime, march, "One", "client-1") is PlayStatus.ACCEPTED
    # The same submission from a client whose clock jumped years: another partition.
    assert _record(runtime, datetime(2024, 7, 1, tzinfo=UTC), "One", "client-1") is (
        PlayStatus.DUPLICATE
    )
    # A duplicate by time under a new submission id leaves that id free.
    assert _record(runtime, march, "One", "client-2") is PlayStatus.DUPLICATE
    assert _record(runtime, datetime(2020, 1, 1, tzinfo=UTC), "Two", "client-2") is (
        PlayStatus.ACCEPTED
    )
    with runtime.db.unit_of_work(write=True) as session:
        assert sorted(session.scalars(select(PlaySubmission.submission_id))) == [
            "client-1",
            "client-2",
        ]
        svc = runtime.services(session)
        user = session.scalars(select(User)).one()
        first = session.scalar(select(Play.id).where(Play.submission_id == "client-1"))
        assert first is not None
        svc.ingest.delete_play(user, first)
    assert _record(runtime, datetime(2024, 7, 1, tzinfo=UTC), "One", "client-1") is (
        PlayStatus.ACCEPTED
    )
    with runtime.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Play)) == 2
        assert session.scalar(select(func.count()).select_from(PlaySubmission)) == 2


def test_the_command_makes_months_ahead_and_moves_plays_out_of_the_default(
    runtime: Runtime, database_url: str
) -> None:
    env = dev_env(database_url)
    if runtime.db.dialect == "sqlite":
        result = invoke(["db", "partitions"], env)
        assert_clean_exit(result, 0)
        assert "PostgreSQL-only" in result.stdout
        return
    try:
        _partition_a_month(runtime, env)
    finally:  # the database outlives the test: no month of its own may stay behind
        with runtime.db.unit_of_work(write=True) as session:
            session.execute(text("DROP TABLE IF EXISTS plays_2013_06"))


def _partition_a_month(runtime: Runtime, env: dict[str, str | None]) -> None:
    this_month = Month.of(datetime.now(UTC))
    with runtime.db.unit_of_work() as session:
        made = set(partition_names(session))
    assert {this_month.plus(n).table for n in range(4)} | {"plays_default"} <= made

    assert _record(runtime, datetime(2013, 6, 3, 10, tzinfo=UTC), "Old", "old-1") is (
        PlayStatus.ACCEPTED
    )
    with runtime.db.unit_of_work() as session:
        old = session.scalar(select(Play.id).where(Play.submission_id == "old-1"))
        assert old is not None
        assert _where(session, old) == "plays_default"

    earlier = this_month.plus(-2)
    result = invoke(["db", "partitions", "--ahead", "5", "--from", str(earlier)], env)
    assert_clean_exit(result, 0)
    assert "plays_2013_06" in result.stdout
    assert "moved out of the default partition: 1" in result.stdout
    assert "vacuumed: plays_2013_06, plays_default" in result.stdout
    with runtime.db.unit_of_work() as session:
        assert _where(session, old) == "plays_2013_06"  # the same play, the same id
        # Vacuumed, so its pages are all-visible and index-only scans skip the heap.
        assert session.scalar(
            text("SELECT relallvisible FROM pg_class WHERE relname = 'plays_2013_06'")
        ) == session.scalar(text("SELECT relpages FROM pg_class WHERE relname = 'plays_2013_06'"))
        # And the default partition, which the moved play left dead in its indexes.
        assert session.scalar(
            text("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'plays_default'")
        )
        names = set(partition_names(session))
    assert {earlier.table, this_month.plus(-1).table, this_month.plus(5).table} <= names
    assert not {"plays_2013_05", "plays_2013_07"} & names  # only the month that has plays

    again = invoke(["db", "partitions", "--ahead", "5"], env)
    assert_clean_exit(again, 0)
    assert "created: none" in again.stdout

    detached = invoke(["db", "partitions", "--detach-before", "2014-01"], env)
    assert_clean_exit(detached, 0)
    assert "detached: plays_2013_06" in detached.stdout
    with runtime.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Play)) == 0
        kept = session.scalar(text("SELECT count(*) FROM plays_2013_06"))
        assert kept == 1  # detached, not dropped
    # A later play of a detached month stays in the default partition, and is said so.
    assert _record(runtime, datetime(2013, 6, 9, tzinfo=UTC), "Late") is PlayStatus.ACCEPTED
    late = invoke(["db", "partitions"], env)
    assert_clean_exit(late, 0)
    assert "left in the default partition" in late.stdout
    assert "plays_2013_06" in late.stdout

    bad = invoke(["db", "partitions", "--from", "2013-13"], env)
    assert_clean_exit(bad, 2)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_servers_keeper_makes_the_coming_months(runtime: Runtime) -> None:
    with runtime.db.unit_of_work(write=True) as session:
        session.execute(text("ALTER TABLE plays DETACH PARTITION plays_default"))
        session.execute(text("DROP TABLE plays_default"))
        session.execute(text("CREATE TABLE plays_default PARTITION OF plays DEFAULT"))
    far = Month.of(datetime.now(UTC)).plus(7)
    keeper = PartitionKeeper(runtime.db, ahead=7, interval=3600)
    report = keeper.run_once()
    assert far.table in report.created
    assert keeper.run_once().created == []
