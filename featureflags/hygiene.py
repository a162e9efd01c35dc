"""Flags that are probably done: candidates for removal from the code.

A flag is stale when, for ``days``:

- it was never evaluated (by any process; needs usage counting and Redis),
- it has been fully on (on for everyone) or fully off, unchanged,
- or it has outlived its ``expected_lifetime_days``.

    from featureflags.hygiene import stale_flags
    for stale in stale_flags(30):
        print(stale.flag.key, "; ".join(stale.reasons))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Max
from django.utils import timezone

from .models import AuditEntry, Flag


@dataclass
class StaleFlag:
    """A flag and why it looks stale (one sentence per reason)."""

    flag: Flag
    reasons: list[str] = field(default_factory=list)


def stale_flags(days: int, now: datetime | None = None) -> list[StaleFlag]:
    """Every flag with at least one reason to be stale after ``days`` days, sorted by key.

    >>> [(s.flag.key, s.reasons) for s in stale_flags(30)]
    [('old_banner', ['fully on and unchanged for 30 days (since 2026-09-01)'])]
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    flags = list(
        Flag.objects.annotate(
            n_rules=Count("rules", distinct=True),
            n_constraints=Count("constraints", distinct=True),
            n_users=Count("user_entries", distinct=True),
            n_prerequisites=Count("prerequisites", distinct=True),
        )
    )
    last_change = dict(
        AuditEntry.objects.filter(flag_key__in=[f.key for f in flags])
        .values_list("flag_key")
        .annotate(last=Max("at"))
        .values_list("flag_key", "last")
    )
    usage = _usage([f.key for f in flags])
    found = []
    for flag in flags:
        changed = last_change.get(flag.key) or flag.updated_at
        reasons = []
        if usage is not None and flag.created_at <= cutoff:
            seen = usage.get(flag.key)
            if seen is None or seen.last_evaluated is None:
                reasons.append(f"never evaluated in {days} days")
            elif seen.last_evaluated < cutoff:
                reasons.append(f"not evaluated in {days} days (last {seen.last_evaluated:%Y-%m-%d})")
        state = _full_state(flag)
        if state is not None and changed <= cutoff:
            reasons.append(f"fully {state} and unchanged for {days} days (since {changed:%Y-%m-%d})")
        if flag.expected_lifetime_days is not None:
            end = flag.created_at + timedelta(days=flag.expected_lifetime_days)
            if end <= now:
                reasons.append(
                    f"past its expected lifetime of {flag.expected_lifetime_days} days (ended {end:%Y-%m-%d})"
                )
        if reasons:
            found.append(StaleFlag(flag, reasons))
    return found


def _full_state(flag: Flag) -> str | None:
    """ "on" when the flag is on for everyone, "off" when off for everyone, else None."""
    if not flag.enabled:
        return "off"
    targeted = flag.n_rules or flag.n_constraints or flag.n_users or flag.n_prerequisites
    if flag.percentage >= 100 and not targeted and not flag.environments and not flag.start_at and not flag.end_at:
        return "on"
    return None


def _usage(keys: list[str]):
    """Usage per key, or None when it is not known (counting off, no Redis, Redis unreadable)."""
    from .store import connection
    from .usage import UsageUnavailable, get_usage

    if not connection.configured():
        return None  # without Redis each process only knows its own evaluations
    try:
        return get_usage(keys)
    except UsageUnavailable:
        return None
