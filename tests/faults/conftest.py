"""Fixtures of the fault tests: servers of their own, never the shared ones."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

import pytest

from benchmarks._servers import RedisServer
from featureflags.store import changes
from featureflags.store.redis_mirror import RedisMirror
from tests.conftest import IN_CI


def need(binary: str) -> None:
    if shutil.which(binary) is None:
        message = f"{binary} is not installed"
        if IN_CI:
            pytest.fail(message + " (CI=true: it is required)")
        pytest.skip(message)


@pytest.fixture
def redis_server():
    """A private redis-server on a free port, killed and removed afterwards."""
    need("redis-server")
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def private_redis_flags(settings, redis_server):
    """The product mirrored through the private Redis, sync thread on, short timeouts."""
    settings.FEATUREFLAGS = {
        **settings.FEATUREFLAGS,
        "REDIS_URL": redis_server.url,
        "KEY_PREFIX": "fault",
        "SYNC_THREAD": True,
        "MAX_STALENESS": 0.2,
        "REDIS_TIMEOUT": 0.2,
    }
    yield redis_server


def wait_until(condition: Callable[[], object], timeout: float, step: float = 0.01) -> float:
    """Seconds until ``condition()`` is true; AssertionError after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not true after {timeout} s: {condition}")
        time.sleep(step)
    return time.monotonic() - start


def mirror_of(client, prefix: str) -> RedisMirror:
    """This database's deployment in Redis under ``prefix`` (to read its keys in assertions)."""
    return RedisMirror(client, prefix, changes.head().deployment)
