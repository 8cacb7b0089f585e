"""The ``/api/auth/`` page where a user lets a Last.fm client use their account.

Two modes, as on Last.fm:

* ``?api_key=KEY&token=TOKEN`` (desktop flow): the user logs in and approves; the token is
  bound to them, and the client's ``auth.getSession`` exchanges it for a session key.
* ``?api_key=KEY&cb=URL`` (web flow): the user logs in and approves; the browser goes back to
  ``URL`` with ``token=…`` appended, an approved token for ``auth.getSession``.

The form needs the account password (or a personal token) on the same POST that approves, so a
forged cross-site POST cannot approve anything without it; the page refuses to be framed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from tastegraph.protocols.lastfm.auth import issue_token, live_token
from tastegraph.protocols.lastfm.errors import LastfmError
from tastegraph.protocols.models import LastfmApiKey
from tastegraph.runtime import Runtime, Services
from tastegraph.storage.base import utcnow

router = APIRouter(include_in_schema=False)

_TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob"})
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
}


@dataclass
class Page:
    """What the template shows: the form, or an outcome."""

    state: str  # form | approved | denied | invalid
    status: int = 200
    api_key: str = ""
    token: str = ""
    cb: str = ""
    app: str = "An application"
    name: str = ""
    message: str = ""


def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=_TEMPLATES)


def _render(request: Request, page: Page) -> Response:
    context = {"page": page, "server": request.url.netloc}
    response = _templates().TemplateResponse(
        request, "lastfm_auth.html", context, status_code=page.status
    )
    response.headers.update(_HEADERS)
    return response


def safe_callback(cb: str) -> bool:
    """A callback the browser may be sent to: a web address, or a client's own scheme
    (``pano-scrobbler://…``), never script or data."""
    try:
        parts = urlsplit(cb)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if not scheme or scheme in _UNSAFE_SCHEMES:
        return False
    return bool(parts.netloc) if scheme in {"http", "https"} else True


def with_token(cb: str, token: str) -> str:
    """``cb`` with ``token=…`` added to its query (before any fragment)."""
    parts = urlsplit(cb)
    query = f"{parts.query}&token={token}" if parts.query else f"token={token}"
    return urlunsplit(parts._replace(query=query))


def _app_name(svc: Services, api_key: str) -> str:
    row = svc.session.get(LastfmApiKey, api_key) if api_key and len(api_key) <= 32 else None
    return row.name if row is not None and row.revoked_at is None else "An application"


def _check(svc: Services, page: Page) -> Page | None:
    """The error page for a request that cannot be approved, or None."""
    if page.token:
        try:
            live_token(svc.session, page.token, page.api_key, utcnow())
        except LastfmError:
            return Page(
                state="invalid",
                status=400,
                message="This approval link has expired or was already used. "
                "Start again from your application.",
            )
        return None
    if not page.cb:
        return Page(
            state="invalid",
            status=400,
            message="This page needs a token or a callback (cb) from your application.",
        )
    if not safe_callback(page.cb):
        return Page(state="invalid", status=400, message="The callback address is not allowed.")
    return None


def _show(runtime: Runtime, page: Page) -> Page:
    with runtime.db.unit_of_work() as session:
        svc = runtime.services(session)
        page.app = _app_name(svc, page.api_key)
        return _check(svc, page) or page


def _decide(runtime: Runtime, page: Page, password: str, allow: bool) -> Page | str:
    """Approve (or not) for the user whose password this is; a redirect URL in web mode."""
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        page.app = _app_name(svc, page.api_key)
        problem = _check(svc, page)
        if problem is not None:
            return problem
        if not allow:
            return Page(state="denied", app=page.app)
        user = svc.accounts.find_by_name(page.name) if page.name else None
        if user is None or not svc.accounts.verify_password_or_token(user, password):
            page.status = 401
            page.message = "Wrong user name or password."
            return page
        now = utcnow()
        if page.token:
            live_token(session, page.token, page.api_key, now).user_id = user.id
            return Page(state="approved", app=page.app, name=user.name)
        return with_token(page.cb, issue_token(session, page.api_key, now, user=user))


def _page_from(values: Any) -> Page:
    def text(key: str) -> str:
        value = values.get(key)
        return value.strip() if isinstance(value, str) else ""

    return Page(
        state="form",
        api_key=text("api_key")[:64],
        token=text("token")[:64],
        cb=text("cb")[:2048],
        name=text("name")[:64],
    )


@router.get("/api/auth/")
@router.get("/api/auth")
async def show(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    page = await run_in_threadpool(_show, runtime, _page_from(request.query_params))
    return _render(request, page)


@router.post("/api/auth/")
@router.post("/api/auth")
async def decide(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    form = await request.form(max_fields=20)
    page = _page_from(form)
    # Each POST tries a password: count them per address like the API calls.
    address = request.client.host if request.client else "unknown"
    if runtime.rate_limiter.hit(f"lastfm-auth:{address}").exceeded:
        message = "Too many attempts. Wait a little and try again."
        return _render(request, Page(state="invalid", status=429, message=message))
    password = form.get("password")
    allow = form.get("decision") == "allow"
    outcome = await run_in_threadpool(
        _decide, runtime, page, password if isinstance(password, str) else "", allow
    )
    if isinstance(outcome, str):
        return RedirectResponse(outcome, status_code=302, headers=_HEADERS)
    return _render(request, outcome)
