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


@app.command("partitions")
def partitions(
    ahead: Annotated[
        int | None,
        typer.Option(
            "--ahead",
            min=0,
            max=120,
            help="Months after this one to make partitions for "
            "(default: TASTEGRAPH_PARTITION_AHEAD_MONTHS).",
        ),
    ] = None,
    first: Annotated[
        str | None,
        typer.Option("--from", help="First month to make a partition for, YYYY-MM (default: now)."),
    ] = None,
    detach_before: Annotated[
        str | None,
        typer.Option(
            "--detach-before",
            help="Detach (not drop) the monthly partitions before this month, YYYY-MM, for "
            "archiving: their plays leave the play log and stay in their own tables.",
        ),
    ] = None,
) -> None:
    """Make the play log's missing monthly partitions (PostgreSQL); idempotent."""
    from datetime import UTC, datetime

    from tastegraph.cli.context import fail, load_settings
    from tastegraph.ingest.partitions import (
        DEFAULT_PARTITION,
        Month,
        maintain,
        partition_names,
        vacuum,
    )

    try:
        start = Month.parse(first) if first else None
        cutoff = Month.parse(detach_before) if detach_before else None
    except ValueError as exc:
        fail("Invalid month", str(exc), code=2)
    settings = load_settings()
    if settings.is_sqlite:
        typer.echo("Partitioning the play log is PostgreSQL-only; SQLite has nothing to do.")
        return
    with runtime(settings) as rt:
        with rt.db.unit_of_work(write=True) as session:
            report = maintain(
                session,
                today=datetime.now(UTC).date(),
                ahead=settings.partition_ahead_months if ahead is None else ahead,
                first=start,
                detach_before=cutoff,
            )
            names = partition_names(session)
        # The default partition too once plays left it: its index holds every moved play dead
        # until vacuumed, and the log's first and last play are read through that index.
        cleaned = [*report.filled, *([DEFAULT_PARTITION] if report.moved else [])]
        vacuum(rt.db.engine, cleaned)  # after the commit: VACUUM runs outside one
    typer.echo(f"created: {', '.join(report.created) or 'none'}")
    typer.echo(f"plays moved out of the default partition: {report.moved}")
    if cleaned:
        typer.echo(f"vacuumed: {', '.join(cleaned)}")
    if cutoff is not None:
        typer.echo(f"detached: {', '.join(report.detached) or 'none'}")
    if report.left_in_default:
        typer.echo(
            "left in the default partition (their month's table exists, detached): "
            + ", ".join(report.left_in_default)
        )
    typer.echo(
        f"partitions: {len(names)} ({names[0]} .. {names[-1]})" if names else "partitions: 0"
    )
