"""Local-content share: "in France, at least 40 % of recommended music is French".

A policy is a share per country and scope (a domain such as ``music``, a kind such as
``show``, or ``mixed``), from ``TASTEGRAPH_RECS_LOCAL_SHARE`` (JSON, e.g.
``{"FR": {"music": 0.4}, "CA": {"tv": 0.3}}``). An item is *local* to a country when the
catalogue says it comes from there (``Item.country``) or is in one of the country's languages
(``Item.original_language``; ``COUNTRY_LANGUAGES``, overridable with
``TASTEGRAPH_RECS_LOCAL_LANGUAGES``).

``rerank`` enforces the share at the smallest cost in relevance: it keeps the best-scoring
items in score order and only where a prefix of the list would fall short of the share does it
put the best remaining local item in place of the best remaining other one. Every prefix of
``k`` items then holds at least ``floor(share x k)`` local items, and the whole list at least
``ceil(share x n)`` (when the candidates have that many). Of all lists meeting those
constraints it loses the least score: the items it keeps are the best locals and the best
others, each in score order. ``cost`` measures what was lost against the un-reranked list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tastegraph.catalog.kinds import DOMAIN_OF, Kind

COUNTRY_LANGUAGES: dict[str, frozenset[str]] = {
    code: frozenset(langs.split())
    for code, langs in {
        "AR": "es",
        "AT": "de",
        "AU": "en",
        "BE": "fr nl de",
        "BR": "pt",
        "CA": "en fr",
        "CH": "de fr it rm",
        "CL": "es",
        "CN": "zh",
        "CO": "es",
        "CZ": "cs",
        "DE": "de",
        "DK": "da",
        "EG": "ar",
        "ES": "es ca eu gl",
        "FI": "fi sv",
        "FR": "fr",
        "GB": "en cy gd",
        "GR": "el",
        "HU": "hu",
        "ID": "id",
        "IE": "en ga",
        "IL": "he",
        "IN": "hi bn ta te mr ur",
        "IT": "it",
        "JP": "ja",
        "KR": "ko",
        "MX": "es",
        "NG": "en yo ha ig",
        "NL": "nl",
        "NO": "no nb nn",
        "NZ": "en mi",
        "PH": "tl fil en",
        "PL": "pl",
        "PT": "pt",
        "RO": "ro",
        "RU": "ru",
        "SE": "sv",
        "TH": "th",
        "TR": "tr",
        "UA": "uk",
        "US": "en",
        "VN": "vi",
        "ZA": "en af zu xh",
    }.items()
}
"""The languages whose content counts as local in a country (ISO 639-1)."""


@dataclass(frozen=True)
class LocalRule:
    country: str
    scope: str
    """A domain (``music``), a kind (``show``) or ``mixed``."""
    share: float
    languages: frozenset[str]

    def is_local(self, country: str | None, language: str | None) -> bool:
        if country and country.upper() == self.country:
            return True
        if language:
            return language.split("-")[0].lower() in self.languages
        return False


class LocalSharePolicy:
    """Every country's rules; ``rule_for`` picks the one that applies to a list."""

    def __init__(self, rules: Sequence[LocalRule] = ()) -> None:
        self.rules: dict[tuple[str, str], LocalRule] = {(r.country, r.scope): r for r in rules}

    @classmethod
    def from_settings(
        cls,
        shares: Mapping[str, Mapping[str, float]],
        languages: Mapping[str, Sequence[str]] | None = None,
    ) -> LocalSharePolicy:
        languages = languages or {}
        rules = []
        for country, scopes in shares.items():
            code = country.upper()
            langs = frozenset(
                lang.lower() for lang in languages.get(code, COUNTRY_LANGUAGES.get(code, ()))
            )
            for scope, share in scopes.items():
                if not 0.0 < float(share) <= 1.0:
                    raise ValueError(f"local share for {code}/{scope} must be in (0, 1]")
                rules.append(LocalRule(code, scope.lower(), float(share), langs))
        return cls(rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def rule_for(self, country: str | None, kind: str) -> LocalRule | None:
        """The rule for a list of ``kind`` (or ``mixed``) shown to someone in ``country``:
        the kind's own rule, else its domain's."""
        if not country or not self.rules:
            return None
        code = country.upper()
        scopes = [kind]
        if kind != "mixed":
            scopes.append(DOMAIN_OF[Kind(kind)].value)
        for scope in scopes:
            rule = self.rules.get((code, scope))
            if rule is not None:
                return rule
        return None


def quotas(n: int, share: float) -> list[int]:
    """Local items required in each prefix of 1..n items (index k-1 for the prefix of k)."""
    if n <= 0:
        return []
    need = [math.floor(share * k + 1e-9) for k in range(1, n + 1)]
    need[-1] = math.ceil(share * n - 1e-9)
    for k in range(n - 2, -1, -1):  # one more local item per position at most
        need[k] = max(need[k], need[k + 1] - 1)
    return need


def rerank(scores: Sequence[float], local: Sequence[bool], n: int, share: float) -> list[int]:
    """Indices of the ``n`` items to show, in order, meeting the share at the least cost.

    ``scores`` and ``local`` describe the candidates (any order); with fewer local candidates
    than the share needs, as many as there are are used.
    """
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    locals_ = [i for i in order if local[i]]
    others = [i for i in order if not local[i]]
    need = quotas(min(n, len(order)), share)
    out: list[int] = []
    have = li = oi = 0
    for k in range(len(need)):
        next_local = locals_[li] if li < len(locals_) else None
        next_other = others[oi] if oi < len(others) else None
        must_local = have < need[k] and next_local is not None
        take_local = next_local is not None and (
            must_local
            or next_other is None
            or (scores[next_local], -next_local) >= (scores[next_other], -next_other)
        )
        if take_local:
            assert next_local is not None
            out.append(next_local)
            have += 1
            li += 1
        else:
            assert next_other is not None
            out.append(next_other)
            oi += 1
    return out


@dataclass(frozen=True)
class RerankCost:
    """What a re-ranked list of ``n`` lost against the plain top ``n`` by score."""

    score_lost: float
    """Sum of the top-n scores minus the sum of the shown items' scores."""
    relative_loss: float
    """``score_lost`` over the top-n sum (0 when nothing changed)."""
    ndcg: float
    """NDCG of the shown list with the candidates' scores as gains (shifted to be >= 0),
    against the plain top-n list as the ideal: 1.0 when nothing changed."""
    swapped: int
    """Items of the plain top-n that are not shown."""


def cost(scores: Sequence[float], chosen: Sequence[int], n: int | None = None) -> RerankCost:
    n = len(chosen) if n is None else n
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:n]
    floor = min(scores) if scores else 0.0
    gains = [s - floor for s in scores]

    def dcg(indices: Sequence[int]) -> float:
        return sum(gains[i] / math.log2(rank + 2) for rank, i in enumerate(indices))

    base = sum(scores[i] for i in order)
    shown = sum(scores[i] for i in chosen)
    ideal = dcg(order)
    return RerankCost(
        score_lost=base - shown,
        relative_loss=(base - shown) / base if base > 0 else 0.0,
        ndcg=dcg(chosen) / ideal if ideal > 0 else 1.0,
        swapped=len(set(order) - set(chosen)),
    )
