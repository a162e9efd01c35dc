"""Forced decisions for tests (``featureflags.testing.override_flag``), consulted before the snapshot.

Overrides live in a ContextVar, so they apply to the thread or asyncio task that set
them (and to what it runs through asgiref or ``copy_context``), never to other
tests running concurrently, and they never touch the database or Redis.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from . import id_checks
from .engine import CompiledFlag, Decision, Reason, Snapshot

_EMPTY: Mapping[str, Decision] = MappingProxyType({})
_overrides: ContextVar[Mapping[str, Decision]] = ContextVar("featureflags_overrides", default=_EMPTY)

# How many overrides are in force in any thread: while 0, checks skip the ContextVar lookup.
active: int = 0
_lock = threading.Lock()


def lookup(key: str) -> Decision | None:
    """The forced decision for ``key`` in this context, or None."""
    return _overrides.get().get(key)


def push(key: str, enabled: bool, variant: str | None = None, value: Any = None) -> Token:
    """Force ``key`` (``enabled``, ``variant``, ``value``) until :func:`pop` with the returned token."""
    global active
    forced = Decision(bool(enabled), variant if enabled else None, Reason.OVERRIDE, value if enabled else None)
    token = _overrides.set(MappingProxyType({**_overrides.get(), key: forced}))
    with _lock:
        active += 1
    id_checks.forget()  # the fast path of is_enabled(key, "42") knows no overrides
    return token


def forced_value(key: str, forced: Decision, snapshot: Snapshot | None, default: Any) -> Any:
    """The value an override serves: its own, else the forced variant's value in the real flag,
    else ``True`` for an "on" boolean (or unknown) flag without a variant; ``default`` otherwise."""
    if not forced.enabled:
        return default
    if forced.value is not None:
        return forced.value
    flag = None if snapshot is None else snapshot.flags.get(key)
    if (flag is None or flag.value_type == "boolean") and forced.variant is None:
        return True
    if flag is not None and flag.variants is not None and forced.variant in flag.variants.names:
        found = flag.variants.values[flag.variants.names.index(forced.variant)]
        return default if found is None else found
    return default


def with_value(key: str, forced: Decision, snapshot: Snapshot | None) -> Decision:
    """``forced`` with the value it serves (:func:`forced_value`), for callers that show decisions."""
    if forced.value is not None or not forced.enabled:
        return forced
    return replace(forced, value=forced_value(key, forced, snapshot, None))


def pop(token: Token) -> None:
    global active
    _overrides.reset(token)
    with _lock:
        active = max(0, active - 1)


def current() -> Mapping[str, Decision]:
    """Every override in force in this context."""
    return _overrides.get()


# The last overlay built: (snapshot, overrides mapping, overlay); both are immutable, so identity is enough.
_last_overlay: tuple[Snapshot, Mapping[str, Decision], Snapshot] | None = None


def overlay(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with every overridden flag that another flag has as a prerequisite replaced by
    a flag that always answers the forced decision, so the dependent flag's prerequisite step sees
    the override. ``snapshot`` itself when no override is a prerequisite (the usual case)."""
    global _last_overlay
    forced = _overrides.get()
    last = _last_overlay
    if last is not None and last[0] is snapshot and last[1] is forced:
        return last[2]
    parents = {prerequisite[0] for flag in snapshot.flags.values() for prerequisite in flag.prerequisites}
    replaced = [_always(key, decision) for key, decision in forced.items() if key in parents]
    result = snapshot.replace(changed=replaced) if replaced else snapshot
    _last_overlay = (snapshot, forced, result)
    return result


def _always(key: str, decision: Decision) -> CompiledFlag:
    variants = [{"name": decision.variant, "weight": 100}] if decision.variant else []
    return CompiledFlag({"key": key, "enabled": decision.enabled, "percentage": 100, "variants": variants})
