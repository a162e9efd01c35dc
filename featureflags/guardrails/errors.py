"""The error guardrail: errors counted against a flag; too many in the window switch it off."""

from __future__ import annotations

from ..conf import flag_settings, import_string
from ..store import runtime
from . import counters, flusher, limits


def report_error(key: str, count: int = 1) -> bool:
    """Count an error of the code behind flag ``key``; True when it was counted.

    Counted only while the flag is on here and has an ``error_threshold``; sent to
    Redis in the background. Never raises, never waits on the network.

    >>> import featureflags
    >>> try:
    ...     new_checkout()
    ... except PaymentError:
    ...     featureflags.report_error("new_checkout")
    ...     raise
    """
    try:
        if not isinstance(count, int) or count < 1 or not is_on(key):
            return False
        found = limits.get(key)
        if found is None or found.error_threshold is None:
            return False
        counters.add(counters.ERRORS, key, count)
        flusher.ensure_started()
        return True
    except Exception:
        import logging

        logging.getLogger("featureflags.guardrails").exception("featureflags: report_error(%r) failed", key)
        return False


def is_on(key: str) -> bool:
    """The flag's global switch in this process's snapshot (an off flag's errors are not its own)."""
    flag = runtime.current().flags.get(key)
    return flag is not None and flag.enabled


def counts_against_flag(exception: BaseException) -> bool:
    """Does this exception count, by ``GUARDRAIL_EXCEPTIONS`` and ``GUARDRAIL_IGNORED_EXCEPTIONS``?"""
    counted = _classes("GUARDRAIL_EXCEPTIONS")
    ignored = _classes("GUARDRAIL_IGNORED_EXCEPTIONS")
    return isinstance(exception, counted) and not isinstance(exception, ignored)


def _classes(setting: str) -> tuple[type, ...]:
    return tuple(
        import_string(path, setting) if isinstance(path, str) else path for path in getattr(flag_settings, setting)
    )
