"""Writing a generated community through the services, in few and large units of work.

Commits are few on purpose: SQLite's default ``synchronous=FULL`` makes every commit an fsync.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.accounts.schemas import UserCreate
from tastegraph.accounts.services import name_key
from tastegraph.catalog.models import Item, ItemTag
from tastegraph.demo.generate import Community
from tastegraph.demo.items import moment
from tastegraph.demo.opinions import Target
from tastegraph.demo.plays import CLIENTS
from tastegraph.demo.social import populate
from tastegraph.ingest.models import Feedback, Sentiment
from tastegraph.ingest.schemas import PlayIn, PlayStatus
from tastegraph.ingest.services import Submission
from tastegraph.runtime import Runtime, Services
from tastegraph.storage.base import utcnow
from tastegraph.storage.dialect import insert_or_ignore

Log = Callable[..., Any]

RESOLVE_BATCH = 5000
RECORD_BATCH = 500
"""Plays per ``IngestService.record`` call (a heavy listener's year is split)."""
PLAYS_PER_COMMIT = 150_000
SOURCE = "demo"


@dataclass(frozen=True)
class Logins:
    demo_password: str
    admin_name: str
    admin_password: str


@dataclass
class Stored:
    user_ids: list[int] = field(default_factory=list)
    item_ids: list[int] = field(default_factory=list)
    plays: int = 0
    friendships: int = 0
    tags: int = 0
    loves: int = 0
    hates: int = 0
    follows: int = 0
    groups: int = 0
    shouts: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


def store(runtime: Runtime, community: Community, logins: Logins, log: Log) -> Stored:
    stored = Stored()
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        stored.user_ids = _register(svc, community, logins)
        log(f"  {len(stored.user_ids)} users registered")
        stored.item_ids = _resolve(svc, community, log)
    _record(runtime, community, stored, log)
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        users = stored.user_ids
        pairs = [(users[a], users[b]) for a, b in community.friendships]
        svc.social.befriend(pairs)
        stored.friendships = len(pairs)
        stored.tags = _tag(svc, community, stored)
        stored.loves, stored.hates = _feel(svc.session, community, stored)
        social = populate(svc.session, community, users, stored.item_ids, svc.catalog.resolve)
        stored.follows, stored.groups, stored.shouts = social.follows, social.groups, social.shouts
        rows = session.execute(select(Item.kind, func.count()).group_by(Item.kind))
        stored.kinds = dict(rows.all())
    log(f"  {stored.friendships} friendships, {stored.tags} tags, {stored.loves} loves")
    log(f"  {stored.follows} follows, {stored.groups} groups, {stored.shouts} shouts")
    return stored


def _register(svc: Services, community: Community, logins: Logins) -> list[int]:
    """Accounts: the demo person and the administrator properly, everyone else sharing the
    demo person's password hash (one argon2 hash instead of thousands, ~50 ms each)."""
    people = community.people
    demo = svc.accounts.register(
        UserCreate(
            name=people.names[0],
            password=logins.demo_password,
            country=people.countries[0],
            locale=people.locales[0],
            timezone=people.timezones[0],
            display_name=people.display_names[0],
            birth_year=people.birth_years[0],
        )
    )
    _settle(demo, community, 0)
    # "admin" is a reserved name, so that no member can pose as the operator; the demo creates
    # its operator on purpose, past the check (model_construct skips validation).
    svc.accounts.register(
        UserCreate.model_construct(
            name=logins.admin_name,
            password=logins.admin_password,
            display_name="Administrator",
        ),
        is_admin=True,
    )
    users = [demo]
    for index in range(1, len(people)):
        user = User(
            name=people.names[index],
            name_key=name_key(people.names[index]),
            password_hash=demo.password_hash,
            display_name=people.display_names[index],
            country=people.countries[index],
            locale=people.locales[index],
            timezone=people.timezones[index],
            birth_year=people.birth_years[index],
            incognito=False,
            is_admin=False,
        )
        _settle(user, community, index)
        users.append(user)
    svc.session.add_all(users[1:])
    svc.session.flush()
    return [user.id for user in users]


def _settle(user: User, community: Community, index: int) -> None:
    """What registration leaves at its defaults: since when, how visible, which consent."""
    people = community.people
    user.created_at = people.created_at[index]
    user.visibility = people.visibility[index]
    user.consent_ad_profiling = people.consent[index]
    user.consent_updated_at = people.created_at[index] if people.consent[index] else None


def _resolve(svc: Services, community: Community, log: Log) -> list[int]:
    refs = community.catalogue.table.refs
    ids: list[int] = []
    for start in range(0, len(refs), RESOLVE_BATCH):
        ids += svc.catalog.resolve(refs[start : start + RESOLVE_BATCH])
    log(f"  {len(ids)} catalogue items resolved")
    return ids


def _record(runtime: Runtime, community: Community, stored: Stored, log: Log) -> None:
    rows = _PlayRows(community, stored.item_ids)
    people = len(community.people)
    for first, last in _commit_groups(rows.bounds, PLAYS_PER_COMMIT):
        with runtime.db.unit_of_work(write=True) as session:
            svc = runtime.services(session)
            ids = stored.user_ids[first:last]
            users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
            for person in range(first, last):
                user = users[stored.user_ids[person]]
                low, high = rows.bounds[person], rows.bounds[person + 1]
                for start in range(low, high, RECORD_BATCH):
                    submissions = rows.submissions(start, min(high, start + RECORD_BATCH))
                    results = svc.ingest.record(user, submissions, source=SOURCE)
                    stored.plays += sum(r.status is PlayStatus.ACCEPTED for r in results)
        log(f"  {stored.plays} plays recorded ({last} of {people} people)")


class _PlayRows:
    """The generated plays as plain Python values, ready to become submissions."""

    def __init__(self, community: Community, item_ids: list[int]) -> None:
        plays = community.plays
        duration = community.catalogue.items.duration[plays.item]
        self.played = np.round(duration * plays.progress).astype(np.int64).tolist()
        self.at = plays.at.tolist()
        self.items = np.asarray(item_ids, dtype=np.int64)[plays.item].tolist()
        self.progress = plays.progress.tolist()
        self.clients = [CLIENTS[c] for c in plays.client.tolist()]
        self.bounds: list[int] = np.searchsorted(
            plays.user, np.arange(len(community.people) + 1)
        ).tolist()

    def submissions(self, start: int, stop: int) -> list[Submission]:
        return [
            Submission(
                index=i,
                play=PlayIn(
                    played_at=moment(self.at[i]),
                    item_id=self.items[i],
                    duration_played=self.played[i],
                    progress=self.progress[i],
                    client=self.clients[i],
                ),
            )
            for i in range(start, stop)
        ]


def _commit_groups(bounds: list[int], limit: int) -> list[tuple[int, int]]:
    """Consecutive ranges of people with about ``limit`` plays each (whole people only)."""
    groups: list[tuple[int, int]] = []
    first = 0
    for person in range(1, len(bounds)):
        if bounds[person] - bounds[first] >= limit or person == len(bounds) - 1:
            groups.append((first, person))
            first = person
    return groups


def _parents(session: Session, ids: Sequence[int]) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), 5000):
        chunk = unique[start : start + 5000]
        rows = session.execute(select(Item.id, Item.parent_id).where(Item.id.in_(chunk)))
        out.update((item_id, parent_id) for item_id, parent_id in rows)
    return out


def _grandparents(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """item -> the item two levels up (track -> album -> artist, episode -> season -> show)."""
    parents = _parents(session, ids)
    grand = _parents(session, [p for p in parents.values() if p is not None])
    return {i: g for i, p in parents.items() if p is not None and (g := grand.get(p)) is not None}


def _tag(svc: Services, community: Community, stored: Stored) -> int:
    """Tags as ``CatalogService.tag`` stores them, with the vocabulary created once through
    ``ensure_tags`` and the rows inserted in bulk (one call per tagged item costs ~1 ms)."""
    opinions = community.opinions
    catalogue = community.catalogue
    tag_ids = svc.catalog.ensure_tags(sorted({t for *_, tags in opinions.tags for t in tags}))
    first_track = {a: int(t[0]) for a, t in enumerate(catalogue.music.artist_tracks) if len(t)}
    first_episode = {s: int(e[0]) for s, e in enumerate(catalogue.tv.show_episodes) if len(e)}
    ids = stored.item_ids
    representative = [ids[i] for i in [*first_track.values(), *first_episode.values()]]
    owner = _grandparents(svc.session, representative)
    rows: dict[tuple[int, int, int], dict[str, int]] = {}
    for person, target, index, names in opinions.tags:
        if target is Target.ARTIST:
            item_id = owner.get(ids[first_track[index]])
        elif target is Target.SHOW:
            item_id = owner.get(ids[first_episode[index]])
        else:
            item_id = ids[index]
        if item_id is None:
            continue
        user_id = stored.user_ids[person]
        for name in names:
            tag_id = tag_ids.get(name)
            if tag_id is not None:
                rows[(user_id, item_id, tag_id)] = {
                    "user_id": user_id, "item_id": item_id, "tag_id": tag_id
                }  # fmt: skip
    values = list(rows.values())
    for start in range(0, len(values), 1000):
        svc.session.execute(insert_or_ignore(svc.session, ItemTag), values[start : start + 1000])
    return len(values)


def _feel(session: Session, community: Community, stored: Stored) -> tuple[int, int]:
    """Loves and hates as ``IngestService.set_feedback`` stores them, in bulk (~0.5 ms a call
    otherwise). Generated items are never merged, so their ids are already canonical."""
    rows = []
    now = utcnow()
    for sentiment, entries in (
        (Sentiment.LOVE, community.opinions.loves),
        (Sentiment.HATE, community.opinions.hates),
    ):
        for person, item, at in entries:
            rows.append(
                {
                    "user_id": stored.user_ids[person],
                    "item_id": stored.item_ids[item],
                    "sentiment": sentiment.value,
                    "created_at": min(moment(at), now),
                }
            )
    for start in range(0, len(rows), 1000):
        session.execute(insert_or_ignore(session, Feedback), rows[start : start + 1000])
    return len(community.opinions.loves), len(community.opinions.hates)
