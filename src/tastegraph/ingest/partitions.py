"""The play log's monthly partitions on PostgreSQL: made ahead of time, filled from the default
partition, detached for archiving.

Migration 0021 partitions ``plays`` by RANGE (played_at), one partition per UTC month
(``plays_YYYY_MM``) and a default partition (``plays_default``) that takes whatever no month
covers, so no play is ever refused. ``maintain`` makes the partitions of the coming months
(``tastegraph db partitions`` and the server's daily ``PartitionKeeper``), and gives the plays
that ended up in the default partition a month of their own: PostgreSQL refuses to make a
partition whose range has rows in the default one, so those rows move in the same
transaction. A new month is made as a plain table, checked, filled and attached. Making
empty months makes writers of plays wait for a moment (readers go on); moving plays out of
the default partition makes everybody wait until it is done (see ``maintain``).

SQLite has one table and nothing to do here.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tastegraph.storage.database import Database

_log = logging.getLogger(__name__)

PARENT = "plays"
DEFAULT_PARTITION = "plays_default"
_MONTHLY = re.compile(r"^plays_(\d{4})_(\d{2})$")
_LOCK_KEY = 0x706C_6179_7061_7274  # "playpart": one maintainer at a time, whatever the process


class PartitioningUnavailable(RuntimeError):
    """The database is not PostgreSQL, or its play log is not partitioned."""


@dataclass(frozen=True, order=True)
class Month:
    """A UTC calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, value: str) -> Month:
        """``YYYY-MM``."""
        found = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
        if found is None or not 1 <= int(found[2]) <= 12:
            raise ValueError(f"{value!r} is not a month (YYYY-MM)")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, day: date | datetime) -> Month:
        return cls(day.year, day.month)

    def plus(self, months: int) -> Month:
        year, month0 = divmod(self.year * 12 + self.month - 1 + months, 12)
        return Month(year, month0 + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def table(self) -> str:
        return f"plays_{self.year:04d}_{self.month:02d}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def is_partition_name(name: str) -> bool:
    """Whether a table name is one of the play log's partitions (attached or detached); the
    schema comparison of the migrations leaves them out (they are not models)."""
    return name == DEFAULT_PARTITION or _MONTHLY.match(name) is not None


def month_of_table(name: str) -> Month | None:
    found = _MONTHLY.match(name)
    return Month(int(found[1]), int(found[2])) if found else None


@dataclass
class PartitionReport:
    created: list[str] = field(default_factory=list)
    moved: int = 0
    """Plays moved out of the default partition into a month of their own."""
    filled: list[str] = field(default_factory=list)
    """The partitions those plays went to."""
    detached: list[str] = field(default_factory=list)
    left_in_default: list[str] = field(default_factory=list)
    """Months with plays in the default partition whose table exists detached (archived):
    their plays stay in the default partition."""


def maintain(
    session: Session,
    *,
    today: date,
    ahead: int,
    first: Month | None = None,
    detach_before: Month | None = None,
) -> PartitionReport:
    """Make the monthly partitions from ``first`` (default: this month) to ``ahead`` months
    after this one, and one for every month with plays in the default partition; detach the
    monthly partitions before ``detach_before``. Idempotent; several processes may run it at
    once (they take turns). The caller owns the transaction."""
    if session.get_bind().dialect.name != "postgresql":
        raise PartitioningUnavailable("partitioning the play log is PostgreSQL-only")
    kind = session.scalar(
        text("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(:name)"),
        {"name": PARENT},
    )
    if kind != "p":
        raise PartitioningUnavailable("the play log is not partitioned (run tastegraph db upgrade)")
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    report = PartitionReport()
    attached = set(
        session.scalars(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(:name)"
            ),
            {"name": PARENT},
        )
    )
    this_month = Month.of(today)
    wanted = set(_months(first or this_month, this_month.plus(ahead)))

    def makeable(month: Month) -> bool:
        too_old = detach_before is not None and month < detach_before
        return month.table not in attached and not too_old

    crowding = any(
        makeable(month) and not _table_exists(session, month.table) for month in _crowded(session)
    )
    if crowding:
        # Plays move out of the default partition: readers wait too. A query that planned
        # with the partitions as they were (before the attach) and read after the commit
        # would find the moved plays neither in the default partition nor in the new one.
        session.execute(text(f"LOCK TABLE {PARENT} IN ACCESS EXCLUSIVE MODE"))
    elif {month.table for month in wanted} <= attached:
        wanted = set()  # nothing to make: no lock on the play log
    else:
        # Only writers wait (readers go on): an insert that had already chosen the default
        # partition for a row when its month is attached would fail.
        session.execute(text(f"LOCK TABLE {PARENT} IN SHARE ROW EXCLUSIVE MODE"))
    crowded = _crowded(session)  # again, now that no play can arrive
    for month in sorted(wanted | crowded):
        if not makeable(month):
            continue
        if _table_exists(session, month.table):  # detached, archived: not made again
            if month in crowded:
                report.left_in_default.append(month.table)
            continue
        if month in crowded and not crowding:
            continue  # its plays came after the first look: the next run moves them
        moved = _attach_month(session, month, fill=month in crowded)
        report.moved += moved
        report.created.append(month.table)
        if moved:
            report.filled.append(month.table)
    if detach_before is not None:
        report.detached = _detach(session, attached, detach_before)
    return report


def _detach(session: Session, attached: set[str], before: Month) -> list[str]:
    """Detach the monthly partitions before ``before``; their names."""
    detached: list[str] = []
    for name in sorted(attached):
        month = month_of_table(name)
        if month is not None and month < before:
            session.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name}"))
            detached.append(name)
    return detached


def _crowded(session: Session) -> set[Month]:
    """The months of the plays in the default partition."""
    return {
        Month(int(year), int(month))
        for year, month in session.execute(
            text(
                "SELECT DISTINCT extract(year FROM played_at AT TIME ZONE 'UTC'), "
                "extract(month FROM played_at AT TIME ZONE 'UTC') FROM plays_default"
            )
        )
    }


def _months(first: Month, last: Month) -> list[Month]:
    months: list[Month] = []
    month = first
    while month <= last:
        months.append(month)
        month = month.plus(1)
    return months


def _table_exists(session: Session, name: str) -> bool:
    return session.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}) is True


def _attach_month(session: Session, month: Month, *, fill: bool) -> int:
    """Make ``month``'s partition, moving its plays out of the default partition first; how
    many moved. Names and bounds are built from integers, never from input text."""
    name = month.table
    low, high = month.start.isoformat(), month.plus(1).start.isoformat()
    session.execute(
        text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING STORAGE)")
    )
    # The check proves the rows belong to the month, so attaching does not scan them again.
    session.execute(
        text(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds "
            f"CHECK (played_at >= '{low}' AND played_at < '{high}')"
        )
    )
    moved = 0
    if fill:
        moved = int(
            session.execute(
                text(
                    f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "  # noqa: S608 - see above
                    f"WHERE played_at >= '{low}' AND played_at < '{high}' RETURNING *) "
                    f"INSERT INTO {name} SELECT * FROM moved"
                )
            ).rowcount  # type: ignore[attr-defined]
        )
    session.execute(
        text(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ('{low}') TO ('{high}')"
        )
    )
    session.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds"))
    if moved:
        # A partition filled in one go has no statistics until autovacuum comes round; the
        # planner took it for millions of rows and scanned every month in parallel to find
        # a few plays by id (seen after moving a 20M-play history out of the default one).
        session.execute(text(f"ANALYZE {name}"))
    return moved


def vacuum(engine: Engine, names: list[str]) -> None:
    """``VACUUM`` partitions filled in one go, and the default partition once plays moved out
    of it, outside any transaction (it cannot run in one). It marks the months' pages
    all-visible, so a person's chart reads (user, item, time) from the index alone instead of
    one heap page per play (a heavy listener's year read 13,000 pages, 250 ms cold), and
    clears the moved plays out of the default partition's indexes (every chart reads the
    log's first and last play through them: 260 ms after 18.7M plays moved, against under a
    millisecond); autovacuum would do both, but only some time later."""
    if not names:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for name in names:
            month = month_of_table(name)
            if name != DEFAULT_PARTITION and (month is None or month.table != name):
                raise ValueError(f"not a monthly partition: {name!r}")
            connection.exec_driver_sql(f"VACUUM {name}")


def partition_names(session: Session) -> list[str]:
    """The partitions attached to the play log, in name order (empty on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    return sorted(
        session.scalars(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(:name)"
            ),
            {"name": PARENT},
        )
    )


class PartitionKeeper:
    """Runs ``maintain`` when the server starts and every ``interval`` seconds after (a day by
    default), in a thread; nothing on SQLite. A failed run is logged and retried next time."""

    def __init__(self, database: Database, *, ahead: int, interval: float) -> None:
        self.database = database
        self.ahead = ahead
        self.interval = interval
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None or self.interval <= 0 or self.database.dialect != "postgresql":
            return
        self._thread = threading.Thread(target=self._loop, name="partition-keeper", daemon=True)
        self._thread.start()

    def run_once(self) -> PartitionReport:
        with self.database.unit_of_work(write=True) as session:
            report = maintain(session, today=datetime.now(UTC).date(), ahead=self.ahead)
        self.runs += 1
        if report.created or report.moved:
            _log.info("play log partitions made: %s (%d plays moved)", report.created, report.moved)
        return report

    def _loop(self) -> None:
        while True:
            try:
                self.run_once()
            except Exception:  # the next run retries; plays meanwhile land in the default
                _log.exception("making the play log's partitions failed")
            if self._stop.wait(self.interval):
                return

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
