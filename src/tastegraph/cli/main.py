"""Entry point: ``tastegraph --help``."""

from __future__ import annotations

import typer

from tastegraph.cli import apikeys, db, demo, export, imports, serve, users

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
app.command("export")(export.export)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(apikeys.app, name="apikeys")


def main() -> None:
    app()
