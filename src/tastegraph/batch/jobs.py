"""The registry of batch jobs: ``tastegraph batch run NAME --runner spark|local``.

Adding a job is one entry in ``JOBS``: a ``Job`` with a one-line help and a function per
runner it supports. Each function takes the ``JobContext`` and returns a one-line summary for
the operator. Spark functions get the session from ``context.spark()`` (built once, on first
use), so pyspark is imported only by jobs that run on Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tastegraph.runtime import Runtime

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Runner = Literal["spark", "local"]
RUNNERS: tuple[Runner, ...] = ("spark", "local")


@dataclass
class JobContext:
    """What a job run gets: the runtime (database, settings), the export it reads, options."""

    runtime: Runtime
    export_dir: Path | None
    runner: Runner
    options: dict[str, str] = field(default_factory=dict)
    _spark: SparkSession | None = None
    _owns_spark: bool = False

    def export(self) -> Path:
        """The export directory; a job that reads it fails clearly without one."""
        from tastegraph.batch.errors import ExportMissing

        if self.export_dir is None or not (self.export_dir / "_manifest.json").is_file():
            raise ExportMissing(str(self.export_dir or ""))
        return self.export_dir

    def spark(self) -> SparkSession:
        """The process's SparkSession, built from the settings on first use."""
        if self._spark is None:
            from tastegraph.batch.spark import spark_session

            self._spark, self._owns_spark = spark_session(self.runtime.settings)
        return self._spark

    def stop(self) -> None:
        """Stop the session if this run started it (a test's shared session stays up)."""
        if self._spark is not None and self._owns_spark:
            self._spark.stop()
        self._spark = None


JobFunction = Callable[[JobContext], str]


@dataclass(frozen=True)
class Job:
    help: str
    spark: JobFunction | None = None
    local: JobFunction | None = None

    def runner(self, runner: Runner) -> JobFunction | None:
        return self.spark if runner == "spark" else self.local


def _charts_spark(context: JobContext) -> str:
    from tastegraph.batch.charts import run_spark

    return run_spark(context)


def _charts_local(context: JobContext) -> str:
    from tastegraph.batch.charts import run_local

    return run_local(context)


def _insights_spark(context: JobContext) -> str:
    from tastegraph.batch.insights import run_spark

    return run_spark(context)


def _insights_local(context: JobContext) -> str:
    from tastegraph.batch.insights import run_local

    return run_local(context)


def _recs_spark(context: JobContext) -> str:
    from tastegraph.batch.spark_recs import run_spark

    return run_spark(context)


def _recs_local(context: JobContext) -> str:
    from tastegraph.batch.spark_recs import run_local

    return run_local(context)


def _segments_spark(context: JobContext) -> str:
    from tastegraph.batch.spark_segments import run_spark

    return run_spark(context)


def _segments_local(context: JobContext) -> str:
    from tastegraph.batch.spark_segments import run_local

    return run_local(context)


JOBS: dict[str, Job] = {
    "charts": Job(
        "Chart rollups (site-wide and per country) recounted from the export and loaded.",
        spark=_charts_spark,
        local=_charts_local,
    ),
    "insights": Job(
        "Segment bitmaps (what title insights count segment viewers from) built from the "
        "exported members.",
        spark=_insights_spark,
        local=_insights_local,
    ),
    "recs": Job(
        "The collaborative model (ALS) trained from the export and published as a recs "
        "version (options: kinds, model, days, seed, factors, iterations, ...).",
        spark=_recs_spark,
        local=_recs_local,
    ),
    "segments": Job(
        "Rule segments evaluated over the export and materialised as diffs "
        "(option: segments=ID,ID).",
        spark=_segments_spark,
        local=_segments_local,
    ),
}
