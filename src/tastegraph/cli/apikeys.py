from __future__ import annotations

import json
from typing import Annotated

import typer

from tastegraph.cli.context import runtime

app = typer.Typer(help="Last.fm API keys registered on this server.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. the player.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print an object with api_key and secret.")
    ] = False,
) -> None:
    """Register a Last.fm API key and its secret; requests signed with it are verified."""
    from tastegraph.protocols.lastfm.keys import ApiKeyService

    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        key = ApiKeyService(session).create(name)
        out = {"name": key.name, "api_key": key.key, "secret": key.secret}
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(f"api_key: {out['api_key']}\nsecret:  {out['secret']}")
