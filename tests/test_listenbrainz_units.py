"""The ListenBrainz adapter's pure parts: msids, and listen normalisation and translation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tastegraph.protocols.listenbrainz import translate
from tastegraph.protocols.listenbrainz.msid import item_of_msid, recording_msid
from tastegraph.protocols.listenbrainz.validate import (
    InvalidListen,
    ListenType,
    clean_listen,
    contains_nul,
)

NOW = 1_800_000_000


def test_msids_round_trip_and_refuse_other_uuids() -> None:
    for item_id in (1, 42, 2**40, 2**62 - 1):
        msid = recording_msid(item_id)
        assert uuid.UUID(msid).version == 8
        assert item_of_msid(msid) == item_id
        assert item_of_msid(msid.upper()) == item_id
    assert recording_msid(7) == recording_msid(7)
    assert item_of_msid(str(uuid.uuid4())) is None
    assert item_of_msid("d23f4719-9212-49f0-ad08-ddbfbfc50d6f") is None
    assert item_of_msid("not a uuid") is None
    assert item_of_msid("74617374-6567-8000-8000-000000000000") is None  # item 0


def _clean(metadata: dict[str, Any], **listen: Any) -> dict[str, Any]:
    return clean_listen(
        {"listened_at": NOW - 60, "track_metadata": metadata, **listen},
        ListenType.SINGLE,
        now=NOW,
    )


def test_normalisation() -> None:
    clean = _clean(
        {
            "artist_name": " A ",
            "track_name": "T",
            "release_name": "",
            "mbid_mapping": {"x": 1},
            "additional_info": {
                "duration_ms": "200000.9",
                "recording_mbid": "9825D6FC5B054C1B9C7A0E8C8C9A6A11",
                "work_mbids": [None, ""],
                "tags": None,
                "custom": [1, {"two": 2}],
            },
        },
        listened_at=str(NOW - 60),
    )
    assert clean["listened_at"] == NOW - 60
    metadata = clean["track_metadata"]
    assert metadata["artist_name"] == "A"
    assert "release_name" not in metadata
    assert metadata["mbid_mapping"] == {"x": 1}  # other keys are left alone
    assert metadata["additional_info"] == {
        "duration_ms": 200000,
        "recording_mbid": "9825d6fc-5b05-4c1b-9c7a-0e8c8c9a6a11",
        "custom": [1, {"two": 2}],
    }


def test_the_future_skew_is_exclusive() -> None:
    meta = {"artist_name": "A", "track_name": "T"}
    ok = clean_listen(
        {"listened_at": NOW + 3599, "track_metadata": meta}, ListenType.IMPORT, now=NOW
    )
    assert ok["listened_at"] == NOW + 3599
    with pytest.raises(InvalidListen, match="too high"):
        clean_listen(
            {"listened_at": NOW + 3600, "track_metadata": meta}, ListenType.IMPORT, now=NOW
        )


def test_translation_to_a_play() -> None:
    clean = _clean(
        {
            "artist_name": "Beyoncé feat. JAY-Z",
            "track_name": "Drunk in Love",
            "release_name": "Beyoncé",
            "additional_info": {
                "duration": 323,
                "track_number": "3/14",
                "release_artist_name": "Beyoncé",
                "media_player": "  mpv  ",
                "duration_played": "300",
                "recording_mbid": "9825d6fc-5b05-4c1b-9c7a-0e8c8c9a6a11",
            },
        }
    )
    play = translate.play_in(clean)
    assert int(play.played_at.timestamp()) == NOW - 60
    assert play.client == "mpv"
    assert play.duration_played == 300
    item = play.item
    assert item is not None
    assert item.model_dump(exclude_none=True) == {
        "kind": "track",
        "title": "Drunk in Love",
        "artist": "Beyoncé feat. JAY-Z",
        "album": "Beyoncé",
        "album_artist": "Beyoncé",
        "ids": {"musicbrainz": "9825d6fc-5b05-4c1b-9c7a-0e8c8c9a6a11"},
        "duration": 323,
        "track_number": 3,
    }


def test_lenient_extras_are_ignored_when_unusable() -> None:
    info: dict[str, Any] = {"track_length": "long", "tracknumber": "B-side", "duration_played": -4}
    clean = _clean({"artist_name": "A", "track_name": "T", "additional_info": info})
    play = translate.play_in(clean)
    assert play.duration_played is None
    assert play.item is not None
    assert play.item.model_dump(exclude_none=True) == {
        "kind": "track",
        "title": "T",
        "artist": "A",
        "ids": {},
    }
    assert translate.duration_of({"duration_ms": 400}) is None  # rounds to 0 s
    assert translate.track_number_of({"tracknumber": True}) is None
    assert translate.client_of({"submission_client": "\u0007"}) is None


def test_nul_detection_covers_keys_and_nesting() -> None:
    assert contains_nul({"a": [{"b": "c\x00"}]})
    assert contains_nul({"a\x00": 1})
    assert not contains_nul({"a": [1, 2.5, None, True, "fine"]})
