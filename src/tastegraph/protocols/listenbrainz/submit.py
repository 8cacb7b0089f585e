"""``POST /1/submit-listens`` and ``POST /1/playing-now/delete``.

A listen-level error answers 400 in ListenBrainz's shape, as ListenBrainz does and as
liblistenbrainz expects. ListenBrainz refuses the whole request for one bad listen; an import,
though, may carry a thousand listens of someone's history, so here the good listens of an
``import`` are stored anyway and the 400 lists each bad one (``invalid_listens``: index and
reason) and how many were stored. Resending the whole batch is safe: the stored ones come
back as duplicates, which are not errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import Request

from tastegraph.ingest.schemas import PlayStatus
from tastegraph.ingest.services import Submission
from tastegraph.protocols.listenbrainz import render, translate
from tastegraph.protocols.listenbrainz.auth import require_token, require_user
from tastegraph.protocols.listenbrainz.errors import ListenBrainzError, bad_request
from tastegraph.protocols.listenbrainz.msid import recording_msid
from tastegraph.protocols.listenbrainz.validate import (
    MAX_LISTEN_PAYLOAD_SIZE,
    InvalidListen,
    ListenType,
    clean_listen,
    parse_envelope,
    too_large,
)
from tastegraph.runtime import Runtime
from tastegraph.web.deps import unit_of_work


@dataclass
class _Report:
    stored: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)


async def read_body(request: Request, limit: int = MAX_LISTEN_PAYLOAD_SIZE) -> bytes:
    """The raw body, whatever the Content-Type says (liblistenbrainz sends none)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def submit_listens(
    runtime: Runtime, request: Request, raw: bytes, *, return_msid: bool = False
) -> dict[str, Any]:
    # Authentication comes first, as on ListenBrainz: no point reading what will be refused.
    require_token(request)
    envelope = parse_envelope(raw)
    if envelope.listen_type is ListenType.PLAYING_NOW:
        return _playing_now(runtime, request, envelope.listens[0], return_msid=return_msid)
    report = _record(runtime, request, envelope.listen_type, envelope.listens)
    if report.invalid:
        raise _invalid(envelope.listen_type, report, len(envelope.listens))
    return render.OK


def _record(
    runtime: Runtime, request: Request, listen_type: ListenType, listens: list[Any]
) -> _Report:
    report = _Report()
    submissions: list[Submission] = []
    # The ingest service's clock, so that what passes here passes its own time check.
    now = runtime.clock().timestamp()
    skew = runtime.settings.future_skew_seconds
    for index, listen in enumerate(listens):
        try:
            clean = clean_listen(listen, listen_type, now=now, future_skew=skew)
            play = translate.play_in(clean)
        except InvalidListen as exc:
            report.invalid.append((index, str(exc)))
            continue
        # The listen as it came: plays keep their payload so they can be parsed again.
        submissions.append(Submission(index=index, play=play, raw=orjson.dumps(listen).decode()))
    if listen_type is ListenType.SINGLE and report.invalid:
        return report
    if submissions:
        with unit_of_work(runtime, write=True) as services:
            user = require_user(services, request)
            results = services.ingest.record(user, submissions, source=translate.SOURCE)
        for result in results:
            if result.status is PlayStatus.REJECTED:
                reason = "; ".join(problem.message for problem in result.errors)
                report.invalid.append((result.index, reason))
            else:
                report.stored += 1
    report.invalid.sort()
    return report


def _invalid(listen_type: ListenType, report: _Report, total: int) -> ListenBrainzError:
    first_index, first_reason = report.invalid[0]
    if listen_type is not ListenType.IMPORT:
        return bad_request(first_reason)
    bad = len(report.invalid)
    message = (
        f"{bad} of {total} listens are invalid and were not stored; the other "
        f"{report.stored} were stored (or were there already). "
        f"First invalid listen (index {first_index}): {first_reason}"
    )
    return bad_request(
        message,
        stored=report.stored,
        invalid_listens=[{"index": i, "error": reason} for i, reason in report.invalid],
    )


def _playing_now(
    runtime: Runtime, request: Request, listen: Any, *, return_msid: bool
) -> dict[str, Any]:
    try:
        clean = clean_listen(
            listen,
            ListenType.PLAYING_NOW,
            now=runtime.clock().timestamp(),
            future_skew=runtime.settings.future_skew_seconds,
        )
        data = translate.now_playing_in(clean)
    except InvalidListen as exc:
        raise bad_request(str(exc)) from None
    with unit_of_work(runtime, write=True) as services:
        user = require_user(services, request)
        _entry, item = services.ingest.set_now_playing(user, data, source=translate.SOURCE)
        item_id = item.id
    if return_msid:
        return {**render.OK, "recording_msid": recording_msid(item_id)}
    return render.OK


def delete_playing_now(runtime: Runtime, request: Request, raw: bytes) -> dict[str, Any]:
    """Clear the caller's now playing. With ``{"client": ...}`` only what that client set is
    cleared, so one player stopping does not wipe what another is playing."""
    require_token(request)
    client = None
    if raw.strip():
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"Cannot parse JSON document: {exc}") from None
        if isinstance(body, dict):
            # Cleaned as the client name of a listen is, so that the two compare.
            client = translate.client_of({"submission_client": body.get("client")})
    with unit_of_work(runtime, write=True) as services:
        user = require_user(services, request)
        current = services.ingest.now_playing(user, include_incognito=True)
        if current is not None and (client is None or current[0].source == client[:64]):
            services.ingest.clear_now_playing(user)
    return render.OK
