"""Signals of the flag store.

``flag_changed`` is sent after every committed write (by an operator, the API,
an import, a schedule or a guardrail), once per write, with ``keys``: the flags
that changed. The audit log says who changed what.

    from django.dispatch import receiver
    from featureflags.signals import flag_changed

    @receiver(flag_changed)
    def tell_the_team(sender, keys, **kwargs):
        ...
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

logger = logging.getLogger("featureflags")

# Sent with sender=featureflags.models.Flag and keys=list[str], after the transaction commits.
flag_changed = Signal()


def send_flag_changed(keys: list[str]) -> None:
    """Tell receivers that ``keys`` changed; a failing receiver is logged, never raised to the writer."""
    from .models import Flag

    for receiver, result in flag_changed.send_robust(sender=Flag, keys=list(keys)):
        if isinstance(result, Exception):
            logger.error("featureflags: flag_changed receiver %r failed: %s", receiver, result, exc_info=result)
