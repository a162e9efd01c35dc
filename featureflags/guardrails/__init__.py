"""Guardrails: switch a flag off when the code behind it fails or slows down.

    import featureflags
    featureflags.report_error("new_checkout")          # count one error
    with featureflags.monitor("new_search"): ...       # time a call

Counts are batched in-process and summed across processes in Redis
(:mod:`.counters`); a trip switches the flag off through ``featureflags.services``
(audited with the source ``guardrail``), which sends ``flag_changed``, then calls
the notifiers (:mod:`.notifiers`). Attribution of request errors:
:mod:`.middleware`.
"""

from __future__ import annotations

from .counters import Trip
from .errors import report_error
from .flusher import flush
from .latency import monitor

__all__ = ["Trip", "flush", "monitor", "report_error"]
