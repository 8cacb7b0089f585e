"""Frequency-cap and budget counters that stay right across server processes.

Every decision *reserves* before it serves: one atomic step checks the viewer's caps for the
line item and the campaign's total budget, daily budget and pacing allowance, and only if all
of them pass increments them all. Two processes (or two threads) can therefore never serve past
a cap or spend past a budget: whoever comes second sees the first one's reservation.

* ``RedisAdCounters``: one Lua script per reservation (``EVALSHA``), so the check and the
  increments are one atomic step in Redis (adtech.md §3.3). Several ``tastegraph serve``
  processes share it through ``TASTEGRAPH_REDIS_URL``.
* ``MemoryAdCounters``: the same semantics under a lock, for a single process (the demo).

Budget counters are seeded from the database the first time a process or a fresh Redis meets a
campaign (``Seed``: what the reports say was delivered), so a restart does not reset spend.
Money is in micros.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from threading import Lock
from typing import Any, Protocol, cast

from tastegraph.ads.capping import CapRule

DAY_TTL = 3 * 86_400


class Outcome(IntEnum):
    OK = 1
    CAPPED = 0
    BUDGET = -1
    """The total or the daily budget is spent."""
    NEED_SEED = -2
    """The counters do not know the campaign yet: call again with a ``Seed``."""
    PACED = -3
    """Ahead of the pacing allowance for this moment of the day."""


@dataclass(frozen=True, slots=True)
class Budget:
    campaign_id: int
    day: str
    """The UTC day, YYYYMMDD."""
    amount: int
    """Micros to reserve now: the price of one impression (CPM), 0 for CPC (spent on click)."""
    total_limit: int | None
    day_limit: int | None
    """The daily budget."""
    allowance: int | None
    """The pacing ceiling for this moment (<= the daily budget); None for no pacing."""


@dataclass(frozen=True, slots=True)
class Seed:
    total: int
    day: int


@dataclass(frozen=True, slots=True)
class Reservation:
    viewer: str | None
    caps: tuple[CapRule, ...]
    budget: Budget | None


@dataclass(frozen=True, slots=True)
class Reserved:
    outcome: Outcome
    day_spent: int = 0
    total_spent: int = 0


class AdCounters(Protocol):
    remote: bool
    """True when calls leave the process (Redis)."""

    def reserve(self, reservation: Reservation, seed: Seed | None = None) -> Reserved:
        """Check every cap and budget of the reservation and take them all, atomically."""

    def release(self, reservation: Reservation) -> None:
        """Give a reservation back (an OpenRTB loss notice)."""

    def charge(
        self,
        campaign_id: int,
        day: str,
        amount: int,
        total_limit: int | None,
        day_limit: int | None,
        seed: Seed | None = None,
    ) -> int | None:
        """Spend up to ``amount`` (a CPC click); returns what was charged, which the budgets
        may cut short, or None when a seed is needed."""

    def cap_counts(self, viewer: str, fields: Sequence[str]) -> list[int]:
        """The viewer's current counts in ``fields``, for filtering before the auction."""

    def day_spend(self, campaign_ids: Sequence[int], day: str) -> dict[int, int]:
        """What each campaign has reserved today (for pacing)."""

    def close(self) -> None: ...


def _over(spent: int, amount: int, limit: int | None) -> bool:
    if limit is None:
        return False
    if amount == 0:
        return spent >= limit
    return spent + amount > limit


class MemoryAdCounters:
    """Counters in this process, thread-safe. For one server process."""

    remote = False

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = Lock()
        self._caps: dict[str, tuple[float, dict[str, int]]] = {}
        """viewer -> (expires at, field -> count)"""
        self._total: dict[int, int] = {}
        self._day: dict[tuple[int, str], int] = {}
        self._calls = 0

    def reserve(self, reservation: Reservation, seed: Seed | None = None) -> Reserved:
        now = self.clock()
        with self._lock:
            fields: dict[str, int] = {}
            if reservation.caps and reservation.viewer is not None:
                expires, fields = self._caps.get(reservation.viewer, (0.0, {}))
                if expires <= now:
                    fields = {}
                for rule in reservation.caps:
                    if fields.get(rule.field, 0) >= rule.limit:
                        return Reserved(Outcome.CAPPED)
            budget = reservation.budget
            day_spent = total_spent = 0
            if budget is not None:
                known = self._known(budget.campaign_id, budget.day, seed)
                if not known:
                    return Reserved(Outcome.NEED_SEED)
                total_spent = self._total[budget.campaign_id]
                day_spent = self._day.get((budget.campaign_id, budget.day), 0)
                if _over(total_spent, budget.amount, budget.total_limit) or _over(
                    day_spent, budget.amount, budget.day_limit
                ):
                    return Reserved(Outcome.BUDGET, day_spent, total_spent)
                if _over(day_spent, budget.amount, budget.allowance):
                    return Reserved(Outcome.PACED, day_spent, total_spent)
            if reservation.caps and reservation.viewer is not None:
                for rule in reservation.caps:
                    fields[rule.field] = fields.get(rule.field, 0) + 1
                ttl = max(rule.ttl for rule in reservation.caps)
                old_expiry = self._caps.get(reservation.viewer, (0.0, {}))[0]
                self._caps[reservation.viewer] = (max(old_expiry, now + ttl), fields)
            if budget is not None and budget.amount:
                total_spent += budget.amount
                day_spent += budget.amount
                self._total[budget.campaign_id] = total_spent
                self._day[(budget.campaign_id, budget.day)] = day_spent
            self._calls += 1
            if self._calls % 10_000 == 0:
                self._prune(now)
            return Reserved(Outcome.OK, day_spent, total_spent)

    def _known(self, campaign_id: int, day: str, seed: Seed | None) -> bool:
        if campaign_id in self._total:
            return True
        if seed is None:
            return False
        self._total[campaign_id] = seed.total
        self._day[(campaign_id, day)] = seed.day
        return True

    def _prune(self, now: float) -> None:
        self._caps = {k: v for k, v in self._caps.items() if v[0] > now}
        # Days older than the newest two are of no use to anyone.
        days = sorted({day for _cid, day in self._day}, reverse=True)[:2]
        self._day = {k: v for k, v in self._day.items() if k[1] in days}

    def release(self, reservation: Reservation) -> None:
        with self._lock:
            if reservation.caps and reservation.viewer in self._caps:
                _expiry, fields = self._caps[reservation.viewer]
                for rule in reservation.caps:
                    if fields.get(rule.field, 0) > 0:
                        fields[rule.field] -= 1
            budget = reservation.budget
            if budget is not None and budget.amount and budget.campaign_id in self._total:
                self._total[budget.campaign_id] -= budget.amount
                key = (budget.campaign_id, budget.day)
                self._day[key] = self._day.get(key, 0) - budget.amount

    def charge(
        self,
        campaign_id: int,
        day: str,
        amount: int,
        total_limit: int | None,
        day_limit: int | None,
        seed: Seed | None = None,
    ) -> int | None:
        with self._lock:
            if not self._known(campaign_id, day, seed):
                return None
            total = self._total[campaign_id]
            spent_day = self._day.get((campaign_id, day), 0)
            charged = amount
            if total_limit is not None:
                charged = min(charged, max(0, total_limit - total))
            if day_limit is not None:
                charged = min(charged, max(0, day_limit - spent_day))
            self._total[campaign_id] = total + charged
            self._day[(campaign_id, day)] = spent_day + charged
            return charged

    def cap_counts(self, viewer: str, fields: Sequence[str]) -> list[int]:
        now = self.clock()
        with self._lock:
            expires, counts = self._caps.get(viewer, (0.0, {}))
            if expires <= now:
                return [0] * len(fields)
            return [counts.get(field, 0) for field in fields]

    def day_spend(self, campaign_ids: Sequence[int], day: str) -> dict[int, int]:
        with self._lock:
            return {cid: self._day[(cid, day)] for cid in campaign_ids if (cid, day) in self._day}

    def close(self) -> None:
        return None


# KEYS: 1 the viewer's cap hash, 2 the campaign's total spend, 3 its spend today.
# ARGV: ncaps, (field, limit) * ncaps, cap_ttl, has_budget,
#       amount, total_limit, day_limit, allowance, seed_total, seed_day, day_ttl
# Limits of -1 mean "none"; a seed of -1 means "unknown". Amounts stay strings on the way to
# INCRBY so that no number goes through Lua's doubles and back.
_RESERVE = """
local ncaps = tonumber(ARGV[1])
local i = 2
for c = 1, ncaps do
  local n = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if n >= tonumber(ARGV[i + 1]) then return {0, 0, 0} end
  i = i + 2
end
local cap_ttl = tonumber(ARGV[i])
local has_budget = tonumber(ARGV[i + 1])
i = i + 2
local day_spent, total_spent, amount = 0, 0, 0
if has_budget == 1 then
  amount = tonumber(ARGV[i])
  local function over(spent, limit)
    if limit < 0 then return false end
    if amount == 0 then return spent >= limit end
    return spent + amount > limit
  end
  local total = redis.call('GET', KEYS[2])
  if not total then
    if tonumber(ARGV[i + 4]) < 0 then return {-2, 0, 0} end
    redis.call('SET', KEYS[2], ARGV[i + 4])
    redis.call('SET', KEYS[3], ARGV[i + 5], 'EX', ARGV[i + 6])
    total = ARGV[i + 4]
  end
  total_spent = tonumber(total)
  day_spent = tonumber(redis.call('GET', KEYS[3]) or '0')
  if over(total_spent, tonumber(ARGV[i + 1])) or over(day_spent, tonumber(ARGV[i + 2])) then
    return {-1, day_spent, total_spent}
  end
  if over(day_spent, tonumber(ARGV[i + 3])) then return {-3, day_spent, total_spent} end
end
if ncaps > 0 then
  for c = 0, ncaps - 1 do redis.call('HINCRBY', KEYS[1], ARGV[2 + 2 * c], 1) end
  if redis.call('TTL', KEYS[1]) < cap_ttl then redis.call('EXPIRE', KEYS[1], cap_ttl) end
end
if has_budget == 1 and amount > 0 then
  total_spent = redis.call('INCRBY', KEYS[2], ARGV[i])
  day_spent = redis.call('INCRBY', KEYS[3], ARGV[i])
  redis.call('EXPIRE', KEYS[3], ARGV[i + 6])
end
return {1, day_spent, total_spent}
"""

# KEYS: total, day. ARGV: amount, total_limit, day_limit, seed_total, seed_day, day_ttl.
_CHARGE = """
local total = redis.call('GET', KEYS[1])
if not total then
  if tonumber(ARGV[4]) < 0 then return -1 end
  redis.call('SET', KEYS[1], ARGV[4])
  redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[6])
  total = ARGV[4]
end
local charged = tonumber(ARGV[1])
local day = tonumber(redis.call('GET', KEYS[2]) or '0')
local total_limit, day_limit = tonumber(ARGV[2]), tonumber(ARGV[3])
if total_limit >= 0 then
  charged = math.min(charged, math.max(0, total_limit - tonumber(total)))
end
if day_limit >= 0 then charged = math.min(charged, math.max(0, day_limit - day)) end
if charged > 0 then
  redis.call('INCRBY', KEYS[1], charged)
  redis.call('INCRBY', KEYS[2], charged)
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
return charged
"""

# KEYS: cap hash, total, day. ARGV: ncaps, fields..., amount.
_RELEASE = """
local ncaps = tonumber(ARGV[1])
for c = 1, ncaps do
  local n = tonumber(redis.call('HGET', KEYS[1], ARGV[1 + c]) or '0')
  if n > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1 + c], -1) end
end
local amount = ARGV[ncaps + 2]
if tonumber(amount) > 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('DECRBY', KEYS[2], amount)
  redis.call('DECRBY', KEYS[3], amount)
end
return 1
"""


def _limit(value: int | None) -> int:
    return -1 if value is None else value


class RedisAdCounters:
    """Counters in Redis, shared by every server process that points at it."""

    remote = True

    def __init__(self, url: str, prefix: str = "tastegraph:ads") -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix
        self._reserve = self.redis.register_script(_RESERVE)
        self._charge = self.redis.register_script(_CHARGE)
        self._release = self.redis.register_script(_RELEASE)

    def _cap_key(self, viewer: str | None) -> str:
        return f"{self.prefix}:fc:{viewer or '-'}"

    def _total_key(self, campaign_id: int) -> str:
        return f"{self.prefix}:spend:{campaign_id}"

    def _day_key(self, campaign_id: int, day: str) -> str:
        return f"{self.prefix}:spend:{campaign_id}:{day}"

    def reserve(self, reservation: Reservation, seed: Seed | None = None) -> Reserved:
        caps = reservation.caps if reservation.viewer is not None else ()
        argv: list[Any] = [len(caps)]
        for rule in caps:
            argv += [rule.field, rule.limit]
        argv.append(max((rule.ttl for rule in caps), default=0))
        budget = reservation.budget
        if budget is None:
            argv.append(0)
            keys = [self._cap_key(reservation.viewer), "-", "-"]
        else:
            argv += [
                1,
                budget.amount,
                _limit(budget.total_limit),
                _limit(budget.day_limit),
                _limit(budget.allowance),
                -1 if seed is None else seed.total,
                -1 if seed is None else seed.day,
                DAY_TTL,
            ]
            keys = [
                self._cap_key(reservation.viewer),
                self._total_key(budget.campaign_id),
                self._day_key(budget.campaign_id, budget.day),
            ]
        outcome, day_spent, total_spent = self._reserve(keys=keys, args=argv)
        return Reserved(Outcome(int(outcome)), int(day_spent), int(total_spent))

    def release(self, reservation: Reservation) -> None:
        budget = reservation.budget
        caps = reservation.caps if reservation.viewer is not None else ()
        keys = [
            self._cap_key(reservation.viewer),
            self._total_key(budget.campaign_id) if budget else "-",
            self._day_key(budget.campaign_id, budget.day) if budget else "-",
        ]
        argv: list[Any] = [
            len(caps),
            *(rule.field for rule in caps),
            budget.amount if budget else 0,
        ]
        self._release(keys=keys, args=argv)

    def charge(
        self,
        campaign_id: int,
        day: str,
        amount: int,
        total_limit: int | None,
        day_limit: int | None,
        seed: Seed | None = None,
    ) -> int | None:
        charged = self._charge(
            keys=[self._total_key(campaign_id), self._day_key(campaign_id, day)],
            args=[
                amount,
                _limit(total_limit),
                _limit(day_limit),
                -1 if seed is None else seed.total,
                -1 if seed is None else seed.day,
                DAY_TTL,
            ],
        )
        return None if int(charged) < 0 else int(charged)

    def cap_counts(self, viewer: str, fields: Sequence[str]) -> list[int]:
        if not fields:
            return []
        values = cast(list[Any], self.redis.hmget(self._cap_key(viewer), list(fields)))
        return [int(v) if v is not None else 0 for v in values]

    def day_spend(self, campaign_ids: Sequence[int], day: str) -> dict[int, int]:
        if not campaign_ids:
            return {}
        values = cast(list[Any], self.redis.mget([self._day_key(cid, day) for cid in campaign_ids]))
        return {cid: int(v) for cid, v in zip(campaign_ids, values, strict=True) if v is not None}

    def close(self) -> None:
        self.redis.close()


def make_counters(redis_url: str, prefix: str) -> AdCounters:
    if redis_url:
        return RedisAdCounters(redis_url, prefix)
    return MemoryAdCounters()
