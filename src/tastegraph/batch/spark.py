"""One SparkSession per process, built from the settings.

pyspark is an optional extra (``tastegraph[spark]``): it is imported here, inside functions,
so the rest of tastegraph runs without it. ``TASTEGRAPH_SPARK_MASTER`` is the one setting that
moves the jobs from this machine (``local[N]``) to a standalone, YARN or Kubernetes cluster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tastegraph.batch.errors import SparkMissing
from tastegraph.config import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOOPBACK = "127.0.0.1"


def require_pyspark() -> None:
    """Fail with a clear message (not an ImportError deep in a job) without the extra."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkMissing(str(exc)) from exc


def spark_session(settings: Settings, *, app_name: str = "tastegraph") -> tuple[SparkSession, bool]:
    """The active session if the process has one (a test run's), else a new one.

    Returns the session and whether this call created it (then the caller stops it).
    """
    require_pyspark()
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    # A context already running in this process (a test run's shared one): join it.
    if SparkContext._active_spark_context is not None:
        return SparkSession.builder.getOrCreate(), False
    master = settings.spark_master
    local = master.startswith("local")
    if local:
        # Without it Spark binds whatever address the host name resolves to, which may be a
        # public interface or nothing at all in a container.
        os.environ.setdefault("SPARK_LOCAL_IP", LOOPBACK)
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
        .config("spark.default.parallelism", str(settings.spark_shuffle_partitions))
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        # Parquet timestamps are UTC instants; Spark must not shift them by the JVM's zone.
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    )
    if local:
        builder = builder.config("spark.driver.bindAddress", LOOPBACK).config(
            "spark.driver.host", LOOPBACK
        )
    for key, value in settings.spark_conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    checkpoints = settings.effective_spark_checkpoint_dir
    if "://" not in checkpoints:
        Path(checkpoints).mkdir(parents=True, exist_ok=True)
    # Iterative jobs (ALS) overflow the JVM's stack on long lineages without checkpoints.
    session.sparkContext.setCheckpointDir(checkpoints)
    return session, True
