"""Planner settings for a few statements leave the rest of the transaction as it was."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from tastegraph.config import Mode, Settings
from tastegraph.storage.dialect import planner_settings
from tastegraph.storage.engine import make_engine


def test_settings_hold_inside_the_block_and_come_back_after(postgres_url: str) -> None:
    engine = make_engine(Settings(mode=Mode.DEV, database_url=postgres_url))
    try:
        with Session(engine) as session, session.begin():
            session.execute(text("SET LOCAL work_mem = '5MB'"))

            def show(name: str) -> str:
                return str(session.scalar(text(f"SHOW {name}")))

            with planner_settings(session, enable_hashjoin="off", work_mem="7MB"):
                assert show("enable_hashjoin") == "off"
                assert show("work_mem") == "7MB"
            assert show("enable_hashjoin") == "on"
            assert show("work_mem") == "5MB"  # the transaction's own value, not the default
        with Session(engine) as session:  # transaction-local: nothing outlives it
            assert session.scalar(text("SHOW work_mem")) == "4MB"
    finally:
        engine.dispose()


def test_nothing_is_set_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'planner.db'}"
    engine = make_engine(Settings(mode=Mode.DEV, database_url=url))
    with Session(engine) as session, planner_settings(session, enable_hashjoin="off"):
        assert session.scalar(text("SELECT 1")) == 1
    engine.dispose()
