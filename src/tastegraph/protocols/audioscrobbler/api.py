"""Routes of the Audioscrobbler 1.2 / 1.2.1 adapter: handshake, now-playing, submissions.

The handshake is served at the root (``/?hs=true&...``), as post.audioscrobbler.com did (the
front page hands such requests to ``handshake``), and at ``/scrobbler/`` for players that take
a full URL. It hands out absolute now-playing and submission URLs under ``/scrobbler/``.

Whatever happens, the reply is HTTP 200 with a plain-text first line the client understands:
a server failure is ``FAILED``, never a 500 the client cannot read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tastegraph.accounts.secrets import hash_token
from tastegraph.accounts.services import name_key
from tastegraph.errors import TastegraphError
from tastegraph.ingest.models import Sentiment
from tastegraph.ingest.schemas import PlayStatus
from tastegraph.protocols.audioscrobbler import forms, replies, tracks
from tastegraph.protocols.audioscrobbler.sessions import (
    Handshake,
    Refused,
    ScrobbleSession,
    find_session,
    shake_hands,
)
from tastegraph.runtime import Runtime, Services

_log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

HANDSHAKE_PATH = "/scrobbler/"
NOW_PLAYING_PATH = "/scrobbler/np_1.2"
SUBMISSION_PATH = "/scrobbler/protocol_1.2"

SOURCE = "audioscrobbler"
RATE_LIMITED = "Too many requests, try again later"


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/scrobbler")
@router.get(HANDSHAKE_PATH)
def handshake(request: Request) -> Response:
    """``?hs=true&p=1.2&c=<client>&v=<version>&u=<user>&t=<unix time>&a=<token>``."""
    runtime = _runtime(request)
    try:
        fields = forms.query_fields(request)
        if fields.get("hs") != "true":
            return replies.failed("Not a handshake: send hs=true")
        hs = Handshake.from_fields(fields)
        if _over_limit(runtime, "user:" + name_key(hs.user)):
            return replies.failed(RATE_LIMITED)
        with runtime.db.unit_of_work(write=True) as session:
            svc = runtime.services(session)
            session_id = shake_hands(svc, runtime.settings, hs, runtime.clock())
    except Refused as refusal:
        return replies.reply(refusal.reply)
    except forms.UnreadableForm as exc:
        return replies.failed(str(exc))
    except Exception:
        _log.exception("Audioscrobbler handshake failed")
        return replies.failed("Internal error, try again later")
    base = runtime.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return replies.reply(replies.OK, session_id, base + NOW_PLAYING_PATH, base + SUBMISSION_PATH)


@router.api_route(NOW_PLAYING_PATH, methods=["GET", "POST"])
async def now_playing(request: Request) -> Response:
    """``s``, ``a``, ``t`` and optionally ``b``, ``l``, ``n``, ``m``."""
    return await _serve(request, _now_playing)


@router.api_route(SUBMISSION_PATH, methods=["GET", "POST"])
async def submit(request: Request) -> Response:
    """``s`` and ``a[i]``, ``t[i]``, ``i[i]``, ``o[i]``, ``r[i]``, ``l[i]``, ``b[i]``,
    ``n[i]``, ``m[i]`` for up to 50 tracks."""
    return await _serve(request, _submit)


_Handler = Callable[[Services, ScrobbleSession, dict[str, str]], Response]


async def _serve(request: Request, handler: _Handler) -> Response:
    runtime = _runtime(request)
    try:
        fields = await forms.request_fields(request)
        # Keyed by session, not address: behind a reverse proxy every player shares one.
        if _over_limit(runtime, "session:" + hash_token(fields.get("s", ""))[:32]):
            return replies.failed(RATE_LIMITED)
        return await run_in_threadpool(_in_session, runtime, fields, handler)
    except forms.UnreadableForm as exc:
        return replies.failed(str(exc))
    except Exception:
        _log.exception("Audioscrobbler request to %s failed", request.url.path)
        return replies.failed("Internal error, try again later")


def _over_limit(runtime: Runtime, key: str) -> bool:
    """Count the request; a limiter that fails (Redis down) lets it through, logged."""
    try:
        return runtime.rate_limiter.hit("audioscrobbler:" + key).exceeded
    except Exception:
        _log.warning(
            "rate limiter unavailable; Audioscrobbler requests go uncounted", exc_info=True
        )
        return False


def _in_session(runtime: Runtime, fields: dict[str, str], handler: _Handler) -> Response:
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        found = find_session(svc, fields.get("s", ""), runtime.clock())
        if found is None:
            return replies.reply(replies.BADSESSION)
        try:
            return handler(svc, found, fields)
        except TastegraphError as exc:
            # Input the catalogue or ingest refuses: the client's data, not our failure.
            session.rollback()
            return replies.failed(exc.detail)


def _now_playing(svc: Services, found: ScrobbleSession, fields: dict[str, str]) -> Response:
    data = tracks.now_playing(fields, found.client)
    if data is None:
        return replies.failed("Now-playing needs an artist (a) and a track title (t)")
    svc.ingest.set_now_playing(found.user, data, source=SOURCE)
    return replies.reply(replies.OK)


def _submit(svc: Services, found: ScrobbleSession, fields: dict[str, str]) -> Response:
    items = forms.indexed(fields)
    if not items:
        return replies.failed("No tracks submitted")
    if len(items) > tracks.MAX_TRACKS:
        return replies.failed(f"At most {tracks.MAX_TRACKS} tracks per submission")
    batch = tracks.submission(items, found.client)
    if not batch.usable:
        return replies.failed("None of the submitted tracks has an artist, a title and a time")
    results = svc.ingest.record(found.user, batch.listens, source=SOURCE)
    stored = [r for r in results if r.status is not PlayStatus.REJECTED]
    if not stored and not batch.banned and not batch.skipped:
        # Every listen was refused (all timestamps out of range, say): tell the client why.
        reason = results[0].errors[0].message if results and results[0].errors else ""
        return replies.failed(f"No submitted track could be stored: {reason}")
    # Dropped tracks get no word: the protocol has no per-track report, and a client told
    # FAILED would send the same batch again forever.
    for result in stored:
        if result.index in batch.loved and result.item_id is not None:
            svc.ingest.set_feedback(found.user, result.item_id, Sentiment.LOVE)
    if batch.banned:
        for item_id in svc.catalog.resolve(batch.banned):
            svc.ingest.set_feedback(found.user, item_id, Sentiment.HATE)
    return replies.reply(replies.OK)
