"""Experiments through the real Redis under a private key prefix, flushed by hand (no threads)."""

from __future__ import annotations

import pytest
import redis

from featureflags import services
from featureflags.experiments import exposures, flusher, goals
from featureflags.store import runtime
from tests.browser.conftest import _fast_passwords, browser, new_context  # noqa: F401  the browser fixtures


@pytest.fixture
def experiments(settings, redis_url, key_prefix):
    """Settings for experiments on the real Redis; yields a client on it."""
    settings.FEATUREFLAGS = {
        **settings.FEATUREFLAGS,
        "REDIS_URL": redis_url,
        "KEY_PREFIX": key_prefix,
        "SYNC_THREAD": False,
        "USAGE_COUNTING": False,
    }
    runtime.reset()
    exposures.reset()
    goals.queue.clear()
    client = redis.Redis.from_url(redis_url)
    yield client
    flusher.stop()
    exposures.reset()
    goals.queue.clear()
    runtime.reset()


@pytest.fixture
def make_experiment(django_capture_on_commit_callbacks):
    """Create a switched-on flag with variants, published to the mirror."""

    def make(key: str = "checkout", variants=(("A", 50), ("B", 50)), **fields):
        with django_capture_on_commit_callbacks(execute=True):
            flag = services.create_flag(
                key,
                enabled=True,
                kind="experiment",
                variants=[{"name": name, "weight": weight} for name, weight in variants],
                actor="test",
                **fields,
            )
        runtime.refresh()
        return flag

    return make


@pytest.fixture
def viewer_client(client, db):
    from tests.dashboard.conftest import make_operator

    client.force_login(make_operator("exp-viewer", "view_flag"))
    return client
