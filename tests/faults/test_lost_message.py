"""A change whose pub/sub announcement is lost is still picked up by the version
check, within MAX_STALENESS (plus scheduling slack)."""

from __future__ import annotations

import json

import pytest
import redis

import featureflags
from featureflags import services
from featureflags.store import runtime

from .conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def test_lost_message_is_caught_by_the_version_check(private_redis_flags):
    client = redis.Redis.from_url(private_redis_flags.url)
    services.create_flag("quiet", enabled=True, percentage=100, actor="test")
    runtime.refresh()
    wait_until(lambda: runtime.status()["thread_alive"] and runtime.status()["redis_ok"], timeout=5)
    assert featureflags.is_enabled("quiet", "42") is True

    # Another process published a change, but its message never arrived: write
    # what its publish writes (definition, revision, version) without PUBLISH.
    version = int(client.get("fault:version")) + 1
    definition = json.loads(client.hget("fault:defs", "quiet"))
    definition["enabled"] = False
    with client.pipeline(transaction=True) as pipe:
        pipe.hset("fault:defs", "quiet", json.dumps(definition))
        pipe.hset("fault:revs", "quiet", version)
        pipe.set("fault:version", version)
        pipe.execute()

    staleness = 0.2  # MAX_STALENESS of the fixture
    seconds = wait_until(lambda: featureflags.is_enabled("quiet", "42") is False, timeout=staleness * 5 + 2)
    assert runtime.current().version == version
    print(f"lost message caught up after {seconds * 1000:.0f} ms (MAX_STALENESS {staleness * 1000:.0f} ms)")
