"""Cheap audience worlds for the audience tests: a small catalogue and many users with plays,
built through the services in one transaction (no password hashing, no HTTP per play)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select

from tastegraph.accounts.models import User, Visibility
from tastegraph.accounts.services import name_key
from tastegraph.audiences.models import AdConsent
from tastegraph.catalog.models import Item
from tastegraph.catalog.schemas import ItemRef
from tastegraph.ingest.models import Play
from tastegraph.runtime import Runtime
from tastegraph.storage.base import utcnow

_REF: TypeAdapter[Any] = TypeAdapter(ItemRef)

CATALOGUE: dict[str, dict[str, Any]] = {
    **{
        f"match{n}": {
            "kind": "match",
            "competition": "Bundesliga",
            "home": "FC Nord",
            "away": f"FC Süd {n}",
            "starts_at": f"2024-0{n}-01T18:30:00+00:00",
        }
        for n in range(1, 6)
    },
    "cupmatch": {
        "kind": "match",
        "competition": "Pokal",
        "home": "SV Ost",
        "away": "SV West",
        "starts_at": "2024-03-03T18:30:00+00:00",
    },
    **{
        f"rock{n}": {
            "kind": "track",
            "title": f"Loud Song {n}",
            "artist": "The Rockers",
            "album": "Loud",
        }
        for n in range(1, 4)
    },
    "feat": {"kind": "track", "title": "Guest Spot", "artist": "Solo Star feat. The Rockers"},
    "jazz": {"kind": "track", "title": "Blue Tune", "artist": "Jazz Cats"},
    "hymn": {"kind": "track", "title": "Sunday Hymn", "artist": "The Choir"},
    "drama1": {"kind": "episode", "show": "Harbour Lights", "season": 1, "episode": 1},
    "drama2": {"kind": "episode", "show": "Harbour Lights", "season": 1, "episode": 2},
    "story": {"kind": "story", "outlet": "Daily Bugle", "title": "Markets rally"},
}

TAGS: dict[str, list[str]] = {
    # catalogue key of an item -> tags put on its root (the artist / the show)
    "rock1": ["rock", "guitar"],
    "jazz": ["jazz"],
    "hymn": ["gospel"],
    "drama1": ["drama"],
}


@dataclass
class World:
    items: dict[str, int]
    """Catalogue key -> item id (the played item)."""
    roots: dict[str, int]
    """Catalogue key -> the id of its parent (album, season, competition) or root."""
    artists: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


def build_catalogue(runtime: Runtime) -> World:
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        keys = list(CATALOGUE)
        ids = svc.catalog.resolve([_REF.validate_python(CATALOGUE[k]) for k in keys])
        items = dict(zip(keys, ids, strict=True))
        query = select(Item.id, Item.parent_id).where(Item.id.in_(ids))
        parents = dict(session.execute(query).all())
        roots = {k: parents[i] or i for k, i in items.items()}
        world = World(items=items, roots=roots)
        for title in ("The Rockers", "Jazz Cats", "The Choir", "Solo Star", "FC Nord"):
            found = session.scalar(select(Item.id).where(Item.title == title))
            assert found is not None, title
            world.artists[title] = found
        harbour = session.scalar(select(Item.id).where(Item.title == "Harbour Lights"))
        assert harbour is not None
        world.artists["Harbour Lights"] = harbour
        tagger = _user(session, "tagger", consent=False)
        root_of = {
            "rock1": world.artists["The Rockers"],
            "jazz": world.artists["Jazz Cats"],
            "hymn": world.artists["The Choir"],
            "drama1": harbour,
        }
        for key, tags in TAGS.items():
            svc.catalog.tag(tagger.id, root_of[key], tags)
    return world


def _user(
    session: Any,
    name: str,
    *,
    consent: bool = True,
    birth_year: int | None = 1980,
    declared_adult: bool = False,
    country: str | None = "DE",
    locale: str = "de-DE",
    timezone: str = "Europe/Berlin",
) -> User:
    user = User(
        name=name,
        name_key=name_key(name),
        password_hash=None,
        country=country,
        locale=locale,
        timezone=timezone,
        visibility=Visibility.PUBLIC,
        birth_year=birth_year,
        hide_recent_activity=False,
        incognito=False,
        consent_ad_profiling=consent,
        is_admin=False,
    )
    session.add(user)
    session.flush()
    if consent or declared_adult:
        session.add(
            AdConsent(
                user_id=user.id,
                profiling=consent,
                personalised_ads=consent,
                declared_adult=declared_adult,
                source="test",
                updated_at=utcnow(),
            )
        )
    return user


def add_users(
    runtime: Runtime,
    world: World,
    names: Sequence[str],
    *,
    plays: Sequence[tuple[str, int, int]] = (),
    now: datetime | None = None,
    **fields: Any,
) -> list[int]:
    """Users with ``plays`` = (catalogue key, days ago, how many plays) each, in one transaction."""
    now = now or utcnow()
    made = []
    with runtime.db.unit_of_work(write=True) as session:
        rows = []
        for name in names:
            user = _user(session, name, **fields)
            made.append(user.id)
            world.users[name] = user.id
            for key, days_ago, count in plays:
                for n in range(count):
                    rows.append(
                        Play(
                            user_id=user.id,
                            item_id=world.items[key],
                            played_at=now - timedelta(days=days_ago, minutes=n),
                            tz_offset_minutes=0,
                            source="test",
                        )
                    )
        session.add_all(rows)
    return made


def names(n: int, prefix: str) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(n)]
