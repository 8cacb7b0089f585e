"""The collaborative model trained on Apache Spark from the Parquet export, published as a
recs version the servers load like any other.

What it computes is what ``recs.data.build_dataset`` and ``recs.artifacts.train`` compute:

* per kind, the users x items matrix of confidence weights: a play counts for the item of
  the kind's level the way charts count it (``stats.levels.target_for``: a track's main
  artists, an episode's season and show, a match's competition and both teams...; ``mixed``
  takes every play as it is), ``1 + ln(plays)`` per user and item, plus ``LOVE_BOOST`` for a
  loved item of the kind, and nothing at all where the user hated it, is not interested or
  called it a bad recommendation. Rows and columns are the users and items with a play or a
  love, sorted by id, so the index maps are the local trainer's;
* ``pyspark.ml.recommendation.ALS`` with implicit preferences on those weights, transformed
  by the model's ``weighting`` (binary by default), with the local ALS's factors, iterations
  and confidence. Spark's confidence is ``1 + alpha_s * r``, implicit's (the local model,
  and every answer's fold-in) ``alpha * w``: rating ``r = w - 1/alpha`` with ``alpha_s =
  alpha`` makes them equal. Spark scales the regularisation of each user and item by its
  number of ratings (ALS-WR) where implicit adds a fixed ``lambda``; ``regParam`` is
  ``lambda`` divided by the mean ratings per user, so the average user gets the same
  penalty (``reg_param`` overrides it);
* the item factors are collected and saved as the local ``als`` model, with the index maps
  and the matrix, through ``recs.artifacts`` (``save_kind``, ``ArtifactStore.publish``): the
  servers' holder swaps it in and every answer (lists, similar items, neighbours, fold-in of
  new users) works from it unchanged. Similar items and neighbours are computed online from
  the item factors, so the factors are all there is to precompute.

Kinds the registry finds too small for a personal model (fewer than 50 learners) get
``popularity`` as locally; the hybrid and EASE, which the local trainer picks for smaller
catalogues, have no Spark implementation: the Spark runner trains ALS for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from tastegraph.batch.errors import BatchError
from tastegraph.catalog.kinds import CONSUMABLE, CreditRole, Kind
from tastegraph.ingest.models import Sentiment
from tastegraph.recs.artifacts import (
    DEFAULT_KINDS,
    MIN_ITEMS,
    MIN_USERS,
    ArtifactStore,
    KindManifest,
    Manifest,
    save_kind,
)
from tastegraph.recs.components import FloatArray, SideInfo
from tastegraph.recs.data import (
    KIND_CODES,
    LOVE_BOOST,
    MIXED,
    NEGATIVE,
    Dataset,
    item_roots,
    kinds_of,
    level_links,
    parse_kind,
)
from tastegraph.recs.models.als import ALS
from tastegraph.recs.models.base import BaseModel
from tastegraph.recs.registry import create_model, default_model_name
from tastegraph.storage.base import utcnow
from tastegraph.storage.database import Database

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from tastegraph.batch.jobs import JobContext

SPARK_MODELS = ("als", "popularity")
"""What the Spark runner trains: ALS, and popularity where the registry says a kind is too
small to learn from."""
INT32_MAX = 2**31 - 1


class SparkTrainedALS(ALS):
    """The local ALS model holding item factors learnt on Spark.

    ``fit`` does what every model's fit does (popularity, the catalogue size) and takes the
    factors instead of running implicit; saved, it is an ``als`` model like any other (its
    manifest names ``als``, so servers load the plain class)."""

    def __init__(self, learnt: FloatArray, **params: Any) -> None:
        super().__init__(**params)
        self._spark_factors = learnt

    def _fit(self, interactions: sparse.csr_matrix, side: SideInfo | None, seed: int) -> None:
        del side, seed  # learnt on Spark already, with the job's seed
        if self._spark_factors.shape[0] != interactions.shape[1]:
            raise BatchError(
                f"{self._spark_factors.shape[0]} item factors for {interactions.shape[1]} items"
            )
        self.item_factors = np.ascontiguousarray(self._spark_factors, dtype=np.float32)
        self._gram = None


@dataclass(frozen=True)
class SparkTrainOptions:
    kinds: Sequence[str] | None = None
    """Kinds to (re)train; the others are carried over from the current version."""
    model: str = "als"
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    since: datetime | None = None
    reg_param: float | None = None
    """Spark's ``regParam``; None derives it from the ALS regularisation (module doc)."""


def read_table(spark: SparkSession, export: Path, name: str) -> DataFrame:
    """One table of the export (``plays`` with its year/month partitions)."""
    path = export / name
    if not path.is_dir():
        raise BatchError(f"{export}: the export has no {name}/ table")
    return spark.read.parquet(str(path))


def _has(frame: DataFrame, column: str) -> bool:
    return column in frame.columns


# -- the matrix ---------------------------------------------------------------------------------


def level_targets(
    spark: SparkSession, export: Path, kind: str, played: DataFrame, column: str = "item_id"
) -> DataFrame:
    """``played`` (rows with a played item id in ``column``) joined to the item each row
    counts for at ``kind``'s level, as ``target_id`` (``stats.levels.target_for`` in Spark).
    A row that counts for two items (a duet, a match's teams) comes out twice."""
    from pyspark.sql import functions as sf

    if kind == MIXED:
        return played.withColumn("target_id", sf.col(column))
    level = Kind(kind)
    items = read_table(spark, export, "items").select("id", "kind", "parent_id")
    if level in CONSUMABLE:
        this = items.select(sf.col("id").alias("_t"), sf.col("kind").alias("_k"))
        return (
            played.join(this, sf.col(column) == sf.col("_t"))
            .where(sf.col("_k") == level.value)
            .withColumn("target_id", sf.col("_t"))
            .drop("_t", "_k")
        )
    if level in (Kind.ARTIST, Kind.TEAM):
        roles = [CreditRole.MAIN.value] if level is Kind.ARTIST else ["home", "away"]
        credits = (
            read_table(spark, export, "item_credits")
            .where(sf.col("role").isin(roles))
            .select(sf.col("item_id").alias("_c"), sf.col("credited_id").alias("target_id"))
        )
        return played.join(credits, sf.col(column) == sf.col("_c")).drop("_c")
    parent = items.select(
        sf.col("id").alias("_p"), sf.col("kind").alias("_pk"), sf.col("parent_id").alias("_pp")
    )
    with_parent = played.join(
        items.select(sf.col("id").alias("_i"), sf.col("parent_id").alias("_ip")),
        sf.col(column) == sf.col("_i"),
    ).join(parent, sf.col("_ip") == sf.col("_p"))
    if level in (Kind.ALBUM, Kind.SEASON, Kind.COMPETITION):
        return (
            with_parent.where(sf.col("_pk") == level.value)
            .withColumn("target_id", sf.col("_p"))
            .drop("_i", "_ip", "_p", "_pk", "_pp")
        )
    if level in (Kind.SHOW, Kind.OUTLET):
        middle = Kind.SEASON if level is Kind.SHOW else Kind.PROGRAMME
        grand = items.select(sf.col("id").alias("_g"), sf.col("kind").alias("_gk"))
        target = (
            sf.when(sf.col("_pk") == level.value, sf.col("_p"))
            .when((sf.col("_pk") == middle.value) & (sf.col("_gk") == level.value), sf.col("_g"))
            .otherwise(sf.lit(None))
        )
        return (
            with_parent.join(grand, sf.col("_pp") == sf.col("_g"), "left")
            .withColumn("target_id", target)
            .where(sf.col("target_id").isNotNull())
            .drop("_i", "_ip", "_p", "_pk", "_pp", "_g", "_gk")
        )
    raise BatchError(f"There are no charts of {level}s.")


@dataclass
class SparkCells:
    """A kind's matrix as Spark computed it, before it is collected."""

    cells: DataFrame
    """user_id, item_id, weight: the non-zero cells."""
    index_users: DataFrame
    index_items: DataFrame
    plays: DataFrame
    """One row: how many plays were counted."""
    counted: DataFrame
    """user_id, item_id, n: plays per user and item of the level (cached)."""

    def unpersist(self) -> None:
        self.cells.unpersist()
        self.counted.unpersist()


def kind_cells(
    spark: SparkSession,
    export: Path,
    kind: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> SparkCells:
    """The weights of ``kind``'s matrix, as ``recs.data.build_dataset`` builds them."""
    from pyspark.sql import functions as sf

    kind = parse_kind(kind)
    plays = read_table(spark, export, "plays").select("user_id", "item_id", "played_at")
    if since is not None:
        plays = plays.where(sf.col("played_at") >= sf.lit(since))
    if until is not None:
        plays = plays.where(sf.col("played_at") < sf.lit(until))
    counted = (
        level_targets(spark, export, kind, plays)
        .where(sf.col("target_id").isNotNull())
        .groupBy("user_id", "target_id")
        .agg(sf.count(sf.lit(1)).alias("n"))
        .select("user_id", sf.col("target_id").alias("item_id"), "n")
    ).cache()
    items = read_table(spark, export, "items")
    wanted = items.where(sf.col("kind").isin(sorted(k.value for k in kinds_of(kind))))
    if _has(items, "merged_into_id"):
        wanted = wanted.where(sf.col("merged_into_id").isNull())
    feedback = (
        read_table(spark, export, "feedback")
        .select("user_id", "item_id", "sentiment")
        .join(wanted.select(sf.col("id").alias("item_id")), "item_id", "left_semi")
    )
    loves = feedback.where(sf.col("sentiment") == Sentiment.LOVE.value).select("user_id", "item_id")
    negatives = feedback.where(sf.col("sentiment").isin([s.value for s in NEGATIVE])).select(
        "user_id", "item_id"
    )
    weighted = counted.select(
        "user_id",
        "item_id",
        (sf.lit(1.0) + sf.log(sf.greatest(sf.col("n").cast("double"), sf.lit(1.0)))).alias("w"),
    ).unionByName(loves.withColumn("w", sf.lit(float(LOVE_BOOST))))
    cells = (
        weighted.groupBy("user_id", "item_id")
        .agg(sf.sum("w").alias("weight"))
        .join(negatives, ["user_id", "item_id"], "left_anti")
        .where(sf.col("weight") != 0)
    )
    both = counted.select("user_id", "item_id").unionByName(loves)
    return SparkCells(
        cells=cells,
        index_users=both.select("user_id").distinct(),
        index_items=both.select("item_id").distinct(),
        plays=counted.agg(sf.coalesce(sf.sum("n"), sf.lit(0)).alias("plays")),
        counted=counted,
    )


def _local_table(export: Path, name: str, columns: list[str]) -> Any:
    """A small table of the export (items, users) read on the driver, without a Spark job."""
    import pyarrow.parquet as pq

    return pq.read_table(export / name, columns=columns)


def collect_dataset(export: Path, db: Database, kind: str, cells: SparkCells) -> Dataset:
    """The ``Dataset`` the local trainer would build: the matrix from Spark, the item kinds
    and users' countries from the export, the roots and (mixed) level links from the
    catalogue, which is small beside the play log. Two Spark jobs: the cells, and the index
    maps with the number of plays."""
    from pyspark.sql import functions as sf

    index = (
        cells.index_users.select(sf.lit(0).alias("t"), sf.col("user_id").alias("id"))
        .unionByName(cells.index_items.select(sf.lit(1).alias("t"), sf.col("item_id").alias("id")))
        .unionByName(cells.plays.select(sf.lit(2).alias("t"), sf.col("plays").alias("id")))
        .toArrow()
    )
    tags = np.asarray(index.column("t").to_numpy(), dtype=np.int64)
    values = np.asarray(index.column("id").to_numpy(zero_copy_only=False), dtype=np.int64)
    user_ids = np.sort(values[tags == 0])
    item_ids = np.sort(values[tags == 1])
    plays = int(values[tags == 2].sum())
    table = cells.cells.toArrow()
    users = np.asarray(table.column("user_id").to_numpy(), dtype=np.int64)
    items = np.asarray(table.column("item_id").to_numpy(), dtype=np.int64)
    weights = np.asarray(table.column("weight").to_numpy(), dtype=np.float64)
    matrix = sparse.csr_matrix(
        (
            weights.astype(np.float32),
            (np.searchsorted(user_ids, users), np.searchsorted(item_ids, items)),
        ),
        shape=(len(user_ids), len(item_ids)),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    matrix.sort_indices()

    kind_index = {k: n for n, k in enumerate(KIND_CODES)}
    wanted = {k.value for k in kinds_of(kind)}
    catalogue = _local_table(export, "items", ["id", "kind", "merged_into_id"])
    kinds_by_id = {
        int(i): str(k)
        for i, k, merged in zip(
            catalogue.column("id").to_pylist(),
            catalogue.column("kind").to_pylist(),
            catalogue.column("merged_into_id").to_pylist(),
            strict=True,
        )
        if merged is None and k in wanted
    }
    item_kinds = np.asarray(
        [kind_index.get(kinds_by_id.get(int(i), ""), 0) for i in item_ids], dtype=np.int8
    )
    accounts = _local_table(export, "users", ["id", "country"])
    countries = dict(
        zip(accounts.column("id").to_pylist(), accounts.column("country").to_pylist(), strict=True)
    )
    with db.unit_of_work() as session:
        roots = item_roots(session, [int(i) for i in item_ids])
        links = level_links(session, item_ids) if kind == MIXED else {}
    groups = np.asarray([roots.get(int(i), (int(i), ""))[0] for i in item_ids], dtype=np.int64)
    group_kinds = np.asarray(
        [kind_index.get(roots.get(int(i), (0, ""))[1], 0) for i in item_ids], dtype=np.int8
    )
    return Dataset(
        kind=kind,
        matrix=matrix,
        user_ids=user_ids,
        item_ids=item_ids,
        item_kinds=item_kinds,
        groups=groups,
        group_kinds=group_kinds,
        user_countries=tuple(countries.get(int(u)) or "" for u in user_ids),
        plays=plays,
        links=links,
    )


# -- the model ----------------------------------------------------------------------------------


def spark_reg_param(regularization: float, dataset: Dataset) -> float:
    """Spark's ``regParam`` for implicit's fixed ``regularization`` (module doc)."""
    per_user = dataset.matrix.nnz / max(dataset.n_users, 1)
    return regularization / max(per_user, 1.0)


def fit_als_on_spark(
    spark: SparkSession,
    cells: DataFrame,
    dataset: Dataset,
    params: dict[str, Any],
    *,
    seed: int,
    reg_param: float | None = None,
) -> tuple[FloatArray, float]:
    """Item factors (in the dataset's column order) of Spark's implicit ALS, and regParam."""
    from pyspark.ml.recommendation import ALS as SPARK_ALS
    from pyspark.sql import functions as sf

    template = ALS(**params)
    factors = int(template.params["factors"])
    alpha = float(template.params["alpha"])
    weighting = str(template.params["weighting"])
    if len(dataset.user_ids) and int(dataset.user_ids.max()) > INT32_MAX:
        raise BatchError("Spark's ALS takes 32-bit ids; a user id is larger")
    if len(dataset.item_ids) and int(dataset.item_ids.max()) > INT32_MAX:
        raise BatchError("Spark's ALS takes 32-bit ids; an item id is larger")
    value: Column
    if weighting == "binary":
        value = sf.lit(1.0)
    elif weighting == "log":
        value = sf.log1p(sf.greatest(sf.col("weight"), sf.lit(0.0)))
    else:
        value = sf.col("weight")
    ratings = cells.select(
        sf.col("user_id").cast("int").alias("user"),
        sf.col("item_id").cast("int").alias("item"),
        (value - sf.lit(1.0 / alpha)).cast("float").alias("rating"),
    )
    regularization = float(template.params["regularization"])
    reg = reg_param if reg_param is not None else spark_reg_param(regularization, dataset)
    blocks = max(1, min(4, spark.sparkContext.defaultParallelism))
    estimator = SPARK_ALS(
        rank=factors,
        maxIter=int(template.params["iterations"]),
        regParam=reg,
        alpha=alpha,
        implicitPrefs=True,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        seed=seed,
        numUserBlocks=blocks,
        numItemBlocks=blocks,
        checkpointInterval=5,
    )
    if spark.sparkContext.getCheckpointDir() is None:
        raise BatchError("Spark has no checkpoint directory (see batch/spark.py)")
    model = estimator.fit(ratings)
    table = model.itemFactors.toArrow()
    ids = np.asarray(table.column("id").to_numpy(), dtype=np.int64)
    features = table.column("features").combine_chunks()
    flat = np.asarray(features.flatten().to_numpy(), dtype=np.float32)
    vectors = flat.reshape(len(ids), factors) if len(ids) else np.zeros((0, factors))
    out = np.zeros((dataset.n_items, factors), dtype=np.float32)
    columns = np.searchsorted(dataset.item_ids, ids)
    inside = np.minimum(columns, max(dataset.n_items - 1, 0))
    found = (columns < dataset.n_items) & (dataset.item_ids[inside] == ids)
    out[columns[found]] = vectors[found]
    return out, reg


# -- the job ------------------------------------------------------------------------------------


def train_on_spark(
    spark: SparkSession,
    export: Path,
    db: Database,
    store: ArtifactStore,
    options: SparkTrainOptions | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    report: Callable[[str], None] | None = None,
) -> Manifest:
    """Train the kinds asked for on Spark and publish a new version (``recs.artifacts``)."""
    options = options or SparkTrainOptions()
    if options.model not in SPARK_MODELS:
        raise BatchError(
            f"The Spark runner trains {' or '.join(SPARK_MODELS)}, not {options.model!r}"
        )
    kinds = [parse_kind(k) for k in (options.kinds or DEFAULT_KINDS)]
    say = report or (lambda _message: None)
    trained_at = clock()

    def write(directory: Path) -> dict[str, KindManifest]:
        out: dict[str, KindManifest] = {}
        for kind in dict.fromkeys(kinds):
            started = time.perf_counter()
            cells = kind_cells(spark, export, kind, since=options.since)
            cells.cells.cache()
            dataset = collect_dataset(export, db, kind, cells)
            built = time.perf_counter() - started
            if dataset.n_users < MIN_USERS or dataset.n_items < MIN_ITEMS:
                say(f"{kind}: skipped ({dataset.n_users} users, {dataset.n_items} items)")
                cells.unpersist()
                continue
            name = options.model
            if (
                default_model_name(dataset.n_users, dataset.n_items, kind, int(dataset.matrix.nnz))
                == "popularity"
            ):
                name = "popularity"
            fit_started = time.perf_counter()
            extra: dict[str, float | int | str | bool] = {"runner": "spark"}
            model: BaseModel
            if name == "als":
                factors, reg = fit_als_on_spark(
                    spark,
                    cells.cells,
                    dataset,
                    options.params,
                    seed=options.seed,
                    reg_param=options.reg_param,
                )
                model = SparkTrainedALS(factors, **options.params)
                extra["spark_reg_param"] = round(reg, 6)
            else:
                model = create_model(name)
            fit = model.fit(dataset.matrix, SideInfo(), seed=options.seed)
            seconds = time.perf_counter() - fit_started
            cells.unpersist()
            save_kind(directory / kind, dataset, model)
            out[kind] = KindManifest(
                kind=kind,
                model=name,
                users=dataset.n_users,
                items=dataset.n_items,
                interactions=int(dataset.matrix.nnz),
                plays=dataset.plays,
                fit_seconds=round(seconds, 3),
                params={**fit.params, **extra},
            )
            say(
                f"{kind}: {name} on Spark, {dataset.n_users:,} users x {dataset.n_items:,} items "
                f"({dataset.matrix.nnz:,} interactions): matrix {built:.1f} s, "
                f"fit {seconds:.1f} s"
            )
        return out

    return store.publish(write, trained_at=trained_at, inherit=options.kinds is not None)


def _options(context: JobContext) -> tuple[list[str] | None, str | None, dict[str, Any]]:
    """``kinds``, ``model`` and model parameters from the job's ``--option key=value``."""
    raw = dict(context.options)
    kinds = [k for k in raw.pop("kinds", "").split(",") if k] or None
    model = raw.pop("model", None)
    for key in ("days", "seed", "reg_param"):
        raw.pop(key, None)
    return kinds, model, raw


def _since(context: JobContext) -> datetime | None:
    days = context.options.get("days")
    return utcnow() - timedelta(days=float(days)) if days else None


def run_spark(context: JobContext) -> str:
    """``tastegraph batch run recs --runner spark``."""
    kinds, model, params = _options(context)
    reg = context.options.get("reg_param")
    lines: list[str] = []
    started = time.perf_counter()
    manifest = train_on_spark(
        context.spark(),
        context.export(),
        context.runtime.db,
        context.runtime.recs.store,
        SparkTrainOptions(
            kinds=kinds,
            model=model or "als",
            params=params,
            seed=int(context.options.get("seed", "0")),
            since=_since(context),
            reg_param=float(reg) if reg else None,
        ),
        report=lines.append,
    )
    return _summary(manifest, lines, time.perf_counter() - started)


def run_local(context: JobContext) -> str:
    """``tastegraph batch run recs --runner local``: the local trainer (``recs train``)."""
    from tastegraph.recs.artifacts import TrainOptions, train

    kinds, model, params = _options(context)
    lines: list[str] = []
    started = time.perf_counter()
    manifest = train(
        context.runtime.db,
        context.runtime.recs.store,
        TrainOptions(
            kinds=kinds,
            model=model,
            params=params,
            seed=int(context.options.get("seed", "0")),
            since=_since(context),
        ),
        report=lines.append,
    )
    return _summary(manifest, lines, time.perf_counter() - started)


def _summary(manifest: Manifest, lines: list[str], seconds: float) -> str:
    trained = ", ".join(f"{k} ({v.model})" for k, v in sorted(manifest.kinds.items()))
    head = f"published recs version {manifest.version} in {seconds:.1f} s: {trained}"
    return "\n".join([head, *lines])


__all__ = [
    "SparkTrainOptions",
    "SparkTrainedALS",
    "collect_dataset",
    "fit_als_on_spark",
    "kind_cells",
    "run_local",
    "run_spark",
    "train_on_spark",
]
