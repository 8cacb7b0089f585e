"""One SparkSession for the whole test process (starting one costs 8-19 s).

Tests that need Spark take the ``spark`` fixture of their module, which calls
``shared_spark``. Without pyspark (the ``tastegraph[spark]`` extra) or Java they skip, unless
TASTEGRAPH_TEST_REQUIRE_SPARK=1 (as in CI), which turns the skip into a failure. The session
lives until the process ends; the CLI commands a test invokes in this process join it
(``batch/spark.py`` uses a running context rather than starting another).
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tastegraph.config import Mode, Settings

REQUIRE_SPARK = os.environ.get("TASTEGRAPH_TEST_REQUIRE_SPARK") == "1"
STARTUP: dict[str, float] = {}
"""Seconds the session took to start (reported by the tests that print timings)."""


def skip_without(module: str) -> None:
    """Skip (or fail, when Spark is required) without ``module`` or a Java runtime."""
    missing = importlib.util.find_spec(module) is None
    reason = f"{module} is not installed (pip install 'tastegraph[spark]')"
    if not missing and module == "pyspark" and shutil.which("java") is None:
        missing, reason = True, "no Java runtime on PATH"
    if missing:
        if REQUIRE_SPARK:
            pytest.fail(reason + " and TASTEGRAPH_TEST_REQUIRE_SPARK=1")
        pytest.skip(reason)


@functools.cache
def _session() -> Any:
    from tastegraph.batch.spark import spark_session

    scratch = Path(tempfile.mkdtemp(prefix="tastegraph-spark-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)  # the checkpoints
    settings = Settings(
        mode=Mode.DEV,
        data_dir=scratch,
        spark_master="local[2]",
        spark_shuffle_partitions=1,  # tiny data: one task per stage
        spark_driver_memory="768m",
    )
    started = time.perf_counter()
    session, _ = spark_session(settings, app_name="tastegraph-tests")
    STARTUP["seconds"] = time.perf_counter() - started
    return session


def shared_spark() -> Any:
    """The process's SparkSession (started on first use)."""
    skip_without("pyspark")
    return _session()
