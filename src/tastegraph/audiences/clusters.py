"""Automatic interest clusters: k-means over eligible users' tag profiles.

Each user is a tf-idf vector over the (non-sensitive) tags of what they played in the window,
scaled to unit length; spherical k-means (k-means++ seeding, a fixed seed, so the same data
give the same clusters) groups them; a cluster is labelled with the three tags whose mean
weight in it most exceeds their mean weight overall.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select
from sqlalchemy.orm import Session

from tastegraph.audiences.profiles import load_profiles, tfidf

LABEL_TAGS = 3


@dataclass
class Cluster:
    top_tags: list[str]
    user_ids: list[int]


def cluster_users(
    session: Session,
    *,
    users: Select[int],
    now: datetime,
    within_days: int,
    k: int,
    seed: int,
    sensitive: Sequence[int],
    iterations: int = 30,
) -> list[Cluster]:
    profiles = load_profiles(session, users, now=now, within_days=within_days, sensitive=sensitive)
    user_tags = profiles.user_tags()
    has_tags = np.asarray(user_tags.getnnz(axis=1) > 0)
    rows = np.flatnonzero(has_tags)
    if len(rows) == 0 or not profiles.tag_ids:
        return []
    data = np.asarray(tfidf(user_tags[rows]).todense(), dtype=np.float64)
    k = max(1, min(k, len(rows)))
    labels = kmeans(data, k, seed=seed, iterations=iterations)
    overall = data.mean(axis=0)
    clusters = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if len(members) == 0:
            continue
        lift = data[members].mean(axis=0) - overall
        best = [int(t) for t in np.argsort(-lift, kind="stable")[:LABEL_TAGS] if lift[t] > 0]
        clusters.append(
            Cluster(
                top_tags=[profiles.tag_names[t] for t in best],
                user_ids=[profiles.user_ids[int(rows[m])] for m in members],
            )
        )
    clusters.sort(key=lambda cl: (-len(cl.user_ids), cl.top_tags))
    return clusters


def kmeans(
    data: npt.NDArray[np.float64], k: int, *, seed: int, iterations: int
) -> npt.NDArray[np.int64]:
    """Spherical k-means on unit rows: cluster labels per row."""
    rng = np.random.default_rng(seed)
    n = data.shape[0]
    centres = np.empty((k, data.shape[1]), dtype=np.float64)
    centres[0] = data[int(rng.integers(n))]
    closest = 1.0 - data @ centres[0]
    for c in range(1, k):
        weights = np.clip(closest, 0.0, None) ** 2
        total = float(weights.sum())
        pick = int(rng.choice(n, p=weights / total)) if total > 0 else int(rng.integers(n))
        centres[c] = data[pick]
        closest = np.minimum(closest, 1.0 - data @ centres[c])
    labels = np.zeros(n, dtype=np.int64)
    for step in range(iterations):
        new = np.argmax(data @ centres.T, axis=1).astype(np.int64)
        if step > 0 and np.array_equal(new, labels):
            break
        labels = new
        for c in range(k):
            members = data[labels == c]
            if len(members):
                centre = members.mean(axis=0)
                norm = float(np.linalg.norm(centre))
                centres[c] = centre / norm if norm > 0 else centre
    return labels
