"""Who hears about a trip. A notifier is any callable taking a :class:`~.counters.Trip`.

FEATUREFLAGS = {
    "GUARDRAIL_NOTIFIERS": ["featureflags.guardrails.notifiers.log_trip",
                            "featureflags.guardrails.notifiers.post_webhook"],
    "GUARDRAIL_WEBHOOK_URL": "https://hooks.example.com/flags",
    "GUARDRAIL_WEBHOOK_SECRET": "shared-secret",
}

The webhook body is JSON; ``X-Featureflags-Signature: sha256=<hex>`` is the
HMAC-SHA256 of the exact body with the secret: check it with :func:`signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.request
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from ..conf import flag_settings
from .counters import Trip

logger = logging.getLogger("featureflags.guardrails")

SIGNATURE_HEADER = "X-Featureflags-Signature"
EVENT = "guardrail.tripped"


def log_trip(trip: Trip) -> None:
    """The default notifier: a warning on the ``featureflags.guardrails`` logger."""
    from .trip import describe

    logger.warning("featureflags: %r switched off. %s", trip.key, describe(trip))


def payload(trip: Trip) -> dict[str, Any]:
    from .trip import describe

    return {
        "event": EVENT,
        "flag": trip.key,
        **{k: v for k, v in asdict(trip).items() if k != "key"},
        "message": describe(trip),
        "at": datetime.now(UTC).isoformat(),
    }


def signature(body: bytes, secret: str) -> str:
    """``sha256=<hex>``: what a receiver compares (with ``hmac.compare_digest``) to the header."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(trip: Trip) -> None:
    """POST the trip to ``GUARDRAIL_WEBHOOK_URL`` (nothing when unset), signed when a secret is set."""
    url = flag_settings.GUARDRAIL_WEBHOOK_URL
    if not url:
        return
    body = json.dumps(payload(trip), sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "featureflags-guardrail"}
    secret = flag_settings.GUARDRAIL_WEBHOOK_SECRET
    if secret:
        headers[SIGNATURE_HEADER] = signature(body, secret)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=float(flag_settings.GUARDRAIL_WEBHOOK_TIMEOUT)) as response:
        if response.status >= 300:
            raise OSError(f"webhook answered {response.status}")
