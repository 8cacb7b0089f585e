"""``tastegraph ads``: what an operator sets up from the shell."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError

from tastegraph.cli.context import fail, runtime

app = typer.Typer(
    help="Advertising: advertisers and the users who work for them.", no_args_is_help=True
)


@app.command("advertiser")
def advertiser(
    name: Annotated[str, typer.Argument(help="The advertiser's name.")],
    *,
    domain: Annotated[
        str | None, typer.Option("--domain", help="Its domain, sent as adomain in OpenRTB bids.")
    ] = None,
    members: Annotated[
        list[str] | None,
        typer.Option("--member", help="A user who may manage its campaigns (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Create an advertiser and let users manage its campaigns and read its reports."""
    from tastegraph.ads.schemas import AdvertiserIn
    from tastegraph.ads.services import Scope

    try:
        data = AdvertiserIn(name=name, domain=domain)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'advertiser'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        ]
        fail("Invalid advertiser", "; ".join(problems), code=2)
    operator = Scope(user_id=0, admin=True, advertiser_ids=frozenset())
    with runtime() as rt, rt.db.unit_of_work(write=True) as session:
        svc = rt.services(session)
        created = svc.ads.create_advertiser(operator, data)
        added = [svc.ads.add_member(operator, created.id, member).user for member in members or []]
        out = {"id": created.id, "name": created.name, "domain": created.domain, "members": added}
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        who = f"; members: {', '.join(added)}" if added else ""
        typer.echo(f"created advertiser {out['id']} ({out['name']}){who}")
