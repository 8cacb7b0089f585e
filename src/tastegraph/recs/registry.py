"""Model names to classes, loading saved models, and the default model for a kind.

``default_model_name`` picks with no tuning by the operator, from what the training job knows
about a kind: what it is and the size of its matrix. The choices follow
``bench/recs_kinds_eval.py`` (every model, untuned, on every level of the demo community with a
temporal split; docs/recs.md has the table):

* fewer than 50 users, or fewer than 50 users with two items or more: ``popularity`` (no
  co-occurrence to learn from). A small catalogue alone is no reason: 21 competitions or 52
  news outlets followed by thousands of people are ranked better by the hybrid (NDCG@20 0.64
  against popularity's 0.59 for competitions);
* news stories: ``als`` at every size. A story is read within days of publication: 97 % of
  the stories people read after a training are newer than it, so no per-story model can rank
  them, and on the rest every model ties with popularity. ALS is the cheapest personal model
  (the hybrid took 14 times as long for nothing); what carries a reader's taste are the
  outlets and programmes, which have models of their own and the mixed model's levels;
* every other kind up to ``EASE_MAX_ITEMS`` (20,000) items: ``hybrid`` — EASE regularised by
  item features, plus feature similarity and friends' taste; the best or joint best model on
  every other level of the demo (artists, albums, tracks, shows, seasons, episodes, films,
  matches, teams, competitions, outlets) and on HetRec Last.fm 2K; without side information it
  is plain EASE. Matches are short-lived too, but their features (competition, teams) lift the
  hybrid well above the others (Recall@20 0.23 against 0.17 for EASE and 0.13 for ALS);
* larger catalogues: ``als`` (implicit's ALS trains a million interactions over 50,000 items
  in seconds; EASE's dense inverse no longer fits, and the hybrid would keep only the 20,000
  most popular items in it).

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
READ_ONCE_SOON: frozenset[str] = frozenset({"story"})
"""Kinds whose items are consumed within days of appearing: a model trained before them never
knows most of what people consume next (see ``default_model_name``)."""


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


def default_model_name(
    n_users: int, n_items: int, kind: str | None = None, interactions: int | None = None
) -> str:
    """The model to train for ``kind`` (a catalogue level or ``mixed``) on a users x items
    matrix of this size; ``interactions`` is its number of (user, item) pairs when known."""
    # A pair of items co-occurs only in a user with two items or more: at most
    # interactions - n_users of them.
    learners = n_users if interactions is None else min(n_users, interactions - n_users)
    if n_users < SMALL or learners < SMALL or n_items < 2:
        return "popularity"
    if kind in READ_ONCE_SOON:
        return "als"
    if n_items <= EASE_MAX_ITEMS:
        return "hybrid"
    return "als"
