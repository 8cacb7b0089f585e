"""``tastegraph recs``: train recommendation models and manage the published versions."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

from tastegraph.cli.context import fail, runtime

app = typer.Typer(help="Recommendation models: train, status, roll back.", no_args_is_help=True)


@app.command("train")
def train(
    model: Annotated[
        str | None,
        typer.Option(help="A model name (als, item_knn, ease, ...); default: chosen by size."),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Train only this kind (repeatable): mixed, track, artist, show, ... The other "
            "kinds are carried over from the current version. Default: every kind.",
        ),
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, help="Learn from the last DAYS of plays only.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the fit.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """Train on the play log and publish a new version under <data_dir>/recs.

    Running servers pick the new version up within TASTEGRAPH_RECS_RELOAD_SECONDS, without a
    restart. Run it from cron (nightly, hourly) as the community grows.
    """
    from tastegraph.recs.artifacts import TrainOptions
    from tastegraph.recs.artifacts import train as train_job

    with runtime() as rt:
        since = rt.clock() - timedelta(days=days) if days else None
        options = TrainOptions(kinds=kind or None, model=model, seed=seed, since=since)
        say = (lambda _m: None) if as_json else typer.echo
        try:
            manifest = train_job(rt.db, rt.recs.store, options, clock=rt.clock, report=say)
        except (KeyError, ValueError) as exc:
            fail("Cannot train", str(exc).strip("'\""))
        if as_json:
            typer.echo(manifest.to_json(), nl=False)
        else:
            where = rt.recs.store.version_dir(manifest.version)
            typer.echo(
                f"published version {manifest.version} ({len(manifest.kinds)} kinds) at {where}"
            )


@app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """The published version, what it holds, and the versions kept on disk."""
    with runtime(migrated=False) as rt:
        store = rt.recs.store
        version = store.current_version()
        if version is None:
            fail("No model", "nothing has been trained yet: run `tastegraph recs train`")
        manifest = store.read_manifest(version)
        if as_json:
            typer.echo(manifest.to_json(), nl=False)
            return
        typer.echo(f"current: {version} (trained {manifest.trained_at.isoformat()})")
        for entry in sorted(manifest.kinds.values(), key=lambda k: k.kind):
            typer.echo(
                f"  {entry.kind:12} {entry.model:10} {entry.users:>8,} users {entry.items:>9,} "
                f"items {entry.interactions:>11,} interactions"
            )
        typer.echo("kept: " + ", ".join(store.versions()))


@app.command("use")
def use(
    version: Annotated[str, typer.Argument(help="A kept version (see `recs status`).")],
) -> None:
    """Publish an older kept version again (a roll-back); servers swap to it."""
    with runtime(migrated=False) as rt:
        rt.recs.store.point(version)
        typer.echo(json.dumps({"current": version}))
