"""Settings pages: profile and language, password, privacy and incognito, advertising consent,
tokens and connected scrobblers, importing plays, exporting one's data, and deleting the
account. Each change goes through the service the API uses (``AccountService.update``,
``AudienceService.set_consent`` / ``erase_user``, ``portability``); the language switcher in
the header posts to ``/settings/language``."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TextIO

from babel import Locale
from fastapi import Form, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError
from starlette.background import BackgroundTask

from tastegraph.accounts.errors import InvalidCredentials
from tastegraph.accounts.models import ApiToken, TokenKind, User, Visibility
from tastegraph.accounts.schemas import TokenCreate, UserUpdate
from tastegraph.locales import countries, timezones
from tastegraph.portability import sources
from tastegraph.portability.exports import records, write_csv, write_jsonl
from tastegraph.portability.formats.listenbrainz_export import write_listenbrainz
from tastegraph.portability.importing import where
from tastegraph.protocols.lastfm.keys import ApiKeyService
from tastegraph.runtime import Services
from tastegraph.web.ui import sessions
from tastegraph.web.ui.i18n import LOCALES, supported
from tastegraph.web.ui.import_jobs import ImportJob, ImportJobs, JobState
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import (
    LoginRequired,
    Page,
    PageDep,
    PageError,
    page_router,
    safe_next,
)

router = page_router()

ONE_YEAR = 365 * 86400
MAX_UPLOAD = 512 * 1024 * 1024
"""The largest file the import page takes (a ListenBrainz export of a long life fits)."""
REJECTED_SHOWN = 200

SECTIONS: tuple[tuple[str, str], ...] = (
    ("/settings", N_("Profile")),
    ("/settings/password", N_("Password")),
    ("/settings/privacy", N_("Privacy")),
    ("/settings/advertising", N_("Advertising")),
    ("/settings/tokens", N_("Tokens and scrobblers")),
    ("/settings/import", N_("Import")),
    ("/settings/export", N_("Export")),
    ("/settings/delete", N_("Delete account")),
)
VISIBILITIES: tuple[tuple[Visibility, str, str], ...] = (
    (Visibility.PUBLIC, N_("Public"), N_("Everyone sees your profile, plays and charts.")),
    (
        Visibility.FRIENDS,
        N_("Friends only"),
        N_("Only your friends see your profile; to everyone else it does not exist."),
    ),
    (
        Visibility.PRIVATE,
        N_("Private"),
        N_(
            "Only you see your profile. Your plays still count, without your name, in "
            "site-wide charts."
        ),
    ),
)
IMPORT_FORMATS: tuple[tuple[str, str], ...] = (
    ("auto", N_("Recognise it (by name and content)")),
    ("lastfm-csv", N_("Last.fm CSV export")),
    ("listenbrainz", N_("ListenBrainz export (zip, JSON or JSONL)")),
    ("rockbox", N_("Rockbox .scrobbler.log")),
    ("trakt", N_("Trakt history (JSON)")),
    ("maloja", N_("Maloja export (JSON)")),
    ("csv", N_("tastegraph CSV")),
    ("jsonl", N_("tastegraph JSONL")),
)
Writer = Callable[[TextIO, Iterator[dict[str, Any]]], int]
EXPORT_FORMATS: dict[str, tuple[str, str, str]] = {
    # format: (label, file extension, media type)
    "jsonl": (N_("Everything, as JSON lines"), "jsonl", "application/x-ndjson"),
    "csv": (N_("Everything, as CSV"), "csv", "text/csv"),
    "listenbrainz": (N_("Music plays as ListenBrainz listens"), "jsonl", "application/x-ndjson"),
}


def _render(page: Page, template: str, context: dict[str, Any], status: int = 200) -> Response:
    return page.render(
        template, {"sections": SECTIONS, "saved": False, "error": "", **context}, status=status
    )


def _saved(page: Page) -> bool:
    return page.request.query_params.get("saved") == "1"


# -- profile and language ---------------------------------------------------------------------


def _country_choices(page: Page) -> list[tuple[str, str]]:
    names = Locale.parse(page.locale).territories
    return sorted(((code, names.get(code, code)) for code in countries()), key=lambda c: c[1])


def _locale_choices(current: str) -> list[tuple[str, str]]:
    shipped = [(code, (Locale.parse(code).get_display_name(code) or code)) for code in LOCALES]
    if current not in LOCALES:
        language = current.split("-", maxsplit=1)[0]
        name = Locale.parse(current.replace("-", "_")).get_display_name(language)
        shipped.insert(0, (current, name or current))
    return shipped


def _profile(page: Page, user: User, *, error: str = "", status: int = 200) -> Response:
    return _render(
        page,
        "ui/settings/settings.html",
        {
            "user": user,
            "country_choices": _country_choices(page),
            "timezone_choices": sorted(timezones()),
            "locale_choices": _locale_choices(user.locale),
            "saved": _saved(page) and not error,
            "error": error,
        },
        status,
    )


@router.get("/settings")
def settings_page(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        return _profile(page, page.require_user(svc))


@router.post("/settings/profile")
def save_profile(
    page: PageDep,
    display_name: Annotated[str, Form(max_length=200)] = "",
    country: Annotated[str, Form(max_length=8)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
    locale: Annotated[str, Form(max_length=35)] = "en",
) -> Response:
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        try:
            data = UserUpdate.model_validate(
                {
                    "display_name": display_name.strip() or None,
                    "country": country or None,
                    "timezone": timezone,
                    "locale": locale,
                }
            )
        except ValidationError:
            return _profile(
                page,
                user,
                error=page.gettext("Choose a country, a time zone and a language from the lists."),
                status=422,
            )
        svc.accounts.update(user, data)
        svc.audiences.account_changed(user)  # segments follow the country, language and zone
    return page.redirect("/settings?saved=1")


@router.post("/settings/language")
def set_language(
    page: PageDep,
    locale: Annotated[str, Form(max_length=35)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    """Signed in: saved to the account's locale setting. Signed out: kept in a cookie."""
    chosen = supported(locale)
    if chosen is None:
        raise PageError(400, page.gettext("That language is not available."))
    if page.viewer is not None:
        with page.unit_of_work(write=True) as svc:
            svc.accounts.update(page.require_user(svc), UserUpdate(locale=chosen))
    else:
        page.set_cookie(sessions.LANGUAGE_COOKIE, chosen, max_age=ONE_YEAR)
    return page.redirect(safe_next(next))


# -- password ---------------------------------------------------------------------------------


def _password_page(page: Page, *, error: str = "", status: int = 200) -> Response:
    return _render(
        page,
        "ui/settings/password.html",
        {"changed": _saved(page) and not error, "error": error},
        status,
    )


@router.get("/settings/password")
def password_page(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        page.require_user(svc)
        return _password_page(page)


@router.post("/settings/password")
def change_password(
    page: PageDep,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirm_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """A new password (argon2, through ``AccountService.update`` as ``PATCH /me`` does) after
    the current one. Every other log-in session ends — other browsers by the cookie's
    fingerprint of the password hash and by revocation, API log-ins by revocation — while
    this browser gets a cookie fingerprinted with the new hash and stays signed in."""
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        if not svc.accounts.passwords.verify(user.password_hash, current_password):
            error = page.gettext("That is not your current password.")
            return _password_page(page, error=error, status=422)
        if new_password != confirm_password:
            error = page.gettext("The new password and its confirmation differ.")
            return _password_page(page, error=error, status=422)
        try:
            data = UserUpdate(password=new_password)
        except ValidationError:
            error = page.gettext("Choose a password of at least 8 characters.")
            return _password_page(page, error=error, status=422)
        svc.accounts.update(user, data)
        cookie = sessions.keep_after_password_change(
            svc, page.runtime.settings, user, page.request.cookies.get(sessions.SESSION_COOKIE)
        )
    if cookie is not None:
        page.set_cookie(
            sessions.SESSION_COOKIE,
            cookie,
            max_age=page.runtime.settings.session_token_days * 86400,
        )
    return page.redirect("/settings/password?saved=1")


# -- privacy ----------------------------------------------------------------------------------


@router.get("/settings/privacy")
def privacy_page(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        user = page.require_user(svc)
        return _render(
            page,
            "ui/settings/privacy.html",
            {"user": user, "visibilities": VISIBILITIES, "saved": _saved(page)},
        )


@router.post("/settings/privacy")
def save_privacy(
    page: PageDep,
    visibility: Annotated[str, Form(max_length=20)],
    hide_recent_activity: Annotated[bool, Form()] = False,
    incognito: Annotated[bool, Form()] = False,
) -> Response:
    if visibility not in set(Visibility):
        raise PageError(400, page.gettext("Choose who may see your profile."))
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        svc.accounts.update(
            user,
            UserUpdate(
                visibility=Visibility(visibility),
                hide_recent_activity=hide_recent_activity,
                incognito=incognito,
            ),
        )
    return page.redirect("/settings/privacy?saved=1")


# -- advertising consent ----------------------------------------------------------------------


@router.get("/settings/advertising")
def advertising_page(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        user = page.require_user(svc)
        state = svc.audiences.consent(user)
        year = datetime.now(UTC).year
        minor = user.birth_year is not None and user.birth_year > year - 18
        return _render(
            page,
            "ui/settings/advertising.html",
            {
                "state": state,
                "minor": minor,
                "history": list(reversed(svc.audiences.consent_log(user)))[:20],
                "saved": _saved(page),
            },
        )


@router.post("/settings/advertising")
def save_advertising(
    page: PageDep,
    profiling: Annotated[bool, Form()] = False,
    personalised_ads: Annotated[bool, Form()] = False,
    declared_adult: Annotated[bool, Form()] = False,
) -> Response:
    """Withdrawing either purpose takes the account out of every audience segment in this
    same transaction (``AudienceService.set_consent``)."""
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        svc.audiences.set_consent(
            user,
            profiling=profiling,
            personalised_ads=personalised_ads,
            declared_adult=declared_adult,
            actor="self",
            source="settings",
        )
    return page.redirect("/settings/advertising?saved=1")


# -- tokens and connected scrobblers ----------------------------------------------------------


@dataclass(frozen=True)
class Servers:
    """The addresses players are given, from ``TASTEGRAPH_PUBLIC_URL`` or this request."""

    base: str

    @property
    def host(self) -> str:
        return re.sub(r"^https?://", "", self.base)


def _servers(page: Page) -> Servers:
    base = page.runtime.settings.public_url or str(page.request.base_url)
    return Servers(base.rstrip("/"))


@dataclass(frozen=True)
class ConnectedApp:
    """A player or app the user approved on the Last.fm log-in page (``/api/auth/``): its
    session lives until revoked, so the page lists it with a button to disconnect it."""

    token: ApiToken
    name: str
    """The name its API key was registered with, or "" for a key this server does not know."""


def _connected_apps(svc: Services, user: User) -> list[ConnectedApp]:
    keys = ApiKeyService(svc.session)
    out = []
    for token in svc.accounts.list_tokens(user, kinds=(TokenKind.LASTFM_SESSION,)):
        key = keys.find(token.name)  # a Last.fm session's name is its client's api_key
        out.append(ConnectedApp(token, key.name if key is not None else ""))
    return out


def _tokens(
    page: Page, svc: Services, user: User, *, created: str = "", status: int = 200, error: str = ""
) -> Response:
    return _render(
        page,
        "ui/settings/tokens.html",
        {
            "user": user,
            "tokens": svc.accounts.list_tokens(user),
            "apps": _connected_apps(svc, user),
            "personal": TokenKind.PERSONAL,
            "created": created,
            "servers": _servers(page),
            "error": error,
        },
        status,
    )


@router.get("/settings/tokens")
def tokens_page(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        return _tokens(page, svc, page.require_user(svc))


@router.post("/settings/tokens")
def create_token(page: PageDep, name: Annotated[str, Form(max_length=200)] = "") -> Response:
    """The secret is shown on this answer only: it is not stored, and not in any address."""
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        try:
            data = TokenCreate.model_validate({"name": name.strip() or "personal token"})
        except ValidationError:
            return _tokens(
                page,
                svc,
                user,
                status=422,
                error=page.gettext("Give the token a name of at most 100 characters."),
            )
        _token, secret = svc.accounts.create_token(user, data.name)
        return _tokens(page, svc, user, created=secret)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(token_id: int, page: PageDep) -> Response:
    with page.unit_of_work(write=True) as svc:
        svc.accounts.revoke_token(page.require_user(svc), token_id)  # another's: 404
    return page.redirect("/settings/tokens")


# -- import -----------------------------------------------------------------------------------


def _jobs(page: Page) -> ImportJobs:
    jobs: ImportJobs = page.request.app.state.import_jobs
    return jobs


@router.get("/settings/import")
def import_page(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        user = page.require_user(svc)
        return _render(
            page,
            "ui/settings/import.html",
            {
                "formats": IMPORT_FORMATS,
                "jobs": _jobs(page).of_user(user.id),
                "timezone_name": user.timezone,
            },
        )


def _safe_name(filename: str) -> str:
    name = re.sub(r"[^\w.-]+", "_", Path(filename).name, flags=re.ASCII).strip("._")
    return name[-100:] or "upload"


async def _store_upload(page: Page, upload: UploadFile) -> Path:
    folder = page.runtime.settings.data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(8)}-{_safe_name(upload.filename or '')}"
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if size > MAX_UPLOAD:
                out.close()
                path.unlink(missing_ok=True)
                raise PageError(
                    413,
                    page.gettext(
                        "The file is larger than 512 MB: import it with the command "
                        "line (tastegraph import)."
                    ),
                )
            out.write(chunk)
    if size == 0:
        path.unlink(missing_ok=True)
        raise PageError(422, page.gettext("Choose a file to import."))
    return path


@router.post("/settings/import")
async def start_import(
    page: PageDep,
    file: UploadFile,
    format: Annotated[str, Form(max_length=20)] = "auto",
) -> Response:
    if format != "auto" and format not in sources.FORMATS:
        raise PageError(400, page.gettext("Choose one of the formats in the list."))
    viewer = page.viewer
    if viewer is None:
        raise LoginRequired
    jobs = _jobs(page)
    if jobs.running_for(viewer.id) is not None:
        raise PageError(
            409, page.gettext("An import of yours is still running. Wait until it has finished.")
        )
    path = await _store_upload(page, file)
    if format == "auto":
        with path.open("rb") as probe:
            format = sources.detect(path, probe.read(sources.HEAD_BYTES))
    job = jobs.start(
        page.runtime,
        user_id=viewer.id,
        user_name=viewer.name,
        timezone=viewer.timezone,
        path=path,
        filename=file.filename or "upload",
        fmt=format,
    )
    return page.redirect(f"/settings/import/{job.id}")


def _job(page: Page, job_id: str) -> ImportJob:
    viewer = page.viewer
    job = _jobs(page).get(job_id, viewer.id) if viewer is not None else None
    if job is None:
        raise PageError(404, page.gettext("There is no such import, or it ended long ago."))
    return job


@router.get("/settings/import/{job_id}")
def import_job_page(job_id: str, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        page.require_user(svc)
    job = _job(page, job_id)
    rejected = job.report.as_json()["rejected"] if job.state is not JobState.RUNNING else []
    return _render(
        page,
        "ui/settings/import_job.html",
        {
            "job": job,
            "formats": dict(IMPORT_FORMATS),
            "rejected": [(where(e), e["errors"]) for e in rejected[:REJECTED_SHOWN]],
            "more_rejected": max(0, len(rejected) - REJECTED_SHOWN),
        },
    )


@router.get("/settings/import/{job_id}/progress")
def import_progress(job_id: str, page: PageDep) -> Response:
    """What the import page's script polls: how far the job is."""
    job = _job(page, job_id)
    counts = job.report.counts
    return page.finish(
        JSONResponse(
            {
                "state": job.state.value,
                "percent": job.percent,
                "read": counts["read"],
                "accepted": counts["accepted"],
                "duplicate": counts["duplicate"],
                "rejected": counts["rejected"],
                "text": page.gettext(
                    "%(read)s read: %(accepted)s accepted, %(duplicate)s duplicates, "
                    "%(rejected)s rejected",
                    read=page.format_number(counts["read"]),
                    accepted=page.format_number(counts["accepted"]),
                    duplicate=page.format_number(counts["duplicate"]),
                    rejected=page.format_number(counts["rejected"]),
                ),
            }
        )
    )


# -- export -----------------------------------------------------------------------------------


@router.get("/settings/export")
def export_page(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        page.require_user(svc)
    return _render(page, "ui/settings/export.html", {"formats": EXPORT_FORMATS})


@router.get("/settings/export/download")
def export_download(page: PageDep, format: str = "jsonl") -> Response:
    """The whole export is written to a temporary file first, so a download never stops
    half-way because the database went away; the file is removed once sent."""
    if format not in EXPORT_FORMATS:
        raise PageError(404, page.gettext("There is no such export format."))
    writers: dict[str, Writer] = {
        "jsonl": write_jsonl,
        "csv": write_csv,
        "listenbrainz": partial(write_listenbrainz, skipped=None),
    }
    _label, extension, media_type = EXPORT_FORMATS[format]
    handle, name = tempfile.mkstemp(prefix="tastegraph-export-", suffix=f".{extension}")
    path = Path(name)
    try:
        with page.unit_of_work() as svc:
            user = page.require_user(svc)
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                writers[format](out, records(svc, user))
            owner = user.name
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    suffix = "-listenbrainz" if format == "listenbrainz" else ""
    return page.finish(
        FileResponse(
            path,
            media_type=media_type,
            filename=f"tastegraph-{owner}{suffix}-{stamp}.{extension}",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )
    )


# -- deleting the account ---------------------------------------------------------------------


@router.get("/settings/delete")
def delete_page(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        user = page.require_user(svc)
        return _render(page, "ui/settings/delete.html", {"user": user})


@router.post("/settings/delete")
def delete_account(
    page: PageDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    """Erasure through the audiences service, as ``DELETE /api/v1/users/{name}``: the account
    and all its data, by the database's cascades; one anonymous audit entry remains."""
    with page.unit_of_work(write=True) as svc:
        user = page.require_user(svc)
        try:
            svc.accounts.authenticate_password(user.name, password)
        except InvalidCredentials:
            return _render(
                page,
                "ui/settings/delete.html",
                {"user": user, "error": page.gettext("That is not your password.")},
                status=422,
            )
        if not confirm:
            return _render(
                page,
                "ui/settings/delete.html",
                {
                    "user": user,
                    "error": page.gettext("Tick the box to confirm that everything is to go."),
                },
                status=422,
            )
        svc.audiences.erase_user(user, actor="self")
    page.delete_cookie(sessions.SESSION_COOKIE)
    # The page that says goodbye is a signed-out one, with the forms of a signed-out browser.
    page.viewer = None
    anonymous = page.request.cookies.get(sessions.ANON_COOKIE) or sessions.new_anonymous_id()
    page.set_cookie(sessions.ANON_COOKIE, anonymous)
    page.csrf_token = sessions.csrf_token(page.runtime.settings, None, anonymous)
    return page.render("ui/settings/deleted.html")
