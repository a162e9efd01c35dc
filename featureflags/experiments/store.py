"""Experiment data in Redis: first exposures, daily unique counts, conversions.

Layout under the prefix ``P`` for flag ``K`` (fields joined by ``\\x1f``):

- ``P:exp:K:units``: hash, unit -> ``variant\\x1fday`` of its first exposure (exact, the attribution);
- ``P:exp:K:counts``: hash of counters: ``e|variant`` unique units exposed, ``e|variant|day`` first
  exposed that day, ``d|day`` days with exposures, ``c|goal|variant`` unique converted units,
  ``c|goal|variant|day``, ``n|goal|variant`` conversion events, ``s|goal|variant`` sum of values,
  ``q|goal|variant`` sum of squares of each unit's total value (Welch's t-test needs it);
- ``P:exp:K:seen:day:variant``: HyperLogLog of the units exposed that day;
- ``P:exp:K:goal:G``: hash, unit -> its total value for goal ``G`` (present once converted).

Every key expires ``EXPERIMENT_DATA_DAYS`` after its last write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

SEP = "\x1f"

# KEYS: units, counts, the day's HyperLogLog of one variant; ARGV: variant, day, ttl, then the units.
_EXPOSE = """
local variant, day, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local first = variant .. '\\31' .. day
local new = 0
for i = 4, #ARGV do
  if redis.call('HSETNX', KEYS[1], ARGV[i], first) == 1 then new = new + 1 end
end
redis.call('PFADD', KEYS[3], unpack(ARGV, 4))
if new > 0 then
  redis.call('HINCRBY', KEYS[2], 'e\\31' .. variant, new)
  redis.call('HINCRBY', KEYS[2], 'e\\31' .. variant .. '\\31' .. day, new)
end
redis.call('HSET', KEYS[2], 'd\\31' .. day, 1)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
return new
"""
# Units per script call: keeps each call short (Redis runs one script at a time) and within unpack's limit.
EXPOSE_CHUNK = 500

# KEYS: three per running experiment (units, counts, goal); ARGV: unit, goal, value or '', day, ttl.
_CONVERT = """
local unit, goal, value, day, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local attributed = 0
for i = 1, #KEYS, 3 do
  local first = redis.call('HGET', KEYS[i], unit)
  if first then
    local variant = string.match(first, '^(.*)\\31')
    local counts, totals = KEYS[i + 1], KEYS[i + 2]
    local tail = '\\31' .. goal .. '\\31' .. variant
    local old = redis.call('HGET', totals, unit)
    if not old then
      redis.call('HINCRBY', counts, 'c' .. tail, 1)
      redis.call('HINCRBY', counts, 'c' .. tail .. '\\31' .. day, 1)
      old = '0'
    end
    redis.call('HINCRBY', counts, 'n' .. tail, 1)
    if value ~= '' then
      local before = tonumber(old)
      local after = before + tonumber(value)
      redis.call('HSET', totals, unit, string.format('%.17g', after))
      redis.call('HINCRBYFLOAT', counts, 's' .. tail, value)
      redis.call('HINCRBYFLOAT', counts, 'q' .. tail, string.format('%.17g', after * after - before * before))
    else
      redis.call('HSETNX', totals, unit, old)
    end
    redis.call('EXPIRE', counts, ttl)
    redis.call('EXPIRE', totals, ttl)
    attributed = attributed + 1
  end
end
return attributed
"""


def units_key(prefix: str, key: str) -> str:
    return f"{prefix}:exp:{key}:units"


def counts_key(prefix: str, key: str) -> str:
    return f"{prefix}:exp:{key}:counts"


def seen_key(prefix: str, key: str, day: str, variant: str) -> str:
    return f"{prefix}:exp:{key}:seen:{day}:{variant}"


def goal_key(prefix: str, key: str, goal: str) -> str:
    return f"{prefix}:exp:{key}:goal:{goal}"


def send_exposures(client, prefix: str, exposures: Iterable[tuple[str, str, str]], day: str, ttl: int) -> int:
    """Record ``(flag, variant, unit)`` exposures in one pipelined round trip; returns how many were sent."""
    groups: dict[tuple[str, str], list[str]] = {}
    for key, variant, unit in exposures:
        groups.setdefault((key, variant), []).append(unit)
    if not groups:
        return 0
    script = client.register_script(_EXPOSE)
    sent = 0
    with client.pipeline(transaction=False) as pipe:
        for (key, variant), units in groups.items():
            keys = [units_key(prefix, key), counts_key(prefix, key), seen_key(prefix, key, day, variant)]
            for start in range(0, len(units), EXPOSE_CHUNK):
                chunk = units[start : start + EXPOSE_CHUNK]
                script(keys=keys, args=[variant, day, ttl, *chunk], client=pipe)
                sent += len(chunk)
        pipe.execute()
    return sent


def send_conversions(
    client, prefix: str, conversions: Iterable[tuple[str, str, str]], experiments: Iterable[str], day: str, ttl: int
) -> list[int]:
    """Attribute ``(goal, unit, value or "")`` conversions to the running ``experiments`` the unit was exposed to.

    Returns, per conversion, how many experiments it counted in.
    """
    script = client.register_script(_CONVERT)
    experiments = list(experiments)
    batch = list(conversions)
    if not batch or not experiments:
        return [0] * len(batch)
    with client.pipeline(transaction=False) as pipe:
        for goal, unit, value in batch:
            keys = []
            for key in experiments:
                keys += [units_key(prefix, key), counts_key(prefix, key), goal_key(prefix, key, goal)]
            script(keys=keys, args=[unit, goal, value, day, ttl], client=pipe)
        return [int(n) for n in pipe.execute()]


# -- reading ----------------------------------------------------------------------


@dataclass
class GoalCounts:
    """One goal in one variant: unique converted units, events, and each unit's total value summed (and squared)."""

    conversions: int = 0
    events: int = 0
    value_sum: float = 0.0
    value_sumsq: float = 0.0
    by_day: dict[str, int] = field(default_factory=dict)


@dataclass
class VariantCounts:
    exposures: int = 0
    new_by_day: dict[str, int] = field(default_factory=dict)
    seen_by_day: dict[str, int] = field(default_factory=dict)  # HyperLogLog estimates
    goals: dict[str, GoalCounts] = field(default_factory=dict)


@dataclass
class ExperimentCounts:
    key: str
    days: list[str]
    variants: dict[str, VariantCounts]

    @property
    def goals(self) -> list[str]:
        return sorted({goal for counts in self.variants.values() for goal in counts.goals})


def read_counts(client, prefix: str, key: str) -> ExperimentCounts:
    """Everything the results page needs, in two round trips."""
    raw = client.hgetall(counts_key(prefix, key))
    variants: dict[str, VariantCounts] = {}
    days: set[str] = set()
    for raw_field, raw_value in raw.items():
        parts = raw_field.decode().split(SEP)
        value = raw_value.decode()
        kind = parts[0]
        if kind == "d":
            days.add(parts[1])
        elif kind == "e":
            counts = variants.setdefault(parts[1], VariantCounts())
            if len(parts) == 2:
                counts.exposures = int(value)
            else:
                counts.new_by_day[parts[2]] = int(value)
        elif kind in "cnsq" and len(parts) >= 3:
            goal = variants.setdefault(parts[2], VariantCounts()).goals.setdefault(parts[1], GoalCounts())
            if kind == "c":
                if len(parts) == 4:
                    goal.by_day[parts[3]] = int(value)
                else:
                    goal.conversions = int(value)
            elif kind == "n":
                goal.events = int(value)
            elif kind == "s":
                goal.value_sum = float(value)
            else:
                goal.value_sumsq = float(value)
    ordered_days = sorted(days)
    pairs = [(day, name) for day in ordered_days for name in variants]
    if pairs:
        with client.pipeline(transaction=False) as pipe:
            for day, name in pairs:
                pipe.pfcount(seen_key(prefix, key, day, name))
            for (day, name), n in zip(pairs, pipe.execute()):
                variants[name].seen_by_day[day] = int(n)
    return ExperimentCounts(key, ordered_days, variants)


def iter_exposures(client, prefix: str, key: str) -> Iterator[tuple[str, str, str]]:
    """``(unit, variant, first day)`` of every unit exposed to ``key``."""
    for unit, value in client.hscan_iter(units_key(prefix, key), count=1000):
        variant, _, day = value.decode().rpartition(SEP)
        yield unit.decode(), variant, day


def iter_conversions(client, prefix: str, key: str, goals: Iterable[str]) -> Iterator[tuple[str, str, str, str]]:
    """``(goal, unit, variant, total value)`` of every converted unit."""
    units = units_key(prefix, key)
    for goal in goals:
        page: list[tuple[bytes, bytes]] = []
        for item in client.hscan_iter(goal_key(prefix, key, goal), count=1000):
            page.append(item)
            if len(page) == 1000:
                yield from _with_variants(client, units, goal, page)
                page = []
        yield from _with_variants(client, units, goal, page)


def _with_variants(client, units: str, goal: str, page: list) -> Iterator[tuple[str, str, str, str]]:
    if not page:
        return
    firsts = client.hmget(units, [unit for unit, _ in page])
    for (unit, total), first in zip(page, firsts):
        variant = first.decode().rpartition(SEP)[0] if first else ""
        yield goal, unit.decode(), variant, total.decode()
