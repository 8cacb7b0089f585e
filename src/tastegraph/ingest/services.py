"""The single write path for plays, now-playing state and feedback.

Every interface (native API, Last.fm 2.0, Audioscrobbler 1.2, ListenBrainz, imports, the demo)
turns what it receives into ``PlayIn`` and calls ``IngestService.record``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import chain
from typing import Any, Protocol, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    Table,
    Text,
    and_,
    bindparam,
    column,
    delete,
    exists,
    false,
    func,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased

from tastegraph.accounts.models import User
from tastegraph.catalog.errors import ItemNotFound
from tastegraph.catalog.models import Item
from tastegraph.catalog.services import CatalogService
from tastegraph.ingest.errors import PlayNotFound
from tastegraph.ingest.models import (
    Feedback,
    IncognitoPlay,
    NowPlaying,
    Play,
    PlaySubmission,
    Sentiment,
)
from tastegraph.ingest.schemas import (
    NowPlayingIn,
    PlayIn,
    PlayProblem,
    PlayResult,
    PlayStatus,
)
from tastegraph.locales import zone
from tastegraph.storage.base import utcnow
from tastegraph.storage.dialect import insert_or_ignore

EARLIEST_PLAY = datetime(2002, 10, 1, tzinfo=UTC)
"""Nothing was scrobbled before Audioscrobbler existed; earlier timestamps are client bugs."""


@dataclass(frozen=True)
class IngestLimits:
    future_skew: timedelta = timedelta(hours=1)
    now_playing_max: timedelta = timedelta(minutes=10)


@dataclass(slots=True)
class Submission:
    """A validated play and the payload it came from (kept for re-parsing)."""

    index: int
    play: PlayIn
    raw: str | None = None


@dataclass(slots=True)
class _Candidate:
    submission: Submission
    item_id: int
    played_at: datetime
    incognito: bool


class PlayLogWatcher(Protocol):
    """What keeps figures derived from the play log (the chart rollups) in step with it, in
    the same transaction. Wired by the composition root; incognito plays are not reported."""

    def recording(self, session: Session) -> None:
        """Plays may be added to the log in this transaction (called before anything else)."""

    def recorded(self, session: Session, user_id: int, play_ids: Sequence[int]) -> None:
        """These plays of one person were just added to the log."""

    def removing(self, session: Session, where: Sequence[ColumnElement[bool]]) -> None:
        """The plays matching ``where`` are about to be deleted."""

    def removed(self, session: Session) -> None:
        """Plays were deleted."""


class IngestService:
    """Works inside the caller's unit of work and never commits."""

    def __init__(
        self,
        session: Session,
        catalog: CatalogService,
        *,
        limits: IngestLimits | None = None,
        clock: Any = utcnow,
        watchers: Sequence[PlayLogWatcher] = (),
    ) -> None:
        self.session = session
        self.catalog = catalog
        self.limits = limits or IngestLimits()
        self.clock = clock
        self.watchers = watchers

    # -- plays ------------------------------------------------------------------------------

    def record(
        self, user: User, submissions: Sequence[Submission], *, source: str
    ) -> list[PlayResult]:
        """Store plays, skipping duplicates; one result per submission, in order."""
        for watcher in self.watchers:
            watcher.recording(self.session)
        now = self.clock()
        results: dict[int, PlayResult] = {}
        timely: list[Submission] = []
        for sub in submissions:
            problem = self._check_time(sub.play.played_at, now)
            if problem:
                results[sub.index] = _rejected(sub.index, problem)
            else:
                timely.append(sub)
        candidates = self._resolve_items(timely, user, results)
        self._store(user, candidates, source, results)
        return [results[sub.index] for sub in submissions]

    def _check_time(self, played_at: datetime, now: datetime) -> PlayProblem | None:
        if played_at < EARLIEST_PLAY:
            return PlayProblem(
                code="timestamp_too_old",
                field="played_at",
                message="played_at is before 2002-10-01, when scrobbling began.",
            )
        if played_at > now + self.limits.future_skew:
            return PlayProblem(
                code="timestamp_in_future",
                field="played_at",
                message="played_at is more than "
                f"{int(self.limits.future_skew.total_seconds())} s in the future.",
            )
        return None

    def _resolve_items(
        self, subs: list[Submission], user: User, results: dict[int, PlayResult]
    ) -> list[_Candidate]:
        by_ref = [s for s in subs if s.play.item is not None]
        by_id = [s for s in subs if s.play.item_id is not None]
        item_ids: dict[int, int] = {}
        if by_ref:
            resolved = self.catalog.resolve([s.play.item for s in by_ref])  # type: ignore[misc]
            item_ids.update({s.index: i for s, i in zip(by_ref, resolved, strict=True)})
        if by_id:
            canonical = self.catalog.canonical_ids([s.play.item_id for s in by_id])  # type: ignore[misc]
            for sub in by_id:
                found = canonical.get(sub.play.item_id)  # type: ignore[arg-type]
                if found is None:
                    results[sub.index] = _rejected(
                        sub.index,
                        PlayProblem(
                            code="unknown_item",
                            field="item_id",
                            message=f"There is no item with id {sub.play.item_id}.",
                        ),
                    )
                else:
                    item_ids[sub.index] = found
        return [
            _Candidate(
                submission=sub,
                item_id=item_ids[sub.index],
                played_at=sub.play.played_at.astimezone(UTC).replace(microsecond=0),
                incognito=user.incognito if sub.play.incognito is None else sub.play.incognito,
            )
            for sub in subs
            if sub.index in item_ids
        ]

    def _store(
        self,
        user: User,
        candidates: list[_Candidate],
        source: str,
        results: dict[int, PlayResult],
    ) -> None:
        offsets = _Offsets(zone(user.timezone))
        created_at = self.clock()
        models: tuple[tuple[bool, type[Play] | type[IncognitoPlay]], ...] = (
            (False, Play),
            (True, IncognitoPlay),
        )
        for incognito, model in models:
            group = [c for c in candidates if c.incognito is incognito]
            fresh: list[_Candidate] = []
            seen_keys: set[tuple[int, datetime]] = set()
            seen_ids: set[str] = set()
            for cand in group:
                key = (cand.item_id, cand.played_at)
                sid = cand.submission.play.submission_id
                if key in seen_keys or (sid is not None and sid in seen_ids):
                    results[cand.submission.index] = _duplicate(cand)
                    continue
                seen_keys.add(key)
                if sid is not None:
                    seen_ids.add(sid)
                fresh.append(cand)
            if model is Play:
                fresh = self._claim_submissions(user, fresh, results)
            if not fresh:
                continue
            rows = [
                self._row(user, cand, source, _local_offset(cand, offsets), created_at)
                for cand in fresh
            ]
            inserted = self._insert(model, user.id, rows)
            unstored: list[str] = []
            for cand in fresh:
                stored_id = inserted.get((cand.item_id, cand.played_at))
                if stored_id is None:
                    results[cand.submission.index] = _duplicate(cand)
                    if model is Play and cand.submission.play.submission_id is not None:
                        unstored.append(cand.submission.play.submission_id)
                else:
                    results[cand.submission.index] = PlayResult(
                        index=cand.submission.index,
                        status=PlayStatus.ACCEPTED,
                        play_id=stored_id,
                        item_id=cand.item_id,
                        incognito=incognito,
                        errors=[],
                    )
            if unstored:  # a duplicate by time under a new submission id: the id stays free
                self.session.execute(
                    delete(PlaySubmission).where(
                        PlaySubmission.user_id == user.id,
                        PlaySubmission.submission_id.in_(unstored),
                    )
                )
        self._end_now_playing(user, {c.item_id for c in candidates})

    def _claim_submissions(
        self, user: User, fresh: list[_Candidate], results: dict[int, PlayResult]
    ) -> list[_Candidate]:
        """Claim the submission ids of the plays about to be stored; a play whose id is
        taken is a duplicate. The claims are inserted in one order (sorted), so two
        transactions claiming overlapping ids wait for each other instead of deadlocking;
        a claim waits for a concurrent one of the same id to commit or roll back."""
        sids = sorted({sid for c in fresh if (sid := c.submission.play.submission_id) is not None})
        if not sids:
            return fresh
        table = cast(Table, PlaySubmission.__table__)
        claimed: set[str] = set()
        for start in range(0, len(sids), 500):
            stmt = (
                insert_or_ignore(self.session, table)
                .values(
                    [{"user_id": user.id, "submission_id": s} for s in sids[start : start + 500]]
                )
                .returning(table.c.submission_id)
            )
            claimed.update(self.session.scalars(stmt))
        kept: list[_Candidate] = []
        for cand in fresh:
            sid = cand.submission.play.submission_id
            if sid is None or sid in claimed:
                kept.append(cand)
            else:
                results[cand.submission.index] = _duplicate(cand)
        return kept

    def _insert(
        self, model: type[Play] | type[IncognitoPlay], user_id: int, rows: list[dict[str, Any]]
    ) -> dict[tuple[int, datetime], int]:
        """Insert the rows (all of them ``user_id``'s), skipping duplicates: (item id,
        played_at) -> id of what was new. The watchers hear of new plays (not of incognito
        ones)."""
        watchers = self.watchers if model is Play else ()
        inserted: dict[tuple[int, datetime], int] = {}
        for start in range(0, len(rows), 1000):
            for play_id, item_id, played_at in _insert_plays(
                self.session, model, rows[start : start + 1000]
            ):
                inserted[(item_id, played_at)] = play_id
        if inserted:
            for watcher in watchers:
                watcher.recorded(self.session, user_id, list(inserted.values()))
        return inserted

    def _end_now_playing(self, user: User, played: set[int]) -> None:
        """A play of what the user is playing now ends the now-playing state."""
        if not played:
            return
        # A user plays one thing at a time: look it up rather than send every id played.
        playing = self.session.scalar(
            select(NowPlaying.item_id).where(NowPlaying.user_id == user.id)
        )
        if playing in played:
            self.session.execute(
                delete(NowPlaying).where(
                    NowPlaying.user_id == user.id, NowPlaying.item_id == playing
                )
            )

    def _row(
        self, user: User, cand: _Candidate, source: str, tz_offset: int, created_at: datetime
    ) -> dict[str, Any]:
        play = cand.submission.play
        return {
            "user_id": user.id,
            "item_id": cand.item_id,
            "played_at": cand.played_at,
            "tz_offset_minutes": tz_offset,
            "duration_played": play.duration_played,
            "progress": play.progress,
            "source": (play.client or source)[:64],
            "submission_id": play.submission_id,
            "raw_payload": cand.submission.raw,
            "created_at": created_at,
        }

    def delete_play(self, user: User, play_id: int, *, incognito: bool = False) -> None:
        model = IncognitoPlay if incognito else Play
        if self.delete_plays(model, [model.id == play_id, model.user_id == user.id]) == 0:
            raise PlayNotFound(f"You have no play with id {play_id}.")

    def delete_plays(
        self,
        model: type[Play] | type[IncognitoPlay],
        where: Sequence[ColumnElement[bool]],
    ) -> int:
        """Delete the plays matching ``where`` (telling the watchers first); how many went."""
        if model is Play:
            for watcher in self.watchers:
                watcher.removing(self.session, where)
            _forget_submissions(self.session, where)
        deleted = int(self.session.execute(delete(model).where(*where)).rowcount)  # type: ignore[attr-defined]
        if model is Play:
            for watcher in self.watchers:
                watcher.removed(self.session)
        return deleted

    def history(
        self,
        user: User,
        *,
        limit: int,
        cursor: tuple[datetime, int, int] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        include_incognito: bool = False,
        offset: int = 0,
        oldest_first: bool = False,
    ) -> list[tuple[Play | IncognitoPlay, Item, bool]]:
        """Newest first. The cursor is (played_at, table flag, id) of the last row seen;
        ``offset`` skips rows instead (for protocols that page by page number).
        ``oldest_first`` turns the order round: the first plays from ``since`` on (the
        ListenBrainz API's "listens after min_ts"); it takes no cursor."""
        if oldest_first and cursor is not None:
            raise ValueError("a cursor pages newest first only")
        tables: list[tuple[type[Play] | type[IncognitoPlay], int]] = [(Play, 0)]
        if include_incognito:
            tables.append((IncognitoPlay, 1))
        rows: list[tuple[Play | IncognitoPlay, Item, bool]] = []
        for model, flag in tables:
            stmt = (
                select(model, Item)
                .join(Item, Item.id == model.item_id)
                .where(model.user_id == user.id)
                .order_by(
                    *(
                        (model.played_at, model.id)
                        if oldest_first
                        else (model.played_at.desc(), model.id.desc())
                    )
                )
            )
            # One table skips in SQL; two are merged here, so each gives offset + limit rows.
            stmt = (
                stmt.limit(limit).offset(offset) if len(tables) == 1 else stmt.limit(limit + offset)
            )
            if since is not None:
                stmt = stmt.where(model.played_at >= since)
            if until is not None:
                stmt = stmt.where(model.played_at < until)
            if cursor is not None:
                at, cursor_flag, cursor_id = cursor
                same_time = (
                    model.id < cursor_id
                    if flag == cursor_flag
                    else (true() if flag < cursor_flag else false())
                )
                stmt = stmt.where(or_(model.played_at < at, and_(model.played_at == at, same_time)))
            # select() types a row of either model as their common base.
            rows.extend(
                (cast(Play | IncognitoPlay, play), item, flag == 1)
                for play, item in self.session.execute(stmt)
            )
        rows.sort(key=lambda r: (r[0].played_at, int(r[2]), r[0].id), reverse=not oldest_first)
        if len(tables) > 1:
            rows = rows[offset:]
        return rows[:limit]

    # -- now playing ------------------------------------------------------------------------

    def set_now_playing(
        self, user: User, data: NowPlayingIn, *, source: str
    ) -> tuple[NowPlaying, Item]:
        if data.item is not None:
            item_id = self.catalog.resolve([data.item])[0]
        else:
            item_id = self.catalog.get(data.item_id or 0).id
        item = self.session.get(Item, item_id)
        if item is None:
            raise ItemNotFound(f"There is no item with id {item_id}.")
        now = self.clock()
        lifetime = (
            timedelta(seconds=item.duration_seconds)
            if item.duration_seconds
            else self.limits.now_playing_max
        )
        if data.progress is not None and item.duration_seconds:
            lifetime = timedelta(seconds=item.duration_seconds * (1 - data.progress))
        entry = self.session.get(NowPlaying, user.id)
        if entry is None:
            entry = NowPlaying(user_id=user.id)
            self.session.add(entry)
        entry.item_id = item.id
        entry.started_at = now
        entry.expires_at = now + max(lifetime, timedelta(seconds=30))
        entry.progress = data.progress
        entry.source = (data.client or source)[:64]
        entry.incognito = user.incognito if data.incognito is None else data.incognito
        return entry, item

    def now_playing(
        self, user: User, *, include_incognito: bool = False
    ) -> tuple[NowPlaying, Item] | None:
        row = self.session.execute(
            select(NowPlaying, Item)
            .join(Item, Item.id == NowPlaying.item_id)
            .where(NowPlaying.user_id == user.id, NowPlaying.expires_at > self.clock())
        ).first()
        if row is None:
            return None
        entry, item = row
        if entry.incognito and not include_incognito:
            return None
        return entry, item

    def clear_now_playing(self, user: User) -> None:
        self.session.execute(delete(NowPlaying).where(NowPlaying.user_id == user.id))

    # -- feedback ---------------------------------------------------------------------------

    def set_feedback(self, user: User, item_id: int, sentiment: Sentiment) -> tuple[Feedback, Item]:
        item = self.catalog.get(item_id)
        entry = self.session.get(Feedback, (user.id, item.id))
        if entry is None:
            entry = Feedback(
                user_id=user.id, item_id=item.id, sentiment=sentiment, created_at=self.clock()
            )
            self.session.add(entry)
        elif entry.sentiment != sentiment:
            entry.sentiment = sentiment
            entry.created_at = self.clock()
        return entry, item

    def clear_feedback(self, user: User, item_id: int, sentiment: Sentiment | None = None) -> None:
        """Remove the user's feedback on an item (only if it is ``sentiment``, when given)."""
        item = self.catalog.get(item_id)
        stmt = delete(Feedback).where(Feedback.user_id == user.id, Feedback.item_id == item.id)
        if sentiment is not None:
            stmt = stmt.where(Feedback.sentiment == sentiment)
        self.session.execute(stmt)

    def feedback(
        self,
        user: User,
        sentiment: Sentiment,
        *,
        limit: int,
        before: tuple[datetime, int] | None = None,
        offset: int = 0,
    ) -> list[tuple[Feedback, Item]]:
        stmt = (
            select(Feedback, Item)
            .join(Item, Item.id == Feedback.item_id)
            .where(Feedback.user_id == user.id, Feedback.sentiment == sentiment)
            .order_by(Feedback.created_at.desc(), Feedback.item_id.desc())
            .limit(limit)
            .offset(offset)
        )
        if before is not None:
            at, item_id = before
            stmt = stmt.where(
                or_(
                    Feedback.created_at < at,
                    and_(Feedback.created_at == at, Feedback.item_id < item_id),
                )
            )
        return list(self.session.execute(stmt))

    def count_feedback(self, user: User, sentiment: Sentiment) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Feedback)
                .where(Feedback.user_id == user.id, Feedback.sentiment == sentiment)
            )
            or 0
        )


def move_plays_on_merge(session: Session, source: int, target: int) -> None:
    """Catalogue merge hook: plays, now-playing and feedback follow the merged item."""
    models: tuple[type[Play] | type[IncognitoPlay], ...] = (Play, IncognitoPlay)
    for model in models:
        other = aliased(model)
        clash = exists().where(
            other.user_id == model.user_id,
            other.item_id == target,
            other.played_at == model.played_at,
        )
        # A user who played both spellings at the same second played one thing once.
        if model is Play:
            _forget_submissions(session, [Play.item_id == source, clash])
        session.execute(delete(model).where(model.item_id == source, clash))
        session.execute(update(model).where(model.item_id == source).values(item_id=target))
    fb_other = aliased(Feedback)
    session.execute(
        delete(Feedback).where(
            Feedback.item_id == source,
            exists().where(fb_other.user_id == Feedback.user_id, fb_other.item_id == target),
        )
    )
    session.execute(update(Feedback).where(Feedback.item_id == source).values(item_id=target))
    session.execute(update(NowPlaying).where(NowPlaying.item_id == source).values(item_id=target))


def _forget_submissions(session: Session, where: Sequence[ColumnElement[bool]]) -> None:
    """Free the submission ids of the plays matching ``where``, which are about to go."""
    ids = select(Play.user_id, Play.submission_id).where(*where, Play.submission_id.is_not(None))
    session.execute(
        delete(PlaySubmission).where(
            tuple_(PlaySubmission.user_id, PlaySubmission.submission_id).in_(ids)
        )
    )


def _insert_plays(
    session: Session, model: type[Play] | type[IncognitoPlay], rows: list[dict[str, Any]]
) -> list[tuple[int, int, datetime]]:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING id, item_id, played_at`` for many rows.

    Both backends get a hand-built statement, because the generic one costs more than the
    database spends storing the plays. Values still pass through their columns' own bind
    processing (UTC datetimes refuse naive ones, SQLite datetimes get SQLAlchemy's format).

    * PostgreSQL: the rows go as one JSON document (``INSERT ... SELECT FROM
      json_to_recordset``): a VALUES list of a thousand plays has ten thousand placeholders,
      which psycopg parses again for every batch.
    * SQLite: one multi-row VALUES statement per chunk, sent straight to the driver.
    """
    table = cast(Table, model.__table__)  # declared as a FromClause; a mapped class has a Table
    dialect = session.get_bind().dialect
    names = list(rows[0])
    # dialect_impl: the backend's own type (SQLite's DATETIME formats its text itself).
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    if dialect.name == "sqlite":
        return _insert_plays_sqlite(session, table, names, processors, rows)
    returning = (table.c.id, table.c.item_id, table.c.played_at)
    if any(processors):
        rows = [
            {
                name: processor(row[name]) if processor else row[name]
                for name, processor in zip(names, processors, strict=True)
            }
            for row in rows
        ]
    document = bindparam("plays", orjson.dumps(rows).decode(), type_=Text)
    source = (
        func.json_to_recordset(sql_cast(document, postgresql.JSON))
        .table_valued(*(column(name, table.c[name].type) for name in names))
        .render_derived(with_types=True)
    )
    stmt = (
        postgresql.insert(table)
        .from_select(names, select(*(source.c[name] for name in names)))
        .on_conflict_do_nothing()
        .returning(*returning)
    )
    return [(row.id, row.item_id, row.played_at) for row in session.execute(stmt)]


_SQLITE_MAX_PARAMETERS = 32_000  # SQLite allows 32,766 since 3.32; Python 3.11 ships 3.40+


def _insert_plays_sqlite(
    session: Session,
    table: Table,
    names: list[str],
    processors: list[Any],
    rows: list[dict[str, Any]],
) -> list[tuple[int, int, datetime]]:
    dialect = session.get_bind().dialect
    read_time = table.c.played_at.type.dialect_impl(dialect).result_processor(dialect, None)
    columns = ", ".join(names)
    one_row = "(" + ", ".join("?" * len(names)) + ")"
    per_statement = _SQLITE_MAX_PARAMETERS // len(names)
    connection = session.connection()
    stored: list[tuple[int, int, datetime]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        columns_of_values = [
            _processed([row[name] for row in chunk], processor)
            for name, processor in zip(names, processors, strict=True)
        ]
        params = tuple(chain.from_iterable(zip(*columns_of_values, strict=True)))
        # Table and column names are the model's own; every value is a parameter.
        values = ", ".join([one_row] * len(chunk))
        sql = f"INSERT INTO {table.name} ({columns}) VALUES {values} "  # noqa: S608
        sql += "ON CONFLICT DO NOTHING RETURNING id, item_id, played_at"
        for play_id, item_id, played_at in connection.exec_driver_sql(sql, params):
            stored.append((play_id, item_id, read_time(played_at) if read_time else played_at))  # type: ignore[arg-type]
    return stored


def _local_offset(cand: _Candidate, offsets: _Offsets) -> int:
    """The offset the person lived the play in.

    A timestamp sent with a non-zero UTC offset says it (a phone abroad reports the local
    time); UNIX seconds and UTC times say nothing, so the user's time zone answers.
    """
    sent = cand.submission.play.played_at.utcoffset()
    if sent:
        return int(sent.total_seconds() // 60)
    return offsets.minutes(cand.played_at)


def _processed(values: list[Any], processor: Any) -> list[Any]:
    """A column's values through its bind processor; a value repeated in every row (the
    batch's ``created_at``) is processed once."""
    if processor is None:
        return values
    if values and all(v is values[0] for v in values):
        return [processor(values[0])] * len(values)
    return [processor(v) for v in values]


class _Offsets:
    """A time zone's UTC offset in minutes at given instants, worked out once per hour.

    Where an hour starts and ends at the same offset, no transition lies within it (no zone
    has two an hour apart), so the whole hour shares it. Hours with a transition, which may
    fall on a half or quarter hour, are worked out instant by instant.
    """

    _MIXED = -1 << 20  # no offset is a million minutes

    def __init__(self, tz: tzinfo) -> None:
        self._tz = tz
        self._hours: dict[int, int] = {}

    def minutes(self, moment: datetime) -> int:
        hour = int(moment.timestamp()) // 3600
        offset = self._hours.get(hour)
        if offset is None:
            start = datetime.fromtimestamp(hour * 3600, UTC)
            offset = self._at(start)
            if offset != self._at(start + timedelta(hours=1) - timedelta(microseconds=1)):
                offset = self._MIXED
            self._hours[hour] = offset
        return self._at(moment) if offset == self._MIXED else offset

    def _at(self, moment: datetime) -> int:
        offset = moment.astimezone(self._tz).utcoffset() or timedelta(0)
        return int(offset.total_seconds() // 60)


def _rejected(index: int, problem: PlayProblem) -> PlayResult:
    return PlayResult(index=index, status=PlayStatus.REJECTED, errors=[problem])


def _duplicate(cand: _Candidate) -> PlayResult:
    return PlayResult(
        index=cand.submission.index,
        status=PlayStatus.DUPLICATE,
        play_id=None,
        item_id=cand.item_id,
        incognito=cand.incognito,
        errors=[],
    )
