"""Audience insights per title through the HTTP API and the CLI: numbers equal a brute-force
recount of the tables, small segment cells are suppressed, the overlap matrix of a hand-made
case, and only operators get in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.catalog.models import Item
from tastegraph.insights import audience
from tastegraph.runtime import Runtime
from tastegraph.social.models import Group, GroupMember, GroupPrivacy, MembershipStatus
from tests.audience_helpers import add_users, build_catalogue, names
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.conftest import Account, track
from tests.insights_helpers import (
    NOW,
    Clock,
    brute_force,
    days_ago,
    descendants,
    episode,
    insights,
    play,
    utc,
)


@pytest.fixture
def clock(runtime: Runtime) -> Clock:
    clock = Clock()
    runtime.clock = clock
    return clock


@pytest.fixture
def viewers(register: Any) -> dict[str, Account]:
    return {
        "de1": register("de1", country="DE"),
        "de2": register("de2", country="DE"),
        "fr1": register("fr1", country="FR"),
        "us1": register("us1", country="US"),
        "nowhere": register("nowhere"),
        "shy": register("shy", country="DE"),
    }


def _watch(client: TestClient, v: dict[str, Account], clock: Clock) -> dict[str, int]:
    """A show of two seasons watched by people in three countries and one without."""
    ids = {
        "s1e1": play(client, v["de1"], episode("Borgen", 1, 1), days_ago(2), 1.0),
        "s1e2": play(client, v["de1"], episode("Borgen", 1, 2), days_ago(1), 0.5),
        "s2e1": play(client, v["de1"], episode("Borgen", 2, 1), days_ago(20)),  # no progress
        "other": play(client, v["fr1"], episode("Other Show", 1, 1), days_ago(3), 1.0),
    }
    play(client, v["de1"], episode("Borgen", 1, 1), days_ago(100), 1.0)  # before the window
    play(client, v["de2"], episode("Borgen", 1, 1), days_ago(10), 0.95)
    play(client, v["fr1"], episode("Borgen", 1, 1), days_ago(40), 0.92)
    play(client, v["us1"], episode("Borgen", 2, 1), days_ago(3), 0.85)
    play(client, v["us1"], episode("Borgen", 2, 1), days_ago(3, hours=-2), 1.0)
    play(client, v["nowhere"], episode("Borgen", 1, 2), days_ago(5), 1.0)
    # Sunday 23:00 UTC: the last hour of a UTC week, the first of a Berlin one.
    play(client, v["de2"], episode("Borgen", 1, 2), datetime(2025, 6, 1, 23, tzinfo=UTC), 0.3)
    # Incognito plays and playbacks are never counted.
    play(client, v["shy"], episode("Borgen", 1, 1), days_ago(1), 1.0, incognito=True)
    # Progress scrobbling: a stop at 95 % becomes a play, pauses stay unfinished playbacks.
    scrobble = "/api/v1/scrobble"
    clock.now = NOW - timedelta(hours=1)  # the window ends now, exclusive
    for who, action, item_id, progress, extra in (
        ("us1", "stop", ids["s1e1"], 95.0, {}),
        ("de2", "pause", ids["s2e1"], 30.0, {}),
        ("fr1", "pause", ids["s1e2"], 91.0, {}),
        ("shy", "pause", ids["s1e2"], 40.0, {"incognito": True}),
    ):
        body = {"item_id": item_id, "progress": progress, **extra}
        response = client.post(f"{scrobble}/{action}", json=body, headers=v[who].headers)
        assert response.status_code == 201, response.text
    clock.now = NOW
    return ids


def _show_of(runtime: Runtime, episode_id: int) -> int:
    with runtime.db.unit_of_work() as session:
        season = session.get(Item, episode_id)
        assert season is not None
        assert season.parent_id is not None
        parent = session.get(Item, season.parent_id)
        assert parent is not None
        assert parent.parent_id is not None
        return parent.parent_id


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
def test_a_title_counts_what_a_brute_force_recount_counts(
    client: TestClient,
    runtime: Runtime,
    admin: Account,
    viewers: dict[str, Account],
    clock: Clock,
    tz: str,
) -> None:
    ids = _watch(client, viewers, clock)
    show = _show_of(runtime, ids["s1e1"])
    body = insights(client, admin, f"/titles/{show}", tz=tz)
    assert body["title"]["kind"] == "show"
    covered = descendants(runtime, show)
    assert body["covered_items"] == len(covered) == 6  # show, 2 seasons, 3 episodes

    window = body["window"]
    since, until = utc(window["since"]), utc(window["until"])
    assert until == NOW
    assert window["weeks"] == 12 == len(body["weeks"])
    starts = [utc(w["start"]) for w in body["weeks"]]
    local = since.astimezone(ZoneInfo(tz))
    assert (local.weekday(), local.hour, local.minute) == (0, 0, 0)  # a Monday's midnight
    ends = [utc(w["end"]) for w in body["weeks"]]
    assert starts[0] == since
    assert ends[-1] == until
    assert ends[:-1] == starts[1:]
    # Seven local days each (one of them 167 hours long in Berlin: summer time began).
    assert all(b.astimezone(local.tzinfo).weekday() == 0 for b in starts)

    brute = brute_force(runtime, covered, since, until, starts)
    audience = body["audience"]
    assert audience["viewers"] == len(brute.viewers) == 5  # not shy (incognito), not de1 at day 100
    assert audience["plays"] == brute.plays == 10
    completion = audience["completion"]
    assert completion["completed"] == brute.completed
    assert completion["unfinished_playbacks"] == brute.unfinished == 2
    assert completion["playbacks"] == brute.known + brute.unfinished
    assert completion["plays_without_progress"] == brute.plays - brute.known == 1
    assert completion["rate"] == round(brute.completed / (brute.known + brute.unfinished), 4)

    by_country = {c["country"]: c for c in body["countries"]}
    assert {k: v["viewers"] for k, v in by_country.items()} == {
        k: len(v) for k, v in brute.countries.items()
    }
    assert sum(c["viewers"] for c in body["countries"]) == audience["viewers"]
    assert [c["country"] for c in body["countries"]][:1] == ["DE"]  # most viewers first

    for week in body["weeks"]:
        users, plays = brute.weeks[utc(week["start"])]
        assert (week["viewers"], week["plays"]) == (len(users), plays[0]), week
    sunday = datetime(2025, 6, 1, 23, tzinfo=UTC)
    holding = next(w for w in body["weeks"] if utc(w["start"]) <= sunday < utc(w["end"]))
    assert utc(holding["start"]) == (
        datetime(2025, 5, 26, tzinfo=UTC) if tz == "UTC" else datetime(2025, 6, 1, 22, tzinfo=UTC)
    )

    # An episode covers itself only; a season its episodes.
    episode_body = insights(client, admin, f"/titles/{ids['s2e1']}", tz=tz)
    assert episode_body["covered_items"] == 1
    assert episode_body["audience"]["viewers"] == 2  # de1, us1
    assert episode_body["audience"]["completion"]["unfinished_playbacks"] == 1  # de2's pause

    # An explicit window.
    narrow = insights(
        client,
        admin,
        f"/titles/{show}",
        since=days_ago(4).isoformat(),
        until=days_ago(0.5).isoformat(),
    )
    brute = brute_force(
        runtime, covered, days_ago(4), days_ago(0.5), [utc(w["start"]) for w in narrow["weeks"]]
    )
    assert narrow["audience"]["viewers"] == len(brute.viewers)
    assert narrow["audience"]["plays"] == brute.plays


def test_csv_export_of_a_title(
    client: TestClient, runtime: Runtime, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    ids = _watch(client, viewers, clock)
    show = _show_of(runtime, ids["s1e1"])
    response = client.get(
        f"/api/v1/insights/titles/{show}", params={"format": "csv"}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "section,key,label,metric,value"
    assert "audience,,,viewers,5" in lines
    assert sum(1 for line in lines if line.startswith("weeks,") and ",plays," in line) == 12


def test_bad_requests_are_problems(
    client: TestClient, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    song = play(client, viewers["de1"], track("Song", "Singer"), days_ago(1))

    def problem(path: str, status: int, code: str, **params: Any) -> None:
        response = client.get(f"/api/v1/insights{path}", params=params, headers=admin.headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code

    problem("/titles/999999", 404, "item_not_found")
    problem(f"/titles/{song}", 422, "invalid_insights_request", tz="Mars/Olympus")
    problem(
        f"/titles/{song}",
        422,
        "invalid_insights_request",
        since="2020-01-01T00:00:00Z",
        until="2025-01-01T00:00:00Z",
    )
    problem(f"/titles/{song}", 422, "validation_failed", weeks=0)
    problem("/overlap", 422, "invalid_insights_request")
    problem("/overlap", 422, "invalid_insights_request", ids=str(song))
    problem("/overlap", 422, "invalid_insights_request", ids="1,x")
    problem("/local-content", 422, "invalid_insights_request", kind="show", country="DE")


# -- segments and groups ----------------------------------------------------------------------


def test_segment_cells_below_the_floor_are_suppressed(
    client: TestClient, runtime: Runtime, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.clock = Clock(datetime.now(UTC))
    world = build_catalogue(runtime)
    fans = add_users(runtime, world, names(120, "fan"), plays=[("drama1", 3, 2)])
    casual = add_users(runtime, world, names(40, "casual"), plays=[("drama2", 2, 1)])
    add_users(runtime, world, names(5, "alp"), plays=[("drama2", 1, 1)], country="AT")
    add_users(runtime, world, names(3, "kid"), plays=[("drama1", 1, 1)], birth_year=2015)
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        germany = svc.audiences.create_segment(
            None, name="Germany", rule={"type": "country", "countries": ["DE"]}
        )
        svc.audiences.create_segment(
            None, name="Austria", rule={"type": "country", "countries": ["AT"]}
        )
        assert germany.member_count == 160  # consenting adults only: not the 3 minors
        group = Group(slug="harbour-fans", name="Harbour fans", privacy=GroupPrivacy.PUBLIC)
        session.add(group)
        session.flush()
        for n, user_id in enumerate([*fans[:7], casual[0]]):
            session.add(
                GroupMember(
                    group_id=group.id,
                    user_id=user_id,
                    status=MembershipStatus.INVITED if n == 0 else MembershipStatus.MEMBER,
                )
            )
        show = session.scalar(select(Item.id).where(Item.title == "Harbour Lights"))
    assert show is not None

    whole = insights(client, admin, f"/titles/{show}")
    assert whole["audience"]["viewers"] == 120 + 40 + 5 + 3
    segments = whole["segments"]
    assert segments["floor"] == 100
    assert segments["segments_below_floor"] == 1  # Austria: 5 members
    (cell,) = segments["cells"]
    assert (cell["name"], cell["members"], cell["viewers"]) == ("Germany", 160, 160)
    assert cell["viewers_display"] == "160"
    assert cell["share_of_viewers"] == round(160 / 168, 4)
    assert cell["reach_in_segment"] == 1.0
    assert whole["groups"] == [
        {
            "group_id": whole["groups"][0]["group_id"],
            "name": "Harbour fans",
            "slug": "harbour-fans",
            "viewers": 7,  # the invitee does not count
            "share_of_viewers": round(7 / 168, 4),
        }
    ]

    # The breakdowns join many viewers by hashing and few by lookups: the same numbers.
    monkeypatch.setattr(audience, "HASH_MIN", 1)
    monkeypatch.setattr(audience, "HASH_SHARE", 0.0)
    assert insights(client, admin, f"/titles/{show}") == whole
    monkeypatch.undo()

    second = world.items["drama2"]
    small = insights(client, admin, f"/titles/{second}")
    assert small["audience"]["viewers"] == 45
    (cell,) = small["segments"]["cells"]
    assert cell["viewers"] is None
    assert cell["viewers_display"] == "< 100"
    assert cell["share_of_viewers"] is None
    assert cell["reach_in_segment"] is None
    csv = client.get(
        f"/api/v1/insights/titles/{second}", params={"format": "csv"}, headers=admin.headers
    ).text
    assert f"segments,{cell['segment_id']},Germany,viewers,< 100" in csv
    assert ",40," not in csv.split("segments,")[1].split("\n")[0]


# -- overlap ----------------------------------------------------------------------------------


def test_overlap_matrix_of_a_hand_made_case(
    client: TestClient, runtime: Runtime, admin: Account, register: Any, clock: Clock
) -> None:
    people = {name: register(name) for name in ("u1", "u2", "u3", "u4", "u5")}
    watched = {"A": ["u1", "u2", "u3"], "B": ["u2", "u3", "u4"], "C": ["u5"]}
    shows: dict[str, int] = {}
    for show, who in watched.items():
        for n, name in enumerate(who):
            episode_id = play(client, people[name], episode(f"Show {show}", 1, n + 1), days_ago(2))
            shows[show] = _show_of(runtime, episode_id)
    # Show A is the most played: u1 watches more of it.
    for n in range(3):
        play(client, people["u1"], episode("Show A", 2, n + 1), days_ago(1))
    ids = ",".join(str(shows[s]) for s in "ABC")
    body = insights(client, admin, "/overlap", ids=ids)
    assert [t["viewers"] for t in body["titles"]] == [3, 3, 1]
    cells = {(c["a"], c["b"]): c for c in body["cells"]}
    a, b, c = shows["A"], shows["B"], shows["C"]
    assert len(cells) == 6
    assert cells[(a, b)] == {"a": a, "b": b, "both": 2, "jaccard": 0.5, "share_of_a": 0.6667}
    assert cells[(b, a)]["share_of_a"] == 0.6667
    assert cells[(a, c)] == {"a": a, "b": c, "both": 0, "jaccard": 0.0, "share_of_a": 0.0}
    assert cells[(c, b)]["share_of_a"] == 0.0

    top = insights(client, admin, "/overlap", kind="show", top=2)
    assert [t["title"]["id"] for t in top["titles"]] == [a, b]
    assert {(x["a"], x["b"]): x["both"] for x in top["cells"]} == {(a, b): 2, (b, a): 2}
    csv = client.get(
        "/api/v1/insights/overlap", params={"ids": ids, "format": "csv"}, headers=admin.headers
    ).text.splitlines()
    assert csv[0].startswith("a_id,a_title,b_id,b_title,a_viewers,b_viewers,both,jaccard")
    assert f"{a},Show A,{b},Show B,3,3,2,0.5,0.6667" in csv


# -- who may ask ------------------------------------------------------------------------------


def test_only_operators_get_insights(
    client: TestClient, admin: Account, viewers: dict[str, Account], clock: Clock
) -> None:
    song = play(client, viewers["de1"], track("Song", "Singer"), days_ago(1))
    member = viewers["de2"]
    calls = [
        ("GET", f"/api/v1/insights/titles/{song}", None),
        ("GET", "/api/v1/insights/overlap?kind=track", None),
        ("GET", "/api/v1/insights/costs", None),
        ("PUT", f"/api/v1/insights/titles/{song}/costs/licence", {"amount": "10"}),
        ("DELETE", f"/api/v1/insights/titles/{song}/costs/licence", None),
        ("GET", "/api/v1/insights/local-content?country=DE&sample=1", None),
    ]
    for method, path, body in calls:
        anonymous = client.request(method, path, json=body)
        assert anonymous.status_code == 401, (path, anonymous.text)
        denied = client.request(method, path, json=body, headers=member.headers)
        assert denied.status_code == 403, (path, denied.text)
        assert denied.json()["code"] == "permission_denied"
        allowed = client.request(method, path, json=body, headers=admin.headers)
        assert allowed.status_code in (200, 204), (path, allowed.text)


# -- the command line -------------------------------------------------------------------------


def test_cli_title_and_costs(
    client: TestClient,
    runtime: Runtime,
    database_url: str,
    viewers: dict[str, Account],
) -> None:
    now = datetime.now(UTC)
    first = play(client, viewers["de1"], episode("Borgen", 1, 1), now - timedelta(days=2), 1.0)
    play(client, viewers["fr1"], episode("Borgen", 1, 2), now - timedelta(days=1), 0.5)
    show = _show_of(runtime, first)
    env = dev_env(database_url)

    result = invoke(["insights", "costs", "set", str(show), "production", "250000.50"], env)
    assert_clean_exit(result, 0)
    assert "production cost 250000.5 EUR" in result.stdout
    result = invoke(
        ["insights", "costs", "set", str(show), "licence", "1000", "--currency", "usd", "--json"],
        env,
    )
    assert_clean_exit(result, 0)
    assert json.loads(result.stdout)["currency"] == "USD"
    listed = json.loads(invoke(["insights", "costs", "list", "--json"], env).stdout)
    assert [(c["kind"], c["amount"]) for c in listed] == [
        ("licence", 1000.0),
        ("production", 250000.5),
    ]

    result = invoke(["insights", "title", str(show), "--json"], env)
    assert_clean_exit(result, 0)
    body = json.loads(result.stdout)
    assert body["audience"]["viewers"] == 2
    assert body["break_even"]["cost"] == 250000.5
    assert [c["currency"] for c in body["break_even"]["excluded_costs"]] == ["USD"]
    assert body["break_even"]["viewers_needed"] is None  # no ad revenue yet
    text = invoke(["insights", "title", str(show)], env)
    assert_clean_exit(text, 0)
    assert "viewers 2, plays 2" in text.stdout
    csv = invoke(["insights", "title", str(show), "--csv", "--tz", "Europe/Berlin"], env)
    assert_clean_exit(csv, 0)
    assert "audience,,,viewers,2" in csv.stdout

    assert_clean_exit(invoke(["insights", "costs", "remove", str(show), "licence"], env), 0)
    again = invoke(["insights", "costs", "remove", str(show), "licence"], env)
    assert "no licence cost" in assert_clean_exit(again, 1)
    missing = invoke(["insights", "title", "999999"], env)
    assert "No such item" in assert_clean_exit(missing, 1)
    bad = invoke(["insights", "costs", "set", str(show), "production", "-5"], env)
    assert_clean_exit(bad, 2)
    bad_kind = invoke(["insights", "overlap", "--kind", "planet"], env)
    assert "Invalid kind" in assert_clean_exit(bad_kind, 2)
