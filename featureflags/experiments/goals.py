"""Goals: ``track("purchase", who, value=None)`` counts a conversion in every running experiment.

A conversion is queued in-process and attributed by the flusher (one Lua script
per conversion, sent right after the exposures of the same flush) to the variant
the unit was first exposed to. An experiment is running while its flag
is switched on and has variants.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from ..context import build_context
from ..engine.definition import is_valid_key
from ..store import runtime
from . import exposures
from .exposures import unit_of

# (goal, unit, value as text or "") waiting for the flusher.
queue: deque[tuple[str, str, str]] = deque(maxlen=1_000_000)


def track(goal: str, who: Any, value: float | None = None) -> bool:
    """Record that ``who`` reached ``goal`` (optionally worth ``value``).

    False when nothing is recorded: no unit (user id or anonymous id), or experiments off.

    Bad input raises ``ValueError`` naming the argument; Redis trouble never raises.

    >>> featureflags.track("purchase", request, value=39.90)
    True
    """
    if not isinstance(goal, str) or not is_valid_key(goal):
        raise ValueError("goal: 1-100 ASCII letters, digits, '_', '-' or '.'")
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    ):
        raise ValueError(f"value: a finite number or None, not {value!r}")
    unit = unit_of(build_context(who, None, None))
    if not unit or not exposures.ensure_configured():
        return False
    queue.append((goal, unit, "" if value is None else repr(float(value))))
    return True


def running_experiments() -> list[str]:
    """Keys of the flags that are switched on and have variants, in the current snapshot."""
    return sorted(key for key, flag in runtime.current().flags.items() if flag.enabled and flag.variant_names)
