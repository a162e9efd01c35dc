from __future__ import annotations

import time

import pytest

import featureflags
from featureflags import usage
from featureflags.engine import Snapshot
from featureflags.guardrails import flusher
from featureflags.guardrails.attribution import evaluated_on
from featureflags.store import runtime


@pytest.fixture(autouse=True)
def _snapshot(monkeypatch):
    monkeypatch.setattr(usage, "_attribution", False)  # another test may have loaded the guardrail middleware
    usage.reset()
    install()
    yield
    usage.reset()


def install() -> None:
    """The flags of these tests (again after a settings change, which resets the runtime)."""
    runtime.install(
        Snapshot.from_definitions(
            [{"key": "on", "enabled": True}, {"key": "off", "enabled": False}, {"key": "half", "enabled": True}],
            version=1,
        )
    )


@pytest.fixture
def redis_usage(settings, redis_url, key_prefix):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REDIS_URL": redis_url, "KEY_PREFIX": key_prefix}
    install()
    yield key_prefix
    flusher.stop()


def test_every_entry_point_counts_evaluations():
    for _ in range(3):
        featureflags.is_enabled("on", "42")
    featureflags.is_enabled("off")
    featureflags.variant("on", "1")
    featureflags.evaluate("missing", "1")
    assert usage.pending() == {"on": 4, "off": 1, "missing": 1}


def test_counting_off_counts_nothing(settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "USAGE_COUNTING": False}
    runtime.install(Snapshot.from_definitions([{"key": "on", "enabled": True}], version=1))
    featureflags.is_enabled("on", "42")
    assert usage.pending() == {}
    assert usage.active is False
    with pytest.raises(usage.UsageUnavailable):
        usage.get_usage()


def test_only_watched_flags_that_are_on_are_noted_for_attribution():
    featureflags.is_enabled("on")  # configures
    usage.watched = frozenset({"on", "off"})
    token = evaluated_on.set([])
    try:
        featureflags.is_enabled("on")
        featureflags.is_enabled("off")
        featureflags.is_enabled("half")
        assert evaluated_on.get() == ["on"]
    finally:
        evaluated_on.reset(token)
    featureflags.is_enabled("on")  # outside a request: nothing to note, nothing breaks


@pytest.mark.redis
def test_counts_from_several_flushes_add_up_in_redis(redis_usage):
    for _ in range(5):
        featureflags.is_enabled("on", "1")
    before = time.time()
    flusher.flush()
    assert usage.pending() == {}
    for _ in range(2):
        featureflags.is_enabled("on", "2")
    featureflags.is_enabled("half")
    flusher.flush()
    found = usage.get_usage()
    assert (found["on"].count, found["half"].count) == (7, 1)
    assert found["on"].last_evaluated.timestamp() >= int(before)
    assert usage.get_usage(["on", "never"]).keys() == {"on"}


def test_a_failed_flush_keeps_the_counts(settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_TIMEOUT": 0.2}
    install()
    featureflags.is_enabled("on")
    featureflags.is_enabled("on")
    flusher.flush()
    assert usage.pending() == {"on": 2}
    with pytest.raises(usage.UsageUnavailable):
        usage.get_usage()
    flusher.stop()


def test_without_redis_usage_is_kept_in_process():
    featureflags.is_enabled("on")
    featureflags.is_enabled("typo")
    flusher.flush()
    assert usage.get_usage()["on"].count == 1
    assert "typo" not in usage.get_usage()  # only flags that exist are counted
