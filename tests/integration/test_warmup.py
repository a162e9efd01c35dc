"""featureflags.warm_up(): the snapshot is loaded before the first check, and an outage never raises."""

import pytest

import featureflags
from featureflags.store import runtime, state


@pytest.mark.django_db(transaction=True)  # as at a server's start: no transaction open
def test_warm_up_loads_the_flags_before_any_check(make_flag):
    make_flag("warm")
    runtime.reset()  # as a freshly started process: nothing loaded
    assert state.served is None
    assert featureflags.warm_up() is True
    assert state.served is not None and "warm" in state.served.flags


def test_warm_up_with_the_database_down_returns_false_and_flags_stay_off(settings):
    # No `db` fixture: pytest-django blocks database access, as an unreachable database would.
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_TIMEOUT": 0.1}
    assert featureflags.warm_up() is False
    assert featureflags.is_enabled("anything", "42") is False
