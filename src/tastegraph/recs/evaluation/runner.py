"""Tune every model on validation, test the best configuration, over several seeds.

For each seed: split (``splits.py``), then for each model try every configuration of its grid
— fitted on the training part only — and keep the one with the best validation metric
(``recall@10`` unless told otherwise). That same train-only model is then scored on the test
part with training *and* validation items excluded from its rankings, as RecBole does; there
is no refit on train + validation (recsys.md §2h-bis: a refit inflates test scores and breaks
comparability with published tables). Every model gets a grid of similar size.

Side information is built per split so that it reveals nothing held out: the item-feature
matrix counts tag assignments except those of held-out (user, item) pairs, and friends' taste
comes from the friends' training interactions only.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from tastegraph.recs.components import FloatArray, SideInfo, top_n
from tastegraph.recs.errors import InvalidRecsRequest
from tastegraph.recs.evaluation.datasets import EvalData
from tastegraph.recs.evaluation.metrics import evaluate_rankings
from tastegraph.recs.evaluation.splits import Split, make_split
from tastegraph.recs.models.base import BaseModel, Param, item_counts
from tastegraph.recs.models.hybrid import friend_rows
from tastegraph.recs.registry import MODELS, create_model, default_model_name

KS = (10, 20)
BATCH = 1024
Grid = list[dict[str, Param]]


def _product(**axes: Sequence[Param]) -> Grid:
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())]


GRIDS: dict[str, Grid] = {
    "popularity": [{}],
    "itemknn": [
        *_product(similarity=["cosine"], neighbours=[100, 400]),
        *_product(similarity=["bm25"], neighbours=[100, 400], k1=[0.6, 1.2], b=[0.5, 0.75]),
    ],
    "rp3beta": _product(alpha=[0.6, 0.8, 1.0], beta=[0.2, 0.35], neighbours=[100, 300]),
    "als": _product(factors=[64, 128], regularization=[0.1, 1.0, 10.0], alpha=[5.0, 20.0]),
    "ease": _product(lam=[50.0, 100.0, 200.0], weighting=["binary", "log"]),
    "hybrid": _product(
        lam=[100.0],
        tag_gram=[2.5, 5.0, 10.0],
        tag_weight=[0.05, 0.1, 0.15],
        friend_weight=[0.0, 0.03, 0.06],
    ),
}
"""Full grids: the learners get 6 to 12 fits each (the hybrid's 27 blends need 3 fits)."""

QUICK_GRIDS: dict[str, Grid] = {
    "popularity": [{}],
    "itemknn": [{"similarity": "cosine", "neighbours": 400}],
    "rp3beta": [{"alpha": 0.8, "beta": 0.35, "neighbours": 300}],
    "als": [{"factors": 64, "regularization": 10.0, "alpha": 5.0}],
    "ease": [{"lam": 50.0}],
    "hybrid": [{"lam": 100.0, "tag_gram": 5.0, "tag_weight": 0.15, "friend_weight": 0.03}],
}
"""One configuration each (what tuning chose most often on HetRec), for smoke runs."""


@dataclass
class SeedResult:
    seed: int
    params: dict[str, Param]
    valid: dict[str, float]
    test: dict[str, float]
    fit_seconds: float
    configurations: int


@dataclass
class ModelReport:
    name: str
    runs: list[SeedResult] = field(default_factory=list)

    def mean(self, metric: str, part: str = "test") -> float:
        values = [getattr(run, part)[metric] for run in self.runs]
        return float(np.mean(values)) if values else 0.0

    def std(self, metric: str, part: str = "test") -> float:
        values = [getattr(run, part)[metric] for run in self.runs]
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    def metric_names(self) -> list[str]:
        return [name for name in self.runs[0].test if name != "users"] if self.runs else []

    def as_json(self) -> dict[str, Any]:
        names = self.metric_names()
        return {
            **{name: self.mean(name) for name in names},
            "std": {name: self.std(name) for name in names},
            "valid": {name: self.mean(name, "valid") for name in names},
            "fit_seconds": float(np.mean([run.fit_seconds for run in self.runs])),
            "configurations": self.runs[0].configurations if self.runs else 0,
            "params": [run.params for run in self.runs],
            "per_seed": [
                {"seed": run.seed, "test": run.test, "valid": run.valid} for run in self.runs
            ],
        }


@dataclass
class EvalReport:
    dataset: str
    protocol: str
    seeds: list[int]
    select: str
    default_model: str
    n_users: int
    n_items: int
    n_interactions: int
    models: dict[str, ModelReport]
    quick: bool
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "protocol": self.protocol,
            "seeds": self.seeds,
            "quick": self.quick,
            "selection_metric": f"validation {self.select}",
            "test_model": "trained on the training split only (RecBole); training and "
            "validation items excluded from test rankings",
            "recall_denominator": "|test items of the user|",
            "default_model": self.default_model,
            "users": self.n_users,
            "items": self.n_items,
            "interactions": self.n_interactions,
            "seconds": self.seconds,
            "models": {name: report.as_json() for name, report in self.models.items()},
        }


@dataclass(frozen=True)
class SplitContext:
    """One split with what every model needs to be fitted and scored on it."""

    split: Split
    side: SideInfo | None
    friends_items: sparse.csr_matrix | None
    item_users: np.ndarray[Any, Any]


def side_information(
    data: EvalData, split: Split
) -> tuple[SideInfo | None, sparse.csr_matrix | None]:
    """Item features from tags (held-out pairs' tags left out) and friends' training items."""
    item_features = None
    feature_names: tuple[str, ...] = ()
    if data.tags is not None and len(data.tags.users):
        held = split.held_out
        tags = data.tags
        revealed = np.asarray(held[tags.users, tags.items]).ravel() != 0
        keep = ~revealed
        item_features = sparse.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (tags.items[keep], tags.tags[keep])),
            shape=(data.n_items, len(tags.tag_labels)),
        )
        item_features.sum_duplicates()
        feature_names = tuple(f"tag:{label}" for label in tags.tag_labels)
    user_links = None
    friends_items = None
    if data.friends is not None and len(data.friends):
        pairs = data.friends
        user_links = sparse.csr_matrix(
            (np.ones(len(pairs), dtype=np.float32), (pairs[:, 0], pairs[:, 1])),
            shape=(data.n_users, data.n_users),
        )
        user_links.sum_duplicates()
        friends_items = friend_rows(user_links, split.train)
    if item_features is None and user_links is None:
        return None, None
    side = SideInfo(item_features=item_features, user_links=user_links, feature_names=feature_names)
    return side, friends_items


def _scores(
    model: BaseModel,
    rows: sparse.csr_matrix,
    friends: sparse.csr_matrix | None,
    cache: dict[Any, Any] | None,
    key: Any,
) -> FloatArray:
    """The model's scores for ``rows``; blendable models reuse cached terms across weights."""
    score_terms = getattr(model, "score_terms", None)
    blend = getattr(model, "blend", None)
    if cache is not None and callable(score_terms) and callable(blend):
        if key not in cache:
            cache[key] = score_terms(rows, friends)
        blended: FloatArray = blend(cache[key])
        return blended
    social = getattr(model, "score_social", None)
    if friends is not None and callable(social):
        result: FloatArray = social(rows, friends)
        return result
    return model.score(rows)


def evaluate_model(
    model: BaseModel,
    context: SplitContext,
    part: str,
    ks: tuple[int, ...] = KS,
    cache: dict[Any, Any] | None = None,
) -> dict[str, float]:
    """Full-ranking metrics of ``model`` on the validation or test part of a split.

    ``cache`` (one per fitted model) keeps score terms of models that blend them, so trying
    other blend weights does not rescore.
    """
    split = context.split
    truth = split.valid if part == "valid" else split.test
    known = split.train if part == "valid" else (split.train + split.valid).tocsr()
    users = np.flatnonzero(np.diff(truth.indptr) > 0)
    depth = max(ks)
    tops = []
    for start in range(0, len(users), BATCH):
        batch = users[start : start + BATCH]
        friends = context.friends_items[batch] if context.friends_items is not None else None
        scores = _scores(model, split.train[batch], friends, cache, (part, start))
        tops.append(top_n(scores, depth, exclude=known[batch]))
    top = np.concatenate(tops) if tops else np.zeros((0, depth), dtype=np.int64)
    return evaluate_rankings(
        top,
        truth[users],
        ks,
        item_users=context.item_users,
        n_users_train=int((np.diff(split.train.indptr) > 0).sum()),
    )


def tune_and_test(
    name: str,
    grid: Grid,
    context: SplitContext,
    *,
    seed: int,
    select: str,
    log: Callable[[str], None],
) -> SeedResult:
    """Fit each configuration on train, keep the best on validation, score it on test."""
    cls = MODELS[name]
    score_only: frozenset[str] = getattr(cls, "score_params", frozenset())
    groups: dict[tuple[tuple[str, Param], ...], list[dict[str, Param]]] = {}
    for params in grid:
        key = tuple(sorted((k, v) for k, v in params.items() if k not in score_only))
        groups.setdefault(key, []).append(params)
    best: tuple[float, BaseModel, dict[str, Param], dict[str, float], float] | None = None
    best_cache: dict[Any, Any] | None = None
    for variants in groups.values():
        model = create_model(name, **variants[0])
        report = model.fit(context.split.train, context.side, seed=seed)
        cache: dict[Any, Any] | None = {} if len(variants) > 1 else None
        for params in variants:
            model.params.update(create_model(name, **params).params)
            valid = evaluate_model(model, context, "valid", cache=cache)
            log(
                f"  {name} {params}: valid {select} {valid[select]:.4f} ({report.seconds:.1f}s fit)"
            )
            if best is None or valid[select] > best[0]:
                best = (valid[select], model, dict(model.params), valid, report.seconds)
                best_cache = cache
    assert best is not None
    _, model, params, valid, seconds = best
    model.params.update(params)
    test = evaluate_model(model, context, "test", cache=best_cache)
    return SeedResult(
        seed=seed,
        params=params,
        valid=valid,
        test=test,
        fit_seconds=seconds,
        configurations=len(grid),
    )


def run(
    data: EvalData,
    models: Sequence[str],
    *,
    protocol: str = "random",
    seeds: int = 3,
    quick: bool = False,
    select: str = "recall@10",
    log: Callable[[str], None] | None = None,
    grids: Mapping[str, Grid] | None = None,
) -> EvalReport:
    """Evaluate ``models`` on ``data`` (see the module docstring)."""
    unknown = [name for name in models if name not in MODELS]
    if unknown:
        raise InvalidRecsRequest(f"unknown model {', '.join(unknown)}: use {', '.join(MODELS)}")
    if seeds < 1:
        raise InvalidRecsRequest("--seeds must be at least 1")
    allowed = {f"{m}@{k}" for m in ("recall", "ndcg", "map", "precision", "hit") for k in KS}
    if select not in allowed:
        raise InvalidRecsRequest(f"cannot select on {select!r}: use one of {sorted(allowed)}")
    chosen = grids or (QUICK_GRIDS if quick else GRIDS)
    say = log or (lambda _message: None)
    started = time.perf_counter()
    reports = {name: ModelReport(name) for name in models}
    for seed in range(seeds):
        split = make_split(data, protocol, seed)
        side, friends = side_information(data, split)
        context = SplitContext(split, side, friends, item_counts(split.train))
        say(
            f"seed {seed}: {split.train.nnz} training, {split.valid.nnz} validation, "
            f"{split.test.nnz} test interactions"
        )
        for name in models:
            result = tune_and_test(
                name, chosen.get(name, [{}]), context, seed=seed, select=select, log=say
            )
            reports[name].runs.append(result)
            say(
                f"{name} seed {seed}: test recall@10 {result.test['recall@10']:.4f} "
                f"ndcg@10 {result.test['ndcg@10']:.4f} with {result.params}"
            )
    return EvalReport(
        dataset=data.name,
        protocol=protocol,
        seeds=list(range(seeds)),
        select=select,
        default_model=default_model_name(data.n_users, data.n_items),
        n_users=data.n_users,
        n_items=data.n_items,
        n_interactions=int(aggregate_nnz(data)),
        models=reports,
        quick=quick,
        seconds=time.perf_counter() - started,
    )


def aggregate_nnz(data: EvalData) -> int:
    pairs = np.unique(data.users * max(data.n_items, 1) + data.items)
    return len(pairs)
