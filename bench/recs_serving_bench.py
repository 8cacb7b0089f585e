"""Recommendation serving at 100,000 items: online latency and batch throughput.

    .venv/bin/python bench/recs_serving_bench.py                 # everything (a few minutes)
    .venv/bin/python bench/recs_serving_bench.py --paths core,batch --items 50000

Three paths, each on the same synthetic catalogue (``--items`` tracks by ``--items / 10``
artists, Zipf popularity inside taste clusters):

* ``core``: the model alone, as ``RecsService`` calls it for one request: a user's row (their
  ~``--per-user`` items) scored through ``Recommender.score`` (ALS folds the row in), played
  items masked, the top 50 taken. Also the bare brute-force dot product of one user vector with
  every item vector, for reference.
* ``service``: ``RecsService.recommend`` in-process against a SQLite database holding the
  catalogue, ``--db-users`` users and their plays, with the artifact written by
  ``tastegraph.recs.artifacts.train``: the user's plays and feedback read from the database,
  fold-in, masks, explanations, items loaded. ``http`` adds the API (FastAPI's TestClient, in
  process: routing, auth, JSON). ``--friends N`` adds about N accepted friendships per user:
  with ``--model hybrid`` each request then also reads the user's friends (who they are, whom
  they may see) and adds the friends' term from their trained rows. ``--restricted SHARE``
  grants that share of the artists (their tracks inherit) to one random territory each (a
  country, a group such as EU or LATAM, or WORLD), so that many tracks are unavailable to the
  users (all in FR), and measures the same requests with and without the territorial-rights
  filter, interleaved, plus the time spent in the filter itself inside each request.
* ``batch``: top 50 for ``--users`` users in batches of ``--batch`` rows: ``score`` of the
  batch (one matrix product), played items masked, ``top_n``.

p50/p99 are over ``--queries`` requests for random users, after 50 warm-up requests; with
``--clock cpu`` they are the request thread's CPU time, which a machine loaded by other work
inflates much less than wall time (compare code versions that way; ``core`` and ``service``
only: the test client serves ``http`` requests in another thread).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

PATHS = ("core", "service", "http", "batch")


def synthetic(
    n_users: int, n_items: int, per_user: int, seed: int = 0
) -> tuple[sparse.csr_matrix, np.ndarray[Any, Any]]:
    """users x items play counts: 50 taste clusters, Zipf popularity inside each."""
    rng = np.random.default_rng(seed)
    clusters = 50
    item_cluster = rng.integers(0, clusters, n_items)
    members = [np.flatnonzero(item_cluster == c) for c in range(clusters)]
    for m in members:
        rng.shuffle(m)
    user_cluster = rng.integers(0, clusters, n_users)
    rows, cols = [], []
    for u in range(n_users):
        own = members[user_cluster[u]]
        k = max(3, int(rng.poisson(per_user)))
        n_own = int(k * 0.8)
        zipf = np.minimum(rng.zipf(1.3, n_own) - 1, len(own) - 1)
        picks = np.concatenate([own[zipf], rng.integers(0, n_items, k - n_own)])
        picks = np.unique(picks)
        rows.append(np.full(len(picks), u))
        cols.append(picks)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    counts = rng.geometric(0.4, len(r)).astype(np.float32)
    matrix = sparse.csr_matrix((counts, (r, c)), shape=(n_users, n_items), dtype=np.float32)
    return matrix, item_cluster


def weights(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    out = counts.copy()
    out.data = (1.0 + np.log(out.data)).astype(np.float32)
    return out


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return statistics.median(ordered), rank(0.99), ordered[-1]


def emit(rows: list[tuple[str, ...]], row: tuple[str, ...]) -> None:
    rows.append(row)
    print("  " + " | ".join(row), flush=True)


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}
CLOCK: dict[str, Callable[[], float]] = {"now": time.perf_counter}
"""The clock ``timed`` reads (``--clock``)."""


def timed(calls: list[Callable[[], Any]], warmup: int = 50) -> list[float]:
    for call in calls[:warmup]:
        call()
    out = []
    for call in calls[warmup:]:
        started = CLOCK["now"]()
        call()
        out.append((CLOCK["now"]() - started) * 1000)
    return out


def fit(model_name: str, matrix: sparse.csr_matrix, params: dict[str, Any]) -> tuple[Any, float]:
    from tastegraph.recs.registry import create_model

    model = create_model(model_name, **params)
    started = time.perf_counter()
    model.fit(matrix, None, seed=0)
    return model, time.perf_counter() - started


def bench_core(args: argparse.Namespace, rows: list[tuple[str, ...]]) -> None:
    from tastegraph.recs.components import top_n

    counts, _ = synthetic(args.users, args.items, args.per_user)
    matrix = weights(counts)
    model, seconds = fit(args.model, matrix, args.params)
    print(
        f"core: {args.model} fitted on {matrix.shape[0]:,} x {matrix.shape[1]:,} "
        f"({matrix.nnz:,} interactions) in {seconds:.1f} s",
        flush=True,
    )
    rng = np.random.default_rng(1)
    users = rng.integers(0, args.users, args.queries + 50)

    def request(u: int) -> Callable[[], Any]:
        def call() -> Any:
            row = matrix[u]
            scores = model.score(row)
            return top_n(scores, 50, exclude=row)

        return call

    def score_only(u: int) -> Callable[[], Any]:
        def call() -> Any:
            return model.score(matrix[u])

        return call

    from threadpoolctl import threadpool_limits

    limits = threadpool_limits(limits=args.blas_threads, user_api="blas")  # as a server
    p50, p99, worst = percentiles(timed([score_only(int(u)) for u in users]))
    emit(
        rows,
        (
            "core",
            f"model.score of one user's row (fold-in), {args.items:,} items",
            f"{p50:.2f}",
            f"{p99:.2f}",
            f"{worst:.2f}",
        ),
    )
    p50, p99, worst = percentiles(timed([request(int(u)) for u in users]))
    emit(
        rows,
        (
            "core",
            f"score + mask + top 50, {args.items:,} items",
            f"{p50:.2f}",
            f"{p99:.2f}",
            f"{worst:.2f}",
        ),
    )
    vectors = model.item_vectors()
    if vectors is not None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        query = vectors[:1].T.copy()

        def dot() -> Any:
            scores = vectors @ query
            return np.argpartition(-scores.ravel(), 50)[:50]

        p50, p99, worst = percentiles(timed([dot] * (args.queries + 50)))
        emit(
            rows,
            (
                "core",
                f"bare dot product {vectors.shape[0]:,} x {vectors.shape[1]} + top 50",
                f"{p50:.2f}",
                f"{p99:.2f}",
                f"{worst:.2f}",
            ),
        )

    limits.restore_original_limits()  # a batch job uses every core
    if "batch" in args.paths:
        from tastegraph.recs.serving import batch_top_n

        started = time.perf_counter()
        scoring = 0.0
        for start in range(0, args.users, args.batch):
            block = matrix[start : start + args.batch]
            began = time.perf_counter()
            scores = model.score(block)
            scoring += time.perf_counter() - began
            batch_top_n(scores, 50, exclude=block)
        total = time.perf_counter() - started
        print(f"batch: {total:.1f} s, of which score {scoring:.1f} s", flush=True)
        emit(
            rows,
            (
                "batch",
                f"top 50 for {args.users:,} users, batches of {args.batch:,}",
                f"{total:.1f} s total",
                f"{args.users / total:,.0f} users/s",
                "",
            ),
        )


def _populate(url: str, counts: sparse.csr_matrix, friends: int = 0) -> None:
    """The catalogue, users and plays, bulk-inserted (the ingest path is measured elsewhere);
    with ``friends``, that many accepted friendships per user with random others."""
    import sqlalchemy as sa

    from tastegraph.accounts.models import User
    from tastegraph.catalog.kinds import Domain, Kind
    from tastegraph.catalog.models import Item
    from tastegraph.ingest.models import Play
    from tastegraph.social.models import Friendship, FriendshipStatus

    engine = sa.create_engine(url)
    n_users, n_items = counts.shape
    n_artists = max(1, n_items // 10)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        artists = [
            {
                "id": a + 1,
                "kind": Kind.ARTIST,
                "domain": Domain.MUSIC,
                "title": f"Artist {a}",
                "match_key": f"artist {a}",
                "search_key": f"artist {a}",
                "created_at": now,
            }
            for a in range(n_artists)
        ]
        conn.execute(sa.insert(Item), artists)
        tracks = [
            {
                "id": n_artists + 1 + i,
                "kind": Kind.TRACK,
                "domain": Domain.MUSIC,
                "title": f"Track {i}",
                "match_key": f"track {i}",
                "search_key": f"track {i}",
                "parent_id": 1 + i % n_artists,
                "created_at": now,
            }
            for i in range(n_items)
        ]
        for start in range(0, len(tracks), 20_000):
            conn.execute(sa.insert(Item), tracks[start : start + 20_000])
        conn.execute(
            sa.insert(User),
            [
                {
                    "id": u + 1,
                    "name": f"user{u}",
                    "name_key": f"user{u}",
                    "country": "FR",
                    "created_at": now,
                }
                for u in range(n_users)
            ],
        )
        coo = counts.tocoo()
        plays = []
        for u, i, n in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
            for k in range(int(n)):
                plays.append(
                    {
                        "user_id": u + 1,
                        "item_id": n_artists + 1 + i,
                        "played_at": now - timedelta(days=1 + (i + k * 7) % 300, seconds=u),
                        "created_at": now,
                    }
                )
            if len(plays) >= 50_000:
                conn.execute(sa.insert(Play), plays)
                plays = []
        if plays:
            conn.execute(sa.insert(Play), plays)
        if friends:
            rng = np.random.default_rng(4)
            pairs = {
                (min(a, b) + 1, max(a, b) + 1)
                for a in range(n_users)
                for b in rng.integers(0, n_users, friends).tolist()
                if a != b
            }
            rows = [
                {
                    "user_low_id": low,
                    "user_high_id": high,
                    "requested_by_id": low,
                    "status": FriendshipStatus.ACCEPTED,
                    "created_at": now,
                    "accepted_at": now,
                }
                for low, high in sorted(pairs)
            ]
            for start in range(0, len(rows), 20_000):
                conn.execute(sa.insert(Friendship), rows[start : start + 20_000])
    engine.dispose()


RESTRICTED_TERRITORIES = ("DE", "US", "GB", "BR", "JP", "EU", "DACH", "LATAM", "NORDICS", "WORLD")
"""Where a restricted artist is granted (one each): FR users see those in EU and WORLD."""


def _restrict(url: str, n_artists: int, share: float) -> int:
    """Grant ``share`` of the artists to one territory each (before any index is built);
    the number of grants."""
    import random

    import sqlalchemy as sa

    from tastegraph.catalog.models import ItemRight, Offer

    rng = random.Random(5)
    chosen = rng.sample(range(1, n_artists + 1), int(n_artists * share))
    now = datetime.now(UTC)
    grants = [
        {
            "item_id": artist,
            "territory": rng.choice(RESTRICTED_TERRITORIES),
            "offer": Offer.SUBSCRIPTION,
            "audio_languages": [],
            "subtitle_languages": [],
            "created_at": now,
        }
        for artist in chosen
    ]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if grants:
            conn.execute(sa.insert(ItemRight), grants)
    engine.dispose()
    return len(grants)


def bench_service(args: argparse.Namespace, rows: list[tuple[str, ...]]) -> None:
    from sqlalchemy import func, select

    from tastegraph import migrations
    from tastegraph.accounts.models import User
    from tastegraph.config import Mode, Settings
    from tastegraph.ingest.models import Play
    from tastegraph.recs.artifacts import TrainOptions, train
    from tastegraph.runtime import Runtime

    directory = Path(tempfile.mkdtemp(prefix="tastegraph-recs-bench-"))
    settings = Settings(
        mode=Mode.DEV,
        data_dir=directory,
        recs_reload_seconds=60,
        stats_fold_seconds=0,  # no background writers: measure recommendations alone
        audience_refresh_seconds=0,
    )
    runtime = Runtime.create(settings)
    migrations.upgrade(runtime.db.engine)
    counts, _ = synthetic(args.db_users, args.items, args.per_user, seed=2)
    started = time.perf_counter()
    _populate(settings.effective_database_url, counts, args.friends)
    with runtime.db.unit_of_work() as session:
        n_plays = session.scalar(select(func.count()).select_from(Play))
    print(
        f"service: {args.db_users:,} users, {args.items:,} tracks, {n_plays:,} plays, "
        f"~{args.friends} friends per user inserted in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    started = time.perf_counter()
    manifest = train(
        runtime.db,
        runtime.recs.store,
        TrainOptions(kinds=["track"], model=args.model, params=args.params),
    )
    print(
        f"service: trained {manifest.kinds['track'].model} in "
        f"{time.perf_counter() - started:.0f} s (fit {manifest.kinds['track'].fit_seconds} s)",
        flush=True,
    )
    rng = np.random.default_rng(3)
    users = [int(u) + 1 for u in rng.integers(0, args.db_users, args.queries + 50)]
    if args.restricted:
        bench_availability(args, runtime, settings.effective_database_url, users, rows)

    def request(user_id: int) -> Callable[[], Any]:
        def call() -> Any:
            with runtime.db.unit_of_work() as session:
                svc = runtime.services(session)
                user = session.get(User, user_id)
                assert user is not None
                answer = svc.recs.recommend(user, "track", 20)
                assert answer.source == "model", answer.source
                return answer

        return call

    if args.restricted:
        runtime.close()
        return
    p50, p99, worst = percentiles(timed([request(u) for u in users]))
    emit(
        rows,
        (
            "service",
            f"RecsService.recommend, 20 tracks, SQLite, {args.items:,} items, {args.model}"
            + (f", {args.friends} friends per user" if args.friends else ""),
            f"{p50:.2f}",
            f"{p99:.2f}",
            f"{worst:.2f}",
        ),
    )

    if "http" in args.paths:
        bench_http(runtime, settings, users, rows)
    runtime.close()


def bench_availability(
    args: argparse.Namespace,
    runtime: Any,
    url: str,
    users: list[int],
    rows: list[tuple[str, ...]],
) -> None:
    """The same recommendation requests with and without the territorial-rights filter,
    interleaved (so the machine's load falls on both alike), and the filter's own time."""
    from tastegraph.accounts.models import User

    n_artists = max(1, args.items // 10)
    grants = _restrict(url, n_artists, args.restricted)
    availability = runtime.availability
    availability.rebuild(force=True)
    tracks = list(range(n_artists + 1, n_artists + 1 + args.items))
    unavailable = 1 - sum(availability.mask(tracks, "FR")) / len(tracks)
    print(
        f"service: {grants:,} grants on {args.restricted:.0%} of the artists: "
        f"{unavailable:.1%} of the tracks unavailable in FR",
        flush=True,
    )
    real_mask = availability.mask
    spent = [0.0]

    def counted_mask(ids: Any, country: Any, at: Any = None) -> Any:
        started = CLOCK["now"]()
        try:
            return real_mask(ids, country, at)
        finally:
            spent[0] += CLOCK["now"]() - started

    availability.mask = counted_mask
    in_filter: list[float] = []
    dropped = [0, 0]

    def request(user_id: int, filtered: bool) -> Callable[[], Any]:
        def call() -> Any:
            with runtime.db.unit_of_work() as session:
                svc = runtime.services(session)
                if not filtered:
                    svc.recs.availability = None
                user = session.get(User, user_id)
                assert user is not None
                spent[0] = 0.0
                answer = svc.recs.recommend(user, "track", 20)
                assert answer.source == "model", answer.source
                if filtered:
                    in_filter.append(spent[0] * 1000)
                else:  # what the filter would have removed from the unfiltered list
                    ids = [e.item.id for e in answer.entries]
                    dropped[0] += len(ids) - sum(real_mask(ids, "FR"))
                    dropped[1] += len(ids)
                return answer

        return call

    calls = [request(u, filtered) for u in users for filtered in (False, True)]
    times = timed(calls, warmup=100)
    without, with_filter = times[0::2], times[1::2]
    filter_times = in_filter[50:]  # after the warm-up
    label = f"RecsService.recommend, 20 tracks, SQLite, {args.items:,} items, {args.model}"
    for what, samples in (
        (f"{label}, no availability filter", without),
        (f"{label}, availability filter ({unavailable:.0%} of tracks unavailable)", with_filter),
        ("of which the availability filter (Availability.mask calls)", filter_times),
    ):
        p50, p99, worst = percentiles(samples)
        emit(rows, ("service", what, f"{p50:.3f}", f"{p99:.3f}", f"{worst:.2f}"))
    print(
        f"service: the unfiltered lists held {dropped[0]:,} unavailable tracks of "
        f"{dropped[1]:,} ({dropped[0] / max(dropped[1], 1):.1%})",
        flush=True,
    )
    availability.mask = real_mask


def bench_http(
    runtime: Any,
    settings: Any,
    users: list[int],
    rows: list[tuple[str, ...]],
) -> None:
    from fastapi.testclient import TestClient

    from tastegraph.accounts.models import User
    from tastegraph.web.app import create_app

    tokens = {}
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        for user_id in sorted(set(users[:1000])):
            user = session.get(User, user_id)
            assert user is not None
            tokens[user_id] = (user.name, svc.accounts.create_token(user, "bench")[1])
    app = create_app(settings, runtime=runtime)
    with TestClient(app) as client:

        def get(user_id: int) -> Callable[[], Any]:
            name, token = tokens[user_id]

            def call() -> Any:
                response = client.get(
                    f"/api/v1/users/{name}/recommendations",
                    params={"kind": "track", "limit": 20},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 200, response.text
                return response

            return call

        picks = [u for u in users if u in tokens]
        p50, p99, worst = percentiles(timed([get(u) for u in picks]))
        emit(
            rows,
            (
                "http",
                "GET /recommendations (TestClient, in process)",
                f"{p50:.2f}",
                f"{p99:.2f}",
                f"{worst:.2f}",
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100_000, help="core and batch")
    parser.add_argument("--db-users", type=int, default=20_000, help="service and http")
    parser.add_argument("--per-user", type=int, default=30)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--model", default="als")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="per-request times: wall, or the calling thread's CPU time (core and service)",
    )
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a model parameter (repeatable), e.g. --param friend_weight=0",
    )
    parser.add_argument(
        "--friends",
        type=int,
        default=0,
        help="service and http: accepted friendships per user (the hybrid's friends' term)",
    )
    parser.add_argument(
        "--restricted",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="service: grant this share of the artists to one territory each and compare "
        "recommend with and without the availability filter (e.g. 0.3)",
    )
    parser.add_argument(
        "--blas-threads", type=int, default=1, help="online requests (TASTEGRAPH_RECS_BLAS_THREADS)"
    )
    args = parser.parse_args()
    args.paths = set(args.paths.split(","))
    CLOCK["now"] = CLOCKS[args.clock]
    args.params = {"factors": args.factors} if args.model == "als" else {}
    args.params |= dict(p.split("=", 1) for p in args.param)
    print(
        f"threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
        f"cpus={os.cpu_count()}",
        flush=True,
    )
    rows: list[tuple[str, ...]] = []
    if args.paths & {"core", "batch"}:
        bench_core(args, rows)
    if args.paths & {"service", "http"}:
        bench_service(args, rows)
    print()
    print("| path | what | p50 ms | p99 ms | max ms |")
    print("|---|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
