"""PostgreSQL stopped: checks, pages and the client endpoint (for a key seen recently)
still answer; an unknown key gets a 503 with Retry-After; writes fail with a database
error and leave nothing half-written.

The shared PostgreSQL is never touched: a private cluster (initdb/pg_ctl) on a
free port is created, and a child process stops and restarts it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from benchmarks._django import ROOT
from benchmarks._servers import PostgresCluster, postgres_bin
from tests.conftest import IN_CI

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster():
    if postgres_bin() is None:
        if IN_CI:
            pytest.fail("PostgreSQL server binaries are missing (CI=true: they are required)")
        pytest.skip("PostgreSQL server binaries are not installed")
    server = PostgresCluster()
    try:
        yield server.start()
    finally:
        server.cleanup()


def test_database_down(cluster):
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url,
        "PG_FAULT_DIR": cluster.directory,
        "PG_FAULT_PORT": str(cluster.port),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CONN_MAX_AGE": "0",
        "FEATUREFLAGS_LOG_LEVEL": "CRITICAL",
    }
    env.pop("REDIS_URL", None)  # the in-process mirror: the database is the only store
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.pg_child"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(result["writes"])

    assert result["checks"] == [True] * 50
    # The client endpoint answers from memory for a key seen recently...
    seen = result["api_seen"]
    assert seen["before"] == 200 and seen["status"] == 200, seen
    assert seen["body"]["flags"]["db_fault"]["enabled"] is True
    # ...and a clear, retryable 503 for one it cannot check (never a 500).
    unseen = result["api_unseen"]
    assert unseen["status"] == 503 and unseen["retry"] and unseen["body"]["error"] == "unavailable", unseen
    # The health view says the database is down but the process serves its snapshot.
    assert result["health"]["status"] == 200, result["health"]
    assert result["health"]["body"]["database_ok"] is False
    assert result["health"]["body"]["status"] == "degraded"
    assert result["health"]["body"]["last_error"] == "database: OperationalError"  # no host, port or user
    assert result["checks_after_writes"] is True
    assert all(status < 500 for status in result["pages"]), result["pages"]
    for write in result["writes"]:
        assert write["error"] in ("OperationalError", "InterfaceError"), write
        assert "connect" in write["message"].lower() or "closed" in write["message"].lower(), write
    before, after = result["before"], result["after"]
    assert after["audit"] == before["audit"]
    assert after["users"] == before["users"] == 3
    assert after["percentage"] == before["percentage"] == 100
    assert after["born"] is False
