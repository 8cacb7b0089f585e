"""``tastegraph stats``: the chart rollups."""

from __future__ import annotations

import time

import typer

from tastegraph.cli.context import err, runtime

app = typer.Typer(help="Charts: the rollups they are read from.", no_args_is_help=True)


@app.command("rebuild")
def rebuild() -> None:
    """Recompute the chart rollups from the play log, in one transaction.

    The write path keeps them exact; this repairs them after plays were changed by hand in
    the database, or restores them when in doubt (charts stay readable meanwhile).
    """
    from tastegraph.stats.rollups import Rollups

    with runtime() as rt:
        started = time.perf_counter()
        with rt.db.unit_of_work(write=True) as session:

            def progress(done: int, months: int) -> None:
                err.print(f"  {done} of {months} months of plays counted", highlight=False)

            site, geo = Rollups(session).rebuild(progress)
        typer.echo(
            f"rollups rebuilt in {time.perf_counter() - started:.1f} s: "
            f"{site} site-wide rows, {geo} country rows"
        )


@app.command("fold")
def fold_plays() -> None:
    """Count the plays recorded since the last fold into the rollups.

    A server does this every second (``TASTEGRAPH_STATS_FOLD_SECONDS``); run it as a job
    where servers have that turned off. Charts are exact either way.
    """
    from tastegraph.stats.rollups import fold

    with runtime() as rt:
        started = time.perf_counter()
        folded = fold(rt.db)
        typer.echo(f"{folded} plays folded in {time.perf_counter() - started:.1f} s")


@app.command("check")
def check() -> None:
    """Compare the rollups with a recount of the plays they count; exit 1 if they differ."""
    from tastegraph.stats.rollups import Rollups, pending

    # Holds folds back while it counts (on the primary: a replica would refuse the lock).
    with runtime() as rt, rt.db.unit_of_work(rollups_only=True) as session:
        different = Rollups(session).differences()
        waiting = pending(session)
    typer.echo(f"{waiting} plays not folded yet (charts count them from the log)")
    if different:
        typer.echo(
            f"{different} rollup rows differ from the play log: run `tastegraph stats rebuild`"
        )
        raise typer.Exit(1)
    typer.echo("the rollups equal a recount of the play log")


@app.command("archive")
def archive() -> None:
    """Compute the charts of the last closed week, month, quarter, half-year and year ahead.

    Site-wide in every time zone someone lives in, per country in its people's zones, at
    every level with plays; charts of such periods are then read from the archive. A server
    does this every 10 minutes (``TASTEGRAPH_STATS_ARCHIVE_SECONDS``); run it as a job where
    servers have that turned off, or right after a bulk load.
    """
    from tastegraph.stats.archiver import run

    with runtime() as rt:
        started = time.perf_counter()

        def progress(done: int, missing: int) -> None:
            if done % 100 == 0 or done == missing:
                err.print(f"  {done} of {missing} charts computed", highlight=False)

        report = run(rt.db, progress=progress)
        typer.echo(
            f"chart archive up to date in {time.perf_counter() - started:.1f} s: "
            f"{report.computed} charts computed, {report.kept} kept, {report.dropped} dropped, "
            f"{report.skipped} changed while computed (left to the next run)"
        )
