"""Territorial rights wherever items are suggested, through the HTTP API on SQLite and
PostgreSQL: personal recommendations, stations, similar items, group recommendations and the
item context of ad decisions leave out what the viewer cannot watch in their country at that
moment, and lists still fill from the next candidates. Windows opening and closing, a live
blackout and a country moving in and out of a territory group count from the next answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tests.ads_helpers import Ads
from tests.conftest import Account, play
from tests.recs_helpers import quick_account, train_now
from tests.rights_helpers import NOW, Clock, grant, iso

LIMIT = 4
BACKGROUND = 8


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        mode=Mode.DEV,
        database_url=database_url,
        data_dir=tmp_path / "data",
        recs_reload_seconds=0,
        recs_blas_threads=0,
        stats_fold_seconds=0,
        audience_refresh_seconds=0,
    )


@pytest.fixture
def clock(runtime: Runtime) -> Clock:
    clock = Clock(NOW)
    runtime.clock = clock
    return clock


@dataclass
class World:
    ids: dict[str, int]
    """Title -> item id."""
    viewers: dict[str, Account]
    """Country -> a viewer there who played only the first item."""
    background: list[Account]

    @property
    def key(self) -> int:
        return self.ids["key"]


def _submit(client: TestClient, account: Account, plays: list[dict[str, Any]]) -> list[int]:
    response = client.post("/api/v1/plays/batch", json={"plays": plays}, headers=account.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rejected"] == 0, body
    return [r["item_id"] for r in body["results"]]


def _build(
    client: TestClient, runtime: Runtime, kind: str, items: dict[str, dict[str, Any]]
) -> World:
    """``items`` by name (``key`` the title under rights, ``first`` what everyone played):
    everybody in the background plays ``key`` and ``first`` and two others, so ``key`` is the
    best candidate for the viewers (who played ``first`` only) and most like ``first``."""
    names = list(items)
    others = [n for n in names if n not in ("key", "first")]
    ids: dict[str, int] = {}
    background = []
    for k in range(BACKGROUND):
        account = quick_account(runtime, f"fan{k}", "GB")
        chosen = ["key", "first", others[k % len(others)], others[(k + 3) % len(others)]]
        plays = [
            play(int((NOW - timedelta(days=10 + n, hours=k)).timestamp()), items[name])
            for n, name in enumerate(chosen)
        ]
        ids.update(zip(chosen, _submit(client, account, plays), strict=True))
        background.append(account)
    viewers = {}
    for country in ("DE", "BR", "US"):
        account = quick_account(runtime, f"viewer{country.lower()}", country)
        when = int((NOW - timedelta(days=5)).timestamp())
        _submit(client, account, [play(when, items["first"])])
        viewers[country] = account
    train_now(runtime, [kind], model="itemknn")
    return World(ids=ids, viewers=viewers, background=background)


def _films() -> dict[str, dict[str, Any]]:
    titles = {"key": "Licensed", "first": "Opening Night"}
    titles |= {f"f{n}": f"Film {n}" for n in range(2, 9)}
    return {name: {"kind": "film", "title": t, "year": 2000} for name, t in titles.items()}


@pytest.fixture
def films(client: TestClient, runtime: Runtime, clock: Clock) -> World:
    return _build(client, runtime, "film", _films())


def _get(client: TestClient, path: str, who: Account | None = None, **params: Any) -> Any:
    response = client.get(path, params=params, headers=who.headers if who else {})
    assert response.status_code == 200, response.text
    return response.json()


def recommended(client: TestClient, who: Account, kind: str = "film") -> list[int]:
    body = _get(client, f"/api/v1/users/{who.name}/recommendations", who, kind=kind, limit=LIMIT)
    assert body["source"] == "model", body
    return [e["item"]["id"] for e in body["recommendations"]]


def station(client: TestClient, who: Account, kind: str = "film") -> list[int]:
    body = _get(client, f"/api/v1/users/{who.name}/station", who, kind=kind, size=LIMIT)
    return [e["item"]["id"] for e in body["queue"]]


def similar(client: TestClient, item_id: int, who: Account | None = None) -> list[int]:
    body = _get(client, f"/api/v1/items/{item_id}/similar", who, limit=LIMIT)
    return [e["item"]["id"] for e in body["similar"]]


def _has_key(client: TestClient, world: World) -> dict[str, bool]:
    """Whether each viewer's recommendations hold the title under rights (and are full)."""
    out = {}
    for country, viewer in world.viewers.items():
        found = recommended(client, viewer)
        assert len(found) == LIMIT, (country, found)
        out[country] = world.key in found
    return out


def test_three_countries_get_different_suggestions(
    client: TestClient, admin: Account, films: World
) -> None:
    de, br, us = (films.viewers[c] for c in ("DE", "BR", "US"))
    first, key = films.ids["first"], films.key
    # Nothing granted yet: the title is everybody's best candidate.
    assert _has_key(client, films) == {"DE": True, "BR": True, "US": True}
    assert recommended(client, br)[0] == key

    grant(client, admin, key, "DE")
    assert _has_key(client, films) == {"DE": True, "BR": False, "US": False}

    queues = {c: station(client, v) for c, v in films.viewers.items()}
    assert all(len(q) == LIMIT for q in queues.values()), queues
    assert [key in queues[c] for c in ("DE", "BR", "US")] == [True, False, False]
    started = client.post(
        f"/api/v1/users/{br.name}/station", json={"kind": "film", "size": LIMIT}, headers=br.headers
    )
    assert started.status_code == 200, started.text
    assert key not in [e["item"]["id"] for e in started.json()["queue"]]

    assert key in similar(client, first, de)
    assert key not in similar(client, first, br)
    assert len(similar(client, first, us)) == LIMIT
    assert key in similar(client, first)  # anonymous: no country, no filter

    # A group of the background fans: what its members like, as each viewer sees it.
    owner = films.background[0]
    created = client.post("/api/v1/groups", json={"name": "Cinema"}, headers=owner.headers)
    assert created.status_code == 201, created.text
    for member in [*films.background[1:], de, br, us]:
        joined = client.post("/api/v1/groups/cinema/join", headers=member.headers)
        assert joined.status_code == 200, joined.text
    picks = {
        c: [
            p["item"]["id"]
            for p in _get(client, "/api/v1/groups/cinema/recommendations", v)["recommendations"]
        ]
        for c, v in films.viewers.items()
    }
    assert [key in picks[c] for c in ("DE", "BR", "US")] == [True, False, False]
    assert len(picks["BR"]) == len(picks["DE"]) - 1


def test_a_window_opens_and_closes(
    client: TestClient, admin: Account, films: World, clock: Clock
) -> None:
    opens, closes = NOW + timedelta(days=1), NOW + timedelta(days=31)
    grant(client, admin, films.key, "BR", starts_at=iso(opens), ends_at=iso(closes))
    assert _has_key(client, films) == {"DE": False, "BR": False, "US": False}
    clock.set(opens)
    assert _has_key(client, films) == {"DE": False, "BR": True, "US": False}
    assert films.key in station(client, films.viewers["BR"])
    clock.set(closes)
    assert _has_key(client, films) == {"DE": False, "BR": False, "US": False}
    assert films.key not in station(client, films.viewers["BR"])


def test_a_live_blackout(
    client: TestClient, admin: Account, runtime: Runtime, clock: Clock
) -> None:
    kickoff = NOW + timedelta(hours=2)
    teams = [("Bayern", "Dortmund"), ("Koeln", "Mainz")]
    teams += [(f"Team {n}", f"Team {n + 10}") for n in range(7)]
    names = ["key", "first", *(f"m{n}" for n in range(7))]
    matches = {
        name: {
            "kind": "match",
            "competition": "Bundesliga",
            "home": home,
            "away": away,
            "starts_at": iso(kickoff if name == "key" else NOW - timedelta(days=20)),
        }
        for name, (home, away) in zip(names, teams, strict=True)
    }
    world = _build(client, runtime, "match", matches)
    competition = _get(client, f"/api/v1/items/{world.key}")["parent"]["id"]
    grant(client, admin, competition, "WORLD", offer="ad_supported")
    blackout = client.post(
        "/api/v1/catalog/blackouts",
        json={
            "item_id": world.key,
            "territories": ["US"],
            "starts_at": iso(kickoff),
            "ends_at": iso(kickoff + timedelta(hours=2)),
        },
        headers=admin.headers,
    )
    assert blackout.status_code == 201, blackout.text

    us, de = world.viewers["US"], world.viewers["DE"]
    assert world.key in recommended(client, us, "match")
    clock.set(kickoff + timedelta(minutes=30))
    during = recommended(client, us, "match")
    assert world.key not in during
    assert len(during) == LIMIT
    assert world.key in recommended(client, de, "match")
    assert world.key not in station(client, us, "match")
    assert world.key not in similar(client, world.ids["first"], us)
    clock.set(kickoff + timedelta(hours=2))
    assert world.key in recommended(client, us, "match")


def test_a_country_moving_in_and_out_of_a_group_changes_recommendations_at_once(
    client: TestClient, admin: Account, films: World
) -> None:
    created = client.put(
        "/api/v1/catalog/territory-groups/LAUNCH",
        json={"name": "Launch markets", "countries": ["DE", "FR"]},
        headers=admin.headers,
    )
    assert created.status_code == 200, created.text
    grant(client, admin, films.key, "LAUNCH")
    assert _has_key(client, films) == {"DE": True, "BR": False, "US": False}
    joined = client.put(
        "/api/v1/catalog/territory-groups/LAUNCH/countries/BR", headers=admin.headers
    )
    assert joined.status_code == 200, joined.text
    assert _has_key(client, films) == {"DE": True, "BR": True, "US": False}
    left = client.delete(
        "/api/v1/catalog/territory-groups/LAUNCH/countries/DE", headers=admin.headers
    )
    assert left.status_code == 200, left.text
    assert _has_key(client, films) == {"DE": False, "BR": True, "US": False}


def test_ads_do_not_target_what_the_viewer_cannot_be_watching(
    client: TestClient, admin: Account, films: World
) -> None:
    ads = Ads(client, admin)
    ads.placement("player")
    campaign = ads.campaign(ads.advertiser(), starts_at="2025-01-01T00:00:00Z")
    for_films, _ = ads.line_item(campaign, "4.000", targeting={"kinds": ["film"]})
    anything, _ = ads.line_item(campaign, "1.000")
    grant(client, admin, films.key, "DE")

    def served(country: str, item_id: int) -> int:
        return ads.served("player", country=country, item_id=item_id, anonymous_id="v1")

    assert served("DE", films.key) == for_films
    assert served("BR", films.key) == anything  # not available in Brazil: no film context
    assert served("BR", films.ids["first"]) == for_films
