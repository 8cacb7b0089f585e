"""OpenRTB 2.6 at POST /openrtb2/auction: request and response shapes, consent, floors,
currencies, tmax, loss notices and invalid requests."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.ads.decision import AdContext, Decision
from tastegraph.ads.openrtb import encode_tc_string
from tastegraph.runtime import Runtime
from tests.ads_helpers import Ads, Clock, freeze, make_segment
from tests.conftest import Account


@pytest.fixture
def clock(runtime: Runtime) -> Clock:
    return freeze(runtime)


@pytest.fixture
def ads(client: TestClient, admin: Account, clock: Clock) -> Ads:
    return Ads(client=client, admin=admin)


def bid_request(**overrides: Any) -> dict[str, Any]:
    """adtech.md §2.7 example A with consent for purposes 1-4 (and a tmax for a busy machine)."""
    request: dict[str, Any] = {
        "id": "0b1f7c9e-5a52-4c1e-9a0e-1d2f3a4b5c6d",
        "at": 1,
        "tmax": 1000,
        "cur": ["EUR"],
        "imp": [
            {
                "id": "1",
                "tagid": "mpu",
                "secure": 1,
                "bidfloor": 1.5,
                "bidfloorcur": "EUR",
                "banner": {"format": [{"w": 300, "h": 250}, {"w": 300, "h": 600}], "pos": 3},
            }
        ],
        "site": {
            "id": "bcast-news-web",
            "domain": "news.broadcaster.example",
            "cattax": 7,
            "cat": ["483", "533"],
            "content": {"id": "article-123", "language": "fr", "cattax": 7, "cat": ["533"]},
        },
        "device": {"devicetype": 2, "language": "fr", "geo": {"type": 2, "country": "FRA"}},
        "user": {
            "id": "u-7f3a9c",
            "consent": encode_tc_string({1, 2, 3, 4}),
            "data": [
                {
                    "name": "broadcaster.example",
                    "ext": {"segtax": 4},
                    "segment": [{"id": "607"}, {"id": "663"}, {"id": "718"}],
                }
            ],
        },
        "regs": {"gdpr": 1},
        "source": {"fd": 0, "tid": "2c1d0e9f-8b7a-4c6d-9e5f-0a1b2c3d4e5f"},
    }
    request.update(overrides)
    return request


def auction(client: TestClient, body: Any) -> Any:
    if isinstance(body, (dict, list)):
        return client.post("/openrtb2/auction", json=body)
    return client.post(
        "/openrtb2/auction", content=body, headers={"content-type": "application/json"}
    )


def test_bid_response_shape_and_beacons(ads: Ads, client: TestClient) -> None:
    ads.placement("mpu", floor="1.000")
    advertiser = ads.advertiser("Sportswear", "adv.example")
    campaign = ads.campaign(advertiser)
    soccer, creative = ads.line_item(
        campaign, "4.200", targeting={"categories": ["533"], "countries": ["FR"]}
    )
    ads.line_item(campaign, "9.000", targeting={"countries": ["DE"]})
    response = auction(client, bid_request())
    assert response.status_code == 200, response.text
    assert response.headers["x-openrtb-version"] == "2.6"
    body = response.json()
    assert body["id"] == "0b1f7c9e-5a52-4c1e-9a0e-1d2f3a4b5c6d"
    assert body["cur"] == "EUR"
    [seat] = body["seatbid"]
    [bid] = seat["bid"]
    assert bid["impid"] == "1"
    assert bid["price"] == 4.2
    assert bid["crid"] == str(creative)
    assert bid["cid"] == str(campaign)
    assert bid["adomain"] == ["adv.example"]
    assert (bid["w"], bid["h"], bid["mtype"]) == (300, 250, 1)
    assert "/api/v1/ads/imp/" in bid["adm"]
    assert "/api/v1/ads/click/" in bid["adm"]
    assert bid["lurl"].endswith("?reason=${AUCTION_LOSS}")
    # The billing notice and the pixel in the markup count one impression between them.
    assert ads.fire(bid["burl"]).status_code == 200
    assert ads.fire(bid["burl"]).status_code == 200
    report = ads.call("GET", "/reports?group_by=line_item,country")
    assert [(r["dimensions"]["line_item"], r["dimensions"]["country"]) for r in report["rows"]] == [
        (soccer, "FR")
    ]
    assert report["total"]["impressions"] == 1


def test_consent_decides_audience_targeting(ads: Ads, client: TestClient, runtime: Runtime) -> None:
    ads.placement("mpu")
    soccer_fans = make_segment(runtime, "Soccer fans", [663])
    make_segment(runtime, "Too few", [718], members=20)
    campaign = ads.campaign(ads.advertiser())
    audience, _ = ads.line_item(campaign, "8.000", targeting={"segments": [soccer_fans]})
    contextual, _ = ads.line_item(campaign, "2.000", targeting={"categories": ["533"]})

    def winner(body: dict[str, Any]) -> int:
        response = auction(client, body)
        assert response.status_code == 200, response.text
        crid = int(response.json()["seatbid"][0]["bid"][0]["crid"])
        line_items = ads.call("GET", "/creatives")
        return next(c["line_item_id"] for c in line_items if c["id"] == crid)

    assert winner(bid_request()) == audience
    no_consent = bid_request()
    no_consent["user"]["consent"] = encode_tc_string({1, 2})
    assert winner(no_consent) == contextual
    missing = bid_request()
    del missing["user"]["consent"]
    assert winner(missing) == contextual
    unknown_gdpr = bid_request(regs={})  # GDPR applies unless the request says it does not
    del unknown_gdpr["user"]["consent"]
    assert winner(unknown_gdpr) == contextual
    assert winner(bid_request(regs={"gdpr": 0})) == audience
    assert winner(bid_request(regs={"gdpr": 0, "coppa": 1})) == contextual


def test_no_bid_cases(ads: Ads, client: TestClient) -> None:
    ads.placement("mpu", floor="1.000")
    advertiser = ads.advertiser()
    ads.line_item(ads.campaign(advertiser), "2.000")
    ads.line_item(ads.campaign(advertiser, pricing="cpc"), "5.000")  # never bids per mille
    ads.line_item(ads.campaign(ads.advertiser("House"), priority="house", total_budget=None), "0")
    assert auction(client, bid_request()).status_code == 200

    def no_bid(body: dict[str, Any]) -> None:
        response = auction(client, body)
        assert response.status_code == 204, response.text
        assert response.content == b""

    high_floor = bid_request()
    high_floor["imp"][0]["bidfloor"] = 2.5
    no_bid(high_floor)
    unknown_tag = bid_request()
    unknown_tag["imp"][0]["tagid"] = "elsewhere"
    no_bid(unknown_tag)
    dollars = bid_request()
    dollars["imp"][0]["bidfloorcur"] = "USD"
    no_bid(dollars)
    no_bid(bid_request(cur=["USD"]))
    wrong_size = bid_request()
    wrong_size["imp"][0]["banner"] = {"format": [{"w": 728, "h": 90}]}
    no_bid(wrong_size)
    video_only = bid_request()
    video_only["imp"][0] = {"id": "1", "tagid": "mpu", "video": {"mimes": ["video/mp4"]}}
    no_bid(video_only)


def test_two_imps_and_video(ads: Ads, client: TestClient) -> None:
    ads.placement("mpu")
    ads.placement(
        "live-pod", type="instream", formats=["video"], position="midroll", width=None, height=None
    )
    campaign = ads.campaign(ads.advertiser())
    ads.line_item(campaign, "3.000")
    spot, _ = ads.line_item(
        campaign,
        "18.500",
        targeting={"live": True},
        creative={
            "format": "video",
            "duration_seconds": 30,
            "asset_url": "https://cdn.example/spot.mp4",
            "width": 1920,
            "height": 1080,
        },
    )
    body = bid_request()
    body["imp"].append(
        {
            "id": "2",
            "tagid": "live-pod",
            "bidfloor": 18.0,
            "bidfloorcur": "EUR",
            "video": {"mimes": ["video/mp4"], "rqddurs": [15, 30], "plcmt": 1},
        }
    )
    body["site"]["content"]["livestream"] = 1
    response = auction(client, body)
    assert response.status_code == 200, response.text
    bids = {bid["impid"]: bid for bid in response.json()["seatbid"][0]["bid"]}
    assert set(bids) == {"1", "2"}
    video = bids["2"]
    assert (video["price"], video["mtype"], video["dur"]) == (18.5, 2, 30)
    assert video["adm"].startswith('<VAST version="4.0">')
    assert "<Duration>00:00:30</Duration>" in video["adm"]
    assert spot
    fifteen = copy.deepcopy(body)
    fifteen["imp"][1]["video"]["rqddurs"] = [15]
    bids = auction(client, fifteen).json()["seatbid"][0]["bid"]
    assert [bid["impid"] for bid in bids] == ["1"]  # no 15-second spot


def test_loss_notice_gives_the_budget_back(ads: Ads, client: TestClient) -> None:
    ads.placement("mpu")
    # 0.004 at 2.000 per thousand: two impressions.
    ads.line_item(ads.campaign(ads.advertiser(), total_budget="0.004"), "2.000")
    bids = [auction(client, bid_request(id=f"r{n}")) for n in range(3)]
    assert [b.status_code for b in bids] == [200, 200, 204]
    lost = bids[0].json()["seatbid"][0]["bid"][0]
    loss_url = lost["lurl"].split("?")[0]
    assert ads.fire(loss_url).status_code == 204
    assert ads.fire(loss_url).status_code == 204  # a replayed loss gives nothing back twice
    assert ads.fire(lost["burl"]).status_code == 200  # an impression after its loss: not counted
    assert auction(client, bid_request(id="r4")).status_code == 200
    assert auction(client, bid_request(id="r5")).status_code == 204
    assert ads.call("GET", "/reports")["total"]["impressions"] == 0


def test_answers_within_tmax(ads: Ads, client: TestClient, runtime: Runtime) -> None:
    ads.placement("mpu")
    ads.line_item(ads.campaign(ads.advertiser(), total_budget="0.002"), "2.000")  # one impression
    engine = runtime.ads
    original = engine.decide

    def slow(context: AdContext) -> Decision | None:
        time.sleep(0.02)
        return original(context)

    engine.decide = slow  # type: ignore[method-assign]
    assert auction(client, bid_request(tmax=5)).status_code == 204  # too late: no bid
    engine.decide = original  # type: ignore[method-assign]
    # The late bid's reservation was given back: the one impression is still for sale.
    assert auction(client, bid_request()).status_code == 200
    assert auction(client, bid_request()).status_code == 204


INVALID: list[tuple[Any, str]] = [
    (b'{"id": "x", "imp": [', "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    ({"imp": [{"id": "1", "banner": {}}]}, "id: Field required"),
    ({"id": "x", "imp": []}, "imp: List should have at least 1 item"),
    ({"id": "x", "imp": [{"id": "1"}]}, "imp.0: Value error, an imp needs one of"),
    ({"id": "x", "imp": [{"id": "1", "banner": {}, "bidfloor": -1}]}, "imp.0.bidfloor"),
    ({"id": "x", "imp": [{"id": "1", "video": {}}]}, "imp.0.video.mimes: Field required"),
    ({"id": "x", "imp": [{"id": "1", "banner": {}}], "site": {}, "app": {}}, "not both"),
]


def test_invalid_bid_requests(client: TestClient) -> None:
    for body, reason in INVALID:
        response = auction(client, body)
        assert response.status_code == 400, body
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == "invalid_bid_request"
        assert reason in problem["detail"], (body, problem)
