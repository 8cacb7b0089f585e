"""The operator's audience insights pages over HTTP: a title's numbers as the insights area
counts them (segment cells under the floor shown as "< 100"), the cost form with CSRF moving
the break-even, the overlap matrix, the local-content report, the CSV files, the pages in
every language, and nobody but administrators getting in (a 404 page, as for /admin)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.ads.schemas import AdvertiserIn
from tastegraph.ads.services import Scope
from tastegraph.catalog.models import Item
from tastegraph.config import Mode, Settings
from tastegraph.insights.models import TitleAdDelivery
from tastegraph.runtime import Runtime
from tastegraph.social.models import Group, GroupMember, GroupPrivacy, MembershipStatus
from tastegraph.web.ui.i18n import LOCALES
from tests.audience_helpers import World, add_users, build_catalogue, names
from tests.conftest import Account
from tests.web_ui_helpers import csrf_of, log_in, sign_up

OPERATOR = Scope(user_id=0, admin=True, advertiser_ids=frozenset())


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        mode=Mode.DEV,
        database_url=database_url,
        data_dir=tmp_path / "data",
        audience_refresh_seconds=0,
        stats_fold_seconds=0,
        recs_local_share={"DE": {"tv": 0.5}},
    )


def _seed(runtime: Runtime) -> tuple[World, int]:
    """165 viewers of "Harbour Lights": 120 German fans of episode 1, 40 Germans who saw both
    episodes, 5 French viewers of episode 2; a segment of the 160 Germans, one of the 5 French
    (under the floor), a group, and 26.50 EUR of ads around episode 1 today."""
    world = build_catalogue(runtime)
    add_users(runtime, world, names(120, "fan"), plays=[("drama1", 3, 2)])
    add_users(runtime, world, names(40, "both"), plays=[("drama1", 2, 1), ("drama2", 2, 1)])
    add_users(runtime, world, names(5, "fr"), plays=[("drama2", 1, 1)], country="FR")
    today = datetime.now(UTC).date()
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        svc.audiences.create_segment(
            None, name="Germans", rule={"type": "country", "countries": ["DE"]}
        )
        svc.audiences.create_segment(
            None, name="French", rule={"type": "country", "countries": ["FR"]}
        )
        group = Group(slug="harbour-fans", name="Harbour fans", privacy=GroupPrivacy.PUBLIC)
        session.add(group)
        session.flush()
        for name in names(3, "fan"):
            session.add(
                GroupMember(
                    group_id=group.id,
                    user_id=world.users[name],
                    status=MembershipStatus.MEMBER,
                )
            )
        for mode, impressions, spend in (
            ("audience", 1000, 24_000_000),
            ("network", 500, 2_500_000),
        ):
            session.add(
                TitleAdDelivery(
                    day=today,
                    item_id=world.items["drama1"],
                    line_item_id=1,
                    placement_id=1,
                    mode=mode,
                    country="DE",
                    campaign_id=1,
                    advertiser_id=1,
                    impressions=impressions,
                    clicks=0,
                    spend_micros=spend,
                )
            )
        show = session.scalar(select(Item.id).where(Item.title == "Harbour Lights"))
    assert show is not None
    return world, show


def _operator(client: TestClient) -> TestClient:
    browser = TestClient(client.app)
    log_in(browser, "operator", "operator-pass")
    return browser


def _cost(browser: TestClient, show: int, **fields: Any) -> Any:
    token = csrf_of(browser, f"/admin/insights/titles/{show}")
    data = {"kind": "licence", "amount": "10000", "currency": "EUR", "notes": "", **fields}
    return browser.post(
        f"/admin/insights/titles/{show}/costs",
        data={**data, "csrf_token": token},
        follow_redirects=False,
    )


def test_a_title_page_its_costs_and_csv(
    client: TestClient, runtime: Runtime, admin: Account
) -> None:
    world, show = _seed(runtime)
    operator = _operator(client)

    page = operator.get(f"/admin/insights/titles/{show}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "<h1>Harbour Lights" in text
    assert "<strong>165</strong> unique viewers" in text
    assert "<strong>325</strong> plays" in text  # 120 x 2 + 40 x 2 + 5
    assert "<strong>€26.50</strong> ad revenue" in text
    assert "<strong>€0.1606</strong> revenue per viewer" in text  # 26.50 / 165
    assert '<th scope="row">Germans</th>' in text
    assert '<td class="num">160</td>' in text  # the Germans' cell: above the floor
    assert "French" not in text  # a segment under the floor is not listed
    assert "1 smaller segment is left out." in text
    assert "Harbour fans" in text
    assert 'class="chart chart-line"' in text  # the weekly trend
    assert "Enter a production or licence cost" in text

    assert operator.get(f"/admin/insights/titles/{show}?tz=Mars/Olympus").status_code == 422
    assert operator.get(f"/admin/insights/titles/{show}?weeks=5").status_code == 404
    assert operator.get("/admin/insights/titles/999999").status_code == 404

    # The second episode: the Germans' cell has 40 viewers, under the floor.
    second = operator.get(f"/admin/insights/titles/{world.items['drama2']}").text
    assert "<strong>45</strong> unique viewers" in second
    assert re.search(
        r'Germans</th>\s*<td class="num">160</td>\s*'
        r'<td class="num"><span class="suppressed">&lt; 100</span></td>\s*'
        r'<td class="num">—</td>',
        second,
    )

    # The cost form needs the CSRF token, checks the amount, and moves the break-even.
    refused = operator.post(
        f"/admin/insights/titles/{show}/costs",
        data={"kind": "licence", "amount": "10000"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    bad = _cost(operator, show, amount="-3")
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text
    saved = _cost(operator, show, notes="Season 1")
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].startswith(f"/admin/insights/titles/{show}?")
    after = operator.get(saved.headers["location"]).text
    # 10,000 / (26.50 / 165) = 62,264.2 viewers, rounded up.
    assert '<strong class="viewers-needed">62,265</strong>' in after
    assert "Season 1" in after
    assert _cost(operator, show, amount="5300").status_code == 303  # replaces the licence
    assert (
        '<strong class="viewers-needed">33,000</strong>'
        in operator.get(f"/admin/insights/titles/{show}").text
    )

    export = operator.get(f"/admin/insights/titles/{show}/export.csv?weeks=4&tz=UTC")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.text.splitlines()
    assert lines[0] == "section,key,label,metric,value"
    assert "audience,,,viewers,165" in lines
    assert "costs,licence,EUR,amount,5300.0" in lines
    assert sum(1 for line in lines if line.startswith("weeks,") and ",plays," in line) == 4

    removed = operator.post(
        f"/admin/insights/titles/{show}/costs/licence/delete",
        data={"csrf_token": csrf_of(operator, f"/admin/insights/titles/{show}")},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert "viewers-needed" not in operator.get(f"/admin/insights/titles/{show}").text


def test_index_overlap_and_local_content(
    client: TestClient, runtime: Runtime, admin: Account
) -> None:
    world, show = _seed(runtime)
    operator = _operator(client)

    index = operator.get("/admin/insights?kind=show")
    assert index.status_code == 200
    assert f'href="/admin/insights/titles/{show}?' in index.text
    assert '<td class="num">165</td>' in index.text  # viewers of the most watched show
    found = operator.get("/admin/insights?q=harbour").text
    assert "Titles matching “harbour”" in found
    assert f'<a href="/admin/insights/titles/{show}?weeks=12' in found

    first, second = world.items["drama1"], world.items["drama2"]
    overlap = operator.get(f"/admin/insights/overlap?ids={first}&ids={second}")
    assert overlap.status_code == 200, overlap.text
    # 40 of episode 1's 160 viewers saw episode 2; 40 of episode 2's 45 saw episode 1.
    assert 'class="num heat-2">25%' in overlap.text
    assert 'class="num heat-5">88.9%' in overlap.text
    assert "40 in both" in overlap.text
    jaccard = operator.get(f"/admin/insights/overlap?ids={first},{second}&metric=jaccard").text
    assert ">24.2%" in jaccard  # 40 / 165, either way
    assert operator.get(f"/admin/insights/overlap?ids={first}").status_code == 422
    top = operator.get("/admin/insights/overlap?kind=episode&top=2")
    assert top.status_code == 200
    assert "88.9%" in top.text
    csv = operator.get(f"/admin/insights/overlap.csv?ids={first},{second}")
    assert csv.headers["content-type"].startswith("text/csv")
    row = f"{first},Harbour Lights S01E01,{second},Harbour Lights S01E02,160,45,40,0.2424,0.25"
    assert row in csv.text.splitlines()

    local = operator.get("/admin/insights/local-content?country=DE&kind=episode&sample=2")
    assert local.status_code == 200, local.text
    assert '<th scope="row">Germany</th>' in local.text
    assert '<td class="num">50%</td>' in local.text  # the policy: half local for TV
    assert "0 of 320" in local.text  # the Germans' 320 plays of episodes, none of them local
    assert "Below the policy" in local.text or "Not measured" in local.text
    assert operator.get("/admin/insights/local-content?country=XX").status_code == 404
    local_csv = operator.get("/admin/insights/local-content.csv?country=DE&kind=episode&sample=2")
    assert local_csv.headers["content-type"].startswith("text/csv")
    assert local_csv.text.splitlines()[1].startswith("DE,episode,0.5,tv,")

    # Every page in every language; French numbers and words in French.
    pages = [
        "/admin/insights",
        f"/admin/insights/titles/{show}",
        f"/admin/insights/titles/{second}",
        f"/admin/insights/overlap?ids={first},{second}",
        "/admin/insights/local-content?country=DE&sample=1",
    ]
    token = csrf_of(operator, "/settings")
    for locale in LOCALES:
        operator.post(
            "/settings/language",
            data={"locale": locale, "next": "/", "csrf_token": token},
            follow_redirects=False,
        )
        token = csrf_of(operator, "/settings")
        for path in pages:
            response = operator.get(path)
            assert response.status_code == 200, (locale, path)
            assert f'<html lang="{locale}">' in response.text
    operator.post(
        "/settings/language",
        data={"locale": "fr", "next": "/", "csrf_token": token},
        follow_redirects=False,
    )
    french = operator.get(f"/admin/insights/titles/{show}").text
    assert '<html lang="fr">' in french
    assert "spectateurs uniques" in french
    assert "26,50\u00a0€" in french
    assert "Seuil de rentabilité" in french


def test_only_administrators_get_in(client: TestClient, runtime: Runtime, admin: Account) -> None:
    _world, show = _seed(runtime)
    pages = [
        "/admin/insights",
        f"/admin/insights/titles/{show}",
        f"/admin/insights/titles/{show}/export.csv",
        "/admin/insights/overlap?kind=show",
        "/admin/insights/overlap.csv?kind=show",
        "/admin/insights/local-content?country=DE&sample=1",
        "/admin/insights/local-content.csv?country=DE&sample=1",
    ]
    away = client.get(pages[1], follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"].startswith("/login?next=")

    stranger = TestClient(client.app)
    sign_up(stranger, "stranger")
    seller = TestClient(client.app)
    sign_up(seller, "seller")
    with runtime.db.unit_of_work(write=True) as session:
        ads = runtime.services(session).ads
        acme = ads.create_advertiser(OPERATOR, AdvertiserIn(name="Acme"))
        ads.add_member(OPERATOR, acme.id, "seller")
    assert seller.get("/console").status_code == 200  # an advertiser, not an operator
    assert "/admin/insights" not in seller.get("/console").text

    for browser in (stranger, seller):
        for path in pages:
            assert browser.get(path).status_code == 404, path
        token = csrf_of(browser, "/settings")
        denied = browser.post(
            f"/admin/insights/titles/{show}/costs",
            data={"csrf_token": token, "kind": "licence", "amount": "10"},
            follow_redirects=False,
        )
        assert denied.status_code == 404
        no_token = browser.post(
            f"/admin/insights/titles/{show}/costs",
            data={"kind": "licence", "amount": "10"},
            follow_redirects=False,
        )
        assert no_token.status_code == 403

    operator = _operator(client)
    assert 'href="/admin/insights"' in operator.get("/admin").text
    assert 'href="/admin/insights"' in operator.get("/console").text
