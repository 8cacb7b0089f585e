"""Similar artists and tracks (``artist.getSimilar``, ``track.getSimilar``, the ``<similar>``
of ``artist.getInfo``), answered by the recommendation service.

Matches are 0..1 with the closest item at 1, as Last.fm shows them. Before a model is trained
(``tastegraph recs train``), or for an item the model does not know yet, the lists are empty
but valid (``<similarartists artist="X"></similarartists>``).
"""

from __future__ import annotations

from tastegraph.catalog.models import Item
from tastegraph.runtime import Services

Similar = list[tuple[Item, float]]
"""Items with their match, 0..1, best first."""


def similar_artists(svc: Services, artist: Item, limit: int) -> Similar:
    return svc.recs.similar(artist, limit).entries


def similar_tracks(svc: Services, track: Item, limit: int) -> Similar:
    return svc.recs.similar(track, limit).entries
