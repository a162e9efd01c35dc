"""Drive a simulated experiment through the public API (variant, track) and the flusher."""

from __future__ import annotations

import random

import featureflags
from featureflags.experiments import flusher

DAY = 86_400.0


def simulate(
    units: int, rates: dict[str, float], seed: int, key: str = "checkout", days: int = 1, start: float | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """Serve ``units`` units (spread over ``days``, flushed at the end of each), converting each with its
    variant's true rate (values 5-50); returns the true (exposed, converted) counts per variant."""
    rng = random.Random(seed)
    exposed = dict.fromkeys(rates, 0)
    converted = dict.fromkeys(rates, 0)
    start = flusher.time.time() - (days - 1) * DAY if start is None else start
    per_day = -(-units // days)
    for i in range(units):
        unit = f"u{i}"
        variant = featureflags.variant(key, unit)
        exposed[variant] += 1
        if rng.random() < rates[variant]:
            converted[variant] += 1
            featureflags.track("purchase", unit, value=round(rng.uniform(5, 50), 2))
        if (i + 1) % per_day == 0 or i + 1 == units:
            flusher.flush(now=start + (i // per_day) * DAY)
    return exposed, converted
