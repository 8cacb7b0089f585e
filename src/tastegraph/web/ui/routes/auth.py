"""Sign up, log in and log out: a web session in an HttpOnly cookie (see ``ui/sessions.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from fastapi.responses import Response
from pydantic import ValidationError

from tastegraph.accounts.errors import InvalidCredentials, NameTaken
from tastegraph.accounts.schemas import UserCreate
from tastegraph.web.ui import sessions
from tastegraph.web.ui.page import Page, PageDep, page_router, safe_next

router = page_router()

Text = Annotated[str, Form(max_length=1024)]
Next = Annotated[str, Form(max_length=2048)]


def _signed_in(page: Page, cookie: str, target: str) -> Response:
    page.set_cookie(
        sessions.SESSION_COOKIE, cookie, max_age=page.runtime.settings.session_token_days * 86400
    )
    return page.redirect(target)


@router.get("/signup")
def signup_form(page: PageDep, next: str = "") -> Response:
    if page.viewer is not None:
        return page.redirect(f"/user/{page.viewer.name}")
    return page.render(
        "ui/auth/signup.html", {"next": safe_next(next, ""), "error": "", "name": ""}
    )


@router.post("/signup")
def signup(page: PageDep, name: Text, password: Text, next: Next = "") -> Response:
    error = ""
    try:
        data = UserCreate(name=name, password=password, locale=page.locale)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors() else ""
        error = (
            page.gettext("Choose a password of at least 8 characters.")
            if field == "password"
            else page.gettext(
                "User names are 2 to 32 letters, digits, dots, hyphens or underscores, "
                "starting with a letter or digit."
            )
        )
    if not error:
        try:
            with page.unit_of_work(write=True) as svc:
                user = svc.accounts.register(data)
                cookie = sessions.open_session(svc, page.runtime.settings, user)
                target = safe_next(next, f"/user/{user.name}")
            return _signed_in(page, cookie, target)
        except NameTaken:
            error = page.gettext("That user name is taken. Choose another one.")
    return page.render(
        "ui/auth/signup.html",
        {"next": safe_next(next, ""), "error": error, "name": name},
        status=422,
    )


@router.get("/login")
def login_form(page: PageDep, next: str = "") -> Response:
    if page.viewer is not None:
        return page.redirect(safe_next(next, f"/user/{page.viewer.name}"))
    return page.render("ui/auth/login.html", {"next": safe_next(next, ""), "error": "", "name": ""})


@router.post("/login")
def login(page: PageDep, name: Text, password: Text, next: Next = "") -> Response:
    try:
        with page.unit_of_work(write=True) as svc:
            user = svc.accounts.authenticate_password(name, password)
            cookie = sessions.open_session(svc, page.runtime.settings, user)
            target = safe_next(next, f"/user/{user.name}")
        return _signed_in(page, cookie, target)
    except InvalidCredentials:
        error = page.gettext("Wrong user name or password.")
    return page.render(
        "ui/auth/login.html",
        {"next": safe_next(next, ""), "error": error, "name": name},
        status=401,
    )


@router.post("/logout")
def logout(page: PageDep) -> Response:
    with page.unit_of_work(write=True) as svc:
        sessions.close_session(svc, page.request.cookies.get(sessions.SESSION_COOKIE))
    page.delete_cookie(sessions.SESSION_COOKIE)
    return page.redirect("/")
