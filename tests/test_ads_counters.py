"""Cap and budget counters (in memory and in Redis), pacing arithmetic, TC strings, tokens.

No database here: these are the pieces the decision engine is built from.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tastegraph.ads import pacing
from tastegraph.ads.capping import cap_rules
from tastegraph.ads.counters import (
    AdCounters,
    Budget,
    FirstReserved,
    MemoryAdCounters,
    Outcome,
    RedisAdCounters,
    Reservation,
    Seed,
)
from tastegraph.ads.errors import AdTokenInvalid
from tastegraph.ads.openrtb import encode_tc_string, tcf_purposes
from tastegraph.ads.taxonomy import categories_for, country_from_alpha3
from tastegraph.ads.tokens import AdToken, TokenSigner
from tastegraph.catalog.kinds import Kind
from tests.ads_helpers import REDIS_URL, redis_prefix

T0 = 1_795_000_000  # a UNIX second


@pytest.fixture(params=["memory", "redis"])
def counters(request: pytest.FixtureRequest) -> Iterator[AdCounters]:
    if request.param == "memory":
        yield MemoryAdCounters()
        return
    with redis_prefix() as prefix:
        store = RedisAdCounters(REDIS_URL, prefix)
        yield store
        store.close()


def _budget(amount: int, total: int | None = 10_000, **limits: int | None) -> Budget:
    return Budget(
        campaign_id=7,
        day="20261125",
        amount=amount,
        total_limit=total,
        day_limit=limits.get("day_limit"),
        allowance=limits.get("allowance"),
    )


def test_caps_hold_per_window(counters: AdCounters) -> None:
    rules = cap_rules(1, [(2, 3600), (3, 86_400)], T0)
    hour_later = cap_rules(1, [(2, 3600), (3, 86_400)], T0 + 3600)
    results = [counters.reserve(Reservation("v", rules, None)).outcome for _ in range(3)]
    assert results == [Outcome.OK, Outcome.OK, Outcome.CAPPED]
    assert counters.reserve(Reservation("w", rules, None)).outcome is Outcome.OK
    assert counters.reserve(Reservation("v", hour_later, None)).outcome is Outcome.OK
    assert counters.reserve(Reservation("v", hour_later, None)).outcome is Outcome.CAPPED
    assert counters.cap_counts("v", [r.field for r in hour_later]) == [1, 3]
    other = cap_rules(2, [(2, 3600)], T0)  # another line item: counted apart
    assert counters.reserve(Reservation("v", other, None)).outcome is Outcome.OK


def test_budgets_pacing_seeds_and_charges(counters: AdCounters) -> None:
    budget = _budget(4_000, total=10_000)
    assert counters.reserve(Reservation(None, (), budget)).outcome is Outcome.NEED_SEED
    first = counters.reserve(Reservation(None, (), budget), Seed(total=1_000, day=1_000))
    assert (first.outcome, first.day_spent, first.total_spent) == (Outcome.OK, 5_000, 5_000)
    assert counters.reserve(Reservation(None, (), budget)).outcome is Outcome.OK
    # 9,000 spent of 10,000: another 4,000 would overspend.
    assert counters.reserve(Reservation(None, (), budget)).outcome is Outcome.BUDGET
    assert counters.day_spend([7, 8], "20261125") == {7: 9_000}
    # A CPC click is charged only up to what is left.
    assert counters.charge(7, "20261125", 5_000, 10_000, None) == 1_000
    assert counters.charge(7, "20261125", 5_000, 10_000, None) == 0
    # CPC decisions reserve nothing but stop once the budget is spent.
    assert counters.reserve(Reservation(None, (), _budget(0))).outcome is Outcome.BUDGET


def test_pacing_allowance_and_daily_limit(counters: AdCounters) -> None:
    paced = _budget(1_000, total=None, day_limit=5_000, allowance=2_000)
    seed = Seed(0, 0)
    outcomes = [counters.reserve(Reservation(None, (), paced), seed).outcome for _ in range(3)]
    assert outcomes == [Outcome.OK, Outcome.OK, Outcome.PACED]
    later = _budget(1_000, total=None, day_limit=5_000, allowance=9_000)
    outcomes = [counters.reserve(Reservation(None, (), later)).outcome for _ in range(4)]
    assert outcomes == [Outcome.OK, Outcome.OK, Outcome.OK, Outcome.BUDGET]


def test_a_refused_reservation_takes_nothing(counters: AdCounters) -> None:
    rules = cap_rules(3, [(5, 3600)], T0)
    budget = _budget(6_000, total=10_000)
    seed = Seed(0, 0)
    assert counters.reserve(Reservation("v", rules, budget), seed).outcome is Outcome.OK
    assert counters.reserve(Reservation("v", rules, budget)).outcome is Outcome.BUDGET
    assert counters.cap_counts("v", [rules[0].field]) == [1]  # the cap was not taken
    counters.release(Reservation("v", rules, budget))  # a lost bid gives everything back
    assert counters.cap_counts("v", [rules[0].field]) == [0]
    assert counters.reserve(Reservation("v", rules, budget)).outcome is Outcome.OK


def test_reserve_first_takes_the_first_that_passes(counters: AdCounters) -> None:
    """One call (one Redis round trip) walks the ranked candidates: a capped one, one whose
    campaign is out of budget, then one that passes and is the only one reserved."""
    capped = cap_rules(1, [(1, 3600)], T0)
    assert counters.reserve(Reservation("v", capped, None)).outcome is Outcome.OK
    broke = Budget(8, "20261125", 1_000, 1_000, None, None)
    rich = Budget(9, "20261125", 1_000, 50_000, None, None)
    seeds = {8: Seed(1_000, 0), 9: Seed(0, 0)}
    rules = cap_rules(2, [(3, 3600)], T0)
    candidates = [
        Reservation("v", capped, rich),
        Reservation("v", (), broke),
        Reservation("v", rules, rich),
        Reservation("v", rules, rich),
    ]
    result = counters.reserve_first(candidates, seeds)
    assert result.winner == 2
    assert [r.outcome for r in result.tried] == [Outcome.CAPPED, Outcome.BUDGET, Outcome.OK]
    assert result.tried[2].total_spent == 1_000
    assert counters.cap_counts("v", [rules[0].field, capped[0].field]) == [1, 1]
    assert counters.day_spend([8, 9], "20261125") == {8: 0, 9: 1_000}
    # Nobody passes: nothing is taken.
    nobody = counters.reserve_first(candidates[:2])
    assert nobody == FirstReserved(-1, nobody.tried)
    assert len(nobody.tried) == 2
    # A campaign never seen stops the walk, so a later candidate cannot jump ahead of it.
    unknown = Budget(10, "20261125", 1_000, 5_000, None, None)
    stop = counters.reserve_first([Reservation("v", (), unknown), candidates[2]])
    assert stop.winner == -1
    assert [r.outcome for r in stop.tried] == [Outcome.NEED_SEED]
    seeded = counters.reserve_first([Reservation("v", (), unknown)], {10: Seed(0, 0)})
    assert seeded.winner == 0


def test_reserve_first_on_an_event_loop(counters: AdCounters) -> None:
    """The asyncio path (the decision endpoints) reserves exactly like the blocking one."""
    rules = cap_rules(5, [(2, 3600)], T0)
    budget = Budget(11, "20261125", 1_000, 10_000, None, None)

    async def run() -> list[int]:
        try:
            winners = []
            for _ in range(4):
                result = await counters.reserve_first_async(
                    [Reservation("w", rules, budget)], {11: Seed(0, 0)}
                )
                winners.append(result.winner)
            return winners
        finally:
            await counters.aclose()

    assert asyncio.run(run()) == [0, 0, -1, -1]
    assert counters.cap_counts("w", [rules[0].field]) == [2]
    assert counters.day_spend([11], "20261125") == {11: 2_000}

    # Concurrent decisions on one loop (pipelined together in Redis) still take exactly the
    # cap of each viewer and exactly the budget.
    shared = Budget(12, "20261125", 1_000, 30_000, None, None)

    async def race() -> list[int]:
        try:
            results = await asyncio.gather(
                *(
                    counters.reserve_first_async(
                        [Reservation(f"x{n % 20}", rules, shared)], {12: Seed(0, 0)}
                    )
                    for n in range(100)
                )
            )
            return [result.winner for result in results]
        finally:
            await counters.aclose()

    assert asyncio.run(race()).count(0) == 30
    assert counters.day_spend([12], "20261125") == {12: 30_000}
    assert sum(counters.cap_counts(f"x{n}", [rules[0].field])[0] for n in range(20)) == 30


def test_concurrent_reservations_never_overshoot(counters: AdCounters) -> None:
    """Eight threads race for a cap of 50 per viewer and a budget of 120 impressions."""
    rules = cap_rules(4, [(50, 86_400)], T0)
    budget = _budget(1_000, total=120_000)
    counters.reserve(Reservation(None, (), _budget(0, total=120_000)), Seed(0, 0))
    wins: list[int] = []
    lock = threading.Lock()

    def worker(viewer: str) -> None:
        mine = 0
        for _ in range(60):
            if counters.reserve(Reservation(viewer, rules, budget)).outcome is Outcome.OK:
                mine += 1
        with lock:
            wins.append(mine)

    threads = [threading.Thread(target=worker, args=(f"v{n % 4}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(wins) == 120  # the budget, exactly
    counts = [counters.cap_counts(f"v{n}", [rules[0].field])[0] for n in range(4)]
    assert all(count <= 50 for count in counts)
    assert sum(counts) == 120


def test_elapsed_fraction_and_throttle() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    six = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert pacing.elapsed_fraction(six, start, None) == 0.25
    # A flight that starts at 04:00 today and ends at 08:00: half of it has passed at 06:00.
    assert pacing.elapsed_fraction(
        six, datetime(2026, 11, 25, 4, tzinfo=UTC), datetime(2026, 11, 25, 8, tzinfo=UTC)
    ) == pytest.approx(0.5)
    assert pacing.allowance(24_000, 0.25) == 7_000
    assert pacing.allowance(24_000, 0.99) == 24_000
    assert pacing.throttle_probability(5_000, 24_000, 0.25) == 1.0
    assert pacing.throttle_probability(6_500, 24_000, 0.25) == pytest.approx(0.5)
    assert pacing.throttle_probability(7_000, 24_000, 0.25) == 0.0
    assert pacing.day_key(six) == "20261125"


def test_tc_strings() -> None:
    assert tcf_purposes(encode_tc_string({1, 2, 3, 4, 7})) == {1, 2, 3, 4, 7}
    assert tcf_purposes(encode_tc_string({3, 4}, policy_version=2)) == frozenset()
    # The TCF specification's own example: version 2, policy 2, no purposes.
    example = "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA"
    assert tcf_purposes(example) == frozenset()
    assert tcf_purposes("not base64!") == frozenset()
    assert tcf_purposes(None) == frozenset()


def test_tokens_and_vocabularies() -> None:
    signer = TokenSigner("secret")
    token = AdToken(
        token_id=signer.new_id(),
        issued_at=T0,
        line_item_id=1,
        creative_id=2,
        campaign_id=3,
        advertiser_id=4,
        placement_id=5,
        price_micros=2_500_000,
        cpc=False,
        viewer=signer.viewer_key("u:42"),
        segment_id=0,
        country="DE",
        mode="network",
        day="20261125",
    )
    text = signer.sign(token)
    assert signer.verify(text) == token
    assert token.impression_cost == 2_500
    with pytest.raises(AdTokenInvalid):
        TokenSigner("another secret").verify(text)
    with pytest.raises(AdTokenInvalid):
        signer.verify(text.replace(".", "x."))
    assert signer.viewer_key("u:42") != signer.viewer_key("a:42")
    assert "42" not in signer.viewer_key("u:42")

    assert categories_for(Kind.MATCH, ["Football", "rainy"]) == {"483", "533"}
    assert categories_for(Kind.EPISODE, ["Drama"]) == {"JLBCU7", "640", "647"}
    assert categories_for(Kind.STORY, ["politics"]) == {"1020", "386"}
    assert country_from_alpha3("FRA") == "FR"
    assert country_from_alpha3("DE") == "DE"
    assert country_from_alpha3("XYZ") is None
