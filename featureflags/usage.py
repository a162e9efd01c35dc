"""How often each flag is evaluated, and when it last was.

A check adds one to its flag's in-process cell (no lock, no I/O); the flusher thread
sends the counts to Redis every ``USAGE_FLUSH_INTERVAL`` in one pipelined round
trip. Redis keeps, under the prefix ``P``: ``P:usage:count`` (hash, key -> total),
``P:usage:last`` (hash, key -> unix time of the last flush that saw it), and
``P:usage:day:<YYYYMMDD>`` (hash, key -> count that day, kept 40 days).
Counts are approximate by design: two threads racing may lose an increment.

    from featureflags import usage
    usage.get_usage(["new_ui"])["new_ui"].last_evaluated
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.signals import setting_changed

from . import id_checks
from .conf import flag_settings
from .guardrails.attribution import note

logger = logging.getLogger("featureflags")

DAY_KEY_TTL = 40 * 86400

# Read by decisions on every check: while True, record() is called.
active: bool = True
# This process's counts since the last flush: key -> a one-item list, a cell the
# fast path of decisions (featureflags/id_checks.py) keeps and adds to without a lookup.
cells: dict[str, list[int]] = {}
# Flags whose "on" evaluations the guardrail middleware attributes errors to.
watched: frozenset[str] = frozenset()
_attribution = False
_local: dict[str, tuple[int, float]] = {}  # without Redis: key -> (total, last time)
_local_lock = threading.Lock()


class UsageUnavailable(Exception):
    """Usage cannot be read (Redis down, or counting off)."""


@dataclass(frozen=True)
class Usage:
    key: str
    count: int
    last_evaluated: datetime | None


def cell(key: str) -> list[int]:
    """The count cell of ``key`` (created on first use)."""
    found = cells.get(key)
    return cells.setdefault(key, [0]) if found is None else found


def counter_for(key: str) -> list[int] | None:
    """The cell a fast-path check of ``key`` adds to: a throwaway one when counting is off,
    None when the check cannot take the fast path (guardrails watch ``key``: each check is noted)."""
    if record is _bootstrap:
        configure()
    if key in watched:
        return None
    return cell(key) if record is _record else [0]


def pending() -> dict[str, int]:
    """This process's counts not flushed yet."""
    return {key: found[0] for key, found in list(cells.items()) if found[0]}


def _record(key: str, enabled: bool) -> None:
    found = cells.get(key)
    if found is None:
        found = cell(key)
    found[0] += 1
    if enabled and key in watched:
        note(key)


def _attribute_only(key: str, enabled: bool) -> None:
    if enabled and key in watched:
        note(key)


def _bootstrap(key: str, enabled: bool) -> None:
    configure()
    if active:
        record(key, enabled)


# decisions.is_enabled calls this (the first call reads the settings and swaps in the real one).
record = _bootstrap


def configure() -> None:
    """Read the settings: count or not, attribute or not; starts the flusher when needed."""
    global active, record
    counting = bool(flag_settings.USAGE_COUNTING)
    active = counting or _attribution
    record = _record if counting else _attribute_only
    id_checks.forget()
    if active:
        from .guardrails import flusher

        flusher.ensure_started()


def enable_attribution() -> None:
    """Called by the guardrail middleware: from now on, watched flags that are on are noted per request."""
    global _attribution, active, record
    _attribution = True
    active = True
    record = _bootstrap
    id_checks.forget()


def attributing() -> bool:
    """Is the guardrail middleware installed in this process?"""
    return _attribution


def update_watched(table) -> None:
    """Recompute the watched flags from the guardrail limits (``GUARDRAIL_FLAGS`` or every error threshold)."""
    global watched
    chosen = flag_settings.GUARDRAIL_FLAGS
    if chosen is None:
        now_watched = frozenset(key for key, limits in table.items() if limits.error_threshold is not None)
    else:
        now_watched = frozenset(chosen)
    if now_watched != watched:  # the flusher calls this several times a second
        watched = now_watched
        id_checks.forget()


def flush(client, prefix: str) -> None:
    """Send this process's counts (to Redis, or into the in-process totals without Redis)."""
    known = _known_keys()
    batch = {}
    for key, found in list(cells.items()):
        if key not in known:  # unknown keys could be anything a client sent
            del cells[key]
            continue
        n = found[0]
        if n:
            found[0] -= n  # not n = 0: an increment racing with us stays for the next flush
            batch[key] = n
    if not batch:
        return
    now = time.time()
    if client is None:
        with _local_lock:
            for key, n in batch.items():
                total, _last = _local.get(key, (0, 0.0))
                _local[key] = (total + n, now)
        return
    day_key = f"{prefix}:usage:day:{time.strftime('%Y%m%d', time.gmtime(now))}"
    try:
        with client.pipeline(transaction=False) as pipe:
            for key, n in batch.items():
                pipe.hincrby(f"{prefix}:usage:count", key, n)
                pipe.hincrby(day_key, key, n)
            pipe.hset(f"{prefix}:usage:last", mapping={key: int(now) for key in batch})
            pipe.expire(day_key, DAY_KEY_TTL)
            pipe.execute()
    except Exception as exc:
        logger.warning("featureflags: usage counts not sent, Redis failed (%s); kept for the next flush", exc)
        for key, n in batch.items():
            cell(key)[0] += n


def _known_keys():
    from .store import state

    snapshot = state.merged()  # never load one here: this runs in the flusher thread
    return snapshot.flags if snapshot is not None else {}


def get_usage(keys: Iterable[str] | None = None) -> dict[str, Usage]:
    """Counts and last evaluation of ``keys`` (None: every flag ever counted), from all processes.

    Raises :class:`UsageUnavailable` when counting is off or Redis cannot be read.
    """
    from .guardrails import flusher

    if not flag_settings.USAGE_COUNTING:
        raise UsageUnavailable("USAGE_COUNTING is off")
    client = flusher.client()
    if client is None:
        wanted = None if keys is None else set(keys)
        with _local_lock:
            raw = {k: v for k, v in _local.items() if wanted is None or k in wanted}
        return {k: Usage(k, total, datetime.fromtimestamp(last, UTC)) for k, (total, last) in raw.items()}
    prefix = flag_settings.KEY_PREFIX
    try:
        if keys is None:
            totals = {k.decode(): int(v) for k, v in client.hgetall(f"{prefix}:usage:count").items()}
            lasts = {k.decode(): int(v) for k, v in client.hgetall(f"{prefix}:usage:last").items()}
        else:
            wanted = list(keys)
            with client.pipeline(transaction=False) as pipe:
                pipe.hmget(f"{prefix}:usage:count", wanted)
                pipe.hmget(f"{prefix}:usage:last", wanted)
                raw_totals, raw_lasts = pipe.execute() if wanted else ([], [])
            totals = {k: int(v) for k, v in zip(wanted, raw_totals) if v is not None}
            lasts = {k: int(v) for k, v in zip(wanted, raw_lasts) if v is not None}
    except Exception as exc:
        raise UsageUnavailable(f"Redis cannot be read: {exc}") from exc
    return {
        key: Usage(key, totals.get(key, 0), datetime.fromtimestamp(lasts[key], UTC) if key in lasts else None)
        for key in set(totals) | set(lasts)
    }


def reset() -> None:
    """Forget this process's counts and re-read the settings at the next check (tests, fork, settings)."""
    global cells, active, record, watched
    cells = {}
    watched = frozenset()
    active = True
    record = _bootstrap
    id_checks.forget()
    with _local_lock:
        _local.clear()


def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting == "FEATUREFLAGS":
        from .guardrails import counters, flusher, limits

        flusher.stop()
        counters.reset()
        limits.reset()
        reset()


setting_changed.connect(_settings_changed)
