"""Exposures: which variant each unit (user id, else anonymous id) was served.

``featureflags.variant`` and ``featureflags.evaluate`` call :func:`record` when a
variant is served: a set lookup and, the first time in this process, an append to
a queue (no lock, no I/O). The flusher thread (:mod:`.flusher`) sends the queue to
Redis and to the ``EXPOSURE_HOOK``. No model import: the hot path reads this.

    featureflags.variant("checkout", request)   # records ("checkout", "B", "42") once
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from django.core.signals import setting_changed

from ..conf import flag_settings
from ..engine import Context
from ..store import connection

# Read by decisions on every variant served: while True, record() is called.
active: bool = True
# (flag, variant, unit) already queued in this process (cleared by the flusher each day and when large).
seen: set[tuple[str, str, str]] = set()
# Waiting for the flusher; bounded so that an unreachable Redis cannot eat the memory.
queue: deque[tuple[str, str, str]] = deque(maxlen=1_000_000)
# More than this many remembered exposures: forget them (Redis deduplicates anyway).
MAX_SEEN = 200_000


class Exposure(NamedTuple):
    """A unit served a variant, what the ``EXPOSURE_HOOK`` receives: sent once per process and day."""

    flag: str
    variant: str
    unit: str
    at: float  # unix time of the flush that sent it (within EXPERIMENT_FLUSH_INTERVAL of the check)


def unit_of(context: Context | None) -> str | None:
    """The unit of a context: its user id, else its anonymous id (the default stickiness)."""
    if context is None:
        return None
    return context.user_id or context.anonymous_id


def _record(key: str, variant: str, unit: str | None, _seen=seen, _append=queue.append) -> None:
    # The defaults bind the set and the queue as locals: this runs on every variant served.
    if unit:
        item = (key, variant, unit)
        if item not in _seen:
            _seen.add(item)
            _append(item)


def _bootstrap(key: str, variant: str, unit: str | None) -> None:
    configure()
    if active:
        record(key, variant, unit)


# decisions.variant/evaluate call this (the first call reads the settings and swaps in the real one).
record = _bootstrap


def ensure_configured() -> bool:
    """Read the settings if no check has yet; returns :data:`active`."""
    if record is _bootstrap:
        configure()
    return active


def configure() -> None:
    """Read the settings: record when ``EXPOSURES`` is on and there is Redis or a hook to send to."""
    global active, record
    active = bool(flag_settings.EXPOSURES) and (connection.configured() or bool(flag_settings.EXPOSURE_HOOK))
    record = _record
    if active:
        from . import flusher

        flusher.ensure_started()


def drain(waiting: deque | None = None) -> list:
    """Take everything queued in ``waiting`` (default: the exposures); deque pops are thread-safe."""
    batch = []
    pop = (queue if waiting is None else waiting).popleft
    try:
        while True:
            batch.append(pop())
    except IndexError:
        return batch


def reset() -> None:
    """Forget queued exposures and re-read the settings at the next check (tests, fork, settings)."""
    global active, record
    seen.clear()
    queue.clear()
    active = True
    record = _bootstrap


def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting == "FEATUREFLAGS":
        import sys

        flusher = sys.modules.get(__package__ + ".flusher")
        if flusher is not None:
            flusher.stop()
        goals = sys.modules.get(__package__ + ".goals")
        if goals is not None:
            goals.queue.clear()
        reset()


setting_changed.connect(_settings_changed)
