from __future__ import annotations

import json

import typer
from pydantic import ValidationError

from tastegraph.accounts.schemas import UserCreate
from tastegraph.cli.context import err, runtime

app = typer.Typer(help="User accounts.", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="User name (2-32 letters, digits, . - _)."),
    password: str = typer.Option(..., "--password", help="At least 8 characters."),
    email: str | None = typer.Option(None, "--email"),
    country: str | None = typer.Option(None, "--country", help="ISO 3166-1 code, e.g. DE."),
    timezone: str | None = typer.Option(
        None, "--timezone", help="IANA zone, e.g. Europe/Berlin (default: the country's)."
    ),
    locale: str | None = typer.Option(None, "--locale", help="e.g. de-AT."),
    admin: bool = typer.Option(False, "--admin", help="Make the user an administrator."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object with a token field."),
) -> None:
    """Create a user and print a personal API token for them."""
    try:
        data = UserCreate(
            name=name,
            password=password,
            email=email,
            country=country,
            timezone=timezone,
            locale=locale,
        )
    except ValidationError as exc:
        for detail in exc.errors(include_url=False):
            field = ".".join(str(p) for p in detail["loc"])
            err.print(f"[red]Invalid {field}:[/red] {detail['msg']}")
        raise typer.Exit(2) from None
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        svc = rt.services(session)
        user = svc.accounts.register(data, is_admin=admin)
        _token, secret = svc.accounts.create_token(user, "created by the CLI")
        out = {
            "name": user.name,
            "country": user.country,
            "timezone": user.timezone,
            "admin": user.is_admin,
            "token": secret,
        }
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(f"created {out['name']} ({out['timezone']}); API token: {secret}")
