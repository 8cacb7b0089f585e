"""The demo community: a deterministic, realistic population to judge every feature on.

``load`` generates the community in memory (see ``generate``) and writes it through the
services (see ``store``). The same seed and anchor give the same community: users, titles,
plays and all. Every demo member shares the password of the demo account, "tastegraph-demo";
the administrator is "admin" / "tastegraph-admin".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tastegraph.demo import economics
from tastegraph.demo.config import DemoConfig
from tastegraph.demo.generate import Community, generate
from tastegraph.demo.store import Logins, Stored, store
from tastegraph.runtime import Runtime
from tastegraph.stats.rollups import fold

__all__ = ["ADMIN_PASSWORD", "ADMIN_USER", "DEMO_PASSWORD", "DEMO_USER", "DemoConfig", "load"]

DEMO_USER = "demo"
DEMO_PASSWORD = "tastegraph-demo"  # noqa: S105 - a published demo login
ADMIN_USER = "admin"
ADMIN_PASSWORD = "tastegraph-admin"  # noqa: S105 - a published demo login

_KINDS = (
    "artist", "album", "track", "show", "season", "episode", "film", "competition", "team",
    "match", "outlet", "programme", "story",
)  # fmt: skip


def load(runtime: Runtime, config: DemoConfig, log: Callable[..., Any] = print) -> str:
    """Generate the community and write it to the (migrated, empty) database; a summary."""
    log(f"generating the demo community (seed {config.seed}, {config.users} people)")
    community = generate(config, DEMO_USER, log)
    log("writing it to the database")
    logins = Logins(DEMO_PASSWORD, ADMIN_USER, ADMIN_PASSWORD)
    stored = store(runtime, community, logins, log)
    folded = fold(runtime.db)
    log(f"  {folded} plays counted into the chart rollups")
    log("seeding rights, costs, playbacks and twelve weeks of ads")
    money = economics.seed(runtime, community, stored, log)
    return summary(community, stored, money)


def summary(community: Community, stored: Stored, money: economics.Economics) -> str:
    countries = community.people.countries
    abroad = sum(c != "US" for c in countries) / max(1, len(countries))
    kinds = ", ".join(f"{stored.kinds[k]} {_plural(k)}" for k in _KINDS if stored.kinds.get(k))
    return (
        f"{len(countries)} users in {len(set(countries))} countries "
        f"({abroad:.0%} outside the US); items: {kinds}; {stored.plays} plays; "
        f"{stored.friendships} friendships; {stored.tags} tags; {stored.loves} loves, "
        f"{stored.hates} hates; {stored.follows} follows, {stored.groups} groups, "
        f"{stored.shouts} shouts; {money.grants} rights grants, {money.costs} title costs, "
        f"{money.impressions} ad impressions"
    )


def _plural(kind: str) -> str:
    return {"match": "matches", "story": "stories"}.get(kind, kind + "s")
