"""The listening and discovery pages over HTTP, on SQLite and PostgreSQL: profiles, item pages
of every kind, charts, search, recommendations with feedback, stations, the year in review and
the home page — each shown only as far as the privacy rules let the viewer see."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track
from tests.recs_helpers import build_community, scene_plays, train_now
from tests.social_helpers import ago, befriend, ok, submit
from tests.web_ui_helpers import csrf_of, sign_up

MATCH_TEAMS = {"competition": "Premier League", "home": "Arsenal", "away": "Chelsea"}


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


def _token(client: TestClient, name: str, password: str = "correct horse") -> Account:
    """An API token for a user who signed up through the pages."""
    body = ok(client.post("/api/v1/auth/login", json={"name": name, "password": password}))
    return Account(name=name, token=body["token"])


def _main(page: Any) -> str:
    """The page's <main>, where privacy matters (the header names the viewer)."""
    assert page.status_code == 200, page.text[:2000]
    return str(page.text.split("<main", 1)[1])


def _section(page: Any, heading_id: str) -> str:
    text = _main(page).split(f'id="{heading_id}"', 1)[1]
    return text.split("</section>", 1)[0]


def _item_id(client: TestClient, title: str, kind: str) -> int:
    found = ok(client.get("/api/v1/items", params={"q": title, "kind": kind}))["items"]
    matches = [i["id"] for i in found if i["title"] == title]
    assert matches, (title, kind, found)
    return int(matches[0])


def _post(client: TestClient, path: str, **form: str) -> Any:
    return client.post(
        path, data={**form, "csrf_token": csrf_of(client, "/")}, follow_redirects=False
    )


# -- profile ----------------------------------------------------------------------------------


def test_profile_shows_every_section(client: TestClient, register: Any) -> None:
    sign_up(client, "maria")
    maria = _token(client, "maria")
    plays = [
        play(ago(days=2), track("Halo", "Beyoncé", album="I Am... Sasha Fierce")),
        play(ago(days=3), track("Halo", "Beyoncé", album="I Am... Sasha Fierce")),
        play(ago(days=4), track("Formation", "Beyoncé")),
        play(ago(days=5), {"kind": "episode", "show": "Borgen", "season": 1, "episode": 2}),
    ]
    submit(client, maria, plays)
    halo = _item_id(client, "Halo", "track")
    assert _post(client, f"/items/{halo}/feedback", sentiment="love").status_code == 303
    ok(client.post("/api/v1/groups", json={"name": "Bey Hive"}, headers=maria.headers), 201)

    page = client.get("/user/maria")
    main = _main(page)
    assert "Beyoncé" in _section(page, "top-heading")  # artists first: music leads
    assert 'href="/items/' in main
    assert "4 plays in this period" in main
    assert "Music" in main
    assert "TV" in main
    assert "Listening clock" in main
    assert "Halo" in _section(page, "loved-heading")
    assert "Bey Hive" in _section(page, "groups-heading")
    assert "trained" in _section(page, "neighbours-heading")  # no model yet
    assert "Your compatibility" not in main  # one's own profile
    assert f"/user/maria/year/{datetime.now(UTC).year}" in main

    shows = client.get("/user/maria?period=overall&level=show")
    assert "Borgen" in _section(shows, "top-heading")
    assert 'aria-current="page">All time' in _main(shows)
    assert client.get("/user/maria?level=planet").status_code == 404

    # Another signed-in viewer sees the compatibility of their taste with maria's.
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    sign_up(client, "jonas")
    submit(client, _token(client, "jonas"), [play(ago(days=1), track("Halo", "Beyoncé"))])
    seen = client.get("/user/maria")
    compat = _section(seen, "compat-heading")
    assert "<meter" in compat
    assert "Halo" in compat or "Beyoncé" in compat


def test_profile_hides_what_privacy_hides(client: TestClient, register: Any) -> None:
    quiet = register("quiet")
    submit(client, quiet, [play(ago(days=1), track("Secret Song", "Nobody"))])
    ok(client.patch("/api/v1/me", json={"hide_recent_activity": True}, headers=quiet.headers))
    page = client.get("/user/quiet?period=overall")
    assert "Secret Song" not in _section(page, "recent-heading")
    hidden = register("hidden")
    ok(client.patch("/api/v1/me", json={"visibility": "private"}, headers=hidden.headers))
    for path in ("/user/hidden", f"/user/hidden/year/{datetime.now(UTC).year}"):
        assert client.get(path).status_code == 404
    assert client.get(f"/user/hidden/year/{datetime.now(UTC).year}.svg").status_code == 404


# -- items ------------------------------------------------------------------------------------


def test_an_item_page_for_every_kind(client: TestClient, register: Any) -> None:
    fan = register("fan")
    now = datetime.now(UTC).replace(microsecond=0)
    items = [
        track("Halo", "Beyoncé", album="I Am... Sasha Fierce", duration=261),
        {"kind": "episode", "show": "Borgen", "season": 1, "episode": 1, "title": "Decency"},
        {"kind": "film", "title": "Past Lives", "year": 2023, "director": "Celine Song"},
        {**MATCH_TEAMS, "kind": "match", "starts_at": now.isoformat()},
        {"kind": "story", "outlet": "The Guardian", "title": "A story", "programme": "Daily"},
    ]
    submit(client, fan, [play(ago(minutes=30 + n), item) for n, item in enumerate(items)])
    expected = {
        ("Halo", "track"): "I Am... Sasha Fierce",
        ("I Am... Sasha Fierce", "album"): "Halo",
        ("Beyoncé", "artist"): "Halo",
        ("Decency", "episode"): "Borgen",
        ("Borgen", "show"): "Season",
        ("Past Lives", "film"): "Celine Song",
        ("Premier League", "competition"): "Arsenal",
        ("Arsenal", "team"): "Premier League",
        ("Chelsea", "team"): "Matches",
        ("The Guardian", "outlet"): "A story",
        ("A story", "story"): "The Guardian",
    }
    for (title, kind), shown in expected.items():
        item_id = _item_id(client, title, kind)
        page = client.get(f"/items/{item_id}")
        main = _main(page)
        assert f"<h1>{title}" in main.replace("&#39;", "'"), (title, kind)
        assert shown in main, (title, kind, shown)
        assert "Top listeners" in main
        assert ">fan</a>" in _section(page, "listeners-heading"), (title, kind)
    match = next(
        i["id"]
        for i in ok(client.get("/api/v1/items", params={"q": "Arsenal", "kind": "match"}))["items"]
    )
    assert "Live audience" in _main(client.get(f"/items/{match}"))
    assert client.get("/items/999999").status_code == 404
    assert client.get("/items/abc").status_code == 404


def test_item_listeners_and_shouts_respect_privacy(client: TestClient, register: Any) -> None:
    public, private, friendly = register("public"), register("private"), register("friendly")
    ok(client.patch("/api/v1/me", json={"visibility": "private"}, headers=private.headers))
    ok(client.patch("/api/v1/me", json={"visibility": "friends"}, headers=friendly.headers))
    for account in (public, private, friendly):
        submit(client, account, [play(ago(hours=2), track("Halo", "Beyoncé"))])
    halo = _item_id(client, "Halo", "track")

    anonymous = _section(client.get(f"/items/{halo}"), "listeners-heading")
    assert ">public</a>" in anonymous
    assert ">private</a>" not in anonymous
    assert ">friendly</a>" not in anonymous
    assert "Log in to shout" in _main(client.get(f"/items/{halo}"))

    sign_up(client, "viewer")
    befriend(client, _token(client, "viewer"), friendly)
    mine = _section(client.get(f"/items/{halo}"), "listeners-heading")
    assert ">friendly</a>" in mine
    assert ">private</a>" not in mine

    # Shouts: a form with the CSRF token; without it the post is refused.
    refused = client.post(f"/items/{halo}/shouts", data={"body": "no token"})
    assert refused.status_code == 403
    posted = _post(client, f"/items/{halo}/shouts", body="<b>Queen</b> https://example.org/x")
    assert posted.status_code == 303
    assert re.match(rf"/items/{halo}#shout-\d+$", posted.headers["location"])
    shouts = _section(client.get(f"/items/{halo}"), "shouts-heading")
    assert "&lt;b&gt;Queen&lt;/b&gt;" in shouts
    assert '<a href="https://example.org/x" rel="nofollow ugc noopener">' in shouts
    assert _post(client, f"/items/{halo}/shouts", body="   ").status_code == 422

    # Someone the viewer blocked disappears from the listeners and the shouts.
    ok(
        client.post(f"/api/v1/items/{halo}/shouts", json={"body": "hi"}, headers=public.headers),
        201,
    )
    ok(client.put("/api/v1/me/blocks/public", headers=_token(client, "viewer").headers), 204)
    page = client.get(f"/items/{halo}")
    assert ">public</a>" not in _section(page, "listeners-heading")
    assert ">public</a>" not in _section(page, "shouts-heading")


def test_top_listeners_of_a_show_and_an_outlet_count_what_is_under_them(
    client: TestClient, register: Any
) -> None:
    heavy, light, hidden = register("heavy"), register("light"), register("hidden")
    ok(client.patch("/api/v1/me", json={"visibility": "private"}, headers=hidden.headers))
    borgen = [
        {"kind": "episode", "show": "Borgen", "season": s, "episode": e, "title": f"S{s}E{e}"}
        for s, e in ((1, 1), (1, 2), (2, 1))
    ]
    guardian = [
        {"kind": "story", "outlet": "The Guardian", "programme": "Daily", "title": "Morning"},
        {"kind": "story", "outlet": "The Guardian", "title": "Evening"},
    ]
    other = {"kind": "episode", "show": "Succession", "season": 1, "episode": 1, "title": "Pilot"}
    submit(client, heavy, [play(ago(minutes=10 + n), i) for n, i in enumerate(borgen + guardian)])
    submit(
        client,
        light,
        [play(ago(minutes=40), borgen[2]), play(ago(minutes=41), guardian[1])]
        + [play(ago(minutes=42 + n), other) for n in range(5)],
    )
    # The private listener played most, and is never named.
    submit(client, hidden, [play(ago(minutes=60 + n), i) for n, i in enumerate(borgen * 3)])
    for title, kind, expected in (
        ("Borgen", "show", [("heavy", 3), ("light", 1)]),
        ("The Guardian", "outlet", [("heavy", 2), ("light", 1)]),
        ("Succession", "show", [("light", 5)]),
    ):
        item_id = _item_id(client, title, kind)
        listeners = ok(client.get(f"/api/v1/items/{item_id}/listeners"))
        assert [(e["user"], e["plays"]) for e in listeners] == expected, title
        section = _section(client.get(f"/items/{item_id}"), "listeners-heading")
        for name, _ in expected:
            assert f">{name}</a>" in section, (title, name)
        assert ">hidden</a>" not in section
    # The owner sees themself among the listeners.
    mine = ok(
        client.get(
            f"/api/v1/items/{_item_id(client, 'Borgen', 'show')}/listeners", headers=hidden.headers
        )
    )
    assert next((e["user"], e["plays"]) for e in mine) == ("hidden", 9)


def test_tags_and_feedback_on_an_item(client: TestClient) -> None:
    sign_up(client, "tagger")
    submit(client, _token(client, "tagger"), [play(ago(hours=1), track("Halo", "Beyoncé"))])
    halo = _item_id(client, "Halo", "track")
    assert _post(client, f"/items/{halo}/tags", tags="soul, pop").status_code == 303
    tags = _section(client.get(f"/items/{halo}"), "tags-heading")
    assert "/charts?level=track&amp;tag=soul" in tags
    assert _post(client, f"/items/{halo}/tags", tags=" , ").status_code == 422

    loved = _post(client, f"/items/{halo}/feedback", sentiment="love", next=f"/items/{halo}")
    assert loved.headers["location"] == f"/items/{halo}"
    page = _main(client.get(f"/items/{halo}"))
    assert 'value="clear" aria-pressed="true"' in page
    assert "Halo" in _section(client.get("/user/tagger"), "loved-heading")
    _post(client, f"/items/{halo}/feedback", sentiment="clear")
    assert "Halo" not in _section(client.get("/user/tagger"), "loved-heading")
    assert _post(client, f"/items/{halo}/feedback", sentiment="adore").status_code == 400
    offsite = _post(client, f"/items/{halo}/feedback", sentiment="love", next="//evil.example")
    assert offsite.headers["location"] == f"/items/{halo}"
    # Signed out, acting on an item asks to log in first.
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    asked = _post(client, f"/items/{halo}/feedback", sentiment="love")
    assert asked.headers["location"].startswith("/login?next=")


def test_item_titles_in_the_viewers_language(
    client: TestClient, admin: Account, register: Any
) -> None:
    fan = register("fan")
    submit(client, fan, [play(ago(hours=1), track("Halo", "Beyoncé"))])
    halo = _item_id(client, "Halo", "track")
    ok(
        client.put(
            f"/api/v1/catalog/items/{halo}/translations/ja",
            json={"title": "ヘイロー"},
            headers=admin.headers,
        )
    )
    beyonce = _item_id(client, "Beyoncé", "artist")
    ok(
        client.put(
            f"/api/v1/catalog/items/{beyonce}/translations/ja",
            json={"title": "ビヨンセ"},
            headers=admin.headers,
        )
    )
    japanese = client.get(f"/items/{halo}", headers={"Accept-Language": "ja"})
    assert '<html lang="ja">' in japanese.text
    assert f'<a href="/items/{beyonce}">ビヨンセ</a>' in _main(japanese)  # the credits too
    assert "<h1>ヘイロー" in _main(japanese)
    assert "Halo" in _main(japanese)  # the original title beside it
    profile = client.get("/user/fan?period=overall&level=track", headers={"Accept-Language": "ja"})
    assert "ヘイロー" in _section(profile, "top-heading")
    english = client.get(f"/items/{halo}")
    assert "<h1>Halo" in _main(english)


# -- charts, search, home ---------------------------------------------------------------------


def test_charts_global_country_tag_and_switchers(client: TestClient, register: Any) -> None:
    german = register("german", country="DE")
    french = register("french", country="FR")
    submit(client, german, [play(ago(hours=h + 1), track("Halo", "Beyoncé")) for h in range(3)])
    submit(client, french, [play(ago(hours=1), track("La Vie en rose", "Édith Piaf"))])
    piaf = _item_id(client, "Édith Piaf", "artist")
    ok(
        client.post(
            f"/api/v1/items/{piaf}/tags", json={"tags": ["chanson"]}, headers=french.headers
        )
    )

    page = client.get("/charts")
    chart = _section(page, "chart-heading")
    assert chart.index("Beyoncé") < chart.index("Édith Piaf")
    assert "<svg" in chart
    assert "<table" in chart
    assert 'aria-current="page">Last 7 days' in _main(page)
    assert 'href="/charts?level=track&amp;period=7day"' in _main(page)
    france = _section(client.get("/charts?country=FR"), "chart-heading")
    assert "Édith Piaf" in france
    assert "Beyoncé" not in france
    tagged = _section(client.get("/charts?tag=chanson&period=overall"), "chart-heading")
    assert "Édith Piaf" in tagged
    assert "Beyoncé" not in tagged
    tracks = _section(client.get("/charts?level=track"), "chart-heading")
    assert "Halo" in tracks
    for bad in ("/charts?country=XX", "/charts?period=forever", "/charts?level=planet"):
        assert client.get(bad).status_code == 404, bad
    french_page = client.get("/charts", headers={"Accept-Language": "fr"})
    assert "Classements" in french_page.text or "Charts" not in _main(french_page)


def test_search_items_and_people(client: TestClient, register: Any) -> None:
    public = register("beyhive", display_name="Bey Hive")
    hidden = register("beysecret")
    ok(client.patch("/api/v1/me", json={"visibility": "private"}, headers=hidden.headers))
    submit(client, public, [play(ago(hours=1), track("Halo", "Beyoncé"))])

    page = client.get("/search?q=bey")
    items = _section(page, "items-heading")
    assert "Beyoncé" in items
    people = _section(page, "people-heading")
    assert "Bey Hive" in people
    assert "beysecret" not in people
    only = _main(client.get("/search?q=halo&kind=track"))
    assert "Halo" in only
    assert "people-heading" not in only
    assert "Nothing in the catalogue matches" in _main(client.get("/search?q=zzzzqq"))
    assert client.get("/search").status_code == 200
    assert client.get("/search?q=x&kind=planet").status_code == 404


def test_home_trending_live_and_friends(client: TestClient, register: Any) -> None:
    friend = register("friend")
    stranger = register("stranger")
    submit(
        client,
        friend,
        [play(ago(hours=h + 1), track(f"Song {h % 3}", "Rising Star")) for h in range(6)],
    )
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    match = {**MATCH_TEAMS, "kind": "match", "starts_at": now}
    ok(client.put("/api/v1/now-playing", json={"item": match}, headers=stranger.headers))
    ok(
        client.put(
            "/api/v1/now-playing",
            json={"item": track("Halo", "Beyoncé", duration=300)},
            headers=friend.headers,
        )
    )
    anonymous = client.get("/")
    assert "Rising Star" in _section(anonymous, "trending-heading")
    live = _section(anonymous, "live-heading")
    assert "Arsenal" in live
    assert "1 watching" in live
    assert "friends-now-heading" not in _main(anonymous)

    sign_up(client, "homebody")
    befriend(client, _token(client, "homebody"), friend)
    page = client.get("/")
    assert "Halo" in _section(page, "friends-now-heading")
    assert ">friend</a>" in _section(page, "activity-heading")
    shows = _section(client.get("/?trending=show"), "trending-heading")
    assert "Rising Star" not in shows
    assert client.get("/?trending=planet").status_code == 404


# -- recommendations and stations -------------------------------------------------------------


def test_recommendations_feedback_changes_the_next_list(
    client: TestClient, runtime: Runtime
) -> None:
    build_community(client, runtime, sizes={"rock": 4, "jazz": 4})
    train_now(runtime, ["mixed", "track", "artist"])
    assert client.get("/recommendations", follow_redirects=False).headers["location"] == (
        "/login?next=%2Frecommendations"
    )
    sign_up(client, "listener")
    import random

    submit(client, _token(client, "listener"), scene_plays("rock", random.Random(3), share=0.5))

    def listed(path: str) -> list[str]:
        section = _section(client.get(path), "recs-heading")
        return re.findall(r'<a class="item-title" href="/items/(\d+)">', section)

    first = listed("/recommendations?kind=track")
    assert first
    page = _main(client.get("/recommendations?kind=track"))
    assert "Because you listened to" in page
    for sentiment in ("love", "hate", "not_interested", "bad_recommendation"):
        assert f'name="sentiment" value="{sentiment}"' in page
    target = first[0]
    done = _post(
        client,
        f"/items/{target}/feedback",
        sentiment="bad_recommendation",
        next="/recommendations?kind=track",
    )
    assert done.headers["location"] == "/recommendations?kind=track"
    assert target not in listed("/recommendations?kind=track")
    assert listed("/recommendations")  # every kind together
    assert listed("/recommendations?kind=show&based_on=music") is not None
    french = client.get("/recommendations?kind=track", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in french.text  # the account's language wins
    assert client.get("/recommendations?based_on=cooking").status_code == 404


def test_stations_start_and_page(client: TestClient, runtime: Runtime) -> None:
    build_community(client, runtime, sizes={"rock": 4, "jazz": 4})
    train_now(runtime, ["track"])
    sign_up(client, "radio")
    import random

    submit(client, _token(client, "radio"), scene_plays("jazz", random.Random(5), share=0.3))
    assert "What to play" in _main(client.get("/stations"))
    started = _post(client, "/stations", kind="track", shuffle="on")
    assert started.status_code == 303
    station = started.headers["location"]
    assert re.fullmatch(r"/stations/\d+", station)
    page = client.get(station)
    queue = _section(page, "queue-heading")
    first = re.findall(r'href="/items/(\d+)"', queue)
    assert first
    again = re.findall(r'href="/items/(\d+)"', _section(client.get(station), "queue-heading"))
    assert again == first  # a page read again is what was served
    assert _post(client, "/stations", kind="artist").status_code == 400
    other = TestClient(client.app)
    assert other.get(station, follow_redirects=False).status_code == 303  # log in first
    sign_up(other, "snoop")
    assert other.get(station).status_code == 404  # someone else's station


# -- year in review ---------------------------------------------------------------------------


def test_year_in_review_page_and_poster(client: TestClient, register: Any) -> None:
    fan = register("fan")
    submit(client, fan, [play(ago(days=d), track(f"Song {d}", "Beyoncé")) for d in range(1, 4)])
    year = datetime.fromtimestamp(ago(days=2), UTC).year
    page = client.get(f"/user/fan/year/{year}")
    main = _main(page)
    assert "Beyoncé" in main
    assert "Plays per month" in main
    assert f'src="/user/fan/year/{year}.svg"' in main
    poster = client.get(f"/user/fan/year/{year}.svg")
    assert poster.status_code == 200
    assert poster.headers["content-type"].startswith("image/svg+xml")
    assert poster.text.startswith("<svg")
    assert client.get("/user/fan/year/1999").status_code == 404
    assert client.get(f"/user/ghost/year/{year}").status_code == 404
    german = client.get(f"/user/fan/year/{year}", headers={"Accept-Language": "de"})
    assert "Wiedergaben" in german.text or "Rückblick" in german.text


def test_year_in_review_charts_and_poster_speak_the_page_language(
    client: TestClient, admin: Account, register: Any
) -> None:
    fan = register("fan")
    when = datetime(datetime.now(UTC).year, 1, 15, 12, tzinfo=UTC)
    if when > datetime.now(UTC):
        when = datetime.now(UTC) - timedelta(hours=1)
    plays = [play(int(when.timestamp()) - n * 60, track("Halo", "Beyoncé")) for n in range(3)]
    submit(client, fan, plays)
    halo = _item_id(client, "Halo", "track")
    ok(
        client.put(
            f"/api/v1/catalog/items/{halo}/translations/fr",
            json={"title": "Auréole"},
            headers=admin.headers,
        )
    )
    year = when.year
    english = client.get(f"/user/fan/year/{year}.svg").text
    assert 'xml:lang="en"' in english
    assert ">Jan<" in english
    assert "Top artists" in english
    assert "3 plays" in english
    french = client.get(f"/user/fan/year/{year}.svg", headers={"Accept-Language": "fr"}).text
    assert 'xml:lang="fr"' in french
    assert ">janv.<" in french
    assert ">Jan<" not in french
    assert "Artistes préférés" in french
    assert "Top artists" not in french
    assert "3 écoutes" in french
    assert "plus longue série : 1 jour" in french
    page = client.get(f"/user/fan/year/{year}", headers={"Accept-Language": "fr"})
    main = _main(page)
    assert "Auréole" in main  # the top tracks in the reader's language
    assert ">janv.<" in main  # the months of the plays-per-month chart
    japanese = _main(client.get(f"/user/fan/year/{year}", headers={"Accept-Language": "ja"}))
    assert ">0時<" in japanese
    assert ">1月<" in japanese
    poster = client.get(f"/user/fan/year/{year}.svg", headers={"Accept-Language": "ja"}).text
    assert ">1月<" in poster
    assert "トップアーティスト" in poster


def test_discovery_pages_are_translated(client: TestClient, register: Any) -> None:
    fan = register("fan")
    submit(client, fan, [play(ago(hours=1), track("Halo", "Beyoncé"))])
    halo = _item_id(client, "Halo", "track")
    for language in ("fr", "es", "de", "pt", "ja"):
        for path in ("/", "/charts", f"/items/{halo}", "/user/fan", "/search?q=halo"):
            page = client.get(path, headers={"Accept-Language": language})
            assert page.status_code == 200, (language, path)
            assert f'<html lang="{language}">' in page.text
            # No English heading is left on a translated page.
            for english in ("Top listeners", "Listening clock", "Live now", "In the catalogue"):
                assert f">{english}<" not in page.text, (language, path, english)


def test_security_headers_and_no_inline_code(client: TestClient, register: Any) -> None:
    fan = register("fan")
    submit(client, fan, [play(ago(hours=1), track("Halo", "Beyoncé"))])
    halo = _item_id(client, "Halo", "track")
    year = datetime.fromtimestamp(ago(hours=1), UTC).year
    for path in (
        "/",
        "/charts",
        f"/items/{halo}",
        "/user/fan",
        "/search?q=halo",
        f"/user/fan/year/{year}",
    ):
        page = client.get(path)
        assert "unsafe-inline" not in page.headers["content-security-policy"]
        assert "<script>" not in page.text
        assert " style=" not in page.text
        assert " onclick=" not in page.text
