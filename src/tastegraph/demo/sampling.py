"""Weighted draws that stay cheap when there are many small ones.

``Generator.choice(p=...)`` validates and rebuilds its table on every call, and without
replacement it loops; a year of plays takes tens of thousands of draws, so these do the same
with a cumulative sum (with replacement) or exponential keys (without).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


def draw(gen: np.random.Generator, weights: Floats, size: int) -> Ints:
    """``size`` indices drawn with replacement in proportion to ``weights``."""
    cumulative = np.cumsum(weights)
    picks = np.searchsorted(cumulative, gen.random(size) * cumulative[-1], side="right")
    result: Ints = np.minimum(picks, len(weights) - 1).astype(np.int64)
    return result


def draw_distinct(gen: np.random.Generator, weights: Floats, size: int) -> Ints:
    """``size`` distinct indices, drawn one after the other in proportion to ``weights``
    (Efraimidis-Spirakis keys), in the order they were drawn. Zero weights come last."""
    size = min(size, len(weights))
    with np.errstate(divide="ignore"):
        keys = np.log(gen.random(len(weights))) / weights
    top = np.argpartition(-keys, size - 1)[:size] if size < len(weights) else np.arange(size)
    result: Ints = top[np.argsort(-keys[top], kind="stable")].astype(np.int64)
    return result
