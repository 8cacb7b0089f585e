"""The insights area's precomputed aggregate, the segment bitmaps, built by Spark from a
Parquet export of the segment members and written through ``insights.segment_bits.store``.

Everything else a title's page shows is counted online from the play log (one index range,
``insights/audience.py``); what it precomputes is each segment's members as a bitmap, bit
``u % 8`` of byte ``u // 8`` for user ``u`` (``segment_bits.to_bits``). Spark groups the
members by segment and byte and ORs their bits (a sum: each member is one distinct bit); the
driver lays each segment's bytes out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tastegraph.batch.jobs import JobContext
from tastegraph.insights import segment_bits

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def run_local(context: JobContext) -> str:
    """The local runner: ``tastegraph insights bitmaps --rebuild``."""
    with context.runtime.db.unit_of_work(write=True) as session:
        segment_bits.rebuild_all(session)
    return "segment bitmaps rebuilt locally from the members"


def run_spark(context: JobContext) -> str:
    bitmaps = segment_bitmaps(context.spark(), str(context.export()))
    with context.runtime.db.unit_of_work(write=True) as session:
        changed = segment_bits.store(session, bitmaps)
    note = f"; {len(changed)} changed since the export, rebuilt from the members" if changed else ""
    return f"segment bitmaps of {len(bitmaps)} segments built by Spark and stored{note}"


def segment_bitmaps(spark: SparkSession, export: str) -> dict[int, tuple[int, bytes]]:
    """Segment id -> (members, bitmap) for every segment with members in the export."""
    from pyspark.sql import functions as sf

    members = spark.read.parquet(f"{export}/segment_members")
    sizes = {
        int(row["segment_id"]): int(row["members"])
        for row in members.groupBy("segment_id").agg(sf.count(sf.lit(1)).alias("members")).collect()
    }
    cells = (
        members.groupBy("segment_id", sf.expr("user_id div 8").alias("byte"))
        .agg(sf.sum(sf.expr("shiftleft(1, cast(user_id % 8 as int))")).alias("value"))
        .orderBy("segment_id", "byte")
    )
    layout: dict[int, bytearray] = {}
    for row in cells.toLocalIterator():
        segment, byte = int(row["segment_id"]), int(row["byte"])
        bits = layout.setdefault(segment, bytearray())
        if len(bits) <= byte:
            bits.extend(bytes(byte + 1 - len(bits)))
        bits[byte] = int(row["value"])
    return {segment: (sizes[segment], bytes(layout[segment])) for segment in sizes}
