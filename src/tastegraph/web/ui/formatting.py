"""Jinja filters that format dates, times and numbers for the page's locale and the viewer's
time zone (``locale`` and ``timezone`` come from the render context that ``Page`` builds)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.numbers import format_decimal, format_percent
from jinja2 import pass_context
from jinja2.runtime import Context


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _zone(ctx: Context) -> ZoneInfo:
    return ZoneInfo(str(ctx.get("timezone") or "UTC"))


def _locale(ctx: Context) -> str:
    return str(ctx.get("locale") or "en")


@pass_context
def date_filter(ctx: Context, value: date | datetime | None, fmt: str = "medium") -> str:
    """A date (``medium``: 3 May 2024 / 3 mai 2024); a datetime is taken in the viewer's zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _aware(value).astimezone(_zone(ctx)).date()
    return format_date(value, format=fmt, locale=_locale(ctx))


@pass_context
def datetime_filter(ctx: Context, value: datetime | None, fmt: str = "medium") -> str:
    """A moment in the viewer's time zone."""
    if value is None:
        return ""
    return format_datetime(_aware(value), format=fmt, tzinfo=_zone(ctx), locale=_locale(ctx))


@pass_context
def time_filter(ctx: Context, value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    return format_time(_aware(value), format=fmt, tzinfo=_zone(ctx), locale=_locale(ctx))


@pass_context
def number_filter(ctx: Context, value: float | None) -> str:
    """1234567 -> 1,234,567 / 1 234 567 / 1.234.567."""
    if value is None:
        return ""
    return format_decimal(value, locale=_locale(ctx))


@pass_context
def percent_filter(ctx: Context, value: float | None) -> str:
    """0.25 -> 25 %, spaced and signed as the locale writes it."""
    if value is None:
        return ""
    return format_percent(value, locale=_locale(ctx))


@pass_context
def timeago_filter(ctx: Context, value: datetime | None) -> str:
    """How long ago (or how soon): "3 hours ago", "il y a 3 heures", "dans 2 jours"."""
    if value is None:
        return ""
    now: datetime = ctx.get("now") or datetime.now(UTC)
    return format_timedelta(
        _aware(value) - now, granularity="minute", add_direction=True, locale=_locale(ctx)
    )


def isoformat_filter(value: datetime | None) -> str:
    """For ``<time datetime="...">``: always UTC ISO 8601."""
    return "" if value is None else _aware(value).astimezone(UTC).isoformat()


FILTERS: dict[str, Any] = {
    "date": date_filter,
    "datetime": datetime_filter,
    "time": time_filter,
    "number": number_filter,
    "percent": percent_filter,
    "timeago": timeago_filter,
    "isoformat": isoformat_filter,
}
