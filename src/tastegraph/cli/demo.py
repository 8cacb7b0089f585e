from __future__ import annotations

import time

import typer
import uvicorn
from sqlalchemy import func, select

from tastegraph import migrations
from tastegraph.accounts.models import User
from tastegraph.cli.context import err, load_settings, runtime
from tastegraph.demo.community import DEMO_PASSWORD, DEMO_USER, DemoConfig, load
from tastegraph.web.app import create_app


def demo(
    serve: bool = typer.Option(False, "--serve", help="Serve the app once the demo is loaded."),
    seed: int = typer.Option(2011, "--seed", help="The same seed gives the same community."),
    users: int = typer.Option(2400, "--users", help="How many people."),
    reset: bool = typer.Option(False, "--reset", help="Load again even if already loaded."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Migrate the database and load the demo community (then serve it with --serve)."""
    settings = load_settings()
    with runtime(settings) as rt:
        migrations.upgrade(rt.db.engine)
        with rt.db.unit_of_work() as session:
            loaded = (session.scalar(select(func.count()).select_from(User)) or 0) > 0
        if loaded and not reset:
            err.print("the database already holds users: demo not loaded again (use --reset)")
        else:
            if loaded:
                err.print("[red]--reset needs an empty database:[/red] remove it first.")
                raise typer.Exit(1)
            started = time.perf_counter()
            summary = load(rt, DemoConfig(seed=seed, users=users), log=err.print)
            err.print(f"demo community loaded in {time.perf_counter() - started:.1f} s: {summary}")
        if serve:
            app = create_app(settings, runtime=rt)
            err.print(f"\n  tastegraph demo: http://{host}:{port}/")
            err.print(f"  demo login: {DEMO_USER} / {DEMO_PASSWORD}\n")
            uvicorn.run(app, host=host, port=port, log_level="warning")
