"""Offline evaluation: data sets, splits, metrics, and the tuning-and-testing runner.

See docs/recs.md ("Models and evaluation") and ``tastegraph eval --help``.
"""
