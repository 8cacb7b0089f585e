"""Keeping ``PlayCount`` (how many plays each person has) equal to the play log.

The feed finds milestones (the 100th, 500th ... play) by numbering the plays it reads down
from a person's count, so the count changes in the same transaction as the log:

* plays recorded: added (``PlayCounts.recorded``, a watcher of ``IngestService``, which
  says whose plays they are);
* plays deleted (a user's delete, a cancelled check-in): subtracted before the delete, after
  locking the people's rows, so two transactions deleting the same play count it once;
* a catalogue merge: a person who played both spellings at the same second keeps one play
  (``ingest.services.move_plays_on_merge``); ``count_plays_on_merge`` runs just before it and
  subtracts the plays it will drop;
* an account deleted: its row goes with it (a foreign key with ``ON DELETE CASCADE``).

``recount`` rebuilds every row from the log (the migration that made the table, bulk loads).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Connection, delete, exists, func, insert, select
from sqlalchemy.orm import Session, aliased

from tastegraph.ingest.models import Play
from tastegraph.social.models import PlayCount
from tastegraph.storage.dialect import insert_adding


def _add(session: Session, deltas: dict[int, int]) -> None:
    """Add ``deltas`` (user id -> plays) to the counts, in user order (so two writers never
    wait on each other's rows crosswise)."""
    rows = [{"user_id": user, "plays": n} for user, n in sorted(deltas.items()) if n]
    if rows:
        session.execute(insert_adding(session, PlayCount, ["user_id"], "plays"), rows)


def _tally(pairs: Iterable[tuple[int, int]], into: dict[int, int], sign: int) -> None:
    for user, n in pairs:
        into[user] = into.get(user, 0) + sign * int(n)


class PlayCounts:
    """The write path's watcher that keeps the counts (wired by the composition root)."""

    def recording(self, session: Session) -> None:
        """Nothing to prepare."""

    def recorded(self, session: Session, user_id: int, play_ids: Sequence[int]) -> None:
        # Counted from what the write path says, not read back by id: the partitioned log
        # (PostgreSQL) can only find a play by id by looking in every month.
        _add(session, {user_id: len(play_ids)})

    def removing(self, session: Session, where: Sequence[ColumnElement[bool]]) -> None:
        users = sorted(session.scalars(select(Play.user_id).where(*where).distinct()))
        if not users:
            return
        # A concurrent delete of the same plays waits here until this one commits, and then
        # counts them gone (PostgreSQL; SQLite has one writer at a time).
        session.execute(
            select(PlayCount.user_id)
            .where(PlayCount.user_id.in_(users))
            .order_by(PlayCount.user_id)
            .with_for_update()
        )
        deltas: dict[int, int] = {}
        _tally(
            session.execute(
                select(Play.user_id, func.count()).where(*where).group_by(Play.user_id)
            ),
            deltas,
            -1,
        )
        _add(session, deltas)

    def removed(self, session: Session) -> None:
        """Already subtracted."""


def count_plays_on_merge(session: Session, source: int, target: int) -> None:
    """Catalogue merge hook, wired before ``move_plays_on_merge``: subtract the plays of
    ``source`` it will delete as doubles of a play of ``target`` at the same second."""
    other = aliased(Play)
    clash = exists().where(
        other.user_id == Play.user_id,
        other.item_id == target,
        other.played_at == Play.played_at,
    )
    deltas: dict[int, int] = {}
    _tally(
        session.execute(
            select(Play.user_id, func.count())
            .where(Play.item_id == source, clash)
            .group_by(Play.user_id)
        ),
        deltas,
        -1,
    )
    _add(session, deltas)


def recount(connection: Connection | Session) -> int:
    """Every count again from the play log; how many people have plays."""
    connection.execute(delete(PlayCount))
    connection.execute(
        insert(PlayCount).from_select(
            ["user_id", "plays"], select(Play.user_id, func.count()).group_by(Play.user_id)
        )
    )
    return int(connection.scalar(select(func.count()).select_from(PlayCount)) or 0)


def differences(session: Session) -> list[tuple[int, int, int]]:
    """(user id, counted, in the log) for every person whose count is wrong (the check)."""
    logged = (
        select(Play.user_id.label("user_id"), func.count().label("plays"))
        .group_by(Play.user_id)
        .subquery()
    )
    counted: dict[int, int] = dict(
        session.execute(select(PlayCount.user_id, PlayCount.plays)).all()
    )
    actual: dict[int, int] = dict(session.execute(select(logged.c.user_id, logged.c.plays)).all())
    return sorted(
        (user, counted.get(user, 0), actual.get(user, 0))
        for user in set(counted) | set(actual)
        if counted.get(user, 0) != actual.get(user, 0)
    )
