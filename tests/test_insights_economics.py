"""Revenue attributed to titles from hand-made impressions, break-even arithmetic, and the
local-content report's pass/fail, through the HTTP API and the CLI."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.accounts.models import User
from tastegraph.ads.beacons import record_impression
from tastegraph.ads.tokens import AdToken
from tastegraph.catalog.models import Item
from tastegraph.config import Mode, Settings
from tastegraph.insights import attribution
from tastegraph.runtime import Runtime
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.conftest import Account, track
from tests.insights_helpers import NOW, Clock, days_ago, episode, insights, play


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        mode=Mode.DEV,
        database_url=database_url,
        data_dir=tmp_path / "data",
        audience_refresh_seconds=0,
        stats_fold_seconds=0,
        recs_local_share={"DE": {"music": 0.5}, "FR": {"music": 0.9}},
    )


@pytest.fixture
def clock(runtime: Runtime) -> Iterator[Clock]:
    clock = Clock()
    runtime.clock = clock
    return clock


def _token(
    n: int, *, mode: str, cpm: float = 0.0, cpc: float = 0.0, day: str = "20250604"
) -> AdToken:
    return AdToken(
        token_id=f"tok{n:04d}",
        issued_at=int(NOW.timestamp()),
        line_item_id=100 + n % 7,
        creative_id=200,
        campaign_id=300,
        advertiser_id=400,
        placement_id=500,
        price_micros=round((cpc or cpm) * 1_000_000),
        cpc=bool(cpc),
        viewer=f"viewer{n}",
        segment_id=7 if mode == "audience" else 0,
        country="DE",
        mode=mode,
        day=day,
    )


def _serve(runtime: Runtime, served: list[tuple[AdToken, int, int, int]]) -> None:
    """Count impressions (and clicks) as the beacons do, and attribute them to their item."""
    with runtime.db.unit_of_work(write=True) as session:
        for token, item_id, impressions, clicks in served:
            for n in range(impressions):
                copy = dataclasses.replace(token, token_id=f"{token.token_id}-{n}")
                assert record_impression(session, runtime.ads, copy, NOW)
                attribution.count(session, copy, item_id, impressions=1)
            for _ in range(clicks):
                attribution.count(session, token, item_id, clicks=1)


def test_revenue_and_break_even_from_hand_made_impressions(
    client: TestClient, runtime: Runtime, admin: Account, register: Any, clock: Clock
) -> None:
    people = [register(f"v{n}", country="DE") for n in range(4)]
    first = play(client, people[0], episode("Borgen", 1, 1), days_ago(1))
    second = play(client, people[1], episode("Borgen", 1, 2), days_ago(1))
    play(client, people[2], episode("Borgen", 1, 1), days_ago(2))
    play(client, people[3], episode("Borgen", 1, 2), days_ago(3))
    other = play(client, people[0], episode("Other", 1, 1), days_ago(1))
    with runtime.db.unit_of_work() as session:
        season = session.get(Item, first)
        assert season is not None
        assert season.parent_id is not None
        show = session.get(Item, season.parent_id)
        assert show is not None
        assert show.parent_id is not None
        show_id = show.parent_id

    _serve(
        runtime,
        [
            (_token(1, mode="audience", cpm=20), first, 3, 0),  # 3 x 0.020
            (_token(2, mode="contextual", cpm=10), second, 2, 0),  # 2 x 0.010
            (_token(3, mode="network", cpm=4), first, 1, 0),  # 0.004
            (_token(4, mode="house"), first, 1, 0),  # free
            (_token(5, mode="network", cpm=2), other, 4, 0),  # another show: 4 x 0.002
            (_token(6, mode="contextual", cpc=0.5), first, 1, 1),  # a click at 0.50
            (_token(8, mode="audience", cpm=20, day="20250101"), first, 5, 0),  # long ago
            (_token(9, mode="network", cpm=90, day="20250101"), other, 5, 0),  # long ago
        ],
    )
    body = insights(client, admin, f"/titles/{show_id}")
    revenue = body["revenue"]
    assert revenue["currency"] == "EUR"
    assert (revenue["impressions"], revenue["clicks"]) == (8, 1)
    assert revenue["revenue"] == 0.584  # 0.06 + 0.02 + 0.004 + 0 + 0.5
    assert revenue["ecpm"] == 73.0  # 0.584 per 8 impressions, per thousand
    assert revenue["revenue_per_viewer"] == 0.146
    assert revenue["impressions_per_viewer"] == 2.0
    modes = {m["targeting"]: m for m in revenue["by_targeting"]}
    assert modes["audience"] == {
        "targeting": "audience", "impressions": 3, "clicks": 0, "revenue": 0.06, "ecpm": 20.0
    }  # fmt: skip
    assert (modes["contextual"]["impressions"], modes["contextual"]["revenue"]) == (3, 0.52)
    assert modes["contextual"]["ecpm"] == round(0.52 / 3 * 1000, 6)
    assert (modes["network"]["revenue"], modes["network"]["ecpm"]) == (0.004, 4.0)
    assert (modes["house"]["impressions"], modes["house"]["revenue"]) == (1, 0.0)
    assert (revenue["targeted"]["impressions"], revenue["targeted"]["revenue"]) == (6, 0.58)
    assert revenue["run_of_network"]["revenue"] == 0.004
    # The site's run-of-network eCPM in the window, from the ads area's own delivery rows:
    # (0.004 + 4 x 0.002) / 5 impressions x 1000; the 90.000 CPM of January is outside.
    assert revenue["network_ecpm"] == 2.4
    assert revenue["at_network_prices"] == 0.0168  # 7 paid impressions at 2.4 per thousand
    assert revenue["targeting_premium"] == round(0.584 - 0.0168, 6)
    assert body["weeks"][-1]["impressions"] == 8
    assert body["weeks"][-1]["revenue"] == 0.584
    assert sum(w["revenue"] for w in body["weeks"][:-1]) == 0
    assert body["break_even"] is None  # no cost yet

    episode_body = insights(client, admin, f"/titles/{second}")
    assert (episode_body["revenue"]["impressions"], episode_body["revenue"]["revenue"]) == (2, 0.02)

    def put(kind: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = client.put(
            f"/api/v1/insights/titles/{show_id}/costs/{kind}", json=body, headers=admin.headers
        )
        assert response.status_code == status, response.text
        answer: dict[str, Any] = response.json()
        return answer

    assert put("production", {"amount": "900", "notes": "series 1"})["amount"] == 900.0
    assert put("production", {"amount": "1000.000001"})["amount"] == 1000.000001  # replaces it
    assert put("production", {"amount": "1000"})["notes"] is None
    assert put("licence", {"amount": "200", "currency": "usd"})["currency"] == "USD"
    assert put("licence", {"amount": "0"}, 422)["code"] == "validation_failed"
    assert put("licence", {"amount": "1.0000001"}, 422)["code"] == "validation_failed"
    assert put("licence", {"amount": "5", "currency": "E1R"}, 422)["code"] == "validation_failed"
    assert put("rent", {"amount": "5"}, 422)["code"] == "validation_failed"

    even = insights(client, admin, f"/titles/{show_id}")["break_even"]
    assert (even["currency"], even["cost"], even["viewers"]) == ("EUR", 1000.0, 4)
    assert [c["currency"] for c in even["excluded_costs"]] == ["USD"]
    assert even["revenue"] == 0.584
    assert even["revenue_per_viewer"] == 0.146
    assert even["viewers_needed"] == math.ceil(1000 / 0.146) == 6850
    # At run-of-network prices: 7 paid impressions / 4 viewers x 2.4 / 1000 = 0.0042 a viewer.
    assert even["revenue_per_viewer_at_network_prices"] == 0.0042
    assert even["viewers_needed_at_network_prices"] == math.ceil(1000 / 0.0042) == 238096
    assert even["coverage"] == round(4 / 6850, 4)
    assert even["windows_needed"] == round(1000 / 0.584, 2)
    assert any("run-of-network eCPM" in a for a in even["assumptions"])

    costs = client.get("/api/v1/insights/costs", headers=admin.headers).json()
    assert [(c["kind"], c["amount"], c["currency"]) for c in costs] == [
        ("licence", 200.0, "USD"),
        ("production", 1000.0, "EUR"),
    ]
    deleted = client.delete(
        f"/api/v1/insights/titles/{show_id}/costs/licence", headers=admin.headers
    )
    assert deleted.status_code == 204
    again = client.delete(f"/api/v1/insights/titles/{show_id}/costs/licence", headers=admin.headers)
    assert (again.status_code, again.json()["code"]) == (404, "cost_not_found")


# -- local content ----------------------------------------------------------------------------


def _local_world(
    client: TestClient, register: Any, admin: Account, now: datetime = NOW
) -> dict[str, int]:
    de1, de2 = register("de1", country="DE"), register("de2", country="DE")
    fr1, us1 = register("fr1", country="FR"), register("us1", country="US")
    songs = {
        "lied": track("Lied", "Sänger", country="DE", language="de"),
        "schlager": track("Schlager", "Alpen", country="AT", language="de"),
        "chanson": track("Chanson", "Chanteuse", country="FR", language="fr"),
        "a": track("Song A", "Band", country="US", language="en"),
        "b": track("Song B", "Band", country="US", language="en"),
    }
    ids: dict[str, int] = {}
    for who, key, days in (
        (de1, "lied", 1), (de1, "lied", 2), (de1, "a", 3), (de2, "b", 1),
        (fr1, "chanson", 1), (fr1, "a", 1), (fr1, "a", 2), (fr1, "a", 3),
        (us1, "schlager", 1), (us1, "lied", 200),
    ):  # fmt: skip
        ids[key] = play(client, who, songs[key], now - timedelta(days=days))
    response = client.post(
        "/api/v1/catalog/rights",
        json={"item_id": ids["chanson"], "territory": "FR", "offer": "subscription"},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return ids


def test_local_content_report_passes_and_fails_per_cell(
    client: TestClient, runtime: Runtime, admin: Account, register: Any, clock: Clock
) -> None:
    _local_world(client, register, admin)
    body = insights(client, admin, "/local-content")  # the policy's countries and kinds
    cells = {(c["country"], c["kind"]): c for c in body["cells"]}
    assert set(cells) == {("DE", "track"), ("FR", "track")}
    de, fr = cells[("DE", "track")], cells[("FR", "track")]
    assert (de["threshold"], de["policy_scope"], de["languages"]) == (0.5, "music", ["de"])
    assert (fr["threshold"], fr["languages"]) == (0.9, ["fr"])
    # Offered: Chanson is only granted in France.
    assert de["offered"] == {"total": 4, "local": 2, "share": 0.5, "passes": True}
    assert fr["offered"] == {"total": 5, "local": 1, "share": 0.2, "passes": False}
    # Consumed in the window (us1's Lied 200 days ago is outside it, and not in either country).
    assert de["consumed"] == {"total": 4, "local": 2, "share": 0.5, "passes": True}
    assert fr["consumed"] == {"total": 4, "local": 1, "share": 0.25, "passes": False}

    # Recommended: what the recommender answers these users now, counted independently.
    with runtime.db.unit_of_work() as session:
        svc = runtime.services(session)
        for cell in (de, fr):
            users = session.scalars(
                select(User).where(User.country == cell["country"]).order_by(User.id)
            ).all()
            total = local = 0
            for user in users:
                for entry in svc.recs.recommend(user, kind="track", limit=20).entries:
                    total += 1
                    local += entry.item.country == cell["country"] or (
                        entry.item.original_language in cell["languages"]
                    )
            assert (cell["recommended"]["total"], cell["recommended"]["local"]) == (total, local)
            share = cell["recommended"]["share"]
            assert cell["passes"] == cell["recommended"]["passes"] == (share >= cell["threshold"])
    assert fr["recommended"]["local"] == 0  # the only French song is already played
    assert fr["passes"] is False
    assert de["recommended"]["total"] > 0

    other = insights(client, admin, "/local-content", country="DE,US", kind="track", sample=1)
    us = next(c for c in other["cells"] if c["country"] == "US")
    assert us["threshold"] is None
    assert us["passes"] is None
    assert us["offered"]["passes"] is None
    assert us["languages"] == ["en"]
    assert us["recommended"]["total"] <= 20  # a sample of one user

    csv = client.get(
        "/api/v1/insights/local-content", params={"format": "csv"}, headers=admin.headers
    ).text.splitlines()
    assert csv[0].startswith("country,kind,threshold,policy_scope,offered_total,offered_local")
    assert csv[1].startswith("DE,track,0.5,music,4,2,0.5,True,")
    assert csv[2].startswith("FR,track,0.9,music,5,1,0.2,False,")
    assert csv[2].endswith(",False")


def test_cli_local_content_exits_1_when_a_cell_fails(
    client: TestClient, database_url: str, admin: Account, register: Any
) -> None:
    _local_world(client, register, admin, datetime.now(UTC))
    env = {
        **dev_env(database_url),
        "TASTEGRAPH_RECS_LOCAL_SHARE": json.dumps({"DE": {"music": 0.5}, "FR": {"music": 0.9}}),
    }
    result = invoke(["insights", "local-content", "--json"], env)
    assert_clean_exit(result, 1)
    body = json.loads(result.stdout)
    assert [c["passes"] for c in body["cells"]][1] is False
    table = invoke(["insights", "local-content", "--country", "DE", "--kind", "track"], env)
    assert "DE" in table.stdout
    assert "track" in table.stdout
    csv = invoke(["insights", "local-content", "--country", "FR", "--csv"], env)
    assert_clean_exit(csv, 1)
    assert csv.stdout.splitlines()[1].startswith("FR,track,0.9,music,5,1,0.2,False")
