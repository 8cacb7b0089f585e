"""How a title page counts its audience (``insights/audience.py``, ``insights/packed.py``): the
plays packed into one value and counted in numpy, the viewers sent back as one parameter and
joined to users, segments and groups. Checked against a naive count and, on random plays in
both backends (back-dated and deleted ones among them), against a recount of the tables."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import delete, false, select

from tastegraph.accounts.models import User
from tastegraph.audiences.models import Segment, SegmentMember
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Play, Playback, PlaybackStatus
from tastegraph.insights import audience, segment_bits
from tastegraph.insights.audience import WEEK_BITS, count_audience, count_plays
from tastegraph.insights.models import SegmentBitmap
from tastegraph.insights.overlap import viewer_sets
from tastegraph.insights.packed import distinct, id_rows, packed, unpack
from tastegraph.insights.titles import covered_items
from tastegraph.insights.windows import InsightWindow, make_window
from tastegraph.runtime import Runtime
from tastegraph.social.models import Group, GroupMember, GroupPrivacy, MembershipStatus
from tests.audience_helpers import add_users, build_catalogue, names
from tests.cli_helpers import assert_clean_exit, dev_env, invoke
from tests.insights_helpers import NOW, brute_force


def test_count_plays_equals_a_naive_count() -> None:
    rng = random.Random(11)
    weeks = 9
    plays = [(rng.randrange(1, 40), rng.randrange(weeks), rng.randrange(3)) for _ in range(500)]
    codes = np.array([(u << 8) | (w << 2) | s for u, w, s in plays], dtype=np.int64)
    total, by_week, viewers = count_plays(codes, weeks)

    assert total.viewers == len({u for u, _, _ in plays})
    assert total.plays == len(plays)
    assert total.completed == sum(s == 2 for _, _, s in plays)
    assert total.known == sum(s > 0 for _, _, s in plays)
    for week, tally in enumerate(by_week):
        inside = [(u, s) for u, w, s in plays if w == week]
        assert tally.viewers == len({u for u, _ in inside})
        assert (tally.plays, tally.completed, tally.known) == (
            len(inside),
            sum(s == 2 for _, s in inside),
            sum(s > 0 for _, s in inside),
        )
    assert viewers.ids.tolist() == sorted({u for u, _, _ in plays})
    per_user = Counter(u for u, _, _ in plays)
    assert viewers.plays.tolist() == [per_user[u] for u in viewers.ids.tolist()]
    some = viewers.ids[::3]
    assert viewers.tally(some).plays == sum(per_user[u] for u in some.tolist())
    assert count_plays(np.zeros(0, dtype=np.int64), weeks)[0].viewers == 0
    assert 2**WEEK_BITS > 57  # windows.MAX_WEEKS fits


def test_packed_ids_round_trip(runtime: Runtime) -> None:
    ids = np.array([5, 1, 2**40 + 3, 5, 0], dtype=np.int64)
    with runtime.db.unit_of_work() as session:
        rows = id_rows(session, ids).subquery()
        back = unpack(session.scalar(select(packed(rows.c.user_id))))
        assert sorted(back.tolist()) == sorted(ids.tolist())
        assert distinct(back).tolist() == sorted(set(ids.tolist()))
        assert distinct(np.zeros(0, dtype=np.int64)).size == 0
        assert unpack(session.scalar(select(packed(rows.c.user_id)).where(false()))).size == 0
        nothing = id_rows(session, np.zeros(0, dtype=np.int64)).subquery()
        assert session.scalar(select(packed(nothing.c.user_id))) is None


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata"])
def test_random_audiences_equal_a_recount(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tz: str
) -> None:
    rng = random.Random(2026)
    world = build_catalogue(runtime)
    users = [
        *add_users(runtime, world, names(25, "de"), country="DE"),
        *add_users(runtime, world, names(15, "fr"), country="FR"),
        *add_users(runtime, world, names(10, "nowhere"), country=None),
    ]
    played = sorted(world.items.values())
    with runtime.db.unit_of_work(write=True) as session:
        seen = set()
        for _ in range(600):
            user, item = rng.choice(users), rng.choice(played)
            # Most in the last twelve weeks, some back-dated before them, a few on edges of
            # weeks (Sunday 23:45 UTC is already Monday in Kolkata).
            at = NOW - timedelta(minutes=rng.randrange(0, 130 * 24 * 60))
            if rng.random() < 0.1:
                at = at.replace(hour=23, minute=45, second=0, microsecond=0)
            if (user, item, at) in seen or at >= NOW:
                continue
            seen.add((user, item, at))
            progress = rng.choice([None, 0.2, 0.89, 0.9, 1.0])
            session.add(
                Play(user_id=user, item_id=item, played_at=at, progress=progress, source="t")
            )
        # Unfinished playbacks, some incognito, some long ago.
        for user, item in rng.sample([(u, i) for u in users for i in played], 120):
            at = NOW - timedelta(minutes=rng.randrange(1, 130 * 24 * 60))
            session.add(
                Playback(
                    user_id=user,
                    item_id=item,
                    status=PlaybackStatus.PAUSED,
                    progress=rng.choice([0.1, 0.5, 0.79, 0.9]),
                    started_at=at,
                    updated_at=at,
                    incognito=rng.random() < 0.2,
                )
            )
        session.flush()
        svc = runtime.services(session)
        ids = list(session.scalars(select(Play.id)))
        gone = rng.sample(ids, 40)
        assert svc.ingest.delete_plays(Play, [Play.id.in_(gone)]) == 40
        # Two segments and two groups with random members (invitations do not count).
        segments = []
        for n in range(2):
            segment = Segment(name=f"S{n}", member_count=0, active=True, shared=True)
            session.add(segment)
            session.flush()
            members = rng.sample(users, 20)
            segment.member_count = len(members)
            session.add_all(SegmentMember(segment_id=segment.id, user_id=u) for u in members)
            segments.append((segment.id, set(members)))
        # The first counted from its bitmap, the second (no bitmap) from its members.
        segment_bits.rebuild(session, [segments[0][0]])
        groups = []
        for n in range(2):
            group = Group(slug=f"g{n}", name=f"G{n}", privacy=GroupPrivacy.PUBLIC)
            session.add(group)
            session.flush()
            status: dict[int, MembershipStatus] = {
                u: rng.choice([MembershipStatus.MEMBER, MembershipStatus.INVITED])
                for u in rng.sample(users, 18)
            }
            session.add_all(
                GroupMember(group_id=group.id, user_id=u, status=s) for u, s in status.items()
            )
            groups.append(
                (group.id, {u for u, s in status.items() if s is MembershipStatus.MEMBER})
            )
        titles = [
            world.artists["Harbour Lights"],
            world.artists["The Rockers"],
            world.artists["FC Nord"],
            world.items["drama1"],
        ]

    window = make_window(NOW, weeks=12, timezone=tz)
    starts = [start for start, _ in window.weeks]
    for lookups in (True, False):
        if not lookups:  # the breakdowns by hashing: the same numbers
            monkeypatch.setattr(audience, "HASH_MIN", 1)
            monkeypatch.setattr(audience, "HASH_SHARE", 0.0)
        for title in titles:
            with runtime.db.unit_of_work() as session:
                row = session.get(Item, title)
                assert row is not None
                covered = covered_items(session, row)
                found = count_audience(session, covered, window, floor=1)
                sets = viewer_sets(session, [row], window)
            brute = brute_force(runtime, set(covered), window.since, window.until, starts)
            assert found.total.viewers == len(brute.viewers) > 0
            assert (found.total.plays, found.total.known) == (brute.plays, brute.known)
            assert found.total.completed == brute.completed
            assert found.total.unfinished == brute.unfinished
            _check_playbacks(runtime, found, set(covered), window)
            assert sets[title].tolist() == sorted(brute.viewers)
            for start, tally in zip(starts, found.weeks, strict=True):
                users_in, plays_in = brute.weeks[start]
                assert (tally.viewers, tally.plays) == (len(users_in), plays_in[0])
            assert {c: t.viewers for c, t in found.countries.items()} == {
                c: len(v) for c, v in brute.countries.items()
            }
            plays_by_country: dict[str | None, int] = defaultdict(int)
            for country, tally in found.countries.items():
                plays_by_country[country] += tally.plays
            assert sum(plays_by_country.values()) == brute.plays
            assert {s.id: n for s, n in found.segments} == {
                s: len(m & brute.viewers) for s, m in segments
            }
            assert {g.id: n for g, n in found.groups} == {
                g: len(m & brute.viewers) for g, m in groups if m & brute.viewers
            }


def _check_playbacks(
    runtime: Runtime, found: audience.Audience, covered: set[int], window: InsightWindow
) -> None:
    """Unfinished playbacks per country and week, and completions per country, recounted."""
    with runtime.db.unit_of_work() as session:
        country_of = dict(session.execute(select(User.id, User.country)).all())
        paused = [
            (country_of[p.user_id], p.started_at, p.progress >= 0.9)
            for p in session.scalars(select(Playback))
            if p.item_id in covered
            and not p.incognito
            and window.since <= p.started_at < window.until
        ]
        finished = Counter(
            country_of[p.user_id]
            for p in session.scalars(select(Play))
            if p.item_id in covered
            and window.since <= p.played_at < window.until
            and p.progress is not None
            and p.progress >= 0.9
        )
    for country, tally in found.countries.items():
        mine = [done for c, _, done in paused if c == country]
        assert tally.unfinished == len(mine)
        assert tally.completed == finished[country] + sum(mine)
    assert {c for c, _, _ in paused} <= set(found.countries)
    for (start, end), tally in zip(window.weeks, found.weeks, strict=True):
        assert tally.unfinished == sum(start <= at < end for _, at, _ in paused)


def test_segment_bitmaps_follow_every_change_of_members(
    runtime: Runtime, database_url: str
) -> None:
    world = build_catalogue(runtime)
    germans = add_users(runtime, world, names(12, "de"), plays=[("drama1", 2, 1)], country="DE")
    french = add_users(runtime, world, names(6, "fr"), plays=[("drama1", 2, 1)], country="FR")

    def unchanged() -> None:
        with runtime.db.unit_of_work() as session:
            assert segment_bits.check(session) == []

    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session).audiences
        de = svc.create_segment(None, name="DE", rule={"type": "country", "countries": ["DE"]})
        fr = svc.create_segment(None, name="FR", rule={"type": "country", "countries": ["FR"]})
        assert (de.member_count, fr.member_count) == (12, 6)
        de_id, fr_id = de.id, fr.id
        bits = session.get(SegmentBitmap, de_id)
        assert bits is not None
        assert bits.members == 12
        ids = np.array([*germans, *french], dtype=np.int64)
        assert segment_bits.count_members(session, [de_id, fr_id], ids) == {de_id: 12, fr_id: 6}
    unchanged()
    with runtime.db.unit_of_work(write=True) as session:  # a new rule
        svc = runtime.services(session).audiences
        rule = {"type": "country", "countries": ["DE", "FR"]}
        svc.update_segment(svc.segment(de_id), rule=rule)
    unchanged()
    with runtime.db.unit_of_work(write=True) as session:  # consent withdrawn, then given
        svc = runtime.services(session).audiences
        user = session.get(User, germans[0])
        assert user is not None
        svc.set_consent(user, profiling=False, personalised_ads=False)
        assert segment_bits.count_members(session, [de_id], ids) == {de_id: 17}
        svc.set_consent(user, profiling=True, personalised_ads=True)
    unchanged()
    with runtime.db.unit_of_work(write=True) as session:  # a move abroad
        svc = runtime.services(session).audiences
        user = session.get(User, french[0])
        assert user is not None
        user.country = "IT"
        svc.account_changed(user)
        assert segment_bits.count_members(session, [fr_id], ids) == {fr_id: 5}
    unchanged()
    with runtime.db.unit_of_work(write=True) as session:  # a hand edit, then a refresh
        session.execute(delete(SegmentMember).where(SegmentMember.user_id == germans[1]))
        assert segment_bits.check(session) == [de_id]
        runtime.services(session).audiences.refresh()
    unchanged()
    with runtime.db.unit_of_work(write=True) as session:  # a hand edit, then a rebuild
        session.execute(delete(SegmentMember).where(SegmentMember.user_id == germans[2]))
    env = dev_env(database_url)
    assert "differs" in assert_clean_exit(invoke(["insights", "bitmaps"], env), 1)
    assert_clean_exit(invoke(["insights", "bitmaps", "--rebuild"], env), 0)
    assert "match" in invoke(["insights", "bitmaps"], env).stdout
    unchanged()
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session).audiences
        svc.delete_segment(svc.segment(fr_id))
        assert session.get(SegmentBitmap, fr_id) is None
    unchanged()
