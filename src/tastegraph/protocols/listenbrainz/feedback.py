"""Recording feedback: ``POST /1/feedback/recording-feedback`` and
``GET /1/feedback/user/{name}/get-feedback``.

Scores map to sentiments: 1 is love, -1 is hate, 0 removes the feedback. A recording is named by
``recording_msid`` (ours name items exactly) or by ``recording_mbid`` (the catalogue item that
carries that MusicBrainz id). Hates are the owner's business only, as everywhere in
tastegraph: others asking for a user's feedback see loves alone.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import Request

from tastegraph.catalog.errors import ItemNotFound
from tastegraph.catalog.kinds import IdScheme, Kind
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Feedback, Sentiment
from tastegraph.protocols.listenbrainz import params, render
from tastegraph.protocols.listenbrainz.auth import require_token, require_user
from tastegraph.protocols.listenbrainz.errors import ListenBrainzError, bad_request
from tastegraph.protocols.listenbrainz.listens import describe, visible_user
from tastegraph.protocols.listenbrainz.msid import item_of_msid, recording_msid
from tastegraph.runtime import Runtime, Services
from tastegraph.web.deps import unit_of_work

SENTIMENT_OF = {1: Sentiment.LOVE, -1: Sentiment.HATE}
SCORE_OF = {sentiment: score for score, sentiment in SENTIMENT_OF.items()}
_KEYS = {"recording_mbid", "recording_msid", "score"}


def submit(runtime: Runtime, request: Request, raw: bytes) -> dict[str, Any]:
    require_token(request)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"Cannot parse JSON document: {exc}") from None
    if not isinstance(body, dict) or set(body) - _KEYS or "score" not in body:
        raise bad_request(
            "JSON document must contain score and either recording_msid or recording_mbid, "
            "and no other keys."
        )
    score = body["score"]
    if isinstance(score, bool) or score not in (1, 0, -1):
        raise bad_request("Score can have a value of 1, 0 or -1.")
    msid, mbid = (_uuid(body, key) for key in ("recording_msid", "recording_mbid"))
    if msid is None and mbid is None:
        raise bad_request("JSON document must contain either recording_msid or recording_mbid.")
    with unit_of_work(runtime, write=True) as services:
        user = require_user(services, request)
        item_id = _item_id(services, msid, mbid)
        if score == 0:
            services.ingest.clear_feedback(user, item_id)
        else:
            services.ingest.set_feedback(user, item_id, SENTIMENT_OF[score])
    return render.OK


def _uuid(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(uuid.UUID(value))
    except ValueError:
        raise bad_request(f"{key} {value!r} is not a valid UUID.") from None


def _item_id(services: Services, msid: str | None, mbid: str | None) -> int:
    if msid is not None:
        item_id = item_of_msid(msid)
        if item_id is not None:
            try:
                return services.catalog.get(item_id).id
            except ItemNotFound:
                pass
        if mbid is None:
            raise ListenBrainzError(404, f"Cannot find a recording with recording_msid {msid}.")
    try:
        return services.catalog.by_external_id(IdScheme.MUSICBRAINZ, mbid or "").id
    except ItemNotFound:
        raise ListenBrainzError(
            404,
            f"Cannot find a recording with recording_mbid {mbid}: submit a listen that "
            "carries this MBID first.",
        ) from None


def user_feedback(runtime: Runtime, request: Request, name: str) -> dict[str, Any]:
    score = params.optional_int(request, "score")
    if score is not None and score not in SENTIMENT_OF:
        raise bad_request("Score can have a value of 1 or -1.")
    count = params.count(request)
    offset = params.offset(request)
    with_metadata = params.flag(request, "metadata")
    with unit_of_work(runtime) as services:
        owner, viewer = visible_user(services, request, name)
        own = viewer is not None and viewer.id == owner.id
        wanted = [SENTIMENT_OF[score]] if score is not None else [Sentiment.LOVE, Sentiment.HATE]
        if not own:
            wanted = [s for s in wanted if s is Sentiment.LOVE]
        rows: list[tuple[Feedback, Item]] = []
        for sentiment in wanted:
            rows += services.ingest.feedback(owner, sentiment, limit=offset + count)
        rows.sort(key=lambda row: (row[0].created_at, row[0].item_id), reverse=True)
        rows = rows[offset : offset + count]
        total = sum(services.ingest.count_feedback(owner, s) for s in wanted)
        items = [item for _fb, item in rows]
        references = services.catalog.references(items) if items else {}
        metadata = describe(services, [(None, item) for item in items]) if with_metadata else []
        entries = []
        for index, (fb, item) in enumerate(rows):
            ids = references[item.id].get("ids") or {}
            entries.append(
                {
                    "created": render.timestamp(fb.created_at),
                    "recording_mbid": ids.get(IdScheme.MUSICBRAINZ)
                    if item.kind == Kind.TRACK
                    else None,
                    "recording_msid": recording_msid(item.id),
                    "score": SCORE_OF[fb.sentiment],
                    "user_id": owner.name,
                    "track_metadata": metadata[index] if with_metadata else None,
                }
            )
    return {"feedback": entries, "count": len(entries), "total_count": total, "offset": offset}
