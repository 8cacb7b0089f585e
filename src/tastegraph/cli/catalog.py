"""``tastegraph catalog``: what operators change in the catalogue from the shell."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tastegraph.cli.context import runtime
from tastegraph.cli.rights import ItemArg, item_of

app = typer.Typer(help="The catalogue: translations of titles.", no_args_is_help=True)


@app.command("translate")
def translate(
    item: ItemArg,
    language: Annotated[str, typer.Argument(help="BCP 47: de, pt-BR.")],
    title: Annotated[str, typer.Argument(help="The title in that language.")],
    description: Annotated[str | None, typer.Option("--description")] = None,
) -> None:
    """Set an item's title (and description) in a language; viewers reading it see it."""
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        svc = rt.services(session)
        target = item_of(svc, item)
        row = svc.catalog.translations.put(target, language, title, description)
        typer.echo(f"{target.title} ({target.id}) in {row.language}: {row.title}")


@app.command("translations")
def translations(item: ItemArg) -> None:
    """An item's translations, as JSON lines."""
    with runtime() as rt, rt.db.unit_of_work() as session:
        svc = rt.services(session)
        for row in svc.catalog.translations.of(item_of(svc, item)):
            typer.echo(
                json.dumps(
                    {"language": row.language, "title": row.title, "description": row.description},
                    ensure_ascii=False,
                )
            )
