"""Whether items are available in a country at a moment: the process-wide answer.

``Availability`` holds a compiled ``RightsIndex`` and answers from memory (a few dictionary
lookups per item), so it can sit in the recommendations' hot path. It rebuilds the index:

* after a rights change committed through this process: before the next answer when the index
  is small (``SYNC_BUILD_SIZE``), otherwise in the background (about a second for
  100,000 items and 10,000 grants; answers meanwhile come from the old index);
* when the rights version in the database moved (another process changed something), checked
  in the background every ``refresh_seconds`` (0: checked synchronously on every answer);
* every ``FULL_REBUILD`` seconds in any case, so items that moved in the hierarchy follow.

Items created after the index was built (ids above ``max_item_id``: a new episode of a show
with grants) are looked up once, with their ancestry, and remembered until the next rebuild.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from tastegraph.catalog.kinds import Domain
from tastegraph.catalog.models import Item, RightsVersion
from tastegraph.catalog.rights_index import (
    MAX_DEPTH,
    RightsIndex,
    Verdict,
    build_index,
    current_version,
)
from tastegraph.catalog.schemas import AvailabilityOut, OfferOut
from tastegraph.storage.base import utcnow
from tastegraph.storage.database import Database
from tastegraph.storage.dialect import insert_or_ignore

_log = logging.getLogger(__name__)

FULL_REBUILD = 600.0
SYNC_BUILD_SIZE = 20_000
"""After a change through this process, an index of up to this many entries (items under
grants, grants, items of rights-required domains) is rebuilt before the next answer (tens of
milliseconds); a bigger one in the background (answers meanwhile come from the old one)."""
_MAX_NEWCOMERS = 100_000


@dataclass(frozen=True, slots=True)
class _Newcomer:
    """An item newer than the index: what governs it, found through its ancestry."""

    holder: int | None
    required: bool
    chain: tuple[int, ...]
    """The item and the items above it, for blackouts."""


def bump_rights_version(session: Session) -> None:
    """Tell every process's index that rights changed (inside the caller's transaction)."""
    session.execute(insert_or_ignore(session, RightsVersion.__table__).values(id=1, version=0))
    session.execute(
        update(RightsVersion).where(RightsVersion.id == 1).values(version=RightsVersion.version + 1)
    )


class Availability:
    """The availability index of one process (``Runtime.availability``)."""

    def __init__(
        self,
        db: Database,
        *,
        refresh_seconds: float = 5.0,
        required_domains: Collection[Domain] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self.required_domains = frozenset(required_domains)
        self.clock = clock
        self._index: RightsIndex | None = None
        self._built_at = 0.0
        self._checked_at = 0.0
        self._dirty = True
        self._lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        self._closed = False
        self._newcomers: dict[int, _Newcomer] = {}

    # -- answers ------------------------------------------------------------------------------

    def mask(
        self, item_ids: Sequence[int], country: str | None, at: datetime | None = None
    ) -> list[bool]:
        """Whether each item is available to a viewer in ``country`` (None: unknown) at ``at``
        (default: now), in the order given. Unknown ids answer as items without rights."""
        index = self.index()
        ts = (at or self.clock()).timestamp()
        out = index.mask(item_ids, country, ts)
        if item_ids and max(item_ids) > index.max_item_id:
            newer = [i for i, item_id in enumerate(item_ids) if item_id > index.max_item_id]
            missing = [item_ids[i] for i in newer if item_ids[i] not in self._newcomers]
            looked = self._look_up(index, missing) if missing else {}
            for i in newer:
                found = looked.get(item_ids[i]) or self._newcomers.get(item_ids[i])
                out[i] = self._judge_newcomer(index, found, country, ts).available
        return out

    def available(
        self, item_ids: Iterable[int], country: str | None, at: datetime | None = None
    ) -> set[int]:
        """The ids among ``item_ids`` that are available."""
        ids = list(item_ids)
        return {item_id for item_id, ok in zip(ids, self.mask(ids, country, at), strict=True) if ok}

    def filter(
        self, item_ids: Sequence[int], country: str | None, at: datetime | None = None
    ) -> list[int]:
        """``item_ids`` without the unavailable ones, in the same order."""
        return [i for i, ok in zip(item_ids, self.mask(item_ids, country, at), strict=True) if ok]

    def explain(self, item_id: int, country: str | None, at: datetime | None = None) -> Verdict:
        """Availability with its offers, languages and windows, for an item page."""
        index = self.index()
        ts = (at or self.clock()).timestamp()
        if item_id > index.max_item_id:
            return self._newcomer_verdict(index, item_id, country, ts)
        return index.judge(
            index.decider.get(item_id), item_id in index.required, (item_id,), country, ts
        )

    # -- the index ----------------------------------------------------------------------------

    def changed(self, session: Session) -> None:
        """Rights changed in ``session``'s transaction: bump the version for other processes
        and rebuild this one's index once the transaction commits."""
        bump_rights_version(session)
        event.listen(session, "after_commit", self._after_commit, once=True)

    def _after_commit(self, _session: Session) -> None:
        self.invalidate()

    def invalidate(self) -> None:
        self._dirty = True

    def index(self) -> RightsIndex:
        index = self._index
        if index is None:
            return self.rebuild()
        if self._dirty:
            if index.size <= SYNC_BUILD_SIZE:
                return self.rebuild()
            # A big index: answer from the old one while the new one is built, rather than
            # hold up every request of the process for the whole build.
            self._refresh_in_background(rebuild=True)
            return index
        if self.refresh_seconds <= 0:
            self.refresh()
            return self._index or index
        if time.monotonic() - self._checked_at > self.refresh_seconds:
            self._refresh_in_background()
        return index

    def rebuild(self, *, force: bool = False) -> RightsIndex:
        with self._lock:
            if not force and self._index is not None and not self._dirty:
                return self._index
            self._dirty = False
            started = time.monotonic()
            # The build makes a few hundred thousand small objects that all live on; left on,
            # the collector walks them over and over and the build takes two to three times
            # as long.
            collecting = gc.isenabled()
            gc.disable()
            try:
                with self.db.unit_of_work() as session:
                    index = build_index(session, self.required_domains)
            finally:
                if collecting:
                    gc.enable()
            self._newcomers = {}
            self._index = index
            self._built_at = self._checked_at = time.monotonic()
            _log.debug(
                "availability index v%s: %s grants in %.0f ms",
                index.version,
                index.grants,
                (self._built_at - started) * 1000,
            )
            return index

    def refresh(self) -> None:
        """Rebuild if the rights version moved or the index is old."""
        index = self._index
        if index is None:
            self.rebuild(force=True)
            return
        with self.db.unit_of_work() as session:
            version = current_version(session)
        self._checked_at = time.monotonic()
        if version != index.version or self._checked_at - self._built_at > FULL_REBUILD:
            self.rebuild(force=True)

    def _refresh_in_background(self, *, rebuild: bool = False) -> None:
        if self._closed or (self._refresher is not None and self._refresher.is_alive()):
            return
        self._checked_at = time.monotonic()

        def run() -> None:
            try:
                if rebuild:
                    self.rebuild()
                else:
                    self.refresh()
            except Exception:  # a failed refresh keeps the old index; the next one retries
                _log.exception("refreshing the availability index failed")

        self._refresher = threading.Thread(target=run, name="availability-refresh", daemon=True)
        self._refresher.start()

    def close(self) -> None:
        self._closed = True
        refresher = self._refresher
        if refresher is not None:
            refresher.join(timeout=10)

    # -- items newer than the index -------------------------------------------------------------

    def _newcomer_verdict(
        self, index: RightsIndex, item_id: int, country: str | None, ts: float
    ) -> Verdict:
        found = self._newcomers.get(item_id) or self._look_up(index, [item_id]).get(item_id)
        return self._judge_newcomer(index, found, country, ts)

    @staticmethod
    def _judge_newcomer(
        index: RightsIndex, found: _Newcomer | None, country: str | None, ts: float
    ) -> Verdict:
        if found is None:  # not committed yet, or no such item: nothing governs it
            return Verdict(available=True, decided_by=None)
        return index.judge(found.holder, found.required, found.chain, country, ts)

    def _look_up(self, index: RightsIndex, item_ids: Iterable[int]) -> dict[int, _Newcomer]:
        """What governs items newer than the index: their ancestry up to the first item the
        index knows, in one query per level."""
        rows: dict[int, tuple[int | None, Domain]] = {}
        pending = set(item_ids)
        with self.db.unit_of_work() as session:
            for _ in range(MAX_DEPTH):
                pending = {i for i in pending if i > index.max_item_id and i not in rows}
                if not pending:
                    break
                found = session.execute(
                    select(Item.id, Item.parent_id, Item.domain).where(Item.id.in_(pending))
                ).all()
                rows.update((item_id, (parent_id, domain)) for item_id, parent_id, domain in found)
                pending = {parent for _, parent, _ in found if parent is not None}
        if len(self._newcomers) >= _MAX_NEWCOMERS:
            self._newcomers = {}
        out: dict[int, _Newcomer] = {}
        for item_id in item_ids:
            if item_id not in rows:
                continue
            chain: list[int] = []
            node: int | None = item_id
            holder = None
            while node is not None and len(chain) <= MAX_DEPTH:
                chain.append(node)
                if node <= index.max_item_id:
                    holder = index.decider.get(node)
                    break
                node = rows[node][0] if node in rows else None
            out[item_id] = self._newcomers[item_id] = _Newcomer(
                holder=holder,
                required=rows[item_id][1] in self.required_domains,
                chain=tuple(chain),
            )
        return out


def availability_out(verdict: Verdict, country: str | None) -> AvailabilityOut:
    """A verdict as item pages show it: offers grouped by kind, with their languages."""
    offers: dict[str, OfferOut] = {}
    audio: list[str] = []
    subtitles: list[str] = []
    for window in sorted(verdict.open, key=lambda w: w.offer.value):
        until = None if window.end == float("inf") else _moment(window.end)
        offer = offers.get(window.offer)
        if offer is None:
            offer = offers[window.offer] = OfferOut(
                kind=window.offer, until=until, audio_languages=[], subtitle_languages=[]
            )
        elif offer.until is not None and (until is None or until > offer.until):
            offer.until = until
        for source, *targets in (
            (window.audio, offer.audio_languages, audio),
            (window.subtitles, offer.subtitle_languages, subtitles),
        ):
            for language in source:
                for target in targets:
                    if language not in target:
                        target.append(language)
    return AvailabilityOut(
        country=country,
        available=verdict.available,
        offers=list(offers.values()),
        audio_languages=audio,
        subtitle_languages=subtitles,
        available_from=_moment(verdict.next_start) if verdict.next_start is not None else None,
        blackout_until=_moment(verdict.blackout_end) if verdict.blackout_end is not None else None,
    )


def _moment(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
