"""Patterns that make backtracking engines take exponential time run in linear
time here (RE2), and patterns RE2 cannot run are refused naming ``rules``.

Linear time is shown by growth: evaluating against a 16x longer id may cost at
most ~16x more (bounded at 64x for noise), where a backtracking engine doubles
per extra character. A Python ``re`` run of the same pattern on a short id is
the baseline that shows what "catastrophic" means, measured in the same test.
"""

from __future__ import annotations

import re
import time

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featureflags import services
from featureflags.engine import Context, Snapshot

from .strategies import database_state

CATASTROPHIC = ["(a+)+$", "^(a|a)*$", "(a|aa)+$", "(.*a){12}$", "^(a+)+b?c$", "(x+x+)+y"]
SHORT, LONG = 2_000, 32_000


def best_time(func, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def snapshot_with(pattern: str) -> Snapshot:
    return Snapshot.from_definitions([{"key": "evil", "enabled": True, "percentage": 0, "rules": [pattern]}], version=1)


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_run_in_linear_time(pattern):
    snapshot = snapshot_with(pattern)
    short = Context("a" * SHORT + "b")
    long = Context("a" * LONG + "b")
    assert snapshot.is_enabled("evil", short) is False
    t_short = best_time(lambda: [snapshot.is_enabled("evil", short) for _ in range(20)])
    t_long = best_time(lambda: [snapshot.is_enabled("evil", long) for _ in range(20)])
    growth = t_long / max(t_short, 1e-7)
    assert growth < (LONG / SHORT) * 4, f"{pattern}: 16x longer input took {growth:.0f}x longer"
    assert t_long / 20 < 0.05, f"{pattern}: {t_long / 20 * 1000:.1f} ms for one check of a {LONG}-char id"


def test_backtracking_baseline_is_exponential():
    """Why the above matters: Python's re on the same pattern doubles per character."""
    pattern = re.compile("(a+)+$")
    t20 = best_time(lambda: pattern.search("a" * 16 + "b"), repeat=3)
    t24 = best_time(lambda: pattern.search("a" * 20 + "b"), repeat=3)
    assert t24 > t20 * 4  # 4 more characters, ~16x more time
    snapshot = snapshot_with("(a+)+$")
    assert best_time(lambda: snapshot.is_enabled("evil", Context("a" * 20 + "b"))) < t24


@pytest.mark.django_db
@pytest.mark.parametrize("pattern", ["(a)\\1", "(?=a)b", "(?<!a)b", "[", "a{100000}", "(?P<n>a)(?P=n)"])
def test_patterns_re2_cannot_run_are_refused(pattern):
    before = database_state()
    with pytest.raises(ValidationError) as refused:
        services.create_flag("bad_rule", enabled=True, rules=[pattern], actor="fuzz")
    assert any(field.startswith("rules") for field in refused.value.message_dict), refused.value.message_dict
    assert database_state() == before


@pytest.mark.django_db
def test_catastrophic_pattern_through_the_service_layer():
    services.create_flag("evil", enabled=True, percentage=0, rules=["(a+)+$"], actor="fuzz")
    from featureflags import is_enabled
    from featureflags.store import runtime

    runtime.refresh()
    start = time.perf_counter()
    assert is_enabled("evil", "a" * 200 + "b") is False
    assert is_enabled("evil", "a" * 200) is True
    assert time.perf_counter() - start < 1.0  # a backtracking engine would not finish in our lifetime


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=st.text(alphabet="a()+*?|[]{}^$.\\1b-", max_size=20), subject=st.text(max_size=40))
def test_random_patterns_compile_or_are_refused(pattern, subject):
    """The engine's own check decides; an accepted pattern always evaluates to a bool."""
    from featureflags.engine.definition import InvalidDefinition

    try:
        snapshot = snapshot_with(pattern)
    except (InvalidDefinition, ValueError):
        return
    assert isinstance(snapshot.is_enabled("evil", Context(subject or "x")), bool)
