"""Offline measurement of behavioural segments: precision and lift against future behaviour.

    .venv/bin/python bench/segments_eval.py                       # a fresh demo in a temp dir
    .venv/bin/python bench/segments_eval.py --database-url sqlite:///data/tastegraph.db
    .venv/bin/python bench/segments_eval.py --skip-demo \
        --hetrec ../shared/datasets/hetrec2011-lastfm-2k

A temporal holdout (adtech.md §6). Pick a cut-off T; build each segment S from behaviour before T
only; call G the users who show the segment's interest in the ``--horizon`` days after T; count
only users active in both periods (U). Then

    precision = |S ∩ G| / |S|      recall = |S ∩ G| / |G|
    base rate = |G| / |U|          lift = precision / base rate   (1.0 = no better than random)

**Demo community** (synthetic: its people were generated with stable tastes, so lifts here say the
machinery works, not what real audiences do). T = the last play minus ``--horizon`` days. Segments
are real ``audiences`` rules compiled to SQL and evaluated by ``AudienceService`` with its clock
set to T (rules see no play after ``now``): the most used tags ("≥ 3 plays of items tagged X in
the last 30 days"), kinds ("≥ 3 matches in 30 days"), the biggest competitions ("≥ 2 matches of
competition C in 30 days"). G is the same target with "≥ 1 play in the horizon". Only the demo's
consenting adults are counted (the population advertisers could reach). Lookalike rows expand
the first four tag segments to twice their size and score the expansion alone.

**HetRec 2011 Last.fm 2K** (real users, 2005–2011). Its play counts carry no time, so the only
dated behaviour is *tagging*: (user, artist, day) from ``user_taggedartists.dat``. An artist's
genre is its most used tag among the 30 most used tags before T. S = users who tagged ≥ 2
artists of a genre in the ``--hetrec-lookback`` days before T (default 365), G = users who tag an
artist of that genre in the ``--hetrec-horizon`` days after (default 180), U = users who tagged
anything in both periods. Tagging is not listening: these figures measure how well past tagging
behaviour predicts future tagging interest, nothing more.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tastegraph.audiences.rules import parse_rule
from tastegraph.audiences.sensitive import is_sensitive_tag
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item, ItemTag, Tag
from tastegraph.config import Mode, Settings
from tastegraph.ingest.models import Play
from tastegraph.runtime import Runtime

BIN = Path(sys.executable).parent


@dataclass
class Row:
    data: str
    segment: str
    size: int
    precision: float
    recall: float
    base: float

    @property
    def lift(self) -> float:
        return self.precision / self.base if self.base else 0.0


def score(data: str, name: str, segment: set[int], truth: set[int], population: set[int]) -> Row:
    s = segment & population
    g = truth & population
    hits = len(s & g)
    return Row(
        data=data,
        segment=name,
        size=len(s),
        precision=hits / len(s) if s else 0.0,
        recall=hits / len(g) if g else 0.0,
        base=len(g) / len(population) if population else 0.0,
    )


# -- the demo community -------------------------------------------------------------------------


def _demo_database(users: int) -> str:
    directory = Path(tempfile.mkdtemp(prefix="tastegraph-segments-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEGRAPH_")}
    env |= {"TASTEGRAPH_MODE": "demo", "TASTEGRAPH_DATA_DIR": str(directory)}
    print(f"loading the demo community ({users} people) into {directory} ...", flush=True)
    subprocess.run(
        [str(BIN / "tastegraph"), "demo", "--users", str(users)], env=env, check=True, cwd=directory
    )
    return f"sqlite:///{directory / 'tastegraph.db'}"


def demo_rows(url: str, horizon: int, lookback: int) -> list[Row]:
    settings = Settings(mode=Mode.DEMO, database_url=url, audience_refresh_seconds=0)
    runtime = Runtime.create(settings)
    rows: list[Row] = []
    try:
        with runtime.db.unit_of_work() as session:
            last = session.scalar(select(func.max(Play.played_at)))
            assert last is not None, "the database holds no plays"
            cut = last - timedelta(days=horizon)
            end = last
            tags = _top_tags(session, 8)
            competitions = list(
                session.scalars(
                    select(Item.parent_id)
                    .join(Play, Play.item_id == Item.id)
                    .where(Item.kind == Kind.MATCH, Item.parent_id.is_not(None))
                    .group_by(Item.parent_id)
                    .order_by(func.count().desc())
                    .limit(4)
                )
            )
            names = dict(
                session.execute(select(Item.id, Item.title).where(Item.id.in_(competitions))).all()
            )

        def at(moment: datetime) -> Callable[[dict[str, Any]], set[int]]:
            def evaluate(rule: dict[str, Any]) -> set[int]:
                runtime.clock = lambda: moment
                with runtime.db.unit_of_work() as session:
                    audiences = runtime.services(session).audiences
                    return set(session.scalars(audiences.members_query(parse_rule(rule))))

            return evaluate

        before, after = at(cut), at(end)
        active = {"type": "kind", "kinds": [k.value for k in Kind]}
        population = before({**active, "within_days": lookback}) & after(
            {**active, "within_days": horizon}
        )
        cases: list[tuple[str, dict[str, Any]]] = []
        for tag in tags:
            cases.append((f"tag '{tag}' ≥ 3 plays / {lookback} d", {"type": "tag", "tags": [tag]}))
        for kind in (Kind.MATCH, Kind.EPISODE, Kind.FILM, Kind.STORY):
            cases.append(
                (f"kind {kind.value} ≥ 3 plays / {lookback} d", {"type": "kind", "kinds": [kind]})
            )
        for competition in competitions:
            cases.append(
                (
                    f"competition '{names[competition]}' ≥ 2 matches / {lookback} d",
                    {"type": "creator", "creators": [competition], "kinds": ["match"]},
                )
            )
        for label, target in cases:
            needed = 2 if target["type"] == "creator" else 3
            segment = before({**target, "min_plays": needed, "within_days": lookback})
            truth = after({**target, "within_days": horizon})
            rows.append(score("demo", label, segment, truth, population))
        for tag in tags[:4]:
            rows.append(_lookalike_row(runtime, cut, tag, lookback, before, after, horizon))
        _time_refresh(runtime, end, [target for _label, target in cases], lookback)
    finally:
        runtime.close()
    print(
        f"demo: cut-off {cut:%Y-%m-%d}, horizon {horizon} d, {len(population)} consenting adults "
        "active in both periods",
        flush=True,
    )
    return rows


def _time_refresh(
    runtime: Runtime, now: datetime, targets: list[dict[str, Any]], lookback: int
) -> None:
    """How long materialising and refreshing these segments takes (rolled back afterwards)."""
    from sqlalchemy.orm import Session

    runtime.clock = lambda: now
    with Session(runtime.db.engine) as session:
        audiences = runtime.services(session).audiences
        started = time.perf_counter()
        for n, target in enumerate(targets):
            audiences.create_segment(
                None, name=f"eval {n}", rule={**target, "min_plays": 2, "within_days": lookback}
            )
        created = time.perf_counter() - started
        report = audiences.refresh()
        per_user = time.perf_counter()
        audiences.reevaluate_users(list(range(1, 101)))
        hook = time.perf_counter() - per_user
        session.rollback()
    print(
        f"demo: {len(targets)} rule segments materialised in {created:.2f} s; a refresh of all of "
        f"them (a diff, nothing changed) {report.seconds:.2f} s; the per-user hook for 100 users "
        f"{hook:.2f} s",
        flush=True,
    )


def _top_tags(session: Any, n: int) -> list[str]:
    rows = session.execute(
        select(Tag.key, func.count())
        .join(ItemTag, ItemTag.tag_id == Tag.id)
        .group_by(Tag.key)
        .order_by(func.count().desc())
        .limit(n * 3)
    ).all()
    return [key for key, _count in rows if not is_sensitive_tag(key)][:n]


def _lookalike_row(
    runtime: Runtime,
    cut: datetime,
    tag: str,
    lookback: int,
    before: Callable[[dict[str, Any]], set[int]],
    after: Callable[[dict[str, Any]], set[int]],
    horizon: int,
) -> Row:
    from tastegraph.audiences.lookalike import expand

    rule = {"type": "tag", "tags": [tag], "min_plays": 3, "within_days": lookback}
    seed = before(rule)
    runtime.clock = lambda: cut
    with runtime.db.unit_of_work() as session:
        audiences = runtime.services(session).audiences
        scored = expand(
            session,
            sorted(seed),
            len(seed),
            users=audiences._eligible_select(),
            now=cut,
            within_days=365,
            sensitive=audiences.sensitive_tag_ids(),
        )
    expansion = {user for user, _score in scored}
    active = {"type": "kind", "kinds": [k.value for k in Kind]}
    population = before({**active, "within_days": lookback}) & after(
        {**active, "within_days": horizon}
    )
    truth = after({"type": "tag", "tags": [tag], "within_days": horizon})
    return score(
        "demo",
        f"lookalike of tag '{tag}' (expansion ×2, new users only)",
        expansion,
        truth,
        population,
    )


# -- HetRec 2011 Last.fm 2K -----------------------------------------------------------------------


def hetrec_rows(directory: Path, lookback: int, horizon: int, cut: date) -> list[Row]:
    events: list[tuple[int, int, int, date]] = []
    with (directory / "user_taggedartists.dat").open(encoding="latin-1", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)
        for user, artist, tag, day, month, year in reader:
            try:
                when = date(int(year), int(month), int(day))
            except ValueError:
                continue  # a handful of rows carry impossible dates
            events.append((int(user), int(artist), int(tag), when))
    names: dict[int, str] = {}
    with (directory / "tags.dat").open(encoding="latin-1", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)
        for tag_id, value in reader:
            names[int(tag_id)] = value
    start, end = cut - timedelta(days=lookback), cut + timedelta(days=horizon)
    past = [e for e in events if start <= e[3] < cut]
    future = [e for e in events if cut <= e[3] < end]
    usable = Counter(t for _u, _a, t, _d in events if _d < cut and not is_sensitive_tag(names[t]))
    top = [t for t, _n in usable.most_common(30)]
    per_artist: dict[int, Counter[int]] = defaultdict(Counter)
    for _user, artist, tag, when in events:
        if when < cut and tag in top:
            per_artist[artist][tag] += 1
    genre = {artist: counts.most_common(1)[0][0] for artist, counts in per_artist.items()}
    population = {u for u, *_rest in past} & {u for u, *_rest in future}
    rows = []
    for tag in top[:8]:
        artists_past: dict[int, set[int]] = defaultdict(set)
        for user, artist, _t, _d in past:
            if genre.get(artist) == tag:
                artists_past[user].add(artist)
        segment = {u for u, artists in artists_past.items() if len(artists) >= 2}
        truth = {u for u, artist, _t, _d in future if genre.get(artist) == tag}
        rows.append(
            score(
                "HetRec",
                f"tagged ≥ 2 '{names[tag]}' artists / {lookback} d",
                segment,
                truth,
                population,
            )
        )
    print(
        f"HetRec: cut-off {cut}, lookback {lookback} d, horizon {horizon} d, {len(population)} "
        "users who tagged in both periods",
        flush=True,
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a database holding the demo community")
    parser.add_argument("--users", type=int, default=2400, help="demo size when loading one")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--horizon", type=int, default=28, help="demo: days after the cut-off")
    parser.add_argument("--lookback", type=int, default=30, help="demo: the rules' window")
    parser.add_argument("--hetrec", type=Path, help="the hetrec2011-lastfm-2k directory")
    parser.add_argument("--hetrec-cut", type=date.fromisoformat, default=date(2010, 1, 1))
    parser.add_argument("--hetrec-lookback", type=int, default=365)
    parser.add_argument("--hetrec-horizon", type=int, default=180)
    args = parser.parse_args()
    rows: list[Row] = []
    if not args.skip_demo:
        url = args.database_url or _demo_database(args.users)
        rows += demo_rows(url, args.horizon, args.lookback)
    if args.hetrec:
        rows += hetrec_rows(args.hetrec, args.hetrec_lookback, args.hetrec_horizon, args.hetrec_cut)
    print()
    print("| data | segment (built before the cut-off) | size | precision | recall | base | lift |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row.data} | {row.segment} | {row.size} | {row.precision:.3f} | {row.recall:.3f} "
            f"| {row.base:.3f} | {row.lift:.2f} |"
        )


if __name__ == "__main__":
    main()
