"""Ingest errors.

IngestError
├── BatchTooLarge       more plays than one request may carry
├── NoValidPlays        a submission in which every play was rejected
├── InvalidPlay         one play that cannot be stored (single-play endpoints)
├── MalformedBody       a body that is not the JSON document the endpoint takes
├── PlayNotFound
└── ProgressError       progress scrobbling (start / pause / stop, check-ins)
    ├── ProgressTooLow      pausing or stopping below 1 %
    ├── AlreadyScrobbled    the item was just watched: a duplicate stop or check-in
    ├── CheckinActive       another check-in has not run out yet
    └── PlaybackNotFound
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


class ProgressError(IngestError):
    code = "progress_error"


class ProgressTooLow(ProgressError):
    code = "progress_too_low"
    title = "Too little was watched to pause or scrobble"


class AlreadyScrobbled(ProgressError):
    """Carries ``watched_at`` and ``expires_at``: when the item may be scrobbled again."""

    code = "already_scrobbled"
    title = "The item was just scrobbled"


class CheckinActive(ProgressError):
    """Carries ``expires_at``: when the active check-in runs out."""

    code = "checkin_in_progress"
    title = "A check-in is already in progress"


class PlaybackNotFound(ProgressError):
    code = "playback_not_found"
    title = "No paused or playing progress for that item"
