"""The latency guardrail: more than ``performance_threshold`` calls slower than
``performance_baseline`` within the flag's window switch it off."""

from __future__ import annotations

from contextlib import ContextDecorator
from time import perf_counter
from typing import Any

from . import counters, flusher, limits
from .errors import counts_against_flag, is_on, report_error


class monitor(ContextDecorator):
    """Time the code behind flag ``key``; as a context manager or a decorator.

    A call slower than the flag's ``performance_baseline`` counts towards its
    latency guardrail; an exception escaping it counts towards its error
    guardrail. Counting is in-process, sent to Redis in batches.

    >>> with featureflags.monitor("new_search"):
    ...     results = new_search(query)
    >>> @featureflags.monitor("new_search")
    ... def search(query): ...
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.started = 0.0
        self.elapsed: float | None = None

    def _recreate_cm(self) -> monitor:
        return monitor(self.key)  # a decorated function may run in many threads at once

    def __enter__(self) -> monitor:
        self.started = perf_counter()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, traceback: Any) -> bool:
        self.elapsed = perf_counter() - self.started
        try:
            observe(self.key, self.elapsed)
            if exc is not None and counts_against_flag(exc):
                report_error(self.key)
        except Exception:
            import logging

            logging.getLogger("featureflags.guardrails").exception("featureflags: monitor(%r) failed", self.key)
        return False


def observe(key: str, seconds: float) -> bool:
    """Record one call of ``seconds``; True when it counted as slow."""
    found = limits.get(key)
    if found is None or found.performance_baseline is None or found.performance_threshold is None:
        return False
    if seconds <= found.performance_baseline or not is_on(key):
        return False
    counters.add(counters.SLOW, key)
    flusher.ensure_started()
    return True
