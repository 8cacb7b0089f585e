"""The chart rollups counted by Spark from a Parquet export, and loaded through the stats
area (``Rollups.load_rows``): the same rows ``tastegraph stats rebuild`` writes.

What a play counts for mirrors ``stats/rollups.py`` (``_counted_plays``): the played item at
its own level (consumable kinds), its parent album, season or competition, its show or outlet
(the parent, or the grandparent above a season or programme), and one row per main artist or
home and away team. Everything else follows ``stats/check.py``'s recount: per scope (the
site, ``''``, and each listener's country), level, grain, bucket and item, the plays, the
distinct listeners, the listeners whose last play of the item is in the bucket, the first and
last play (not for days); per bucket the plays, the items whose last play is in it and the
threshold ``tau`` = plays // ``HEAD_SHARE``, a row being ``head`` above it; per listener and
item the first and last play. Buckets are numbered as ``stats/models.Grain`` says.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tastegraph.batch.jobs import JobContext
from tastegraph.catalog.kinds import CONSUMABLE, CreditRole, Kind
from tastegraph.ingest.models import Play
from tastegraph.stats.models import SITE
from tastegraph.stats.rollups import HEAD_SHARE, US_PER_DAY, Rollups

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

LOAD_BATCH = 100_000
"""Rows per batch (one ``COPY`` on PostgreSQL) when loading the results."""
RESULTS = "_rollups"
"""Where in the export the job's result tables are written (and removed once loaded)."""
_CONTAINERS = (Kind.ALBUM, Kind.SEASON, Kind.COMPETITION)
_TOPS = (Kind.SHOW, Kind.OUTLET)
_MIDDLE = {Kind.SEASON: Kind.SHOW, Kind.PROGRAMME: Kind.OUTLET}
_COUNT_KEYS = ["level", "grain", "bucket", "item_id"]


def run_local(context: JobContext) -> str:
    """The local runner: ``tastegraph stats rebuild`` (from the database, not the export)."""
    with context.runtime.db.unit_of_work(write=True) as session:
        site, geo = Rollups(session).rebuild()
    return f"rollups rebuilt locally: {site} site-wide rows, {geo} country rows"


def run_spark(context: JobContext) -> str:
    export = context.export()
    manifest = json.loads((export / "_manifest.json").read_text(encoding="utf-8"))
    with context.runtime.db.unit_of_work() as session:
        _same_plays(session, manifest)  # before any work; again in the loading transaction
    cached: list[DataFrame] = []
    frames = rollup_frames(context.spark(), str(export), cached)
    scratch = export / RESULTS
    try:
        # The cluster writes the rows as Parquet beside the export; the driver streams them
        # into the database from there (never a whole table in its memory).
        for name, frame in frames.items():
            frame.write.mode("overwrite").parquet(str(scratch / name))
        for frame in cached:
            frame.unpersist()
        cached.clear()
        with context.runtime.db.unit_of_work(write=True) as session:
            _same_plays(session, manifest)
            tables = {name: _arrow_batches(scratch / name) for name in frames}
            site, geo = Rollups(session).load_rows(tables, int(manifest["plays_through"]))
    finally:
        for frame in cached:
            frame.unpersist()
        shutil.rmtree(scratch, ignore_errors=True)
    return (
        f"rollups counted by Spark and loaded: {site} site-wide rows, {geo} country rows "
        f"(plays up to id {manifest['plays_through']})"
    )


def _same_plays(session: Session, manifest: dict[str, Any]) -> None:
    """The rollups will claim to count every play up to the export's last: refuse when the
    log no longer holds as many (plays deleted since)."""
    from tastegraph.batch.errors import BatchError

    through, exported = int(manifest["plays_through"]), int(manifest["tables"]["plays"])
    held = session.scalar(select(func.count()).select_from(Play).where(Play.id <= through))
    if held != exported:
        raise BatchError(
            f"the play log changed since the export ({held} plays up to id {through}, the "
            f"export has {exported}): export again"
        )


def _arrow_batches(folder: Path) -> Iterator[Any]:
    """The Parquet files Spark wrote, as Arrow record batches, in file order."""
    import pyarrow.dataset as ds

    yield from ds.dataset(str(folder), format="parquet").to_batches(batch_size=LOAD_BATCH)


PLAYS_SCHEMA = "user_id BIGINT, item_id BIGINT, played_at TIMESTAMP, year INT, month INT"
ITEMS_SCHEMA = "id BIGINT, kind STRING, parent_id BIGINT"
CREDITS_SCHEMA = "item_id BIGINT, credited_id BIGINT, role STRING"
USERS_SCHEMA = "id BIGINT, country STRING"
"""The columns the job reads (given, so Spark reads no file footers to infer them)."""


def chart_targets(spark: SparkSession, export: str) -> DataFrame:
    """(item_id, level, target_id): what a play of each item counts for, once per credit."""
    from pyspark.sql import functions as sf

    items = spark.read.schema(ITEMS_SCHEMA).parquet(f"{export}/items")
    credits = spark.read.schema(CREDITS_SCHEMA).parquet(f"{export}/item_credits")
    played = items.alias("played")
    parent = items.alias("parent")
    grand = items.alias("grand")
    tree = played.join(parent, sf.col("played.parent_id") == sf.col("parent.id"), "left").join(
        grand, sf.col("parent.parent_id") == sf.col("grand.id"), "left"
    )
    kind = {name: sf.col(f"{name}.kind") for name in ("played", "parent", "grand")}
    ident = {name: sf.col(f"{name}.id") for name in ("played", "parent", "grand")}
    on_top = kind["parent"].isin(*_values(_TOPS))
    via_middle = sf.lit(False)
    for middle, above in _MIDDLE.items():
        via_middle = via_middle | (
            (kind["parent"] == middle.value) & (kind["grand"] == above.value)
        )

    def target(when: Column, level: Column, target: Column) -> Column:
        return sf.when(when, sf.struct(level.alias("level"), target.alias("target_id")))

    # Each played item unfolds into its (up to) three targets, as ``_counted_plays`` does.
    unfolded = tree.select(
        ident["played"].alias("item_id"),
        sf.explode(
            sf.array(
                target(kind["played"].isin(*_values(CONSUMABLE)), kind["played"], ident["played"]),
                target(kind["parent"].isin(*_values(_CONTAINERS)), kind["parent"], ident["parent"]),
                target(
                    on_top | via_middle,
                    sf.when(on_top, kind["parent"]).otherwise(kind["grand"]),
                    sf.when(on_top, ident["parent"]).otherwise(ident["grand"]),
                ),
            )
        ).alias("t"),
    ).where(sf.col("t").isNotNull())
    own = unfolded.select("item_id", "t.level", "t.target_id")
    roles = (CreditRole.MAIN, CreditRole.HOME, CreditRole.AWAY)
    credited = credits.where(sf.col("role").isin(*_values(roles))).select(
        sf.col("item_id"),
        sf.when(sf.col("role") == CreditRole.MAIN.value, sf.lit(Kind.ARTIST.value))
        .otherwise(sf.lit(Kind.TEAM.value))
        .alias("level"),
        sf.col("credited_id").alias("target_id"),
    )
    return own.unionByName(credited)


def pair_days(spark: SparkSession, export: str) -> DataFrame:
    """Per listener country, level, chart item, listener and UTC day: plays, first, last;
    hash-partitioned by (level, item, listener), which every later step up to the rows
    keeps (so they need no further shuffle)."""
    from pyspark.sql import functions as sf

    plays = spark.read.schema(PLAYS_SCHEMA).parquet(f"{export}/plays")
    plays = plays.select("user_id", "item_id", sf.unix_micros("played_at").alias("us"))
    users = spark.read.schema(USERS_SCHEMA).parquet(f"{export}/users")
    users = users.select(sf.col("id").alias("user_id"), sf.col("country"))
    counted = (
        plays.join(sf.broadcast(chart_targets(spark, export)), "item_id")
        .join(sf.broadcast(users), "user_id", "left")
        .withColumnRenamed("item_id", "played_id")
        .withColumnRenamed("target_id", "item_id")
        .repartition("level", "item_id", "user_id")
    )
    return counted.groupBy(
        "level",
        "item_id",
        "user_id",
        "country",
        # Whole days since 1970, rounded down, in integers (no floating point).
        sf.expr(f"(us - pmod(us, {US_PER_DAY})) div {US_PER_DAY}").cast("int").alias("day"),
    ).agg(
        sf.count(sf.lit(1)).alias("plays"),
        sf.min("us").alias("first_us"),
        sf.max("us").alias("last_us"),
    )


def _grain_buckets(day: Column) -> Column:
    """An array of (grain, bucket) for a day number: every grain's bucket holding it."""
    from pyspark.sql import functions as sf

    date = sf.date_add(sf.lit("1970-01-01").cast("date"), day)
    month = (sf.year(date) - 1970) * 12 + sf.month(date) - 1
    buckets = [
        ("day", day),
        ("month", month),
        ("quarter", sf.floor(month / 3)),
        ("half", sf.floor(month / 6)),
        ("year", sf.year(date)),
        ("all", sf.lit(0)),
    ]
    return sf.array(
        *(
            sf.struct(sf.lit(grain).alias("grain"), bucket.cast("int").alias("bucket"))
            for grain, bucket in buckets
        )
    )


def rollup_frames(
    spark: SparkSession, export: str, cached: list[DataFrame]
) -> dict[str, DataFrame]:
    """The four rollup tables as DataFrames, named and typed as ``Rollups.load_rows`` takes
    them; the frames cached on the way are added to ``cached`` (unpersist them after).

    Three shuffles: pair-days by (level, item, listener), which also gives each pair's
    first and last play and its pair-buckets; rows by (scope, level, item), which also gives
    each item's last play in the scope; bucket totals by (scope, level, grain, bucket)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    pair = Window.partitionBy("level", "item_id", "user_id")
    pd = (
        pair_days(spark, export)
        .withColumn("pair_first", sf.min("first_us").over(pair))
        .withColumn("pair_last", sf.max("last_us").over(pair))
        .persist()
    )
    cached.append(pd)
    pairs = pd.groupBy("level", "item_id", "user_id").agg(
        sf.first("pair_first").alias("first_us"), sf.first("pair_last").alias("last_us")
    )
    # Every pair-day once per grain, and once per scope: the site ('') and the listener's
    # country (listeners without one count site-wide only).
    scopes = sf.filter(sf.array(sf.lit(SITE), sf.col("country")), lambda c: c.isNotNull())
    exploded = pd.select(
        "level",
        "item_id",
        "user_id",
        "plays",
        "first_us",
        "last_us",
        "pair_last",
        sf.explode(scopes).alias("scope"),
        sf.explode(_grain_buckets(sf.col("day"))).alias("gb"),
    )
    pair_buckets = exploded.groupBy(
        "level", "item_id", "user_id", "scope", "gb.grain", "gb.bucket"
    ).agg(
        sf.sum("plays").alias("plays"),
        sf.min("first_us").alias("first_us"),
        sf.max("last_us").alias("last_us"),
        sf.max("pair_last").alias("pair_last"),
    )
    item = Window.partitionBy("scope", "level", "item_id")
    rows = (
        pair_buckets.repartition("scope", "level", "item_id")
        .groupBy("scope", "level", "item_id", "grain", "bucket")
        .agg(
            sf.sum("plays").cast("long").alias("plays"),
            sf.count(sf.lit(1)).cast("long").alias("listeners"),
            sf.sum(sf.when(sf.col("last_us") == sf.col("pair_last"), 1).otherwise(0))
            .cast("long")
            .alias("lasts"),
            sf.min("first_us").alias("first_us"),
            sf.max("last_us").alias("last_us"),
        )
        # The bucket of each grain holding the item's last play in the scope counts it in
        # its ``item_lasts``.
        .withColumn("item_last", sf.max("last_us").over(item))
    )
    bucket = Window.partitionBy("scope", "level", "grain", "bucket")
    rows = (
        rows.withColumn("bucket_plays", sf.sum("plays").over(bucket))
        .withColumn("tau", sf.expr(f"bucket_plays div {HEAD_SHARE}"))
        .persist()
    )
    cached.append(rows)
    sizes = rows.groupBy("scope", "level", "grain", "bucket").agg(
        sf.sum("plays").cast("long").alias("plays"),
        sf.sum(sf.when(sf.col("last_us") == sf.col("item_last"), 1).otherwise(0))
        .cast("long")
        .alias("item_lasts"),
        sf.max("tau").cast("long").alias("tau"),
    )
    spans = sf.col("grain") != "day"
    counts = rows.select(
        "scope",
        *_COUNT_KEYS,
        "plays",
        "listeners",
        "lasts",
        sf.when(spans, sf.col("first_us")).alias("first_us"),
        sf.when(spans, sf.col("last_us")).alias("last_us"),
        (sf.col("plays") > sf.col("tau")).alias("head"),
    )
    count_columns = [*_COUNT_KEYS, "plays", "listeners", "lasts", "first_us", "last_us", "head"]
    site = sf.col("scope") == SITE
    # Sorted within each partition only (no global sort): the inserts come in runs of keys.
    return {
        "chart_counts": counts.where(site)
        .select(*count_columns)
        .sortWithinPartitions(*_COUNT_KEYS),
        "country_chart_counts": counts.where(~site)
        .select(sf.col("scope").alias("country"), *count_columns)
        .sortWithinPartitions("country", *_COUNT_KEYS),
        "chart_sizes": sizes.select(
            sf.col("scope").alias("country"),
            "level",
            "grain",
            "bucket",
            "plays",
            "item_lasts",
            "tau",
        ),
        "chart_pairs": pairs.sortWithinPartitions("level", "item_id", "user_id"),
    }


def _values(kinds: Any) -> list[str]:
    return sorted(k.value for k in kinds)
