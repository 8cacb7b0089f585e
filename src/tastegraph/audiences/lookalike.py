"""Lookalike expansion: the eligible non-members whose taste is most like a seed segment's.

Taste here is a user's plays counted per *root* item (the artist, show, competition, outlet or
film everything they played hangs under), weighted log(1 + plays) × idf and scaled to unit
length. The seed is the mean of its members' vectors; each candidate scores the cosine with it,
and the best ``wanted`` with a positive score are taken. Plays of sensitive items never count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import Select
from sqlalchemy.orm import Session

from tastegraph.audiences.profiles import load_profiles, tfidf


def expand(
    session: Session,
    seed: Sequence[int],
    wanted: int,
    *,
    users: Select[int],
    now: datetime,
    within_days: int,
    sensitive: Sequence[int],
) -> list[tuple[int, float]]:
    """Up to ``wanted`` (user id, score) pairs, best first, none of them in ``seed``."""
    if wanted <= 0:
        return []
    profiles = load_profiles(session, users, now=now, within_days=within_days, sensitive=sensitive)
    if not profiles.user_ids:
        return []
    matrix = tfidf(profiles.user_roots())
    rows = profiles.row_of()
    seed_rows = [rows[u] for u in seed if u in rows]
    if not seed_rows:
        return []
    centroid = np.asarray(matrix[seed_rows].mean(axis=0)).ravel()
    norm = float(np.linalg.norm(centroid))
    if norm == 0:
        return []
    scores = np.asarray(matrix @ (centroid / norm)).ravel()
    in_seed = np.zeros(len(profiles.user_ids), dtype=bool)
    in_seed[seed_rows] = True
    scores[in_seed] = -np.inf
    order = np.argsort(-scores, kind="stable")
    picked: list[tuple[int, float]] = []
    for row in order[:wanted]:
        score = float(scores[row])
        if not np.isfinite(score) or score <= 0:
            break
        picked.append((profiles.user_ids[int(row)], score))
    return picked
