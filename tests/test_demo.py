"""The demo community: deterministic, worldwide, living in local time, with homophilous friends.

The shape is checked on communities generated in memory; loading is checked on both backends
at a small size (sizes scale with the number of users).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from babel.core import get_global
from sqlalchemy import func, select

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Domain
from tastegraph.catalog.models import Item, ItemTag
from tastegraph.config import Mode, Settings
from tastegraph.demo.community import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    DEMO_PASSWORD,
    DEMO_USER,
    DemoConfig,
    load,
)
from tastegraph.demo.config import Window
from tastegraph.demo.friends import shared_taste
from tastegraph.demo.generate import Community, generate
from tastegraph.demo.items import DOMAIN_INDEX
from tastegraph.demo.people import build_people
from tastegraph.ingest.models import Feedback, Play, Sentiment
from tastegraph.locales import normalize_locale
from tastegraph.runtime import Runtime
from tastegraph.social.models import Friendship
from tastegraph.stats.rollups import Rollups, pending
from tastegraph.storage.engine import copy_sqlite_database
from tests.conftest import _truncate_postgres

ANCHOR = datetime(2025, 3, 17, tzinfo=UTC)  # a Monday, a few weeks after a DST change
SMALL = DemoConfig(users=60, plays_per_user=120, anchor=ANCHOR)


@cache
def community(users: int = 300, seed: int = 7) -> Community:
    return generate(DemoConfig(users=users, seed=seed, anchor=ANCHOR), DEMO_USER)


def _local_hours(c: Community, domain: Domain) -> Counter[int]:
    plays = c.plays
    chosen = np.flatnonzero(c.catalogue.items.domain[plays.item] == DOMAIN_INDEX[domain])
    hours: Counter[int] = Counter()
    for i in chosen.tolist():
        zone = ZoneInfo(c.people.timezones[int(plays.user[i])])
        hours[datetime.fromtimestamp(int(plays.at[i]), zone).hour] += 1
    return hours


# -- the community in memory --------------------------------------------------------------


def test_same_seed_same_community_other_seed_other_one() -> None:
    again = generate(DemoConfig(users=300, seed=7, anchor=ANCHOR), DEMO_USER)
    first = community()
    assert again.people.names == first.people.names
    assert again.catalogue.table.titles == first.catalogue.table.titles
    for field in ("user", "item", "at", "progress", "client"):
        assert np.array_equal(getattr(again.plays, field), getattr(first.plays, field))
    assert again.friendships == first.friendships
    other = generate(DemoConfig(users=300, seed=8, anchor=ANCHOR), DEMO_USER)
    assert other.people.names != first.people.names


def test_people_live_around_the_world_with_matching_locales_and_zones() -> None:
    window = Window.of(DemoConfig(users=200, anchor=ANCHOR))
    people = build_people(DemoConfig(users=200, anchor=ANCHOR), window, DEMO_USER)
    assert len(set(people.countries)) >= 25
    abroad = sum(c != "US" for c in people.countries) / len(people)
    assert 0.65 <= abroad <= 0.75
    zones = get_global("territory_zones")
    for country, locale, zone in zip(
        people.countries, people.locales, people.timezones, strict=True
    ):
        assert normalize_locale(locale) == locale
        assert locale.endswith(f"-{country}")
        assert zone in zones[country], (country, zone)
    assert people.names[0] == DEMO_USER
    assert (people.countries[0], people.timezones[0]) == ("DE", "Europe/Berlin")
    assert len(set(people.names)) == len(people.names)


def test_activity_is_heavy_tailed_and_plays_lie_in_the_year_before_the_anchor() -> None:
    c = community()
    per_person = np.bincount(c.plays.user, minlength=len(c.people))
    assert per_person.max() > 8 * np.median(per_person)
    assert len(c.plays) > 200 * len(c.people)
    assert c.plays.at.max() < int(ANCHOR.timestamp())
    assert c.plays.at.min() >= int((ANCHOR - timedelta(days=365)).timestamp())
    domains = Counter(c.catalogue.items.domain[c.plays.item].tolist())
    assert set(domains) == {DOMAIN_INDEX[d] for d in Domain}


def test_plays_follow_local_daily_rhythms() -> None:
    c = community()
    music = _local_hours(c, Domain.MUSIC)
    night = music[3] + music[4]
    evening = music[18] + music[19] + music[20] + music[21]
    assert night * 10 < evening
    news = _local_hours(c, Domain.NEWS)
    assert news[7] + news[8] > 1.5 * (news[14] + news[15])  # sports talk fills the evenings
    assert news[7] + news[8] > 10 * (news[2] + news[3])
    tv = _local_hours(c, Domain.TV)
    assert tv[20] + tv[21] > 3 * (tv[8] + tv[9])


def test_episodes_are_watched_in_order_and_matches_around_kick_off() -> None:
    c = community()
    position = {
        int(e): (s, i)
        for s, eps in enumerate(c.catalogue.tv.show_episodes)
        for i, e in enumerate(eps)
    }
    last: dict[tuple[int, int], int] = {}
    for user, item in zip(c.plays.user.tolist(), c.plays.item.tolist(), strict=True):
        if item in position:
            show, index = position[item]
            assert index >= last.get((user, show), -1)
            last[(user, show)] = index
    sports = np.flatnonzero(c.catalogue.items.domain[c.plays.item] == DOMAIN_INDEX[Domain.SPORTS])
    delay = c.plays.at[sports] - c.catalogue.items.released[c.plays.item[sports]]
    assert np.mean(np.abs(delay) <= 20 * 60) > 0.7


def test_friends_share_tastes_more_than_strangers() -> None:
    c = community()
    rng = np.random.default_rng(0)
    strangers = [(int(a), int(b)) for a, b in rng.integers(0, len(c.people), (3000, 2)) if a != b]
    assert shared_taste(c.people, c.friendships) > 2 * shared_taste(c.people, strangers)
    degrees = np.bincount(np.asarray(c.friendships).ravel(), minlength=len(c.people))
    assert 6 <= degrees.mean() <= 14
    assert degrees[0] >= 6  # the demo person has friends to look at


# -- loading ------------------------------------------------------------------------------


@dataclass
class Snapshot:
    first_plays: list[tuple[str, str, datetime]]
    plays_by_domain: dict[str, int]
    counts: dict[str, int]


def _snapshot(runtime: Runtime) -> Snapshot:
    with runtime.db.unit_of_work() as session:
        first_plays = session.execute(
            select(User.name, Item.title, Play.played_at)
            .join(User, User.id == Play.user_id)
            .join(Item, Item.id == Play.item_id)
            .order_by(Play.played_at, User.name, Item.title)
            .limit(200)
        ).all()
        domains = session.execute(
            select(Item.domain, func.count())
            .join(Play, Play.item_id == Item.id)
            .group_by(Item.domain)
        )
        return Snapshot(
            first_plays=[(name, title, at) for name, title, at in first_plays],
            plays_by_domain=dict(domains.all()),
            counts={
                model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (User, Item, Play, Friendship, ItemTag, Feedback)
            },
        )


def _fresh_runtime(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Runtime:
    """Another empty database of the same backend."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "again.db"
        copy_sqlite_database(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        _truncate_postgres(database_url)
        url = database_url
    return Runtime.create(Settings(mode=Mode.DEV, database_url=url, data_dir=tmp_path / "data"))


def test_load_writes_the_same_community_on_every_backend(
    runtime: Runtime, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    summary = load(runtime, SMALL, log=lambda *_: None)
    assert summary.startswith("60 users in ")
    first = _snapshot(runtime)
    with runtime.db.unit_of_work() as session:
        svc = runtime.services(session)
        demo = svc.accounts.authenticate_password(DEMO_USER, DEMO_PASSWORD)
        admin = svc.accounts.authenticate_password(ADMIN_USER, ADMIN_PASSWORD)
        assert admin.is_admin
        assert not demo.is_admin
        assert (demo.country, demo.timezone, demo.locale) == ("DE", "Europe/Berlin", "de-DE")
        assert len(svc.social.friends_of(demo.id)) >= 6
        # Every member logs in with the demo password: they share its hash.
        other = session.scalars(
            select(User).where(User.name.not_in([DEMO_USER, ADMIN_USER]))
        ).first()
        assert other is not None
        assert other.password_hash == demo.password_hash
        loves = session.scalar(
            select(func.count()).select_from(Feedback).where(Feedback.sentiment == Sentiment.LOVE)
        )
        assert loves
        # Local hours survive the trip through the database (tz_offset_minutes).
        rows = session.execute(
            select(Play.played_at, Play.tz_offset_minutes)
            .join(Item, Item.id == Play.item_id)
            .where(Item.domain == Domain.MUSIC)
        ).all()
    hours = Counter(((at + timedelta(minutes=offset)).hour) for at, offset in rows)
    assert (hours[3] + hours[4]) * 10 < hours[18] + hours[19] + hours[20] + hours[21]
    assert set(first.plays_by_domain) == {d.value for d in Domain}
    assert first.counts["User"] == 61  # the administrator is not a member
    assert first.counts["Play"] > 6000
    assert first.counts["ItemTag"] > 0
    assert first.counts["Friendship"] > 0
    with runtime.db.unit_of_work() as session:
        # The demo's plays are all counted into the chart rollups, exactly.
        assert pending(session) == 0
        assert Rollups(session).differences() == 0
    runtime.close()

    again = _fresh_runtime(database_url, tmp_path, request)
    try:
        assert load(again, SMALL, log=lambda *_: None) == summary
        assert _snapshot(again) == first
    finally:
        again.close()
