"""Reports (JSON and CSV) with exact reach and frequency, and what advertisers may see:
their own campaigns and aggregates, never another advertiser's data or any user's."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.runtime import Runtime
from tests.ads_helpers import Ads, Clock, freeze, make_segment, set_consent
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.conftest import Account


@pytest.fixture
def clock(runtime: Runtime) -> Clock:
    return freeze(runtime)


@pytest.fixture
def ads(client: TestClient, admin: Account, clock: Clock) -> Ads:
    return Ads(client=client, admin=admin)


def _show(ads: Ads, placement: str, times: int, clicks: int = 0, **request: Any) -> None:
    """``times`` decisions whose impressions are fired (twice: replays count once), and
    ``clicks`` of them clicked."""
    for n in range(times):
        decision = ads.decide(placement, **request)
        assert decision is not None
        ads.fire(decision["impression_url"])
        ads.fire(decision["impression_url"])
        if n < clicks:
            ads.fire(decision["click_url"])


def test_reports_count_reach_frequency_clicks_and_spend(
    ads: Ads, runtime: Runtime, register: Any
) -> None:
    ads.placement("mpu")
    ads.placement("sidebar")
    segment = make_segment(runtime, "Night owls", [206])
    advertiser = ads.advertiser()
    network, _ = ads.line_item(ads.campaign(advertiser), "2.000", targeting={"placements": ["mpu"]})
    cpc_campaign = ads.campaign(advertiser, pricing="cpc", name="Clicks")
    audience, _ = ads.line_item(
        cpc_campaign, "0.5", targeting={"placements": ["sidebar"], "segments": [segment]}
    )
    runtime.ads.audience_lookup = lambda _session, _user: frozenset({segment})
    dora = register("dora", country="PT")
    set_consent(runtime, "dora", True)

    _show(ads, "mpu", 3, clicks=1, anonymous_id="a", country="DE")
    _show(ads, "mpu", 1, clicks=1, anonymous_id="b", country="FR")
    _show(ads, "mpu", 12, anonymous_id="c")
    _show(ads, "sidebar", 2, clicks=1, who=dora)

    report = ads.call("GET", "/reports?group_by=line_item")
    rows = {row["dimensions"]["line_item"]: row for row in report["rows"]}
    assert rows[network] == {
        "dimensions": {"line_item": network, "line_item_name": "Line item"},
        "impressions": 16,
        "reach": 3,
        "average_frequency": pytest.approx(16 / 3, abs=1e-4),
        "frequency": {
            **dict.fromkeys(["2", "4", "5", "6", "7", "8", "9"], 0),
            "1": 1,
            "3": 1,
            "10+": 1,
        },
        "clicks": 2,
        "ctr": 0.125,
        "spend": pytest.approx(0.032),
        "ecpm": pytest.approx(2.0),
    }
    assert rows[audience]["impressions"] == 2
    assert rows[audience]["reach"] == 1
    assert rows[audience]["clicks"] == 1
    assert rows[audience]["spend"] == pytest.approx(0.5)  # charged per click
    assert rows[audience]["ecpm"] == pytest.approx(250.0)
    assert report["total"]["reach"] == 4
    assert report["total"]["impressions"] == 18
    assert report["currency"] == "EUR"

    targeting = ads.call("GET", "/reports?group_by=targeting")
    assert {r["dimensions"]["targeting"]: r["impressions"] for r in targeting["rows"]} == {
        "audience": 2,
        "contextual": 16,  # restricted to a placement: contextual, not run of network
    }
    by_segment = ads.call("GET", "/reports?group_by=segment")
    assert [(r["dimensions"]["segment_name"], r["reach"]) for r in by_segment["rows"]] == [
        ("Night owls", 1),
        (None, 3),
    ]
    by_country = ads.call("GET", "/reports?group_by=country,campaign")
    assert [(r["dimensions"]["country"], r["impressions"]) for r in by_country["rows"]] == [
        ("DE", 3),
        ("FR", 1),
        ("PT", 2),
        (None, 12),
    ]
    by_day = ads.call("GET", "/reports?group_by=day&since=2026-11-20&until=2026-11-25")
    assert [(r["dimensions"]["day"], r["impressions"]) for r in by_day["rows"]] == [
        ("2026-11-25", 18)
    ]
    empty = ads.call("GET", "/reports?since=2026-10-01&until=2026-10-31")
    assert (empty["rows"], empty["total"]["impressions"]) == ([], 0)

    response = ads.client.get(
        "/api/v1/ads/reports?group_by=line_item&format=csv", headers=ads.admin.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["line_item"] for row in table] == [str(network), str(audience), "total"]
    assert table[0]["impressions"] == "16"
    assert table[0]["reach"] == "3"
    assert table[0]["frequency_10_plus"] == "1"
    assert table[0]["spend"] == "0.032000"
    assert table[2]["impressions"] == "18"

    bad = ads.client.get("/api/v1/ads/reports?group_by=day,viewer", headers=ads.admin.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "group_by.1"
    backwards = ads.client.get(
        "/api/v1/ads/reports?since=2026-11-25&until=2026-11-01", headers=ads.admin.headers
    )
    assert backwards.status_code == 422


def test_advertisers_see_only_their_own(
    ads: Ads, register: Any, client: TestClient, runtime: Runtime
) -> None:
    ads.placement("mpu")
    acme, rival = ads.advertiser("Acme"), ads.advertiser("Rival", "rival.example")
    ann, bob, carl = register("ann"), register("bob"), register("carl")
    ads.member(acme, "ann")
    ads.member(rival, "bob")

    # Ann runs Acme's campaign herself.
    campaign = ads.campaign(acme, who=ann)
    line_item, creative = ads.line_item(campaign, "2.000", who=ann)
    _show(ads, "mpu", 2, anonymous_id="viewer-1")
    assert ads.call("GET", "/reports", who=ann)["total"]["impressions"] == 2
    assert [a["id"] for a in ads.call("GET", "/advertisers", who=ann)] == [acme]

    # Bob, at a rival, finds nothing of Acme's: not its objects, not its numbers.
    assert ads.call("GET", "/campaigns", who=bob) == []
    assert ads.call("GET", "/line-items", who=bob) == []
    assert ads.call("GET", "/creatives", who=bob) == []
    for path, code in [
        (f"/advertisers/{acme}", "advertiser_not_found"),
        (f"/campaigns/{campaign}", "campaign_not_found"),
        (f"/line-items/{line_item}", "line_item_not_found"),
        (f"/creatives/{creative}", "creative_not_found"),
        (f"/reports?campaign_id={campaign}", "campaign_not_found"),
        (f"/reports?advertiser_id={acme}", "advertiser_not_found"),
        (f"/campaigns?advertiser_id={acme}", "advertiser_not_found"),
    ]:
        assert ads.call("GET", path, who=bob, expect=404)["code"] == code
    ads.call("PATCH", f"/campaigns/{campaign}", who=bob, expect=404, json={"name": "Mine"})
    ads.call("DELETE", f"/line-items/{line_item}", who=bob, expect=404)
    ads.call(
        "POST",
        "/campaigns",
        who=bob,
        expect=404,
        json={"advertiser_id": acme, "name": "x", "starts_at": "2026-11-01T00:00:00Z",
              "total_budget": "1"},
    )  # fmt: skip
    ads.call(
        "POST",
        "/line-items",
        who=bob,
        expect=404,
        json={"campaign_id": campaign, "name": "x", "bid": "1"},
    )
    mine = ads.call("GET", "/reports?group_by=advertiser,campaign", who=bob)
    assert (mine["rows"], mine["total"]["impressions"]) == ([], 0)
    # Operators' business and people stay with operators.
    ads.call("GET", f"/advertisers/{rival}/members", who=bob, expect=403)
    ads.call("POST", "/placements", who=bob, expect=403, json={
        "key": "x", "name": "x", "type": "page", "formats": ["image"]})  # fmt: skip
    assert ads.call("POST", "/campaigns", who=bob, expect=403, json={
        "advertiser_id": rival, "name": "x", "starts_at": "2026-11-01T00:00:00Z",
        "priority": "house"})["code"] == "permission_denied"  # fmt: skip
    report = ads.call("GET", "/reports?group_by=day,country,segment,targeting", who=ann)
    assert all(set(row["dimensions"]) <= {
        "day", "country", "segment", "segment_name", "targeting"} for row in report["rows"]
    )  # fmt: skip

    # Carl works for nobody; anonymous callers are not even that.
    assert ads.call("GET", "/campaigns", who=carl, expect=403)["code"] == "not_an_advertiser"
    assert ads.call("GET", "/reports", who=carl, expect=403)["code"] == "not_an_advertiser"
    assert client.get("/api/v1/ads/campaigns").status_code == 401
    # Advertisers may build segments with the audiences area; other users may not.
    assert client.get("/api/v1/audiences/segments", headers=ann.headers).status_code == 200
    assert client.get("/api/v1/audiences/segments", headers=carl.headers).status_code == 403
    segment = make_segment(runtime, "Everyone", [206])
    members = client.get(f"/api/v1/audiences/segments/{segment}/members", headers=ann.headers)
    assert members.status_code == 403  # who is in a segment: never for advertisers
    # The operator sees everyone.
    assert len(ads.call("GET", "/advertisers")) == 2
    assert ads.call("GET", f"/advertisers/{acme}/members") == [
        {"user": "ann", "added_at": ads.call("GET", f"/advertisers/{acme}/members")[0]["added_at"]}
    ]


def test_management_validation(ads: Ads) -> None:
    ads.placement("mpu")
    acme = ads.advertiser()
    campaign = ads.campaign(acme)

    def problem(path: str, body: dict[str, Any], expect: int = 422) -> dict[str, Any]:
        found: dict[str, Any] = ads.call("POST", path, expect=expect, json=body)
        return found

    bad_url = problem(
        "/creatives",
        {"line_item_id": ads.line_item(campaign)[0], "name": "x", "format": "text",
         "headline": "Hi", "click_url": "javascript:alert(1)"},
    )  # fmt: skip
    assert [e["field"] for e in bad_url["errors"]] == ["click_url"]
    no_image = problem(
        "/creatives",
        {"line_item_id": ads.line_item(campaign)[0], "name": "x", "format": "image",
         "click_url": "https://acme.example/"},
    )  # fmt: skip
    assert "asset_url, width and height" in no_image["errors"][0]["message"]
    fine_bid = problem("/line-items", {"campaign_id": campaign, "name": "x", "bid": "1.2345"})
    assert (fine_bid["code"], fine_bid["errors"][0]["field"]) == ("invalid_ad_data", "bid")
    unknown = problem(
        "/line-items",
        {"campaign_id": campaign, "name": "x", "bid": "1", "targeting": {"placements": ["nope"]}},
    )
    assert unknown["errors"][0]["field"] == "targeting.placements.0"
    caps = problem(
        "/line-items",
        {"campaign_id": campaign, "name": "x", "bid": "1",
         "frequency_caps": [{"impressions": 0, "window_seconds": 3600}]},
    )  # fmt: skip
    assert caps["errors"][0]["field"] == "frequency_caps.0.impressions"
    daily = problem(
        "/campaigns",
        {"advertiser_id": acme, "name": "x", "starts_at": "2026-11-01T00:00:00Z",
         "total_budget": "10", "daily_budget": "20"},
    )  # fmt: skip
    assert daily["errors"][0]["field"] == "daily_budget"
    naive = problem(
        "/campaigns", {"advertiser_id": acme, "name": "x", "starts_at": "2026-11-01T00:00:00"}
    )
    assert naive["errors"][0]["field"] == "starts_at"
    taken = problem(
        "/placements", {"key": "mpu", "name": "x", "type": "page", "formats": ["image"]}, 409
    )
    assert taken["code"] == "placement_key_taken"
    # Reads and updates round-trip.
    assert ads.call("GET", "/placements/mpu")["floor"] == 0.0
    assert ads.call("PATCH", "/placements/mpu", json={"floor": "0.750"})["floor"] == 0.75
    updated = ads.call("PATCH", f"/campaigns/{campaign}", json={"daily_budget": "5"})
    assert (updated["daily_budget"], updated["total_budget"]) == (5.0, 1000.0)
    ads.call("DELETE", f"/campaigns/{campaign}", expect=204)
    ads.call("GET", f"/campaigns/{campaign}", expect=404)


def test_cli_creates_an_advertiser_with_members(database_url: str, ads: Ads, register: Any) -> None:
    eve = register("eve")
    env = dev_env(database_url)
    result = invoke(
        ["ads", "advertiser", "Eve's Shop", "--domain", "eve.example", "--member", "eve", "--json"],
        env,
    )
    assert_clean_exit(result, 0)
    created = json.loads(result.stdout)
    assert created["members"] == ["eve"]
    assert [a["name"] for a in ads.call("GET", "/advertisers", who=eve)] == ["Eve's Shop"]
    nobody = invoke(["ads", "advertiser", "Ghost", "--member", "nobody"], env)
    assert "No such user" in assert_clean_exit(nobody, 1)
    bad = invoke(["ads", "advertiser", "Bad", "--domain", "Not A Domain"], env)
    assert "domain" in assert_clean_exit(bad, 2)
