"""What makes the demo's content economics show something: territorial rights, a live
blackout, title costs, unfinished playbacks and twelve weeks of ad delivery.

* **Rights**: a few of the most watched shows and films are only available in their home
  region (granted through the catalogue's rights service), one show opens worldwide with ads a
  month after the history ends, and the last match of the biggest national league is blacked
  out in its home country during its broadcast.
* **Costs**: production and licence costs of the most watched show, a regional show, the most
  watched film and the blacked-out league (``title_costs``).
* **Playbacks**: some people paused the next episode of a show they were watching and never
  finished it (progress scrobbling keeps those as playbacks, not plays).
* **Ads**: an instream pre-roll placement, three advertisers (a segment of series watchers,
  sports content, run of network) and, for one in three episode, film and match plays of the
  last ``AD_DAYS`` days (twelve weeks) of the history (the others are on ad-free plans), one
  decision of a real ``AdEngine`` at the play's moment; the impressions and a few clicks are
  counted by the real beacon code and attributed to the item played (``insights/attribution.py``).

Everything is drawn from the seed, so the same seed and anchor give the same economics.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.ads.beacons import record_click, record_impression
from tastegraph.ads.counters import MemoryAdCounters
from tastegraph.ads.decision import AdContext, AdEngine
from tastegraph.ads.models import CreativeFormat, Pacing, PlacementType, Priority
from tastegraph.ads.schemas import (
    AdvertiserIn,
    CampaignIn,
    CreativeIn,
    FrequencyCap,
    LineItemIn,
    PlacementIn,
    Targeting,
)
from tastegraph.ads.taxonomy import categories_for
from tastegraph.ads.tokens import TokenSigner
from tastegraph.audiences.models import SegmentMember
from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.models import Item, Offer
from tastegraph.catalog.rights_schemas import BlackoutIn, RightIn
from tastegraph.demo.countries import COUNTRIES
from tastegraph.demo.generate import Community
from tastegraph.demo.items import DOMAIN_INDEX, moment
from tastegraph.demo.store import Stored
from tastegraph.ingest.models import Playback, PlaybackStatus
from tastegraph.insights import attribution
from tastegraph.insights.models import CostKind
from tastegraph.insights.schemas import CostIn
from tastegraph.runtime import Runtime

Log = Callable[..., Any]

AD_DAYS = 84
"""Days of ad delivery simulated at the end of the history: the twelve weeks an insight covers
by default, so that revenue and viewers are counted over the same days."""
AD_SHARE = 1 / 3
"""The share of video plays that start with a pre-roll (the rest are on ad-free plans)."""
CLICK_RATE = 0.006
PLACEMENT = "preroll"
REGIONS: dict[str, str] = {
    **dict.fromkeys(("DE", "AT", "CH"), "DACH"),
    **dict.fromkeys(("GB", "IE"), "UKI"),
    **dict.fromkeys(("US", "CA"), "NORTH_AMERICA"),
    **dict.fromkeys(("SE", "NO", "DK", "FI", "IS"), "NORDICS"),
    **dict.fromkeys(("FR", "ES", "IT", "NL", "BE", "PT", "PL", "GR", "CZ", "RO", "HU"), "EU"),
    **dict.fromkeys(("BR", "MX", "AR", "CO", "CL", "PE"), "LATAM"),
    **dict.fromkeys(("AU", "NZ"), "ANZ"),
}
"""The territory a title made in a country is granted to: its group, else the country."""


@dataclass
class Economics:
    grants: int = 0
    blackouts: int = 0
    costs: int = 0
    playbacks: int = 0
    decisions: int = 0
    impressions: int = 0
    clicks: int = 0


def seed(runtime: Runtime, community: Community, stored: Stored, log: Log) -> Economics:
    out = Economics()
    rng = random.Random(f"{community.config.seed}:economics")
    end = community.window.end
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        shows, films = _most_watched(community, stored, session)
        svc.catalog.territories.restore_defaults()  # the groups grants name (EU, DACH...)
        out.grants = _grant(svc.catalog.rights.grant, shows, films, end)
        league = _blackout(svc.catalog.rights.add_blackout, session, community, stored)
        out.blackouts = 1 if league is not None else 0
        titles: list[tuple[int, CostKind, int, str]] = []
        if shows:
            titles.append(
                (shows[0][0], CostKind.PRODUCTION, 180_000, "Two seasons, own production")
            )
        if len(shows) > 1:
            titles.append((shows[1][0], CostKind.LICENCE, 45_000, "Regional licence, 2 years"))
        if films:
            titles.append((films[0][0], CostKind.LICENCE, 60_000, "Pay-TV window licence"))
        if league is not None:
            titles.append((league, CostKind.LICENCE, 250_000, "Season broadcast rights"))
        currency = runtime.settings.ads_currency
        for item_id, kind, amount, notes in titles:
            svc.insights.set_cost(
                item_id, kind, CostIn(amount=Decimal(amount), currency=currency, notes=notes)
            )
        out.costs = len(titles)
        out.playbacks = _abandon(session, community, stored, rng)
    log(
        f"  {out.grants} rights grants, {out.blackouts} blackout, {out.costs} title costs, "
        f"{out.playbacks} unfinished playbacks"
    )
    started = time.perf_counter()
    _advertise(runtime, community, stored, rng, out)
    log(
        f"  {out.decisions} ad requests: {out.impressions} impressions, {out.clicks} clicks "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return out


# -- rights and costs -------------------------------------------------------------------------


def _show_index(community: Community) -> dict[int, int]:
    """Episode (item index) -> show index."""
    out: dict[int, int] = {}
    for show, episodes in enumerate(community.catalogue.tv.show_episodes):
        for episode in episodes.tolist():
            out[int(episode)] = show
    return out


def _most_watched(
    community: Community, stored: Stored, session: Session
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(item id, home country) of the shows and films with most plays, most first."""
    catalogue = community.catalogue
    played = Counter(community.plays.item.tolist())
    show_of = _show_index(community)
    show_plays: Counter[int] = Counter()
    for item, n in played.items():
        show = show_of.get(item)
        if show is not None:
            show_plays[show] += n
    shows = []
    for show, _n in sorted(show_plays.items(), key=lambda p: (-p[1], p[0]))[:8]:
        first = int(catalogue.tv.show_episodes[show][0])
        season = session.scalar(select(Item.parent_id).where(Item.id == stored.item_ids[first]))
        show_id = session.scalar(select(Item.parent_id).where(Item.id == season))
        if show_id is not None:
            shows.append((int(show_id), COUNTRIES[catalogue.tv.show_country[show]].code))
    films = []
    country = catalogue.items.country
    ranked = sorted(catalogue.films.items, key=lambda f: (-played.get(f, 0), f))
    for film in ranked[:10]:
        code = COUNTRIES[int(country[film])].code if country[film] >= 0 else "US"
        films.append((stored.item_ids[film], code))
    return shows, films


def _grant(
    grant: Callable[[RightIn], Any],
    shows: list[tuple[int, str]],
    films: list[tuple[int, str]],
    end: datetime,
) -> int:
    """Shows 2, 4 and 6 and films 2, 5 and 8 by plays only in their home region; show 3 in
    its region now and worldwide with ads from a month after the history ends."""
    grants = 0
    for item_id, home in [*shows[1:6:2], *films[1:9:3]]:
        grant(RightIn(item_id=item_id, territory=REGIONS.get(home, home), offer=Offer.SUBSCRIPTION))
        grants += 1
    if len(shows) > 2:
        item_id, home = shows[2]
        grant(RightIn(item_id=item_id, territory=REGIONS.get(home, home), offer=Offer.SUBSCRIPTION))
        grant(
            RightIn(
                item_id=item_id,
                territory="WORLD",
                offer=Offer.AD_SUPPORTED,
                starts_at=end + timedelta(days=30),
            )
        )
        grants += 2
    return grants


def _blackout(
    add: Callable[[BlackoutIn], Any], session: Session, community: Community, stored: Stored
) -> int | None:
    """Black out the last match of the most appealing national league at home during its
    broadcast; the league's item id (its competition), for costing."""
    sports = community.catalogue.sports
    national = [
        i
        for i in range(len(sports.league_names))
        if sports.league_country[i] >= 0 and len(sports.league_matches[i])
    ]
    if not national:
        return None
    league = max(national, key=lambda i: (sports.league_appeal[i], -i))
    match = int(sports.league_matches[league][-1])
    items = community.catalogue.items
    kick_off = moment(int(items.released[match]))
    add(
        BlackoutIn(
            item_id=stored.item_ids[match],
            territories=[COUNTRIES[sports.league_country[league]].code],
            starts_at=kick_off,
            ends_at=kick_off + timedelta(seconds=int(items.duration[match]) + 1800),
            note="Live in the home market: on free TV",
        )
    )
    return session.scalar(select(Item.parent_id).where(Item.id == stored.item_ids[match]))


# -- playbacks ----------------------------------------------------------------------------------


def _abandon(session: Session, community: Community, stored: Stored, rng: random.Random) -> int:
    """One in six people who watched a show in the history's last 30 days paused its next
    episode part-way and never came back to it."""
    plays = community.plays
    tv = DOMAIN_INDEX[Domain.TV]
    recent = community.window.end_ts - 30 * 86_400
    domain = community.catalogue.items.domain[plays.item]
    chosen = np.flatnonzero((domain == tv) & (plays.at >= recent))
    show_of = _show_index(community)
    last: dict[tuple[int, int], tuple[int, int]] = {}
    for i in chosen.tolist():
        item = int(plays.item[i])
        key = (int(plays.user[i]), show_of[item])
        last[key] = (item, int(plays.at[i]))  # plays are in time order per person
    rows = []
    for (person, show), (item, at) in sorted(last.items()):
        if rng.random() >= 1 / 6:
            continue
        episodes = community.catalogue.tv.show_episodes[show].tolist()
        position = episodes.index(item)
        if position + 1 >= len(episodes):
            continue
        started = min(at + rng.randrange(3_600, 3 * 86_400), community.window.end_ts - 60)
        rows.append(
            Playback(
                user_id=stored.user_ids[person],
                item_id=stored.item_ids[int(episodes[position + 1])],
                status=PlaybackStatus.PAUSED,
                progress=round(rng.uniform(0.05, 0.75), 3),
                started_at=moment(started),
                updated_at=moment(started + rng.randrange(300, 2_400)),
                source="Couchview",
                incognito=False,
            )
        )
    session.add_all(rows)
    return len(rows)


# -- ad delivery ------------------------------------------------------------------------------


def _advertise(
    runtime: Runtime, community: Community, stored: Stored, rng: random.Random, out: Economics
) -> None:
    end = community.window.end
    start = end - timedelta(days=AD_DAYS)
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id))
        assert admin is not None
        scope = svc.ads.scope(admin)
        svc.audiences.clock = lambda: end
        segment = svc.audiences.create_segment(
            None,
            name="Series watchers",
            rule={"type": "kind", "kinds": ["episode"], "min_plays": 8, "within_days": 90},
        )
        svc.audiences.create_segment(
            None,
            name="Screen audience",
            rule={"type": "kind", "kinds": ["episode", "film", "match"], "within_days": 365},
        )
        svc.ads.create_placement(
            scope,
            PlacementIn(
                key=PLACEMENT,
                name="Pre-roll",
                type=PlacementType.INSTREAM,
                position="preroll",
                formats=[CreativeFormat.VIDEO],
                max_duration_seconds=30,
                floor=Decimal("1.5"),
            ),
        )
        daily_cap = [FrequencyCap(impressions=2, window_seconds=86_400)]
        bought = [
            ("Lumen Streaming", "lumen.example", "Series watchers",
             Targeting(segments=[segment.id]), Decimal("24"), daily_cap),
            ("Northwind Sports", "northwind.example", "Matchday",
             Targeting(kinds=[Kind.MATCH]), Decimal("18"), []),
            ("Acme Snacks", "acme.example", "Everyone", Targeting(), Decimal("5"), []),
        ]  # fmt: skip
        for name, domain, line, targeting, bid, caps in bought:
            advertiser = svc.ads.create_advertiser(scope, AdvertiserIn(name=name, domain=domain))
            campaign = svc.ads.create_campaign(
                scope,
                CampaignIn(
                    advertiser_id=advertiser.id,
                    name=f"{name}: {line}",
                    priority=Priority.STANDARD,
                    pacing=Pacing.ASAP,
                    starts_at=start,
                    total_budget=Decimal("50000"),
                ),
            )
            item = svc.ads.create_line_item(
                scope,
                LineItemIn(
                    campaign_id=campaign.id,
                    name=line,
                    bid=bid,
                    targeting=targeting,
                    frequency_caps=caps,
                ),
            )
            svc.ads.create_creative(
                scope,
                CreativeIn(
                    line_item_id=item.id,
                    name=f"{name} 20 s",
                    format=CreativeFormat.VIDEO,
                    asset_url=f"https://{domain}/spots/20s.mp4",
                    duration_seconds=20,
                    click_url=f"https://{domain}/",
                ),
            )
        members = {
            user_id: svc.audiences.segments_of(user_id)
            for user_id in _segment_members(session, segment.id)
        }
    requests = [r for r in _requests(community, stored, start) if rng.random() < AD_SHARE]
    out.decisions = len(requests)
    clock = _SimClock(start)
    engine = AdEngine(
        db=runtime.db,
        counters=MemoryAdCounters(clock=clock.timestamp),
        signer=TokenSigner(runtime.settings.secret_key),
        clock=clock,
        refresh_seconds=10**9,
        rng=random.Random(rng.random()),
        frequency_sample=runtime.settings.ads_frequency_sample,
    )
    try:
        engine.rebuild(force=True)
        day = start
        position = 0
        while day < end:
            day_end = day + timedelta(days=1)
            with runtime.db.unit_of_work(write=True) as session:
                while position < len(requests) and requests[position][0] < day_end:
                    at, user_id, country, item_id, kind, live = requests[position]
                    position += 1
                    clock.now = at
                    decision = engine.decide(
                        AdContext(
                            placement=PLACEMENT,
                            viewer=f"u:{user_id}",
                            segments=members.get(user_id, frozenset()),
                            country=country,
                            kind=kind,
                            categories=categories_for(kind, []),
                            live=live,
                        )
                    )
                    if decision is None:
                        continue
                    if record_impression(session, engine, decision.ad, at):
                        attribution.count(session, decision.ad, item_id, impressions=1)
                        out.impressions += 1
                    if rng.random() < CLICK_RATE and record_click(
                        session, engine, decision.ad, at + timedelta(seconds=25)
                    ):
                        attribution.count(session, decision.ad, item_id, clicks=1)
                        out.clicks += 1
            day = day_end
    finally:
        engine.close()
        runtime.ads.invalidate()


class _SimClock:
    """The simulation's moment: the play being served."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()


def _segment_members(session: Session, segment_id: int) -> list[int]:
    return list(
        session.scalars(select(SegmentMember.user_id).where(SegmentMember.segment_id == segment_id))
    )


def _requests(
    community: Community, stored: Stored, start: datetime
) -> list[tuple[datetime, int, str | None, int, Kind, bool | None]]:
    """One pre-roll request per episode, film or match play from ``start`` on, in time order:
    (moment, user id, country, item id, kind, live)."""
    plays = community.plays
    items = community.catalogue.items
    video = {DOMAIN_INDEX[Domain.TV]: Kind.EPISODE, DOMAIN_INDEX[Domain.FILM]: Kind.FILM,
             DOMAIN_INDEX[Domain.SPORTS]: Kind.MATCH}  # fmt: skip
    domain = items.domain[plays.item]
    chosen = np.flatnonzero(np.isin(domain, list(video)) & (plays.at >= int(start.timestamp())))
    out: list[tuple[datetime, int, str | None, int, Kind, bool | None]] = []
    for i in chosen.tolist():
        index = int(plays.item[i])
        kind = video[int(domain[i])]
        at = int(plays.at[i])
        live = None
        if kind is Kind.MATCH:
            kick_off = int(items.released[index])
            live = kick_off <= at < kick_off + int(items.duration[index])
        person = int(plays.user[i])
        out.append(
            (
                datetime.fromtimestamp(at, UTC),
                stored.user_ids[person],
                community.people.countries[person],
                stored.item_ids[index],
                kind,
                live,
            )
        )
    out.sort(key=lambda r: (r[0], r[1], r[3]))
    return out
