"""The background thread that sends batched counts (guardrails and usage) to Redis.

One daemon thread per process, started lazily (and again in a child after
``fork``). Every ``GUARDRAIL_FLUSH_INTERVAL`` it refreshes the guardrail limits if
the flags changed, sends the error and slow-call counts, carries out the trips
this process was elected for, and every ``USAGE_FLUSH_INTERVAL`` sends the usage
counts. With ``SYNC_THREAD`` off (tests, scripts) call :func:`flush` yourself.
"""

from __future__ import annotations

import logging
import threading
import time

from ..background import Periodic
from ..conf import flag_settings
from ..store import connection

logger = logging.getLogger("featureflags.guardrails")

_client = None
_last_usage_flush = 0.0


def client():
    """This process's Redis client for counts, or None without Redis (counts then stay in-process)."""
    global _client
    if not connection.configured():
        return None
    if _client is None:
        _client = connection.new_client()
    return _client


def flush(usage_too: bool = True) -> list:
    """Send everything pending now; returns the trips carried out by this process."""
    from .. import usage
    from . import counters, limits, trip

    carried = []
    if not counters.pending() and not usage.attributing() and not limits.loaded():
        fired_trips = []  # nothing to send and nobody to watch: no need to read the limits
    else:
        table = limits.refresh().limits
        usage.update_watched(table)
        fired_trips = counters.flush(client(), flag_settings.KEY_PREFIX, table)
    for fired in fired_trips:
        try:
            if trip.carry_out(fired):
                carried.append(fired)
        except Exception:
            logger.exception("featureflags: guardrail could not switch %r off; retrying", fired.key)
            counters.retry(client(), flag_settings.KEY_PREFIX, fired)
    if usage_too:
        usage.flush(client(), flag_settings.KEY_PREFIX)
    return carried


def stop() -> None:
    """Stop the thread (settings changed, tests); counts not yet sent stay pending."""
    global _client
    _worker.stop()
    if _client is not None:
        try:
            _client.close()
        except Exception:
            pass
    _client = None


def _tick() -> None:
    global _last_usage_flush
    now = time.monotonic()
    usage_due = now - _last_usage_flush >= float(flag_settings.USAGE_FLUSH_INTERVAL)
    try:
        flush(usage_too=usage_due)
    finally:
        _close_database_connections()
    if usage_due:
        _last_usage_flush = now


def _close_database_connections() -> None:
    try:
        from django.db import connections

        connections.close_all()  # this thread's own connections
    except Exception:
        pass


def _after_fork_in_child() -> None:
    global _client
    _client = None
    from .. import usage
    from . import counters

    counters._lock = threading.Lock()  # another thread may have held it at fork
    counters.reset()  # the parent sends its own counts
    usage.reset()


_worker = Periodic("featureflags-flusher", lambda: flag_settings.GUARDRAIL_FLUSH_INTERVAL, _tick, _after_fork_in_child)
running = _worker.running
ensure_started = _worker.ensure_started  # cheap to call on every request
