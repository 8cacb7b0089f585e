"""Ad decisions through POST /api/v1/ads/decide: targeting, caps, pacing, priorities, floors,
house fallback, budgets, consent, beacons and bad input — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.accounts.models import User
from tastegraph.ads.decision import AdContext
from tastegraph.audiences.models import AdConsent, Segment, SegmentMember
from tastegraph.runtime import Runtime
from tests.ads_helpers import NOW, Ads, Clock, freeze, make_segment, set_consent
from tests.conftest import Account, play


@pytest.fixture
def clock(runtime: Runtime) -> Clock:
    return freeze(runtime)


@pytest.fixture
def ads(client: TestClient, admin: Account, clock: Clock) -> Ads:
    return Ads(client=client, admin=admin)


def _match(client: TestClient, who: Account, home: str, starts: datetime) -> int:
    item = {
        "kind": "match",
        "competition": "Bundesliga",
        "home": home,
        "away": "FC Gast",
        "starts_at": starts.isoformat(),
    }
    response = client.post(
        "/api/v1/plays", json=play(int(starts.timestamp()) + 60, item), headers=who.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["item_id"])


def _tag(runtime: Runtime, user: str, item_id: int, *tags: str) -> None:
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        user_id = session.scalar(select(User.id).where(User.name == user))
        assert user_id is not None
        svc.catalog.tag(user_id, item_id, list(tags))


def test_targeting_by_country_kind_category_language_daypart_and_client(
    ads: Ads, client: TestClient, runtime: Runtime, alice: Account
) -> None:
    ads.placement("mpu")
    campaign = ads.campaign(ads.advertiser())
    de, _ = ads.line_item(campaign, "5.000", targeting={"countries": ["DE"]})
    match, _ = ads.line_item(campaign, "4.000", targeting={"kinds": ["match"]})
    soccer, _ = ads.line_item(campaign, "4.500", targeting={"categories": ["533"]})
    french, _ = ads.line_item(campaign, "6.000", targeting={"languages": ["fr"]})
    evening, _ = ads.line_item(
        campaign,
        "7.000",
        targeting={"dayparts": [{"days": ["wed"], "start_hour": 18, "end_hour": 23}]},
    )
    ctv, _ = ads.line_item(campaign, "8.000", targeting={"clients": ["ctv"]})

    assert ads.decide(anonymous_id="v1") is None  # every line item is targeted
    assert ads.served(anonymous_id="v1", country="DE") == de
    assert ads.served(anonymous_id="v1", country="DE", client="ctv") == ctv
    assert ads.served(anonymous_id="v1", language="fr", country="DE") == french
    # Wednesday 12:00 UTC is 21:00 in Tokyo and 13:00 in Berlin: the viewer's local time counts.
    assert ads.served(anonymous_id="v1", timezone="Asia/Tokyo") == evening
    assert ads.decide(anonymous_id="v1", timezone="Europe/Berlin") is None

    # The content being consumed: its kind, and the IAB category its tags map to.
    plain = _match(client, alice, "FC Plain", NOW - timedelta(days=3))
    football = _match(client, alice, "FC Ball", NOW - timedelta(days=2))
    _tag(runtime, "alice", football, "Football")
    assert ads.served(anonymous_id="v1", item_id=plain) == match
    assert ads.served(anonymous_id="v1", item_id=football) == soccer
    decision = ads.decide(anonymous_id="v1", item_id=football)
    assert decision is not None
    assert decision["targeting"] == "contextual"
    assert {"parameter": "content category", "value": "533"} in decision["why"]

    # A logged-in viewer brings their country, language and time zone (alice: DE, de, Berlin).
    assert ads.served(who=alice) == de


def test_frequency_caps_per_viewer_and_window(ads: Ads, clock: Clock, alice: Account) -> None:
    ads.placement("mpu")
    campaign = ads.campaign(ads.advertiser())
    capped, _ = ads.line_item(
        campaign, "3.000", frequency_caps=[{"impressions": 2, "window_seconds": 3600}]
    )
    assert [ads.served(anonymous_id="x") for _ in range(3)] == [capped, capped, 0]
    assert ads.served(anonymous_id="y") == capped  # another viewer has caps of their own
    assert [ads.served(who=alice) for _ in range(3)] == [capped, capped, 0]
    assert ads.served() == 0  # no viewer id: a capped line item cannot be kept to its cap
    clock.now = NOW + timedelta(hours=1)  # a new window
    assert ads.served(anonymous_id="x") == capped


def test_priority_tiers_then_price_and_floors(ads: Ads) -> None:
    ads.placement("mpu", floor="1.000")
    advertiser = ads.advertiser()
    remnant, _ = ads.line_item(ads.campaign(advertiser, priority="remnant"), "9.000")
    standard, _ = ads.line_item(ads.campaign(advertiser), "3.000")
    sponsorship_campaign = ads.campaign(advertiser, priority="sponsorship")
    sponsorship, _ = ads.line_item(sponsorship_campaign, "1.500")
    below_floor, _ = ads.line_item(ads.campaign(advertiser, priority="sponsorship"), "0.500")

    served = {ads.served(anonymous_id=f"v{n}") for n in range(10)}
    assert served == {sponsorship}  # a higher tier wins whatever the price; the floor holds
    ads.call("DELETE", f"/campaigns/{sponsorship_campaign}", expect=204)
    assert {ads.served(anonymous_id=f"v{n}") for n in range(10)} == {standard}
    richer, _ = ads.line_item(ads.campaign(advertiser), "4.000")
    assert {ads.served(anonymous_id=f"v{n}") for n in range(10)} == {richer}  # first price
    ads.call("PATCH", "/placements/mpu", json={"floor": "5.000"})
    assert {ads.served(anonymous_id=f"v{n}") for n in range(10)} == {remnant}
    assert below_floor not in served


def test_out_of_budget_never_serves_and_house_ads_fill(ads: Ads) -> None:
    ads.placement("mpu")
    advertiser = ads.advertiser()
    # 2.000 per thousand: 0.002 an impression, so 0.010 buys exactly five.
    paid, _ = ads.line_item(ads.campaign(advertiser, total_budget="0.010"), "2.000")
    house_advertiser = ads.advertiser("The network", "network.example")
    house, _ = ads.line_item(
        ads.campaign(house_advertiser, priority="house", total_budget=None), "0"
    )
    served = [ads.served(anonymous_id=f"v{n}") for n in range(8)]
    assert served == [paid] * 5 + [house] * 3
    decision = ads.decide(anonymous_id="late")
    assert decision is not None
    assert decision["targeting"] == "house"
    # Raising the budget lets it serve again, exactly as much as was added.
    campaign_id = int(ads.call("GET", f"/line-items/{paid}")["campaign_id"])
    ads.call("PATCH", f"/campaigns/{campaign_id}", json={"total_budget": "0.014"})
    assert [ads.served(anonymous_id=f"w{n}") for n in range(4)] == [paid, paid, house, house]


def test_even_pacing_spreads_the_daily_budget(ads: Ads, clock: Clock) -> None:
    ads.placement("mpu")
    advertiser = ads.advertiser()
    # 0.024 a day at 1.000 CPM: 24 impressions a day, one an hour on the straight line.
    even, _ = ads.line_item(ads.campaign(advertiser, daily_budget="0.024", pacing="even"), "1.000")
    clock.now = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # a quarter of the day
    served = [ads.served(anonymous_id=f"a{n}") for n in range(30)]
    # The straight line (6) plus an hour's head start (1): never more.
    assert served.count(even) == 7
    clock.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    served = [ads.served(anonymous_id=f"b{n}") for n in range(30)]
    assert served.count(even) == 6  # 13 by noon
    clock.now = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
    served = [ads.served(anonymous_id=f"c{n}") for n in range(30)]
    assert served.count(even) == 11  # the daily budget, 24, and not one more
    clock.now = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)  # a new day, a new budget
    assert ads.served(anonymous_id="d") == even

    asap, _ = ads.line_item(ads.campaign(advertiser, daily_budget="0.024", pacing="asap"), "0.5")
    clock.now = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    served = [ads.served(anonymous_id=f"e{n}") for n in range(80)]
    assert served.count(asap) == 48  # as fast as traffic allows, up to the daily budget


def test_segments_only_for_consenting_users(
    ads: Ads, runtime: Runtime, register: Any, client: TestClient
) -> None:
    ads.placement("mpu")
    segment = make_segment(runtime, "Football fans", [607, 663])
    campaign = ads.campaign(ads.advertiser())
    audience, _ = ads.line_item(campaign, "9.000", targeting={"segments": [segment]})
    contextual, _ = ads.line_item(campaign, "1.000", targeting={"countries": ["DE"]})
    runtime.ads.audience_lookup = lambda _session, _user: frozenset({segment})
    bea = register("bea", country="DE")

    assert ads.served(who=bea) == contextual  # no consent: contextual only
    set_consent(runtime, "bea", True)
    decision = ads.decide(who=bea)
    assert decision is not None
    assert decision["line_item_id"] == audience
    assert decision["targeting"] == "audience"
    assert {"parameter": "audience segment", "value": "Football fans"} in decision["why"]
    set_consent(runtime, "bea", False)
    assert ads.served(who=bea) == contextual  # opting out takes effect at once
    assert ads.served(anonymous_id="anon", country="DE") == contextual  # never for anonymous


def test_segments_through_the_audience_service(ads: Ads, runtime: Runtime, register: Any) -> None:
    """The runtime's own lookup: a consenting adult in a segment at or above the k floor."""
    ads.placement("mpu")
    segment = make_segment(runtime, "Drama lovers", [710], members=150)
    small = make_segment(runtime, "Tiny", [711], members=99)
    campaign = ads.campaign(ads.advertiser())
    audience, _ = ads.line_item(campaign, "9.000", targeting={"segments": [segment]})
    ads.line_item(campaign, "10.000", targeting={"segments": [small]})
    network, _ = ads.line_item(campaign, "1.000")
    cleo = register("cleo", country="FR", birth_year=1980)
    user_id = set_consent(runtime, "cleo", True)
    with runtime.db.unit_of_work(write=True) as session:
        session.add(AdConsent(user_id=user_id, profiling=True, personalised_ads=True))
        session.add(SegmentMember(segment_id=segment, user_id=user_id))
        session.add(SegmentMember(segment_id=small, user_id=user_id))
    assert ads.served(who=cleo) == audience  # the segment under the floor is never targeted
    with runtime.db.unit_of_work(write=True) as session:
        consent = session.get(AdConsent, user_id)
        assert consent is not None
        consent.personalised_ads = False  # purpose 4 withdrawn
    assert ads.served(who=cleo) == network


def test_midroll_in_a_live_match(
    ads: Ads, client: TestClient, alice: Account, runtime: Runtime
) -> None:
    ads.placement(
        "live-midroll",
        type="instream",
        formats=["video"],
        position="midroll",
        max_duration_seconds=30,
        width=None,
        height=None,
    )
    campaign = ads.campaign(ads.advertiser())
    video = {
        "format": "video",
        "duration_seconds": 20,
        "asset_url": "https://cdn.example/spot.mp4",
        "width": 1920,
        "height": 1080,
    }
    live, creative = ads.line_item(
        campaign,
        "20.000",
        targeting={"kinds": ["match"], "live": True, "placements": ["live-midroll"]},
        creative=video,
    )
    ads.line_item(campaign, "30.000", creative={**video, "duration_seconds": 45})  # too long
    now_playing = _match(client, alice, "FC Live", NOW - timedelta(minutes=30))
    finished = _match(client, alice, "FC Gestern", NOW - timedelta(hours=5))
    decision = ads.decide("live-midroll", anonymous_id="tv-1", item_id=now_playing)
    assert decision is not None
    assert decision["line_item_id"] == live
    assert decision["creative"]["id"] == creative
    assert decision["creative"]["mime"] == "video/mp4"
    assert ads.decide("live-midroll", anonymous_id="tv-1", item_id=finished) is None


def test_beacons_count_once_and_clicks_redirect(ads: Ads, clock: Clock) -> None:
    ads.placement("mpu")
    line_item, creative = ads.line_item(ads.campaign(ads.advertiser()), "2.000")
    decision = ads.decide(anonymous_id="v")
    assert decision is not None
    for _ in range(3):
        response = ads.fire(decision["impression_url"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/gif"
    for _ in range(2):
        response = ads.fire(decision["click_url"])
        assert response.status_code == 302
        assert response.headers["location"] == f"https://advertiser.example/landing/{line_item}"
    report = ads.call("GET", "/reports?group_by=creative")
    assert [
        (r["dimensions"]["creative"], r["impressions"], r["clicks"]) for r in report["rows"]
    ] == [(creative, 1, 1)]
    assert report["total"]["spend"] == pytest.approx(0.002)

    token = decision["impression_url"].rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = ads.client.get(f"/api/v1/ads/imp/{forged}")
    assert response.status_code == 404
    assert response.json()["code"] == "ad_token_invalid"
    assert ads.client.get("/api/v1/ads/click/not-a-token").status_code == 404

    late = ads.decide(anonymous_id="w")
    assert late is not None
    clock.now = NOW + timedelta(days=2)
    expired = ads.fire(late["impression_url"])
    assert expired.status_code == 410
    assert expired.json()["code"] == "ad_token_expired"
    assert ads.fire(late["click_url"]).status_code == 302  # the viewer still gets there
    assert ads.call("GET", "/reports?since=2026-11-25&until=2026-11-27")["total"]["clicks"] == 1


def test_bad_decision_requests(ads: Ads, client: TestClient) -> None:
    ads.placement("mpu")
    unknown = client.post("/api/v1/ads/decide", json={"placement": "nowhere"})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["code"] == "placement_not_found"

    invalid = client.post(
        "/api/v1/ads/decide",
        json={"placement": "mpu", "country": "XX", "categories": ["no spaces"], "colour": 1},
    )
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in invalid.json()["errors"]}
    assert fields == {"country", "categories.0", "colour"}

    missing = client.post("/api/v1/ads/decide", json={"placement": "mpu", "item_id": 999_999})
    assert missing.status_code == 404
    assert missing.json()["code"] == "item_not_found"

    huge = client.post(
        "/api/v1/ads/decide", json={"placement": "mpu", "anonymous_id": "x" * 70_000}
    )
    assert huge.status_code == 413
    broken = client.post(
        "/api/v1/ads/decide",
        content=b'{"placement": ',
        headers={"content-type": "application/json"},
    )
    assert (broken.status_code, broken.json()["code"]) == (400, "malformed_json")


def test_other_processes_pick_up_changes_by_the_version(
    ads: Ads, runtime: Runtime, settings: Any
) -> None:
    """A second runtime (another server process) keeps its index while nothing changes and
    rebuilds it when the ads version moves."""
    ads.placement("mpu")
    campaign = ads.campaign(ads.advertiser())
    first, _ = ads.line_item(campaign, "2.000")
    other = Runtime.create(settings)
    try:
        other.clock = runtime.clock
        engine = other.ads
        assert engine.decide(AdContext(placement="mpu", viewer="a:x")) is not None
        index = engine.index()
        engine.refresh()
        assert engine.index() is index  # nothing changed: no rebuild
        second, _ = ads.line_item(campaign, "3.000")  # through the first "process"
        engine.refresh()
        assert engine.index() is not index
        decision = engine.decide(AdContext(placement="mpu", viewer="a:y"))
        assert decision is not None
        assert decision.line_item.id == second != first
    finally:
        other.close()


def test_line_items_target_only_segments_their_author_may_read(
    ads: Ads, runtime: Runtime, register: Any
) -> None:
    """Another advertiser's private segment is refused as if it did not exist."""
    bob, carol = register("bob"), register("carol")
    acme, rival = ads.advertiser("Acme"), ads.advertiser("Rival", "rival.example")
    ads.member(acme, "bob")
    ads.member(rival, "carol")
    with runtime.db.unit_of_work(write=True) as session:
        ids = {n: session.scalar(select(User.id).where(User.name == n)) for n in ("bob", "carol")}
    private = make_segment(runtime, "Carol's own", [710])
    shared = make_segment(runtime, "Everyone's", [711])
    mine = make_segment(runtime, "Bob's own", [712])
    with runtime.db.unit_of_work(write=True) as session:
        for segment_id, owner, is_shared in (
            (private, "carol", False),
            (shared, "carol", True),
            (mine, "bob", False),
        ):
            row = session.get(Segment, segment_id)
            assert row is not None
            row.owner_id, row.shared = ids[owner], is_shared
    campaign = ads.campaign(acme, who=bob)
    body = {"campaign_id": campaign, "name": "Steal", "bid": "2.000"}
    refused = ads.call(
        "POST", "/line-items", bob, 422, json={**body, "targeting": {"segments": [private]}}
    )
    assert "targeting.segments.0" in str(refused)
    for segment_id in (shared, mine):
        ads.call(
            "POST", "/line-items", bob, 201, json={**body, "targeting": {"segments": [segment_id]}}
        )
    ads.call("POST", "/line-items", carol, 404, json=body)  # not Carol's campaign either
