"""Entry point: ``tastegraph --help``."""

from __future__ import annotations

import typer

from tastegraph.cli import (
    ads,
    apikeys,
    audiences,
    batch,
    catalog,
    db,
    demo,
    evaluate,
    export,
    imports,
    insights,
    recs,
    rights,
    serve,
    stats,
    users,
)

app = typer.Typer(
    name="tastegraph",
    help="tastegraph: scrobbling, charts, recommendations and communities for every kind of "
    "content. Settings come from TASTEGRAPH_* environment variables (see docs/configuration.md).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("import")(imports.import_plays)
app.add_typer(export.app, name="export")
app.command("eval")(evaluate.evaluate)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(apikeys.app, name="apikeys")
app.add_typer(recs.app, name="recs")
app.add_typer(audiences.app, name="audiences")
app.add_typer(stats.app, name="stats")
app.add_typer(ads.app, name="ads")
app.add_typer(rights.app, name="rights")
app.add_typer(catalog.app, name="catalog")
app.add_typer(insights.app, name="insights")
app.add_typer(batch.app, name="batch")


def main() -> None:
    app()
