"""Each flag's guardrail limits, read from the database once per snapshot version.

The snapshot (the hot path's data) does not carry thresholds; they are read here
in one query when the flags change, off the request path when the flusher runs.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from ..store import runtime
from . import flusher

logger = logging.getLogger("featureflags.guardrails")


@dataclass(frozen=True)
class Limits:
    """A flag's thresholds; ``None`` turns that guardrail off."""

    key: str
    error_threshold: int | None
    window_seconds: int
    performance_baseline: float | None
    performance_threshold: int | None


@dataclass(frozen=True)
class _Table:
    version: int
    limits: dict[str, Limits]


_UNREAD = -2  # the version of a table the database could not refresh
_table: _Table | None = None
_lock = threading.Lock()


def get(key: str) -> Limits | None:
    """The limits of ``key``, or None when it has no guardrail configured."""
    return table().get(key)


def table() -> dict[str, Limits]:
    """Every flag that has a guardrail; reloaded at once only when never loaded or nobody else refreshes it."""
    current = _table
    if current is None or (not flusher.running() and current.version != _snapshot_version()):
        current = refresh()
    return current.limits


def refresh() -> _Table:
    """Reload from the database when the snapshot version moved.

    If the database fails, the last table stays (an empty one the first time), marked
    stale so that the flusher tries again; a request never waits on it twice.
    """
    global _table
    version = _snapshot_version()
    with _lock:
        if _table is not None and _table.version == version:
            return _table
        try:
            _table = _Table(version, _load())
        except Exception as exc:
            logger.warning("featureflags: cannot read guardrail limits (%s); keeping the last ones", exc)
            _table = _Table(_UNREAD, _table.limits if _table is not None else {})
        return _table


def loaded() -> bool:
    """Has this process used guardrail limits (then the flusher keeps them current)?"""
    return _table is not None


def reset() -> None:
    global _table
    _table = None


def _snapshot_version() -> int:
    return runtime.current().version


def _load() -> dict[str, Limits]:
    from django.db.models import Q

    from ..models import Flag

    rows = Flag.objects.filter(
        Q(error_threshold__isnull=False) | Q(performance_baseline__isnull=False, performance_threshold__isnull=False)
    ).values_list("key", "error_threshold", "error_window_seconds", "performance_baseline", "performance_threshold")
    return {row[0]: Limits(*row) for row in rows}
