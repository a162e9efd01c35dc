"""Sliding-window counts of errors and slow calls, shared by every process through Redis.

Calls only add to an in-process batch; ``flush()`` (the flusher thread, every
``GUARDRAIL_FLUSH_INTERVAL``) sends each batch with one atomic script per flag,
all pipelined in one round trip. The script counts in time buckets, drops those
older than the window, and when the total exceeds the threshold it elects the
one caller that trips the guardrail (``SET NX``) and clears the window.

Redis layout under the prefix ``P``: ``P:guard:<kind>:<key>`` (hash, bucket -> count),
``P:guard:<kind>:<key>:trip`` (the election, lives ``ELECTION_SECONDS``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from .limits import Limits

logger = logging.getLogger("featureflags.guardrails")

ERRORS = "errors"
SLOW = "slow"
# A tripped flag is switched off within a second; a second election in this time is a duplicate.
ELECTION_SECONDS = 10
# At most this many buckets per window, whatever its length.
MAX_BUCKETS = 300

_WINDOW = """
local now = tonumber(redis.call('TIME')[1])
local n = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local width = math.max(1, math.ceil(window / tonumber(ARGV[4])))
local bucket = math.floor(now / width)
if n > 0 then redis.call('HINCRBY', KEYS[1], bucket, n) end
local total = 0
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  if (tonumber(flat[i]) + 1) * width <= now - window then
    redis.call('HDEL', KEYS[1], flat[i])
  else
    total = total + tonumber(flat[i + 1])
  end
end
redis.call('EXPIRE', KEYS[1], window + 60)
if total > threshold and redis.call('SET', KEYS[2], now, 'NX', 'EX', tonumber(ARGV[5])) then
  redis.call('DEL', KEYS[1])
  return {total, 1}
end
return {total, 0}
"""


@dataclass(frozen=True)
class Trip:
    """A guardrail that fired: ``count`` events of ``kind`` within ``window_seconds`` exceeded ``threshold``."""

    key: str
    kind: str
    count: int
    threshold: int
    window_seconds: int
    baseline: float | None = None


_pending: dict[tuple[str, str], int] = {}
_lock = threading.Lock()
_local: dict[tuple[str, str], deque] = {}  # without Redis: (kind, key) -> deque of (time, n)
_redis_failing = False


def add(kind: str, key: str, n: int = 1) -> None:
    """Count ``n`` events against ``key``; sent with the next flush."""
    with _lock:
        _pending[(kind, key)] = _pending.get((kind, key), 0) + n


def pending() -> dict[tuple[str, str], int]:
    return dict(_pending)


def threshold_of(kind: str, limits: Limits) -> int | None:
    return limits.error_threshold if kind == ERRORS else limits.performance_threshold


def flush(client, prefix: str, table: dict[str, Limits]) -> list[Trip]:
    """Send the batch; returns the trips this process was elected to carry out."""
    global _pending
    with _lock:
        batch, _pending = _pending, {}
    work = []
    for (kind, key), n in batch.items():
        limits = table.get(key)
        threshold = None if limits is None else threshold_of(kind, limits)
        if threshold is not None:
            work.append((kind, key, n, limits, threshold))
    if not work:
        return []
    if client is None:
        results = [
            _local_window(kind, key, n, limits.window_seconds, threshold) for kind, key, n, limits, threshold in work
        ]
    else:
        global _redis_failing
        try:
            results = _redis_windows(client, prefix, work)
            _redis_failing = False
        except Exception as exc:
            if not _redis_failing:  # once per outage, not every flush
                logger.warning("featureflags: guardrail counts not sent, Redis failed (%s); kept for later", exc)
            _redis_failing = True
            with _lock:  # keep them for the next attempt
                for kind, key, n, _limits, _threshold in work:
                    _pending[(kind, key)] = _pending.get((kind, key), 0) + n
            return []
    trips = []
    for (kind, key, _n, limits, threshold), (total, elected) in zip(work, results):
        if elected:
            baseline = limits.performance_baseline if kind == SLOW else None
            trips.append(Trip(key, kind, int(total), threshold, limits.window_seconds, baseline))
    return trips


def retry(client, prefix: str, trip: Trip) -> None:
    """A trip could not be carried out (database down): give up the election and count again."""
    if client is not None:
        try:
            client.delete(election_key(prefix, trip.kind, trip.key))
        except Exception:
            logger.warning("featureflags: could not release the guardrail election of %r", trip.key)
    add(trip.kind, trip.key, trip.count)


def window_key(prefix: str, kind: str, key: str) -> str:
    return f"{prefix}:guard:{kind}:{key}"


def election_key(prefix: str, kind: str, key: str) -> str:
    return window_key(prefix, kind, key) + ":trip"


def _redis_windows(client, prefix: str, work: list) -> list[tuple[int, int]]:
    script = client.register_script(_WINDOW)
    with client.pipeline(transaction=False) as pipe:
        for kind, key, n, limits, threshold in work:
            script(
                keys=[window_key(prefix, kind, key), election_key(prefix, kind, key)],
                args=[n, limits.window_seconds, threshold, MAX_BUCKETS, ELECTION_SECONDS],
                client=pipe,
            )
        return [(int(total), int(elected)) for total, elected in pipe.execute()]


def _local_window(kind: str, key: str, n: int, window: int, threshold: int) -> tuple[int, int]:
    """The same window in this process only (no Redis configured)."""
    now = time.monotonic()
    with _lock:
        events = _local.setdefault((kind, key), deque())
        events.append((now, n))
        while events and events[0][0] <= now - window:
            events.popleft()
        total = sum(count for _at, count in events)
        if total > threshold:
            events.clear()
            return total, 1
        return total, 0


def reset() -> None:
    global _pending, _redis_failing
    with _lock:
        _pending = {}
        _local.clear()
        _redis_failing = False
