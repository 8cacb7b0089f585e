"""Fills the chart archive (``archive.py``): the site-wide and geo charts of the last closed
week, month, quarter, half-year and year, in every time zone someone lives in (site-wide; and
per country, in the zones of its people), at every level with plays, computed from the
rollups as a request would count them. Run by ``tastegraph stats archive`` and by a server's
archiver thread; what is archived already is kept, what no longer names a last period goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.periodic import Periodic
from tastegraph.stats import archive
from tastegraph.stats.archive import ARCHIVE_DEPTH, Key
from tastegraph.stats.models import SITE, ArchivedChart, ChartSize, ChartState
from tastegraph.stats.periods import Period, Window, resolve
from tastegraph.stats.rollups import fold, hold_changes
from tastegraph.stats.services import StatsService
from tastegraph.storage.database import Database

ARCHIVED_PERIODS = (Period.WEEK, Period.MONTH, Period.QUARTER, Period.HALF_YEARLY, Period.YEAR)


@dataclass(frozen=True)
class ArchiveRun:
    wanted: int
    computed: int
    kept: int
    """Archived already."""
    dropped: int
    """Archived charts of periods that are no longer the last ones."""
    skipped: int
    """Changed while they were computed: left to the next run."""


def wanted(database: Database, now: datetime) -> dict[Key, Window]:
    """The charts the archive should hold at ``now``."""
    with database.unit_of_work() as session:
        people = session.execute(select(User.country, User.timezone).distinct()).all()
        levels: dict[str, set[Kind]] = {}
        for scope, level in session.execute(select(ChartSize.country, ChartSize.level).distinct()):
            levels.setdefault(scope, set()).add(Kind(level))
    zones: dict[str, set[str]] = {SITE: {"UTC"}}
    for country, zone in people:
        if zone and _known(zone):
            zones[SITE].add(zone)
        if country:
            zones.setdefault(country, {"UTC"})
            if zone and _known(zone):
                zones[country].add(zone)
    out: dict[Key, Window] = {}
    for scope, scope_zones in sorted(zones.items()):
        for zone in sorted(scope_zones):
            for period in ARCHIVED_PERIODS:
                window = resolve(period, zone, now)
                assert window.start is not None
                for level in sorted(levels.get(scope, ())):
                    key = Key.of(level, scope or None, window.start, window.end)
                    out.setdefault(key, window)
    return out


def run(
    database: Database,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ArchiveRun:
    """Bring the archive up to date at ``now``: compute what is missing, drop what is no
    longer wanted; ``progress(done, missing)`` after each chart."""
    moment = now or datetime.now(UTC)
    fold(database)  # charts with plays waiting to be folded in their window are not kept
    want = wanted(database, moment)
    with database.unit_of_work(rollups_only=True) as session:
        hold_changes(session)
        a = ArchivedChart.__table__.c
        have = {
            Key(scope, Kind(level), start, end)
            for scope, level, start, end in session.execute(
                select(a.scope, a.level, a.start_us, a.end_us)
            )
        }
        stale = sorted(have - want.keys(), key=lambda k: (k.scope, k.level, k.start_us))
        for k in stale:
            session.execute(
                delete(ArchivedChart).where(
                    a.scope == k.scope,
                    a.level == k.level.value,
                    a.start_us == k.start_us,
                    a.end_us == k.end_us,
                )
            )
    missing = [key for key in want if key not in have]
    computed = skipped = 0
    for done, key in enumerate(missing, start=1):
        if _archive_one(database, key, want[key]):
            computed += 1
        else:
            skipped += 1
        if progress is not None:
            progress(done, len(missing))
    return ArchiveRun(len(want), computed, len(want) - len(missing), len(stale), skipped)


def _archive_one(database: Database, key: Key, window: Window) -> bool:
    """Compute one chart and keep it, unless the rollups or its window's plays changed
    meanwhile in a way a fold would not have told the archive about."""
    country = key.scope or None
    with database.unit_of_work() as session:
        epoch = archive.epoch(session)
        through = int(session.scalar(select(ChartState.counted_through)) or 0)
        chart = StatsService(session).counted_site_chart(
            key.level, window, country, ARCHIVE_DEPTH, 0, True
        )
        entries = [[e.item.id, e.plays, e.listeners or 0] for e in chart.entries]
    try:
        with database.unit_of_work(rollups_only=True) as session:
            hold_changes(session)
            # A deletion, merge or move since: not kept. A play of the window recorded since the
            # watermark read above (folded or not): the chart may or may not have counted it.
            if archive.epoch(session) != epoch or archive.has_plays_after(session, key, through):
                return False
            session.merge(
                ArchivedChart(
                    scope=key.scope,
                    level=key.level,
                    start_us=key.start_us,
                    end_us=key.end_us,
                    total=chart.total,
                    entries=entries,
                    through=through,
                )
            )
    except IntegrityError:  # another server's archiver kept it first
        return False
    return True


def _known(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class Archiver(Periodic):
    """Brings the archive up to date (``run``) every ``interval`` seconds until stopped."""

    def __init__(self, database: Database, interval: float) -> None:
        super().__init__(
            lambda: run(database),
            interval,
            name="chart-archiver",
            failure="archiving closed charts failed",
            stop_timeout=60.0,
        )
