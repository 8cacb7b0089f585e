"""Which model suits which kind: every model, untuned, on every level of the demo community.

    .venv/bin/python bench/recs_kinds_eval.py                       # a fresh demo in a temp dir
    .venv/bin/python bench/recs_kinds_eval.py --database-url sqlite:///data/tastegraph.db
    .venv/bin/python bench/recs_kinds_eval.py --kinds track,story --models als,hybrid

The operator tunes nothing, so ``registry.default_model_name`` picks a model per kind from what
the training job knows: the kind and the size of its matrix. This measures each candidate with
its default parameters on each kind, with a global temporal split (recsys.md §1.2): the models
learn the plays before the last ``--test-days`` days at the kind's level
(``recs.data.build_dataset``, side information included); each user is then ranked the whole
catalogue minus what they had played, and scored on the items they played for the first time
after the split. Items first played after the split cannot be ranked by any model trained
before it: ``new items`` is their share of those first plays, a ceiling on what any model can
reach (and why news stories and matches need their levels above them).

Recall@N = hits / min(N, |held-out|); NDCG@N with binary gains. The hybrid is scored as the
server scores it: with the friends' term from the friendships among training users.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sqlalchemy import func, select

from tastegraph.config import Mode, Settings
from tastegraph.ingest.models import Play
from tastegraph.recs.components import top_n
from tastegraph.recs.data import MIXED, Dataset, build_dataset
from tastegraph.recs.models.hybrid import Hybrid, friend_rows
from tastegraph.recs.registry import create_model, default_model_name
from tastegraph.runtime import Runtime

BIN = Path(sys.executable).parent
KINDS = (
    "track", "artist", "album", "episode", "show", "season", "film", "match", "team",
    "competition", "story", "programme", "outlet", MIXED,
)  # fmt: skip
MODELS = ("popularity", "itemknn", "rp3beta", "als", "ease", "hybrid")


def _demo_database(users: int) -> str:
    directory = Path(tempfile.mkdtemp(prefix="tastegraph-kinds-eval-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEGRAPH_")}
    env |= {"TASTEGRAPH_MODE": "demo", "TASTEGRAPH_DATA_DIR": str(directory)}
    print(f"loading the demo community ({users} people) into {directory} ...", flush=True)
    subprocess.run(
        [str(BIN / "tastegraph"), "demo", "--users", str(users)], env=env, check=True, cwd=directory
    )
    return f"sqlite:///{directory / 'tastegraph.db'}"


def _split(train: Dataset, after: Dataset) -> tuple[sparse.csr_matrix, float, int]:
    """Held-out (training users x training items): first plays after the split of items known
    before it; the share of first plays on items that did not exist before; their count."""
    users = train.user_index()
    items = train.item_index()
    seen = train.matrix
    rows, cols = [], []
    new_items = first_plays = 0
    coo = after.matrix.tocoo()
    for r, c in zip(coo.row.tolist(), coo.col.tolist(), strict=True):
        user_id, item_id = int(after.user_ids[r]), int(after.item_ids[c])
        row = users.get(user_id)
        col = items.get(item_id)
        if row is not None and col is not None and seen[row, col] != 0:
            continue  # played before: not a discovery
        first_plays += 1
        if col is None:
            new_items += 1
            continue
        if row is not None:
            rows.append(row)
            cols.append(col)
    truth = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=train.matrix.shape
    )
    truth.sum_duplicates()
    return truth, new_items / max(1, first_plays), first_plays


def _metrics(top: np.ndarray[Any, Any], truth: sparse.csr_matrix, n: int) -> tuple[float, float]:
    recalls, ndcgs = [], []
    discounts = 1.0 / np.log2(np.arange(2, n + 2))
    for k, row in enumerate(np.flatnonzero(np.diff(truth.indptr))):
        relevant = set(truth.indices[truth.indptr[row] : truth.indptr[row + 1]].tolist())
        hits = np.asarray([c in relevant for c in top[k, :n]], dtype=np.float64)
        ideal = discounts[: min(n, len(relevant))].sum()
        recalls.append(hits.sum() / min(n, len(relevant)))
        ndcgs.append(float((hits * discounts[: len(hits)]).sum() / ideal))
    return float(np.mean(recalls)) if recalls else 0.0, float(np.mean(ndcgs)) if ndcgs else 0.0


def evaluate(
    train: Dataset, truth: sparse.csr_matrix, name: str, n: int
) -> tuple[float, float, float]:
    """(Recall@n, NDCG@n, fit seconds) of one model on one kind."""
    model = create_model(name)
    started = time.perf_counter()
    model.fit(train.matrix, train.side, seed=0)
    seconds = time.perf_counter() - started
    evaluated = np.flatnonzero(np.diff(truth.indptr))
    friends = None
    if isinstance(model, Hybrid) and train.side.user_links is not None:
        friends = friend_rows(train.side.user_links, train.matrix)
    tops = []
    for start in range(0, len(evaluated), 500):
        block = evaluated[start : start + 500]
        rows = train.matrix[block]
        if friends is not None:
            scores = model.score_social(rows, friends[block])
        else:
            scores = model.score(rows)
        tops.append(top_n(scores, n, exclude=rows))
    top = np.vstack(tops) if tops else np.zeros((0, n), dtype=np.int64)
    recall, ndcg = _metrics(top, truth, n)
    return recall, ndcg, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--users", type=int, default=2400, help="demo size when loading one")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--test-days", type=int, default=30)
    parser.add_argument("-n", type=int, default=20, help="list length")
    args = parser.parse_args()
    url = args.database_url or _demo_database(args.users)
    runtime = Runtime.create(Settings(mode=Mode.DEV, database_url=url))
    models = args.models.split(",")
    n = args.n
    table: list[str] = []
    for kind in args.kinds.split(","):
        with runtime.db.unit_of_work() as session:
            last = session.scalar(select(func.max(Play.played_at)))
            assert last is not None, "no plays"
            split = last - timedelta(days=args.test_days)
            train = build_dataset(session, kind, until=split)
            after = build_dataset(session, kind, since=split, side=False)
        truth, new_share, first_plays = _split(train, after)
        users = int((np.diff(truth.indptr) > 0).sum())
        density = train.matrix.nnz / max(1, train.n_items)
        chosen = default_model_name(train.n_users, train.n_items, kind, train.matrix.nnz)
        print(
            f"{kind}: {train.n_users:,} users x {train.n_items:,} items, {train.matrix.nnz:,} "
            f"pairs ({density:.1f} users per item); {first_plays:,} first plays after the "
            f"split, {new_share:.0%} on new items; {users:,} users evaluated; default {chosen}",
            flush=True,
        )
        cells = []
        for name in models:
            recall, ndcg, seconds = evaluate(train, truth, name, n)
            print(f"  {name}: Recall@{n} {recall:.4f}, NDCG@{n} {ndcg:.4f}, fit {seconds:.1f} s")
            mark = "**" if name == chosen else ""
            cells.append(f"{mark}{recall:.3f} / {ndcg:.3f}{mark}" if users else "—")
        table.append(
            f"| {kind} | {train.n_items:,} | {density:.1f} | {new_share:.0%} | {users:,} | "
            + " | ".join(cells)
            + f" | {chosen} |"
        )
    runtime.close()
    print()
    print(
        f"Recall@{n} / NDCG@{n} per kind (bold: the registry's default for the kind and its "
        "size), default parameters, temporal split"
    )
    print()
    print(
        "| kind | items | users per item | new items | users | "
        + " | ".join(models)
        + " | default |"
    )
    print("|---|---:|---:|---:|---:|" + "---:|" * len(models) + "---|")
    for line in table:
        print(line)


if __name__ == "__main__":
    main()
