"""Server-rendered pages. The front end proper comes later; this is the front door."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select

from tastegraph.accounts.models import User
from tastegraph.catalog.models import Item
from tastegraph.config import Mode
from tastegraph.ingest.models import Play
from tastegraph.protocols.audioscrobbler import api as audioscrobbler
from tastegraph.web.deps import RuntimeDep, unit_of_work

router = APIRouter(include_in_schema=False)


def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, runtime: RuntimeDep) -> Response:
    if request.query_params.get("hs") == "true":
        # Players that let a user set only the host send the Audioscrobbler handshake here.
        return audioscrobbler.handshake(request)
    with unit_of_work(runtime) as svc:
        counts = {
            "users": svc.session.scalar(select(func.count()).select_from(User)) or 0,
            "items": svc.session.scalar(select(func.count()).select_from(Item)) or 0,
            "plays": svc.session.scalar(select(func.count()).select_from(Play)) or 0,
        }
    return _templates().TemplateResponse(
        request,
        "home.html",
        {"counts": counts, "demo": runtime.settings.mode is Mode.DEMO},
    )


@router.get("/healthz")
def healthz(runtime: RuntimeDep) -> dict[str, str]:
    with unit_of_work(runtime) as svc:
        svc.session.execute(select(1))
    return {"status": "ok"}
