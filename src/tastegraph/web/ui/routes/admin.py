"""Administration pages (administrators only; everyone else gets a 404, as if they did not
exist): the users with search, the shout moderation queue, and an overview of API keys and
tokens and of advertiser accounts (create advertisers, add and remove their members).

The moderation queue and advertisers go through ``ShoutService`` and ``AdService`` exactly as
the API does. Accounts and the Last.fm protocol keep no listing service yet, so the user search
and the key overview are the read-only queries below (never secrets: token hashes and Last.fm
secrets are not read).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import func, or_, select

from tastegraph.accounts.errors import UserNotFound
from tastegraph.accounts.models import ApiToken, TokenKind, User
from tastegraph.accounts.services import name_key
from tastegraph.ads.errors import InvalidAdData
from tastegraph.ads.models import AdvertiserMember
from tastegraph.ads.schemas import AdvertiserIn
from tastegraph.protocols.models import LastfmApiKey
from tastegraph.runtime import Services
from tastegraph.social.models import ReportReason, ReportStatus
from tastegraph.social.rendering import render_html
from tastegraph.social.shouts import ModerationAction
from tastegraph.storage.base import utcnow
from tastegraph.web.ui.console_forms import FormErrors
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router

router = page_router()

USERS_PER_PAGE = 50
REPORTS_PER_PAGE = 50
REASON_LABELS: dict[ReportReason, str] = {
    ReportReason.SPAM: N_("Spam"),
    ReportReason.ABUSE: N_("Abuse"),
    ReportReason.HARASSMENT: N_("Harassment"),
    ReportReason.HATE: N_("Hate"),
    ReportReason.OTHER: N_("Other"),
}
QUEUE_LABELS: dict[ReportStatus, str] = {
    ReportStatus.OPEN: N_("Open"),
    ReportStatus.REMOVED: N_("Removed"),
    ReportStatus.DISMISSED: N_("Dismissed"),
}
TOKEN_LABELS: dict[TokenKind, str] = {
    TokenKind.PERSONAL: N_("Personal API tokens"),
    TokenKind.SESSION: N_("API log-in sessions"),
    TokenKind.LASTFM_SESSION: N_("Last.fm sessions"),
    TokenKind.AUDIOSCROBBLER_SESSION: N_("Audioscrobbler sessions"),
    TokenKind.WEB_SESSION: N_("Web sessions"),
}

Text = Annotated[str, Form(max_length=300)]


def require_admin(page: Page, svc: Services) -> User:
    """The administrator at the page; anyone else sees "page not found"."""
    user = page.require_user(svc)
    if not user.is_admin:
        raise PageError(404)
    return user


@router.get("/admin")
def admin_home(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        admin = require_admin(page, svc)
        counts = {
            "users": svc.session.scalar(select(func.count()).select_from(User)) or 0,
            "reports": len(svc.shouts.reports(admin, limit=REPORTS_PER_PAGE)),
            "advertisers": len(svc.ads.list_advertisers(svc.ads.scope(admin))),
        }
        return page.render("ui/admin/home.html", {"counts": counts})


# -- users --------------------------------------------------------------------------------------


@router.get("/admin/users")
def users(page: PageDep, q: str = "", offset: int = 0) -> Response:
    query = q.strip()[:64]
    offset = max(0, offset)
    with page.unit_of_work() as svc:
        require_admin(page, svc)
        stmt = select(User).order_by(User.name_key)
        if query:
            pattern = (
                "%"
                + name_key(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            stmt = stmt.where(
                or_(
                    User.name_key.like(pattern, escape="\\"),
                    func.lower(User.display_name).like(pattern, escape="\\"),
                )
            )
        found = list(svc.session.scalars(stmt.offset(offset).limit(USERS_PER_PAGE + 1)))
        ids = [u.id for u in found[:USERS_PER_PAGE]]
        advertiser_of = set(
            svc.session.scalars(
                select(AdvertiserMember.user_id).where(AdvertiserMember.user_id.in_(ids))
            )
        )
        return page.render(
            "ui/admin/users.html",
            {
                "query": query,
                "users": found[:USERS_PER_PAGE],
                "advertiser_of": advertiser_of,
                "offset": offset,
                "more": len(found) > USERS_PER_PAGE,
                "per_page": USERS_PER_PAGE,
            },
        )


# -- moderation ---------------------------------------------------------------------------------


@router.get("/admin/moderation")
def moderation(page: PageDep, status: str = ReportStatus.OPEN.value) -> Response:
    try:
        chosen = ReportStatus(status)
    except ValueError:
        raise PageError(404) from None
    with page.unit_of_work() as svc:
        admin = require_admin(page, svc)
        views = svc.shouts.reports(admin, status=chosen, limit=REPORTS_PER_PAGE)
        return page.render(
            "ui/admin/moderation.html",
            {
                "reports": [
                    (view, Markup(render_html(view.shout.body)))  # noqa: S704 - escaped by render_html
                    for view in views
                ],
                "status": chosen,
                "queue_labels": QUEUE_LABELS,
                "reason_labels": REASON_LABELS,
            },
        )


@router.post("/admin/moderation/{report_id}")
def resolve(report_id: int, page: PageDep, action: Text) -> Response:
    """``remove`` deletes the shout (its open reports are upheld); ``dismiss`` keeps it."""
    try:
        chosen = ModerationAction(action)
    except ValueError:
        raise PageError(400, page.gettext("Check what you entered and try again.")) from None
    with page.unit_of_work(write=True) as svc:
        admin = require_admin(page, svc)
        svc.shouts.resolve(admin, report_id, chosen)
    return page.redirect("/admin/moderation")


# -- keys, tokens and advertisers -------------------------------------------------------------


def _keys_context(svc: Services, admin: User) -> dict[str, Any]:
    now = utcnow()
    active = (ApiToken.revoked_at.is_(None)) & (
        ApiToken.expires_at.is_(None) | (ApiToken.expires_at > now)
    )
    by_kind = dict(
        svc.session.execute(
            select(ApiToken.kind, func.count()).where(active).group_by(ApiToken.kind)
        ).all()
    )
    personal = svc.session.execute(
        select(
            ApiToken.name, ApiToken.prefix, ApiToken.created_at, ApiToken.last_used_at, User.name
        )
        .join(User, User.id == ApiToken.user_id)
        .where(active, ApiToken.kind == TokenKind.PERSONAL)
        .order_by(ApiToken.last_used_at.desc().nulls_last(), ApiToken.id.desc())
        .limit(50)
    ).all()
    keys = svc.session.execute(
        select(
            LastfmApiKey.key, LastfmApiKey.name, LastfmApiKey.created_at, LastfmApiKey.revoked_at
        ).order_by(LastfmApiKey.created_at.desc())
    ).all()
    scope = svc.ads.scope(admin)
    advertisers = [(a, svc.ads.members(scope, a.id)) for a in svc.ads.list_advertisers(scope)]
    return {
        "by_kind": [(kind, by_kind.get(kind, 0)) for kind in TokenKind],
        "token_labels": TOKEN_LABELS,
        "personal": personal,
        "lastfm_keys": keys,
        "advertisers": advertisers,
    }


def _keys_page(
    page: Page,
    svc: Services,
    admin: User,
    *,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return page.render(
        "ui/admin/keys.html",
        {
            **_keys_context(svc, admin),
            "errors": errors or FormErrors(),
            "values": values or {"name": "", "domain": ""},
        },
        status=status,
    )


@router.get("/admin/keys")
def keys(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        admin = require_admin(page, svc)
        return _keys_page(page, svc, admin)


@router.post("/admin/advertisers")
def create_advertiser(page: PageDep, name: Text, domain: Text = "") -> Response:
    values = {"name": name.strip(), "domain": domain.strip().lower()}
    with page.unit_of_work(write=True) as svc:
        admin = require_admin(page, svc)
        try:
            data = AdvertiserIn(name=values["name"], domain=values["domain"] or None)
            svc.ads.create_advertiser(svc.ads.scope(admin), data)
        except (ValidationError, InvalidAdData):
            svc.session.rollback()
            errors = FormErrors()
            errors.add(
                "advertiser",
                page.gettext(
                    "An advertiser needs a name and, if given, a domain such as example.com."
                ),
            )
            return _keys_page(page, svc, admin, errors=errors, values=values, status=422)
    page.runtime.ads.invalidate()
    return page.redirect("/admin/keys#advertisers")


@router.post("/admin/advertisers/{advertiser_id}/members")
def member(advertiser_id: int, page: PageDep, user: Text, action: Text = "add") -> Response:
    """Add a user to an advertiser (they may then use the console), or remove them."""
    with page.unit_of_work(write=True) as svc:
        admin = require_admin(page, svc)
        scope = svc.ads.scope(admin)
        try:
            if action == "remove":
                svc.ads.remove_member(scope, advertiser_id, user.strip())
            else:
                svc.ads.add_member(scope, advertiser_id, user.strip())
        except UserNotFound:
            svc.session.rollback()
            errors = FormErrors()
            errors.add(
                "member", page.gettext("There is no user called %(name)s.", name=user.strip())
            )
            return _keys_page(page, svc, admin, errors=errors, status=422)
    return page.redirect("/admin/keys#advertisers")
