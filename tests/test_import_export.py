"""Importing play histories and exporting a user's data, through the real command line.

Every test runs on SQLite and PostgreSQL; the main flows run ``python -m tastegraph`` in a
child process, the rest use the CliRunner.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.catalog.models import Item
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tastegraph.web.app import create_app
from tests.cli_helpers import (
    assert_clean_exit,
    cli_env,
    dev_env,
    empty_database,
    invoke,
    run_cli,
)
from tests.conftest import Account, play, track

SUMMER = 1_714_587_300  # 2024-05-01 18:15 UTC, 20:15 in Berlin (summer time, +02:00)
WINTER = 1_704_110_400  # 2024-01-01 12:00 UTC, 13:00 in Berlin (winter time, +01:00)

HISTORY_CSV = """\
played_at,kind,artist,title,album,show,season,episode,year,competition,home,away,starts_at,duration
2024-05-01 20:15:00,,Beyoncé,Halo,I Am... Sasha Fierce,,,,,,,,,261
2024-01-01 13:00,track,Daft Punk,One More Time,Discovery,,,,,,,,,
2024-03-10T10:00:00+05:30,track,A. R. Rahman,"Jai Ho
(You Are My Destiny)",,,,,,,,,,
1714600000,episode,,Pilot,,Breaking Bad,1,1,,,,,,
2024-05-03 21:00,film,,Inception,,,,,2010,,,,,
2024-05-04 15:30,match,,,,,,,,Premier League,Arsenal,Chelsea,2024-05-04 15:30,
not a time,track,Foo,Bar,,,,,,,,,,
2024-05-05 10:00,track,,No Artist,,,,,,,,,,

1999-01-01 10:00,track,Old,Song,,,,,,,,,,
2024-05-01 20:15:00,,Beyoncé,Halo,I Am... Sasha Fierce,,,,,,,,,261
2024-05-06 10:00,podcast,Someone,Something,,,,,,,,,,
2024-05-06 11:00,track,Someone,Something,,,,,,,,,,inf
"""
"""12 records after the header. The record on line 4 spans two lines; line 11 is blank."""

HISTORY_JSONL = "\n".join(
    [
        json.dumps(play("2024-06-01T12:00:00", track("Halo", "Beyoncé"))),
        json.dumps(
            {
                "listened_at": 1_717_243_200,
                "track_metadata": {
                    "artist_name": "Daft Punk",
                    "track_name": "Aerodynamic",
                    "release_name": "Discovery",
                    "additional_info": {
                        "duration_ms": 212_000,
                        "recording_mbid": "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae",
                        "submission_client": "Pano Scrobbler",
                    },
                },
            }
        ),
        json.dumps(play("yesterday", track("Bar", "Foo"))),
        '{"played_at": 1717243200, "item": {"kind": "track"',
        "",
        json.dumps(play(1_000_000_000, track("Old", "Song"))),
        json.dumps(play("2024-06-01T12:00:00", track("Halo", "Beyoncé"))),
        json.dumps(play("2024-06-02T08:00:00Z", {"kind": "track", "title": "No artist"})),
        json.dumps(
            play(
                "2024-06-02T21:00:00+01:00",
                {"kind": "episode", "show": "Doctor Who", "season": 1, "episode": 1},
                duration_played=2700,
                submission_id="tv-1",
            )
        ),
        "[1, 2]",
        json.dumps({"listened_at": 1_717_243_500, "track_metadata": "Daft Punk - Da Funk"}),
    ]
)
"""10 lines with a play or an error; line 5 is blank."""


def _table_counts(stdout: str) -> dict[str, int]:
    """The counts row of the report table printed on stdout."""
    for line in stdout.splitlines():
        numbers = re.fullmatch(r"\W*(\d+)\W+(\d+)\W+(\d+)\W+(\d+)\W*", line)
        if numbers:
            values = [int(n) for n in numbers.groups()]
            return dict(zip(("read", "accepted", "duplicate", "rejected"), values, strict=True))
    raise AssertionError(f"no report table in:\n{stdout}")


def _history(client: TestClient, account: Account) -> list[dict[str, Any]]:
    url: str | None = f"/api/v1/users/{account.name}/plays?limit=1000"
    plays: list[dict[str, Any]] = []
    while url:
        page = client.get(url, headers=account.headers)
        assert page.status_code == 200, page.text
        plays.extend(page.json()["plays"])
        url = page.json()["next"]
    return plays


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _by_title(plays: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["item"]["title"]: p for p in plays}


def _errors(report: dict[str, Any]) -> dict[int, str]:
    return {entry["line"]: " ".join(entry["errors"]) for entry in report["rejected"]}


# -- import -----------------------------------------------------------------------------------


def test_import_csv_report_times_and_reimport(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = tmp_path / "history.csv"
    source.write_text(HISTORY_CSV, encoding="utf-8")
    report_path = tmp_path / "report.json"
    result = run_cli(
        "import",
        str(source),
        "--user",
        "alice",
        "--report",
        str(report_path),
        env=cli_env(database_url),
    )
    assert_clean_exit(result, 0)
    expected = {"read": 12, "accepted": 6, "duplicate": 1, "rejected": 5}
    assert _table_counts(result.stdout) == expected
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["counts"] == expected
    assert report["complete"] is True
    counts = report["counts"]
    assert counts["read"] == counts["accepted"] + counts["duplicate"] + counts["rejected"]

    errors = _errors(report)
    assert set(errors) == {9, 10, 12, 14, 15}, errors
    assert "(invalid_timestamp)" in errors[9]
    assert "artist" in errors[10]
    assert "(missing_field)" in errors[10]
    assert "(timestamp_too_old)" in errors[12]
    assert "unknown kind 'podcast'" in errors[14]
    assert "duration must be a number" in errors[15]
    # The same lines, with their reasons, on stdout.
    for line in errors:
        assert f"line {line}: " in result.stdout

    plays = _by_title(_history(client, alice))
    assert set(plays) == {
        "Halo",
        "One More Time",
        "Jai Ho\n(You Are My Destiny)",
        "Pilot",
        "Inception",
        "Arsenal – Chelsea",
    }
    # Times without an offset are read in alice's zone, Europe/Berlin, summer and winter.
    assert _utc(plays["Halo"]["played_at"]) == datetime(2024, 5, 1, 18, 15, tzinfo=UTC)
    assert plays["Halo"]["local_time"].startswith("2024-05-01T20:15:00+02:00")
    assert _utc(plays["One More Time"]["played_at"]) == datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert plays["One More Time"]["local_time"].startswith("2024-01-01T13:00:00+01:00")
    # An offset in the file wins over the zone; UNIX seconds are UTC.
    jai_ho = plays["Jai Ho\n(You Are My Destiny)"]
    assert _utc(jai_ho["played_at"]) == datetime(2024, 3, 10, 4, 30, tzinfo=UTC)
    assert _utc(plays["Pilot"]["played_at"]) == datetime.fromtimestamp(1714600000, UTC)
    assert plays["Pilot"]["item"]["context"] == "Breaking Bad"
    assert plays["Arsenal – Chelsea"]["item"]["kind"] == "match"
    assert plays["Halo"]["source"] == "import"

    # Importing again stores nothing new: every good row is now a duplicate.
    again = invoke(["import", str(source), "--user", "ALICE"], dev_env(database_url))
    assert_clean_exit(again, 0)
    assert _table_counts(again.stdout) == {
        "read": 12,
        "accepted": 0,
        "duplicate": 7,
        "rejected": 5,
    }
    assert len(_history(client, alice)) == 6


def test_import_jsonl_native_and_listenbrainz(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = tmp_path / "history.jsonl"
    source.write_text(HISTORY_JSONL + "\n", encoding="utf-8")
    report_path = tmp_path / "report.json"
    result = invoke(
        [
            "import",
            str(source),
            "--user",
            "alice",
            "--source",
            "my-backup",
            "--report",
            str(report_path),
        ],
        dev_env(database_url),
    )
    assert_clean_exit(result, 0)
    expected = {"read": 10, "accepted": 3, "duplicate": 1, "rejected": 6}
    assert _table_counts(result.stdout) == expected
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["counts"] == expected
    errors = _errors(report)
    assert set(errors) == {3, 4, 6, 8, 10, 11}, errors
    assert "(invalid_timestamp)" in errors[3]
    assert "not valid JSON" in errors[4]
    assert "(timestamp_too_old)" in errors[6]
    assert "artist" in errors[8]
    assert "must be a JSON object" in errors[10]
    assert "track_metadata" in errors[11]

    plays = _by_title(_history(client, alice))
    assert len(plays) == 3
    assert {p["item"]["kind"] for p in plays.values()} == {"track", "episode"}
    assert _utc(plays["Halo"]["played_at"]) == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    assert plays["Halo"]["source"] == "my-backup"
    aerodynamic = plays["Aerodynamic"]
    assert _utc(aerodynamic["played_at"]) == datetime.fromtimestamp(1_717_243_200, UTC)
    assert aerodynamic["source"] == "Pano Scrobbler"
    item = client.get(f"/api/v1/items/{aerodynamic['item']['id']}").json()
    assert item["duration_seconds"] == 212
    assert item["external_ids"] == {"musicbrainz": ["8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"]}
    assert item["parent"]["title"] == "Discovery"
    episode = next(p for p in plays.values() if p["item"]["kind"] == "episode")
    assert _utc(episode["played_at"]) == datetime(2024, 6, 2, 20, 0, tzinfo=UTC)
    assert episode["duration_played"] == 2700

    again = invoke(["import", str(source), "--user", "alice"], dev_env(database_url))
    assert _table_counts(again.stdout) == {
        "read": 10,
        "accepted": 0,
        "duplicate": 4,
        "rejected": 6,
    }
    assert len(_history(client, alice)) == 3


def test_import_reads_excel_csv_and_json_arrays(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    # Excel writes a byte order mark and CRLF line ends.
    excel = tmp_path / "excel.csv"
    excel.write_bytes(
        "\ufeffTimestamp,Artist,Track\r\n2024-05-01 20:15:00,Beyoncé,Halo\r\n".encode()
    )
    result = invoke(["import", str(excel), "--user", "alice"], dev_env(database_url))
    assert _table_counts(result.stdout)["accepted"] == 1, result.stdout

    # A ListenBrainz JSON export is one array of listens; the format is detected by content.
    listens = [
        {
            "listened_at": WINTER + i,
            "track_metadata": {"artist_name": "Daft Punk", "track_name": f"Track {i}"},
        }
        for i in range(3)
    ]
    listens.append({"listened_at": "soon", "track_metadata": {}})
    array = tmp_path / "listens.export"
    array.write_text(json.dumps(listens, indent=2), encoding="utf-8")
    result = invoke(["import", str(array), "--user", "alice"], dev_env(database_url))
    assert_clean_exit(result, 0)
    assert _table_counts(result.stdout) == {
        "read": 4,
        "accepted": 3,
        "duplicate": 0,
        "rejected": 1,
    }
    assert "line 4: " in result.stdout
    assert len(_history(client, alice)) == 4


def test_import_survives_unreadable_bytes(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = tmp_path / "broken.csv"
    source.write_bytes(
        b"played_at,artist,title\n"
        b"2024-05-01 20:15:00,Beyonc\xe9,Halo\n"  # Latin-1, not UTF-8
        b"2024-05-01 20:20:00,Nul\x00Band,Song\n"
        b"2024-05-01 20:25:00,Daft Punk,Da Funk\n"
    )
    report_path = tmp_path / "report.json"
    result = invoke(
        ["import", str(source), "--user", "alice", "--report", str(report_path)],
        dev_env(database_url),
    )
    assert_clean_exit(result, 0)
    counts = _table_counts(result.stdout)
    assert counts == {"read": 3, "accepted": 1, "duplicate": 0, "rejected": 2}
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert set(_errors(report)) == {2, 3}
    assert [p["item"]["title"] for p in _history(client, alice)] == ["Da Funk"]


def test_import_refuses_a_csv_without_a_header(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    # A Last.fm-style dump without a header line: nothing can be matched, so nothing is read.
    source = tmp_path / "scrobbles.csv"
    source.write_text("Beyoncé,Halo,01 May 2024 18:15\n", encoding="utf-8")
    result = invoke(["import", str(source), "--user", "alice"], dev_env(database_url))
    message = assert_clean_exit(result, 2)
    assert "scrobbles.csv" in message
    assert "no time column" in message
    assert _history(client, alice) == []


def test_import_reports_unknown_record_types(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    source = tmp_path / "mixed.jsonl"
    source.write_text(
        json.dumps({"type": "profile", "name": "someone"})
        + "\n"
        + json.dumps({"type": "playlist", "name": "Road trip"})
        + "\n"
        + json.dumps({"type": "play", **play(SUMMER, track("Halo", "Beyoncé"))})
        + "\n",
        encoding="utf-8",
    )
    result = invoke(["import", str(source), "--user", "alice"], dev_env(database_url))
    assert_clean_exit(result, 0)
    assert _table_counts(result.stdout) == {
        "read": 2,
        "accepted": 1,
        "duplicate": 0,
        "rejected": 1,
    }
    assert "line 2: unknown record type 'playlist'" in result.stdout


# -- export -----------------------------------------------------------------------------------


def _befriend(runtime: Runtime, a: str, b: str) -> None:
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        first, second = svc.accounts.get_by_name(a), svc.accounts.get_by_name(b)
        svc.social.befriend([(first.id, second.id)])


@pytest.fixture
def alice_history(
    client: TestClient, alice: Account, register: Any, runtime: Runtime
) -> list[dict[str, Any]]:
    """Alice's plays of every kind, a love, tags and a friend."""
    plays = [
        play(SUMMER, track("Halo", "Beyoncé", album="I Am... Sasha Fierce", duration=261)),
        play(WINTER, track("One More Time", "Daft Punk"), duration_played=320, progress=1.0),
        play(
            WINTER + 3600,
            track("Get Lucky", ["Daft Punk", "Pharrell Williams"]),
            client="Pano Scrobbler",
            submission_id="pano-42",
        ),
        play(
            SUMMER + 600,
            {
                "kind": "episode",
                "show": "Breaking Bad",
                "season": 1,
                "episode": 1,
                "title": "Pilot",
            },
        ),
        play(SUMMER + 7200, {"kind": "film", "title": "Inception", "year": 2010}),
        play(
            SUMMER + 9000,
            {
                "kind": "match",
                "competition": "Premier League",
                "home": "Arsenal",
                "away": "Chelsea",
                "starts_at": "2024-05-01T19:00:00Z",
            },
        ),
        play(SUMMER + 12000, {"kind": "story", "outlet": "BBC News", "title": "Election night"}),
        play(SUMMER + 15000, track("Secret Song", "Nobody"), incognito=True),
    ]
    response = client.post("/api/v1/plays/batch", json={"plays": plays}, headers=alice.headers)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == len(plays), response.text
    halo = response.json()["results"][0]["item_id"]
    film = response.json()["results"][4]["item_id"]
    assert client.put(f"/api/v1/items/{halo}/love", headers=alice.headers).status_code == 200
    tagged = client.post(
        f"/api/v1/items/{film}/tags", json={"tags": ["mind-bending"]}, headers=alice.headers
    )
    assert tagged.status_code == 200, tagged.text
    register("bob")
    _befriend(runtime, "alice", "bob")
    return _history(client, alice)


def test_export_jsonl_has_every_record_with_time_zones(
    database_url: str, alice_history: list[dict[str, Any]], tmp_path: Path
) -> None:
    target = tmp_path / "alice.jsonl"
    result = run_cli(
        "export",
        "--user",
        "alice",
        "--format",
        "jsonl",
        "-o",
        str(target),
        env=cli_env(database_url),
    )
    assert_clean_exit(result, 0)
    lines = target.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert f"exported {len(records)} records of alice" in result.stderr
    assert not list(tmp_path.glob("*.partial"))
    by_type: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_type.setdefault(record["type"], []).append(record)
    assert set(by_type) == {"profile", "token", "play", "feedback", "tag", "friend"}
    assert by_type["profile"][0]["name"] == "alice"
    assert by_type["profile"][0]["timezone"] == "Europe/Berlin"
    assert "password_hash" not in json.dumps(records)
    assert all("token_hash" not in t and len(t["prefix"]) < 16 for t in by_type["token"])
    assert len(by_type["play"]) == len(alice_history) == 8
    assert [r["incognito"] for r in by_type["play"]].count(True) == 1

    summer = next(r for r in by_type["play"] if r["item"]["title"] == "Halo")
    assert summer["played_at"] == "2024-05-01T18:15:00+00:00"
    assert summer["local_time"] == "2024-05-01T20:15:00+02:00"
    assert summer["timezone_offset"] == "+02:00"
    assert summer["item"] == {
        "kind": "track",
        "title": "Halo",
        "artist": "Beyoncé",
        "album": "I Am... Sasha Fierce",
        "duration": 261,
    }
    winter = next(r for r in by_type["play"] if r["item"]["title"] == "One More Time")
    assert winter["local_time"] == "2024-01-01T13:00:00+01:00"
    assert winter["timezone_offset"] == "+01:00"
    assert winter["duration_played"] == 320
    lucky = next(r for r in by_type["play"] if r["item"]["title"] == "Get Lucky")
    assert lucky["client"] == "Pano Scrobbler"
    assert lucky["submission_id"] == "pano-42"

    assert by_type["feedback"][0]["sentiment"] == "love"
    assert by_type["feedback"][0]["item"]["title"] == "Halo"
    assert by_type["tag"][0]["tag"] == "mind-bending"
    assert by_type["tag"][0]["item"]["title"] == "Inception"
    assert by_type["friend"] == [{"type": "friend", "name": "bob"}]


def test_export_csv_has_every_record_with_time_zones(
    database_url: str, alice_history: list[dict[str, Any]]
) -> None:
    rows = list(csv.DictReader(io.StringIO(_export(database_url, "alice", "csv"), newline="")))
    records = {row["record"] for row in rows}
    assert records == {"play", "feedback", "tag", "friend"}
    plays = {row["title"]: row for row in rows if row["record"] == "play"}
    assert len(plays) == len(alice_history)
    halo = plays["Halo"]
    assert (halo["played_at"], halo["local_time"], halo["timezone_offset"]) == (
        "2024-05-01T18:15:00+00:00",
        "2024-05-01T20:15:00+02:00",
        "+02:00",
    )
    assert (halo["kind"], halo["artist"], halo["album"]) == (
        "track",
        "Beyoncé",
        "I Am... Sasha Fierce",
    )
    assert plays["One More Time"]["timezone_offset"] == "+01:00"
    assert plays["Pilot"]["show"] == "Breaking Bad"
    assert plays["Pilot"]["season"] == "1"
    assert plays["Arsenal – Chelsea"]["home"] == "Arsenal"
    assert plays["Election night"]["outlet"] == "BBC News"
    assert plays["Secret Song"]["incognito"] == "true"
    assert plays["Halo"]["incognito"] == "false"
    friend = next(row for row in rows if row["record"] == "friend")
    assert friend["friend"] == "bob"
    love = next(row for row in rows if row["record"] == "feedback")
    assert (love["title"], love["sentiment"]) == ("Halo", "love")
    tag = next(row for row in rows if row["record"] == "tag")
    assert (tag["title"], tag["tag"]) == ("Inception", "mind-bending")


def _comparable(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        (r for r in records if r["type"] == "play"),
        key=lambda r: (r["played_at"], json.dumps(r["item"], sort_keys=True)),
    )


def _export(database_url: str, user: str, fmt: str = "jsonl") -> str:
    result = invoke(["export", "--user", user, "--format", fmt], dev_env(database_url))
    assert_clean_exit(result, 0)
    return result.stdout


def test_export_imports_again_into_a_fresh_database(
    database_url: str, alice_history: list[dict[str, Any]], tmp_path: Path
) -> None:
    exported = tmp_path / "alice.jsonl"
    exported.write_text(_export(database_url, "alice"), encoding="utf-8")
    original = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    csv_export = tmp_path / "alice.csv"
    csv_export.write_text(_export(database_url, "alice", "csv"), encoding="utf-8")

    with empty_database(database_url, tmp_path) as fresh:
        env = cli_env(fresh)
        assert_clean_exit(run_cli("db", "upgrade", env=env), 0)
        alice2 = ["alice2", "--password", "correct horse", "--timezone", "Europe/Berlin"]
        created = invoke(["users", "create", *alice2, "--json"], dev_env(fresh))
        assert_clean_exit(created, 0)
        imported = run_cli("import", str(exported), "--user", "alice2", env=env)
        assert_clean_exit(imported, 0)
        assert _table_counts(imported.stdout) == {
            "read": 8,
            "accepted": 8,
            "duplicate": 0,
            "rejected": 0,
        }
        copy = [json.loads(line) for line in _export(fresh, "alice2").splitlines()]

        # Same UTC times, local times, item descriptions, clients, ids and incognito flags.
        assert _comparable(copy) == _comparable(original)

        # Through the API, the two histories read the same too.
        token = json.loads(created.stdout)["token"]
        settings = Settings(mode=Mode.DEV, database_url=fresh, data_dir=tmp_path / "data")
        with TestClient(create_app(settings)) as fresh_client:
            history = _history(fresh_client, Account("alice2", token))
        assert _describe(history) == _describe(alice_history)

        # The CSV export imports again as well, for someone in another zone: same UTC times.
        assert_clean_exit(
            invoke(
                ["users", "create", "carol", "--password", "correct horse", "--country", "JP"],
                dev_env(fresh),
            ),
            0,
        )
        from_csv = invoke(["import", str(csv_export), "--user", "carol"], dev_env(fresh))
        assert _table_counts(from_csv.stdout)["accepted"] == 8, from_csv.stdout
        carol = [json.loads(line) for line in _export(fresh, "carol").splitlines()]
        assert [(r["played_at"], r["item"]["kind"]) for r in _comparable(carol)] == [
            (r["played_at"], r["item"]["kind"]) for r in _comparable(original)
        ]
        assert {r["timezone_offset"] for r in _comparable(carol)} == {"+09:00"}


def _describe(plays: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            _utc(p["played_at"]),
            p["local_time"],
            p["item"]["kind"],
            p["item"]["title"],
            p["item"]["context"],
            p["incognito"],
            p["duration_played"],
            p["progress"],
            p["source"],
        )
        for p in plays
    )


def test_empty_export_and_stdout_piping(database_url: str, alice: Account) -> None:
    out = _export(database_url, "alice")
    types = [json.loads(line)["type"] for line in out.splitlines()]
    assert types == ["profile", "token"]
    assert (
        _export(database_url, "alice", "csv")
        .splitlines()[0]
        .startswith("record,played_at,local_time,timezone_offset,kind,")
    )


# -- the catalogue, as imports and exports use it -------------------------------------------


def test_catalog_references_of_loaded_items(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    posted = client.post(
        "/api/v1/plays", json=play(SUMMER, track("Halo", "Beyoncé")), headers=alice.headers
    )
    assert posted.status_code == 201
    with runtime.db.unit_of_work() as session:
        item = session.scalars(select(Item).where(Item.id == posted.json()["item_id"])).one()
        refs = runtime.services(session).catalog.references([item])
    assert refs[item.id] == {"kind": "track", "title": "Halo", "artist": "Beyoncé"}


def test_import_batch_keeps_what_one_by_one_keeps(
    database_url: str, client: TestClient, alice: Account, tmp_path: Path
) -> None:
    """A track named with album, duration and id and then without them, in one batch.

    Imports send batches of 1,000, so both spellings of a track often share one; the item must
    keep its album, duration and MusicBrainz id as it does when they arrive one by one.
    """
    rich = track(
        "Aerodynamic",
        "Daft Punk",
        album="Discovery",
        duration=212,
        ids={"musicbrainz": "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"},
    )
    source = tmp_path / "two.jsonl"
    source.write_text(
        json.dumps(play(SUMMER, rich)) + "\n"
        + json.dumps(play(SUMMER + 300, track("Aerodynamic", "Daft Punk"))) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    result = invoke(["import", str(source), "--user", "alice"], dev_env(database_url))
    assert _table_counts(result.stdout)["accepted"] == 2
    first = next(p for p in _history(client, alice) if _utc(p["played_at"]).timestamp() == SUMMER)
    item = client.get(f"/api/v1/items/{first['item']['id']}").json()
    assert item["external_ids"] == {"musicbrainz": ["8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"]}
    assert item["duration_seconds"] == 212
    assert item["parent"]["title"] == "Discovery"
