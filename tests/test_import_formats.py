"""Importing the histories people bring from other services, and exporting for ListenBrainz.

Every format is read from a small hand-written fixture in ``tests/fixtures/imports/`` that
mixes good records with broken ones; each test checks the report (its counts add up, every
rejected record carries its position and a reason), what was stored, and that a second import
finds only duplicates. The round trip at the end exports a varied history and imports it into
a fresh database. Everything runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.catalog.kinds import Kind
from tastegraph.config import Mode, Settings
from tastegraph.portability import sources
from tastegraph.runtime import Runtime
from tastegraph.stats.periods import Window
from tests.cli_helpers import assert_clean_exit, dev_env, empty_database, invoke
from tests.conftest import Account, play, track

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
COUNTS = ("read", "accepted", "duplicate", "rejected")


# -- helpers ----------------------------------------------------------------------------------


def _tables(stdout: str) -> list[dict[str, int]]:
    """The count rows of the report's tables (plays first, then feedback), in order."""
    tables = []
    for line in stdout.splitlines():
        numbers = re.fullmatch(r"\W*(\d+)\W+(\d+)\W+(\d+)\W+(\d+)\W*", line)
        if numbers:
            tables.append(dict(zip(COUNTS, (int(n) for n in numbers.groups()), strict=True)))
    assert tables, f"no report table in:\n{stdout}"
    return tables


def _import(
    database_url: str, path: Path, tmp_path: Path, *extra: str, user: str = "alice"
) -> tuple[dict[str, Any], str]:
    """Run ``tastegraph import`` and return the JSON report and stdout, checking that the
    report's counts add up and agree with the table printed."""
    report_path = tmp_path / f"report-{len(list(tmp_path.glob('report-*')))}.json"
    result = invoke(
        ["import", str(path), "--user", user, "--report", str(report_path), *extra],
        dev_env(database_url),
    )
    assert_clean_exit(result, 0)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    for counts in (report["counts"], report["feedback"]):
        assert counts["read"] == counts["accepted"] + counts["duplicate"] + counts["rejected"]
    tables = _tables(result.stdout)
    assert tables[0] == report["counts"]
    if report["feedback"]["read"]:
        assert tables[1] == report["feedback"]
    assert report["complete"] is True
    rejected = sum(c["rejected"] for c in (report["counts"], report["feedback"]))
    assert len(report["rejected"]) == rejected
    for entry in report["rejected"]:
        assert entry["errors"], entry
        assert all(entry["errors"]), entry
        assert ("line" in entry) != ("record" in entry), entry
    return report, result.stdout


def _errors(report: dict[str, Any], *, feedback: bool = False) -> dict[Any, str]:
    """Rejected plays (or feedback) by position: a number, or (file, number) in an archive."""
    out: dict[Any, str] = {}
    for entry in report["rejected"]:
        if (entry.get("type") == "feedback") != feedback:
            continue
        number = entry.get("line", entry.get("record"))
        out[(entry["file"], number) if "file" in entry else number] = " ".join(entry["errors"])
    return out


def _history(client: TestClient, account: Account) -> list[dict[str, Any]]:
    url: str | None = f"/api/v1/users/{account.name}/plays?limit=1000"
    plays: list[dict[str, Any]] = []
    while url:
        page = client.get(url, headers=account.headers)
        assert page.status_code == 200, page.text
        plays.extend(page.json()["plays"])
        url = page.json()["next"]
    return plays


def _by_title(plays: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["item"]["title"]: p for p in plays}


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _item(client: TestClient, brief: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/api/v1/items/{brief['id']}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _feedback(client: TestClient, account: Account, sentiment: str) -> set[str]:
    response = client.get(
        f"/api/v1/users/{account.name}/feedback?sentiment={sentiment}&limit=1000",
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    return {entry["item"]["title"] for entry in response.json()["feedback"]}


def _all_duplicates(first: dict[str, Any], again: dict[str, Any]) -> None:
    """A second import of the same file stores nothing: what was new is now a duplicate."""
    for key in ("counts", "feedback"):
        before, after = first[key], again[key]
        assert after == {
            "read": before["read"],
            "accepted": 0,
            "duplicate": before["accepted"] + before["duplicate"],
            "rejected": before["rejected"],
        }, (key, before, after)
    assert _errors(again) == _errors(first)


# -- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("lastfm_ghan.csv", "lastfm-csv"),
        ("lastfm_benjaminbenben.csv", "lastfm-csv"),
        ("listenbrainz_listens.json", "jsonl"),
        ("scrobbler_utc.log", "rockbox"),
        ("unknown_tz.scrobbler.log", "rockbox"),
        ("trakt_history.json", "trakt"),
        ("maloja_export.json", "maloja"),
    ],
)
def test_formats_are_detected_by_name_and_content(name: str, expected: str) -> None:
    path = FIXTURES / name
    assert sources.detect(path, path.read_bytes()[: sources.HEAD_BYTES]) == expected


def test_detection_keeps_the_native_formats() -> None:
    detect = sources.detect
    assert detect(Path("history.csv"), b"played_at,artist,title\n") == "csv"
    assert detect(Path("plays.jsonl"), b'{"played_at": 1, "item": {}}\n') == "jsonl"
    assert detect(Path("export.zip"), b"PK\x03\x04rest") == "listenbrainz"
    # The header a Last.fm dump lacks: three columns are not the four-column export.
    assert detect(Path("scrobbles.csv"), "Beyoncé,Halo,01 May 2024 18:15\n".encode()) == "csv"
    assert detect(Path("no-extension"), b"\xef\xbb\xbf  [\n {}]") == "jsonl"


# -- Last.fm ----------------------------------------------------------------------------------


def test_lastfm_csv_with_header(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = FIXTURES / "lastfm_ghan.csv"
    report, stdout = _import(database_url, source, tmp_path)
    assert report["counts"] == {"read": 7, "accepted": 4, "duplicate": 1, "rejected": 2}
    assert "import report (lastfm-csv)" in stdout
    errors = _errors(report)
    assert set(errors) == {5, 6}
    assert "uts must be UNIX seconds, not 'yesterday'" in errors[5]
    assert "artist" in errors[6]
    assert "(missing_field)" in errors[6]
    assert "line 5: uts must be UNIX seconds" in stdout

    plays = _by_title(_history(client, alice))
    assert set(plays) == {"Halo", "Hoppípolla", "Merry Christmas Mr. Lawrence", "One More Time"}
    # uts is UTC whatever alice's zone; shown in hers (Berlin, summer time).
    assert _utc(plays["Halo"]["played_at"]) == datetime(2024, 5, 1, 18, 15, tzinfo=UTC)
    assert plays["Halo"]["local_time"].startswith("2024-05-01T20:15:00+02:00")
    # No uts: utc_time, also UTC.
    merry = plays["Merry Christmas Mr. Lawrence"]
    assert _utc(merry["played_at"]) == datetime(2024, 5, 2, 8, 30, tzinfo=UTC)
    assert merry["item"]["context"] == "坂本龍一"
    hopp = _item(client, plays["Hoppípolla"]["item"])
    assert hopp["external_ids"] == {"musicbrainz": ["6f1e2c4a-3b5d-4e7f-8a9b-0c1d2e3f4a5b"]}
    assert hopp["parent"]["title"] == "Takk..."
    # A track_mbid that is not a UUID is left out; the scrobble is kept.
    assert _item(client, plays["One More Time"]["item"])["external_ids"] == {}

    again, _ = _import(database_url, source, tmp_path, "--format", "lastfm-csv")
    _all_duplicates(report, again)


def test_lastfm_csv_without_header(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = FIXTURES / "lastfm_benjaminbenben.csv"
    report, _ = _import(database_url, source, tmp_path)
    assert report["counts"] == {"read": 8, "accepted": 3, "duplicate": 1, "rejected": 4}
    errors = _errors(report)
    assert set(errors) == {3, 4, 5, 7}
    assert "date must look like 31 Jan 2021 14:03, not 'not a date'" in errors[3]
    assert "expected 4 columns (artist, album, track, date), found 3" in errors[4]
    assert "no date" in errors[5]
    assert "29 Feb 2021 10:00" in errors[7]

    plays = _by_title(_history(client, alice))
    assert set(plays) == {"One More Time", "The Boxer", "Feeling Good"}
    one_more = plays["One More Time"]
    assert _utc(one_more["played_at"]) == datetime(2021, 1, 31, 14, 3, tzinfo=UTC)
    assert one_more["local_time"].startswith("2021-01-31T15:03:00+01:00")
    assert plays["The Boxer"]["item"]["context"] == "Simon & Garfunkel"

    again, _ = _import(database_url, source, tmp_path, "--format", "lastfm-csv")
    _all_duplicates(report, again)


def test_lastfm_csv_refuses_what_is_not_one(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    source = tmp_path / "odd.csv"
    source.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    result = invoke(
        ["import", str(source), "--user", "alice", "--format", "lastfm-csv"],
        dev_env(database_url),
    )
    message = assert_clean_exit(result, 2)
    assert "Cannot import odd.csv" in message
    assert "four columns" in message


# -- ListenBrainz -----------------------------------------------------------------------------


def _lb_zip(target: Path, *, junk: bool = True) -> Path:
    """The export fixture as ListenBrainz ships it: one zip, plus what macOS adds to one."""
    folder = FIXTURES / "listenbrainz_export"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
        if junk:
            archive.writestr("__MACOSX/listens/2024/._5.jsonl", b"\x00\x05\x16\x07junk")
    return target


def test_listenbrainz_export_zip_with_loves(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = _lb_zip(tmp_path / "listenbrainz_synthetic-listener_1714700000.zip")
    report, stdout = _import(database_url, source, tmp_path)
    assert report["counts"] == {"read": 10, "accepted": 4, "duplicate": 1, "rejected": 5}
    assert report["feedback"] == {"read": 7, "accepted": 3, "duplicate": 0, "rejected": 4}
    assert report["skipped"] == {"ListenBrainz feedback with score 0 (removed)": 1}
    assert report["notes"] == [
        "ignored 4 other files in the archive: notes.txt, pinned_recording.jsonl, user.json, "
        "__MACOSX/listens/2024/._5.jsonl"
    ]
    errors = _errors(report)
    may, october = "listens/2024/5.jsonl", "listens/2024/10.jsonl"
    assert set(errors) == {(may, 3), (may, 5), (may, 6), (may, 7), (october, 3)}
    assert "not valid JSON" in errors[(may, 3)]
    assert "track_metadata" in errors[(may, 5)]
    assert "(timestamp_too_old)" in errors[(may, 6)]
    assert "artist" in errors[(may, 7)]
    assert "must be a JSON object" in errors[(october, 3)]
    assert f"{may} line 3: not valid JSON" in stdout
    loves = _errors(report, feedback=True)
    assert set(loves) == {("feedback.jsonl", n) for n in (5, 6, 7, 8)}
    assert "no listen in this export" in loves[("feedback.jsonl", 5)]
    assert "7a9b4f0e-1d2c-4e6f-8b5a-4c3d6e7f8091" in loves[("feedback.jsonl", 6)]
    assert "not valid JSON" in loves[("feedback.jsonl", 7)]
    assert "score must be 1 (love) or -1 (hate), not 2" in loves[("feedback.jsonl", 8)]
    assert "feedback.jsonl line 8 (feedback): score must be" in stdout

    plays = _by_title(_history(client, alice))
    assert set(plays) == {
        "Get Lucky",
        "Hoppípolla",
        "Feeling Good",
        "Merry Christmas Mr. Lawrence",
    }
    lucky = plays["Get Lucky"]
    # The export writes listened_at as 1714587300.0; artist_names keeps the two artists apart.
    assert _utc(lucky["played_at"]) == datetime(2024, 5, 1, 18, 15, tzinfo=UTC)
    assert lucky["item"]["context"] == "Daft Punk, Pharrell Williams"
    assert lucky["source"] == "Pano Scrobbler"
    lucky_item = _item(client, lucky["item"])
    assert [c["title"] for c in lucky_item["credits"]] == ["Daft Punk", "Pharrell Williams"]
    assert lucky_item["number"] == 8
    assert lucky_item["duration_seconds"] == 369
    # LB's own guess (mbid_mapping) is not taken for the listener's id.
    assert lucky_item["external_ids"] == {}
    hopp = _item(client, plays["Hoppípolla"]["item"])
    assert hopp["external_ids"] == {"musicbrainz": ["6f1e2c4a-3b5d-4e7f-8a9b-0c1d2e3f4a5b"]}
    assert hopp["duration_seconds"] == 268
    assert plays["Hoppípolla"]["source"] == "Strawberry"
    # A compilation keeps its album artist.
    feeling = _item(client, plays["Feeling Good"]["item"])
    album = _item(client, feeling["parent"])
    assert album["title"] == "Jazz Classics"
    assert [c["title"] for c in album["credits"]] == ["Various Artists"]
    # Loves by MessyBrainz id and by MusicBrainz id; -1 is a hate.
    assert _feedback(client, alice, "love") == {"Get Lucky", "Hoppípolla"}
    assert _feedback(client, alice, "hate") == {"Feeling Good"}

    again, _ = _import(database_url, source, tmp_path, "--format", "listenbrainz")
    _all_duplicates(report, again)
    assert _errors(again, feedback=True) == _errors(report, feedback=True)


def test_listenbrainz_zip_damaged_or_empty(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    # A member whose compressed bytes were damaged in transit: the listens before the damage
    # are kept, the rest of that member is reported, the other members are read.
    good = "\n".join(
        json.dumps(
            {
                "listened_at": 1_714_587_300 + 600 * i,
                "track_metadata": {"artist_name": "Röyksopp", "track_name": f"Song {i:04d}"},
            }
        )
        for i in range(400)
    )
    source = tmp_path / "damaged.zip"
    with zipfile.ZipFile(source, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("listens/2024/5.jsonl", good + "\n")
        archive.writestr(
            "listens/2024/6.jsonl",
            json.dumps(
                {
                    "listened_at": 1_717_243_200,
                    "track_metadata": {"artist_name": "Björk", "track_name": "Jóga"},
                }
            )
            + "\n",
        )
    data = bytearray(source.read_bytes())
    middle = data.index(b"Song 0300")
    data[middle : middle + 9] = b"Sxng 0300"  # stored bytes no longer match the CRC
    source.write_bytes(bytes(data))
    report, _ = _import(database_url, source, tmp_path)
    errors = _errors(report)
    [(member, line)] = list(errors)
    assert member == "listens/2024/5.jsonl"
    assert "cannot be read from here on" in errors[(member, line)]
    # The CRC is checked at the end of the member: what was read before stays imported.
    assert line <= 401
    assert report["counts"]["accepted"] == (line - 1) + 1
    assert "Jóga" in _by_title(_history(client, alice))

    # A zip with nothing ListenBrainz in it, and a file that only claims to be a zip.
    empty = tmp_path / "photos.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("holiday.jpg", b"\xff\xd8\xff")
    result = invoke(["import", str(empty), "--user", "alice"], dev_env(database_url))
    assert "holds no listens" in assert_clean_exit(result, 2)
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"PK\x03\x04 but nothing else")
    result = invoke(["import", str(fake), "--user", "alice"], dev_env(database_url))
    assert "Cannot import fake.zip" in assert_clean_exit(result, 2)


def test_listenbrainz_json_jsonl_and_api_payload(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = FIXTURES / "listenbrainz_listens.json"
    report, stdout = _import(database_url, source, tmp_path, "--format", "listenbrainz")
    assert report["counts"] == {"read": 4, "accepted": 1, "duplicate": 0, "rejected": 3}
    errors = _errors(report)
    assert set(errors) == {2, 3, 4}
    assert all("record" in entry for entry in report["rejected"])
    assert "(invalid_timestamp)" in errors[2]
    assert "track_metadata" in errors[3]
    assert "must be a JSON object" in errors[4]
    assert "record 4: each listen must be a JSON object" in stdout
    final = _by_title(_history(client, alice))["Final Song"]
    assert final["source"] == "Web Scrobbler"
    assert _item(client, final["item"])["duration_seconds"] == 235

    # What GET /1/user/<name>/listens answers, saved to a file.
    payload = tmp_path / "listens-page.json"
    listen = {
        "listened_at": 1_714_700_000,
        "track_metadata": {"artist_name": "Mø", "track_name": "Kamikaze"},
    }
    payload.write_text(
        json.dumps({"payload": {"count": 1, "user_id": "x", "listens": [listen]}}, indent=1),
        encoding="utf-8",
    )
    report, _ = _import(database_url, payload, tmp_path, "--format", "listenbrainz")
    assert report["counts"] == {"read": 1, "accepted": 1, "duplicate": 0, "rejected": 0}

    # JSONL whose first line is broken: reported, and the rest is read.
    lines = tmp_path / "listens.jsonl"
    listen["listened_at"] = 1_714_800_000
    lines.write_text('{"listened_at": \n' + json.dumps(listen) + "\n", encoding="utf-8")
    report, _ = _import(database_url, lines, tmp_path, "--format", "listenbrainz")
    assert report["counts"] == {"read": 2, "accepted": 1, "duplicate": 0, "rejected": 1}
    assert "not valid JSON" in _errors(report)[1]
    assert len(_history(client, alice)) == 3


# -- Rockbox ----------------------------------------------------------------------------------


def test_rockbox_scrobbler_log_in_utc(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = FIXTURES / "scrobbler_utc.log"
    report, stdout = _import(database_url, source, tmp_path)
    assert report["counts"] == {"read": 7, "accepted": 2, "duplicate": 1, "rejected": 4}
    assert report["skipped"] == {"Rockbox tracks marked S (skipped)": 1}
    assert "not imported, on purpose: 1 Rockbox tracks marked S (skipped)" in stdout
    errors = _errors(report)
    assert set(errors) == {7, 8, 9, 10}
    assert "expected 8 tab-separated fields" in errors[7]
    assert "timestamp must be seconds since 1970, not 'yesterday'" in errors[8]
    assert "rating must be L (listened) or S (skipped), not 'X'" in errors[9]
    assert "artist" in errors[10]

    plays = _by_title(_history(client, alice))
    assert set(plays) == {"One More Time", "Hoppípolla"}  # Aerodynamic was skipped
    one_more = plays["One More Time"]
    assert _utc(one_more["played_at"]) == datetime.fromtimestamp(1_714_587_300, UTC)
    assert one_more["source"] == "Rockbox ipodvideo $Revision$"
    item = _item(client, one_more["item"])
    assert (item["number"], item["duration_seconds"]) == (1, 320)
    hopp = _item(client, plays["Hoppípolla"]["item"])
    assert hopp["external_ids"] == {"musicbrainz": ["6f1e2c4a-3b5d-4e7f-8a9b-0c1d2e3f4a5b"]}

    again, _ = _import(database_url, source, tmp_path, "--format", "rockbox")
    _all_duplicates(report, again)
    assert again["skipped"] == report["skipped"]


def test_rockbox_unknown_time_zone_is_the_users(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = FIXTURES / "unknown_tz.scrobbler.log"
    report, _ = _import(database_url, source, tmp_path)
    assert report["counts"] == {"read": 2, "accepted": 2, "duplicate": 0, "rejected": 0}
    plays = _by_title(_history(client, alice))
    # The player's clock said 18:15 and 12:00: Berlin time, summer and winter.
    assert _utc(plays["Jóga"]["played_at"]) == datetime(2024, 5, 1, 16, 15, tzinfo=UTC)
    assert plays["Jóga"]["local_time"].startswith("2024-05-01T18:15:00+02:00")
    assert _utc(plays["Bachelorette"]["played_at"]) == datetime(2024, 1, 1, 11, 0, tzinfo=UTC)
    assert plays["Bachelorette"]["local_time"].startswith("2024-01-01T12:00:00+01:00")


# -- Trakt ------------------------------------------------------------------------------------


def test_trakt_history(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = FIXTURES / "trakt_history.json"
    report, stdout = _import(database_url, source, tmp_path)
    assert report["counts"] == {"read": 10, "accepted": 4, "duplicate": 1, "rejected": 5}
    errors = _errors(report)
    assert set(errors) == {5, 6, 7, 8, 10}
    assert all("record" in entry for entry in report["rejected"])
    assert "this episode watch needs show, an object" in errors[5]
    assert "type must be episode or movie, not 'season'" in errors[6]
    assert "no watched_at" in errors[7]
    assert "(invalid_timestamp)" in errors[8]
    assert "must be a JSON object" in errors[10]
    assert "record 6: type must be episode or movie" in stdout

    plays = _by_title(_history(client, alice))
    assert set(plays) == {"Le Retour", "Ünter Wasser", "千と千尋の神隠し", "The Paper Lighthouse"}
    pilot = plays["Le Retour"]
    assert pilot["item"]["kind"] == "episode"
    assert pilot["item"]["context"] == "Les Revenants du Lac"
    assert _utc(pilot["played_at"]) == datetime(2024, 5, 1, 20, 15, tzinfo=UTC)
    episode = _item(client, pilot["item"])
    assert episode["external_ids"] == {
        "imdb": ["tt9100003"],
        "tmdb": ["910004"],
        "tvdb": ["910002"],
    }
    assert (episode["number"], episode["duration_seconds"]) == (1, 3120)
    assert episode["parent"]["title"] == "Les Revenants du Lac – season 1"
    film = _item(client, plays["千と千尋の神隠し"]["item"])
    assert film["kind"] == "film"
    assert film["external_ids"] == {"imdb": ["tt9300003"], "tmdb": ["930004"]}
    # Ids that are not ids are left out; the watch is kept.
    assert _item(client, plays["The Paper Lighthouse"]["item"])["external_ids"] == {}

    again, _ = _import(database_url, source, tmp_path, "--format", "trakt")
    _all_duplicates(report, again)


# -- Maloja -----------------------------------------------------------------------------------


def test_maloja_export(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = FIXTURES / "maloja_export.json"
    report, _ = _import(database_url, source, tmp_path)
    assert report["counts"] == {"read": 9, "accepted": 4, "duplicate": 1, "rejected": 4}
    errors = _errors(report)
    assert set(errors) == {5, 6, 7, 8}
    assert "(invalid_timestamp)" in errors[5]
    assert "no time" in errors[6]
    assert "artist" in errors[7]
    assert "a scrobble needs track, an object" in errors[8]

    plays = _by_title(_history(client, alice))
    assert set(plays) == {"Get Lucky", "Final Song", "Feeling Good", "Computerliebe"}
    lucky = plays["Get Lucky"]
    assert lucky["item"]["context"] == "Daft Punk, Pharrell Williams"
    assert (lucky["duration_played"], lucky["source"]) == (360, "client:phone")
    lucky_item = _item(client, lucky["item"])
    assert lucky_item["duration_seconds"] == 369
    album = _item(client, lucky_item["parent"])
    assert (album["title"], [c["title"] for c in album["credits"]]) == (
        "Random Access Memories",
        ["Daft Punk"],
    )
    compilation = _item(client, _item(client, plays["Feeling Good"]["item"])["parent"])
    assert [c["title"] for c in compilation["credits"]] == ["Various Artists"]
    # An older export: artists as one string, the album as {"name": ...}.
    kraftwerk = _item(client, plays["Computerliebe"]["item"])
    assert kraftwerk["parent"]["title"] == "Computer World"
    assert plays["Computerliebe"]["duration_played"] is None
    assert plays["Final Song"]["source"] == "import:lastfm"

    again, _ = _import(database_url, source, tmp_path, "--format", "maloja")
    _all_duplicates(report, again)


def test_broken_documents_are_refused_whole(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    truncated = tmp_path / "maloja_export_2024.json"
    text = (FIXTURES / "maloja_export.json").read_text(encoding="utf-8")
    truncated.write_text(text[: len(text) // 2], encoding="utf-8")
    result = invoke(["import", str(truncated), "--user", "alice"], dev_env(database_url))
    message = assert_clean_exit(result, 2)
    assert "Cannot import maloja_export_2024.json" in message
    assert "A Maloja export must be one JSON document" in message
    not_trakt = tmp_path / "history.json"
    not_trakt.write_text('{"watched": "nothing"}', encoding="utf-8")
    result = invoke(
        ["import", str(not_trakt), "--user", "alice", "--format", "trakt"], dev_env(database_url)
    )
    assert "a Trakt history is a JSON array" in assert_clean_exit(result, 2)
    assert _history(client, alice) == []


def test_unknown_format_names_the_known_ones(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "plays.csv"
    source.write_text("played_at,artist,title\n", encoding="utf-8")
    result = invoke(
        ["import", str(source), "--user", "alice", "--format", "spotify"], dev_env(database_url)
    )
    message = assert_clean_exit(result, 2)
    assert "spotify" in message
    assert "lastfm-csv, listenbrainz, rockbox, trakt, maloja" in message


# -- the round trip ---------------------------------------------------------------------------

LEVELS = [
    Kind.ARTIST,
    Kind.ALBUM,
    Kind.TRACK,
    Kind.SHOW,
    Kind.SEASON,
    Kind.EPISODE,
    Kind.FILM,
    Kind.COMPETITION,
    Kind.TEAM,
    Kind.MATCH,
    Kind.OUTLET,
    Kind.PROGRAMME,
    Kind.STORY,
]
MUSIC = [Kind.ARTIST, Kind.ALBUM, Kind.TRACK]


def _varied_history(now: datetime) -> list[dict[str, Any]]:
    """Plays of every kind, in several scripts and zones, some recent and some long ago."""

    def at(days: float, offset_minutes: int | None = None) -> int | str:
        moment = now - timedelta(days=days)
        if offset_minutes is None:
            return int(moment.timestamp())  # UNIX seconds: the user's zone applies
        return moment.astimezone(timezone(timedelta(minutes=offset_minutes))).isoformat()

    halo = track("Halo", "Beyoncé", album="I Am... Sasha Fierce", duration=261, track_number=3)
    drunk = track("Drunk in Love", "Beyoncé feat. JAY-Z", album="Beyoncé")
    lucky = track(
        "Get Lucky",
        ["Daft Punk", "Pharrell Williams"],
        album="Random Access Memories",
        ids={"isrc": "USQX91300108"},
    )
    hopp = track(
        "Hoppípolla",
        "Sigur Rós",
        album="Takk...",
        ids={"musicbrainz": "6f1e2c4a-3b5d-4e7f-8a9b-0c1d2e3f4a5b"},
    )
    merry = track("Merry Christmas Mr. Lawrence", "坂本龍一", album="戦場のメリークリスマス")
    feeling = track("Feeling Good", "Nina Simone", album="Jazz Classics", album_artist="V.A.")
    take_five = track(
        "Take Five", "The Dave Brubeck Quartet", album="Jazz Classics", album_artist="V.A."
    )

    def episode(show: str, season: int, number: int, title: str | None = None) -> dict[str, Any]:
        ref: dict[str, Any] = {"kind": "episode", "show": show, "season": season}
        ref["episode"] = number
        if title:
            ref["title"] = title
        return ref

    return [
        play(at(1), halo),
        play(at(2, 120), halo, duration_played=250),
        play(at(200), halo),
        play(at(3, -300), drunk, client="Pano Scrobbler"),
        play(at(400), drunk),
        play(at(4), lucky, progress=1.0),
        play(at(5, 330), lucky),
        play(at(40, 0), hopp),
        play(at(6, 540), merry),
        play(at(370, 540), merry),
        play(at(7), feeling),
        play(at(8), take_five),
        play(at(9), episode("La casa de papel", 1, 1, "Efectuar lo acordado")),
        play(at(9.05), episode("La casa de papel", 1, 2)),
        play(at(60, -180), episode("La casa de papel", 2, 1)),
        play(at(10, 60), episode("Borgen", 2, 3, "Første mandag i oktober")),
        play(at(11), {"kind": "film", "title": "Amélie", "year": 2001}),
        play(
            at(90),
            {
                "kind": "film",
                "title": "千と千尋の神隠し",
                "year": 2001,
                "ids": {"imdb": "tt0245429"},
            },
        ),
        play(
            at(12, -180),
            {
                "kind": "match",
                "competition": "Copa Libertadores",
                "home": "Flamengo",
                "away": "River Plate",
                "starts_at": (now - timedelta(days=12, hours=2)).isoformat(),
            },
        ),
        play(at(13), {"kind": "programme", "outlet": "BBC Radio 4", "title": "Today"}),
        play(at(14), {"kind": "programme", "outlet": "BBC Radio 4", "title": "Today"}),
        play(
            at(15, 60),
            {
                "kind": "story",
                "outlet": "Le Monde",
                "programme": "La Matinale",
                "title": "Élections : les résultats",
            },
        ),
        play(at(16), track("Secret Song", "Nobody"), incognito=True),
    ]


def _charts(
    runtime: Runtime, user: str, windows: dict[str, Window], levels: list[Kind]
) -> dict[str, Any]:
    """Every chart of ``user``: (distinct items, sorted (plays, title, context)) per window
    and level, and the play counts. Ties are sorted, since item ids differ between databases."""
    out: dict[str, Any] = {}
    with runtime.db.unit_of_work() as session:
        svc = runtime.services(session)
        owner = svc.accounts.get_by_name(user)
        for label, window in windows.items():
            for level in levels:
                chart = svc.stats.chart(level, user=owner, window=window, limit=1000)
                briefs = svc.catalog.briefs([entry.item for entry in chart.entries])
                out[f"{label} {level}"] = (
                    chart.total,
                    sorted(
                        (entry.plays, entry.item.title, briefs[entry.item.id].context or "")
                        for entry in chart.entries
                    ),
                )
            out[f"{label} plays"] = svc.stats.play_count(owner, window)
    return out


def _plays_and_feedback(jsonl: str) -> list[Any]:
    records = [json.loads(line) for line in jsonl.splitlines()]
    plays = sorted(
        (r for r in records if r["type"] == "play"),
        key=lambda r: (r["played_at"], json.dumps(r["item"], sort_keys=True)),
    )
    feedback = sorted(
        (r["sentiment"], json.dumps(r["item"], sort_keys=True))
        for r in records
        if r["type"] == "feedback"
    )
    return [plays, feedback]


def test_round_trip_into_a_fresh_database(
    database_url: str,
    client: TestClient,
    alice: Account,
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    history = _varied_history(now)
    response = client.post("/api/v1/plays/batch", json={"plays": history}, headers=alice.headers)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == len(history), response.text
    results = response.json()["results"]
    for index, verb in ((0, "love"), (3, "feedback")):
        body = {"sentiment": "hate"} if verb == "feedback" else None
        answer = client.put(
            f"/api/v1/items/{results[index]['item_id']}/{verb}", json=body, headers=alice.headers
        )
        assert answer.status_code == 200, answer.text
    env = dev_env(database_url)

    native = tmp_path / "alice.jsonl"
    exported = invoke(["export", "--user", "alice", "-o", str(native)], env)
    assert_clean_exit(exported, 0)
    spreadsheet = tmp_path / "alice.csv"
    exported = invoke(["export", "--user", "alice", "--format", "csv", "-o", str(spreadsheet)], env)
    assert_clean_exit(exported, 0)
    listens = tmp_path / "alice-listenbrainz.jsonl"
    exported = invoke(
        ["export", "--user", "alice", "--format", "listenbrainz", "-o", str(listens)], env
    )
    stderr = assert_clean_exit(exported, 0)
    music = sum(1 for p in history if p["item"]["kind"] == "track" and not p.get("incognito"))
    assert f"exported {music} listens of alice" in stderr
    assert "skipped 4 episode plays (no ListenBrainz equivalent)" in stderr
    assert "skipped 2 film plays" in stderr
    assert "skipped 1 incognito plays (kept private)" in stderr
    for line in listens.read_text(encoding="utf-8").splitlines():
        listen = json.loads(line)
        assert set(listen) == {"listened_at", "track_metadata"}
        assert isinstance(listen["listened_at"], int)
        assert {"artist_name", "track_name"} <= set(listen["track_metadata"])

    windows = {
        "overall": Window(None, now + timedelta(minutes=1), "Europe/Berlin"),
        "30 days": Window(now - timedelta(days=30), now + timedelta(minutes=1), "Europe/Berlin"),
    }
    original = _charts(runtime, "alice", windows, LEVELS)
    assert original["overall plays"] == len(history) - 1  # the incognito play is not counted
    assert original["overall album"][1][-1][:2] == (3, "I Am... Sasha Fierce")
    assert (2, "Jazz Classics", "V.A.") in original["overall album"][1]

    with empty_database(database_url, tmp_path) as fresh:
        fresh_env = dev_env(fresh)
        assert_clean_exit(invoke(["db", "upgrade"], fresh_env), 0)
        for name in ("alice2", "alice3", "alice4"):
            created = invoke(
                [
                    *("users", "create", name, "--password", "correct horse"),
                    *("--timezone", "Europe/Berlin"),
                ],
                fresh_env,
            )
            assert_clean_exit(created, 0)
        report, _ = _import(fresh, native, tmp_path, user="alice2")
        assert report["counts"]["accepted"] == len(history)
        assert report["feedback"] == {"read": 2, "accepted": 2, "duplicate": 0, "rejected": 0}
        # The same plays at the same instants, lived at the same offsets, of the same items.
        again = invoke(["export", "--user", "alice2"], fresh_env)
        assert_clean_exit(again, 0)
        assert _plays_and_feedback(again.stdout) == _plays_and_feedback(
            native.read_text(encoding="utf-8")
        )
        # The CSV export carries the plays and the loves too (multi-artist tracks flatten).
        report, _ = _import(fresh, spreadsheet, tmp_path, user="alice4")
        assert report["counts"]["accepted"] == len(history)
        assert report["feedback"] == {"read": 2, "accepted": 2, "duplicate": 0, "rejected": 0}
        report, _ = _import(fresh, listens, tmp_path, user="alice3")
        assert report["counts"] == {
            "read": music,
            "accepted": music,
            "duplicate": 0,
            "rejected": 0,
        }
        settings = Settings(mode=Mode.DEV, database_url=fresh, data_dir=tmp_path / "fresh-data")
        copy = Runtime.create(settings)
        try:
            assert _charts(copy, "alice2", windows, LEVELS) == original
            lb = _charts(copy, "alice3", windows, MUSIC)
        finally:
            copy.close()
    for label in windows:
        for level in MUSIC:
            key = f"{label} {level}"
            assert lb[key] == original[key], key
        assert lb[f"{label} plays"] == sum(plays for plays, _, _ in original[f"{label} track"][1])
