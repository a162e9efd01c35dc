from __future__ import annotations

import time

import pytest

import featureflags
from featureflags.guardrails import counters, flush
from featureflags.models import AuditEntry, Flag, Source

BASELINE = 0.02


@pytest.fixture
def slow_flag(make_flag):
    return make_flag("new_search", performance_baseline=BASELINE, performance_threshold=2, error_window_seconds=60)


def fast() -> str:
    return "ok"


def slow() -> str:
    time.sleep(BASELINE * 1.5)
    return "ok"


@pytest.mark.redis
def test_fast_calls_never_trip(slow_flag, redis_counts, django_capture_on_commit_callbacks):
    search = featureflags.monitor(slow_flag)(fast)
    for _ in range(200):
        assert search() == "ok"
    with featureflags.monitor(slow_flag):
        fast()
    assert counters.pending() == {}
    with django_capture_on_commit_callbacks(execute=True):
        assert flush() == []
    assert Flag.objects.get(key=slow_flag).enabled


@pytest.mark.redis
def test_slow_calls_over_the_threshold_trip(slow_flag, redis_counts, django_capture_on_commit_callbacks):
    search = featureflags.monitor(slow_flag)(slow)
    search()
    with featureflags.monitor(slow_flag) as timed:
        slow()
    assert timed.elapsed > BASELINE
    assert counters.pending() == {("slow", slow_flag): 2}
    assert flush() == []  # 2 is not more than 2
    for _ in range(5):
        fast()  # fast calls in between do not count
    search()
    with django_capture_on_commit_callbacks(execute=True):
        trips = flush()
    assert [(t.kind, t.count, t.threshold, t.baseline) for t in trips] == [("slow", 3, 2, BASELINE)]
    assert not Flag.objects.get(key=slow_flag).enabled
    entry = AuditEntry.objects.get(flag_key=slow_flag, source=Source.GUARDRAIL)
    assert entry.action == "guardrail_slow"
    assert "3 calls slower than 0.02 s in the last 60 s exceeded the threshold of 2" in entry.note


def test_an_exception_escaping_monitor_counts_as_an_error(make_flag):
    key = make_flag("risky", error_threshold=5)

    @featureflags.monitor(key)
    def broken():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        broken()
    assert counters.pending() == {("errors", key): 1}


def test_a_flag_without_latency_limits_is_not_timed(make_flag):
    key = make_flag("plain")
    with featureflags.monitor(key):
        slow()
    assert counters.pending() == {}
