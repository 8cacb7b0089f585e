"""Taste profiles of eligible users as sparse matrices, for clusters, lookalikes and interest.

One query counts plays per (user, item) in a window; two more fetch the items' parents and tags.
Everything else is numpy/scipy: users × items counts, items × tags (an item carries its own tags
and those of its parent and grandparent), users × roots (the top-most ancestor: the artist, the
show, the competition, the outlet, the film). Plays of sensitive items and sensitive tags are
dropped here, so nothing built from a profile can use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tastegraph.audiences.sensitive import is_sensitive_tag
from tastegraph.catalog.models import Item, ItemTag, Tag
from tastegraph.ingest.models import Play

FloatArray = npt.NDArray[np.float64]


@dataclass
class Profiles:
    user_ids: list[int]
    item_ids: list[int]
    tag_ids: list[int]
    tag_names: list[str]
    root_ids: list[int]
    user_items: sparse.csr_matrix
    """users × items play counts."""
    item_tags: sparse.csr_matrix
    """items × tags, 1 where the item or an ancestor carries the tag."""
    item_roots: sparse.csr_matrix
    """items × roots, 1 at the item's top-most ancestor (itself when it has none)."""

    def user_tags(self) -> sparse.csr_matrix:
        """users × tags: plays of items carrying each tag."""
        return sparse.csr_matrix(self.user_items @ self.item_tags)

    def user_roots(self) -> sparse.csr_matrix:
        return sparse.csr_matrix(self.user_items @ self.item_roots)

    def row_of(self) -> dict[int, int]:
        return {user_id: row for row, user_id in enumerate(self.user_ids)}


def sensitive_tag_ids(session: Session) -> list[int]:
    return [
        tag_id for tag_id, key in session.execute(select(Tag.id, Tag.key)) if is_sensitive_tag(key)
    ]


def load_profiles(
    session: Session,
    users: Select[int],
    *,
    now: datetime,
    within_days: int,
    sensitive: Sequence[int] | None = None,
) -> Profiles:
    """Profiles of the users ``users`` selects, from their plays of the last ``within_days``."""
    sensitive_ids = set(sensitive if sensitive is not None else sensitive_tag_ids(session))
    since = now - timedelta(days=within_days)
    rows = session.execute(
        select(Play.user_id, Play.item_id, func.count())
        .where(Play.user_id.in_(users), Play.played_at >= since, Play.played_at <= now)
        .group_by(Play.user_id, Play.item_id)
    ).all()
    played = sorted({item_id for _u, item_id, _c in rows})
    parents = _ancestry(session, played)
    related_ids = sorted({i for chain in parents.values() for i in chain})
    tags_of: dict[int, set[int]] = {}
    for chunk in _chunks(related_ids):
        for item_id, tag_id in session.execute(
            select(ItemTag.item_id, ItemTag.tag_id).where(ItemTag.item_id.in_(chunk)).distinct()
        ):
            tags_of.setdefault(item_id, set()).add(tag_id)
    # Items whose chain carries a sensitive tag are dropped with their plays.
    item_tag_sets: dict[int, set[int]] = {}
    for item_id in played:
        tags: set[int] = set()
        for related in parents[item_id]:
            tags |= tags_of.get(related, set())
        if tags & sensitive_ids:
            continue
        item_tag_sets[item_id] = tags
    item_ids = sorted(item_tag_sets)
    item_col = {item_id: col for col, item_id in enumerate(item_ids)}
    user_ids = sorted({user_id for user_id, item_id, _c in rows if item_id in item_col})
    user_row = {user_id: row for row, user_id in enumerate(user_ids)}
    kept = [(user_row[u], item_col[i], c) for u, i, c in rows if i in item_col]
    user_items = sparse.csr_matrix(
        (
            np.asarray([c for _r, _c, c in kept], dtype=np.float64),
            (np.asarray([r for r, _c, _n in kept]), np.asarray([c for _r, c, _n in kept])),
        ),
        shape=(len(user_ids), len(item_ids)),
    )
    tag_ids = sorted({t for tags in item_tag_sets.values() for t in tags})
    tag_col = {tag_id: col for col, tag_id in enumerate(tag_ids)}
    names: dict[int, str] = {}
    if tag_ids:
        names = dict(session.execute(select(Tag.id, Tag.name).where(Tag.id.in_(tag_ids))).all())
    pairs = [(item_col[i], tag_col[t]) for i, tags in item_tag_sets.items() for t in tags]
    item_tags = sparse.csr_matrix(
        (
            np.ones(len(pairs)),
            (
                np.asarray([p[0] for p in pairs], dtype=np.int64),
                np.asarray([p[1] for p in pairs], dtype=np.int64),
            ),
        ),
        shape=(len(item_ids), len(tag_ids)),
    )
    roots = [parents[i][-1] for i in item_ids]
    root_ids = sorted(set(roots))
    root_col = {root: col for col, root in enumerate(root_ids)}
    item_roots = sparse.csr_matrix(
        (
            np.ones(len(item_ids)),
            (np.arange(len(item_ids)), np.asarray([root_col[r] for r in roots], dtype=np.int64)),
        ),
        shape=(len(item_ids), len(root_ids)),
    )
    return Profiles(
        user_ids=user_ids,
        item_ids=item_ids,
        tag_ids=tag_ids,
        tag_names=[names.get(t, str(t)) for t in tag_ids],
        root_ids=root_ids,
        user_items=user_items,
        item_tags=item_tags,
        item_roots=item_roots,
    )


def _ancestry(session: Session, item_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each item with its parent and grandparent: ``[item, parent, grandparent]`` (as far as
    they exist)."""
    parent: dict[int, int | None] = {}
    frontier = list(item_ids)
    for _level in range(3):
        wanted = [i for i in frontier if i not in parent]
        if not wanted:
            break
        for chunk in _chunks(wanted):
            for item_id, parent_id in session.execute(
                select(Item.id, Item.parent_id).where(Item.id.in_(chunk))
            ):
                parent[item_id] = parent_id
        frontier = [p for i in wanted if (p := parent.get(i)) is not None]
    chains: dict[int, list[int]] = {}
    for item_id in item_ids:
        chain = [item_id]
        current = parent.get(item_id)
        while current is not None and len(chain) < 3:
            chain.append(current)
            current = parent.get(current)
        chains[item_id] = chain
    return chains


def _chunks(values: Sequence[int], size: int = 5000) -> list[Sequence[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def normalise_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty)."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def tfidf(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """log(1 + count) × idf, rows normalised: the weighting every taste comparison uses."""
    work = sparse.csr_matrix(matrix, dtype=np.float64, copy=True)
    work.data = np.log1p(work.data)
    users = max(matrix.shape[0], 1)
    document_frequency = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)
    idf = np.log((1.0 + users) / (1.0 + document_frequency)) + 1.0
    return normalise_rows(sparse.csr_matrix(work @ sparse.diags(idf)))
