"""The local-content re-ranker: quotas in every prefix, the least score lost, and its cost."""

from __future__ import annotations

import itertools
import random

import pytest

from tastegraph.recs.local_share import (
    COUNTRY_LANGUAGES,
    LocalSharePolicy,
    cost,
    quotas,
    rerank,
)


def test_quotas() -> None:
    assert quotas(10, 0.4) == [0, 0, 1, 1, 2, 2, 2, 3, 3, 4]
    assert quotas(7, 0.4)[-1] == 3  # ceil at the end: 40 % of 7 is 2.8
    assert quotas(2, 0.9) == [1, 2]  # the end needs two: the first must be local already
    assert quotas(0, 0.5) == []
    for n in range(1, 30):
        for share in (0.1, 0.25, 0.4, 0.5, 0.75, 1.0):
            need = quotas(n, share)
            assert all(0 <= b - a <= 1 for a, b in itertools.pairwise([0, *need]))


def test_nothing_moves_when_the_list_is_already_local_enough() -> None:
    scores = [9.0, 8.0, 7.0, 6.0, 5.0]
    local = [True, False, True, False, True]
    chosen = rerank(scores, local, 5, 0.4)
    assert chosen == [0, 1, 2, 3, 4]
    measured = cost(scores, chosen, 5)
    assert (measured.score_lost, measured.relative_loss, measured.ndcg, measured.swapped) == (
        0.0,
        0.0,
        1.0,
        0,
    )


def test_best_locals_are_swapped_in_where_needed() -> None:
    scores = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 1.0, 0.5]
    local = [False, False, False, False, False, False, True, True]
    chosen = rerank(scores, local, 5, 0.4)
    # 40 % of 5 -> two locals; the prefix of 3 needs one, of 5 needs two.
    assert chosen == [0, 1, 6, 2, 7]
    measured = cost(scores, chosen, 5)
    assert measured.score_lost == pytest.approx(10 + 9 + 8 + 7 + 6 - (10 + 9 + 1 + 8 + 0.5))
    assert 0 < measured.ndcg < 1
    assert measured.swapped == 2


def test_too_few_local_candidates_uses_them_all() -> None:
    chosen = rerank([5.0, 4.0, 3.0, 2.0], [False, False, False, True], 3, 0.9)
    assert 3 in chosen
    assert len(chosen) == 3


def _best_possible(scores: list[float], local: list[bool], n: int, share: float) -> float:
    need = quotas(n, share)
    best = float("-inf")
    for order in itertools.permutations(range(len(scores)), n):
        have, ok = 0, True
        for k, i in enumerate(order):
            have += local[i]
            if have < need[k]:
                ok = False
                break
        if ok:
            best = max(best, sum(scores[i] for i in order))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_rerank_meets_every_prefix_and_loses_the_least(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.randint(4, 7)
    scores = [round(rng.uniform(0, 10), 2) for _ in range(size)]
    local = [rng.random() < 0.35 for _ in range(size)]
    n = rng.randint(1, min(5, size))
    share = rng.choice([0.2, 0.4, 0.5, 0.6])
    chosen = rerank(scores, local, n, share)
    assert len(chosen) == n
    assert len(set(chosen)) == n
    need = quotas(n, share)
    if sum(local) >= need[-1]:
        have = 0
        for k, i in enumerate(chosen):
            have += local[i]
            assert have >= need[k]
        assert sum(scores[i] for i in chosen) == pytest.approx(
            _best_possible(scores, local, n, share)
        )
    # Within each group the order follows the score.
    for flag in (True, False):
        group = [scores[i] for i in chosen if local[i] is flag]
        assert group == sorted(group, reverse=True)


def test_policy_from_settings() -> None:
    policy = LocalSharePolicy.from_settings(
        {"fr": {"music": 0.4, "show": 0.25}, "BE": {"mixed": 0.3}}, {"BE": ["NL"]}
    )
    assert bool(policy)
    assert not LocalSharePolicy.from_settings({})
    music = policy.rule_for("FR", "track")
    assert music is not None
    assert (music.scope, music.share) == ("music", 0.4)
    assert music.languages == COUNTRY_LANGUAGES["FR"]
    assert music.is_local("FR", None)
    assert music.is_local("CA", "fr-CA")
    assert not music.is_local("US", "en")
    assert not music.is_local(None, None)
    show = policy.rule_for("FR", "show")
    assert show is not None
    assert show.share == 0.25
    assert policy.rule_for("FR", "episode") is None  # tv has no rule, only shows
    assert policy.rule_for("FR", "mixed") is None
    assert policy.rule_for("DE", "track") is None
    assert policy.rule_for(None, "track") is None
    belgian = policy.rule_for("BE", "mixed")
    assert belgian is not None
    assert belgian.languages == frozenset({"nl"})
    with pytest.raises(ValueError, match="must be in"):
        LocalSharePolicy.from_settings({"FR": {"music": 1.5}})
