"""Fixtures of the guardrail tests: flags with limits, Redis counts without background threads."""

from __future__ import annotations

import pytest

from featureflags import services, usage
from featureflags.guardrails import counters, limits
from featureflags.store import runtime


@pytest.fixture(autouse=True)
def _fresh_counts():
    counters.reset()
    limits.reset()
    usage.reset()
    yield
    counters.reset()
    limits.reset()
    usage.reset()


@pytest.fixture
def redis_counts(settings, redis_url, key_prefix):
    """The real Redis under a private prefix, no background thread: tests call flush() themselves."""
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REDIS_URL": redis_url, "KEY_PREFIX": key_prefix}
    runtime.reset()
    yield key_prefix
    runtime.reset()


@pytest.fixture
def make_flag(db):
    """Create a flag that is on, with guardrail limits, and make this process see it."""

    def make(key: str = "risky", **fields):
        fields.setdefault("enabled", True)
        services.create_flag(key, **fields)
        runtime.refresh()
        limits.reset()
        return key

    return make
