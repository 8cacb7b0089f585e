"""Recommendation models, one per module, all implementing ``components.Recommender``.

``registry`` maps their names to classes and loads saved ones.
"""
