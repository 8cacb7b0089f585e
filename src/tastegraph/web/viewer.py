"""Who a request shows items to: their country and languages (see catalog.viewer)."""

from __future__ import annotations

from fastapi import Request

from tastegraph.accounts.models import User
from tastegraph.catalog.localization import preferred_languages
from tastegraph.catalog.viewer import Viewer
from tastegraph.locales import normalize_country
from tastegraph.runtime import Runtime


def viewer_of(runtime: Runtime, request: Request, user: User | None) -> Viewer:
    """Where the viewer is: the trusted proxy's country header when configured and known
    (people travel), else the account's country; what they read: the account's locale, then
    ``Accept-Language``."""
    country = None
    header = runtime.settings.country_header
    if header:
        raw = request.headers.get(header, "")
        try:
            country = normalize_country(raw) if raw else None
        except ValueError:  # XX, T1 (Tor) and the like: not a country
            country = None
    if country is None and user is not None:
        country = user.country
    languages = preferred_languages(
        user.locale if user is not None else None, request.headers.get("accept-language")
    )
    return Viewer(country=country, languages=languages)
