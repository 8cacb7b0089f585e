"""The advertiser console and the administration pages over HTTP: forms with CSRF, an
advertiser never reaching another's campaigns (404), the segment builder's estimate with the
k-anonymity floor, delivery reports and their CSV, and administrators only on /admin."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.accounts.schemas import UserCreate
from tastegraph.ads.schemas import AdvertiserIn, PlacementIn
from tastegraph.ads.services import Scope
from tastegraph.runtime import Runtime
from tastegraph.social.models import ReportReason, Shout, ShoutTarget
from tests.audience_helpers import add_users, build_catalogue, names
from tests.web_ui_helpers import csrf_of, log_in, sign_up

OPERATOR = Scope(user_id=0, admin=True, advertiser_ids=frozenset())


def _advertiser(runtime: Runtime, name: str, *members: str) -> int:
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        advertiser = svc.ads.create_advertiser(OPERATOR, AdvertiserIn(name=name))
        for member in members:
            svc.ads.add_member(OPERATOR, advertiser.id, member)
        return advertiser.id


def _placement(runtime: Runtime, key: str = "mpu") -> None:
    with runtime.db.unit_of_work(write=True) as session:
        runtime.services(session).ads.create_placement(
            OPERATOR,
            PlacementIn.model_validate(
                {"key": key, "name": key.upper(), "type": "page", "formats": ["image", "text"]}
            ),
        )
    runtime.ads.invalidate()


def _browser(client: TestClient, name: str) -> TestClient:
    """Another browser (its own cookies) signed up as ``name``."""
    other = TestClient(client.app)
    sign_up(other, name)
    return other


def _post(browser: TestClient, path: str, data: dict[str, Any], form_page: str) -> Any:
    token = csrf_of(browser, form_page)
    return browser.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _campaign_form(advertiser_id: int, **fields: Any) -> dict[str, Any]:
    start = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    return {
        "advertiser_id": str(advertiser_id),
        "name": "Autumn launch",
        "priority": "standard",
        "pricing": "cpm",
        "pacing": "asap",
        "starts_at": start,
        "ends_at": "",
        "total_budget": "500",
        "daily_budget": "",
        "status": "active",
        **fields,
    }


def _new_campaign(browser: TestClient, advertiser_id: int, **fields: Any) -> int:
    made = _post(
        browser,
        "/console/campaigns/new",
        _campaign_form(advertiser_id, **fields),
        "/console/campaigns/new",
    )
    assert made.status_code == 303, made.text
    found = re.fullmatch(r"/console/campaigns/(\d+)", made.headers["location"])
    assert found, made.headers["location"]
    return int(found.group(1))


def _new_line_item(browser: TestClient, campaign_id: int, **fields: Any) -> int:
    form = f"/console/campaigns/{campaign_id}/line-items/new"
    made = _post(
        browser,
        form,
        {"name": "Everyone", "bid": "2.500", "status": "active", **fields},
        form,
    )
    assert made.status_code == 303, made.text
    return int(made.headers["location"].rsplit("/", 1)[1])


def _new_creative(browser: TestClient, line_item_id: int, **fields: Any) -> Any:
    form = f"/console/line-items/{line_item_id}/creatives/new"
    data = {
        "name": "Banner",
        "format": "text",
        "headline": "Hear it first",
        "body": "New season, new sound.",
        "click_url": "https://advertiser.example/landing",
        "status": "active",
        **fields,
    }
    return _post(browser, form, data, form)


def test_console_needs_a_signed_in_advertiser(client: TestClient) -> None:
    away = client.get("/console", follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"] == "/login?next=%2Fconsole"
    sign_up(client, "nobody")
    refused = client.get("/console")
    assert refused.status_code == 403
    assert "does not work for an advertiser" in refused.text
    assert client.get("/console/segments").status_code == 403


def test_campaigns_line_items_creatives_and_isolation(client: TestClient, runtime: Runtime) -> None:
    _placement(runtime)
    acme = _browser(client, "ann")
    rival = _browser(client, "bob")
    acme_id = _advertiser(runtime, "Acme", "ann")
    _advertiser(runtime, "Rival", "bob")

    campaign = _new_campaign(acme, acme_id, name="<b>Autumn</b> launch")
    home = acme.get("/console")
    assert home.status_code == 200
    assert "&lt;b&gt;Autumn&lt;/b&gt; launch" in home.text
    assert "<b>Autumn" not in home.text
    assert "500.00" in home.text  # the budget as money

    # A campaign that ends before it starts is refused on the form, nothing is stored.
    bad = _post(
        acme,
        "/console/campaigns/new",
        _campaign_form(acme_id, ends_at="2020-01-01T00:00"),
        "/console/campaigns/new",
    )
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text
    assert "must end after it starts" in bad.text

    line_item = _new_line_item(
        acme, campaign, countries="de, at", kinds=["match", "episode"], placements="mpu"
    )
    page = acme.get(f"/console/line-items/{line_item}")
    assert page.status_code == 200
    assert "Germany" in page.text
    assert "Austria" in page.text
    assert "Matches" in page.text

    evil = _new_creative(acme, line_item, click_url="javascript:alert(1)")
    assert evil.status_code == 422
    assert "Click URL" in evil.text
    made = _new_creative(acme, line_item)
    assert made.status_code == 303
    creative = int(made.headers["location"].rsplit("/", 1)[1])
    preview = acme.get(f"/console/creatives/{creative}")
    assert "Hear it first" in preview.text

    # Another advertiser finds nothing of Acme's: every page is a 404, as for no such thing.
    for path in [
        f"/console/campaigns/{campaign}",
        f"/console/campaigns/{campaign}/edit",
        f"/console/campaigns/{campaign}/line-items/new",
        f"/console/line-items/{line_item}",
        f"/console/line-items/{line_item}/edit",
        f"/console/line-items/{line_item}/creatives/new",
        f"/console/creatives/{creative}",
        f"/console/creatives/{creative}/edit",
        f"/console/reports?campaign_id={campaign}",
        f"/console/reports.csv?line_item_id={line_item}",
        f"/console/campaigns/new?advertiser_id={acme_id}",
    ]:
        response = rival.get(path)
        assert response.status_code == 404, path
        assert "Autumn" not in response.text
    token = csrf_of(rival, "/console")
    for path, data in [
        (f"/console/campaigns/{campaign}/status", {"action": "pause"}),
        (f"/console/campaigns/{campaign}/edit", _campaign_form(acme_id, name="Hijacked")),
        (f"/console/line-items/{line_item}/status", {"action": "archive"}),
        (f"/console/creatives/{creative}/status", {"action": "archive"}),
        ("/console/campaigns/new", _campaign_form(acme_id, name="Hijacked")),
    ]:
        response = rival.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 404, path
    assert "Autumn" not in rival.get("/console").text
    assert "Hijacked" not in acme.get("/console").text
    assert "badge status-active" in acme.get(f"/console/creatives/{creative}").text

    # Pause and archive through the forms.
    paused = _post(acme, f"/console/campaigns/{campaign}/status", {"action": "pause"}, "/console")
    assert paused.status_code == 303
    assert "status-paused" in acme.get(f"/console/campaigns/{campaign}").text
    archived = _post(
        acme, f"/console/campaigns/{campaign}/status", {"action": "archive"}, "/console"
    )
    assert archived.headers["location"] == "/console"
    assert acme.get(f"/console/campaigns/{campaign}").status_code == 404


def test_console_forms_need_the_csrf_token(client: TestClient, runtime: Runtime) -> None:
    acme = _browser(client, "cara")
    acme_id = _advertiser(runtime, "Acme", "cara")
    form = _campaign_form(acme_id)
    assert acme.post("/console/campaigns/new", data=form).status_code == 403
    stolen = csrf_of(_browser(client, "dave"), "/")
    assert (
        acme.post("/console/campaigns/new", data={**form, "csrf_token": stolen}).status_code == 403
    )
    estimate = {"editor": "builder", "combine": "and", "cond_type": "country", "cond_values": "DE"}
    assert acme.post("/console/segments/estimate", data=estimate).status_code == 403
    assert "Autumn launch" not in acme.get("/console").text


def test_segment_builder_estimate_floor_errors_and_save(
    client: TestClient, runtime: Runtime
) -> None:
    world = build_catalogue(runtime)
    add_users(runtime, world, names(104, "fan"), plays=[("rock1", 2, 3)], country="DE")
    add_users(runtime, world, names(5, "fr"), plays=[("rock1", 2, 3)], country="FR")
    acme = _browser(client, "erin")
    _advertiser(runtime, "Acme", "erin")
    rival = _browser(client, "fred")
    _advertiser(runtime, "Rival", "fred")
    token = csrf_of(acme, "/console/segments/new")

    def estimate(**fields: Any) -> dict[str, Any]:
        data = {
            "csrf_token": token,
            "editor": "builder",
            "combine": "and",
            "cond_type": "tag",
            "cond_negate": "",
            "cond_values": "rock",
            "cond_kinds": "",
            "cond_min_plays": "2",
            "cond_within_days": "30",
            "cond_age_min": "",
            "cond_age_max": "",
            **fields,
        }
        response = acme.post("/console/segments/estimate", data=data)
        assert response.status_code == 200
        assert response.headers["content-security-policy"]
        answer: dict[str, Any] = response.json()
        return answer

    broad = estimate()
    assert broad["size"] == 109
    assert broad["targetable"] is True
    assert "targetable" in broad["summary"]
    assert '"tags": [\n        "rock"' in broad["rule_json"]

    french = estimate(cond_type=["tag", "country"], cond_values=["rock", "FR"],
                      **{k: [v, ""] for k, v in {"cond_negate": "", "cond_kinds": "",
                         "cond_min_plays": "2", "cond_within_days": "30", "cond_age_min": "",
                         "cond_age_max": ""}.items()})  # fmt: skip
    assert french["size"] == "< 100"
    assert french["targetable"] is False
    assert "below the privacy floor" in french["summary"]

    wrong = estimate(cond_min_plays="0")
    assert wrong["size"] is None
    assert wrong["errors"][0]["path"] == "$.rule.rules[0].min_plays"
    assert wrong["errors"][0]["label"] == "Condition 1"

    raw = estimate(editor="json", rule_json='{"type": "country", "countries": ["DE"]}')
    assert raw["size"] == 104
    broken = estimate(editor="json", rule_json='{"type": ')
    assert broken["errors"][0]["path"] == "$.rule"

    # Without the script: the "Estimate" button posts the form and the page shows the size.
    page = acme.post(
        "/console/segments/new",
        data={"csrf_token": token, "action": "estimate", "editor": "builder", "combine": "and",
              "cond_type": "country", "cond_values": "FR", "name": ""},
    )  # fmt: skip
    assert page.status_code == 200
    assert "&lt; 100" in page.text

    saved = acme.post(
        "/console/segments/new",
        data={"csrf_token": token, "action": "save", "editor": "builder", "combine": "and",
              "cond_type": "tag", "cond_values": "rock", "cond_min_plays": "2",
              "name": "Rock fans", "active": "on"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    segment_path = saved.headers["location"]
    shown = acme.get(segment_path)
    assert "Rock fans" in shown.text
    assert "109" in shown.text
    assert "Germany" in shown.text
    assert "&lt; 100" in shown.text  # France's cell is under the floor
    assert "Rock fans" in acme.get("/console/segments").text
    # Segments made by an advertiser's user are theirs alone.
    assert rival.get(segment_path).status_code == 404
    assert "Rock fans" not in rival.get("/console/segments").text

    lookalike = acme.post(
        f"{segment_path}/lookalike",
        data={"csrf_token": token, "target_size": "5", "include_seed": "on"},
    )
    assert lookalike.status_code == 422
    assert "cannot be made" in lookalike.text


def test_reports_with_plots_and_csv(client: TestClient, runtime: Runtime) -> None:
    _placement(runtime)
    acme = _browser(client, "gina")
    acme_id = _advertiser(runtime, "Acme", "gina")
    campaign = _new_campaign(acme, acme_id)
    line_item = _new_line_item(acme, campaign)
    assert _new_creative(acme, line_item).status_code == 303
    for n in range(6):
        decision = client.post(
            "/api/v1/ads/decide",
            json={"placement": "mpu", "anonymous_id": f"viewer{n % 3}", "country": "DE"},
        )
        assert decision.status_code == 200, decision.text
        body = decision.json()
        assert body["line_item_id"] == line_item
        for url in [body["impression_url"]] + ([body["click_url"]] if n == 0 else []):
            client.get("/" + url.split("://", 1)[1].split("/", 1)[1], follow_redirects=False)

    report = acme.get(f"/console/reports?campaign_id={campaign}")
    assert report.status_code == 200
    assert report.text.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart') >= 5
    assert "Impressions per day" in report.text
    assert "Click-through rate by country" in report.text
    assert "Germany" in report.text
    assert "Run of network" in report.text
    assert "Everyone" in report.text  # the breakdown by line item

    download = acme.get(f"/console/reports.csv?campaign_id={campaign}&by=line_item")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert rows[-1]["day"] == "total"
    assert rows[-1]["impressions"] == "6"
    assert rows[-1]["clicks"] == "1"
    assert rows[0]["line_item_name"] == "Everyone"

    # Money and numbers follow the page's language.
    _post(acme, "/settings/language", {"locale": "fr", "next": "/console"}, "/settings")
    french = acme.get(f"/console/campaigns/{campaign}")
    assert "500,00\u00a0€" in french.text
    assert acme.get("/console/reports?since=2026-02-10&until=2026-01-01").status_code == 422


def test_admin_pages_are_for_administrators_only(client: TestClient, runtime: Runtime) -> None:
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        svc.accounts.register(UserCreate(name="root", password="operator-pass"), is_admin=True)
        author = svc.accounts.register(UserCreate(name="troll", password="troll-pass"))
        reporter = svc.accounts.register(UserCreate(name="kind", password="kind-pass-1"))
        place = svc.shouts.open_for_posting(author, ShoutTarget.USER, reporter.id)
        shout = svc.shouts.post(author, place, "<script>alert(1)</script> buy now")
        svc.shouts.report(reporter, shout.id, ReportReason.SPAM, "spam")
        shout_id = shout.id
    plain = _browser(client, "henry")
    token = csrf_of(plain, "/")
    for path in ["/admin", "/admin/users", "/admin/moderation", "/admin/keys"]:
        assert plain.get(path).status_code == 404, path
    assert (
        plain.post(
            "/admin/moderation/1", data={"csrf_token": token, "action": "remove"}
        ).status_code
        == 404
    )
    assert (
        plain.post("/admin/advertisers", data={"csrf_token": token, "name": "X"}).status_code == 404
    )

    admin = TestClient(client.app)
    log_in(admin, "root", "operator-pass")
    assert admin.get("/admin").status_code == 200
    found = admin.get("/admin/users?q=hen")
    assert "henry" in found.text
    assert "troll" not in found.text
    queue = admin.get("/admin/moderation")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; buy now" in queue.text
    assert "<script>alert" not in queue.text
    report_id = int(re.search(r'action="/admin/moderation/(\d+)"', queue.text).group(1))  # type: ignore[union-attr]
    removed = _post(
        admin, f"/admin/moderation/{report_id}", {"action": "remove"}, "/admin/moderation"
    )
    assert removed.status_code == 303
    with runtime.db.unit_of_work() as session:
        assert session.scalar(select(Shout.deleted_at).where(Shout.id == shout_id)) is not None
    assert "Nothing to moderate" in admin.get("/admin/moderation").text

    created = _post(
        admin, "/admin/advertisers", {"name": "Globex", "domain": "globex.example"}, "/admin/keys"
    )
    assert created.status_code == 303
    keys = admin.get("/admin/keys")
    advertiser_id = int(re.search(r'action="/admin/advertisers/(\d+)/members"', keys.text).group(1))  # type: ignore[union-attr]
    added = _post(
        admin, f"/admin/advertisers/{advertiser_id}/members", {"user": "henry"}, "/admin/keys"
    )
    assert added.status_code == 303
    assert plain.get("/console").status_code == 200  # henry now works for Globex
    unknown = _post(
        admin, f"/admin/advertisers/{advertiser_id}/members", {"user": "ghost"}, "/admin/keys"
    )
    assert unknown.status_code == 422
    assert "There is no user called ghost" in unknown.text


def test_console_and_admin_pages_render_in_every_locale(
    client: TestClient, runtime: Runtime
) -> None:
    """Every page in all six languages: a translation that lost a placeholder would fail."""
    from tastegraph.web.ui.i18n import LOCALES

    _placement(runtime)
    with runtime.db.unit_of_work(write=True) as session:
        runtime.services(session).accounts.register(
            UserCreate(name="boss", password="operator-pass"), is_admin=True
        )
    owner = TestClient(client.app)
    log_in(owner, "boss", "operator-pass")
    acme_id = _advertiser(runtime, "Acme", "boss")
    campaign = _new_campaign(owner, acme_id, daily_budget="50", ends_at="2099-01-01T00:00")
    line_item = _new_line_item(
        owner,
        campaign,
        daypart_start="18",
        daypart_end="23",
        daypart_0_days=["sat", "sun"],
        cap_impressions="3",
        cap_window="86400",
        clients="mobile",
        categories="483",
    )
    creative = int(_new_creative(owner, line_item).headers["location"].rsplit("/", 1)[1])
    token = csrf_of(owner, "/console/segments/new")
    saved = owner.post(
        "/console/segments/new",
        data={"csrf_token": token, "action": "save", "editor": "json", "name": "Germans",
              "rule_json": '{"type": "country", "countries": ["DE"]}'},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    pages = [
        "/console",
        "/console/campaigns/new",
        f"/console/campaigns/{campaign}",
        f"/console/campaigns/{campaign}/edit",
        f"/console/campaigns/{campaign}/line-items/new",
        f"/console/line-items/{line_item}",
        f"/console/line-items/{line_item}/edit",
        f"/console/line-items/{line_item}/creatives/new",
        f"/console/creatives/{creative}",
        f"/console/creatives/{creative}/edit",
        "/console/segments",
        "/console/segments/new",
        saved.headers["location"],
        saved.headers["location"] + "/edit",
        f"/console/reports?campaign_id={campaign}&by=segment",
        "/admin",
        "/admin/users",
        "/admin/moderation",
        "/admin/keys",
    ]
    for locale in LOCALES:
        _post(owner, "/settings/language", {"locale": locale, "next": "/"}, "/settings")
        for path in pages:
            response = owner.get(path)
            assert response.status_code == 200, (locale, path)
            assert f'<html lang="{locale}">' in response.text
