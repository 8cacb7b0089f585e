"""Batch jobs over a Parquet export of the play log, run locally or on Apache Spark.

An edge package, like ``cli/``: it may import any area, and no area imports it. Results go
back into the database through the areas' own services, so a job writes what the local code
path would. See docs/batch.md.
"""
