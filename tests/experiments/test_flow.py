"""Exposures, conversions and the hook, through the real Redis."""

from __future__ import annotations

import time

import pytest

import featureflags
from featureflags import services
from featureflags.engine import Context, Snapshot
from featureflags.experiments import exposures, flusher, goals, store
from featureflags.experiments.results import ResultsUnavailable, experiment_results
from featureflags.store import runtime

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def read(settings, key="checkout"):
    return store.read_counts(flusher.client(), settings.FEATUREFLAGS["KEY_PREFIX"], key)


def test_an_exposure_is_counted_once_per_unit(experiments, make_experiment, settings):
    make_experiment()
    served = {}
    for _ in range(3):
        for user in ("1", "2", "3", "4"):
            served[user] = featureflags.variant("checkout", user)
    assert set(served.values()) <= {"A", "B"}
    assert len(exposures.queue) == 4  # deduplicated in-process before Redis
    assert flusher.flush() == (4, 0)
    exposures.seen.clear()  # another process serving the same units: Redis deduplicates too
    for user in ("1", "2"):
        featureflags.evaluate("checkout", user)
    flusher.flush()
    counts = read(settings)
    expected = {name: list(served.values()).count(name) for name in ("A", "B")}
    assert {name: counts.variants[name].exposures for name in counts.variants} == {
        k: v for k, v in expected.items() if v
    }
    day = flusher.today()
    assert counts.days == [day]
    assert sum(v.seen_by_day[day] for v in counts.variants.values()) == 4


def test_anonymous_units_and_no_unit(experiments, make_experiment, settings):
    make_experiment()
    featureflags.variant("checkout", Context(anonymous_id="anon-1"))
    featureflags.variant("checkout", Context(attributes={"region": "US"}))  # nobody to count
    assert [unit for _k, _v, unit in exposures.queue] == ["anon-1"]


def test_conversions_are_attributed_to_the_first_variant(experiments, make_experiment, settings):
    make_experiment()
    make_experiment("banner", variants=(("off", 1), ("on", 1)))
    served = {user: featureflags.variant("checkout", user) for user in map(str, range(40))}
    flusher.flush()
    assert featureflags.track("purchase", "3", value=10.0)
    assert featureflags.track("purchase", "3", value=5.0)  # same unit: one conversion, value 15
    assert featureflags.track("purchase", "7")
    assert featureflags.track("purchase", "999", value=1.0)  # never exposed: counted nowhere
    assert flusher.flush() == (0, 4)
    counts = read(settings)
    by_variant = {}
    for user, value in (("3", 15.0), ("7", 0.0)):
        cell = by_variant.setdefault(served[user], [0, 0.0, 0.0])
        cell[0] += 1
        cell[1] += value
        cell[2] += value * value
    for name, (conversions, value_sum, value_sumsq) in by_variant.items():
        goal = counts.variants[name].goals["purchase"]
        assert (goal.conversions, goal.value_sum, goal.value_sumsq) == (conversions, value_sum, value_sumsq)
    assert read(settings, "banner").goals == []  # nobody was exposed to banner
    events = sum(counts.variants[n].goals["purchase"].events for n in by_variant)
    assert events == 3


def test_a_switched_off_experiment_gets_no_conversions(
    experiments, make_experiment, settings, django_capture_on_commit_callbacks
):
    make_experiment()
    featureflags.variant("checkout", "5")
    flusher.flush()
    with django_capture_on_commit_callbacks(execute=True):
        services.set_enabled("checkout", False, actor="test")
    runtime.refresh()
    assert goals.running_experiments() == []
    featureflags.track("purchase", "5")
    flusher.flush()
    assert read(settings).goals == []


def test_track_refuses_bad_input(experiments):
    with pytest.raises(ValueError, match="goal"):
        featureflags.track("no spaces allowed", "1")
    with pytest.raises(ValueError, match="value"):
        featureflags.track("purchase", "1", value="12")
    with pytest.raises(ValueError, match="value"):
        featureflags.track("purchase", "1", value=float("nan"))
    assert featureflags.track("purchase", None) is False
    assert not goals.queue


def test_without_redis_nothing_is_queued(settings):
    exposures.reset()
    runtime.install(Snapshot.from_definitions([{"key": "x", "enabled": True, "variants": [{"name": "A"}]}]))
    assert featureflags.variant("x", "1") == "A"
    assert not exposures.active
    assert not exposures.queue
    assert featureflags.track("purchase", "1") is False


collected = []


def collect(batch):
    collected.extend(batch)


def test_the_hook_receives_each_exposure(experiments, make_experiment, settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "EXPOSURE_HOOK": f"{__name__}.collect"}
    make_experiment()
    collected.clear()
    chosen = featureflags.variant("checkout", "42")
    featureflags.variant("checkout", "42")
    flusher.flush(now=1_700_000_000.0)
    assert collected == [exposures.Exposure("checkout", chosen, "42", 1_700_000_000.0)]


def broken_hook(batch):
    raise RuntimeError("analytics down")


def test_a_failing_hook_does_not_lose_the_redis_counts(experiments, make_experiment, settings, caplog):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "EXPOSURE_HOOK": f"{__name__}.broken_hook"}
    make_experiment()
    featureflags.variant("checkout", "42")
    assert flusher.flush() == (1, 0)
    assert "EXPOSURE_HOOK failed" in caplog.text


def test_redis_down_keeps_the_queue(experiments, make_experiment, settings):
    make_experiment()
    featureflags.variant("checkout", "1")
    featureflags.track("purchase", "1")
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_TIMEOUT": 0.1}
    # Changing the settings resets the queues (as after a deploy); queue again on the dead Redis.
    featureflags.variant("checkout", "1")
    featureflags.track("purchase", "1")
    assert flusher.flush() == (0, 0)
    assert list(flusher._retry) == [("checkout", featureflags.variant("checkout", "1"), "1")]
    assert len(goals.queue) == 1


def test_after_redis_comes_back_the_kept_exposures_are_sent_once(experiments, make_experiment, settings, monkeypatch):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "EXPOSURE_HOOK": f"{__name__}.collect"}
    make_experiment()
    collected.clear()
    flusher._retry.clear()
    featureflags.variant("checkout", "1")
    featureflags.track("purchase", "1")
    with monkeypatch.context() as patch:
        patch.setattr(store, "send_exposures", broken_hook)  # Redis failing for one flush
        assert flusher.flush() == (0, 0)
    assert flusher.flush() == (1, 1)
    assert [e.unit for e in collected] == ["1"]  # the hook had it once
    counts = read(settings)
    assert sum(v.exposures for v in counts.variants.values()) == 1
    assert counts.goals == ["purchase"]


def test_results_unavailable_without_redis():
    with pytest.raises(ResultsUnavailable, match="REDIS_URL"):
        experiment_results("checkout", [("A", 1), ("B", 1)])


def test_a_new_day_counts_returning_units_in_its_hyperloglog(experiments, make_experiment, settings):
    make_experiment()
    monday, tuesday = 1_763_942_400.0, 1_763_942_400.0 + 86_400  # 2025-11-24 and -25, UTC
    for user in ("1", "2", "3"):
        featureflags.variant("checkout", user)
    flusher.flush(now=monday)
    for user in ("1", "2", "3"):
        featureflags.variant("checkout", user)
    assert not exposures.queue  # the same day: already sent
    flusher.flush(now=tuesday)  # a new day forgets what this process sent ...
    for user in ("1", "2"):
        featureflags.variant("checkout", user)
    flusher.flush(now=tuesday)  # ... so tuesday's HyperLogLog counts the returning units
    counts = read(settings)
    assert counts.days == ["20251124", "20251125"]
    assert sum(v.exposures for v in counts.variants.values()) == 3  # unique units, whatever the day
    assert sum(v.seen_by_day.get("20251125", 0) for v in counts.variants.values()) == 2
    assert sum(v.new_by_day.get("20251125", 0) for v in counts.variants.values()) == 0


def test_the_flusher_thread_sends_in_the_background(experiments, make_experiment, settings):
    make_experiment()
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "SYNC_THREAD": True, "EXPERIMENT_FLUSH_INTERVAL": 0.05}
    runtime.refresh()
    featureflags.variant("checkout", "42")
    assert flusher.running()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not read(settings).variants:
        time.sleep(0.02)
    assert sum(v.exposures for v in read(settings).variants.values()) == 1
