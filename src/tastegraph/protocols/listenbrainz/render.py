"""The JSON shapes ListenBrainz answers with (reference §4.5 to §4.7)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

OK: dict[str, Any] = {"status": "ok"}


def timestamp(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp())


def listen(
    *,
    user_name: str,
    listened_at: datetime,
    inserted_at: datetime,
    recording_msid: str,
    track_metadata: dict[str, Any],
) -> dict[str, Any]:
    metadata = dict(track_metadata)
    # ListenBrainz repeats the msid inside additional_info; some clients read it there.
    metadata["additional_info"] = {
        **metadata.get("additional_info", {}),
        "recording_msid": recording_msid,
    }
    return {
        "listened_at": timestamp(listened_at),
        "inserted_at": timestamp(inserted_at),
        "recording_msid": recording_msid,
        "user_name": user_name,
        "track_metadata": metadata,
    }


def listens_payload(
    user_name: str,
    listens: list[dict[str, Any]],
    *,
    latest: int | None,
    oldest: int | None,
) -> dict[str, Any]:
    return {
        "payload": {
            "count": len(listens),
            "user_id": user_name,
            "listens": listens,
            "latest_listen_ts": latest,
            "oldest_listen_ts": oldest,
        }
    }


def playing_now_payload(user_name: str, track_metadata: dict[str, Any] | None) -> dict[str, Any]:
    listens = []
    if track_metadata is not None:
        listens.append(
            {"track_metadata": track_metadata, "user_name": user_name, "playing_now": True}
        )
    return {
        "payload": {
            "count": len(listens),
            "user_id": user_name,
            "playing_now": True,
            "listens": listens,
        }
    }


def listen_count(count: int) -> dict[str, Any]:
    return {"payload": {"count": count}}
