from __future__ import annotations

from typing import Annotated

import typer

from tastegraph.cli.context import runtime

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument(help="The revision to migrate to.")] = "head",
) -> None:
    """Migrate the database to the latest schema (or REVISION)."""
    from tastegraph import migrations

    with runtime(migrated=False) as rt:
        migrations.upgrade(rt.db.engine, revision)
        typer.echo(f"database at revision {migrations.current_revision(rt.db.engine)}")


@app.command("current")
def current() -> None:
    """Print the database's revision and the revision this version of tastegraph needs."""
    from tastegraph import migrations

    with runtime(migrated=False) as rt:
        typer.echo(f"database: {migrations.current_revision(rt.db.engine) or 'empty'}")
        typer.echo(f"code:     {migrations.head_revision()}")
