"""Interest rules: how close a user's recent taste is to some items or tags.

With the taste model's item embeddings (``ItemVectors``, from the recs area when a model is
trained) a user is the play-weighted mean of their items' vectors and the target the mean of
the rule's items: the score is their cosine. Without embeddings, or for a rule that names only
tags, taste is compared over tags: the user's tf-idf tag profile (unit length) against the
target tags (the rule's, plus those of its items), so a user whose plays are all of one target
tag scores 1 and one with five equally weighted tags, one of them a target, about 0.45.
Plays of sensitive items and sensitive tags never count (``profiles``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tastegraph.audiences.profiles import load_profiles, normalise_rows, tfidf
from tastegraph.audiences.rules import InterestRule
from tastegraph.catalog.models import Item, ItemTag, Tag
from tastegraph.recs.errors import RecsError
from tastegraph.recs.serving import RecsHolder

FloatArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]


class ItemVectors(Protocol):
    """Item embeddings from a trained taste model."""

    def vectors(self, item_ids: Sequence[int]) -> dict[int, FloatArray]:
        """The vector of each item the model knows (others are left out)."""
        ...


def evaluate_interest(
    session: Session,
    rule: InterestRule,
    *,
    now: datetime,
    users: Select[int],
    sensitive: Sequence[int],
    vectors: ItemVectors | None = None,
) -> list[int]:
    """The ids of the users (among ``users``) whose taste scores at least ``min_similarity``."""
    profiles = load_profiles(
        session, users, now=now, within_days=rule.within_days, sensitive=sensitive
    )
    if not profiles.user_ids:
        return []
    if vectors is not None and rule.items:
        scores = _embedding_scores(profiles.item_ids, profiles.user_items, rule.items, vectors)
        if scores is not None:
            return [
                u
                for u, s in zip(profiles.user_ids, scores, strict=True)
                if s >= rule.min_similarity
            ]
    targets = (
        set(session.scalars(select(Tag.id).where(Tag.key.in_(rule.tags)))) if rule.tags else set()
    )
    if rule.items:
        related = set(rule.items)
        level = set(rule.items)
        for _ancestor in range(2):  # the parent and the grandparent
            level = {
                p
                for p in session.scalars(select(Item.parent_id).where(Item.id.in_(level)))
                if p is not None
            }
            related |= level
        targets |= set(session.scalars(select(ItemTag.tag_id).where(ItemTag.item_id.in_(related))))
    targets -= set(sensitive)
    columns = [col for col, tag_id in enumerate(profiles.tag_ids) if tag_id in targets]
    if not columns:
        return []
    weights = tfidf(profiles.user_tags())
    scores_t = np.asarray(weights[:, columns].sum(axis=1)).ravel() / np.sqrt(len(columns))
    return [
        u
        for u, s in zip(profiles.user_ids, scores_t.tolist(), strict=True)
        if s >= rule.min_similarity
    ]


def _embedding_scores(
    item_ids: list[int], user_items: object, targets: Sequence[int], vectors: ItemVectors
) -> list[float] | None:
    from scipy import sparse

    assert isinstance(user_items, sparse.csr_matrix)
    known = vectors.vectors(item_ids)
    target_vectors = vectors.vectors(list(targets))
    if not known or not target_vectors:
        return None
    dim = len(next(iter(known.values())))
    matrix = np.zeros((len(item_ids), dim), dtype=np.float64)
    for col, item_id in enumerate(item_ids):
        if item_id in known:
            matrix[col] = known[item_id]
    weighted = sparse.csr_matrix(user_items, dtype=np.float64, copy=True)
    weighted.data = np.log1p(weighted.data)
    users = np.asarray(weighted @ matrix)
    users = np.asarray(normalise_rows(sparse.csr_matrix(users)).todense())
    target = np.mean(
        np.stack([np.asarray(v, dtype=np.float64) for v in target_vectors.values()]), axis=0
    )
    norm = float(np.linalg.norm(target))
    if norm == 0:
        return None
    scores: list[float] = (users @ (target / norm)).tolist()
    return scores


class RecsItemVectors:
    """``ItemVectors`` from the recs area's published model (the ``mixed`` kind, every
    consumable item), when one is trained and has embeddings; otherwise it knows no item and
    interest rules fall back to tags."""

    def __init__(self, holder: RecsHolder, kind: str = "mixed") -> None:
        self.holder = holder
        self.kind = kind

    def vectors(self, item_ids: Sequence[int]) -> dict[int, FloatArray]:
        try:
            snapshot = self.holder.snapshot()
        except RecsError:
            return {}
        loaded = snapshot.get(self.kind) if snapshot is not None else None
        if loaded is None or loaded.vectors is None:
            return {}
        index = loaded.item_index
        return {i: loaded.vectors[index[i]] for i in item_ids if i in index}
