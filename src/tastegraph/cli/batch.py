"""``tastegraph batch``: jobs over a Parquet export, run locally or on Apache Spark.

The jobs are registered in ``tastegraph.batch.jobs.JOBS``; this group only runs them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tastegraph.cli.context import err, fail, runtime

app = typer.Typer(
    help="Batch jobs over a Parquet export (`tastegraph export parquet`), on Spark or locally "
    "(see docs/batch.md).",
    no_args_is_help=True,
)


@app.command("list")
def list_jobs() -> None:
    """The jobs and the runners each supports."""
    from tastegraph.batch.jobs import JOBS, RUNNERS

    for name, job in sorted(JOBS.items()):
        runners = ", ".join(r for r in RUNNERS if job.runner(r) is not None)
        typer.echo(f"{name:<12} [{runners}] {job.help}")


@app.command("run")
def run(
    job: Annotated[str, typer.Argument(help="The job (see `tastegraph batch list`).")],
    runner: Annotated[
        str, typer.Option("--runner", help="spark (the export, on Spark) or local.")
    ] = "spark",
    export: Annotated[
        Path | None,
        typer.Option(
            "--export", file_okay=False, help="The Parquet export the job reads (Spark runner)."
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="A job option as KEY=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Run one batch job and write its results back through the areas' services."""
    from tastegraph.batch.jobs import JOBS, RUNNERS, JobContext

    if job not in JOBS:
        fail(f"Unknown job {job!r}", f"use one of {', '.join(sorted(JOBS))}", code=2)
    if runner not in RUNNERS:
        fail(f"Unknown runner {runner!r}", "use spark or local", code=2)
    function = JOBS[job].runner(runner)
    if function is None:
        fail(f"Job {job!r} has no {runner} runner", "see `tastegraph batch list`", code=2)
    options: dict[str, str] = {}
    for pair in option or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail("Invalid option", f"{pair!r}: use KEY=VALUE", code=2)
        options[key] = value
    with runtime() as rt:
        context = JobContext(rt, export, runner, options)
        started = time.perf_counter()
        try:
            summary = function(context)
        finally:
            context.stop()
        err.print(f"{job} ({runner}) done in {time.perf_counter() - started:.1f} s", markup=False)
        typer.echo(summary)
