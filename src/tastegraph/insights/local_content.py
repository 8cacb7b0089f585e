"""The local-content report: per country and kind, the share of local works offered,
recommended and consumed, against the country's local-content policy.

"Local" is the recommendations area's definition (``recs/local_share.py``): an item from the
country (``Item.country``) or in one of its languages (``Item.original_language``; the
country's languages from the policy, ``TASTEGRAPH_RECS_LOCAL_LANGUAGES`` or the built-in list).

* **offered**: items of the kind available in the country at the end of the window
  (``Runtime.availability``: grants, blackouts and rights-required domains);
* **recommended**: the recommender run now for a deterministic sample of the country's users
  who played something in the window (the lists they would get, local-share re-ranking
  included), one list of ``LIST_SIZE`` per user and kind: tastegraph does not log the lists
  it serves;
* **consumed**: plays in the window by users of the country.

A cell passes when its recommended share reaches the policy's threshold (the policy is a quota
on recommendations); the offered and consumed shares are set against the same threshold for
information.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.catalog.availability import Availability
from tastegraph.catalog.kinds import CONSUMABLE, DOMAIN_OF, Kind
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Play
from tastegraph.insights.errors import InvalidInsightsRequest
from tastegraph.insights.windows import InsightWindow
from tastegraph.recs.errors import RecsError
from tastegraph.recs.local_share import COUNTRY_LANGUAGES, LocalRule, LocalSharePolicy
from tastegraph.recs.services import RecsService

LIST_SIZE = 20
DEFAULT_KINDS = (Kind.TRACK, Kind.EPISODE, Kind.FILM)
DEFAULT_COUNTRIES = 10
_SAMPLE_MIX = 2_654_435_761
"""Knuth's multiplicative hash: a sample spread over the ids, the same every time."""


@dataclass
class Measure:
    total: int = 0
    local: int = 0

    @property
    def share(self) -> float | None:
        return round(self.local / self.total, 4) if self.total else None

    def passes(self, threshold: float | None) -> bool | None:
        share = self.share
        if threshold is None or share is None:
            return None
        return share + 1e-9 >= threshold


@dataclass
class Cell:
    country: str
    kind: Kind
    rule: LocalRule | None
    languages: frozenset[str]
    offered: Measure
    recommended: Measure
    consumed: Measure

    @property
    def threshold(self) -> float | None:
        return self.rule.share if self.rule else None


def is_local(
    country: str, languages: frozenset[str], item_country: str | None, language: str | None
) -> bool:
    if item_country and item_country.upper() == country:
        return True
    return bool(language) and str(language).split("-")[0].lower() in languages


class LocalContentReport:
    def __init__(
        self,
        session: Session,
        *,
        availability: Availability,
        recs: RecsService,
        policy: LocalSharePolicy,
        languages: Mapping[str, Sequence[str]],
    ) -> None:
        self.session = session
        self.availability = availability
        self.recs = recs
        self.policy = policy
        self.languages = languages

    def languages_of(self, country: str) -> frozenset[str]:
        for (code, _scope), rule in self.policy.rules.items():
            if code == country:
                return rule.languages
        given: Iterable[str] = self.languages.get(country) or COUNTRY_LANGUAGES.get(
            country, frozenset()
        )
        return frozenset(lang.lower() for lang in given)

    def default_countries(self) -> list[str]:
        with_policy = sorted({code for code, _scope in self.policy.rules})
        if with_policy:
            return with_policy
        rows = self.session.execute(
            select(User.country, func.count())
            .where(User.country.is_not(None))
            .group_by(User.country)
            .order_by(func.count().desc(), User.country)
            .limit(DEFAULT_COUNTRIES)
        )
        return [country for country, _n in rows if country]

    def default_kinds(self) -> list[Kind]:
        scopes = {scope for _code, scope in self.policy.rules}
        kinds = [k for k in sorted(CONSUMABLE) if k.value in scopes or DOMAIN_OF[k].value in scopes]
        return kinds or list(DEFAULT_KINDS)

    def build(
        self,
        window: InsightWindow,
        *,
        countries: Sequence[str] | None = None,
        kinds: Sequence[Kind] | None = None,
        sample: int = 20,
        at: datetime | None = None,
    ) -> list[Cell]:
        codes = [c.upper() for c in countries] if countries else self.default_countries()
        chosen = list(dict.fromkeys(kinds)) if kinds else self.default_kinds()
        for kind in chosen:
            if kind not in CONSUMABLE:
                raise InvalidInsightsRequest(
                    f"{kind.value}: the report counts works people play "
                    f"({', '.join(sorted(k.value for k in CONSUMABLE))})."
                )
        cells = {
            (country, kind): Cell(
                country=country,
                kind=kind,
                rule=self.policy.rule_for(country, kind.value),
                languages=self.languages_of(country),
                offered=Measure(),
                recommended=Measure(),
                consumed=Measure(),
            )
            for country in codes
            for kind in chosen
        }
        self._offered(cells, codes, chosen, at or window.until)
        self._consumed(cells, codes, chosen, window)
        self._recommended(cells, codes, chosen, window, sample)
        return [cells[(country, kind)] for country in codes for kind in chosen]

    def _offered(
        self,
        cells: dict[tuple[str, Kind], Cell],
        countries: Sequence[str],
        kinds: Sequence[Kind],
        at: datetime,
    ) -> None:
        for kind in kinds:
            rows = self.session.execute(
                select(Item.id, Item.country, Item.original_language).where(
                    Item.kind == kind, Item.merged_into_id.is_(None)
                )
            ).all()
            ids = [row[0] for row in rows]
            for country in countries:
                cell = cells[(country, kind)]
                mask = self.availability.mask(ids, country, at)
                for (_id, item_country, language), ok in zip(rows, mask, strict=True):
                    if ok:
                        cell.offered.total += 1
                        cell.offered.local += is_local(
                            country, cell.languages, item_country, language
                        )

    def _consumed(
        self,
        cells: dict[tuple[str, Kind], Cell],
        countries: Sequence[str],
        kinds: Sequence[Kind],
        window: InsightWindow,
    ) -> None:
        language = func.lower(Item.original_language)
        rows = self.session.execute(
            select(User.country, Item.kind, Item.country, language, func.count())
            .select_from(Play)
            .join(User, User.id == Play.user_id)
            .join(Item, Item.id == Play.item_id)
            .where(
                Play.played_at >= window.since,
                Play.played_at < window.until,
                User.country.in_(list(countries)),
                Item.kind.in_(list(kinds)),
            )
            .group_by(User.country, Item.kind, Item.country, language)
        )
        for country, kind, item_country, lang, plays in rows:
            cell = cells[(country, Kind(kind))]
            cell.consumed.total += int(plays)
            if is_local(country, cell.languages, item_country, lang):
                cell.consumed.local += int(plays)

    def sample_users(self, country: str, window: InsightWindow, size: int) -> list[User]:
        active = (
            select(Play.user_id)
            .where(Play.played_at >= window.since, Play.played_at < window.until)
            .distinct()
            .subquery("active")
        )
        order = (User.id * _SAMPLE_MIX) % 4_294_967_296
        return list(
            self.session.scalars(
                select(User)
                .join(active, active.c.user_id == User.id)
                .where(User.country == country)
                .order_by(order, User.id)
                .limit(size)
            )
        )

    def _recommended(
        self,
        cells: dict[tuple[str, Kind], Cell],
        countries: Sequence[str],
        kinds: Sequence[Kind],
        window: InsightWindow,
        sample: int,
    ) -> None:
        for country in countries:
            users = self.sample_users(country, window, sample)
            for kind in kinds:
                cell = cells[(country, kind)]
                for user in users:
                    for item_country, language in self._list(user, kind):
                        cell.recommended.total += 1
                        cell.recommended.local += is_local(
                            country, cell.languages, item_country, language
                        )

    def _list(self, user: User, kind: Kind) -> Iterable[tuple[str | None, str | None]]:
        try:
            answer = self.recs.recommend(user, kind=kind.value, limit=LIST_SIZE)
        except RecsError:
            return []
        return [(e.item.country, e.item.original_language) for e in answer.entries]
