"""The public Python API: one evaluator behind every entry point."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest

from . import overrides, usage
from .context import build_context, context_from_request
from .engine import Context, Decision, Explanation, Reason, Step
from .experiments import exposures
from .store import runtime

logger = logging.getLogger("featureflags")

# Contexts of bare string ids, shared: a Context is immutable and building one
# costs more than the rest of a check. Bounded by clearing when full.
_ID_CONTEXTS: dict[str, Context] = {}
_ID_CONTEXTS_MAX = 10_000


def context_of_id(user_id: str) -> Context:
    """The (shared) context of a bare user id."""
    context = _ID_CONTEXTS.get(user_id)
    if context is None:
        if len(_ID_CONTEXTS) >= _ID_CONTEXTS_MAX:
            _ID_CONTEXTS.clear()
        context = _ID_CONTEXTS[user_id] = Context(user_id)
    return context


def is_enabled(
    key: str, who: Any = None, *, default: bool = False, environment: str | None = None, **attributes: Any
) -> bool:
    """Is flag ``key`` on for ``who`` (a request, a user, an id, a mapping or a Context)?

    With no ``who`` at all, the global switch answers. An unknown flag gives
    ``default``; this never raises.

    >>> is_enabled("new_ui", request)
    >>> is_enabled("new_ui", 42, region="US")
    """
    if type(who) is str and not attributes and environment is None:
        context: Context | None = _ID_CONTEXTS.get(who) or context_of_id(who)  # the common case, kept short
    elif isinstance(who, Context) and not attributes and environment is None:
        context = who
    elif isinstance(who, HttpRequest) and not attributes and environment is None:
        context = who.__dict__.get("_featureflags_context")  # the middleware's: is_enabled(key, request)
        if context is None:
            context = context_from_request(who)
    else:
        try:
            context = build_context(who, environment, attributes)
        except Exception:
            logger.exception("featureflags: cannot build a context for %r", key)
            return default
    return is_enabled_for(key, context, default)


def is_enabled_for(key: str, context: Context | None, default: bool = False) -> bool:
    """:func:`is_enabled` for a context already built (template tags, ``request.flags``, decorators)."""
    if overrides.active:  # featureflags.testing.override_flag
        forced = overrides.lookup(key)
        if forced is not None:
            return forced.enabled
    try:  # free in Python 3.11 unless raised: a bug must cost a flag, never a page
        snapshot = runtime._snapshot  # `or` would call Snapshot.__len__ on every check
        if snapshot is None:
            snapshot = runtime.current()
        enabled = snapshot.is_enabled(key, context, default)
    except Exception:
        logger.exception("featureflags: evaluating %r failed", key)
        return default
    if usage.active:  # evaluation counts and guardrail attribution (featureflags.usage)
        usage.record(key, enabled)
    return enabled


def variant(
    key: str, who: Any = None, *, default: str | None = None, environment: str | None = None, **attributes: Any
) -> str | None:
    """The variant of ``key`` served to ``who``, or ``default`` when the flag is off or has none."""
    if type(who) is str and not attributes and environment is None:
        return variant_for(key, _ID_CONTEXTS.get(who) or context_of_id(who), default)  # the common case
    try:
        context = build_context(who, environment, attributes)
    except Exception:
        logger.exception("featureflags: cannot build a context for %r", key)
        return default
    return variant_for(key, context, default)


def variant_for(key: str, context: Context | None, default: str | None = None) -> str | None:
    """:func:`variant` for a context already built."""
    if overrides.active:
        forced = overrides.lookup(key)
        if forced is not None:
            return default if forced.variant is None else forced.variant
    try:
        chosen = runtime.current().variant(key, context)
    except Exception:
        logger.exception("featureflags: evaluating %r failed", key)
        return default
    if usage.active:
        usage.record(key, chosen is not None)
    if chosen is not None and exposures.active:  # experiment exposures (featureflags.experiments)
        exposures.record(key, chosen, context)
    return default if chosen is None else chosen


def evaluate(
    key: str, who: Any = None, *, default: bool = False, environment: str | None = None, **attributes: Any
) -> Decision:
    """The full decision (enabled, variant, reason); an unknown flag's ``enabled`` is ``default``."""
    try:
        context = build_context(who, environment, attributes)
    except Exception:
        logger.exception("featureflags: cannot build a context for %r", key)
        return Decision(default, None, Reason.UNKNOWN_FLAG)
    return evaluate_for(key, context, default)


def evaluate_for(key: str, context: Context | None, default: bool = False) -> Decision:
    """:func:`evaluate` for a context already built."""
    if overrides.active:
        forced = overrides.lookup(key)
        if forced is not None:
            return forced
    try:
        decision = runtime.current().evaluate(key, context)
    except Exception:
        logger.exception("featureflags: evaluating %r failed", key)
        return Decision(default, None, Reason.UNKNOWN_FLAG)
    if usage.active:
        usage.record(key, decision.enabled)
    if decision.variant is not None and exposures.active:
        exposures.record(key, decision.variant, context)
    if decision.reason is Reason.UNKNOWN_FLAG and default:
        return Decision(True, None, Reason.UNKNOWN_FLAG)
    return decision


def explain(key: str, who: Any = None, *, environment: str | None = None, **attributes: Any) -> Explanation:
    """The decision with every step of the contract that led to it (for "why does user 42 see this?")."""
    context = build_context(who, environment, attributes)
    if overrides.active and overrides.lookup(key) is not None:
        return Explanation(key, overrides.lookup(key), (Step("override", "decided", "Forced by override_flag."),))
    return runtime.current().explain(key, context)
