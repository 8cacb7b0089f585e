"""Readers for the histories people bring from other services, and the ListenBrainz writer.

Each reader turns one format into ``Row`` objects in the shape of ``PlayIn`` (and
``FeedbackRow`` objects for loves), so every import goes through the single ingest path.
``portability.sources`` picks the reader; ``base`` holds what they share.
"""
