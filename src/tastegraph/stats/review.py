"""Year in review: one user's year as JSON, and the same drawn as an SVG poster."""

from __future__ import annotations

from collections import Counter
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


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def render_svg(review: YearReview) -> str:
    """A poster: plays per month as columns, then the top artists (or shows) as bars."""
    width, height = 640, 560
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif">',
        f'<rect width="{width}" height="{height}" fill="#14161f"/>',
        _text(32, 48, 26, "#fff", f"{escape(review.user)} · {review.year}"),
        f'<text x="32" y="76" font-size="14" fill="#aab">{review.plays:,} plays on '
        f"{review.active_days} days · longest streak {review.longest_streak} days · "
        f"{review.new_artists} new artists · {escape(review.timezone)}</text>",
    ]
    peak = max(review.months) or 1
    for i, count in enumerate(review.months):
        bar = round(150 * count / peak)
        x = 32 + i * 48
        parts.append(f'<rect x="{x}" y="{260 - bar}" width="36" height="{bar}" fill="#e4572e"/>')
        parts.append(_text(x + 18, 278, 11, "#aab", _MONTHS[i], anchor="middle"))
    level = next(
        (lv for lv in ("artist", "show", "film", "team", "outlet") if lv in review.top), None
    )
    if level is not None:
        top = review.top[level][:8]
        parts.append(f'<text x="32" y="318" font-size="16" fill="#fff">Top {level}s</text>')
        most = top[0][2] or 1
        for i, (_, title, plays) in enumerate(top):
            y = 334 + i * 26
            bar = round(380 * plays / most)
            parts.append(f'<rect x="200" y="{y}" width="{bar}" height="18" fill="#4fb0c6"/>')
            label = escape(title if len(title) <= 24 else title[:23] + "…")
            parts.append(_text(192, y + 14, 13, "#fff", label, anchor="end"))
            parts.append(
                f'<text x="{206 + bar}" y="{y + 14}" font-size="12" fill="#aab">{plays}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)


def _text(x: int, y: int, size: int, fill: str, content: str, *, anchor: str = "start") -> str:
    """A text element; ``content`` must already be escaped."""
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" fill="{fill}" text-anchor="{anchor}">'
        f"{content}</text>"
    )
