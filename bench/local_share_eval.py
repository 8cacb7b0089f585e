"""What a local-content share costs in relevance, measured on the demo community.

    .venv/bin/python bench/local_share_eval.py                     # a fresh demo in a temp dir
    .venv/bin/python bench/local_share_eval.py --database-url sqlite:///data/tastegraph.db

A global temporal split: the model (the registry's default for the size, or ``--model``) learns
the track plays before the last ``--test-days`` days; each user's top ``--limit`` tracks are
then re-ranked by ``tastegraph.recs.local_share.rerank`` for the policy, and both lists are
scored on the tracks the user played for the first time after the split. For each policy it
prints the local share before and after, the cost against the un-reranked list (share of the
model's score lost, NDCG with the scores as gains) and the held-out Recall@N and NDCG@N before
and after (Recall@N = hits / min(N, |held-out|)).

Policies: ``FR`` (at least ``--share`` of the music recommended in France is French-language or
of French origin) and ``all`` (the same rule for every user's own country, with the built-in
languages of each country).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.config import Mode, Settings
from tastegraph.ingest.models import Play
from tastegraph.recs.data import build_dataset
from tastegraph.recs.local_share import COUNTRY_LANGUAGES, LocalRule, cost, rerank
from tastegraph.recs.registry import create_model, default_model_name
from tastegraph.runtime import Runtime

BIN = Path(sys.executable).parent


def _demo_database(users: int) -> str:
    directory = Path(tempfile.mkdtemp(prefix="tastegraph-local-share-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEGRAPH_")}
    env |= {"TASTEGRAPH_MODE": "demo", "TASTEGRAPH_DATA_DIR": str(directory)}
    print(f"loading the demo community ({users} people) into {directory} ...", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "tastegraph"), "demo", "--users", str(users)], env=env, check=True, cwd=directory
    )
    print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
    return f"sqlite:///{directory / 'tastegraph.db'}"


def _ndcg(ranked: list[int], relevant: set[int], n: int) -> float:
    dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(ranked[:n]) if i in relevant)
    ideal = sum(1 / math.log2(r + 2) for r in range(min(n, len(relevant))))
    return dcg / ideal if ideal else 0.0


def _load(url: str, test_days: int) -> tuple[Any, dict[int, set[int]], dict[int, Any]]:
    """The training matrix before the split, the held-out columns per user, item origins."""
    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    with runtime.db.unit_of_work() as session:
        last = session.scalar(select(func.max(Play.played_at)))
        assert last is not None, "no plays"
        split = last - timedelta(days=test_days)
        started = time.perf_counter()
        data = build_dataset(session, "track", until=split)
        print(
            f"train: {data.n_users:,} users x {data.n_items:,} tracks, {data.matrix.nnz:,} "
            f"interactions before {split:%Y-%m-%d} ({time.perf_counter() - started:.1f} s)"
        )
        column = data.item_index()
        held_out: dict[int, set[int]] = defaultdict(set)
        test = (
            select(Play.user_id, Play.item_id)
            .join(Item, Item.id == Play.item_id)
            .where(Play.played_at >= split, Item.kind == Kind.TRACK)
        )
        for user_id, item_id in session.execute(test):
            if item_id in column:
                held_out[int(user_id)].add(column[item_id])
        meta = {
            int(i): (c, lang)
            for i, c, lang in session.execute(
                select(Item.id, Item.country, Item.original_language).where(Item.kind == Kind.TRACK)
            )
        }
    runtime.close()
    return data, held_out, meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--users", type=int, default=2400, help="demo size when loading one")
    parser.add_argument("--share", type=float, default=0.4)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--pool", type=int, default=200, help="candidates the re-ranker sees")
    parser.add_argument("--test-days", type=int, default=30)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    url = args.database_url or _demo_database(args.users)
    data, held_out, meta = _load(url, args.test_days)
    origin = [meta.get(int(i), (None, None)) for i in data.item_ids]

    name = args.model or default_model_name(data.n_users, data.n_items, "track")
    model = create_model(name)
    started = time.perf_counter()
    model.fit(data.matrix, data.side, seed=0)
    print(f"model: {name}, fitted in {time.perf_counter() - started:.1f} s")

    rows = {int(u): r for r, u in enumerate(data.user_ids)}
    policies: dict[str, list[int]] = {"FR": [], "all": []}
    for user_id, cols in held_out.items():
        r = rows.get(user_id)
        if r is None:
            continue
        train_cols = set(data.matrix.indices[data.matrix.indptr[r] : data.matrix.indptr[r + 1]])
        held_out[user_id] = cols - train_cols
        if not held_out[user_id] or not data.user_countries[r]:
            continue
        policies["all"].append(r)
        if data.user_countries[r] == "FR":
            policies["FR"].append(r)

    print()
    print(
        f"| policy | users | local share before → after | score lost | NDCG vs plain | "
        f"Recall@{args.limit} before → after | NDCG@{args.limit} before → after |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for policy, users in policies.items():
        figures = _evaluate(model, data, users, held_out, origin, args)
        if figures is None:
            print(f"| {policy} | 0 | | | | | |")
            continue
        print(
            f"| {policy} {args.share:.0%} | {len(users):,} | "
            f"{figures['local_before']:.1%} → {figures['local_after']:.1%} | "
            f"{figures['loss']:.2%} | {figures['ndcg_cost']:.4f} | "
            f"{figures['recall_before']:.4f} → {figures['recall_after']:.4f} | "
            f"{figures['ndcg_before']:.4f} → {figures['ndcg_after']:.4f} |"
        )


def _evaluate(
    model: Any,
    data: Any,
    users: list[int],
    held_out: dict[int, set[int]],
    origin: list[tuple[str | None, str | None]],
    args: argparse.Namespace,
) -> dict[str, float] | None:
    if not users:
        return None
    sums: dict[str, float] = defaultdict(float)
    for start in range(0, len(users), 256):
        batch = users[start : start + 256]
        scores = np.asarray(model.score(data.matrix[batch]), dtype=np.float32)
        for k, r in enumerate(batch):
            row = scores[k]
            seen = data.matrix.indices[data.matrix.indptr[r] : data.matrix.indptr[r + 1]]
            row[seen] = -np.inf
            pool = np.argpartition(-row, args.pool)[: args.pool]
            pool = pool[np.argsort(-row[pool], kind="stable")]
            country = data.user_countries[r]
            rule = LocalRule(
                country, "music", args.share, COUNTRY_LANGUAGES.get(country, frozenset())
            )
            local = [rule.is_local(*origin[c]) for c in pool]
            pool_scores = [float(row[c]) for c in pool]
            chosen = rerank(pool_scores, local, args.limit, args.share)
            plain = list(range(args.limit))
            measured = cost(pool_scores, chosen, args.limit)
            user_id = int(data.user_ids[r])
            relevant = held_out[user_id]
            plain_items = [int(pool[c]) for c in plain]
            chosen_items = [int(pool[c]) for c in chosen]
            denominator = min(args.limit, len(relevant))
            sums["local_before"] += sum(local[c] for c in plain) / args.limit
            sums["local_after"] += sum(local[c] for c in chosen) / args.limit
            sums["loss"] += measured.relative_loss
            sums["ndcg_cost"] += measured.ndcg
            sums["recall_before"] += len(set(plain_items) & relevant) / denominator
            sums["recall_after"] += len(set(chosen_items) & relevant) / denominator
            sums["ndcg_before"] += _ndcg(plain_items, relevant, args.limit)
            sums["ndcg_after"] += _ndcg(chosen_items, relevant, args.limit)
    return {k: v / len(users) for k, v in sums.items()}


if __name__ == "__main__":
    main()
