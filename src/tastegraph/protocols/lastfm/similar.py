"""Similar artists and tracks: where a recommendation service will plug in.

There is no similarity model yet, so both answer nothing and the methods return Last.fm's
empty-but-valid containers (``<similarartists artist="X"></similarartists>``). A recs service
only has to replace these two functions; the handlers render whatever they return.
"""

from __future__ import annotations

from tastegraph.catalog.models import Item
from tastegraph.runtime import Services

Similar = list[tuple[Item, float]]
"""Items with their match, 0..1, best first."""


def similar_artists(
    svc: Services,  # noqa: ARG001 - the signature a recs service will implement
    artist: Item,  # noqa: ARG001
    limit: int,  # noqa: ARG001
) -> Similar:
    return []


def similar_tracks(
    svc: Services,  # noqa: ARG001
    track: Item,  # noqa: ARG001
    limit: int,  # noqa: ARG001
) -> Similar:
    return []
