"""The training data: the play log as users x items matrices of confidence weights.

A *kind* here is what a model recommends: one catalogue level (``track``, ``artist``,
``episode``, ``show``, ``film``, ``match``, ``team``, ``story``, ...: a play counts for the
item of that level the way charts count it, see ``stats.levels``) or ``mixed``, every
consumable item of every domain in one matrix (what cross-kind recommendations score).

Weights: ``1 + ln(plays)`` per user and item, plus ``LOVE_BOOST`` for a loved item (a love
without a play counts on its own); an item the user hated, is not interested in or called a
bad recommendation weighs nothing. Incognito plays live in another table and never count.

The same weighting builds one user's row at request time (``user_state`` + ``row_for``),
which is how a model answers a brand-new user without retraining (fold-in).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import CONSUMABLE, DOMAIN_OF, Domain, Kind
from tastegraph.catalog.models import Item, ItemCredit, ItemTag
from tastegraph.ingest.models import Feedback, Play, Sentiment
from tastegraph.recs.components import IntArray, SideInfo
from tastegraph.recs.errors import InvalidRecsRequest
from tastegraph.social.models import Friendship, FriendshipStatus
from tastegraph.stats.levels import target_for

MIXED = "mixed"
"""Every consumable item of every domain in one matrix."""

LEVELS: tuple[Kind, ...] = tuple(Kind)
"""Every catalogue level a model can be trained for (the chart levels)."""

KIND_CODES: tuple[str, ...] = tuple(k.value for k in Kind)
"""Kinds stored as small integers in artifacts: the index into this tuple."""

LOVE_BOOST = 1.0
NEGATIVE: frozenset[Sentiment] = frozenset(
    {Sentiment.HATE, Sentiment.NOT_INTERESTED, Sentiment.BAD_RECOMMENDATION}
)
"""Feedback that zeroes an item's weight and keeps it out of every answer."""

Int8Array = npt.NDArray[np.int8]


def parse_kind(kind: str | None) -> str:
    """``mixed`` or a catalogue kind, as stored in artifacts; anything else is refused."""
    if kind is None or kind == MIXED:
        return MIXED
    try:
        return Kind(kind).value
    except ValueError:
        raise InvalidRecsRequest(
            f"Unknown kind {kind!r}: use 'mixed' or one of {', '.join(KIND_CODES)}."
        ) from None


def kinds_of(kind: str) -> frozenset[Kind]:
    """The item kinds that are columns of a ``kind``'s matrix."""
    return CONSUMABLE if kind == MIXED else frozenset({Kind(kind)})


def weight(plays: int) -> float:
    return 1.0 + math.log(plays) if plays > 0 else 0.0


# -- one user's live state ----------------------------------------------------------------------


@dataclass
class UserState:
    """What one user did at one level, read from the database at request time."""

    plays: dict[int, int] = field(default_factory=dict)
    """Item id -> number of plays (the level's items: artists for ``artist``...)."""
    sentiments: dict[int, Sentiment] = field(default_factory=dict)
    """Item id -> the user's feedback, on any kind of item."""
    last: dict[int, Any] = field(default_factory=dict)
    """Item id -> the last play as the database returned it (parsed on demand)."""

    @property
    def last_played(self) -> dict[int, datetime]:
        """Item id -> when the user last played it."""
        return {item: _aware(moment) for item, moment in self.last.items()}

    def weights(self) -> dict[int, float]:
        """Item id -> confidence weight, the way training weighs it."""
        out = {item: weight(n) for item, n in self.plays.items()}
        for item, sentiment in self.sentiments.items():
            if sentiment is Sentiment.LOVE:
                out[item] = out.get(item, 0.0) + LOVE_BOOST
            elif sentiment in NEGATIVE:
                out.pop(item, None)
        return out

    @property
    def negative(self) -> set[int]:
        return {i for i, s in self.sentiments.items() if s in NEGATIVE}

    @property
    def loved(self) -> set[int]:
        return {i for i, s in self.sentiments.items() if s is Sentiment.LOVE}


def _counts_query(kind: str) -> Select[*tuple[Any, ...]]:
    """(user_id, item_id, plays, last played) per user and item of the kind."""
    if kind == MIXED:
        return select(
            Play.user_id,
            Play.item_id.label("item_id"),
            func.count().label("n"),
            func.max(Play.played_at).label("last"),
        ).group_by(Play.user_id, Play.item_id)
    target = target_for(Kind(kind))
    stmt = target.apply(
        select(
            Play.user_id,
            target.column.label("item_id"),
            func.count().label("n"),
            func.max(Play.played_at).label("last"),
        ).select_from(Play)
    )
    return stmt.group_by(Play.user_id, target.column)


def user_state(
    session: Session, user_id: int, kind: str, *, only: Iterable[Kind] | None = None
) -> UserState:
    """One user's plays at the level of ``kind`` and all their feedback, read live.

    ``only`` keeps the plays of some item kinds (a mixed row built from music alone, for
    cross-kind recommendations).
    """
    stmt = _user_counts_stmt(kind, frozenset(only) if only is not None else None)
    state = UserState()
    for _user, item_id, n, last in session.execute(stmt, {"user_id": user_id}):
        if item_id is None:
            continue
        state.plays[int(item_id)] = int(n)
        state.last[int(item_id)] = last
    for item_id, sentiment in session.execute(_FEEDBACK_STMT, {"user_id": user_id}):
        state.sentiments[int(item_id)] = sentiment
    return state


@lru_cache(maxsize=128)
def _user_counts_stmt(kind: str, only: frozenset[Kind] | None) -> Select[*tuple[Any, ...]]:
    """One user's counts per item of the kind, built once per kind (requests only bind ids)."""
    stmt = _counts_query(kind).where(Play.user_id == bindparam("user_id"))
    if only is not None:
        stmt = stmt.where(Play.item_id.in_(select(Item.id).where(Item.kind.in_(sorted(only)))))
    return stmt


_FEEDBACK_STMT = select(Feedback.item_id, Feedback.sentiment).where(
    Feedback.user_id == bindparam("user_id")
)


def _aware(moment: Any) -> datetime:
    """``max(played_at)`` comes back as text or naive on SQLite: make it an aware datetime."""
    from datetime import UTC

    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def row_for(
    weights: dict[int, float], item_index: dict[int, int], n_items: int
) -> sparse.csr_matrix:
    """A 1 x n_items row of a user's weights over a model's columns (unknown items dropped)."""
    cols = [item_index[i] for i in weights if i in item_index]
    vals = [weights[i] for i in weights if i in item_index]
    return sparse.csr_matrix(
        (np.asarray(vals, dtype=np.float32), (np.zeros(len(cols), dtype=np.int64), cols)),
        shape=(1, n_items),
        dtype=np.float32,
    )


# -- the whole log --------------------------------------------------------------------------------


@dataclass
class Dataset:
    """A users x items matrix with its index maps and side information."""

    kind: str
    matrix: sparse.csr_matrix
    """users x items, float32 confidence weights."""
    user_ids: IntArray
    """Row -> user id."""
    item_ids: IntArray
    """Column -> item id."""
    item_kinds: Int8Array
    """Column -> index into ``KIND_CODES``."""
    groups: IntArray
    """Column -> the item's root (artist of a track, show of an episode, competition of a
    match, outlet of a story; itself when it has none): station diversity, cross-kind."""
    group_kinds: Int8Array
    user_countries: tuple[str, ...]
    """Row -> the user's country ('' when unknown)."""
    side: SideInfo = field(default_factory=SideInfo)
    plays: int = 0
    links: dict[str, tuple[IntArray, IntArray]] = field(default_factory=dict)
    """The mixed model only: per level above the played items (artist, album, show, season,
    team, competition, outlet), (columns, level item ids): the items each column's plays count
    for, as charts count them (a duet for both artists, a match for both teams)."""

    @property
    def n_users(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.matrix.shape[1])

    def user_index(self) -> dict[int, int]:
        return {int(u): r for r, u in enumerate(self.user_ids)}

    def item_index(self) -> dict[int, int]:
        return {int(i): c for c, i in enumerate(self.item_ids)}


def build_dataset(
    session: Session,
    kind: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    side: bool = True,
) -> Dataset:
    """The matrix of ``kind`` from every user's plays in [since, until) and their feedback."""
    kind = parse_kind(kind)
    stmt = _counts_query(kind)
    if since is not None:
        stmt = stmt.where(Play.played_at >= since)
    if until is not None:
        stmt = stmt.where(Play.played_at < until)
    users: list[int] = []
    items: list[int] = []
    counts: list[int] = []
    for user_id, item_id, n, _last in session.execute(stmt):
        if item_id is None:
            continue
        users.append(int(user_id))
        items.append(int(item_id))
        counts.append(int(n))
    wanted = list(kinds_of(kind))
    feedback = session.execute(
        select(Feedback.user_id, Feedback.item_id, Feedback.sentiment)
        .join(Item, Item.id == Feedback.item_id)
        .where(Item.kind.in_(wanted), Item.merged_into_id.is_(None))
    ).all()
    loves = [(int(u), int(i)) for u, i, s in feedback if s is Sentiment.LOVE]
    negatives = [(int(u), int(i)) for u, i, s in feedback if s in NEGATIVE]

    all_users = np.asarray(users + [u for u, _ in loves], dtype=np.int64)
    all_items = np.asarray(items + [i for _, i in loves], dtype=np.int64)
    user_ids, rows = np.unique(all_users, return_inverse=True)
    item_ids, cols = np.unique(all_items, return_inverse=True)
    values = np.concatenate(
        [
            1.0 + np.log(np.maximum(np.asarray(counts, dtype=np.float64), 1.0)),
            np.full(len(loves), LOVE_BOOST),
        ]
    ).astype(np.float32)
    shape = (len(user_ids), len(item_ids))
    matrix = sparse.csr_matrix((values, (rows, cols)), shape=shape, dtype=np.float32)
    matrix.sum_duplicates()
    if negatives:
        user_pos = {int(u): r for r, u in enumerate(user_ids)}
        item_pos = {int(i): c for c, i in enumerate(item_ids)}
        cells = [
            (user_pos[u], item_pos[i]) for u, i in negatives if u in user_pos and i in item_pos
        ]
        if cells:
            r, c = zip(*cells, strict=True)
            mask = sparse.csr_matrix(
                (np.ones(len(cells), dtype=np.float32), (r, c)), shape=shape, dtype=np.float32
            )
            matrix = sparse.csr_matrix(matrix - matrix.multiply(mask))
    matrix.eliminate_zeros()
    matrix.sort_indices()

    meta = _item_meta(session, kind)
    kind_index = {k: n for n, k in enumerate(KIND_CODES)}
    item_kinds = np.asarray(
        [kind_index[meta[int(i)].kind] if int(i) in meta else 0 for i in item_ids], dtype=np.int8
    )
    roots = item_roots(session, [int(i) for i in item_ids])
    groups = np.asarray([roots.get(int(i), (int(i), ""))[0] for i in item_ids], dtype=np.int64)
    group_kinds = np.asarray(
        [kind_index.get(roots.get(int(i), (0, ""))[1], 0) for i in item_ids], dtype=np.int8
    )
    countries = _user_countries(session, user_ids)
    links = level_links(session, item_ids) if kind == MIXED else {}
    return Dataset(
        kind=kind,
        matrix=matrix,
        user_ids=user_ids.astype(np.int64),
        item_ids=item_ids.astype(np.int64),
        item_kinds=item_kinds,
        groups=groups,
        group_kinds=group_kinds,
        user_countries=tuple(countries.get(int(u)) or "" for u in user_ids),
        side=side_info(session, kind, user_ids, item_ids, meta, groups) if side else SideInfo(),
        plays=int(sum(counts)),
        links=links,
    )


LINK_LEVELS: tuple[Kind, ...] = tuple(k for k in Kind if k not in CONSUMABLE)
"""The levels a mixed model reaches by the items that count for them."""


def level_links(session: Session, item_ids: IntArray) -> dict[str, tuple[IntArray, IntArray]]:
    """For each level in ``LINK_LEVELS``, (columns, level item ids) of the played items
    ``item_ids`` (a model's columns): a track's artists and album, an episode's season and
    show, a match's competition and teams, a story's outlet (``stats.levels.target_for``)."""
    column = {int(i): c for c, i in enumerate(item_ids)}
    out: dict[str, tuple[IntArray, IntArray]] = {}
    for level in LINK_LEVELS:
        target = target_for(level, played_id=Item.id)
        stmt = target.apply(
            select(Item.id, target.column)
            .select_from(Item)
            .where(Item.kind.in_(sorted(CONSUMABLE)))
        )
        pairs = sorted(
            {
                (column[int(played)], int(linked))
                for played, linked in session.execute(stmt)
                if linked is not None and int(played) in column
            }
        )
        if pairs:
            cols, ids = zip(*pairs, strict=True)
            out[level.value] = (np.asarray(cols, dtype=np.int64), np.asarray(ids, dtype=np.int64))
    return out


def _chunks(values: Sequence[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _user_countries(session: Session, user_ids: IntArray) -> dict[int, str | None]:
    out: dict[int, str | None] = {}
    for chunk in _chunks([int(u) for u in user_ids]):
        for user_id, country in session.execute(
            select(User.id, User.country).where(User.id.in_(chunk))
        ):
            out[int(user_id)] = country
    return out


@dataclass(frozen=True)
class ItemMeta:
    kind: str
    parent_id: int | None
    language: str | None
    country: str | None


def _item_meta(session: Session, kind: str) -> dict[int, ItemMeta]:
    stmt = select(Item.id, Item.kind, Item.parent_id, Item.original_language, Item.country).where(
        Item.kind.in_(list(kinds_of(kind))), Item.merged_into_id.is_(None)
    )
    return {
        int(i): ItemMeta(k.value, p, lang, country)
        for i, k, p, lang, country in session.execute(stmt)
    }


_ROLE_ORDER = {"main": 0, "home": 1, "director": 2, "author": 3, "host": 4}


def item_roots(session: Session, item_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """Item id -> (root id, root kind): the top of the parent chain (the artist of a track, the
    show of an episode, the competition of a match, the outlet of a story), else the first
    credited creator (a film's director), else the item itself."""
    info: dict[int, tuple[int | None, str]] = {}
    pending = set(item_ids)
    while pending:
        for chunk in _chunks(sorted(pending)):
            for item_id, parent_id, kind in session.execute(
                select(Item.id, Item.parent_id, Item.kind).where(Item.id.in_(chunk))
            ):
                info[int(item_id)] = (parent_id, kind.value)
        pending = {p for p, _ in info.values() if p is not None and p not in info}
        pending -= set(info)
    orphans = [i for i in item_ids if i in info and info[i][0] is None]
    creators = _first_creators(session, orphans)
    roots: dict[int, tuple[int, str]] = {}
    for item_id in item_ids:
        if item_id not in info:
            continue
        current, seen = item_id, 0
        while info.get(current, (None, ""))[0] is not None and seen < 8:
            parent = info[current][0]
            assert parent is not None
            if parent not in info:
                break
            current, seen = parent, seen + 1
        if current == item_id and item_id in creators:
            roots[item_id] = creators[item_id]
        else:
            roots[item_id] = (current, info[current][1])
    return roots


def _first_creators(session: Session, item_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """Item id -> (id, kind) of its first credit: main artist, home team, director..."""
    creator: dict[int, tuple[int, int, int]] = {}
    for chunk in _chunks(item_ids):
        for item_id, credited_id, role, position in session.execute(
            select(
                ItemCredit.item_id, ItemCredit.credited_id, ItemCredit.role, ItemCredit.position
            ).where(ItemCredit.item_id.in_(chunk))
        ):
            rank = (_ROLE_ORDER.get(role.value, 9), int(position), int(credited_id))
            if item_id not in creator or rank < creator[item_id]:
                creator[int(item_id)] = rank
    kinds: dict[int, str] = {}
    for chunk in _chunks(sorted({c[2] for c in creator.values()})):
        for item_id, kind in session.execute(select(Item.id, Item.kind).where(Item.id.in_(chunk))):
            kinds[int(item_id)] = kind.value
    return {i: (c[2], kinds.get(c[2], "")) for i, c in creator.items()}


def side_info(
    session: Session,
    kind: str,
    user_ids: IntArray,
    item_ids: IntArray,
    meta: dict[int, ItemMeta],
    groups: IntArray,
) -> SideInfo:
    """Item features (kind, root, parent, language, origin, creators, tags) and friendships."""
    column = {int(i): c for c, i in enumerate(item_ids)}
    names: dict[str, int] = {}
    cells: list[tuple[int, int]] = []

    def add(col: int, feature: str) -> None:
        cells.append((col, names.setdefault(feature, len(names))))

    for col, item_id in enumerate(item_ids):
        m = meta.get(int(item_id))
        if m is None:
            continue
        add(col, f"kind:{m.kind}")
        if int(groups[col]) != int(item_id):
            add(col, f"root:{int(groups[col])}")
        if m.parent_id is not None:
            add(col, f"parent:{m.parent_id}")
        if m.language:
            add(col, f"language:{m.language}")
        if m.country:
            add(col, f"origin:{m.country}")
    wanted = list(kinds_of(kind))
    credits = select(ItemCredit.item_id, ItemCredit.credited_id).join(
        Item, Item.id == ItemCredit.item_id
    )
    for item_id, credited_id in session.execute(credits.where(Item.kind.in_(wanted))):
        if int(item_id) in column:
            add(column[int(item_id)], f"creator:{credited_id}")
    tags = (
        select(ItemTag.item_id, ItemTag.tag_id)
        .join(Item, Item.id == ItemTag.item_id)
        .where(Item.kind.in_(wanted))
        .distinct()
    )
    for item_id, tag_id in session.execute(tags):
        if int(item_id) in column:
            add(column[int(item_id)], f"tag:{tag_id}")
    features = None
    if cells:
        r, c = zip(*sorted(set(cells)), strict=True)
        features = sparse.csr_matrix(
            (np.ones(len(r), dtype=np.float32), (r, c)),
            shape=(len(item_ids), len(names)),
            dtype=np.float32,
        )
    return SideInfo(
        item_features=features,
        user_links=friend_links(session, user_ids),
        feature_names=tuple(sorted(names, key=names.__getitem__)),
    )


def friend_links(session: Session, user_ids: IntArray) -> sparse.csr_matrix | None:
    """users x users, 1 where two users of the matrix are friends (both directions)."""
    row = {int(u): r for r, u in enumerate(user_ids)}
    pairs = [
        (row[a], row[b])
        for a, b in session.execute(
            select(Friendship.user_low_id, Friendship.user_high_id).where(
                Friendship.status == FriendshipStatus.ACCEPTED
            )
        )
        if a in row and b in row
    ]
    if not pairs:
        return None
    a, b = zip(*pairs, strict=True)
    n = len(user_ids)
    links = sparse.csr_matrix(
        (np.ones(2 * len(pairs), dtype=np.float32), (a + b, b + a)), shape=(n, n), dtype=np.float32
    )
    return links


# -- popularity (the cold start) ------------------------------------------------------------------


def popular_items(
    session: Session,
    kind: str,
    *,
    since: datetime | None = None,
    country: str | None = None,
    limit: int = 200,
) -> list[tuple[int, int]]:
    """(item id, listeners) of the kind, most listeners first: what a user with no plays gets,
    from their country first."""
    kind = parse_kind(kind)
    counted = _counts_query(kind).subquery()
    stmt = select(counted.c.item_id, func.count().label("listeners")).group_by(counted.c.item_id)
    if country is not None:
        stmt = stmt.join(User, and_(User.id == counted.c.user_id, User.country == country))
    if since is not None:
        stmt = stmt.where(counted.c.last >= since)
    stmt = stmt.where(counted.c.item_id.is_not(None))
    stmt = stmt.order_by(func.count().desc(), counted.c.item_id).limit(limit)
    return [(int(i), int(n)) for i, n in session.execute(stmt)]


def local_items(
    session: Session, kind: str, country: str, languages: Iterable[str]
) -> frozenset[int]:
    """Ids of the kind's items from ``country`` or in one of ``languages`` (``fr`` also
    matches ``fr-CA``)."""
    langs = sorted({lang.lower() for lang in languages})
    language = func.lower(Item.original_language)
    matches = [Item.country == country.upper()]
    if langs:
        matches.append(language.in_(langs))
        matches += [language.like(f"{lang}-%") for lang in langs]
    stmt = select(Item.id).where(
        Item.kind.in_(sorted(kinds_of(parse_kind(kind)))),
        Item.merged_into_id.is_(None),
        or_(*matches),
    )
    return frozenset(int(i) for i in session.scalars(stmt))


def domain_kinds(scope: str) -> frozenset[Kind]:
    """The consumable kinds of a domain (``music``) or a kind (``track``)."""
    try:
        domain = Domain(scope)
    except ValueError:
        return frozenset({Kind(parse_kind(scope))}) if scope != MIXED else CONSUMABLE
    return frozenset(k for k in CONSUMABLE if DOMAIN_OF[k] is domain)
