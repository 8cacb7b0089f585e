"""Countries, locales and time zones: validated against CLDR (Babel) and the IANA database."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError
from babel.core import get_global


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (CLDR's territories that have time zones)."""
    return frozenset(
        code
        for code in get_global("territory_zones")
        if len(code) == 2 and code.isalpha() and code != "ZZ"
    )


@cache
def timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def normalize_country(code: str) -> str:
    code = code.strip().upper()
    if code not in countries():
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def normalize_timezone(name: str) -> str:
    name = name.strip()
    if name not in timezones():
        raise ValueError(f"{name!r} is not an IANA time zone (for example Europe/Berlin)")
    return name


def normalize_locale(tag: str) -> str:
    """Return a BCP 47 tag (``pt-BR``) for anything Babel can parse (``pt_br``, ``pt-BR``)."""
    try:
        locale = Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, UnknownLocaleError) as exc:
        raise ValueError(f"{tag!r} is not a known locale (for example en, de-AT, pt-BR)") from exc
    return "-".join(part for part in (locale.language, locale.script, locale.territory) if part)


# Where a country spans several zones, the one most of its people live in.
_MAIN_ZONE = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CD": "Africa/Kinshasa",
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",
    "CY": "Asia/Nicosia",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "GL": "America/Nuuk",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "MN": "Asia/Ulaanbaatar",
    "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",
    "UZ": "Asia/Tashkent",
}


def default_timezone(country: str | None) -> str:
    """The main time zone of a country, or UTC."""
    if country in _MAIN_ZONE:
        return _MAIN_ZONE[country]
    if country:
        zones: list[str] = get_global("territory_zones").get(country, [])
        if zones:
            return zones[0]
    return "UTC"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
