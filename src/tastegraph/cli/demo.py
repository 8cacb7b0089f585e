from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import func, select

from tastegraph.cli.context import err, load_settings, runtime


def demo(
    *,
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the app once the demo is loaded.")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same community.")] = (
        2011
    ),
    users: Annotated[int, typer.Option("--users", min=1, help="How many people.")] = 2400,
    reset: Annotated[
        bool,
        typer.Option("--reset", help="Delete everything in the database and load the demo again."),
    ] = False,
    anchor: Annotated[
        datetime | None,
        typer.Option(
            "--anchor",
            formats=["%Y-%m-%d"],
            help="The UTC day the year of history ends (default: today). "
            "The same seed and anchor give the same community.",
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
) -> None:
    """Migrate the database and load the demo community (then serve it with --serve)."""
    from tastegraph import migrations
    from tastegraph.accounts.models import User
    from tastegraph.demo.community import DEMO_PASSWORD, DEMO_USER, DemoConfig, load

    settings = load_settings()
    with runtime(settings, migrated=False) as rt:
        migrations.upgrade(rt.db.engine)
        with rt.db.unit_of_work() as session:
            loaded = (session.scalar(select(func.count()).select_from(User)) or 0) > 0
        if loaded and not reset:
            err.print("the database already holds users: demo not loaded again (use --reset)")
        else:
            if loaded:
                err.print("--reset: deleting every table and migrating again")
                migrations.reset(rt.db.engine)
            started = time.perf_counter()
            config = DemoConfig(
                seed=seed, users=users, anchor=anchor.replace(tzinfo=UTC) if anchor else None
            )
            summary = load(rt, config, log=err.print)
            err.print(f"demo community loaded in {time.perf_counter() - started:.1f} s: {summary}")
        if serve:
            from tastegraph.web import server
            from tastegraph.web.app import create_app

            app = create_app(settings, runtime=rt)
            err.print(f"\n  tastegraph demo: http://{host}:{port}/")
            err.print(f"  demo login: {DEMO_USER} / {DEMO_PASSWORD}\n")
            server.run(app, host=host, port=port, log_level="warning")
