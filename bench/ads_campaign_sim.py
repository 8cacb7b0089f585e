"""A simulated campaign over the demo community: behaviourally targeted against run-of-network.

    .venv/bin/python bench/ads_campaign_sim.py                     # loads a fresh demo first
    .venv/bin/python bench/ads_campaign_sim.py --database-url sqlite:///path/tastegraph.db

(the database is copied first: the simulation writes campaigns and delivery into the copy).

**Set-up.** T = the demo's last play minus ``--horizon`` days. At T, for each of the
``--categories`` most used non-sensitive tags that make a targetable segment (≥ 100 consenting
adults, at most a third of them), the audiences area builds the real rule segment "≥ 3 plays of
items tagged X in the last ``--lookback`` days" from behaviour before T only. One advertiser
per tag buys, with **the same CPM bid, daily budget, even pacing and frequency caps (3 a day,
``--weekly-cap`` (10) a week)**:

* arm **targeted**: a line item targeting the segment;
* arm **run of network (RON)**: a line item with no targeting.

Each arm runs alone over the same traffic. The daily budget of a tag is ``--booked`` (25 %) of
the impressions its segment's members requested per day in the ``--days`` before T (a forecast
from history, not from the flight).

**Traffic.** Every play of a consenting adult in the ``--days`` after T is one ad request (a
pre-roll or a page view: one placement) made through the real engine (``AdEngine.decide``:
index, segments, caps, pacing, budgets) at the play's time; the impression is counted by the
real beacon code and reported by the real reports (reach from the HyperLogLog sketches).

**Click model** (every number an assumption, stated):

    P(click) = b × (1 + γ × a(u, tag)) × f^(k − 1)

* a(u, tag) ∈ [0, 1]: the viewer's *real* affinity to the ad's tag — the share of their plays
  in the ``--horizon`` days after T that carry the tag. It is never seen by the segment rules
  (built before T) or by the engine.
* γ (``--gamma``, 4): how much more a fully interested viewer clicks than an uninterested one
  (5×). **This is what makes interest click at all**: with γ = 0 targeting cannot lift CTR.
  Its size is assumed; the sensitivity table shows the premium for other values.
* f^(k − 1) (``--fatigue``, 0.85): the k-th exposure of the same viewer to the same line
  item within 7 days clicks 15 % less than the one before (wear-out; older exposures are
  forgotten). One placement: no position effect.
* b: set so that a RON impression, first exposure, to the average request's viewer clicks at
  ``--base-ctr`` = 0.5 % — Revive's ``defaultClickRatio`` (adtech.md §1.1), the only CTR anchor
  the reference gives.

So the lift of targeting over RON = how much more future affinity the segment's viewers have
than the average viewer (measured on held-out plays) times γ's leverage, minus the extra
fatigue of a smaller audience seen more often. The model does not contain "targeted ads click
more": a segment that did not predict future plays would show no lift.

**Reading the results.** The CTR in the main table is the model's expectation over the
impressions each arm actually delivered (the mean of P(click)); the simulated clicks are one
random draw of the same model, shown with a 95 % interval, and feed the engine (CPC charging,
predicted CTR). The premium is computed from the expectation, which has no click noise.

**Pricing.** Both arms are bought at the same CPM, so they spend alike; the premium a broadcaster
could charge is then derived: the targeted CPM at which an advertiser pays the same per click
as on RON is CPM_RON × CTR_targeted / CTR_RON (equal revenue per click), and a CPC deal at RON's
cost per click earns eCPM = CPC × CTR × 1,000.

A third arm (``--skip-cpc`` to leave it out), **CPC, mixed**, puts both line items of every tag
in one auction, priced per click at the same bid: they start tied at the default 0.5 % CTR and
the engine's smoothed per-line-item CTR (ads/index.py, rebuilt daily here, hourly in a server)
decides who ranks first as clicks come in.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tastegraph.accounts.models import User
from tastegraph.accounts.schemas import UserCreate
from tastegraph.ads.beacons import record_click, record_impression
from tastegraph.ads.decision import AdContext
from tastegraph.ads.models import CreativeFormat, Pacing, PlacementType, Pricing
from tastegraph.ads.schemas import (
    AdvertiserIn,
    CampaignIn,
    CreativeIn,
    FrequencyCap,
    LineItemIn,
    PlacementIn,
    ReportDimension,
    ReportOut,
    Targeting,
)
from tastegraph.ads.services import Scope
from tastegraph.audiences.models import SegmentMember
from tastegraph.audiences.sensitive import is_sensitive_tag
from tastegraph.catalog.models import Item, ItemTag, Tag
from tastegraph.config import Mode, Settings
from tastegraph.ingest.models import Play
from tastegraph.runtime import Runtime
from tastegraph.storage.engine import copy_sqlite_database

BIN = Path(sys.executable).parent
PLACEMENT = "player"
DAILY_CAP = 3
"""Impressions per viewer, line item and day; the weekly cap is ``--weekly-cap`` (10)."""
FATIGUE_WINDOW = timedelta(days=7)
"""Exposures older than this no longer tire the viewer of the ad."""


@dataclass
class Request:
    at: datetime
    user: int
    segments: frozenset[int]


@dataclass
class Category:
    tag: str
    segment_id: int
    members: int
    daily_budget: Decimal
    line_items: dict[str, int] = field(default_factory=dict)
    """arm -> line item id"""


@dataclass
class Delivery:
    """What one arm delivered, impression by impression, for the click model's sensitivity."""

    impressions: list[tuple[int, str, int]] = field(default_factory=list)
    """(user, tag, k-th exposure of this viewer to this line item)"""
    by_day: list[Counter[str]] = field(default_factory=list)
    """Per day: impressions by kind of line item (targeted / ron)."""


# -- the demo community -------------------------------------------------------------------------


def demo_copy(url: str | None, users: int, workdir: Path) -> str:
    target = workdir / "tastegraph.db"
    if url:
        source = Path(url.removeprefix("sqlite:///"))
        copy_sqlite_database(source, target)
        return f"sqlite:///{target}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEGRAPH_")}
    env |= {"TASTEGRAPH_MODE": "demo", "TASTEGRAPH_DATA_DIR": str(workdir)}
    print(f"loading the demo community ({users} people) into {workdir} ...", file=sys.stderr)
    subprocess.run(
        [str(BIN / "tastegraph"), "demo", "--users", str(users)],
        env=env,
        check=True,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    return f"sqlite:///{target}"


def item_tags(session: Any) -> dict[int, frozenset[str]]:
    """Every item's tags with those of its parent and grandparent (as the rules see them)."""
    own: dict[int, set[str]] = defaultdict(set)
    for item_id, key in session.execute(
        select(ItemTag.item_id, Tag.key).join(Tag, Tag.id == ItemTag.tag_id)
    ):
        own[item_id].add(key)
    parents = dict(session.execute(select(Item.id, Item.parent_id)).all())
    out: dict[int, frozenset[str]] = {}
    for item_id, parent in parents.items():
        tags = set(own.get(item_id, ()))
        hops = 0
        above = parent
        while above is not None and hops < 2:
            tags |= own.get(above, set())
            above = parents.get(above)
            hops += 1
        out[item_id] = frozenset(tags)
    return out


def plays_between(session: Any, start: datetime, end: datetime) -> list[tuple[datetime, int, int]]:
    return [
        (at if at.tzinfo else at.replace(tzinfo=UTC), user, item)
        for at, user, item in session.execute(
            select(Play.played_at, Play.user_id, Play.item_id)
            .where(Play.played_at > start, Play.played_at <= end)
            .order_by(Play.played_at)
        )
    ]


# -- the world of the simulation ----------------------------------------------------------------


class Sim:
    def __init__(self, url: str, workdir: Path, args: argparse.Namespace) -> None:
        self.args = args
        self.runtime = Runtime.create(
            Settings(
                mode=Mode.DEMO,
                database_url=url,
                data_dir=workdir / "data",
                audience_refresh_seconds=0,
                ads_index_refresh_seconds=10**6,  # rebuilt by hand, once a simulated day
            )
        )
        self.now = datetime.now(UTC)
        self.runtime.clock = lambda: self.now
        self.rng = random.Random(args.seed)
        self.runtime.ads.rng = random.Random(args.seed + 1)
        with self.runtime.db.unit_of_work() as session:
            last = session.scalar(select(func.max(Play.played_at)))
            assert last is not None, "the database holds no plays"
            last = last if last.tzinfo else last.replace(tzinfo=UTC)
            self.cut = (last - timedelta(days=args.horizon)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            self.tags = item_tags(session)
        self.end = self.cut + timedelta(days=args.days)

    def close(self) -> None:
        self.runtime.close()

    # -- set-up at T ----------------------------------------------------------------------------

    def setup(self) -> tuple[Scope, list[Category], list[Request], dict[tuple[int, str], float]]:
        args = self.args
        self.now = self.cut
        with self.runtime.db.unit_of_work(write=True) as session:
            svc = self.runtime.services(session)
            admin = svc.accounts.register(
                UserCreate(name="sim-operator", password="sim-operator-pass"), is_admin=True
            )
            scope = svc.ads.scope(admin)
            svc.ads.create_placement(
                scope,
                PlacementIn(
                    key=PLACEMENT, name="Player", type=PlacementType.PAGE, formats=["text"]
                ),
            )
            audiences = svc.audiences
            targetable = [
                uid for uid in session.scalars(select(User.id)) if audiences.is_targetable(uid)
            ]
            history = plays_between(session, self.cut - timedelta(days=args.days), self.cut)
            categories: list[Category] = []
            for tag in self._candidate_tags(session):
                segment = audiences.create_segment(
                    None,
                    name=f"tag {tag}",
                    rule={
                        "type": "tag",
                        "tags": [tag],
                        "min_plays": 3,
                        "within_days": args.lookback,
                    },
                )
                members = segment.member_count
                if not args.min_members <= members <= len(targetable) // 3:
                    segment.active = False
                    continue
                member_ids = set(
                    session.scalars(
                        select(SegmentMember.user_id).where(SegmentMember.segment_id == segment.id)
                    )
                ) & set(targetable)
                forecast = sum(1 for _at, user, _i in history if user in member_ids) / args.days
                budget = Decimal(str(round(forecast * args.booked * args.cpm / 1000, 3)))
                categories.append(Category(tag, segment.id, members, max(budget, Decimal("0.01"))))
                if len(categories) == args.categories:
                    break
            segments_of = {uid: audiences.segments_of(uid) for uid in targetable}
            future = plays_between(session, self.cut, self.cut + timedelta(days=args.horizon))
        wanted = {c.segment_id for c in categories}
        requests = [
            Request(at, user, segments_of[user] & wanted)
            for at, user, _item in future
            if at <= self.end and user in segments_of and self.rng.random() < args.ads_per_play
        ]
        affinity = self._affinity(future, set(segments_of), [c.tag for c in categories])
        self.runtime.ads.invalidate()
        return scope, categories, requests, affinity

    def _candidate_tags(self, session: Any) -> Iterable[str]:
        rows = session.execute(
            select(Tag.key, func.count())
            .join(ItemTag, ItemTag.tag_id == Tag.id)
            .group_by(Tag.key)
            .order_by(func.count().desc())
            .limit(60)
        ).all()
        return [key for key, _n in rows if not is_sensitive_tag(key)]

    def _affinity(
        self, future: list[tuple[datetime, int, int]], users: set[int], tags: list[str]
    ) -> dict[tuple[int, str], float]:
        """a(u, tag): the share of u's plays in the horizon after T that carry the tag."""
        total: Counter[int] = Counter()
        hits: Counter[tuple[int, str]] = Counter()
        for _at, user, item in future:
            if user not in users:
                continue
            total[user] += 1
            carried = self.tags.get(item, frozenset())
            for tag in tags:
                if tag in carried:
                    hits[(user, tag)] += 1
        return {(u, t): hits[(u, t)] / total[u] for (u, t) in hits}

    # -- one arm --------------------------------------------------------------------------------

    def buy(
        self, scope: Scope, categories: list[Category], arm: str, kinds: list[str], pricing: Pricing
    ) -> tuple[int, dict[int, tuple[str, str]]]:
        """The arm's advertiser and campaigns: the advertiser's id and line item id ->
        (tag, targeted|ron)."""
        bought: dict[int, tuple[str, str]] = {}
        self.now = self.cut
        with self.runtime.db.unit_of_work(write=True) as session:
            svc = self.runtime.services(session)
            advertiser = svc.ads.create_advertiser(scope, AdvertiserIn(name=f"arm {arm}"))
            advertiser_id = advertiser.id
            for category in categories:
                for kind in kinds:
                    campaign = svc.ads.create_campaign(
                        scope,
                        CampaignIn(
                            advertiser_id=advertiser.id,
                            name=f"{arm} {kind} {category.tag}",
                            pricing=pricing,
                            pacing=Pacing.EVEN,
                            starts_at=self.cut,
                            ends_at=self.end,
                            total_budget=category.daily_budget * self.args.days,
                            daily_budget=category.daily_budget,
                        ),
                    )
                    targeting = (
                        Targeting(segments=[category.segment_id])
                        if kind == "targeted"
                        else Targeting()
                    )
                    bid = (
                        Decimal(str(self.args.cpm))
                        if pricing is Pricing.CPM
                        else Decimal(str(self.args.cpc))
                    )
                    line_item = svc.ads.create_line_item(
                        scope,
                        LineItemIn(
                            campaign_id=campaign.id,
                            name=f"{kind} {category.tag}",
                            bid=bid,
                            targeting=targeting,
                            frequency_caps=[
                                FrequencyCap(impressions=DAILY_CAP, window_seconds=86_400),
                                FrequencyCap(
                                    impressions=self.args.weekly_cap, window_seconds=7 * 86_400
                                ),
                            ],
                        ),
                    )
                    svc.ads.create_creative(
                        scope,
                        CreativeIn(
                            line_item_id=line_item.id,
                            name=category.tag,
                            format=CreativeFormat.TEXT,
                            headline=f"For fans of {category.tag}",
                            click_url="https://advertiser.example/",
                        ),
                    )
                    category.line_items[arm + ":" + kind] = line_item.id
                    bought[line_item.id] = (category.tag, kind)
        self.runtime.ads.invalidate()
        return advertiser_id, bought

    def run(
        self,
        bought: dict[int, tuple[str, str]],
        requests: list[Request],
        click: Callable[[int, str, int], float],
    ) -> Delivery:
        engine = self.runtime.ads
        delivery = Delivery()
        exposures: dict[tuple[int, int], deque[datetime]] = defaultdict(deque)
        day_start = self.cut
        pending = list(requests)
        position = 0
        while day_start < self.end:
            day_end = day_start + timedelta(days=1)
            self.now = day_start
            engine.rebuild(force=True)  # a server rebuilds hourly: fresh predicted CTRs
            today: Counter[str] = Counter()
            with self.runtime.db.unit_of_work(write=True) as session:
                while position < len(pending) and pending[position].at < day_end:
                    request = pending[position]
                    position += 1
                    self.now = request.at
                    decision = engine.decide(
                        AdContext(
                            placement=PLACEMENT,
                            viewer=f"u:{request.user}",
                            segments=request.segments,
                        )
                    )
                    if decision is None or decision.line_item.id not in bought:
                        continue
                    tag, kind = bought[decision.line_item.id]
                    record_impression(session, engine, decision.ad, self.now)
                    seen = exposures[(request.user, decision.line_item.id)]
                    while seen and seen[0] <= self.now - FATIGUE_WINDOW:
                        seen.popleft()
                    seen.append(self.now)
                    k = len(seen)  # this is the k-th exposure within the fatigue window
                    delivery.impressions.append((request.user, tag, k))
                    today[kind] += 1
                    if self.rng.random() < click(request.user, tag, k):
                        record_click(session, engine, decision.ad, self.now)
            delivery.by_day.append(today)
            day_start = day_end
        return delivery

    def archive(self, scope: Scope, bought: dict[int, tuple[str, str]]) -> None:
        with self.runtime.db.unit_of_work(write=True) as session:
            svc = self.runtime.services(session)
            for line_item_id in bought:
                campaign_id = svc.ads.line_item(scope, line_item_id).campaign_id
                svc.ads.archive_campaign(scope, campaign_id)
        self.runtime.ads.invalidate()

    def report(self, scope: Scope, advertiser_id: int) -> ReportOut:
        """What the reports say of the arm (its advertiser), by line item."""
        with self.runtime.db.unit_of_work() as session:
            svc = self.runtime.services(session)
            return svc.ads.report(
                scope,
                since=self.cut.date(),
                until=self.end.date(),
                group_by=[ReportDimension.LINE_ITEM],
                advertiser_id=advertiser_id,
                reach=self.runtime.ads.reach,
                frequency_sample=self.runtime.ads.frequency_sample,
            )


# -- arithmetic -------------------------------------------------------------------------------


def calibrate(
    requests: list[Request], tags: list[str], affinity: dict[tuple[int, str], float], gamma: float
) -> float:
    """The mean of (1 + γ a) over requests and tags: b = base CTR / this."""
    total = 0.0
    for request in requests:
        for tag in tags:
            total += 1 + gamma * affinity.get((request.user, tag), 0.0)
    return total / (len(requests) * len(tags))


def expected_ctr(
    delivery: Delivery,
    affinity: dict[tuple[int, str], float],
    gamma: float,
    base: float,
    fatigue: float,
    *,
    first_only: bool = False,
) -> float:
    """The model's mean P(click) over the impressions delivered (``first_only``: over first
    exposures, which leaves fatigue out and isolates who was reached)."""
    shown = [i for i in delivery.impressions if i[2] == 1] if first_only else delivery.impressions
    if not shown:
        return 0.0
    total: float = sum(
        base * (1 + gamma * affinity.get((user, tag), 0.0)) * fatigue ** (k - 1)
        for user, tag, k in shown
    )
    return total / len(shown)


def on_target(delivery: Delivery, affinity: dict[tuple[int, str], float]) -> float:
    """The share of impressions shown to viewers who did play the ad's tag after T."""
    if not delivery.impressions:
        return 0.0
    hits = sum(1 for user, tag, _k in delivery.impressions if (user, tag) in affinity)
    return hits / len(delivery.impressions)


def ci95(clicks: float, impressions: float) -> float:
    if not impressions:
        return 0.0
    p = clicks / impressions
    return 1.96 * math.sqrt(p * (1 - p) / impressions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a SQLite database holding the demo (copied)")
    parser.add_argument("--users", type=int, default=2400)
    parser.add_argument("--days", type=int, default=28, help="the flight, in days after T")
    parser.add_argument("--horizon", type=int, default=28, help="days after T for affinity")
    parser.add_argument("--lookback", type=int, default=30, help="the segment rules' window")
    parser.add_argument("--categories", type=int, default=4)
    parser.add_argument(
        "--min-members", type=int, default=100, help="the k-anonymity floor (audiences area)"
    )
    parser.add_argument("--gamma", type=float, default=4.0)
    parser.add_argument("--fatigue", type=float, default=0.85)
    parser.add_argument("--base-ctr", type=float, default=0.005)
    parser.add_argument("--cpm", type=float, default=2.0, help="the bid of both arms")
    parser.add_argument("--cpc", type=float, default=0.40, help="the bid of the CPC arm")
    parser.add_argument("--booked", type=float, default=0.25)
    parser.add_argument("--weekly-cap", type=int, default=10, help="impressions per viewer")
    parser.add_argument("--ads-per-play", type=float, default=1.0)
    parser.add_argument("--skip-cpc", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="ads-campaign-sim-"))
    started = time.perf_counter()
    try:
        url = demo_copy(args.database_url, args.users, workdir)
        sim = Sim(url, workdir, args)
        try:
            _simulate(sim, args)
        finally:
            sim.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\n({time.perf_counter() - started:.0f} s; machine load {os.getloadavg()[0]:.1f})",
        file=sys.stderr,
    )


def _simulate(sim: Sim, args: argparse.Namespace) -> None:
    scope, categories, requests, affinity = sim.setup()
    tags = [c.tag for c in categories]
    users = {r.user for r in requests}
    print(
        f"T = {sim.cut:%Y-%m-%d}; flight {args.days} days; {len(requests):,} ad requests from "
        f"{len(users):,} consenting adults; tags: "
        + ", ".join(f"{c.tag} (segment {c.members}, {c.daily_budget}/day)" for c in categories),
        file=sys.stderr,
    )
    base: float = args.base_ctr / calibrate(requests, tags, affinity, args.gamma)
    gamma: float = args.gamma
    fatigue: float = args.fatigue

    def click(user: int, tag: str, k: int) -> float:
        return base * (1 + gamma * affinity.get((user, tag), 0.0)) * fatigue ** (k - 1)

    results: dict[str, tuple[ReportOut, Delivery]] = {}
    for arm in ("targeted", "ron"):
        advertiser_id, bought = sim.buy(scope, categories, arm, [arm], Pricing.CPM)
        delivery = sim.run(bought, requests, click)
        results[arm] = (sim.report(scope, advertiser_id), delivery)
        sim.archive(scope, bought)

    print(
        "| arm | impressions | reach (HLL) | avg frequency | frequency 1 / 2 / 3 / 4+ | "
        "on-target | spend | eCPM | CTR (model) | CTR of first exposures | cost per click | "
        "simulated clicks: CTR ± 95 % |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    first: dict[str, float] = {}
    ctr: dict[str, float] = {}
    for arm, (report, delivery) in results.items():
        total = report.total
        imps, clicks, spend, reach = total.impressions, total.clicks, total.spend, total.reach
        freq = total.frequency
        four_plus = sum(freq[b] for b in ("4", "5", "6", "7", "8", "9", "10+"))
        # The model's expected CTR over the impressions delivered (what repeating the click
        # draws would give); the simulated clicks are one draw, shown with their noise.
        ctr[arm] = expected_ctr(delivery, affinity, gamma, base, fatigue)
        first[arm] = expected_ctr(delivery, affinity, gamma, base, fatigue, first_only=True)
        print(
            f"| {'targeted (segment)' if arm == 'targeted' else 'run of network'} "
            f"| {imps:,} | {reach:,} | {total.average_frequency:.2f} "
            f"| {freq['1']:,} / {freq['2']:,} / {freq['3']:,} / {four_plus:,} "
            f"| {on_target(delivery, affinity):.0%} | {spend:.2f} "
            f"| {spend / imps * 1000 if imps else 0:.2f} | {ctr[arm]:.3%} | {first[arm]:.3%} "
            f"| {spend / (imps * ctr[arm]) if imps and ctr[arm] else 0:.3f} "
            f"| {clicks:,}: {clicks / imps if imps else 0:.3%} ± {ci95(clicks, imps):.3%} |"
        )
    ratio = ctr["targeted"] / ctr["ron"] if ctr["ron"] else 0.0
    ron_cpc = args.cpm / 1000 / ctr["ron"] if ctr["ron"] else 0.0
    print()
    targeted_ecpm = ron_cpc * ctr["targeted"] * 1000
    print(
        f"Expected CTR targeted / RON = {ratio:.2f}. At equal revenue per click the targeted CPM "
        f"is {args.cpm:.2f} × {ratio:.2f} = {args.cpm * ratio:.2f} (premium {ratio - 1:+.0%}); "
        f"sold per click at RON's {ron_cpc:.3f}, targeted earns eCPM {targeted_ecpm:.2f} against "
        f"RON's {args.cpm:.2f}. First exposures only (no fatigue): targeted / RON = "
        f"{first['targeted'] / first['ron'] if first['ron'] else 0:.2f}."
    )
    print()
    print(
        "| γ (affinity multiplier) | expected CTR targeted | expected CTR RON | premium | "
        "premium, first exposures |"
    )
    print("|---:|---:|---:|---:|---:|")
    for assumed in (0.0, 1.0, 4.0, 9.0):
        b = args.base_ctr / calibrate(requests, tags, affinity, assumed)
        t = expected_ctr(results["targeted"][1], affinity, assumed, b, fatigue)
        r = expected_ctr(results["ron"][1], affinity, assumed, b, fatigue)
        t1 = expected_ctr(results["targeted"][1], affinity, assumed, b, fatigue, first_only=True)
        r1 = expected_ctr(results["ron"][1], affinity, assumed, b, fatigue, first_only=True)
        print(
            f"| {assumed:g} | {t:.3%} | {r:.3%} | {t / r - 1 if r else 0:+.0%} "
            f"| {t1 / r1 - 1 if r1 else 0:+.0%} |"
        )

    if not args.skip_cpc:
        _cpc_arm(sim, scope, categories, requests, click)


def _cpc_arm(
    sim: Sim,
    scope: Scope,
    categories: list[Category],
    requests: list[Request],
    click: Callable[[int, str, int], float],
) -> None:
    """Targeted and RON line items of every tag in one auction, priced per click."""
    _advertiser, bought = sim.buy(scope, categories, "cpc", ["targeted", "ron"], Pricing.CPC)
    delivery = sim.run(bought, requests, click)
    sim.runtime.ads.rebuild(force=True)
    index = sim.runtime.ads.index()
    predicted = {
        kind: [index.by_id[li].predicted_ctr for li, (_t, k) in bought.items() if k == kind]
        for kind in ("targeted", "ron")
    }
    print()
    print("CPC, mixed auction (both line items of every tag, the same bid per click):")
    print("| day | impressions to targeted line items | to RON line items | targeted share |")
    print("|---:|---:|---:|---:|")
    for day, counts in enumerate(delivery.by_day, start=1):
        served = counts["targeted"] + counts["ron"]
        share = counts["targeted"] / served if served else 0.0
        print(f"| {day} | {counts['targeted']:,} | {counts['ron']:,} | {share:.0%} |")
    print(
        "predicted CTR at the end (smoothed, ads/index.py): targeted "
        + ", ".join(f"{p:.3%}" for p in predicted["targeted"])
        + "; RON "
        + ", ".join(f"{p:.3%}" for p in predicted["ron"])
    )


if __name__ == "__main__":
    main()
