"""The chart archive: site-wide and geo charts of closed windows, kept until they could change.

Last week's, month's, quarter's, half-year's or year's chart in some time zone is the slowest
chart to count from the rollups (its edges cut UTC buckets mid-day, and distinct listeners do
not add up across them), yet it only changes when plays inside it change. ``archiver.py``
computes such charts ahead from the rollups; this module serves them and forgets them in the
same transaction as anything that could change them:

* a fold forgets the charts whose window holds an hour it counted plays of (live plays only
  touch the current hour, which no closed window holds), and a deletion those holding an hour
  it took plays from;
* a listener moving forgets the charts of the two countries, and a merge, a rebuild or a load
  of the rollups forgets them all;
* every change but a fold moves ``ChartState.epoch`` on, so a chart the archiver was
  computing across it is not kept;
* a chart is served from the archive only while no play of its window waits to be folded
  (those are counted from the log, as every chart counts them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.orm import Session

from tastegraph.catalog.kinds import Kind
from tastegraph.ingest.models import Play
from tastegraph.stats.models import SITE, ArchivedChart, ChartState
from tastegraph.stats.spans import to_micros
from tastegraph.storage.dialect import int_div, no_index, utc_micros

ARCHIVE_DEPTH = 100
"""Entries kept per archived chart: deeper pages are counted from the rollups."""
_US_PER_HOUR = 3_600_000_000
_MOST_RANGES = 32
"""Beyond this many separate stretches of hours in one fold, the whole span goes."""


@dataclass(frozen=True)
class Key:
    scope: str
    level: Kind
    start_us: int
    end_us: int

    @staticmethod
    def of(level: Kind, country: str | None, start: datetime, end: datetime) -> Key:
        return Key(country or SITE, level, to_micros(start), to_micros(end))


def served(session: Session, key: Key) -> ArchivedChart | None:
    """The archived chart, if there is one and no play of its window waits to be folded."""
    row = session.get(ArchivedChart, (key.scope, key.level, key.start_us, key.end_us))
    if row is None:
        return None
    through = func.coalesce(select(ChartState.counted_through).scalar_subquery(), 0)
    if has_plays_after(session, key, through):
        return None
    return row


def has_plays_after(session: Session, key: Key, after: Any) -> bool:
    """Whether the window holds a play with an id above ``after`` (found by id: the plays
    after a recent watermark are few)."""
    at = utc_micros(no_index(Play.played_at))
    found = exists().where(Play.id > after, at >= key.start_us, at < key.end_us)
    return bool(session.scalar(select(found)))


def forget_plays(session: Session, where: Sequence[ColumnElement[bool]]) -> None:
    """The plays matching ``where`` are being counted in or taken out: the archived charts
    whose window holds an hour with one of them go."""
    if session.scalar(select(ArchivedChart.scope).limit(1)) is None:
        return
    hour = int_div(utc_micros(Play.played_at), _US_PER_HOUR)
    hours = sorted(int(h) for h in session.scalars(select(hour).where(*where).distinct()))
    if not hours:
        return
    ranges: list[list[int]] = []
    for h in hours:
        if ranges and ranges[-1][1] == h:
            ranges[-1][1] = h + 1
        else:
            ranges.append([h, h + 1])
    if len(ranges) > _MOST_RANGES:
        ranges = [[ranges[0][0], ranges[-1][1]]]
    a = ArchivedChart.__table__.c
    for low, high in ranges:
        session.execute(
            delete(ArchivedChart).where(
                a.end_us > low * _US_PER_HOUR, a.start_us < high * _US_PER_HOUR
            )
        )


def forget_scopes(session: Session, scopes: Sequence[str]) -> None:
    """A listener moves between countries: those countries' archived charts go."""
    session.execute(delete(ArchivedChart).where(ArchivedChart.scope.in_(list(scopes))))
    changed(session)


def changed(session: Session) -> None:
    """The rollups change other than by a fold: a chart the archiver is computing across the
    change is not kept (``epoch``)."""
    session.execute(update(ChartState).values(epoch=ChartState.epoch + 1))


def forget_all(session: Session) -> None:
    """A change of the rollups that may touch any window (a merge, a rebuild): every
    archived chart goes."""
    session.execute(delete(ArchivedChart))
    changed(session)


def epoch(session: Session) -> int:
    return int(session.scalar(select(ChartState.epoch)) or 0)
