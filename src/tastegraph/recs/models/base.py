"""What every model shares: parameters, input weighting, fold-in rows, save and load.

A model's artifact is a directory holding ``manifest.json`` (the model's name, its parameters,
the catalogue size and the names of its arrays) plus ``arrays.npz`` (dense numpy arrays) and one
``<name>.npz`` per sparse matrix, all read without pickle. ``registry.load_model`` reads the
manifest and hands the rest to the model class named there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from scipy import sparse

from tastegraph.recs.components import FitReport, FloatArray, IntArray, SideInfo, top_n
from tastegraph.recs.errors import ArtifactError, InvalidRecsRequest, ModelNotTrained

Param = float | int | str | bool
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
FORMAT = 1
WEIGHTINGS = ("binary", "log", "raw")
"""How play counts become confidences: 1 per pair, log(1 + count), or the count itself."""


def weigh(rows: sparse.csr_matrix, weighting: str) -> sparse.csr_matrix:
    """A float32 copy of ``rows`` with its stored values transformed by ``weighting``."""
    out = sparse.csr_matrix(rows, dtype=np.float32, copy=True)
    out.eliminate_zeros()
    if weighting == "binary":
        out.data[:] = 1.0
    elif weighting == "log":
        out.data = np.log1p(np.maximum(out.data, 0.0)).astype(np.float32)
    elif weighting != "raw":
        raise InvalidRecsRequest(f"unknown weighting {weighting!r}: use {', '.join(WEIGHTINGS)}")
    return out


def fit_columns(rows: sparse.csr_matrix, n_items: int) -> sparse.csr_matrix:
    """``rows`` with exactly ``n_items`` columns: later columns (unseen items) are dropped."""
    rows = sparse.csr_matrix(rows)
    if rows.shape[1] > n_items:
        rows = rows[:, :n_items]
    elif rows.shape[1] < n_items:
        rows = sparse.csr_matrix(
            (rows.data, rows.indices, rows.indptr), shape=(rows.shape[0], n_items)
        )
    return sparse.csr_matrix(rows)


def normalise_rows(scores: FloatArray) -> FloatArray:
    """Each row divided by its largest value (by its largest magnitude when none is positive).

    Puts every user's scores on the same scale before terms are added; rows of zeros stay.
    """
    if scores.shape[1] == 0:
        return scores
    scale = scores.max(axis=1, keepdims=True)
    magnitude = np.abs(scores).max(axis=1, keepdims=True)
    scale = np.where(scale > 0, scale, magnitude)
    scale[scale == 0] = 1.0
    normalised: FloatArray = (scores / scale).astype(np.float32)
    return normalised


def empty_csr(n_rows: int, n_cols: int) -> sparse.csr_matrix:
    """An all-zero float32 CSR matrix."""
    return sparse.csr_matrix(
        (
            np.zeros(0, dtype=np.float32),
            np.zeros(0, dtype=np.int32),
            np.zeros(n_rows + 1, dtype=np.int32),
        ),
        shape=(n_rows, n_cols),
    )


def item_counts(interactions: sparse.csr_matrix) -> IntArray:
    """How many users have each item."""
    return np.bincount(sparse.csr_matrix(interactions).indices, minlength=interactions.shape[1])


class BaseModel:
    """A recommender over integer indices; subclasses implement ``_fit`` and ``_score``."""

    name: str = ""
    defaults: ClassVar[Mapping[str, Param]] = {}
    choices: ClassVar[Mapping[str, tuple[str, ...]]] = {"weighting": WEIGHTINGS}

    def __init__(self, **params: Param) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise InvalidRecsRequest(
                f"{self.name} has no parameter {', '.join(sorted(unknown))}; "
                f"it takes {', '.join(self.defaults) or 'none'}"
            )
        merged: dict[str, Param] = dict(self.defaults)
        for key, value in params.items():
            default = self.defaults[key]
            merged[key] = _coerce(key, value, default)
            allowed = self.choices.get(key)
            if allowed is not None and merged[key] not in allowed:
                raise InvalidRecsRequest(f"{self.name}: {key} must be one of {', '.join(allowed)}")
        self.params: dict[str, Param] = merged
        self._n_items = -1
        self.popularity: FloatArray = np.zeros(0, dtype=np.float32)

    # -- the contract -----------------------------------------------------------------------

    @property
    def n_items(self) -> int:
        return self._n_items

    @property
    def trained(self) -> bool:
        return self._n_items >= 0

    def fit(
        self, interactions: sparse.csr_matrix, side: SideInfo | None = None, *, seed: int = 0
    ) -> FitReport:
        started = time.perf_counter()
        matrix = sparse.csr_matrix(interactions, dtype=np.float32)
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        self._n_items = matrix.shape[1]
        counts = item_counts(matrix).astype(np.float32)
        top = counts.max() if len(counts) else 0.0
        # Scores for users with no history: popularity scaled into [0, 1].
        self.popularity = (counts / top if top > 0 else counts).astype(np.float32)
        self._fit(matrix, side, seed)
        return FitReport(
            model=self.name, params=dict(self.params), seconds=time.perf_counter() - started
        )

    def score(self, user_rows: sparse.csr_matrix) -> FloatArray:
        self._require_trained()
        rows = fit_columns(user_rows, self._n_items)
        scores = np.asarray(self._score(rows), dtype=np.float32)
        empty = np.diff(rows.indptr) == 0
        if empty.any():
            scores[empty] = self.popularity
        return scores

    def similar_items(self, items: IntArray, n: int) -> tuple[IntArray, FloatArray]:
        self._require_trained()
        items = np.asarray(items, dtype=np.int64)
        if len(items) and (items.min() < 0 or items.max() >= self._n_items):
            raise InvalidRecsRequest(f"item indices must be in [0, {self._n_items})")
        sims = np.asarray(self._item_similarity(items), dtype=np.float32)
        self_cells = sparse.csr_matrix(
            (np.ones(len(items)), (np.arange(len(items)), items)),
            shape=(len(items), self._n_items),
        )
        best = top_n(sims, n, exclude=self_cells)
        scores = np.where(
            best >= 0, np.take_along_axis(sims, np.maximum(best, 0), axis=1), 0.0
        ).astype(np.float32)
        return best, scores

    def item_vectors(self) -> FloatArray | None:
        return None

    def save(self, directory: Path) -> None:
        self._require_trained()
        directory.mkdir(parents=True, exist_ok=True)
        dense = {"popularity": self.popularity, **self._dense_arrays()}
        matrices = self._sparse_arrays()
        np.savez(directory / ARRAYS, allow_pickle=False, **dense)
        for key, matrix in matrices.items():
            sparse.save_npz(directory / f"{key}.npz", sparse.csr_matrix(matrix), compressed=False)
        manifest = {
            "format": FORMAT,
            "model": self.name,
            "params": self.params,
            "n_items": self._n_items,
            "arrays": sorted(dense),
            "sparse": sorted(matrices),
            **self._extra_manifest(),
        }
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: Path, manifest: Mapping[str, Any] | None = None) -> Self:
        manifest = manifest if manifest is not None else read_manifest(directory)
        if manifest.get("model") != cls.name:
            raise ArtifactError(f"{directory}: a {manifest.get('model')!r} model, not {cls.name}")
        try:
            model = cls(**manifest.get("params", {}))
            with np.load(directory / ARRAYS, allow_pickle=False) as stored:
                dense = {key: stored[key] for key in manifest["arrays"]}
            matrices = {
                key: sparse.csr_matrix(sparse.load_npz(directory / f"{key}.npz"))
                for key in manifest["sparse"]
            }
            model._n_items = int(manifest["n_items"])
            model.popularity = dense.pop("popularity").astype(np.float32)
            model._restore(dense, matrices, manifest)
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ArtifactError(f"{directory}: cannot read the {cls.name} model ({exc})") from exc
        return model

    # -- what subclasses provide -------------------------------------------------------------

    def _fit(self, interactions: sparse.csr_matrix, side: SideInfo | None, seed: int) -> None:
        raise NotImplementedError

    def _score(self, rows: sparse.csr_matrix) -> FloatArray:
        raise NotImplementedError

    def _item_similarity(self, items: IntArray) -> FloatArray:
        """Rows of item-to-item similarity for ``items`` (len(items) x n_items)."""
        raise NotImplementedError

    def _dense_arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        return {}

    def _sparse_arrays(self) -> dict[str, sparse.csr_matrix]:
        return {}

    def _extra_manifest(self) -> dict[str, Any]:
        return {}

    def _restore(
        self,
        dense: dict[str, np.ndarray[Any, Any]],
        matrices: dict[str, sparse.csr_matrix],
        manifest: Mapping[str, Any],
    ) -> None:
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------------

    def _require_trained(self) -> None:
        if not self.trained:
            raise ModelNotTrained(f"the {self.name} model has not been fitted or loaded")

    def _param_str(self, key: str) -> str:
        return str(self.params[key])

    def _param_int(self, key: str) -> int:
        return int(self.params[key])

    def _param_float(self, key: str) -> float:
        return float(self.params[key])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


def _coerce(key: str, value: Param, default: Param) -> Param:
    """``value`` as the type of ``default`` (so "0.5" from a command line becomes 0.5)."""
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in {"1", "true", "yes", "on"}
            return bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidRecsRequest(f"{key}: {value!r} is not a {type(default).__name__}") from exc
    return str(value)


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ArtifactError(f"{directory}: no {MANIFEST} (not a saved model)") from exc
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{path}: not a format-{FORMAT} model manifest")
    return manifest


def topk_sparse_product(
    left: sparse.csr_matrix,
    right: sparse.csr_matrix,
    k: int,
    *,
    drop_diagonal: bool = True,
    chunk: int = 0,
) -> sparse.csr_matrix:
    """``left @ right`` keeping the ``k`` largest entries of each row, as float32 CSR.

    Computed a block of rows at a time so a large catalogue never holds the whole product;
    ties are broken by column index, so the result is deterministic.
    """
    left = sparse.csr_matrix(left, dtype=np.float32)
    right = sparse.csr_matrix(right, dtype=np.float32)
    n_rows, n_cols = left.shape[0], right.shape[1]
    chunk = chunk or max(1, min(n_rows, 20_000_000 // max(n_cols, 1)))
    blocks: list[sparse.csr_matrix] = []
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        block = sparse.coo_matrix(left[start:stop] @ right)
        rows, cols, values = block.row.astype(np.int64), block.col.astype(np.int64), block.data
        keep = values != 0
        if drop_diagonal:
            keep &= cols != rows + start
        rows, cols, values = rows[keep], cols[keep], values[keep]
        order = np.lexsort((cols, -values, rows))
        rows, cols, values = rows[order], cols[order], values[order]
        firsts = np.searchsorted(rows, np.arange(stop - start))
        rank = np.arange(len(rows)) - firsts[rows]
        best = rank < k
        blocks.append(
            sparse.csr_matrix(
                (values[best], (rows[best], cols[best])), shape=(stop - start, n_cols)
            )
        )
    if not blocks:
        return empty_csr(n_rows, n_cols)
    result = sparse.csr_matrix(sparse.vstack(blocks, format="csr"), dtype=np.float32)
    result.sort_indices()
    return result
