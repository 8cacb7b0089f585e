"""Territorial rights through the HTTP API: three viewers in three countries, inheritance with
an override, windows opening and closing, a live blackout, a country moving in and out of a
territory group, history and charts that mark rather than hide, search that hides."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tastegraph import migrations
from tastegraph.catalog.territories import DEFAULT_GROUPS
from tastegraph.runtime import Runtime
from tests.cli_helpers import empty_database
from tests.conftest import Account, track
from tests.rights_helpers import (
    NOW,
    Clock,
    available,
    episode,
    grant,
    iso,
    item_page,
    played,
    problem,
)


@pytest.fixture
def clock(runtime: Runtime) -> Clock:
    clock = Clock(NOW)
    runtime.clock = clock
    return clock


@pytest.fixture
def viewers(register: Any) -> dict[str, Account]:
    return {
        "DE": register("greta", country="DE", locale="de-DE"),
        "BR": register("joana", country="BR", locale="pt-BR"),
        "US": register("mike", country="US", locale="en-US"),
    }


def _parent(client: TestClient, item_id: int) -> int:
    parent: int = item_page(client, item_id)["parent"]["id"]
    return parent


def test_three_countries_inheritance_and_an_episode_override(
    client: TestClient, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    de, br, us = viewers["DE"], viewers["BR"], viewers["US"]
    # The migration seeds the default groups; the PostgreSQL fixture empties every table
    # between tests, so put them back (a no-op where they are).
    client.post("/api/v1/catalog/territory-groups/defaults", headers=admin.headers)
    first = played(client, de, episode("Borgen", 1, 1))
    second = played(client, de, episode("Borgen", 1, 2), hours=1)
    song = played(client, de, track("Saudade", "Banda"), hours=2)
    show = _parent(client, _parent(client, first))
    assert item_page(client, show)["kind"] == "show"

    # Nothing granted yet: everything is available everywhere (and to anonymous viewers).
    assert all(available(client, first, v) for v in (de, br, us, None))

    grant(client, admin, show, "DACH", audio_languages=["da", "de"], subtitle_languages=["de"])
    grant(client, admin, show, "BR", offer="ad_supported", audio_languages=["da", "pt-BR"])
    grant(client, admin, second, "US", offer="rental")  # the episode overrides its show

    page = item_page(client, first, de)
    assert page["available"] is True
    assert page["availability"]["country"] == "DE"
    assert [o["kind"] for o in page["availability"]["offers"]] == ["subscription"]
    assert page["availability"]["audio_languages"] == ["da", "de"]
    assert page["availability"]["subtitle_languages"] == ["de"]
    brazil = item_page(client, first, br)["availability"]
    assert brazil["available"] is True
    assert [o["kind"] for o in brazil["offers"]] == ["ad_supported"]
    assert brazil["audio_languages"] == ["da", "pt-BR"]
    assert available(client, first, us) is False
    assert available(client, first) is False  # an unknown country gets no country's grants

    # The second episode has grants of its own: they decide, the show's do not.
    assert [available(client, second, v) for v in (de, br, us)] == [False, False, True]
    offers = item_page(client, second, us)["availability"]["offers"]
    assert [(o["kind"], o["until"]) for o in offers] == [("rental", None)]

    # A track with no grants anywhere above it stays available everywhere.
    assert all(available(client, song, v) for v in (de, br, us, None))

    # An episode created after the index was built inherits its show's grants at once.
    newcomer = played(client, br, episode("Borgen", 2, 1), hours=3)
    assert [available(client, newcomer, v) for v in (de, br, us)] == [True, True, False]

    # Removing the override hands the episode back to its show.
    removed = client.delete(f"/api/v1/catalog/items/{second}/rights", headers=admin.headers)
    assert removed.json() == {"removed": 1}
    assert [available(client, second, v) for v in (de, br, us)] == [True, True, False]

    check = client.get(
        f"/api/v1/catalog/items/{second}/availability",
        params={"country": "AT", "at": iso(NOW)},
        headers=admin.headers,
    )
    assert check.status_code == 200, check.text
    assert check.json()["available"] is True
    assert check.json()["decided_by"]["id"] == show


def test_plays_of_unavailable_items_count_and_history_marks_them(
    client: TestClient, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    de, us = viewers["DE"], viewers["US"]
    film = played(client, de, {"kind": "film", "title": "Festen", "year": 1998})
    grant(client, admin, film, "DK")
    grant(client, admin, film, "DE")
    assert available(client, film, us) is False

    # People watch elsewhere too: the play of an unavailable film is recorded.
    response = client.post(
        "/api/v1/plays",
        json={"played_at": int(NOW.timestamp()) - 60, "item_id": film},
        headers=us.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "accepted"

    history = client.get("/api/v1/users/mike/plays", headers=us.headers).json()["plays"]
    assert [(p["item"]["id"], p["item"]["available"]) for p in history] == [(film, False)]
    # The same history seen by a viewer in Germany: available there.
    seen_from_de = client.get("/api/v1/users/mike/plays", headers=de.headers).json()["plays"]
    assert [p["item"]["available"] for p in seen_from_de] == [True]

    chart = client.get("/api/v1/users/mike/charts/film", headers=us.headers).json()
    assert [(e["item"]["id"], e["item"]["available"]) for e in chart["entries"]] == [(film, False)]
    site = client.get("/api/v1/charts/film?period=overall", headers=us.headers).json()
    assert [(e["item"]["id"], e["item"]["available"]) for e in site["entries"]] == [(film, False)]
    site_de = client.get("/api/v1/charts/film?period=overall", headers=de.headers).json()
    assert [e["item"]["available"] for e in site_de["entries"]] == [True]


def test_search_hides_what_the_viewer_cannot_watch(
    client: TestClient, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    de, us = viewers["DE"], viewers["US"]
    shown = played(client, de, {"kind": "film", "title": "Das Boot", "year": 1981})
    hidden = played(client, de, {"kind": "film", "title": "Das Boot II", "year": 2020})
    grant(client, admin, hidden, "DE")

    def search(viewer: Account, **params: str) -> list[tuple[int, bool | None]]:
        response = client.get(
            "/api/v1/items", params={"q": "das boot", **params}, headers=viewer.headers
        )
        assert response.status_code == 200, response.text
        return [(i["id"], i["available"]) for i in response.json()["items"]]

    assert search(de) == [(shown, True), (hidden, True)]
    assert search(us) == [(shown, True)]
    assert search(us, unavailable="mark") == [(shown, True), (hidden, False)]


def test_a_window_opens_and_closes(
    client: TestClient, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    br = viewers["BR"]
    film = played(client, br, {"kind": "film", "title": "Central do Brasil", "year": 1998})
    opens, closes = NOW + timedelta(days=1), NOW + timedelta(days=31)
    grant(client, admin, film, "BR", starts_at=iso(opens), ends_at=iso(closes))

    page = item_page(client, film, br)["availability"]
    assert page["available"] is False
    assert page["available_from"] == opens.isoformat().replace("+00:00", "Z")
    clock.set(opens)  # the window's start is inclusive
    page = item_page(client, film, br)["availability"]
    assert page["available"] is True
    assert page["offers"][0]["until"] == closes.isoformat().replace("+00:00", "Z")
    clock.set(closes - timedelta(seconds=1))
    assert available(client, film, br) is True
    clock.set(closes)  # ... and its end exclusive
    assert available(client, film, br) is False
    assert item_page(client, film, br)["availability"]["available_from"] is None

    # The operator's check answers for any moment without moving the clock.
    def at(moment: str) -> bool:
        response = client.get(
            f"/api/v1/catalog/items/{film}/availability",
            params={"country": "BR", "at": moment},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
        result: bool = response.json()["available"]
        return result

    assert [at(iso(NOW)), at(iso(opens + timedelta(days=2))), at(iso(closes))] == [
        False,
        True,
        False,
    ]


def test_a_live_blackout(
    client: TestClient, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    de, us = viewers["DE"], viewers["US"]
    kickoff = NOW + timedelta(hours=2)
    match = played(
        client,
        de,
        {
            "kind": "match",
            "competition": "Bundesliga",
            "home": "Bayern",
            "away": "Dortmund",
            "starts_at": iso(kickoff),
        },
    )
    competition = _parent(client, match)
    grant(client, admin, competition, "WORLD", offer="ad_supported")
    response = client.post(
        "/api/v1/catalog/blackouts",
        json={
            "item_id": match,
            "territories": ["US", "ca"],
            "starts_at": iso(kickoff),
            "ends_at": iso(kickoff + timedelta(hours=2)),
            "note": "local broadcaster exclusive",
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["territories"] == ["US", "CA"]

    assert available(client, match, us)
    assert available(client, match, de)
    clock.set(kickoff + timedelta(minutes=30))
    page = item_page(client, match, us)["availability"]
    assert page["available"] is False
    assert page["blackout_until"] == (kickoff + timedelta(hours=2)).isoformat().replace(
        "+00:00", "Z"
    )
    assert available(client, match, de) is True
    assert available(client, match) is True  # WORLD grants reach unknown countries
    clock.set(kickoff + timedelta(hours=2))
    assert available(client, match, us) is True

    blackouts = client.get("/api/v1/catalog/blackouts", headers=admin.headers).json()
    assert [b["item"]["id"] for b in blackouts] == [match]
    gone = client.delete(f"/api/v1/catalog/blackouts/{blackouts[0]['id']}", headers=admin.headers)
    assert gone.status_code == 204
    problem(
        client.delete("/api/v1/catalog/blackouts/999999", headers=admin.headers),
        404,
        "blackout_not_found",
    )


def test_a_country_moves_in_and_out_of_a_territory_group(
    client: TestClient, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    de, br, us = viewers["DE"], viewers["BR"], viewers["US"]
    film = played(client, de, {"kind": "film", "title": "Lola rennt", "year": 1998})
    created = client.put(
        "/api/v1/catalog/territory-groups/launch",
        json={"name": "Launch markets", "countries": ["de", "FR"]},
        headers=admin.headers,
    )
    assert created.status_code == 200, created.text
    assert created.json() == {"key": "LAUNCH", "name": "Launch markets", "countries": ["DE", "FR"]}
    grant(client, admin, film, "LAUNCH")
    assert [available(client, film, v) for v in (de, br, us)] == [True, False, False]

    joined = client.put(
        "/api/v1/catalog/territory-groups/LAUNCH/countries/BR", headers=admin.headers
    )
    assert joined.json()["countries"] == ["BR", "DE", "FR"]
    assert [available(client, film, v) for v in (de, br, us)] == [True, True, False]

    left = client.delete(
        "/api/v1/catalog/territory-groups/LAUNCH/countries/DE", headers=admin.headers
    )
    assert left.json()["countries"] == ["BR", "FR"]
    assert [available(client, film, v) for v in (de, br, us)] == [False, True, False]

    in_use = client.delete("/api/v1/catalog/territory-groups/LAUNCH", headers=admin.headers)
    problem(in_use, 409, "territory_group_in_use")
    problem(
        client.put(
            "/api/v1/catalog/territory-groups/DE",
            json={"name": "x", "countries": []},
            headers=admin.headers,
        ),
        422,
        "invalid_rights",
    )
    problem(
        client.put("/api/v1/catalog/territory-groups/NOPE/countries/BR", headers=admin.headers),
        404,
        "territory_group_not_found",
    )


def test_default_groups_and_operator_only(
    client: TestClient, admin: Account, viewers: dict[str, Account]
) -> None:
    restored = client.post("/api/v1/catalog/territory-groups/defaults", headers=admin.headers)
    assert restored.status_code == 200, restored.text
    groups = {g["key"]: g["countries"] for g in restored.json()}
    assert {"EU", "EEA", "DACH", "LATAM", "NORDICS"} <= set(groups)
    assert len(groups["EU"]) == 27
    assert "BR" in groups["LATAM"]
    assert "NO" in groups["EEA"]
    # Everyone may read the groups; only operators change rights.
    assert client.get("/api/v1/catalog/territory-groups/EU").json()["countries"] == groups["EU"]
    user = viewers["DE"]
    film = played(client, user, {"kind": "film", "title": "Metropolis", "year": 1927})
    forbidden = client.post(
        "/api/v1/catalog/rights",
        json={"item_id": film, "territory": "EU", "offer": "rental"},
        headers=user.headers,
    )
    problem(forbidden, 403, "permission_denied")
    problem(client.get("/api/v1/catalog/rights"), 401, "not_authenticated")
    bad = client.post(
        "/api/v1/catalog/rights",
        json={"item_id": film, "territory": "ATLANTIS", "offer": "rental"},
        headers=admin.headers,
    )
    problem(bad, 422, "invalid_rights")
    backwards = client.post(
        "/api/v1/catalog/rights",
        json={
            "item_id": film,
            "territory": "EU",
            "offer": "rental",
            "starts_at": iso(NOW),
            "ends_at": iso(NOW - timedelta(days=1)),
        },
        headers=admin.headers,
    )
    problem(backwards, 422, "validation_failed")
    problem(
        client.post(
            "/api/v1/catalog/rights",
            json={"item_id": 987654, "territory": "EU", "offer": "rental"},
            headers=admin.headers,
        ),
        404,
        "item_not_found",
    )


def test_the_migration_seeds_the_default_groups(database_url: str, tmp_path: Path) -> None:
    with empty_database(database_url, tmp_path) as url:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
        engine = sa.create_engine(url)
        try:
            migrations.upgrade(engine)
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text("SELECT group_key, count(*) FROM territory_group_members GROUP BY 1")
                ).all()
        finally:
            engine.dispose()
    seeded = dict(rows)
    assert seeded == {key: len(members) for key, (_, members) in DEFAULT_GROUPS.items()}


def test_a_merge_takes_grants_and_translations_along(
    client: TestClient, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    de, us = viewers["DE"], viewers["US"]
    source = played(client, de, {"kind": "film", "title": "Nosferatu", "year": 1922})
    target = played(client, de, {"kind": "film", "title": "Nosferatu (1922)", "year": 1922})
    grant(client, admin, source, "US", offer="rental")
    client.put(
        f"/api/v1/catalog/items/{source}/translations/de",
        json={"title": "Nosferatu – Eine Symphonie des Grauens"},
        headers=admin.headers,
    )
    assert [available(client, target, v) for v in (de, us)] == [True, True]
    merged = client.post(
        f"/api/v1/items/{source}/merge", json={"into": target}, headers=admin.headers
    )
    assert merged.status_code == 200, merged.text
    assert [available(client, target, v) for v in (de, us)] == [False, True]
    assert item_page(client, target, de)["title"] == "Nosferatu – Eine Symphonie des Grauens"
    listed = client.get(f"/api/v1/catalog/rights?item_id={target}", headers=admin.headers)
    assert [r["item"]["id"] for r in listed.json()["rights"]] == [target]
