"""Catalogue: one item model for every content kind, credits, external ids, tags, matching."""
