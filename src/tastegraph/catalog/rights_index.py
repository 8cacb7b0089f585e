"""The rights compiled for answering "is this available here, now?" without a query.

Built from the database in one pass (``build_index``) and then only read: a process swaps in
a new one when the rights version moves (``availability.py``). The rules it answers by:

* the nearest item up the hierarchy (the item itself first) that has any grant decides: its
  grants covering the country and the moment make the item available, with their offers;
* an item with no grant anywhere above it is available, unless its domain is one where rights
  are required (``Settings.rights_required_domains``);
* a blackout on an item or any item above it, covering the country and the moment, makes it
  unavailable whatever the grants say.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from tastegraph.catalog.kinds import Domain
from tastegraph.catalog.models import (
    Item,
    ItemBlackout,
    ItemRight,
    Offer,
    RightsVersion,
    TerritoryGroupMember,
)
from tastegraph.catalog.territories import WORLD

_T = TypeVar("_T")
_INF = float("inf")
MAX_DEPTH = 6
"""Levels below a granting item that inherit (artist > album > track is three)."""


@dataclass(frozen=True, slots=True)
class Window:
    """A grant as the index keeps it: [start, end) in UNIX seconds, open ends infinite."""

    start: float
    end: float
    offer: Offer
    audio: tuple[str, ...] = ()
    subtitles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Span:
    start: float
    end: float


Windows = tuple[Window, ...]
Spans = tuple[Span, ...]
OpenSpans = tuple[tuple[float, float], ...] | bool


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why an item is or is not available to a country at a moment (item pages)."""

    available: bool
    decided_by: int | None
    """The item whose grants decide (the item itself or one above it); None: no grants."""
    open: Windows = ()
    """The grants open now, for the country."""
    next_start: float | None = None
    """When a grant for the country opens next, if none is open."""
    blackout_end: float | None = None
    """When the blackout in force ends, if one is."""


@dataclass
class RightsIndex:
    version: int
    max_item_id: int
    decider: dict[int, int] = field(default_factory=dict)
    """Item -> the nearest item at or above it that has grants (only items under grants)."""
    by_country: dict[str, dict[int, Windows]] = field(default_factory=dict)
    """Country -> deciding item -> its grants covering that country."""
    worldwide: dict[int, Windows] = field(default_factory=dict)
    open_by_country: dict[str, dict[int, OpenSpans]] = field(default_factory=dict)
    """The same as ``by_country`` reduced to what ``mask`` needs: True when a grant is open at
    both ends, else the (start, end) pairs."""
    open_worldwide: dict[int, OpenSpans] = field(default_factory=dict)
    blackouts: dict[str, dict[int, Spans]] = field(default_factory=dict)
    """Country -> item (every item under a blackout) -> blackout windows."""
    worldwide_blackouts: dict[int, Spans] = field(default_factory=dict)
    required: frozenset[int] = frozenset()
    """Items of the domains where rights are required (unavailable without a grant)."""
    grants: int = 0

    @property
    def size(self) -> int:
        return len(self.decider) + self.grants + len(self.required)

    # -- the hot path -------------------------------------------------------------------------

    def mask(self, item_ids: Iterable[int], country: str | None, ts: float) -> list[bool]:
        """For each id, whether it is available; ids above ``max_item_id`` (items newer than
        the index) are answered as if nothing governed them: see ``Availability``."""
        # Written out in one loop, with the lookups bound to locals: this runs for every
        # candidate of every recommendation request.
        holder_of = self.decider.get
        required = self.required
        country_spans = (self.open_by_country.get(country) or _NO_SPANS) if country else _NO_SPANS
        in_country = country_spans.get
        anywhere = self.open_worldwide.get
        country_blackouts = self.blackouts.get(country, _NONE_SPANS) if country else _NONE_SPANS
        world_blackouts = self.worldwide_blackouts
        any_blackout = bool(country_blackouts or world_blackouts)
        out: list[bool] = []
        append = out.append
        for item_id in item_ids:
            holder = holder_of(item_id)
            if holder is None:
                ok = item_id not in required
            else:
                spans = in_country(holder)
                ok = spans is True
                if not ok and spans:
                    for start, end in spans:  # type: ignore[union-attr]
                        if start <= ts < end:
                            ok = True
                            break
                if not ok:
                    spans = anywhere(holder)
                    ok = spans is True
                    if not ok and spans:
                        for start, end in spans:  # type: ignore[union-attr]
                            if start <= ts < end:
                                ok = True
                                break
            if ok and any_blackout:
                ok = not (
                    _inside(country_blackouts.get(item_id), ts)
                    or _inside(world_blackouts.get(item_id), ts)
                )
            append(ok)
        return out

    def judge(
        self,
        holder: int | None,
        required: bool,
        blackout_ids: Iterable[int],
        country: str | None,
        ts: float,
    ) -> Verdict:
        """The full answer for one item, given what governs it (see ``Availability.explain``)."""
        blackout_end = None
        for item_id in blackout_ids:
            spans = [
                *(self.blackouts.get(country, _NONE_SPANS).get(item_id, ()) if country else ()),
                *self.worldwide_blackouts.get(item_id, ()),
            ]
            ends = [s.end for s in spans if s.start <= ts < s.end]
            if ends:
                blackout_end = max(ends + ([blackout_end] if blackout_end else []))
        if holder is None:
            ok = not required
            return Verdict(ok and blackout_end is None, None, blackout_end=blackout_end)
        grants = (
            *self.by_country.get(country or "", {}).get(holder, ()),
            *self.worldwide.get(holder, ()),
        )
        open_now = tuple(w for w in grants if w.start <= ts < w.end)
        later = [w.start for w in grants if w.start > ts]
        return Verdict(
            available=bool(open_now) and blackout_end is None,
            decided_by=holder,
            open=open_now,
            next_start=min(later) if later and not open_now else None,
            blackout_end=blackout_end,
        )


_NONE_SPANS: dict[int, Spans] = {}
_NO_SPANS: dict[int, OpenSpans] = {}


def _reduce(windows: Windows) -> OpenSpans:
    if any(w.start == -_INF and w.end == _INF for w in windows):
        return True
    return tuple((w.start, w.end) for w in windows)


def _inside(spans: Spans | None, ts: float) -> bool:
    if spans:
        for span in spans:
            if span.start <= ts < span.end:
                return True
    return False


def seconds(moment: datetime | None, default: float) -> float:
    return default if moment is None else moment.timestamp()


# -- building ---------------------------------------------------------------------------------


def current_version(session: Session) -> int:
    version = session.scalar(select(RightsVersion.version).where(RightsVersion.id == 1))
    return int(version or 0)


def build_index(session: Session, required_domains: Collection[Domain] = ()) -> RightsIndex:
    """Everything the hot path needs, read in one transaction."""
    index = RightsIndex(
        version=current_version(session),
        max_item_id=int(session.scalar(select(func.max(Item.id))) or 0),
    )
    groups = _groups(session)
    grants = (
        session.connection()
        .execute(
            select(
                ItemRight.item_id,
                ItemRight.territory,
                ItemRight.offer,
                ItemRight.starts_at,
                ItemRight.ends_at,
                ItemRight.audio_languages,
                ItemRight.subtitle_languages,
            )
        )
        .all()
    )
    blackouts = (
        session.connection()
        .execute(
            select(
                ItemBlackout.item_id,
                ItemBlackout.territories,
                ItemBlackout.starts_at,
                ItemBlackout.ends_at,
            )
        )
        .all()
    )
    holders = {row.item_id for row in grants}
    parent_of = _descendants(session)
    index.decider = _deciders(holders, parent_of)
    index.grants = len(grants)

    by_country: dict[str, dict[int, list[Window]]] = defaultdict(lambda: defaultdict(list))
    worldwide: dict[int, list[Window]] = defaultdict(list)
    for item_id, territory, offer, starts_at, ends_at, audio, subtitles in grants:
        window = Window(
            seconds(starts_at, -_INF),
            seconds(ends_at, _INF),
            Offer(offer),
            tuple(audio or ()),
            tuple(subtitles or ()),
        )
        if territory == WORLD:
            worldwide[item_id].append(window)
            continue
        for country in groups.get(territory, (territory,)):
            by_country[country][item_id].append(window)
    index.by_country = {c: _freeze(m) for c, m in by_country.items()}
    index.worldwide = _freeze(worldwide)
    index.open_by_country = {
        c: {holder: _reduce(w) for holder, w in m.items()} for c, m in index.by_country.items()
    }
    index.open_worldwide = {holder: _reduce(w) for holder, w in index.worldwide.items()}

    children: dict[int, list[int]] = defaultdict(list)
    for child, parent in parent_of.items():
        children[parent].append(child)
    country_spans: dict[str, dict[int, list[Span]]] = defaultdict(lambda: defaultdict(list))
    world_spans: dict[int, list[Span]] = defaultdict(list)
    for item_id, territories, starts_at, ends_at in blackouts:
        span = Span(starts_at.timestamp(), ends_at.timestamp())
        covered = _subtree(item_id, children)
        for territory in territories:
            if territory == WORLD:
                for covered_id in covered:
                    world_spans[covered_id].append(span)
                continue
            for country in groups.get(territory, (territory,)):
                for covered_id in covered:
                    country_spans[country][covered_id].append(span)
    index.blackouts = {c: _freeze(m) for c, m in country_spans.items()}
    index.worldwide_blackouts = _freeze(world_spans)

    if required_domains:
        index.required = frozenset(
            session.scalars(
                select(Item.id).where(
                    Item.domain.in_(list(required_domains)), Item.merged_into_id.is_(None)
                )
            )
        )
    return index


def _groups(session: Session) -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = defaultdict(list)
    for key, country in session.execute(
        select(TerritoryGroupMember.group_key, TerritoryGroupMember.country)
    ):
        members[key].append(country)
    return {key: tuple(found) for key, found in members.items()}


def _descendants(session: Session) -> dict[int, int]:
    """Child -> parent for every item below an item with grants or blackouts, one query per
    level (each level a subquery of the one above: no long lists of ids go to the database)."""
    parent_of: dict[int, int] = {}
    above: Any = union(select(ItemRight.item_id), select(ItemBlackout.item_id))
    for _ in range(MAX_DEPTH):
        level = select(Item.id, Item.parent_id).where(
            Item.parent_id.in_(above), Item.merged_into_id.is_(None)
        )
        found = session.connection().execute(level).all()
        if not found:
            break
        for child, parent in found:
            # Roots below other roots get a parent too: a blacked-out match under a
            # competition with grants is decided by the competition's grants.
            if parent is not None:
                parent_of.setdefault(child, parent)
        above = select(level.subquery().c.id)
    return parent_of


def _deciders(holders: set[int], parent_of: Mapping[int, int]) -> dict[int, int]:
    decider = {holder: holder for holder in holders}
    for item_id in parent_of:
        chain: list[int] = []
        node: int | None = item_id
        while node is not None and node not in decider and len(chain) <= MAX_DEPTH:
            chain.append(node)
            node = parent_of.get(node)
        holder = decider.get(node) if node is not None else None
        if holder is not None:
            for seen in chain:
                decider[seen] = holder
    return decider


def _subtree(root: int, children: Mapping[int, list[int]]) -> list[int]:
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(children.get(node, ()))
    return out


def _freeze(mapping: Mapping[int, list[_T]]) -> dict[int, tuple[_T, ...]]:
    return {key: tuple(values) for key, values in mapping.items()}
