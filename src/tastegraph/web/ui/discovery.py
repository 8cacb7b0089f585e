"""What the listening and discovery pages share (profiles, items, charts, search,
recommendations, stations, year in review): the names of kinds and domains, periods, feedback
actions, the explanation of a recommendation in the page's language, and who the catalogue
shows titles to."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from babel.dates import format_timedelta
from markupsafe import Markup

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import DOMAIN_OF, CreditRole, Domain, Kind
from tastegraph.catalog.localization import preferred_languages
from tastegraph.catalog.models import Item, Offer
from tastegraph.catalog.schemas import ItemBrief
from tastegraph.catalog.viewer import Viewer as CatalogViewer
from tastegraph.ingest.models import Sentiment
from tastegraph.social.rendering import render_html
from tastegraph.stats.periods import Period
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageError
from tastegraph.web.viewer import viewer_of

KIND_NAMES: dict[Kind, str] = {
    Kind.ARTIST: N_("Artist"),
    Kind.ALBUM: N_("Album"),
    Kind.TRACK: N_("Track"),
    Kind.SHOW: N_("Show"),
    Kind.SEASON: N_("Season"),
    Kind.EPISODE: N_("Episode"),
    Kind.FILM: N_("Film"),
    Kind.COMPETITION: N_("Competition"),
    Kind.TEAM: N_("Team"),
    Kind.MATCH: N_("Match"),
    Kind.OUTLET: N_("Outlet"),
    Kind.PROGRAMME: N_("Programme"),
    Kind.STORY: N_("Story"),
}
KIND_PLURALS: dict[Kind, str] = {
    Kind.ARTIST: N_("Artists"),
    Kind.ALBUM: N_("Albums"),
    Kind.TRACK: N_("Tracks"),
    Kind.SHOW: N_("Shows"),
    Kind.SEASON: N_("Seasons"),
    Kind.EPISODE: N_("Episodes"),
    Kind.FILM: N_("Films"),
    Kind.COMPETITION: N_("Competitions"),
    Kind.TEAM: N_("Teams"),
    Kind.MATCH: N_("Matches"),
    Kind.OUTLET: N_("Outlets"),
    Kind.PROGRAMME: N_("Programmes"),
    Kind.STORY: N_("Stories"),
}
DOMAIN_NAMES: dict[Domain, str] = {
    Domain.MUSIC: N_("Music"),
    Domain.TV: N_("TV"),
    Domain.FILM: N_("Film"),
    Domain.SPORTS: N_("Sports"),
    Domain.NEWS: N_("News"),
}
DOMAIN_LEVELS: dict[Domain, tuple[Kind, ...]] = {
    Domain.MUSIC: (Kind.ARTIST, Kind.ALBUM, Kind.TRACK),
    Domain.TV: (Kind.SHOW, Kind.SEASON, Kind.EPISODE),
    Domain.FILM: (Kind.FILM,),
    Domain.SPORTS: (Kind.TEAM, Kind.COMPETITION, Kind.MATCH),
    Domain.NEWS: (Kind.OUTLET, Kind.PROGRAMME, Kind.STORY),
}
"""The chart levels of each domain, the headline level first."""

PERIODS: tuple[tuple[Period, str], ...] = (
    (Period.DAYS_7, N_("Last 7 days")),
    (Period.MONTH_1, N_("Last 30 days")),
    (Period.MONTH_3, N_("Last 90 days")),
    (Period.MONTH_12, N_("Last 12 months")),
    (Period.OVERALL, N_("All time")),
)

BECAUSE: dict[Domain, str] = {
    Domain.MUSIC: N_("Because you listened to %(title)s"),
    Domain.TV: N_("Because you watched %(title)s"),
    Domain.FILM: N_("Because you watched %(title)s"),
    Domain.SPORTS: N_("Because you watched %(title)s"),
    Domain.NEWS: N_("Because you read %(title)s"),
}
REASONS: dict[str, str] = {
    "Popular in your country": N_("Popular in your country"),
    "Popular": N_("Popular"),
    "From your library": N_("From your library"),
    "New to you": N_("New to you"),
}
"""The recommender's own reasons (English) and their UI strings."""

COMPATIBILITY: dict[str, str] = {
    "super": N_("Super"),
    "very high": N_("Very high"),
    "high": N_("High"),
    "medium": N_("Medium"),
    "low": N_("Low"),
    "very low": N_("Very low"),
}

ROLE_NAMES: dict[CreditRole, str] = {
    CreditRole.MAIN: N_("By"),
    CreditRole.FEATURED: N_("Featuring"),
    CreditRole.HOME: N_("Home team"),
    CreditRole.AWAY: N_("Away team"),
    CreditRole.PARTICIPANT: N_("Taking part"),
    CreditRole.DIRECTOR: N_("Director"),
    CreditRole.CAST: N_("Cast"),
    CreditRole.AUTHOR: N_("Author"),
    CreditRole.HOST: N_("Host"),
}
OFFER_NAMES: dict[Offer, str] = {
    Offer.AD_SUPPORTED: N_("free with ads"),
    Offer.SUBSCRIPTION: N_("with a subscription"),
    Offer.RENTAL: N_("to rent"),
}

FEEDBACK_ACTIONS: tuple[tuple[Sentiment, str, str], ...] = (
    (Sentiment.LOVE, N_("Love"), N_("Loved")),
    (Sentiment.HATE, N_("Hate"), N_("Hated")),
    (Sentiment.NOT_INTERESTED, N_("Not interested"), N_("Marked not interested")),
    (Sentiment.BAD_RECOMMENDATION, N_("Bad recommendation"), N_("Marked a bad recommendation")),
)
"""(sentiment, button, the button's label once given)."""


def language_name(code: str | None, locale: str) -> str:
    """A language as the page's locale names it ("de" -> "German" / "allemand")."""
    if not code:
        return ""
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name(locale) or code
    except (ValueError, UnknownLocaleError):
        return code


def country_name(code: str | None, locale: str) -> str:
    """A country as the page's locale names it ("DE" -> "Germany" / "Allemagne")."""
    if not code:
        return ""
    return str(Locale.parse(locale).territories.get(code.upper(), code))


def duration_text(seconds: int | None, locale: str) -> str:
    """A running time as the locale says it ("4 minutes", "2 heures")."""
    if not seconds:
        return ""
    return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=locale)


def item_path(item_id: int) -> str:
    return f"/items/{item_id}"


def url_with(path: str, **params: Any) -> str:
    """``path`` with the query parameters that are not None."""
    kept = {k: v for k, v in params.items() if v is not None and v != ""}
    return f"{path}?{urlencode(kept)}" if kept else path


def switch_url(path: str, params: Mapping[str, Any], name: str, value: Any) -> str:
    """``path`` with ``params``, ``name`` set to ``value`` (a switcher's link)."""
    return url_with(path, **{**params, name: value})


def catalog_viewer(page: Page, user: User | None) -> CatalogViewer:
    """Whom the catalogue shows items to: where they are (the proxy's country header, else
    the account's country) and their languages — the account's, the page's (a signed-out
    visitor's language choice), then the browser's."""
    found = viewer_of(page.runtime, page.request, user)
    account = user.locale if user is not None else None
    languages = preferred_languages(account, page.request.headers.get("accept-language"))
    ordered = [*languages[:1]] if account else []
    ordered += [page.locale, *languages]
    return CatalogViewer(country=found.country, languages=tuple(dict.fromkeys(ordered)))


def title_reader(
    briefs: Mapping[int, ItemBrief],
) -> Callable[[Item | None], str]:
    """``title_of(item)`` for a template: the item's title in the viewer's language when
    ``briefs`` has it (the catalogue's translation), else its own title ("" for None)."""

    def title_of(item: Item | None) -> str:
        if item is None:
            return ""
        brief = briefs.get(item.id)
        return brief.title if brief is not None else item.title

    return title_of


def feed_items(events: Iterable[Any]) -> list[Item]:
    """The items a list of feed events names (their subjects and played items), to read the
    viewer's titles of in one go."""
    out: list[Item] = []
    for event in events:
        out += [event.subject] if event.subject is not None else []
        out += event.items
    return out


def pick_period(page: Page, value: str, default: Period) -> Period:
    if not value:
        return default
    chosen = next((p for p, _ in PERIODS if p.value == value), None)
    if chosen is None:
        raise PageError(404, page.gettext("There is no such period."))
    return chosen


def pick_kind(
    page: Page, value: str | None, allowed: tuple[Kind, ...] = tuple(Kind)
) -> Kind | None:
    if not value:
        return None
    try:
        kind = Kind(value)
    except ValueError:
        kind = None
    if kind is None or kind not in allowed:
        raise PageError(404, page.gettext("There is no such kind of item."))
    return kind


def explanation(
    page: Page, because: Item | None, reason: str | None, briefs: Mapping[int, ItemBrief]
) -> str | None:
    """Why an item is recommended, in the page's language, with the title as the viewer reads
    it."""
    if because is not None:
        title = briefs[because.id].title if because.id in briefs else because.title
        return page.gettext(BECAUSE[DOMAIN_OF[because.kind]], title=title)
    if reason in REASONS:
        return page.gettext(REASONS[reason])
    return None


def shout_html(body: str) -> Markup:
    """A shout as HTML: every character escaped, http(s) addresses linked (social area)."""
    return Markup(render_html(body))  # noqa: S704 - render_html escapes all of the text


def labels() -> dict[str, Any]:
    """What every discovery template gets besides the page's own data."""
    return {
        "kind_names": KIND_NAMES,
        "kind_plurals": KIND_PLURALS,
        "domain_names": DOMAIN_NAMES,
        "item_path": item_path,
        "url_with": url_with,
        "switch_url": switch_url,
        "shout_html": shout_html,
        "feedback_actions": FEEDBACK_ACTIONS,
    }
