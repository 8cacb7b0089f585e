from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError

from tastegraph.accounts.schemas import UserCreate
from tastegraph.cli.context import fail, runtime

app = typer.Typer(help="User accounts.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="User name (2-32 letters, digits, . - _).")],
    *,
    password: Annotated[str, typer.Option("--password", help="At least 8 characters.")],
    email: Annotated[str | None, typer.Option("--email")] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="ISO 3166-1 code, e.g. DE.")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="IANA zone, e.g. Europe/Berlin (default: the country's)."),
    ] = None,
    locale: Annotated[str | None, typer.Option("--locale", help="e.g. de-AT.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON object with a token field.")
    ] = False,
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
        problems = []
        for detail in exc.errors(include_url=False, include_input=False):
            field = ".".join(str(p) for p in detail["loc"]) or "user"
            problems.append(f"{field}: {detail['msg'].removeprefix('Value error, ')}")
        fail("Invalid user", "; ".join(problems), code=2)
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
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        typer.echo(f"created {out['name']} ({out['timezone']}); API token: {secret}")
