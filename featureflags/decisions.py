"""The public Python API: one evaluator behind every entry point."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest

from . import id_checks, overrides, usage
from .context import build_context, context_from_request
from .engine import Context, Decision, Explanation, Reason, Snapshot, Step
from .engine.by_id import context_of_id
from .experiments import exposures
from .store import runtime, state

logger = logging.getLogger("featureflags")
_ID_CHECKS = id_checks.checks
_ID_VARIANTS = id_checks.variants


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
        entry = _ID_CHECKS.get(key)  # the commonest check: see featureflags/id_checks.py
        if entry is not None and who.isascii():
            decide, hits = entry
            try:  # free in Python 3.11 unless raised: a bug must cost a flag, never a page
                enabled = decide(who)
            except Exception:
                logger.exception("featureflags: evaluating %r failed", key)
                return default
            hits[0] += 1  # usage counting (featureflags.usage)
            return enabled
        _prepare_id_check(key)
        context: Context | None = context_of_id(who)
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


def _prepare_id_check(key: str) -> None:
    """Build the fast-path entries of ``key`` for bare user ids, when it can take that path."""
    built_at = id_checks.generation
    snapshot = state.served
    if snapshot is None or overrides.active:
        return
    decide = snapshot.id_decider(key)
    if decide is None:  # unknown flag: the general path answers with the default
        return
    hits = usage.counter_for(key)
    if hits is None:
        return
    id_checks.keep(_ID_CHECKS, key, (decide, hits), built_at)
    id_checks.keep(_ID_VARIANTS, key, (snapshot.id_variant(key, decide), hits), built_at)


def is_enabled_for(key: str, context: Context | None, default: bool = False) -> bool:
    """:func:`is_enabled` for a context already built (template tags, ``request.flags``, decorators)."""
    if overrides.active:  # featureflags.testing.override_flag
        forced = overrides.lookup(key)
        if forced is not None:
            return forced.enabled
    try:  # free in Python 3.11 unless raised: a bug must cost a flag, never a page
        snapshot = state.served  # `or` would call Snapshot.__len__ on every check
        if snapshot is None:
            snapshot = runtime.current()
        if overrides.active:  # an override of a prerequisite decides the dependent's prerequisite step
            snapshot = overrides.overlay(snapshot)
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
        entry = _ID_VARIANTS.get(key)
        if entry is not None and who.isascii():
            choose, hits = entry
            try:
                chosen = choose(who)
            except Exception:
                logger.exception("featureflags: evaluating %r failed", key)
                return default
            hits[0] += 1
            if chosen is None:
                return default
            if exposures.active:
                exposures.record(key, chosen, who)  # a bare id is its own unit
            return chosen
        _prepare_id_check(key)
        return variant_for(key, context_of_id(who), default)
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
        chosen = _snapshot().variant(key, context)
    except Exception:
        logger.exception("featureflags: evaluating %r failed", key)
        return default
    if usage.active:
        usage.record(key, chosen is not None)
    if chosen is not None and exposures.active:  # experiment exposures (featureflags.experiments)
        exposures.record(key, chosen, exposures.unit_of(context))
    return default if chosen is None else chosen


def value(key: str, who: Any = None, default: Any = None, *, environment: str | None = None, **attributes: Any) -> Any:
    """The typed value of ``key`` served to ``who`` (a string, number, JSON object or, for a boolean
    flag without values, ``True``); ``default`` when the flag is off or unknown. This never raises.

    >>> value("checkout_layout", request, default="single_page")
    """
    if isinstance(who, HttpRequest) and not attributes and environment is None:
        context = who.__dict__.get("_featureflags_context")  # the middleware's
    else:
        context = None
    if context is None:
        try:
            context = build_context(who, environment, attributes)
        except Exception:
            logger.exception("featureflags: cannot build a context for %r", key)
            return default
    return value_for(key, context, default)


def value_for(key: str, context: Context | None, default: Any = None) -> Any:
    """:func:`value` for a context already built (template tags, the client endpoint)."""
    try:
        snapshot = _snapshot()
        if overrides.active:
            forced = overrides.lookup(key)
            if forced is not None:
                return overrides.forced_value(key, forced, snapshot, default)
        decision = snapshot.evaluate(key, context)
    except Exception:
        logger.exception("featureflags: evaluating %r failed", key)
        return default
    if usage.active:
        usage.record(key, decision.enabled)
    if decision.variant is not None and exposures.active:
        exposures.record(key, decision.variant, exposures.unit_of(context))
    return decision.value if decision.enabled and decision.value is not None else default


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
            return overrides.with_value(key, forced, _snapshot())
    try:
        decision = _snapshot().evaluate(key, context)
    except Exception:
        logger.exception("featureflags: evaluating %r failed", key)
        return Decision(default, None, Reason.UNKNOWN_FLAG)
    if usage.active:
        usage.record(key, decision.enabled)
    if decision.variant is not None and exposures.active:
        exposures.record(key, decision.variant, exposures.unit_of(context))
    if decision.reason is Reason.UNKNOWN_FLAG and default:
        return Decision(True, None, Reason.UNKNOWN_FLAG)
    return decision


def explain(key: str, who: Any = None, *, environment: str | None = None, **attributes: Any) -> Explanation:
    """The decision with every step of the contract that led to it (for "why does user 42 see this?")."""
    context = build_context(who, environment, attributes)
    if overrides.active and overrides.lookup(key) is not None:
        return Explanation(key, overrides.lookup(key), (Step("override", "decided", "Forced by override_flag."),))
    return _snapshot().explain(key, context)


def _snapshot() -> Snapshot:
    """The current snapshot, with test overrides of prerequisites laid over it."""
    snapshot = runtime.current()
    return overrides.overlay(snapshot) if overrides.active else snapshot
