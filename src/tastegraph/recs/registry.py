"""Model names to classes, loading saved models, and the default model for a catalogue.

``default_model_name`` picks with no tuning by the operator:

* fewer than 50 users or 50 items: ``popularity`` (too little co-occurrence to learn from);
* up to ``EASE_MAX_ITEMS`` (20,000) catalogue items: ``hybrid`` — EASE regularised by item
  features, plus feature similarity and friends' taste (the best model on HetRec Last.fm 2K,
  see docs/recs.md); without side information it is plain EASE;
* larger catalogues: ``als`` (implicit's ALS trains a million interactions over 50,000 items
  in seconds; EASE's dense inverse no longer fits).

The same default parameters serve every catalogue; ``tastegraph eval`` shows what tuning on a
given data set would change.
"""

from __future__ import annotations

from pathlib import Path

from tastegraph.recs.errors import ArtifactError, InvalidRecsRequest
from tastegraph.recs.models.als import ALS
from tastegraph.recs.models.base import BaseModel, Param, read_manifest
from tastegraph.recs.models.ease import EASE, MAX_ITEMS
from tastegraph.recs.models.hybrid import Hybrid
from tastegraph.recs.models.itemknn import ItemKNN
from tastegraph.recs.models.popularity import Popularity
from tastegraph.recs.models.rp3beta import RP3Beta

MODELS: dict[str, type[BaseModel]] = {
    cls.name: cls for cls in (Popularity, ItemKNN, RP3Beta, ALS, EASE, Hybrid)
}
EASE_MAX_ITEMS = MAX_ITEMS
SMALL = 50


def model_class(name: str) -> type[BaseModel]:
    try:
        return MODELS[name]
    except KeyError:
        raise InvalidRecsRequest(
            f"unknown model {name!r}: use one of {', '.join(MODELS)}"
        ) from None


def create_model(name: str, **params: Param) -> BaseModel:
    """A fresh, untrained model; unknown parameters are refused."""
    return model_class(name)(**params)


def load_model(directory: Path) -> BaseModel:
    """The model saved in ``directory`` (its manifest names the class)."""
    manifest = read_manifest(directory)
    name = manifest.get("model")
    if not isinstance(name, str) or name not in MODELS:
        raise ArtifactError(f"{directory}: unknown model {name!r}")
    return MODELS[name].load(directory, manifest)


def default_model_name(n_users: int, n_items: int, kind: str | None = None) -> str:
    """The model to train for a catalogue of this size (``kind`` is accepted for later use:
    every content kind gets the same choice today)."""
    del kind
    if n_users < SMALL or n_items < SMALL:
        return "popularity"
    if n_items <= EASE_MAX_ITEMS:
        return "hybrid"
    return "als"
