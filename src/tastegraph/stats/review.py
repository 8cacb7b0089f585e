"""Year in review: one user's year as JSON, and the same drawn as an SVG poster."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.stats.periods import Window
from tastegraph.stats.profile import ProfileStats
from tastegraph.stats.services import StatsService

REVIEW_LEVELS = (
    Kind.ARTIST,
    Kind.ALBUM,
    Kind.TRACK,
    Kind.SHOW,
    Kind.FILM,
    Kind.TEAM,
    Kind.COMPETITION,
    Kind.OUTLET,
)


@dataclass
class YearReview:
    user: str
    year: int
    timezone: str
    plays: int
    active_days: int
    longest_streak: int
    months: list[int]
    """Plays per local month, January first."""
    domains: dict[str, int]
    top: dict[str, list[tuple[int, str, int]]] = field(default_factory=dict)
    """Per level: (item id, title, plays), at most ten."""
    new_artists: int = 0
    clock: list[list[int]] = field(default_factory=list)


def year_window(year: int, zone: str) -> Window:
    tz = ZoneInfo(zone)
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return Window(start, end, zone)


def build_review(session: Session, user: User, year: int, zone: str) -> YearReview:
    window = year_window(year, zone)
    stats, profile = StatsService(session), ProfileStats(session)
    local = profile.local_times(user, window, zone)
    days = sorted({m.date() for m in local})
    longest = run = 0
    for i, day in enumerate(days):
        run = run + 1 if i and (day - days[i - 1]).days == 1 else 1
        longest = max(longest, run)
    months = Counter(m.month for m in local)
    review = YearReview(
        user=user.name,
        year=year,
        timezone=zone,
        plays=len(local),
        active_days=len(days),
        longest_streak=longest,
        months=[months.get(m, 0) for m in range(1, 13)],
        domains={s.domain.value: s.plays for s in profile.shares(user, window) if s.plays},
        clock=profile.clock(user, window, zone),
    )
    for level in REVIEW_LEVELS:
        chart = stats.chart(level, user=user, window=window, limit=10)
        if chart.entries:
            review.top[level.value] = [(e.item.id, e.item.title, e.plays) for e in chart.entries]
    before = Window(None, window.start or window.end, zone)
    known = {
        e.item.id for e in stats.chart(Kind.ARTIST, user=user, window=before, limit=100_000).entries
    }
    this_year = stats.chart(Kind.ARTIST, user=user, window=window, limit=100_000).entries
    review.new_artists = sum(1 for e in this_year if e.item.id not in known)
    return review


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
POSTER_LEVELS = ("artist", "show", "film", "team", "outlet")
"""The level whose top items the poster draws: the first of these the year has."""


@dataclass(frozen=True)
class PosterText:
    """The poster's words in its reader's language: the web page builds them with the page's
    translations and Babel; the API (and the default) uses English."""

    lang: str
    """The language tag of the poster's text (``xml:lang``)."""
    months: Sequence[str]
    """Twelve abbreviated month names, January first."""
    summary: str
    """The line under the heading: plays, days, streak, new artists."""
    top_heading: Mapping[str, str]
    """Per poster level (``POSTER_LEVELS``): the heading of its top items."""
    titles: Mapping[int, str] = field(default_factory=dict)
    """Item titles in the reader's language, by id (an item not in it keeps its title)."""
    number: Callable[[int], str] = "{:,}".format


def english_text(review: YearReview) -> PosterText:
    return PosterText(
        lang="en",
        months=_MONTHS,
        summary=(
            f"{review.plays:,} plays on {review.active_days} days · longest streak "
            f"{review.longest_streak} days · {review.new_artists} new artists · {review.timezone}"
        ),
        top_heading={level: f"Top {level}s" for level in POSTER_LEVELS},
    )


def render_svg(review: YearReview, text: PosterText | None = None) -> str:
    """A poster: plays per month as columns, then the top artists (or shows) as bars."""
    text = text or english_text(review)
    width, height = 640, 560
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" '
        f'xml:lang="{escape(text.lang)}">',
        f'<rect width="{width}" height="{height}" fill="#14161f"/>',
        _text(32, 48, 26, "#fff", f"{escape(review.user)} · {review.year}"),
        _text(32, 76, 14, "#aab", escape(text.summary)),
    ]
    peak = max(review.months) or 1
    for i, count in enumerate(review.months):
        bar = round(150 * count / peak)
        x = 32 + i * 48
        parts.append(f'<rect x="{x}" y="{260 - bar}" width="36" height="{bar}" fill="#e4572e"/>')
        parts.append(_text(x + 18, 278, 11, "#aab", escape(text.months[i]), anchor="middle"))
    level = next((lv for lv in POSTER_LEVELS if lv in review.top), None)
    if level is not None:
        top = review.top[level][:8]
        heading = text.top_heading.get(level, level)
        parts.append(_text(32, 318, 16, "#fff", escape(heading)))
        most = top[0][2] or 1
        for i, (item_id, title, plays) in enumerate(top):
            y = 334 + i * 26
            bar = round(380 * plays / most)
            parts.append(f'<rect x="200" y="{y}" width="{bar}" height="18" fill="#4fb0c6"/>')
            shown = text.titles.get(item_id, title)
            label = escape(shown if len(shown) <= 24 else shown[:23] + "…")
            parts.append(_text(192, y + 14, 13, "#fff", label, anchor="end"))
            parts.append(_text(206 + bar, y + 14, 12, "#aab", escape(text.number(plays))))
    parts.append("</svg>")
    return "\n".join(parts)


def _text(x: int, y: int, size: int, fill: str, content: str, *, anchor: str = "start") -> str:
    """A text element; ``content`` must already be escaped."""
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" fill="{fill}" text-anchor="{anchor}">'
        f"{content}</text>"
    )
