"""Chaos: whatever Redis, the database or other deployments do, every process converges
to what the database holds, and nothing acknowledged is lost.

Three observer processes (small Django processes printing the flags they serve), a
private redis-server, the configured database (PostgreSQL in CI). The scenarios are in
``benchmarks/chaos.py``; ``python -m benchmarks.propagation --chaos`` prints their
convergence times. Here each must converge within 2 x MAX_STALENESS, plus a fixed
allowance for two shared CPU cores (process scheduling, not the design).
"""

from __future__ import annotations

import pytest
from django.db import connections

from benchmarks import chaos

from .conftest import need

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.slow]

STALENESS = 0.3
SCHEDULING_ALLOWANCE = 1.5
# "Both down at start" times a whole new process (Python and Django start-up) before its first
# answer; what it proves is that this first answer is the file's, asserted in the scenario.
STARTUP_ALLOWANCE = 10.0


@pytest.fixture(scope="module")
def shared_database():
    if connections["default"].vendor == "sqlite" and "memory" in str(connections["default"].settings_dict["NAME"]):
        from tests.conftest import IN_CI

        message = "the observers need a database they can share (PostgreSQL, or a SQLite file)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def world(shared_database, settings):
    need("redis-server")
    harness = chaos.Chaos(staleness=STALENESS)
    harness.redis.start()
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, **harness.overrides(), "REDIS_URL": harness.redis.url}
    chaos.prepare()
    try:
        harness.start_observers(3)
        yield harness
    finally:
        harness.close()


@pytest.mark.parametrize(("name", "scenario"), chaos.SCENARIOS, ids=[name for name, _ in chaos.SCENARIOS])
def test_every_observer_converges_to_the_database(world, name, scenario):
    bound = 2 * STALENESS + SCHEDULING_ALLOWANCE
    seconds = scenario(world, bound)
    allowed = bound + (STARTUP_ALLOWANCE if scenario is chaos.both_down_at_start else 0)
    print(f"{name}: converged in {seconds * 1000:.0f} ms (bound {allowed * 1000:.0f} ms)")
    assert seconds <= allowed
    assert chaos.converge(world, bound) < bound  # and stays converged
