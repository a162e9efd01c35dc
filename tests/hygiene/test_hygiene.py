from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

import featureflags
from featureflags import services, usage
from featureflags.guardrails import flusher
from featureflags.hygiene import stale_flags
from featureflags.store import runtime


@pytest.fixture
def flags(db):
    services.create_flag("full_on", enabled=True, expected_lifetime_days=60)
    services.create_flag("full_off")
    services.create_flag("ramping", enabled=True, percentage=30)
    services.create_flag("targeted", enabled=True, rules=["^admin-"])
    services.create_flag("short_lived", enabled=True, percentage=50, expected_lifetime_days=10)
    runtime.refresh()


def by_key(found):
    return {s.flag.key: s.reasons for s in found}


def test_nothing_is_stale_on_day_one(flags):
    assert stale_flags(30) == []


def test_fully_on_or_off_and_unchanged_and_past_lifetime(flags):
    later = timezone.now() + timedelta(days=31)
    found = by_key(stale_flags(30, now=later))
    assert set(found) == {"full_on", "full_off", "short_lived"}
    assert found["full_on"][0].startswith("fully on and unchanged for 30 days")
    assert found["full_off"][0].startswith("fully off and unchanged for 30 days")
    assert found["short_lived"] == [found["short_lived"][0]]
    assert "past its expected lifetime of 10 days" in found["short_lived"][0]
    # A change restarts the clock.
    services.set_percentage("full_on", 99)
    services.set_percentage("full_on", 100)
    assert "full_on" not in by_key(stale_flags(30, now=timezone.now() + timedelta(days=29)))


@pytest.mark.redis
def test_never_evaluated_needs_usage_from_redis(flags, settings, redis_url, key_prefix):
    later = timezone.now() + timedelta(days=31)
    assert not any("evaluated" in r for reasons in by_key(stale_flags(30, now=later)).values() for r in reasons)
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REDIS_URL": redis_url, "KEY_PREFIX": key_prefix}
    usage.reset()
    runtime.refresh()
    featureflags.is_enabled("ramping", "1")
    flusher.flush()
    found = by_key(stale_flags(30, now=later))
    assert "ramping" in found and found["ramping"][0].startswith("not evaluated in 30 days (last ")
    assert found["targeted"] == ["never evaluated in 30 days"]
    assert "ramping" not in by_key(stale_flags(30, now=timezone.now() + timedelta(days=1)))
    flusher.stop()


def test_stale_command(flags):
    out = StringIO()
    call_command("flags", "stale", "--days", "0", stdout=out)
    assert "full_off: fully off and unchanged for 0 days" in out.getvalue()
    with pytest.raises(CommandError, match="stale flags"):
        call_command("flags", "stale", "--days", "0", "--fail-if-any", stdout=StringIO())
    out = StringIO()
    call_command("flags", "stale", "--days", "30", stdout=out)
    assert "No stale flags" in out.getvalue()
