"""The advertiser console and the administration pages in real Chromium: an advertiser builds
a segment with the live estimate (and sees the "< 100" privacy floor), creates a campaign, a
line item buying the segment and a creative; consenting listeners get the ad through the
decision API; the advertiser reads the report with its plots and downloads the CSV. An
administrator works the moderation queue.

The module runs its own ``tastegraph serve`` on a SQLite database it fills first through the
services: 120 consenting adults who play rock (the floor is 100), an advertiser and its member,
an administrator, a placement, and a reported shout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from tastegraph.accounts.schemas import UserCreate
from tastegraph.ads.schemas import AdvertiserIn, PlacementIn
from tastegraph.ads.services import Scope
from tastegraph.config import Mode, Settings
from tastegraph.runtime import Runtime
from tastegraph.social.models import ReportReason, ShoutTarget
from tests.audience_helpers import add_users, build_catalogue, names
from tests.browser.conftest import WebSession, _free_port, _wait_until_answers

OPERATOR = Scope(user_id=0, admin=True, advertiser_ids=frozenset())
FANS = 120
"""Consenting adults who played rock: above the k-anonymity floor of 100."""
VIEWERS = 6
"""Fans who get the ad through the decision API."""


@dataclass
class ConsoleSite:
    base_url: str
    tokens: list[str] = field(default_factory=list)


def _fill(runtime: Runtime) -> list[str]:
    world = build_catalogue(runtime)
    add_users(runtime, world, names(FANS - 10, "fan"), plays=[("rock1", 3, 4)], country="DE")
    add_users(runtime, world, names(10, "fanfr"), plays=[("rock1", 3, 4)], country="FR")
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        svc.accounts.register(UserCreate(name="ada", password="console-pass"))
        svc.accounts.register(UserCreate(name="root", password="operator-pass"), is_admin=True)
        acme = svc.ads.create_advertiser(
            OPERATOR, AdvertiserIn(name="Acme Records", domain="acme.example")
        )
        svc.ads.add_member(OPERATOR, acme.id, "ada")
        svc.ads.create_placement(
            OPERATOR,
            PlacementIn.model_validate(
                {"key": "mpu", "name": "Sidebar box", "type": "page", "formats": ["text", "image"]}
            ),
        )
        troll = svc.accounts.register(UserCreate(name="troll", password="troll-pass"))
        kind = svc.accounts.register(UserCreate(name="kindsoul", password="kind-pass"))
        place = svc.shouts.open_for_posting(troll, ShoutTarget.USER, kind.id)
        shout = svc.shouts.post(troll, place, "Cheap followers at http://spam.example !!!")
        svc.shouts.report(kind, shout.id, ReportReason.SPAM, "obvious spam")
        tokens = []
        for fan in names(VIEWERS, "fan"):
            _, secret = svc.accounts.create_token(svc.accounts.get_by_name(fan), "browser test")
            tokens.append(secret)
    return tokens


@pytest.fixture(scope="module")
def console_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleSite]:
    folder = tmp_path_factory.mktemp("console-site")
    database = f"sqlite:///{folder / 'tastegraph.db'}"
    executable = str(Path(sys.executable).with_name("tastegraph"))
    env = {
        **os.environ,
        "TASTEGRAPH_MODE": "dev",
        "TASTEGRAPH_DATA_DIR": str(folder / "data"),
        "TASTEGRAPH_DATABASE_URL": database,
        "TASTEGRAPH_AUDIENCE_REFRESH_SECONDS": "0",
        "OPENBLAS_NUM_THREADS": "1",
    }
    upgrade = subprocess.run(
        [executable, "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )
    assert upgrade.returncode == 0, upgrade.stderr
    runtime = Runtime.create(
        Settings(
            mode=Mode.DEV,
            database_url=database,
            data_dir=folder / "data",
            audience_refresh_seconds=0,
        )
    )
    try:
        tokens = _fill(runtime)
    finally:
        runtime.close()
    port = _free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [executable, "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_answers(proc, port, log)
        yield ConsoleSite(base_url=f"http://127.0.0.1:{port}", tokens=tokens)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def ui_server(console_site: ConsoleSite) -> str:
    """The ``web`` fixture's server for this module: the console site."""
    return console_site.base_url


def _log_in(web: WebSession, name: str, password: str) -> None:
    page = web.page
    web.goto("/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{web.base_url}/user/{name}")


def _deliver(site: ConsoleSite, line_item_id: int) -> None:
    """Each viewer asks for an ad with their own token, sees it, and the first one clicks."""
    with httpx.Client(base_url=site.base_url, follow_redirects=False) as http:
        for n, token in enumerate(site.tokens):
            answer = http.post(
                "/api/v1/ads/decide",
                json={"placement": "mpu"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
            decision = answer.json()
            assert decision["line_item_id"] == line_item_id
            assert decision["targeting"] == "audience"
            assert http.get(decision["impression_url"]).status_code == 200
            if n == 0:
                assert http.get(decision["click_url"]).status_code == 302


def test_advertiser_from_segment_to_report(web: WebSession, console_site: ConsoleSite) -> None:
    page = web.page
    _log_in(web, "ada", "console-pass")
    web.goto("/console", shot="console-empty")
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()

    # The segment builder: the estimate follows the form as it is filled in.
    page.get_by_role("navigation", name="Advertising console").get_by_role(
        "link", name="Segments"
    ).click()
    page.get_by_role("link", name="Build a segment").click()
    page.get_by_label("Name", exact=True).fill("Rock fans")
    first = page.get_by_role("group", name="Condition 1")
    first.get_by_label("Who").select_option("tag")
    first.get_by_label("Values").fill("rock")
    first.get_by_label("At least this many plays").fill("2")
    size = page.locator("[data-estimate-size]")
    expect(size).to_have_text(str(FANS))
    expect(page.locator("[data-estimate-summary]")).to_contain_text("targetable")
    expect(first.get_by_label("From age")).to_be_hidden()  # only what applies shows
    expect(page.get_by_label("Rule", exact=True)).to_have_value(
        '{\n  "type": "and",\n  "rules": [\n    {\n      "type": "tag",\n      "tags": [\n'
        '        "rock"\n      ],\n      "min_plays": 2\n    }\n  ]\n}'
    )
    web.shot("builder-estimate")

    # A second condition narrows it below the privacy floor: the size shows "< 100".
    page.get_by_role("button", name="Add a condition").click()
    second = page.get_by_role("group", name="Condition 2")
    second.get_by_label("Who").select_option("country")
    second.get_by_label("Values").fill("FR")
    expect(size).to_have_text("< 100")
    expect(page.locator("[data-estimate-summary]")).to_contain_text("below the privacy floor")
    web.shot("builder-below-floor")
    # A rule error points at its condition and JSON path.
    first.get_by_label("At least this many plays").fill("0")
    expect(page.locator(".rule-errors")).to_contain_text("Condition 1")
    expect(page.locator(".rule-errors")).to_contain_text("$.rule.rules[0].min_plays")
    web.shot("builder-error")
    first.get_by_label("At least this many plays").fill("2")
    second.get_by_role("button", name="Remove this condition").click()
    expect(size).to_have_text(str(FANS))
    # The raw JSON editor: switching carries the rule across, in both directions.
    page.get_by_label("JSON", exact=True).check()
    rule = page.get_by_label("Rule", exact=True)
    expect(rule).to_be_visible()
    expect(page.get_by_role("group", name="Condition 1")).to_be_hidden()
    rule.fill('{"type": "and", "rules": [{"type": "tag", "tags": ["rock"], "within_days": 30}]}')
    expect(size).to_have_text(str(FANS))
    web.shot("builder-json")
    page.get_by_label("Form", exact=True).check()
    expect(first.get_by_label("Within the last days")).to_have_value("30")
    expect(first.get_by_label("Values")).to_have_value("rock")
    page.get_by_role("button", name="Save the segment").click()

    expect(page.get_by_role("heading", name="Rock fans", level=1)).to_be_visible()
    expect(page.get_by_text("Targetable", exact=True)).to_be_visible()
    web.shot("segment")
    page.get_by_role("link", name="Audience segments").click()
    expect(page.get_by_role("row", name="Rock fans")).to_contain_text("Yes")
    web.shot("segments")

    # A campaign, a line item buying the segment, and a text creative.
    page.get_by_role("navigation", name="Advertising console").get_by_role(
        "link", name="Campaigns"
    ).click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Rock launch")
    page.get_by_label("Pacing").select_option("asap")
    page.get_by_label("Total budget (EUR)").fill("100")
    page.get_by_label("Daily budget (EUR)").fill("20")
    web.shot("campaign-form")
    page.get_by_role("button", name="Create the campaign").click()
    expect(page.get_by_role("heading", name="Rock launch", level=1)).to_be_visible()
    web.shot("campaign")

    page.get_by_role("link", name="New line item").click()
    page.get_by_label("Name").fill("Rock fans in Europe")
    page.get_by_label("Bid (EUR)").fill("4")
    page.get_by_label("Rock fans").check()
    page.get_by_label("Sidebar box").check()
    web.shot("line-item-form")
    page.get_by_role("button", name="Create the line item").click()
    expect(page.get_by_role("heading", name="Rock launch", level=1)).to_have_count(0)
    line_item_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("link", name="Rock fans")).to_be_visible()
    web.shot("line-item")

    page.get_by_role("link", name="New creative").click()
    page.get_by_label("Name").fill("Listen now")
    page.get_by_label("Format").select_option("text")
    expect(page.get_by_label("Asset URL")).to_be_hidden()
    page.get_by_label("Headline").fill("The loudest album of the year")
    page.get_by_label("Text", exact=True).fill("Out now on every platform.")
    page.get_by_label("Click URL").fill("https://acme.example/loud")
    page.get_by_role("button", name="Create the creative").click()
    expect(page.get_by_role("link", name="The loudest album of the year")).to_be_visible()
    web.shot("creative")

    _deliver(console_site, line_item_id)

    # The report: plots and the CSV.
    web.goto("/console", shot="console-home")
    expect(page.get_by_role("cell", name="Active")).to_be_visible()
    page.get_by_role("navigation", name="Advertising console").get_by_role(
        "link", name="Reports"
    ).click()
    page.get_by_label("Campaign", exact=True).select_option(label="Rock launch")
    page.get_by_label("Break down by").select_option("line_item")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".totals")).to_contain_text(f"{VIEWERS} impressions")
    expect(page.get_by_role("img", name="Impressions per day")).to_be_visible()
    expect(page.get_by_role("img", name="Frequency")).to_be_visible()
    expect(page.get_by_role("img", name="Click-through rate by segment")).to_be_visible()
    expect(page.get_by_role("img", name="Click-through rate by country")).to_be_visible()
    expect(page.get_by_role("img", name="Impressions by kind of targeting")).to_be_visible()
    expect(page.get_by_role("row", name="Rock fans in Europe")).to_be_visible()
    web.shot("report")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV by day", exact=True).click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    assert lines[0].startswith("day,impressions,reach")
    assert lines[-1].startswith(f"total,{VIEWERS},")


def test_admin_works_the_moderation_queue(web: WebSession) -> None:
    page = web.page
    _log_in(web, "root", "operator-pass")
    web.goto("/admin", shot="admin")
    page.get_by_role("link", name="Moderation").first.click()
    expect(page.get_by_text("Cheap followers at")).to_be_visible()
    expect(page.get_by_role("link", name="http://spam.example")).to_have_attribute(
        "rel", "nofollow ugc noopener"
    )
    web.shot("moderation-queue")
    page.get_by_role("button", name="Delete the shout").click()
    expect(page.get_by_text("Nothing to moderate.")).to_be_visible()
    page.get_by_role("link", name="Removed").click()
    expect(page.get_by_text("obvious spam")).to_be_visible()
    web.shot("moderation-removed")
    web.goto("/admin/users?q=fan", shot="admin-users")
    expect(page.get_by_role("link", name="fan000")).to_be_visible()
    web.goto("/admin/keys", shot="admin-keys")
    expect(page.get_by_role("heading", name="Acme Records")).to_be_visible()
