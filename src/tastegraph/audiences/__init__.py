"""Audiences: advertising consent, behavioural segments, lookalikes, interest clusters, export.

The ads area asks ``AudienceService.segments_of(user_id)`` and ``AudienceService.is_targetable``.
"""
