"""Recommendation errors.

RecsError
├── InvalidRecsRequest
├── ModelNotTrained
├── StationNotFound
├── ArtifactError
└── DatasetError
"""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class RecsError(TastegraphError):
    code = "recs_error"


class InvalidRecsRequest(RecsError):
    code = "invalid_recs_request"
    title = "The recommendation request cannot be answered"


class ModelNotTrained(RecsError):
    code = "model_not_trained"
    title = "The model has not been trained"


class StationNotFound(RecsError):
    code = "station_not_found"
    title = "There is no such station"


class ArtifactError(RecsError):
    code = "artifact_error"
    title = "The model artifact cannot be read"


class DatasetError(RecsError):
    code = "dataset_error"
    title = "The data set cannot be read"
