"""is_enabled(key, "42") and variant(key, "42") through featureflags/id_checks.py: the same
answers as the general path, and never an answer built from something that has changed."""

from __future__ import annotations

import logging

import pytest

import featureflags
from featureflags import id_checks, usage
from featureflags.engine import Context, Snapshot
from featureflags.guardrails.attribution import evaluated_on
from featureflags.guardrails.limits import Limits
from featureflags.store import runtime
from featureflags.testing import override_flag

VARIANTS = [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setattr(usage, "_attribution", False)
    usage.reset()
    yield
    usage.reset()


def install(*definitions, version=1):
    snapshot = Snapshot.from_definitions(definitions, version=version)
    runtime.install(snapshot)
    return snapshot


def warm(key, user_id="42"):
    """Two checks: the first builds the entry, the second takes it."""
    featureflags.is_enabled(key, user_id)
    answer = featureflags.is_enabled(key, user_id)
    assert key in id_checks.checks
    return answer


def test_a_new_snapshot_replaces_the_ready_made_checks():
    install({"key": "f", "enabled": True})
    assert warm("f") is True
    install({"key": "f", "enabled": False}, version=2)
    assert "f" not in id_checks.checks
    assert featureflags.is_enabled("f", "42") is False
    assert warm("f") is False


def test_fast_answers_equal_the_general_path_for_each_kind_of_flag():
    snapshot = install(
        {"key": "pct", "enabled": True, "percentage": 50},
        {"key": "listed", "enabled": True, "percentage": 0, "users": ["7", "josé"], "excluded_users": ["8"]},
        {"key": "rule", "enabled": True, "percentage": 0, "rules": ["^1[0-9]$"]},
        {
            "key": "constrained",
            "enabled": True,
            "constraints": [{"attribute": "plan", "operator": "IN", "values": ["pro"]}],
        },
        {"key": "exp", "enabled": True, "variants": VARIANTS, "pinned_variants": {"3": "b"}},
    )
    for key in ("pct", "listed", "rule", "constrained", "exp"):
        for user_id in ("", "3", "7", "8", "12", "josé", *map(str, range(100, 140))):
            expected = snapshot.evaluate(key, Context(user_id))
            for _ in range(2):  # built on the first call, taken on the second
                assert featureflags.is_enabled(key, user_id) is expected.enabled, (key, user_id)
                assert featureflags.variant(key, user_id) == expected.variant, (key, user_id)
    assert featureflags.is_enabled("missing", "42", default=True) is True
    assert featureflags.variant("missing", "42", default="x") == "x"


def test_an_override_wins_over_a_ready_made_check():
    install({"key": "f", "enabled": False}, {"key": "exp", "enabled": True, "variants": VARIANTS})
    assert warm("f") is False
    featureflags.variant("exp", "42")
    with override_flag("f", active=True), override_flag("exp", active=True, variant="zzz"):
        assert featureflags.is_enabled("f", "42") is True
        assert featureflags.variant("exp", "42") == "zzz"
    assert featureflags.is_enabled("f", "42") is False


def test_checks_on_the_fast_path_are_counted():
    install({"key": "f", "enabled": True}, {"key": "exp", "enabled": True, "variants": VARIANTS})
    for _ in range(5):
        featureflags.is_enabled("f", "42")
        featureflags.variant("exp", "42")
    assert usage.pending() == {"f": 5, "exp": 5}


def test_counting_off_counts_nothing_on_the_fast_path(settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "USAGE_COUNTING": False}
    install({"key": "f", "enabled": True})
    assert warm("f") is True
    featureflags.is_enabled("f", "42")
    assert usage.pending() == {}


def test_a_flag_guardrails_start_watching_is_noted_again():
    install({"key": "f", "enabled": True})
    assert warm("f") is True
    usage.update_watched({})  # unchanged (the flusher calls it several times a second): entries stay
    assert "f" in id_checks.checks
    usage.update_watched({"f": Limits("f", 5, 60, None, None)})  # an error threshold set on "f"
    assert "f" not in id_checks.checks
    token = evaluated_on.set([])
    try:
        featureflags.is_enabled("f", "42")
        featureflags.is_enabled("f", "42")
        assert "f" not in id_checks.checks  # a watched flag never takes the fast path
        assert evaluated_on.get() == ["f", "f"]
    finally:
        evaluated_on.reset(token)


def test_a_failing_check_gives_the_default_and_logs(caplog):
    install({"key": "f", "enabled": True})

    def broken(user_id):
        raise RuntimeError("bug")

    id_checks.checks["f"] = (broken, [0])
    with caplog.at_level(logging.ERROR, logger="featureflags"):
        assert featureflags.is_enabled("f", "42", default=True) is True
        assert featureflags.is_enabled("f", "42") is False
    assert "evaluating 'f' failed" in caplog.text


def test_an_entry_built_across_a_change_is_not_kept():
    built_at = id_checks.generation
    id_checks.forget()  # a snapshot swap while the entry was being built
    id_checks.keep(id_checks.checks, "f", (lambda user_id: True, [0]), built_at)
    assert "f" not in id_checks.checks
    id_checks.keep(id_checks.checks, "f", (lambda user_id: True, [0]), id_checks.generation)
    assert "f" in id_checks.checks
