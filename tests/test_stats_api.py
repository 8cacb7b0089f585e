"""Charts and profiles through the HTTP API: every level, periods, time zones, privacy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track

NOW = datetime.now(UTC).replace(microsecond=0)


def _ts(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


def _submit(client: TestClient, account: Account, plays: list[Any]) -> None:
    response = client.post("/api/v1/plays/batch", json={"plays": plays}, headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0, response.text


def _chart(client: TestClient, url: str, account: Account | None = None, **params: Any) -> Any:
    response = client.get(url, params=params, headers=account.headers if account else {})
    assert response.status_code == 200, response.text
    return response.json()


def _titles(chart: Any) -> list[tuple[str, int]]:
    return [(e["item"]["title"], e["plays"]) for e in chart["entries"]]


MIXED = [
    play(_ts(1), track("Halo", "Beyoncé", album="I Am... Sasha Fierce")),
    play(_ts(2), track("Halo", "Beyoncé", album="I Am... Sasha Fierce")),
    play(_ts(3), track("Drunk in Love", "Beyoncé feat. JAY-Z", album="BEYONCÉ")),
    play(_ts(40), track("99 Problems", "JAY-Z", album="The Black Album")),
    play(_ts(200), track("Halo", "Beyoncé", album="I Am... Sasha Fierce")),
    play(_ts(1), {"kind": "episode", "show": "Borgen", "season": 1, "episode": 1}),
    play(_ts(1.5), {"kind": "episode", "show": "Borgen", "season": 1, "episode": 2}),
    play(_ts(5), {"kind": "episode", "show": "Dark", "episode": 1, "title": "Secrets"}),
    play(_ts(2), {"kind": "film", "title": "Amélie", "year": 2001}),
    play(
        _ts(4),
        {
            "kind": "match",
            "competition": "Bundesliga",
            "home": "FC Bayern",
            "away": "BVB",
            "starts_at": (NOW - timedelta(days=4)).isoformat(),
        },
    ),
    play(_ts(6), {"kind": "story", "outlet": "NHK", "programme": "News 7", "title": "台風"}),
    play(_ts(7), {"kind": "programme", "outlet": "NHK", "title": "News 7"}),
]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("artist", [("Beyoncé", 4), ("JAY-Z", 1)]),
        ("album", [("I Am... Sasha Fierce", 3), ("BEYONCÉ", 1), ("The Black Album", 1)]),
        ("track", [("Halo", 3), ("Drunk in Love", 1), ("99 Problems", 1)]),
        ("show", [("Borgen", 2), ("Dark", 1)]),
        ("season", [("Borgen – season 1", 2)]),
        ("episode", [("Borgen S01E01", 1), ("Borgen S01E02", 1), ("Secrets", 1)]),
        ("film", [("Amélie", 1)]),
        ("competition", [("Bundesliga", 1)]),
        ("team", [("FC Bayern", 1), ("BVB", 1)]),
        ("match", [("FC Bayern – BVB", 1)]),
        ("outlet", [("NHK", 2)]),
        ("programme", [("News 7", 1)]),
        ("story", [("台風", 1)]),
    ],
)
def test_every_level_overall(
    client: TestClient, alice: Account, level: str, expected: list[tuple[str, int]]
) -> None:
    _submit(client, alice, MIXED)
    chart = _chart(client, f"/api/v1/users/alice/charts/{level}", period="overall")
    assert sorted(_titles(chart), key=lambda t: (-t[1], t[0])) == sorted(
        expected, key=lambda t: (-t[1], t[0])
    )
    assert chart["timezone"] == "Europe/Berlin"
    assert chart["total"] == len(expected)


@pytest.mark.parametrize(
    ("period", "halo_plays"),
    [("7day", 2), ("1month", 2), ("3month", 2), ("6month", 2), ("12month", 3), ("overall", 3)],
)
def test_periods(client: TestClient, alice: Account, period: str, halo_plays: int) -> None:
    _submit(client, alice, MIXED)
    chart = _chart(client, "/api/v1/users/alice/charts/track", period=period)
    assert dict(_titles(chart)).get("Halo") == halo_plays


def test_custom_range_paging_and_site_charts(
    client: TestClient, alice: Account, register: Any
) -> None:
    bob = register("bob", country="BR")
    _submit(client, alice, MIXED)
    _submit(client, bob, [play(_ts(1), track("Halo", "Beyoncé")), play(_ts(1.1), track("x", "y"))])
    start = (NOW - timedelta(days=2.5)).isoformat()
    custom = _chart(client, "/api/v1/users/alice/charts/track", **{"from": start})
    assert custom["period"] == "custom"
    assert dict(_titles(custom)) == {"Halo": 2}
    page = _chart(client, "/api/v1/users/alice/charts/track", limit=1, offset=1)
    assert page["entries"][0]["rank"] == 2
    assert page["total"] == 3
    site = _chart(client, "/api/v1/charts/track", period="7day")
    halo = next(e for e in site["entries"] if e["item"]["title"] == "Halo")
    assert (halo["plays"], halo["listeners"]) == (3, 2)
    geo = _chart(client, "/api/v1/charts/artist", period="7day", country="BR")
    assert _titles(geo) == [("Beyoncé", 1), ("y", 1)]
    bad = client.get("/api/v1/charts/artist", params={"country": "XX"})
    assert bad.status_code == 422
    backwards = client.get(
        "/api/v1/users/alice/charts/track", params={"from": NOW.isoformat(), "to": start}
    )
    assert backwards.status_code == 422


def test_tag_charts_and_tags(client: TestClient, alice: Account) -> None:
    _submit(client, alice, MIXED)
    beyonce = client.get("/api/v1/items", params={"q": "beyonce", "kind": "artist"}).json()
    artist_id = beyonce["items"][0]["id"]
    client.post(f"/api/v1/items/{artist_id}/tags", json={"tags": ["rnb"]}, headers=alice.headers)
    tagged = _chart(client, "/api/v1/charts/artist", period="12month", tag="RnB")
    assert _titles(tagged) == [("Beyoncé", 4)]
    tags = client.get("/api/v1/users/alice/tags").json()
    assert tags[0] == {"name": "rnb", "weight": 4}


def test_incognito_plays_never_count(client: TestClient, alice: Account) -> None:
    _submit(
        client,
        alice,
        [play(_ts(1), track("Public", "A")), play(_ts(1.2), track("Secret", "A"), incognito=True)],
    )
    mine = _chart(client, "/api/v1/users/alice/charts/track", alice)
    assert _titles(mine) == [("Public", 1)]
    site = _chart(client, "/api/v1/charts/track", period="7day")
    assert [t for t, _ in _titles(site)] == ["Public"]


def test_privacy_of_charts(client: TestClient, register: Any, runtime: Runtime) -> None:
    owner = register("owner")
    friend = register("friend")
    stranger = register("stranger")
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        pair = (svc.accounts.get_by_name("owner").id, svc.accounts.get_by_name("friend").id)
        svc.social.befriend([pair])
    _submit(client, owner, [play(_ts(1), track("Song", "Band"))])
    client.patch("/api/v1/me", json={"visibility": "friends"}, headers=owner.headers)
    for path in ("charts/track", "summary", "clock", "weeks", "tags", "discoveries"):
        url = f"/api/v1/users/owner/{path}"
        codes = [
            client.get(url, headers=who.headers if who else {}).status_code
            for who in (None, stranger, friend, owner)
        ]
        assert codes == [404, 404, 200, 200], path
    song = client.get("/api/v1/items", params={"q": "song", "kind": "track"}).json()["items"][0]
    listeners = client.get(f"/api/v1/items/{song['id']}/listeners", headers=stranger.headers)
    assert listeners.json() == []
    as_friend = client.get(f"/api/v1/items/{song['id']}/listeners", headers=friend.headers)
    assert [entry["user"] for entry in as_friend.json()] == ["owner"]
    # The site-wide chart counts the play: aggregates reveal no one.
    assert _titles(_chart(client, "/api/v1/charts/track", period="7day")) == [("Song", 1)]


def test_week_boundaries_in_local_time_across_dst(client: TestClient, alice: Account) -> None:
    # 23:30 in Berlin on Sunday 31 March 2024, the day summer time began: 21:30 UTC.
    sunday_night = int(datetime(2024, 3, 31, 21, 30, tzinfo=UTC).timestamp())
    monday_morning = int(datetime(2024, 3, 31, 22, 30, tzinfo=UTC).timestamp())  # 00:30 Monday
    _submit(
        client,
        alice,
        [play(sunday_night, track("Sunday", "A")), play(monday_morning, track("Monday", "A"))],
    )
    weeks = _chart(client, "/api/v1/users/alice/weeks")["weeks"]
    assert weeks == [
        {"from": "2024-03-24T23:00:00Z", "to": "2024-03-31T22:00:00Z"},
        {"from": "2024-03-31T22:00:00Z", "to": "2024-04-07T22:00:00Z"},
    ]
    first = _chart(
        client,
        "/api/v1/users/alice/charts/track",
        **{"from": weeks[0]["from"], "to": weeks[0]["to"]},
    )
    assert _titles(first) == [("Sunday", 1)]
    # The same plays counted in Tokyo fall into one week.
    tokyo = _chart(client, "/api/v1/users/alice/weeks", tz="Asia/Tokyo")["weeks"]
    assert len(tokyo) == 1
    assert tokyo[0]["from"] == "2024-03-31T15:00:00Z"


def test_calendar_periods_are_local(client: TestClient, alice: Account) -> None:
    chart = _chart(client, "/api/v1/users/alice/charts/track", period="this_month", tz="Asia/Tokyo")
    local_start = datetime.fromisoformat(chart["from"]).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Tokyo")
    )
    assert (local_start.day, local_start.hour, local_start.minute) == (1, 0, 0)
    assert chart["timezone"] == "Asia/Tokyo"
    bad = client.get("/api/v1/users/alice/charts/track", params={"tz": "Nowhere/Town"})
    assert bad.status_code == 422


def test_summary_clock_streaks_discoveries(client: TestClient, alice: Account) -> None:
    _submit(client, alice, MIXED)
    summary = _chart(client, "/api/v1/users/alice/summary")
    assert summary["plays"] == len(MIXED)
    shares = {s["domain"]: s["plays"] for s in summary["shares"]}
    assert shares == {"music": 5, "tv": 3, "film": 1, "sports": 1, "news": 2}
    assert summary["streaks"]["longest"] >= 7  # plays on days 1..7 ago
    clock = _chart(client, "/api/v1/users/alice/clock")
    assert sum(map(sum, clock["grid"])) == len(MIXED)
    assert len(clock["grid"]) == 7
    assert all(len(row) == 24 for row in clock["grid"])
    found = _chart(client, "/api/v1/users/alice/discoveries", level="artist")
    assert sum(w["new_items"] for w in found["weeks"]) == 2


def test_trending_and_item_stats(client: TestClient, alice: Account, register: Any) -> None:
    bob = register("bob")
    _submit(client, alice, [play(_ts(0.1 + i / 10), track("Rising", "New Band")) for i in range(5)])
    _submit(client, bob, [play(_ts(10), track("Old", "Old Band"))])
    trends = client.get("/api/v1/charts/track/trending").json()
    assert [t["item"]["title"] for t in trends] == ["Rising"]
    assert trends[0]["plays"] == 5
    item_id = trends[0]["item"]["id"]
    stats = client.get(f"/api/v1/items/{item_id}/stats", headers=alice.headers).json()
    assert (stats["plays"], stats["listeners"], stats["your_plays"]) == (5, 1, 5)


def test_year_in_review(client: TestClient, alice: Account) -> None:
    when = [datetime(2024, m, 10, 12, tzinfo=UTC) for m in (1, 1, 2, 12)]
    _submit(
        client, alice, [play(int(w.timestamp()), track(f"S{i}", "A")) for i, w in enumerate(when)]
    )
    # New Year's Eve 23:30 in Berlin is 2024 there, though 22:30 UTC.
    _submit(
        client,
        alice,
        [play(int(datetime(2024, 12, 31, 22, 30, tzinfo=UTC).timestamp()), track("Eve", "A"))],
    )
    review = client.get("/api/v1/users/alice/year/2024").json()
    assert review["plays"] == 5
    assert review["months"][0] == 2
    assert review["months"][11] == 2
    assert review["top"]["artist"][0]["plays"] == 5
    assert review["poster"].startswith("<svg")
    svg = client.get("/api/v1/users/alice/year/2024.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "alice" in svg.text
    assert client.get("/api/v1/users/alice/year/1999").status_code == 422
