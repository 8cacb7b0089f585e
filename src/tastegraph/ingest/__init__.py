"""Ingest: the single write path for plays, now-playing state and feedback."""
