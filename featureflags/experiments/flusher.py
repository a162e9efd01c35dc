"""The background thread that sends exposures and conversions to Redis and the ``EXPOSURE_HOOK``.

One daemon thread per process, started lazily by the first exposure (and again in
a child after ``fork``). Every ``EXPERIMENT_FLUSH_INTERVAL`` it sends the queued
exposures, then the conversions, in one pipelined round trip each. With
``SYNC_THREAD`` off (tests, scripts) call :func:`flush` yourself.
"""

from __future__ import annotations

import logging
import time
from collections import deque

from ..background import Periodic
from ..conf import flag_settings
from ..guardrails.flusher import client  # one Redis client per process for all batched counts
from . import exposures, goals, store

logger = logging.getLogger("featureflags.experiments")

_day = ""
# Exposures a failed flush could not send to Redis, retried without forwarding them to the hook again.
_retry: deque[tuple[str, str, str]] = deque(maxlen=1_000_000)


def today(now: float | None = None) -> str:
    return time.strftime("%Y%m%d", time.gmtime(time.time() if now is None else now))


def flush(now: float | None = None) -> tuple[int, int]:
    """Send what is queued now; returns (exposures, conversions) sent. Kept queued if Redis fails."""
    global _day
    now = time.time() if now is None else now
    day = today(now)
    if (_day and day != _day) or len(exposures.seen) > exposures.MAX_SEEN:
        exposures.seen.clear()  # a new day counts each unit again in its daily HyperLogLog
    _day = day
    batch = exposures.drain()
    conversions = exposures.drain(goals.queue)
    hook = flag_settings.EXPOSURE_HOOK
    if batch and hook is not None:
        _call_hook(hook, [exposures.Exposure(key, variant, unit, now) for key, variant, unit in batch])
    redis_client = client()
    if redis_client is None:
        return 0, 0
    batch = exposures.drain(_retry) + batch  # those a failed flush kept (the hook already has them)
    ttl = int(flag_settings.EXPERIMENT_DATA_DAYS) * 86400
    prefix = flag_settings.KEY_PREFIX
    try:
        sent = store.send_exposures(redis_client, prefix, batch, day, ttl)
    except Exception as exc:
        logger.warning("featureflags: exposures not sent, Redis failed (%s); kept for the next flush", exc)
        _retry.extend(batch)
        goals.queue.extendleft(reversed(conversions))
        return 0, 0
    if not conversions:
        return sent, 0
    try:
        store.send_conversions(redis_client, prefix, conversions, goals.running_experiments(), day, ttl)
    except Exception as exc:
        logger.warning("featureflags: conversions not sent, Redis failed (%s); kept for the next flush", exc)
        goals.queue.extendleft(reversed(conversions))
        return sent, 0
    return sent, len(conversions)


def _call_hook(hook, batch: list) -> None:
    if isinstance(hook, str):
        from ..conf import import_string

        hook = import_string(hook, "EXPOSURE_HOOK")
    try:
        hook(batch)
    except Exception:
        logger.exception("featureflags: the EXPOSURE_HOOK failed; %d exposures not forwarded", len(batch))


def stop() -> None:
    """Stop the thread (settings changed, tests); what is queued stays queued."""
    global _day
    _day = ""
    _worker.stop()


def _after_fork_in_child() -> None:
    exposures.seen.clear()
    exposures.queue.clear()  # the parent sends its own
    _retry.clear()
    goals.queue.clear()


_worker = Periodic(
    "featureflags-experiments", lambda: flag_settings.EXPERIMENT_FLUSH_INTERVAL, flush, _after_fork_in_child
)
running = _worker.running
ensure_started = _worker.ensure_started
