"""Similar artists and tracks (``artist.getSimilar``, ``track.getSimilar``, the ``<similar>``
of ``artist.getInfo``), answered by the recommendation service.

Matches are 0..1 with the closest item at 1, as Last.fm shows them. For a call with a session
key whose owner has a country, only items available there are listed (territorial rights);
calls without one are not filtered, as on the native API. Before a model is trained
(``tastegraph recs train``), or for an item the model does not know yet, the lists are empty
but valid (``<similarartists artist="X"></similarartists>``).
"""

from __future__ import annotations

from tastegraph.accounts.models import User
from tastegraph.catalog.models import Item
from tastegraph.catalog.viewer import Viewer
from tastegraph.runtime import Services

Similar = list[tuple[Item, float]]
"""Items with their match, 0..1, best first."""


def similar_artists(svc: Services, artist: Item, limit: int, caller: User | None) -> Similar:
    return svc.recs.similar(artist, limit, where=_where(caller)).entries


def similar_tracks(svc: Services, track: Item, limit: int, caller: User | None) -> Similar:
    return svc.recs.similar(track, limit, where=_where(caller)).entries


def _where(caller: User | None) -> Viewer | None:
    """The session owner's country; Last.fm calls carry no country of their own."""
    return Viewer(country=caller.country) if caller is not None and caller.country else None
