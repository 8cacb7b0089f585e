"""Progress scrobbling for what is watched (the Trakt and Simkl model) and check-ins.

* ``start`` (and resume): the item shows as watched now until its runtime would run out, and
  a playback row remembers the progress.
* ``pause``: the playback keeps the resume point; the item no longer shows as watched.
* ``stop``: at 80 % or more the play is recorded through ``IngestService.record`` and the
  playback is forgotten; below 80 % it is a pause. Below 1 %, pause and stop are refused.
* A stop of an item the user finished less than one runtime ago is refused with
  ``AlreadyScrobbled`` (409, with ``watched_at`` and ``expires_at``): players often send stop
  twice, and nobody watches a film twice within its own length.
* ``checkin``: watched now for the runtime, and recorded as a play at once. The check-in is
  the now-playing entry whose play already exists (the play starts when the entry does), so
  no extra state is kept; cancelling it removes both.

Live audiences read the now-playing entries, so everything here keeps them right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session, aliased

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.catalog.services import CatalogService
from tastegraph.ingest.errors import (
    AlreadyScrobbled,
    CheckinActive,
    InvalidPlay,
    PlaybackNotFound,
    ProgressTooLow,
)
from tastegraph.ingest.models import IncognitoPlay, NowPlaying, Play, Playback, PlaybackStatus
from tastegraph.ingest.progress_schemas import CheckinIn, ScrobbleAction, ScrobbleIn
from tastegraph.ingest.schemas import NowPlayingIn, PlayIn, PlayResult, PlayStatus
from tastegraph.ingest.services import IngestService, Submission
from tastegraph.storage.base import utcnow

SCROBBLE_AT = 80.0
"""Percent from which a stop counts as watched (Trakt's and Simkl's rule)."""
MIN_PROGRESS = 1.0
"""Percent below which a pause or stop is refused: nothing was watched."""
SOURCE = "api"

DEFAULT_RUNTIMES: dict[Kind, timedelta] = {
    Kind.FILM: timedelta(hours=2),
    Kind.MATCH: timedelta(hours=2),
    Kind.EPISODE: timedelta(minutes=45),
    Kind.PROGRAMME: timedelta(minutes=30),
    Kind.STORY: timedelta(minutes=5),
    Kind.TRACK: timedelta(minutes=4),
}
"""How long an item of unknown duration lasts, for watching-now and duplicate windows. Sized
to the kind so that a live match without a listed duration stays in its audience while it
runs, and a news story does not linger for an hour."""
FALLBACK_RUNTIME = timedelta(hours=1)
MIN_WATCHING = timedelta(seconds=30)

_PLAY_MODELS: tuple[type[Play] | type[IncognitoPlay], ...] = (Play, IncognitoPlay)


def runtime_of(item: Item) -> timedelta:
    if item.duration_seconds:
        return timedelta(seconds=item.duration_seconds)
    return DEFAULT_RUNTIMES.get(item.kind, FALLBACK_RUNTIME)


@dataclass(frozen=True)
class ScrobbleResult:
    action: ScrobbleAction
    item: Item
    progress: float
    """Percent."""
    incognito: bool
    play: PlayResult | None = None
    played_at: datetime | None = None
    watching_until: datetime | None = None


@dataclass(frozen=True)
class CheckinResult:
    item: Item
    play_id: int
    watched_at: datetime
    expires_at: datetime
    incognito: bool


@dataclass(frozen=True)
class PlaybackView:
    playback: Playback
    item: Item
    status: PlaybackStatus
    """PLAYING only while the item is still watched now; a player that vanished without a
    pause or stop leaves its last progress, which reads as paused."""

    @property
    def resume_at_seconds(self) -> int | None:
        duration = self.item.duration_seconds
        return round(duration * self.playback.progress) if duration else None


class ProgressService:
    """Works inside the caller's unit of work and never commits."""

    def __init__(
        self,
        session: Session,
        ingest: IngestService,
        catalog: CatalogService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        self.ingest = ingest
        self.catalog = catalog
        self.clock = clock

    # -- start / pause / stop ---------------------------------------------------------------

    def start(self, user: User, data: ScrobbleIn) -> ScrobbleResult:
        item, now = self._item(data), self.clock()
        incognito = _incognito(user, data.incognito)
        self._pause_others(user, item.id)
        self._save_playback(user, item, data, PlaybackStatus.PLAYING, incognito, now)
        entry, _ = self.ingest.set_now_playing(
            user,
            NowPlayingIn(
                item_id=item.id,
                progress=data.progress / 100,
                client=data.client,
                incognito=incognito,
            ),
            source=SOURCE,
        )
        # The rest of the runtime, whether the duration is listed or guessed from the kind.
        left = runtime_of(item) * (1 - data.progress / 100)
        entry.expires_at = now + max(left, MIN_WATCHING)
        return ScrobbleResult(
            action=ScrobbleAction.START,
            item=item,
            progress=data.progress,
            incognito=incognito,
            watching_until=entry.expires_at,
        )

    def pause(self, user: User, data: ScrobbleIn) -> ScrobbleResult:
        _check_progress(data.progress)
        return self._pause(user, self._item(data), data)

    def stop(self, user: User, data: ScrobbleIn) -> ScrobbleResult:
        _check_progress(data.progress)
        item = self._item(data)
        if data.progress < SCROBBLE_AT:
            return self._pause(user, item, data)
        now = self.clock()
        self._refuse_recent(user, item, now)
        incognito = _incognito(user, data.incognito)
        played_at, played_for = self._estimate_start(user, item, data.progress, now)
        play = PlayIn(
            played_at=played_at,
            item_id=item.id,
            progress=min(data.progress / 100, 1.0),
            duration_played=played_for,
            client=data.client,
            incognito=incognito,
        )
        result = self._record(user, play)
        self.session.execute(
            delete(Playback).where(Playback.user_id == user.id, Playback.item_id == item.id)
        )
        self._stop_watching(user, item.id)
        return ScrobbleResult(
            action=ScrobbleAction.SCROBBLE,
            item=item,
            progress=data.progress,
            incognito=result.incognito,
            play=result,
            played_at=play.played_at.replace(microsecond=0),
        )

    def _pause(self, user: User, item: Item, data: ScrobbleIn) -> ScrobbleResult:
        incognito = _incognito(user, data.incognito)
        self._save_playback(user, item, data, PlaybackStatus.PAUSED, incognito, self.clock())
        self._stop_watching(user, item.id)
        return ScrobbleResult(
            action=ScrobbleAction.PAUSE, item=item, progress=data.progress, incognito=incognito
        )

    def _estimate_start(
        self, user: User, item: Item, progress: float, now: datetime
    ) -> tuple[datetime, int | None]:
        """When the play started, and for how many seconds it ran.

        With a known duration the start is the stop minus the share watched, but never before
        the playback was first started (a player may start in the middle). Without one, the
        playback's start is the best guess, and the stop itself the last resort.
        """
        playback = self.session.get(Playback, (user.id, item.id))
        if item.duration_seconds:
            watched = round(item.duration_seconds * min(progress, 100) / 100)
            start = now - timedelta(seconds=watched)
            if playback is not None and playback.started_at > start:
                start = playback.started_at
            return start, watched
        return (playback.started_at if playback is not None else now), None

    def _refuse_recent(self, user: User, item: Item, now: datetime) -> None:
        """Refuse a second scrobble of an item finished less than one runtime ago."""
        latest: tuple[datetime, datetime] | None = None
        for model in _PLAY_MODELS:
            row = self.session.execute(
                select(model.played_at, model.duration_played)
                .where(model.user_id == user.id, model.item_id == item.id)
                .order_by(model.played_at.desc())
                .limit(1)
            ).first()
            if row is None:
                continue
            played_at, duration_played = row
            # A play "was watched" when it ended: its start plus what was played of it.
            watched_at = played_at + timedelta(seconds=duration_played or 0)
            if latest is None or watched_at > latest[0]:
                latest = (watched_at, played_at)
        if latest is None:
            return
        expires_at = latest[0] + runtime_of(item)
        if expires_at > now:
            raise AlreadyScrobbled(
                f"You watched this less than its runtime ago; it can be scrobbled again "
                f"from {expires_at.isoformat()}.",
                item_id=item.id,
                watched_at=latest[0].isoformat(),
                expires_at=expires_at.isoformat(),
            )

    def _record(self, user: User, play: PlayIn) -> PlayResult:
        result = self.ingest.record(user, [Submission(index=0, play=play)], source=SOURCE)[0]
        if result.status is PlayStatus.REJECTED:
            raise InvalidPlay(
                "The play cannot be stored.", errors=[e.model_dump() for e in result.errors]
            )
        if result.status is PlayStatus.DUPLICATE:
            # The same item at the same second: only a play outside the runtime window (a
            # future-dated one) gets here; it is the same kind of conflict.
            at = play.played_at.replace(microsecond=0)
            raise AlreadyScrobbled(
                "This play is already recorded.",
                item_id=result.item_id,
                watched_at=at.isoformat(),
                expires_at=at.isoformat(),
            )
        return result

    # -- check-ins --------------------------------------------------------------------------

    def checkin(self, user: User, data: CheckinIn) -> CheckinResult:
        item, now = self._item(data), self.clock()
        active = self.active_checkin(user)
        if active is not None:
            raise CheckinActive(
                "A check-in is in progress; cancel it (DELETE /api/v1/checkin) or wait until "
                f"{active.expires_at.isoformat()}.",
                item_id=active.item_id,
                expires_at=active.expires_at.isoformat(),
            )
        self._refuse_recent(user, item, now)
        incognito = _incognito(user, data.incognito)
        watched_at = now.replace(microsecond=0)
        result = self._record(
            user,
            PlayIn(played_at=watched_at, item_id=item.id, client=data.client, incognito=incognito),
        )
        self._pause_others(user, item.id)
        entry, _ = self.ingest.set_now_playing(
            user,
            NowPlayingIn(item_id=item.id, client=data.client, incognito=incognito),
            source=SOURCE,
        )
        # Starting the entry at the play's second is what marks it as a check-in.
        entry.started_at = watched_at
        entry.expires_at = watched_at + runtime_of(item)
        assert result.play_id is not None  # an accepted play has an id
        return CheckinResult(
            item=item,
            play_id=result.play_id,
            watched_at=watched_at,
            expires_at=entry.expires_at,
            incognito=result.incognito,
        )

    def active_checkin(self, user: User) -> NowPlaying | None:
        """The user's running check-in: a live now-playing entry whose play already exists."""
        entry = self.session.get(NowPlaying, user.id)
        if entry is None or entry.expires_at <= self.clock():
            return None
        for model in _PLAY_MODELS:
            found = self.session.scalar(
                select(model.id).where(
                    model.user_id == user.id,
                    model.item_id == entry.item_id,
                    model.played_at == entry.started_at,
                )
            )
            if found is not None:
                return entry
        return None

    def cancel_checkin(self, user: User) -> bool:
        """Cancel the running check-in and the play it recorded; False if there was none."""
        entry = self.active_checkin(user)
        if entry is None:
            return False
        for model in _PLAY_MODELS:
            self.ingest.delete_plays(
                model,
                [
                    model.user_id == user.id,
                    model.item_id == entry.item_id,
                    model.played_at == entry.started_at,
                ],
            )
        self.session.delete(entry)
        return True

    # -- playbacks --------------------------------------------------------------------------

    def playbacks(self, user: User) -> list[PlaybackView]:
        """The user's unfinished items, most recently reported first."""
        rows = self.session.execute(
            select(Playback, Item)
            .join(Item, Item.id == Playback.item_id)
            .where(Playback.user_id == user.id)
            .order_by(Playback.updated_at.desc(), Playback.item_id.desc())
        ).all()
        watching = self._watching(user)
        return [_view(playback, item, watching) for playback, item in rows]

    def playback(self, user: User, item_id: int) -> PlaybackView:
        playback = self._find_playback(user, item_id)
        item = self.catalog.get(playback.item_id)
        return _view(playback, item, self._watching(user))

    def drop_playback(self, user: User, item_id: int) -> None:
        self.session.delete(self._find_playback(user, item_id))

    def _find_playback(self, user: User, item_id: int) -> Playback:
        canonical = self.catalog.canonical_ids([item_id]).get(item_id)
        playback = (
            self.session.get(Playback, (user.id, canonical)) if canonical is not None else None
        )
        if playback is None:
            raise PlaybackNotFound(f"You have no progress saved for item {item_id}.")
        return playback

    # -- helpers ----------------------------------------------------------------------------

    def _item(self, data: ScrobbleIn | CheckinIn) -> Item:
        if data.item is not None:
            return self.catalog.get(self.catalog.resolve([data.item])[0])
        return self.catalog.get(data.item_id or 0)

    def _save_playback(
        self,
        user: User,
        item: Item,
        data: ScrobbleIn,
        status: PlaybackStatus,
        incognito: bool,
        now: datetime,
    ) -> Playback:
        playback = self.session.get(Playback, (user.id, item.id))
        if playback is None:
            playback = Playback(user_id=user.id, item_id=item.id, started_at=now)
            self.session.add(playback)
        playback.status = status
        playback.progress = data.progress / 100
        playback.updated_at = now
        playback.source = (data.client or SOURCE)[:64]
        playback.incognito = incognito
        return playback

    def _pause_others(self, user: User, item_id: int) -> None:
        """One thing is watched at a time: other playing items become paused, or are
        forgotten if less than 1 % of them was seen."""
        others = (
            Playback.user_id == user.id,
            Playback.item_id != item_id,
            Playback.status == PlaybackStatus.PLAYING,
        )
        self.session.execute(delete(Playback).where(*others, Playback.progress < 0.01))
        self.session.execute(update(Playback).where(*others).values(status=PlaybackStatus.PAUSED))

    def _stop_watching(self, user: User, item_id: int) -> None:
        entry = self.session.get(NowPlaying, user.id)
        if entry is not None and entry.item_id == item_id:
            self.session.delete(entry)

    def _watching(self, user: User) -> int | None:
        entry = self.session.get(NowPlaying, user.id)
        if entry is None or entry.expires_at <= self.clock():
            return None
        return entry.item_id


def _view(playback: Playback, item: Item, watching: int | None) -> PlaybackView:
    playing = playback.status is PlaybackStatus.PLAYING and watching == playback.item_id
    status = PlaybackStatus.PLAYING if playing else PlaybackStatus.PAUSED
    return PlaybackView(playback=playback, item=item, status=status)


def _incognito(user: User, asked: bool | None) -> bool:
    return user.incognito if asked is None else asked


def _check_progress(progress: float) -> None:
    if progress < MIN_PROGRESS:
        raise ProgressTooLow(
            f"Progress {progress:g} % is below {MIN_PROGRESS:g} %: nothing to pause or "
            "scrobble. Send start at 0 %, and pause or stop once something was watched.",
            progress=progress,
        )


def move_playbacks_on_merge(session: Session, source: int, target: int) -> None:
    """Catalogue merge hook: saved progress follows the merged item (the target's own row
    wins where a user has both)."""
    other = aliased(Playback)
    session.execute(
        delete(Playback).where(
            Playback.item_id == source,
            exists().where(other.user_id == Playback.user_id, other.item_id == target),
        )
    )
    session.execute(update(Playback).where(Playback.item_id == source).values(item_id=target))
