from __future__ import annotations

import pytest

import featureflags
from featureflags.guardrails import counters, flush
from featureflags.models import AuditEntry, Flag, Source
from featureflags.signals import flag_changed
from featureflags.store import runtime


def test_report_error_counts_only_a_flag_that_is_on_with_a_threshold(make_flag):
    make_flag("guarded", error_threshold=3)
    make_flag("unguarded")
    make_flag("off", enabled=False, error_threshold=3)
    assert featureflags.report_error("guarded") is True
    assert featureflags.report_error("unguarded") is False
    assert featureflags.report_error("off") is False
    assert featureflags.report_error("missing") is False
    assert featureflags.report_error("guarded", count=0) is False
    assert featureflags.report_error("guarded", count="3") is False
    assert counters.pending() == {("errors", "guarded"): 1}


def test_errors_over_the_threshold_switch_the_flag_off_once(make_flag, settings, django_capture_on_commit_callbacks):
    make_flag("risky", error_threshold=3, error_window_seconds=60)
    tripped = []
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "GUARDRAIL_NOTIFIERS": [tripped.append]}
    changed = []

    def receiver(sender, keys, **kwargs):
        changed.append(keys)

    flag_changed.connect(receiver)
    try:
        for _ in range(3):
            featureflags.report_error("risky")
        assert flush() == []  # 3 is not more than 3
        featureflags.report_error("risky")
        with django_capture_on_commit_callbacks(execute=True):
            carried = flush()
    finally:
        flag_changed.disconnect(receiver)
    assert [(t.key, t.kind, t.count, t.threshold) for t in carried] == [("risky", "errors", 4, 3)]
    assert Flag.objects.get(key="risky").enabled is False
    assert featureflags.is_enabled("risky") is False
    entry = AuditEntry.objects.filter(flag_key="risky", source=Source.GUARDRAIL).get()
    assert entry.action == "guardrail_errors"
    assert entry.actor == "guardrail"
    assert "4 errors in the last 60 s exceeded the threshold of 3" in entry.note
    assert "count=4" in entry.source_detail
    assert entry.before["enabled"] is True and entry.after["enabled"] is False
    assert tripped == carried
    assert changed == [["risky"]]
    # Once off, its errors no longer count.
    assert featureflags.report_error("risky") is False


def test_the_window_forgets_old_errors(make_flag, monkeypatch):
    make_flag("risky", error_threshold=2, error_window_seconds=10)
    clock = [1000.0]
    monkeypatch.setattr(counters.time, "monotonic", lambda: clock[0])
    for _ in range(2):
        featureflags.report_error("risky")
    flush()
    clock[0] += 11
    featureflags.report_error("risky")
    assert flush() == []
    assert runtime.current().flags["risky"].enabled


@pytest.mark.redis
def test_redis_window_adds_up_batches_and_elects_one_tripper(make_flag, redis_counts):
    make_flag("risky", error_threshold=5, error_window_seconds=60)
    from featureflags.guardrails import flusher, limits

    table = limits.table()
    client = flusher.client()
    counters.add(counters.ERRORS, "risky", 3)
    assert counters.flush(client, redis_counts, table) == []
    counters.add(counters.ERRORS, "risky", 3)
    trips = counters.flush(client, redis_counts, table)
    assert [(t.count, t.threshold) for t in trips] == [(6, 5)]
    # The trip cleared the window; another batch right after is over the threshold
    # again, but the election is taken: no second trip.
    counters.add(counters.ERRORS, "risky", 6)
    assert counters.flush(client, redis_counts, table) == []
    window = client.hvals(counters.window_key(redis_counts, "errors", "risky"))
    assert sum(int(v) for v in window) == 6


@pytest.mark.redis
def test_a_trip_that_cannot_be_written_is_retried(make_flag, redis_counts, monkeypatch):
    from featureflags import services

    make_flag("risky", error_threshold=1, error_window_seconds=60)
    real_kill = services.kill

    def database_down(*args, **kwargs):
        raise ConnectionError("database down")

    monkeypatch.setattr(services, "kill", database_down)
    featureflags.report_error("risky", count=2)
    assert flush() == []
    assert Flag.objects.get(key="risky").enabled
    assert counters.pending() == {("errors", "risky"): 2}  # counted again, election released
    monkeypatch.setattr(services, "kill", real_kill)
    assert [t.count for t in flush()] == [2]
    assert not Flag.objects.get(key="risky").enabled


def test_counts_wait_for_redis_when_it_is_down(make_flag, settings, caplog):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_TIMEOUT": 0.2}
    runtime.refresh()
    key = make_flag("risky", error_threshold=1)
    assert featureflags.report_error(key, count=3) is True  # no network on the caller's path
    assert flush() == []
    assert flush() == []
    assert counters.pending() == {("errors", key): 3}
    assert caplog.text.count("guardrail counts not sent") == 1
    assert Flag.objects.get(key=key).enabled
