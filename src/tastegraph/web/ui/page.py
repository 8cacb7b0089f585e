"""What every page route gets: the viewer, the negotiated locale, the CSRF token, rendering.

A page route declares ``page: PageDep`` (and ``viewer: ViewerDep`` if it only needs who is
looking), opens its own unit of work with ``page.unit_of_work()`` exactly as the API routes
do, calls the same services, and returns ``page.render("family/name.html", {...})`` or
``page.redirect(url)``. Routers come from ``page_router()``, whose route class turns errors
into HTML error pages in the viewer's language.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import urlencode

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from tastegraph.accounts.models import User
from tastegraph.ads.services import works_for_an_advertiser
from tastegraph.errors import TastegraphError
from tastegraph.runtime import Runtime, Services
from tastegraph.web.deps import RuntimeDep
from tastegraph.web.deps import unit_of_work as _unit_of_work
from tastegraph.web.ui import sessions
from tastegraph.web.ui.i18n import negotiate

if TYPE_CHECKING:
    from babel.support import Translations

    from tastegraph.web.ui.rendering import UiState

R = TypeVar("R", bound=Response)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages carry CSRF tokens and private data
    "Vary": "Cookie, Accept-Language",
}


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page: a snapshot of the signed-in account, taken from the session
    cookie at the start of the request. ``page.user(svc)`` gives the ``User`` row itself."""

    id: int
    name: str
    display_name: str | None
    locale: str
    timezone: str
    is_admin: bool
    unread: int = 0
    """Unread notifications, for the header."""
    advertiser: bool = False
    """Works for an advertiser: the header links the advertising console."""

    @classmethod
    def of(cls, user: User, *, unread: int = 0, advertiser: bool = False) -> Viewer:
        return cls(
            id=user.id,
            name=user.name,
            display_name=user.display_name,
            locale=user.locale,
            timezone=user.timezone,
            is_admin=user.is_admin,
            unread=unread,
            advertiser=advertiser,
        )

    @property
    def label(self) -> str:
        return self.display_name or self.name


class PageError(Exception):
    """Answer with an HTML error page: ``status`` and a message already in the page's language."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoginRequired(Exception):
    """Raised by ``page.require_user``: the browser is sent to the log-in page and back."""


def get_viewer(request: Request, runtime: RuntimeDep) -> Viewer | None:
    """The signed-in viewer, from the ``tg_session`` cookie (None when signed out)."""
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    if not cookie:
        return None
    with _unit_of_work(runtime) as svc:
        user = sessions.session_user(svc, runtime.settings, cookie)
        if user is None:
            return None
        return Viewer.of(
            user,
            unread=svc.notifications.unread_count(user),
            advertiser=works_for_an_advertiser(user),
        )


ViewerDep = Annotated[Viewer | None, Depends(get_viewer)]


@dataclass
class Page:
    """One page request: viewer, locale, translations and the CSRF token, and the means to
    render a template or redirect with the right cookies and security headers."""

    request: Request
    runtime: Runtime
    ui: UiState
    viewer: Viewer | None
    locale: str
    csrf_token: str
    cookies: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    """Cookies to set on the response: name -> (value, max-age; 0 deletes)."""

    @property
    def translations(self) -> Translations:
        return self.ui.catalogues.translations[self.locale]

    @property
    def timezone(self) -> str:
        return self.viewer.timezone if self.viewer is not None else "UTC"

    def gettext(self, message: str, **variables: Any) -> str:
        """A UI string from Python code, in the page's language (``%(name)s`` placeholders)."""
        text = self.translations.gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        text = self.translations.ngettext(singular, plural, num)
        return text % {"num": num, **variables}

    def format_number(self, value: float) -> str:
        """A number as the page's locale writes it (for the SVG helpers' ``value_format``)."""
        return format_decimal(value, locale=self.locale)

    @contextmanager
    def unit_of_work(self, *, write: bool = False) -> Iterator[Services]:
        with _unit_of_work(self.runtime, write=write) as svc:
            yield svc

    def user(self, svc: Services) -> User | None:
        """The viewer's ``User`` row in this unit of work (None when signed out)."""
        return svc.session.get(User, self.viewer.id) if self.viewer is not None else None

    def require_user(self, svc: Services) -> User:
        """The viewer's ``User``; a signed-out browser is sent to log in and come back."""
        user = self.user(svc)
        if user is None:
            raise LoginRequired
        return user

    def context(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "page": self,
            "request": self.request,
            "viewer": self.viewer,
            "locale": self.locale,
            "timezone": self.timezone,
            "csrf_token": self.csrf_token,
            "now": datetime.now(UTC),
            "current_path": current_path(self.request),
            "fmt_number": self.format_number,
            **(extra or {}),
        }

    def render(
        self, template: str, context: dict[str, Any] | None = None, *, status: int = 200
    ) -> HTMLResponse:
        html = self.ui.environment(self.locale).get_template(template).render(self.context(context))
        return self.finish(HTMLResponse(html, status_code=status))

    def redirect(self, url: str) -> RedirectResponse:
        """303 See Other: after a form post, the browser GETs ``url``."""
        return self.finish(RedirectResponse(url, status_code=303))

    def set_cookie(self, name: str, value: str, max_age: int | None = None) -> None:
        self.cookies[name] = (value, max_age)

    def delete_cookie(self, name: str) -> None:
        self.cookies[name] = ("", 0)

    def finish(self, response: R) -> R:
        secure = sessions.secure_cookies(self.runtime.settings)
        for name, (value, max_age) in self.cookies.items():
            if max_age == 0:
                response.delete_cookie(name, httponly=True, samesite="lax", secure=secure)
            else:
                response.set_cookie(
                    name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure
                )
        response.headers.update(SECURITY_HEADERS)
        return response


def current_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after a form: only a path on this site (never ``//host`` or a scheme)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


def get_page(request: Request, runtime: RuntimeDep, viewer: ViewerDep) -> Page:
    ui: UiState = request.app.state.ui
    session_cookie = request.cookies.get(sessions.SESSION_COOKIE)
    anonymous_id = request.cookies.get(sessions.ANON_COOKIE) or ""
    page = Page(
        request=request,
        runtime=runtime,
        ui=ui,
        viewer=viewer,
        locale=negotiate(
            chosen=request.cookies.get(sessions.LANGUAGE_COOKIE) if viewer is None else None,
            user_setting=viewer.locale if viewer is not None else None,
            accept_language=request.headers.get("accept-language"),
        ),
        csrf_token="",
    )
    if viewer is None:
        if session_cookie:
            page.delete_cookie(sessions.SESSION_COOKIE)  # expired, revoked or stale
        if not anonymous_id:
            anonymous_id = sessions.new_anonymous_id()
            page.set_cookie(sessions.ANON_COOKIE, anonymous_id)
        page.csrf_token = sessions.csrf_token(runtime.settings, None, anonymous_id)
    else:
        page.csrf_token = sessions.csrf_token(runtime.settings, session_cookie, anonymous_id)
    request.state.ui_page = page
    return page


PageDep = Annotated[Page, Depends(get_page)]


async def check_csrf(request: Request, page: PageDep) -> None:
    """Refuse an unsafe request whose form lacks this browser's ``csrf_token`` (403)."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form()
    if not sessions.csrf_matches(page.csrf_token, form.get(sessions.CSRF_FIELD)):
        raise PageError(
            403,
            page.gettext(
                "This form has expired or did not come from this site. "
                "Go back, reload the page and try again."
            ),
        )


def _fallback_page(request: Request) -> Page:
    runtime: Runtime = request.app.state.runtime
    return get_page(request, runtime, get_viewer(request, runtime))


async def error_page(request: Request, status: int, message: str = "") -> Response:
    page: Page | None = getattr(request.state, "ui_page", None)
    if page is None:
        page = await run_in_threadpool(_fallback_page, request)
    return page.render(
        "ui/errors/error.html", {"status": status, "message": message}, status=status
    )


def _login_redirect(request: Request) -> Response:
    page: Page | None = getattr(request.state, "ui_page", None)
    target = "/login?" + urlencode({"next": current_path(request)})
    response = RedirectResponse(target, status_code=303)
    return page.finish(response) if page is not None else response


class PageRoute(APIRoute):
    """A page: area errors, bad parameters and refusals become HTML pages, not problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            from tastegraph.web.errors import status_for

            try:
                return await handler(request)
            except LoginRequired:
                return _login_redirect(request)
            except PageError as exc:
                return await error_page(request, exc.status, exc.message)
            except TastegraphError as exc:
                return await error_page(request, status_for(exc))
            except RequestValidationError:
                return await error_page(request, 404 if request.method in SAFE_METHODS else 400)
            except StarletteHTTPException as exc:
                return await error_page(request, exc.status_code)

        return guarded


def page_router() -> APIRouter:
    """The router of one page family (``web/ui/routes/<family>.py``)."""
    return APIRouter(include_in_schema=False, route_class=PageRoute)
