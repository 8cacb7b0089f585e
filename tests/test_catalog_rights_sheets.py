"""Rights sheets (CSV) through the API and the CLI, the rights commands, and the availability
index following changes made by another process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.runtime import Runtime
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.conftest import Account
from tests.rights_helpers import NOW, Clock, available, played, problem


@pytest.fixture
def clock(runtime: Runtime) -> Clock:
    clock = Clock(NOW)
    runtime.clock = clock
    return clock


@pytest.fixture
def viewers(register: Any) -> dict[str, Account]:
    return {
        "DE": register("greta", country="DE"),
        "BR": register("joana", country="BR"),
        "US": register("mike", country="US"),
    }


def _films(client: TestClient, admin: Account, user: Account) -> tuple[int, int]:
    first = played(client, user, {"kind": "film", "title": "Babettes gæstebud", "year": 1987})
    second = played(client, user, {"kind": "film", "title": "Jagten", "year": 2012}, hours=1)
    attached = client.post(
        f"/api/v1/items/{second}/external-ids",
        json={"scheme": "imdb", "value": "tt2106476"},
        headers=admin.headers,
    )
    assert attached.status_code == 200, attached.text
    return first, second


def _sheet(first: int) -> str:
    return "\n".join(
        [
            "Item,Territory,Offer,Start,End,Audio,Subtitles,Notes",
            f"{first},DE AT,svod,2025-01-01,2025-12-31,da de,de,first window",
            "imdb:tt2106476,BR,avod,,,da,pt-BR,",
            "999999,DE,svod,,,,,",  # line 4: no such item
            f"{first},XX,svod,,,,,",  # line 5: no such territory
            f"{first},FR,free-ish,,,,,",  # line 6: no such offer
            f"{first},FR,svod,yesterday,,,,",  # line 7: not a date
            f'"{first}",FR,rental,2025-05-01,2025-04-01,,,',  # line 8: ends before it starts
            ",FR,rental,,,,,",  # line 9: no item
            f"{first},FR,rental,,,,klingon!,",  # line 10: not a language
            "",
            f"{first},US,tvod,2025-06-01T00:00:00Z,,en,,",  # line 12 (after a blank line)
        ]
    )


def test_sheet_import_through_the_api(
    client: TestClient, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    first, second = _films(client, admin, viewers["DE"])
    response = client.post(
        "/api/v1/catalog/rights/import",
        content=_sheet(first).encode(),
        headers={**admin.headers, "content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["stored"], report["updated"], report["unchanged"]) == (
        10,
        4,
        0,
        0,
    )
    assert report["ignored_columns"] == ["Notes"]
    assert [(p["line"], p["field"], p["code"]) for p in report["rejected"]] == [
        (4, "item", "unknown_item"),
        (5, "territory", "unknown_territory"),
        (6, "offer", "invalid_offer"),
        (7, "start", "invalid_date"),
        (8, "end", "invalid_window"),
        (9, "item", "missing_field"),
        (10, "subtitles", "invalid_language"),
    ]
    assert all(p["message"] for p in report["rejected"])

    de, br, us = viewers["DE"], viewers["BR"], viewers["US"]
    assert [available(client, first, v) for v in (de, br, us)] == [True, False, True]
    assert [available(client, second, v) for v in (de, br, us)] == [False, True, False]
    listed = client.get(f"/api/v1/catalog/rights?item_id={first}", headers=admin.headers).json()
    assert sorted(r["territory"] for r in listed["rights"]) == ["AT", "DE", "US"]
    de_grant = next(r for r in listed["rights"] if r["territory"] == "DE")
    # A date as the end includes that whole day.
    assert de_grant["ends_at"] == "2026-01-01T00:00:00Z"

    # The same sheet again changes nothing; a corrected end updates the grant.
    again = client.post(
        "/api/v1/catalog/rights/import",
        content=_sheet(first).encode(),
        headers={**admin.headers, "content-type": "text/csv"},
    ).json()
    assert (again["stored"], again["updated"], again["unchanged"]) == (0, 0, 4)
    fixed = f"item,territory,offer,start,end\n{first},DE,svod,2025-01-01,2025-03-31\n"
    upload = client.post(
        "/api/v1/catalog/rights/import",
        files={"file": ("rights.csv", fixed.encode(), "text/csv")},
        headers=admin.headers,
    )
    assert upload.status_code == 200, upload.text
    assert (upload.json()["stored"], upload.json()["updated"]) == (0, 1)
    assert available(client, first, de) is False  # the window closed on 2025-03-31


def test_a_sheet_with_no_good_row_is_a_problem(
    client: TestClient, admin: Account, viewers: dict[str, Account]
) -> None:
    first, _ = _films(client, admin, viewers["DE"])
    bad = f"item,territory,offer\n{first},MOON,svod\n424242,DE,svod\n"
    body = problem(
        client.post(
            "/api/v1/catalog/rights/import",
            content=bad.encode(),
            headers={**admin.headers, "content-type": "text/csv"},
        ),
        422,
        "rights_sheet_rejected",
    )
    assert [(r["line"], r["code"]) for r in body["rejected"]] == [
        (2, "unknown_territory"),
        (3, "unknown_item"),
    ]
    headless = problem(
        client.post(
            "/api/v1/catalog/rights/import",
            content=b"title,country\nx,DE\n",
            headers={**admin.headers, "content-type": "text/csv"},
        ),
        422,
        "rights_sheet_rejected",
    )
    assert "item" in headless["detail"]
    assert "offer" in headless["detail"]
    listed = client.get("/api/v1/catalog/rights", headers=admin.headers).json()
    assert listed["total"] == 0


def test_rights_commands(
    client: TestClient,
    admin: Account,
    viewers: dict[str, Account],
    database_url: str,
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    first, _ = _films(client, admin, viewers["DE"])
    env = dev_env(database_url)
    sheet = tmp_path / "rights.csv"
    sheet.write_text(_sheet(first), encoding="utf-8")

    result = invoke(["rights", "import", str(sheet)], env)
    assert_clean_exit(result, 0)
    out = result.stdout
    for line, reason in [("4", "unknown_item"), ("5", "unknown_territory"), ("10", "invalid_l")]:
        assert any(row.split("│")[1].strip() == line and reason in row for row in _rows(out)), out
    assert "rejected rows" in out

    listed = invoke(["rights", "list", "--item", str(first), "--json"], env)
    assert_clean_exit(listed, 0)
    assert sorted(r["territory"] for r in json.loads(listed.stdout)["rights"]) == [
        "AT",
        "DE",
        "US",
    ]

    # Another process changed the rights: this server's index follows the version.
    runtime.clock = lambda: NOW
    assert available(client, first, viewers["BR"]) is False
    added = invoke(["rights", "add", str(first), "BR", "--offer", "avod", "--json"], env)
    assert_clean_exit(added, 0)
    runtime.availability.refresh()
    assert available(client, first, viewers["BR"]) is True

    checked = invoke(["rights", "check", str(first), "--country", "BR", "--json"], env)
    assert_clean_exit(checked, 0)
    answer = json.loads(checked.stdout)
    assert answer["decided_by"] == first
    assert [o["kind"] for o in answer["offers"]] == ["ad_supported"]

    grant_id = json.loads(added.stdout)[0]["id"]
    assert_clean_exit(invoke(["rights", "remove", str(grant_id)], env), 0)
    grouped = invoke(["rights", "groups", "set", "PILOT", "FR", "--name", "Pilot"], env)
    assert_clean_exit(grouped, 0)
    assert_clean_exit(invoke(["rights", "add", str(first), "PILOT", "--offer", "rental"], env), 0)
    assert_clean_exit(invoke(["rights", "groups", "add", "PILOT", "BR"], env), 0)
    runtime.availability.refresh()
    assert available(client, first, viewers["BR"]) is True
    assert_clean_exit(invoke(["rights", "groups", "remove", "pilot", "br"], env), 0)
    runtime.availability.refresh()
    assert available(client, first, viewers["BR"]) is False

    blackout = invoke(
        [
            "rights",
            "blackout",
            "add",
            str(first),
            "DE",
            "--from",
            "2025-06-01",
            "--until",
            "2025-06-02",
        ],
        env,
    )
    assert_clean_exit(blackout, 0)
    runtime.availability.refresh()
    assert available(client, first, viewers["DE"]) is False  # NOW is 2025-06-02 12:00

    wrong = invoke(["rights", "add", str(first), "ATLANTIS", "--offer", "svod"], env)
    assert "is neither an ISO 3166-1 country code" in assert_clean_exit(wrong, 1)
    nothing = tmp_path / "nothing.csv"
    nothing.write_text("item,territory,offer\n77777,DE,svod\n", encoding="utf-8")
    rejected = invoke(["rights", "import", str(nothing)], env)
    assert "every row" in assert_clean_exit(rejected, 1)
    assert "unknown_item" in rejected.stdout


def _rows(table: str) -> list[str]:
    return [line for line in table.splitlines() if line.count("│") >= 4]


def test_an_index_with_synchronous_checks_sees_other_processes_at_once(
    client: TestClient, admin: Account, viewers: dict[str, Account], runtime: Runtime
) -> None:
    film = played(client, viewers["DE"], {"kind": "film", "title": "Solaris", "year": 1972})
    other = Runtime.create(runtime.settings.model_copy(update={"rights_refresh_seconds": 0}))
    try:
        assert other.availability.available([film], "US", NOW) == {film}
        client.post(
            "/api/v1/catalog/rights",
            json={"item_id": film, "territory": "DE", "offer": "rental"},
            headers=admin.headers,
        )
        assert other.availability.available([film], "US", NOW) == set()
        assert other.availability.mask([film, 10**9], "DE", NOW) == [True, True]
    finally:
        other.close()


def test_domains_that_require_rights(
    client: TestClient, admin: Account, viewers: dict[str, Account], runtime: Runtime
) -> None:
    de = viewers["DE"]
    film = played(client, de, {"kind": "film", "title": "Der Himmel über Berlin", "year": 1987})
    song = played(client, de, {"kind": "track", "title": "Alles Klar", "artist": "Band"}, hours=1)
    strict = Runtime.create(
        runtime.settings.model_copy(update={"rights_required_domains": ["film"]})
    )
    try:
        assert strict.availability.available([film, song], "DE", NOW) == {song}
        client.post(
            "/api/v1/catalog/rights",
            json={"item_id": film, "territory": "DE", "offer": "subscription"},
            headers=admin.headers,
        )
        strict.availability.refresh()
        assert strict.availability.available([film, song], "DE", NOW) == {film, song}
        assert strict.availability.available([film, song], "US", NOW) == {song}
    finally:
        strict.close()
