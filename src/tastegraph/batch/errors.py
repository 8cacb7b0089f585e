"""Errors of batch jobs, printed by the CLI as one line."""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class BatchError(TastegraphError):
    code = "batch_error"
    title = "Batch job failed"


class SparkMissing(BatchError):
    code = "spark_missing"
    title = "Apache Spark is not installed"

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "pyspark is not importable: install the extra with "
            "`pip install 'tastegraph[spark]'` (and a Java 17+ runtime)"
            + (f" ({detail})" if detail else "")
        )


class ExportMissing(BatchError):
    code = "export_missing"
    title = "No Parquet export"

    def __init__(self, where: str) -> None:
        super().__init__(
            f"{where or '(none given)'}: no _manifest.json; write one with "
            "`tastegraph export parquet DIR` and pass it as --export DIR"
        )
