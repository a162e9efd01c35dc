"""Carrying out a trip: switch the flag off through the service layer, then tell the notifiers."""

from __future__ import annotations

import logging

from ..conf import import_string
from .counters import ERRORS, Trip

logger = logging.getLogger("featureflags.guardrails")

ACTOR = "guardrail"


def describe(trip: Trip) -> str:
    """One line for the audit note and the notifiers, with the figures."""
    what = f"{trip.count} errors" if trip.kind == ERRORS else f"{trip.count} calls slower than {trip.baseline:g} s"
    return (
        f"Guardrail: {what} in the last {trip.window_seconds} s exceeded the threshold of {trip.threshold}; "
        "the flag was switched off."
    )


def figures(trip: Trip) -> str:
    """The figures as ``name=value`` pairs (the audit entry's source detail)."""
    parts = [
        f"kind={trip.kind}",
        f"count={trip.count}",
        f"threshold={trip.threshold}",
        f"window={trip.window_seconds}s",
    ]
    if trip.baseline is not None:
        parts.append(f"baseline={trip.baseline:g}s")
    return " ".join(parts)


def carry_out(trip: Trip) -> bool:
    """Switch ``trip.key`` off (audited, source ``guardrail``) and notify; False when it was already off."""
    from .. import services
    from ..models import Flag, Source

    if not Flag.objects.filter(key=trip.key, enabled=True).exists():
        logger.info("featureflags: guardrail for %r fired but the flag is already off", trip.key)
        return False
    services.kill(
        trip.key,
        actor=ACTOR,
        source=Source.GUARDRAIL,
        source_detail=figures(trip),
        action=f"guardrail_{trip.kind}",
        note=describe(trip),
    )
    notify(trip)
    return True


def notify(trip: Trip) -> None:
    """Call every configured notifier; one failing does not stop the others."""
    from ..conf import flag_settings

    for path in flag_settings.GUARDRAIL_NOTIFIERS:
        try:
            notifier = import_string(path, "GUARDRAIL_NOTIFIERS") if isinstance(path, str) else path
            notifier(trip)
        except Exception:
            logger.exception("featureflags: guardrail notifier %r failed for %r", path, trip.key)
