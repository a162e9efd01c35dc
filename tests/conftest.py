"""Shared fixtures. PostgreSQL when DATABASE_URL is set (config.settings reads it),
SQLite otherwise; the real Redis for tests marked ``redis``.

Under CI (``CI=true``) a test that needs Redis fails when Redis is missing;
elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
import uuid

import pytest

# The test kit's fixtures, as an installed package gets them through its pytest11 entry point.
pytest_plugins = ["featureflags.pytest_plugin"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def redis_available(url: str = TEST_REDIS_URL) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def require_redis(url: str = TEST_REDIS_URL) -> None:
    if not redis_available(url):
        message = f"Redis is not answering at {url}"
        if IN_CI:
            pytest.fail(message + " (CI=true: Redis is required)")
        pytest.skip(message)


def pytest_configure(config):
    """The whole run uses the in-process mirror without the sync thread (set once, as a
    project's test settings would). Nothing is reset between tests: a flag written in a
    test is gone in the next because the store drops a rolled-back transaction's writes
    and forgets a flushed database (see docs/propagation.md, "Tests")."""
    from django.conf import settings

    settings.FEATUREFLAGS = {
        **getattr(settings, "FEATUREFLAGS", {}),
        "REDIS_URL": None,
        "SYNC_THREAD": False,
        "SNAPSHOT_FILE": False,
    }


@pytest.fixture
def redis_url():
    require_redis()
    return TEST_REDIS_URL


@pytest.fixture
def key_prefix(redis_url):
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"fftest:{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{{{prefix}}}:*", count=1000)) + list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_flags(settings, redis_url, key_prefix):
    """Flags mirrored through the real Redis under a private prefix, with the sync thread on
    (changing the setting starts the store again, as ``override_settings`` does for a user)."""
    settings.FEATUREFLAGS = {
        **settings.FEATUREFLAGS,
        "REDIS_URL": redis_url,
        "KEY_PREFIX": key_prefix,
        "SYNC_THREAD": True,
        "MAX_STALENESS": 0.2,
    }
    yield settings.FEATUREFLAGS
