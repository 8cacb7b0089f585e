"""Ingest errors.

IngestError
├── BatchTooLarge       more plays than one request may carry
├── NoValidPlays        a submission in which every play was rejected
├── InvalidPlay         one play that cannot be stored (single-play endpoints)
├── MalformedBody       a body that is not the JSON document the endpoint takes
└── PlayNotFound
"""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class IngestError(TastegraphError):
    code = "ingest_error"


class BatchTooLarge(IngestError):
    code = "batch_too_large"
    title = "Too many plays in one request"


class NoValidPlays(IngestError):
    code = "no_valid_plays"
    title = "No play in the submission could be stored"


class InvalidPlay(IngestError):
    code = "invalid_play"
    title = "The play cannot be stored"


class MalformedBody(IngestError):
    code = "malformed_body"
    title = "The request body is not valid JSON of the expected shape"


class PlayNotFound(IngestError):
    code = "play_not_found"
    title = "No such play"


class PayloadTooLarge(IngestError):
    code = "payload_too_large"
    title = "The request body is too large"
